"""Informing the data subjects (GDPR art. 34): a message in clear language in nl, fr and en,
edited and previewed per incident; the people from a CSV file, checked and de-duplicated;
sent in batches through SendGrid, each person handed over exactly once and followed by the
provider's signed events; or published as a public notice (art. 34(3)(c))."""

import json
from datetime import timedelta

import pytest
import responses
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.roles import ROLE_PERMISSIONS
from incidents import workflow
from incidents.models import Controller, Obligation
from subjects import sending
from subjects.models import Communication, Recipient
from tests.conftest import VerifiedClient
from tests.test_sendgrid import SEND, sign
from tests.test_sendgrid import sendgrid as sendgrid  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db


@pytest.fixture
def own_breach(security, assessment_values, categories, settings):
    settings.ORGANISATION = {
        **settings.ORGANISATION,
        "name": "Conitro",
        "legal_form": "BV",
        "dpo_name": "Dana Peeters",
        "dpo_email": "dpo@conitro.example",
    }
    incident = workflow.log_incident(
        security,
        title="Webshop customer table exposed",
        description="A backup of the customer table was public for two hours.",
        conitro_is_controller=True,
    )
    workflow.assess(
        incident.pk,
        security,
        {**assessment_values, "risk_level": "high", "subjects_informed": "planned"},
        {
            "data_categories": [categories[0]],
            "subject_categories": [categories[1]],
            "conitro_is_controller": True,
        },
    )
    return incident


@pytest.fixture
def person(users):
    def logged_in(role):
        client = VerifiedClient()
        client.force_login(users[role])
        return client

    return logged_in


def users_manager(communication):
    return communication.created_by  # the manager who saved the texts


def page_of(incident):
    return f"/incidents/{incident.pk}/subjects/{Controller.conitro().pk}/"


def texts_posted(page):
    form = page.context["texts_form"]
    return {"action": "texts", **{name: form[name].value() for name in form.fields}}


def csv_file(lines, name="people.csv"):
    return SimpleUploadedFile(name, "\n".join(lines).encode(), content_type="text/csv")


def ready(person, incident, lines):
    manager = person("manager")
    page = manager.get(page_of(incident))
    manager.post(page_of(incident), texts_posted(page))
    manager.post(page_of(incident), {"action": "import", "file": csv_file(lines)})
    return manager


PEOPLE = [
    "email;name;language",
    "jan@example.be;Jan Peeters;nl",
    "marie@example.be;Marie Dubois;fr",
    "ann@example.com;Ann Smith;en",
]


def test_the_message_is_written_from_the_incident_in_three_languages(person, own_breach):
    page = person("manager").get(page_of(own_breach))
    previews = {p["language"]: p for p in page.context["previews"]}
    dutch = previews["nl"]["body"]
    assert previews["nl"]["subject"] == (
        "Belangrijk: een inbreuk op uw persoonsgegevens bij Conitro BV"
    )
    assert dutch.startswith("Beste Jan Peeters,\n\nWij laten u weten")
    assert "A backup of the customer table was public for two hours." in dutch
    assert "Phishing of customers." in dutch and "Passwords reset." in dutch
    assert "Welke gegevens: E-mailadres." in dutch  # the categories, in the reader's language
    assert "Dana Peeters — dpo@conitro.example" in dutch
    assert previews["fr"]["body"].startswith("Bonjour Jan Peeters,\n\nNous vous informons")
    assert "délégué à la protection des données (DPD)" in previews["fr"]["body"]
    assert previews["en"]["body"].endswith("Kind regards,\nConitro BV\n")


def test_security_staff_see_it_but_only_managers_and_the_dpo_send(person, own_breach):
    security = person("security")
    assert security.get(page_of(own_breach)).status_code == 200
    refused = security.post(page_of(own_breach), {"action": "texts"})
    assert refused.status_code == 403
    assert not Communication.objects.exists()
    assert "subjects.send_communication" in ROLE_PERMISSIONS["manager"]


def test_every_permission_a_role_names_exists():
    from django.contrib.auth.models import Group

    for role, names in ROLE_PERMISSIONS.items():
        granted = {
            f"{app}.{code}"
            for app, code in Group.objects.get(name=role).permissions.values_list(
                "content_type__app_label", "codename"
            )
        }
        assert set(names) <= granted, role


def test_a_file_with_a_wrong_line_adds_nobody_and_names_the_line(person, own_breach):
    manager = ready(person, own_breach, ["email;name;language", "jan@example.be;Jan;nl"])
    answer = manager.post(
        page_of(own_breach),
        {
            "action": "import",
            "file": csv_file(
                [
                    "email,name,language",
                    "ok@example.be,Ok,nl",
                    "not-an-address,Someone,nl",
                    "x@example.be,Someone,de",
                ]
            ),
        },
    )
    assert answer.status_code == 400
    errors = answer.context["recipients_form"].errors["file"]
    assert errors == [
        "Line 3: “not-an-address” is not an e-mail address.",
        "Line 4: The language must be nl, fr or en, not “de”.",
    ]
    assert list(Recipient.objects.values_list("email", flat=True)) == ["jan@example.be"]


def test_an_address_listed_twice_is_kept_once(person, own_breach):
    manager = ready(person, own_breach, PEOPLE)
    again = manager.post(
        page_of(own_breach),
        {"action": "import", "file": csv_file(["email", "JAN@example.be", "new@example.be"])},
        follow=True,
    )
    assert "1 people added; 1 addresses listed twice were kept once." in again.text
    assert Recipient.objects.count() == 4
    assert Recipient.objects.get(email="new@example.be").language == "nl"  # the controller's


def test_sent_through_sendgrid_in_batches_one_personalisation_each_exactly_once(
    person,
    own_breach,
    sendgrid,
    settings,
    django_capture_on_commit_callbacks,  # noqa: F811
):
    settings.SUBJECTS_BATCH_SIZE = 2
    manager = ready(person, own_breach, [*PEOPLE, "piet@example.be;Piet;nl"])
    with django_capture_on_commit_callbacks(execute=True):
        manager.post(page_of(own_breach), {"action": "send", "delay_reason": ""})
    bodies = [json.loads(call.request.body) for call in sendgrid.calls if call.request.url == SEND]
    assert [len(body["personalizations"]) for body in bodies] == [1, 1, 2]  # en, fr, nl
    sent_to = [p["to"][0]["email"] for body in bodies for p in body["personalizations"]]
    assert sorted(sent_to) == sorted(
        ["ann@example.com", "marie@example.be", "jan@example.be", "piet@example.be"]
    )
    dutch = bodies[2]
    assert dutch["content"][0]["value"].startswith("-greeting-\n\nWij laten u weten")
    greetings = {
        p["to"][0]["email"]: p["substitutions"]["-greeting-"] for p in dutch["personalizations"]
    }
    assert greetings == {"jan@example.be": "Beste Jan Peeters,", "piet@example.be": "Beste Piet,"}
    ids = {p["custom_args"]["recipient"] for p in dutch["personalizations"]}
    assert ids == {
        str(pk) for pk in Recipient.objects.filter(language="nl").values_list("pk", flat=True)
    }
    assert set(Recipient.objects.values_list("status", flat=True)) == {"accepted"}
    communication = Communication.objects.get()
    assert communication.status == "sent" and communication.finished_at is not None
    informed = own_breach.obligations.get(kind=Obligation.Kind.INFORM_SUBJECTS)
    assert informed.status == "met" and informed.how == (
        f"E-mail to 4 people (communication {communication.pk})"
    )


def test_a_batch_whose_worker_died_is_never_sent_again_and_its_events_settle_it(
    person,
    own_breach,
    sendgrid,
    client,
    settings,  # noqa: F811
):
    manager = ready(person, own_breach, PEOPLE)
    communication = Communication.objects.get()
    Communication.objects.filter(pk=communication.pk).update(
        status="sending", sent_by=users_manager(communication)
    )
    claimed = sending.claim(communication.pk, now=timezone.now() - timedelta(minutes=11))
    assert [r.language for r in claimed] == ["en"]  # the worker died after claiming it
    sending.send_all(communication.pk)
    ann = Recipient.objects.get(email="ann@example.com")
    assert ann.status == "uncertain"
    sent = [p["to"][0]["email"] for c in sendgrid.calls for p in json.loads(c.request.body)[
        "personalizations"
    ]]  # fmt: skip
    assert "ann@example.com" not in sent and len(sent) == 2
    body = json.dumps(
        [{"event": "delivered", "email": ann.email, "recipient": str(ann.pk)}]
    ).encode()
    answer = client.post(
        "/webhooks/sendgrid/tracking/", body, content_type="application/json", **sign(body)
    )
    assert answer.status_code == 200
    ann.refresh_from_db()
    assert ann.status == "delivered"
    assert Communication.objects.get().status == "sent"
    page = manager.get(page_of(own_breach))
    assert page.context["progress"]["uncertain"] == 0


def test_no_answer_makes_a_batch_uncertain_and_a_5xx_waits_for_a_retry(
    person,
    own_breach,
    sendgrid,
    settings,  # noqa: F811
):
    from django_q.models import Schedule

    ready(person, own_breach, PEOPLE)
    communication = Communication.objects.get()
    Communication.objects.filter(pk=communication.pk).update(
        status="sending", sent_by=users_manager(communication)
    )
    sendgrid.replace(responses.POST, SEND, body=ConnectionError("reset"))
    sending.hand_over(communication, sending.claim(communication.pk))
    assert Recipient.objects.get(language="en").status == "uncertain"
    sendgrid.replace(responses.POST, SEND, status=503, body="busy")
    sending.send_all(communication.pk)
    assert Recipient.objects.get(language="fr").status == "pending"
    assert Schedule.objects.filter(func="subjects.sending.send_all").count() == 1
    assert Communication.objects.get().status == "sending"


def test_the_peoples_addresses_never_reach_the_logs(
    person, own_breach, sendgrid, caplog, django_capture_on_commit_callbacks
):
    """Importing, a refused batch, a lost answer, a retry and the sending itself: nothing any
    logger writes, at any level, names a person or their address."""
    import logging

    caplog.set_level(logging.DEBUG)
    manager = ready(person, own_breach, PEOPLE)
    communication = Communication.objects.get()
    Communication.objects.filter(pk=communication.pk).update(
        status="sending", sent_by=users_manager(communication)
    )
    sendgrid.replace(responses.POST, SEND, status=400, body='{"errors": [{"message": "bad"}]}')
    sending.hand_over(communication, sending.claim(communication.pk))
    sendgrid.replace(responses.POST, SEND, body=ConnectionError("reset"))
    sending.hand_over(communication, sending.claim(communication.pk))
    sendgrid.replace(responses.POST, SEND, status=202, body="")
    with django_capture_on_commit_callbacks(execute=True):
        sending.send_all(communication.pk)
    manager.get(page_of(own_breach))
    assert sorted(Recipient.objects.values_list("status", flat=True)) == [
        "accepted",
        "failed",
        "uncertain",
    ]
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert f"communication {communication.pk}: a batch of 1 (en) not taken: 400" in logged
    for person_line in PEOPLE[1:]:
        address, name, _language = person_line.split(";")
        assert address not in logged and name not in logged


def test_without_a_batch_provider_each_person_gets_their_own_message(
    person, own_breach, django_capture_on_commit_callbacks
):
    manager = ready(person, own_breach, PEOPLE)
    with django_capture_on_commit_callbacks(execute=True):
        manager.post(page_of(own_breach), {"action": "send", "delay_reason": ""})
    assert sorted(message.to for message in mail.outbox) == [
        ["ann@example.com"],
        ["jan@example.be"],
        ["marie@example.be"],
    ]
    french = next(m for m in mail.outbox if m.to == ["marie@example.be"])
    assert french.body.startswith("Bonjour Marie Dubois,\n\nNous vous informons")


def test_a_public_notice_instead_for_disproportionate_effort(person, own_breach, client):
    manager = ready(person, own_breach, ["email", "a@example.be"])
    manager.post(page_of(own_breach), {"action": "publish", "delay_reason": ""})
    communication = Communication.objects.get()
    assert communication.status == "published"
    public = client.get(f"/notice/{communication.public_key}/?lang=fr")
    assert public.status_code == 200
    assert "Madame, Monsieur," in public.text and 'lang="fr"' in public.text
    informed = own_breach.obligations.get(kind=Obligation.Kind.INFORM_SUBJECTS)
    assert informed.status == "met"
    assert informed.how == (
        f"Public notice (art. 34(3)(c)): http://testserver/notice/{communication.public_key}/"
    )
    assert client.get("/notice/not-a-key/").status_code == 404


def test_the_addresses_are_erased_after_their_keeping_time_and_the_counts_stay(
    person, own_breach, settings, django_capture_on_commit_callbacks
):
    from subjects.retention import erase_due

    settings.SUBJECT_ADDRESSES_KEPT_DAYS = 30
    manager = ready(person, own_breach, PEOPLE)
    with django_capture_on_commit_callbacks(execute=True):
        manager.post(page_of(own_breach), {"action": "send", "delay_reason": ""})
    sent = Communication.objects.get().finished_at
    assert erase_due(now=sent + timedelta(days=29)) == 0
    assert erase_due(now=sent + timedelta(days=31)) == 3
    people = list(Recipient.objects.order_by("pk").values_list("pk", "email", "name", "status"))
    assert people == [(pk, f"{pk}@erased.invalid", "", "accepted") for pk, *_rest in people]
    assert erase_due(now=sent + timedelta(days=32)) == 0  # once
    from django_q.models import Schedule

    assert Schedule.objects.get(name="breachdesk-erase-addresses").func == (
        "subjects.retention.erase_due"
    )


def test_the_page_counts_the_people_and_the_progress_follows_the_sending(
    person, own_breach, django_capture_on_commit_callbacks
):
    manager = ready(person, own_breach, PEOPLE)
    assert "3 people to inform." in manager.get(page_of(own_breach)).text
    progress = page_of(own_breach) + "progress/"
    assert manager.get(progress).json() == {"total": 3, "handed": 0, "running": False}
    with django_capture_on_commit_callbacks(execute=True):
        manager.post(page_of(own_breach), {"action": "send", "delay_reason": ""})
    assert manager.get(progress).json() == {"total": 3, "handed": 3, "running": False}
    page = manager.get(page_of(own_breach)).text
    assert "3 of 3 handed to the mail provider" in page


def test_only_for_conitros_own_data_or_a_controller_that_asked_conitro(
    person, incident_in, controller
):
    incident = incident_in("assessed")  # the bakery informs its own customers
    manager = person("manager")
    url = f"/incidents/{incident.pk}/subjects/{controller.pk}/"
    assert manager.get(url).status_code == 404
    Controller.objects.filter(pk=controller.pk).update(subjects_informed_by_conitro=True)
    page = manager.get(url)
    assert page.status_code == 200
    assert "For Bakkerij Van Damme BV, which asked Conitro to inform its data subjects" in (
        page.text
    )
    dutch = {p["language"]: p for p in page.context["previews"]}["nl"]
    assert "bij Conitro, dat gegevens verwerkt voor Bakkerij Van Damme BV." in dutch["body"]
    assert dutch["body"].endswith("Met vriendelijke groeten,\nBakkerij Van Damme BV\n")


def test_past_the_deadline_a_reason_is_asked_before_anyone_is_told(
    person, own_breach, django_capture_on_commit_callbacks
):
    manager = ready(person, own_breach, PEOPLE)
    informed = own_breach.obligations.filter(kind=Obligation.Kind.INFORM_SUBJECTS)
    informed.update(deadline_at=timezone.now() - timedelta(hours=1))
    refused = manager.post(page_of(own_breach), {"action": "send", "delay_reason": ""})
    assert refused.status_code == 400
    assert (
        refused.context["send_form"]
        .errors["delay_reason"][0]
        .startswith("This comes after its deadline of ")
    )
    assert Communication.objects.get().status == "draft" and not mail.outbox
    with django_capture_on_commit_callbacks(execute=True):
        manager.post(page_of(own_breach), {"action": "send", "delay_reason": "Addresses late."})
    assert informed.get().delay_reason == "Addresses late."
    assert len(mail.outbox) == 3


def test_people_told_though_nothing_is_owed_any_more_get_it_without_a_reason_asked(
    person, own_breach, django_capture_on_commit_callbacks
):
    """Re-assessed as no high risk, long past the deadline it had: Conitro may still tell its
    customers, and no reason for a delay is asked (nothing is owed, so nothing is late)."""
    Obligation.objects.filter(kind=Obligation.Kind.INFORM_SUBJECTS).update(
        status=Obligation.Status.NOT_REQUIRED, deadline_at=timezone.now() - timedelta(days=3)
    )
    manager = ready(person, own_breach, PEOPLE)
    with django_capture_on_commit_callbacks(execute=True):
        manager.post(page_of(own_breach), {"action": "send", "delay_reason": ""})
    assert len(mail.outbox) == 3
    assert Communication.objects.get().status == Communication.Status.SENT
