"""Hostile and clumsy input: each is refused with a clear 400 and changes nothing, or is accepted
and then works everywhere (pages, documents, messages, the register). No input stalls the clock.
"""

import io
from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.models import Schedule
from pypdf import PdfReader

from incidents import workflow
from incidents.models import Incident, IncidentEvent
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


def test_an_unsendable_title_fails_one_message_not_the_others(
    security, manager, channels, django_capture_on_commit_callbacks, settings
):
    """A message that cannot be sent at all is failed at once and falls back; the rest go."""
    incident = workflow.log_incident(security, title="Fine title", description="d")
    Incident.objects.filter(pk=incident.pk).update(title="Bad\r\nBcc: x@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        from notifications.escalation import plan
        from notifications.tasks import dispatch

        plan(Incident.objects.get(pk=incident.pk))
        dispatch(incident.pk)
    emails = Message.objects.filter(channel="email")
    assert emails.exists() and set(emails.values_list("status", flat=True)) == {"failed"}
    assert all("BadHeaderError" in m.error for m in emails)
    assert set(Message.objects.filter(channel="sms").values_list("status", flat=True)) == {"sent"}
