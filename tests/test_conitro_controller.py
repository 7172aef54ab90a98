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
