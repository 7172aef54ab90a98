"""Conitro's own breaches: for its own customers' data Conitro is the controller. It owes the GBA
a notification as controller (no "on behalf of"), the data subjects when the risk is high, and
no letter to itself; a platform breach that also hit its own customer table owes both."""

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from pypdf import PdfReader

from incidents import workflow
from incidents.models import Controller, Incident, Obligation, ProcessingActivity
from tests.test_sendgrid import sendgrid as sendgrid  # noqa: F401 - the fixture
from tests.test_subjects import person as person  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db

WEBSHOP = {
    "name": "Conitro",
    "legal_form": "BV",
    "enterprise_number": "0431150351",
    "register": "RPR Gent, afdeling Gent",
    "address": "Voorbeeldstraat 1, 9000 Gent",
    "website": "conitro.be",
    "dpo_name": "Dana Peeters",
    "dpo_email": "dpo@conitro.example",
    "dpo_phone": "+3292000000",
    "place": "Gent",
    "place_fr": "Gand",
}


@pytest.fixture(autouse=True)
def organisation(settings):
    settings.ORGANISATION = dict(WEBSHOP)


def owed(incident):
    return sorted(
        (o.kind, o.controller.name, o.status)
        for o in Obligation.objects.filter(incident=incident).select_related("controller")
    )


def logged_own(security, hours_ago=2, **extra):
    return workflow.log_incident(
        security,
        title="Webshop customer table exposed",
        description="A backup of the customer table was readable.",
        aware_at=None,
        conitro_is_controller=True,
        **extra,
    )


def assess_own(incident, security, assessment_values, categories, risk="high", **relations):
    values = {**assessment_values, "risk_level": risk}
    if risk == "high":
        values.update(subjects_informed="planned")
    return workflow.assess(
        incident.pk,
        security,
        values,
        {
            "data_categories": [categories[0]],
            "subject_categories": [categories[1]],
            "controllers": [],
            "conitro_is_controller": True,
            **relations,
        },
    )


def pdf_text(response):
    assert response.status_code == 200, response.content[:300]
    reader = PdfReader(io.BytesIO(response.content))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def test_its_own_breach_owes_the_gba_as_controller_and_no_letter_to_itself(security):
    incident = logged_own(security)
    assert owed(incident) == [("notify_gba", "Conitro BV", "open")]
    gba = incident.obligations.get()
    assert gba.deadline_at == incident.aware_at + timedelta(hours=24)  # the promise, paged on
    assert incident.conitro_is_controller is True


def test_a_high_risk_to_its_own_customers_owes_them_a_communication(
    security, assessment_values, categories
):
    incident = logged_own(security)
    assess_own(incident, security, assessment_values, categories)
    assert owed(incident) == [
        ("inform_subjects", "Conitro BV", "open"),
        ("notify_gba", "Conitro BV", "open"),
    ]


def test_the_row_mirrors_the_settings_and_stays_one(security, settings):
    first = Controller.conitro()
    settings.ORGANISATION = {**WEBSHOP, "address": "Nieuwe straat 2, 9000 Gent"}
    again = Controller.conitro()
    assert again.pk == first.pk and again.address == "Nieuwe straat 2, 9000 Gent"
    assert Controller.objects.filter(is_conitro=True).count() == 1


def test_one_of_its_own_activities_makes_conitro_the_controller(security):
    own = ProcessingActivity.objects.get(name_en="Customer orders and invoicing (webshop)")
    assert own.conitro_own is True
    incident = workflow.log_incident(
        security, title="Orders leaked", description="Order export mailed out.", activities=[own]
    )
    assert [c.name for c in incident.controllers.all()] == ["Conitro BV"]


def test_its_gba_notification_names_conitro_as_controller_in_dutch_and_french(
    client, manager, security, assessment_values, categories
):
    incident = logged_own(security, told_by="Mollie B.V.")
    assess_own(incident, security, assessment_values, categories)
    client.force_login(manager)
    conitro = Controller.conitro()
    dutch = pdf_text(client.get(f"/incidents/{incident.pk}/documents/gba-notification.pdf?lang=nl"))
    assert "1. Identificatie: de verwerkingsverantwoordelijke" in dutch
    assert "namens" not in dutch and "Verwerker (AVG art. 28)" not in dutch
    assert "Gemeld aan Conitro door zijn subverwerker Mollie B.V." in dutch
    assert (
        "reported by our sub-processor Mollie B.V." in client.get(f"/incidents/{incident.pk}/").text
    )
    french = pdf_text(
        client.get(
            f"/incidents/{incident.pk}/documents/gba-notification.pdf?lang=fr&controller={conitro.pk}"
        )
    )
    assert "1. Identification : le responsable du traitement" in french
    assert "au nom du" not in french and "Sous-traitant (RGPD art. 28)" not in french


def test_a_platform_breach_that_hit_its_own_customers_too_owes_both(
    client, manager, security, controller, second, assessment_values, categories
):
    incident = workflow.log_incident(
        security,
        title="Platform and webshop database exposed",
        description="One database server held both.",
        controllers=[controller, second],
        conitro_is_controller=True,
    )
    assert owed(incident) == [
        ("notify_gba", "Bakkerij Van Damme BV", "open"),
        ("notify_gba", "Conitro BV", "open"),
        ("notify_gba", second.name, "open"),
        ("tell_controller", "Bakkerij Van Damme BV", "open"),
        ("tell_controller", second.name, "open"),
    ]
    incident.gba_combined = True
    incident.save(update_fields=["gba_combined"])
    client.force_login(manager)
    combined = pdf_text(
        client.get(f"/incidents/{incident.pk}/documents/gba-notification.pdf?lang=en")
    )
    assert "notifying on behalf of the controllers listed in the annex" in combined
    assert "2 controllers: see the annex." in combined
    conitro = Controller.conitro()
    own = pdf_text(
        client.get(
            f"/incidents/{incident.pk}/documents/gba-notification.pdf?lang=en&controller={conitro.pk}"
        )
    )
    assert "Controller (GDPR art. 4(7)) of the personal data concerned" in own
    assert "on behalf of" not in own and controller.name not in own
    page = client.get(f"/incidents/{incident.pk}/").text
    assert "Conitro's own data: Conitro notifies the GBA as controller" in page
    assert "Notice to Conitro BV" not in page and "Notice to Bakkerij Van Damme BV" in page


def test_the_api_assesses_its_own_breach_without_any_client(
    api, security, assessment_values, categories
):
    incident = workflow.log_incident(security, title="Webshop", description="Customer table.")
    body = {
        **{k: str(v) if isinstance(v, Decimal) else v for k, v in assessment_values.items()},
        "data_categories": [categories[0].pk],
        "subject_categories": [categories[1].pk],
        "controllers": [],
        "conitro_is_controller": True,
    }
    body.pop("enisa_malicious")
    answer = api("security").post(f"/api/incidents/{incident.pk}/assess/", body, format="json")
    assert answer.status_code == 200, answer.content[:400]
    shown = api("manager").get(f"/api/incidents/{incident.pk}/").json()
    assert shown["conitro_is_controller"] is True and shown["state"] == "assessed"
    assert [(o["kind"], o["status"]) for o in shown["obligations"]] == [("notify_gba", "open")]
    clients = api("manager").get("/api/controllers/").json()
    assert "Conitro BV" not in [row["name"] for row in clients["results"]]


def test_the_assessment_page_ticks_conitro_and_keeps_it_out_of_the_picker(
    client, security, assessment_values, categories
):
    from tests.test_merging import assessed

    incident = logged_own(security)
    client.force_login(security)
    page = client.get(f"/incidents/{incident.pk}/assess/")
    assert page.context["form"]["conitro_is_controller"].value() is True
    assert page.context["form"]["controllers"].value() == []
    data = assessed(page, assessment_values, categories, Controller.conitro())
    data["controllers"] = []
    data["conitro_is_controller"] = "on"
    assert client.post(f"/incidents/{incident.pk}/assess/", data).status_code == 302
    assert Incident.objects.get(pk=incident.pk).state == "assessed"
    assert client.get("/controllers/lookup/?q=Conitro").json() == {"controllers": []}


def test_the_register_enters_its_own_breach_as_controller(
    client, dpo, security, controller, assessment_values, categories
):
    incident = logged_own(security)
    assess_own(incident, security, assessment_values, categories, controllers=[controller])
    client.force_login(dpo)
    csv = b"".join(client.get("/register.csv?lang=en").streaming_content).decode("utf-8-sig")
    row = next(line for line in csv.splitlines() if incident.reference in line)
    assert "Bakkerij Van Damme BV; Conitro BV (controller: Conitro's own data)" in row


def test_a_webshop_breach_walked_from_logging_to_the_register(
    client,
    person,
    manager,
    dpo,
    security,
    assessment_values,
    categories,
    sendgrid,
    django_capture_on_commit_callbacks,
):
    """Conitro's own webshop: the GBA notification as controller (nl, fr), filed; its three
    customers told in their own language through SendGrid; the register entry; closed."""
    import json

    from django.utils import timezone

    from tests.test_documents import csv_rows
    from tests.test_register import row_of
    from tests.test_subjects import PEOPLE, SEND, page_of, ready

    incident = logged_own(security)
    assess_own(incident, security, assessment_values, categories)
    client.force_login(manager)
    gba = f"/incidents/{incident.pk}/documents/gba-notification.pdf"
    dutch, french = (pdf_text(client.get(f"{gba}?lang={code}")) for code in ("nl", "fr"))
    assert "1. Identificatie: de verwerkingsverantwoordelijke" in dutch and "namens" not in dutch
    assert "1. Identification : le responsable du traitement" in french
    workflow.transition(incident.pk, manager, "notify_gba", reference="DBN-2026-900")
    sender = ready(person, incident, PEOPLE)
    with django_capture_on_commit_callbacks(execute=True):
        sender.post(page_of(incident), {"action": "send", "delay_reason": ""})
    bodies = [json.loads(c.request.body) for c in sendgrid.calls if c.request.url == SEND]
    told = {
        p["to"][0]["email"]: (body["subject"], p["substitutions"]["-greeting-"])
        for body in bodies
        for p in body["personalizations"]
    }
    assert {email: greeting for email, (_subject, greeting) in told.items()} == {
        "jan@example.be": "Beste Jan Peeters,",
        "marie@example.be": "Bonjour Marie Dubois,",
        "ann@example.com": "Dear Ann Smith,",
    }
    assert owed(incident) == [
        ("complete_gba", "Conitro BV", "open"),  # the facts not known at part 1
        ("inform_subjects", "Conitro BV", "met"),
        ("notify_gba", "Conitro BV", "met"),
    ]
    client.force_login(dpo)
    row = row_of(csv_rows(client.get("/register.csv?lang=en")), incident)
    assert (row["Controllers affected"], row["GBA reference"]) == (
        "Conitro BV (controller: Conitro's own data)",
        "DBN-2026-900",
    )
    informed = incident.obligations.get(kind="inform_subjects")
    assert row["Data subjects informed (art. 34)"] == (
        "Will be informed: E-mail to each customer.\n"
        f"Conitro BV: informed by Conitro {timezone.localtime(informed.met_at):%d/%m/%Y %H:%M %Z}"
        f" ({informed.how})"
    )
    assert informed.how.startswith("E-mail to 3 people (communication ")
    workflow.transition(incident.pk, manager, "complete_gba")
    workflow.transition(incident.pk, manager, "close")
    assert Incident.objects.get(pk=incident.pk).state == "closed"


def test_its_own_breach_filed_moves_on_and_stops_the_pages_about_the_filing(
    security, manager, assessment_values, categories
):
    """The state, the pages and closing read one rule of what is done: with no client to tell,
    the filing settles the notifications (an own breach stayed 'assessed', paged on about the
    filing and could never be closed)."""
    from django.utils import timezone

    from notifications.escalation import FiringDecisions
    from notifications.models import Firing

    incident = logged_own(security)
    assess_own(incident, security, assessment_values, categories, risk="risk")
    now = timezone.now()
    pending = Firing.objects.filter(incident=incident, fired_at=None, step__until_state__gt="")
    waiting = list(pending.select_related("incident", "step"))  # the steps "until notified"

    def to_go_out():
        facts = FiringDecisions(waiting, now)
        return sorted({f.step.until_state for f in waiting if facts.stops(f) is None})

    assert to_go_out() == ["controller_notified", "gba_notified"]
    incident = workflow.transition(incident.pk, manager, "notify_gba", reference="DBN-2026-901")
    assert incident.state == "gba_notified"  # no client to tell: never "controller notified"
    for firing in waiting:
        firing.incident.refresh_from_db()
    assert to_go_out() == []
    workflow.transition(incident.pk, manager, "complete_gba")  # part 2: the facts not known
    assert workflow.transition(incident.pk, manager, "close").state == "closed"


def test_a_breach_of_its_own_data_and_one_clients_files_for_the_client_unless_asked(
    client, manager, security, controller
):
    """Not combined: the notification without a controller asked is the client's (Conitro
    as its processor); Conitro's own is asked for by name."""
    incident = workflow.log_incident(
        security,
        title="Shared server",
        description="Held the webshop and a client's data.",
        controllers=[controller],
        conitro_is_controller=True,
    )
    client.force_login(manager)
    url = f"/incidents/{incident.pk}/documents/gba-notification.pdf?lang=en"
    for_client = pdf_text(client.get(url))
    assert controller.name in for_client
    assert "Controller (GDPR art. 4(7)) of the personal data concerned" not in for_client
    own = pdf_text(client.get(f"{url}&controller={Controller.conitro().pk}"))
    assert "Controller (GDPR art. 4(7)) of the personal data concerned" in own


def test_conitros_own_row_cannot_be_picked_as_a_client(client, security, controller):
    client.force_login(security)
    conitro = Controller.conitro()
    response = client.post(
        "/incidents/new/",
        {"title": "t", "description": "d", "controllers": [conitro.pk]},
    )
    assert response.status_code == 200
    assert "controllers" in response.context["form"].errors
    assert not Incident.objects.exists()
