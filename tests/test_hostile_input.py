"""Hostile and clumsy input: each is refused with a clear 400 and changes nothing, or is accepted
and then works everywhere (pages, documents, messages, the register). No input stalls the clock.
"""

import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_q.models import Schedule
from pypdf import PdfReader

from incidents import workflow
from incidents.models import Controller, Incident, IncidentEvent
from notifications.models import Message
from notifications.tasks import SCHEDULE_NAME, rearm

pytestmark = pytest.mark.django_db

REFUSED_ON_CREATE = {
    "awareness in 1990": {"aware_at": "1990-01-01T00:00:00Z"},
    "awareness in year 1": {"aware_at": "0001-01-01T00:00:00Z"},
    "awareness the day before the GDPR": {"aware_at": "2018-05-24T12:00:00Z"},
    "start in 1970": {"occurred_at": "1970-01-01T00:00:00Z"},
    "start after awareness": {
        "aware_at": "2026-01-10T10:00:00Z",
        "occurred_at": "2026-01-10T11:00:00Z",
    },
    "end before start": {
        "aware_at": "2026-01-10T10:00:00Z",
        "occurred_at": "2026-01-09T10:00:00Z",
        "ended_at": "2026-01-08T10:00:00Z",
    },
    "title with a header injection": {"title": "Header test\r\nBcc: victim@example.com"},
    "title with a line feed": {"title": "two\nlines"},
    "title with a NUL byte": {"title": "nul\x00byte"},
    "description with a NUL byte": {"description": "nul\x00byte"},
    "description with an escape sequence": {"description": "\x1b[31mred"},
    "description of 2 MB": {"description": "x" * 2_000_000},
    "description one over the limit": {"description": "x" * 20_001},
    "discovered_how of 1 MB": {"discovered_how": "y" * 1_000_000},
}


@pytest.mark.parametrize("name", REFUSED_ON_CREATE)
def test_refused_on_create_with_a_clear_400_and_nothing_saved(api, name):
    body = {"title": "Hostile", "description": "d", **REFUSED_ON_CREATE[name]}
    response = api("security").post("/api/incidents/", body, format="json")
    assert response.status_code == 400, response.content[:300]
    errors = response.json()
    assert errors and all(isinstance(messages, list) for messages in errors.values()), errors
    assert not Incident.objects.exists()
    assert not IncidentEvent.objects.exists()


def test_a_date_before_the_gdpr_says_what_to_check(api):
    response = api("security").post(
        "/api/incidents/",
        {"title": "t", "description": "d", "aware_at": "1990-01-01T00:00:00Z"},
        format="json",
    )
    assert "25/05/2018" in response.json()["aware_at"][0]
    assert "01/01/1990" in response.json()["aware_at"][0]


@pytest.mark.parametrize(
    "change",
    [{"aware_at": "1990-01-01T00:00:00Z"}, {"title": "a\r\nb"}, {"description": "\x00"}],
    ids=["aware_at 1990", "title CRLF", "NUL"],
)
def test_refused_on_correction_and_nothing_changed(api, new_incident, change):
    incident = new_incident()
    response = api("manager").patch(f"/api/incidents/{incident.pk}/", change, format="json")
    assert response.status_code == 400, response.content[:300]
    refreshed = Incident.objects.get(pk=incident.pk)
    assert (refreshed.version, refreshed.aware_at, refreshed.title) == (
        incident.version,
        incident.aware_at,
        incident.title,
    )


def test_a_reason_of_a_megabyte_is_refused(api, incident_in):
    incident = incident_in("detected")
    response = api("manager").post(
        f"/api/incidents/{incident.pk}/dismiss/", {"reason": "z" * 1_000_000}, format="json"
    )
    assert response.status_code == 400
    assert Incident.objects.get(pk=incident.pk).state == "detected"


def test_a_new_incident_wakes_the_schedule_the_migrations_made(new_incident):
    """The dispatcher's recurring schedule, as a new database has it: a new incident's first
    page brings its next run forward to now (a misnamed schedule would wait its minute)."""
    made = Schedule.objects.get(func="notifications.tasks.dispatch")
    made.next_run = timezone.now() + timedelta(minutes=1)
    made.save()
    new_incident()
    rearm()
    made.refresh_from_db()
    assert made.next_run <= timezone.now()


def test_the_schedule_is_never_moved_into_the_past(new_incident, default_policy):
    """An incident whose steps were all due years ago wakes the dispatcher now, not in 2019."""
    Schedule.objects.update_or_create(
        name=SCHEDULE_NAME,
        defaults={
            "func": "notifications.tasks.dispatch",
            "schedule_type": Schedule.MINUTES,
            "minutes": 1,
            "next_run": timezone.now() + timedelta(minutes=1),
        },
    )
    new_incident(hours_ago=24 * 365 * 6)
    before = timezone.now()
    rearm()
    next_run = Schedule.objects.get(name=SCHEDULE_NAME).next_run
    assert before <= next_run <= timezone.now() + timedelta(minutes=1)


def test_the_oldest_allowed_incident_is_planned_and_paged_at_once(
    security, manager, default_policy, channels, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        incident = workflow.log_incident(
            security,
            title="Found in an old backup",
            description="d",
            aware_at=timezone.now() - timedelta(days=365 * 6),
        )
    assert incident.firings.exists()
    assert {m.to for m in channels} >= {security.phone, manager.phone}


FORMULAS = ['=HYPERLINK("http://evil","x")', "+cmd|' /C calc'!A0", "-2+3+cmd|x", "@SUM(A1)"]


@pytest.mark.parametrize("formula", FORMULAS)
def test_a_formula_reaches_the_register_csv_as_text(api, security, formula):
    incident = workflow.log_incident(security, title=formula, description=formula)
    response = api("dpo").get("/api/register.csv?lang=en")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    row = next(line for line in text.splitlines() if line.startswith(incident.reference))
    cells = row.split(";")
    assert not any(cell.lstrip('"').startswith(("=", "+", "-", "@")) for cell in cells), row
    assert any(cell.lstrip('"').startswith("'" + formula[:3]) for cell in cells), row


def test_the_longest_accepted_description_renders_in_every_document(
    client, manager, incident_in, controller
):
    incident = incident_in("gba_notified")
    long_text = ("Een lange beschrijving van wat er gebeurde, zin na zin. " * 400)[:20_000]
    workflow.update_facts(incident.pk, manager, {"description": long_text})
    client.force_login(manager)
    for url in [
        f"/incidents/{incident.pk}/documents/gba-notification.pdf?lang=nl",
        f"/incidents/{incident.pk}/documents/report.pdf?lang=nl",
        f"/incidents/{incident.pk}/notices/{controller.pk}.pdf",
        "/register.pdf?lang=nl",
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        reader = PdfReader(io.BytesIO(response.content))
        text = "".join(page.extract_text() for page in reader.pages)
        if "register" not in url:
            assert len(reader.pages) >= 4, url  # the description continues over pages
            assert text.count("zin na zin") >= 300, url


def test_a_title_with_line_breaks_cannot_add_an_email_header(
    security, manager, channels, django_capture_on_commit_callbacks, settings, mailoutbox
):
    """A title is one line in every page: a CR/LF in it cannot smuggle a Bcc into the e-mail,
    and every message still goes."""
    incident = workflow.log_incident(security, title="Fine title", description="d")
    Incident.objects.filter(pk=incident.pk).update(title="Bad\r\nBcc: x@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        from notifications.escalation import plan
        from notifications.tasks import dispatch

        plan(Incident.objects.get(pk=incident.pk))
        dispatch(incident.pk)
    emails = Message.objects.filter(channel="email")
    assert emails.exists() and set(emails.values_list("status", flat=True)) == {"sent"}
    assert all(m.subject.endswith("Bad Bcc: x@example.com") for m in emails)
    assert mailoutbox and all(mail.bcc == [] for mail in mailoutbox)
    assert all("x@example.com" not in mail.recipients() for mail in mailoutbox)
    assert set(Message.objects.filter(channel="sms").values_list("status", flat=True)) == {"sent"}


@pytest.mark.parametrize(
    "version",
    ["abc", [1], {}, "1e400", True, "٣", "9" * 400, 1.5],
    ids=["letters", "list", "object", "1e400", "true", "arabic-indic 3", "400 digits", "1.5"],
)
def test_a_version_that_is_no_whole_number_is_a_400(api, new_incident, version):
    incident = new_incident()
    for request in [
        lambda: api("manager").patch(
            f"/api/incidents/{incident.pk}/", {"title": "x", "version": version}, format="json"
        ),
        lambda: api("manager").post(
            f"/api/incidents/{incident.pk}/dismiss/",
            {"reason": "r", "version": version},
            format="json",
        ),
    ]:
        response = request()
        assert response.status_code == 400, response.content[:300]
        assert "version" in response.json()
    assert Incident.objects.get(pk=incident.pk).version == incident.version


def test_a_version_of_1e400_in_raw_json_is_a_400(api, new_incident):
    incident = new_incident()
    response = api("manager").patch(
        f"/api/incidents/{incident.pk}/",
        '{"title": "x", "version": 1e400}',
        content_type="application/json",
    )
    assert response.status_code == 400


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "2026-13-01", "١٢٣٤-01-01"])
def test_an_impossible_register_period_is_a_400(api, day):
    for download in ["register.csv", "register.pdf"]:
        response = api("dpo").get(f"/api/{download}?from={day}&to={day}")
        assert response.status_code == 400, (download, day)
        assert "from" in response.json() or "to" in response.json()


def test_json_nested_a_hundred_thousand_deep_is_a_400(api):
    response = api("security").post(
        "/api/incidents/", "[" * 100_000 + "]" * 100_000, content_type="application/json"
    )
    assert response.status_code == 400
    assert not Incident.objects.exists()


def test_a_body_of_three_megabytes_gets_a_json_413(api):
    body = '{"title": "t", "description": "' + "x" * 3_000_000 + '"}'
    response = api("security").post("/api/incidents/", body, content_type="application/json")
    assert response.status_code == 413
    assert "shorten" in response.json()["detail"]
    assert not Incident.objects.exists()


def test_the_notice_of_an_unassessed_incident_is_a_404_not_a_500(
    client, manager, incident_in, controller
):
    incident = incident_in("detected")
    client.force_login(manager)
    assert client.get(f"/incidents/{incident.pk}/notices/{controller.pk}.pdf").status_code == 404


NEW_CONTROLLER = {
    "name": "Kopie",
    "enterprise_number": "0831797467",
    "address": "Straat 1, 9000 Gent",
    "contact_person": "X",
    "email": "x@example.com",
    "phone": "+3292345678",
    "language": "nl",
}
LOOKALIKE_KBO = "٠٤٤٠٩٦٦٣٥٤"  # 0440966354 in Arabic-Indic digits: the fixture's controller
LOOKALIKE_PHONE = "+٣٢٤٧١٢٣٤٥٦٧"


@pytest.mark.parametrize(
    ("field", "value"),
    [("enterprise_number", LOOKALIKE_KBO), ("phone", LOOKALIKE_PHONE), ("phone", "+32 1")],
    ids=["KBO in Arabic-Indic digits", "phone in Arabic-Indic digits", "too short a phone"],
)
def test_a_lookalike_or_impossible_number_is_refused(api, controller, field, value):
    body = {**NEW_CONTROLLER, field: value}
    response = api("manager").post("/api/controllers/", body, format="json")
    assert response.status_code == 400, response.content[:300]
    assert field in response.json()
    assert Controller.objects.count() == 1


def test_adduser_refuses_a_lookalike_phone():
    with pytest.raises(CommandError):
        call_command(
            "adduser", "x", "--role", "security", "--email", "x@x.be", "--phone", LOOKALIKE_PHONE
        )


REFUSED_BY_LINES = {
    "description of 10,000 short lines": ("description", "x\n" * 10_000),
    "description of 401 lines": ("description", "x\n" * 400 + "x"),
    "discovered_how of 101 lines": ("discovered_how", "y\n" * 100 + "y"),
}


@pytest.mark.parametrize("name", REFUSED_BY_LINES)
def test_a_text_of_too_many_lines_is_refused_with_its_count(api, name):
    field, value = REFUSED_BY_LINES[name]
    body = {"title": "Lines", "description": "d", field: value}
    response = api("security").post("/api/incidents/", body, format="json")
    assert response.status_code == 400, response.content[:300]
    lines = len(value.splitlines())
    limit = 400 if field == "description" else 100
    assert response.json()[field] == [
        f"This text has {lines} lines; at most {limit} fit in the documents: join short "
        "lines, or leave out what the documents do not need."
    ]
    assert not Incident.objects.exists()


def test_the_most_lines_accepted_are_accepted(api):
    body = {"title": "Lines", "description": "x\n" * 399 + "x", "discovered_how": "y\n" * 100}
    response = api("security").post("/api/incidents/", body, format="json")
    assert response.status_code == 201, response.content[:300]


def pdf_text(content):
    reader = PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages), len(reader.pages)


def test_a_stored_text_of_thousands_of_lines_prints_whole_in_every_document(
    client, manager, incident_in, controller
):
    """A text stored before the line limit (or by the database's hand): every line is printed,
    in paragraphs outside the table (linear time; bench/documents.py times it)."""
    incident = incident_in("gba_notified")
    lines = [f"regel {n}" for n in range(1_000)]
    Incident.objects.filter(pk=incident.pk).update(description="\n".join(lines), version=99)
    client.force_login(manager)
    for url in [
        f"/incidents/{incident.pk}/documents/gba-notification.pdf?lang=nl",
        f"/incidents/{incident.pk}/documents/report.pdf?lang=nl",
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        text, pages = pdf_text(response.content)
        printed = {line.strip() for line in text.split("\n")}
        assert all(line in printed for line in lines), url
        assert pages > 15, url


def test_a_long_text_in_a_register_cell_is_cut_and_says_so(client, dpo, incident_in):
    incident = incident_in("assessed")
    Incident.objects.filter(pk=incident.pk).update(
        description="\n".join(f"regel {n}" for n in range(10_000))
    )
    client.force_login(dpo)
    response = client.get("/register.pdf?lang=en")
    assert response.status_code == 200
    text, pages = pdf_text(response.content)
    assert pages == 1
    # The cell holds the title, then the description: twenty lines in all.
    assert "regel 18" in text and "regel 19" not in text
    remaining = len("\n".join(f"regel {n}" for n in range(19, 10_000))) + 1
    note = f"[… {remaining} more characters: the incident page has the whole text]"
    assert note in text.replace("\n", " ")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("address", "Straat 1\n" * 7, "This text has 7 lines; at most 6 fit in the documents"),
        ("address", "a" * 501, "Ensure this field has no more than 500 characters."),
        ("address", "Straat\x1b[31m 1", "This text contains invisible control characters"),
        ("name", "Kopie\r\nBcc: x", "This is one line: remove the line breaks."),
        ("contact_person", "X\x00", "This text contains invisible control characters"),
    ],
    ids=["address of 7 lines", "address of 501", "address with ESC", "name CRLF", "contact NUL"],
)
def test_a_controllers_texts_have_limits(api, field, value, message):
    body = {**NEW_CONTROLLER, field: value}
    response = api("manager").post("/api/controllers/", body, format="json")
    assert response.status_code == 400, response.content[:300]
    assert response.json()[field][0].startswith(message), response.json()
    assert not Controller.objects.exists()


def test_an_incident_id_that_is_no_number_is_a_404(api):
    for url in ["/api/incidents/abc/close/", "/api/incidents/abc/", "/api/controllers/x/"]:
        method = api("manager").post if url.endswith("close/") else api("manager").get
        assert method(url, {}, format="json").status_code == 404, url


@pytest.mark.parametrize("action", ["notify-gba", "notify-controller"])
def test_naming_a_controller_not_on_the_incident_is_a_400_that_names_it(
    api, incident_in, second, action
):
    incident = incident_in("assessed")
    body = {"reference": "DBN-2026-1", "how": "E-mail", "delay_reason": "x"}
    response = api("manager").post(
        f"/api/incidents/{incident.pk}/{action}/",
        {**body, "controllers": [second.pk]},
        format="json",
    )
    assert response.status_code == 400, response.content[:300]
    assert response.json()["controllers"] == [
        f"Nothing of this is open for {second.name} ({second.pk}): not affected by this "
        "incident, or already recorded. Leave them out."
    ]
    assert Incident.objects.get(pk=incident.pk).version == incident.version


def test_one_controller_too_many_refuses_the_whole_recording(api, incident_in, controller, second):
    """[1, 2] where 2 is not affected: nothing is recorded (it was recorded for 1, 2 dropped)."""
    incident = incident_in("assessed")
    response = api("manager").post(
        f"/api/incidents/{incident.pk}/notify-gba/",
        {"reference": "DBN-2026-1", "delay_reason": "x", "controllers": [controller.pk, second.pk]},
        format="json",
    )
    assert response.status_code == 400
    assert list(response.json()) == ["controllers"]
    assert Incident.objects.get(pk=incident.pk).state == "assessed"


@pytest.mark.parametrize("value", [1.5, True, "1e3", "1.0"], ids=["1.5", "true", "1e3", "'1.0'"])
def test_a_controller_id_that_is_no_whole_number_is_refused(api, incident_in, controller, value):
    incident = incident_in("assessed")
    response = api("manager").post(
        f"/api/incidents/{incident.pk}/notify-gba/",
        {"reference": "DBN-2026-1", "delay_reason": "x", "controllers": [value]},
        format="json",
    )
    assert response.status_code == 400
    assert "controllers" in response.json()
    assert Incident.objects.get(pk=incident.pk).state == "assessed"


@pytest.mark.parametrize(
    "translations",
    ["a string", ["fr"], {"fr": "x"}, {"de": {"consequences": "x"}}, {"fr": {"title": "x"}},
     {"fr": {"consequences": 5}}, {"fr": {"consequences": "x\x00"}},
     {"fr": {"consequences": "x" * 20_001}}],
    ids=["string", "list", "language to string", "unknown language", "not an assessment text",
         "a number", "NUL", "over the limit"],
)  # fmt: skip
def test_translations_of_any_other_shape_are_refused_and_documents_still_render(
    api, incident_in, client, manager, translations
):
    incident = incident_in("assessed")
    response = api("security").post(
        f"/api/incidents/{incident.pk}/assess/", {"translations": translations}, format="json"
    )
    assert response.status_code == 400, response.content[:300]
    assert list(response.json()) == ["translations"]
    client.force_login(manager)
    for language in ["fr", "en"]:
        url = f"/incidents/{incident.pk}/documents/gba-notification.pdf?lang={language}"
        assert client.get(url).status_code == 200


def test_a_refused_translation_says_which_languages_and_texts_are_taken(api, incident_in):
    from incidents.fact_texts import ASSESSMENT_TEXTS

    incident = incident_in("assessed")
    url = f"/api/incidents/{incident.pk}/assess/"
    wrong_text = api("security").post(url, {"translations": {"fr": {"title": "x"}}}, "json")
    assert wrong_text.json()["translations"] == [
        f"title is not a free text of this record; one of: {', '.join(ASSESSMENT_TEXTS)}."
    ]
    wrong_language = api("security").post(url, {"translations": {"de": {}}}, "json")
    assert wrong_language.json()["translations"] == [
        "Texts in other languages are an object per language (nl, fr, en), e.g. "
        '{"fr": {"measures_taken": "…"}}.'
    ]


def test_well_formed_translations_are_taken(api, incident_in):
    incident = incident_in("assessed")
    given = {"fr": {"consequences": "Hameçonnage des clients."}}
    response = api("security").post(
        f"/api/incidents/{incident.pk}/assess/", {"translations": given}, format="json"
    )
    assert response.status_code == 200, response.content[:300]
    assert incident.assessment.__class__.objects.get(incident=incident).translations == given


def test_the_same_idempotency_key_with_another_body_is_a_422(api):
    client = api("security")
    first = client.post(
        "/api/incidents/", {"title": "One", "description": "d"}, format="json",
        HTTP_IDEMPOTENCY_KEY="key-1",
    )  # fmt: skip
    again = client.post(
        "/api/incidents/", {"description": "d", "title": "One"}, format="json",
        HTTP_IDEMPOTENCY_KEY="key-1",
    )  # fmt: skip
    other = client.post(
        "/api/incidents/", {"title": "Another breach", "description": "d"}, format="json",
        HTTP_IDEMPOTENCY_KEY="key-1",
    )  # fmt: skip
    assert (first.status_code, again.status_code, other.status_code) == (201, 200, 422)
    reference = first.json()["reference"]
    assert other.json()["detail"] == (
        f"This Idempotency-Key was used for {reference} with another body: use a new key for "
        f"a new incident, or send the same body to get {reference} again."
    )
    assert Incident.objects.count() == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [("reason", "x" * 5_001), ("reason", "a\x1bb"), ("reason", "r\n" * 101)],
    ids=["reason over 5,000", "reason with ESC", "reason of 101 lines"],
)
def test_a_dismissal_reason_has_limits(api, new_incident, field, value):
    incident = new_incident()
    response = api("manager").post(
        f"/api/incidents/{incident.pk}/dismiss/", {field: value}, format="json"
    )
    assert response.status_code == 400
    assert Incident.objects.get(pk=incident.pk).state == "detected"


def test_a_display_name_is_one_line_of_text(manager):
    from django.core.exceptions import ValidationError

    manager.display_name = "Mia\x1b[2J"
    with pytest.raises(ValidationError) as refused:
        manager.full_clean()
    assert list(refused.value.message_dict) == ["display_name"]
