"""Art. 34 is a decision per controller, not a checkbox (issue 22): "not decided yet" is an
answer, a high risk left uncommunicated needs its art. 34(3) ground, and the letter and the GBA
notification say what was decided, who informs the data subjects and by when."""

import io

import pytest
from pypdf import PdfReader

from incidents import workflow
from incidents.documents.base import brussels_time

pytestmark = pytest.mark.django_db


def read(response):
    assert response.status_code == 200, response.content[:300]
    pages = PdfReader(io.BytesIO(response.content)).pages
    return " ".join("\n".join(page.extract_text() for page in pages).split())


def assess(api, incident, **values):
    return api("security").post(f"/api/incidents/{incident.pk}/assess/", values, format="json")


def test_a_high_risk_left_uncommunicated_needs_its_ground(api, incident_in):
    incident = incident_in("assessed")
    refused = assess(api, incident, risk_level="high", subjects_informed="not_informed")
    assert refused.status_code == 400
    assert refused.json() == {
        "art34_ground": [
            "The risk is high: not informing the data subjects needs a ground of art. 34(3). "
            "Choose it, or choose “not decided yet”."
        ]
    }
    incident.refresh_from_db()
    assert incident.assessment.risk_level == "risk"  # nothing changed
    not_encrypted = assess(
        api,
        incident,
        risk_level="high",
        subjects_informed="not_informed",
        art34_ground="unintelligible",
    )
    assert not_encrypted.status_code == 400
    assert list(not_encrypted.json()) == ["art34_ground"]
    encrypted = assess(
        api,
        incident,
        risk_level="high",
        subjects_informed="not_informed",
        art34_ground="unintelligible",
        data_unintelligible="yes",
    )
    assert encrypted.status_code == 200, encrypted.json()
    undecided = assess(api, incident, subjects_informed="undecided", art34_ground="")
    assert undecided.status_code == 200, undecided.json()
    assert undecided.json()["assessment"]["subjects_informed"] == "undecided"


def test_each_controller_s_decision_is_its_own_in_its_documents(
    api, client, dpo, incident_in, manager, controller, second, assessment_values, security
):
    second.subjects_informed_by_conitro = True
    second.save()
    incident = incident_in("assessed")
    workflow.update_facts(incident.pk, manager, {"controllers": [controller, second]})
    workflow.assess(incident.pk, security, {**assessment_values, "risk_level": "high"}, {})
    own = api("security").patch(
        f"/api/incidents/{incident.pk}/controllers/{controller.pk}/",
        {"subjects_informed": "not_informed", "art34_ground": "public"},
        format="json",
    )
    assert own.status_code == 200, own.json()
    client.force_login(dpo)
    url = f"/incidents/{incident.pk}/documents/gba-notification.pdf?lang=en&controller="
    bakery = read(client.get(f"{url}{controller.pk}"))
    assert (
        "Data subjects informed Will not be informed Data encrypted or otherwise unintelligible "
        "Not known yet Ground (art. 34(3)) Informing each one would take disproportionate "
        "effort: a public communication instead (art. 34(3)(c))"
    ) in bakery, bakery
    bookshop = read(client.get(f"{url}{second.pk}"))
    assert "Data subjects informed Will be informed Data encrypted" in bookshop
    letter = read(client.get(f"/incidents/{incident.pk}/notices/{controller.pk}.pdf"))
    assert (
        "De betrokkenen informeren (art. 34) Zij worden niet geïnformeerd: Ieder afzonderlijk "
        "informeren zou onevenredige inspanningen vergen"
    ) in letter, letter
    informed = incident.obligations.get(kind="inform_subjects", controller=second)
    french = read(client.get(f"/incidents/{incident.pk}/notices/{second.pk}.pdf"))
    assert (
        "Conitro les informe en votre nom, comme vous l'avez demandé, au plus tard le "
        f"{brussels_time(informed.deadline_at)}"
    ) in french, french


def test_recording_the_communication_for_a_controller_with_nothing_open_is_refused(
    api, incident_in, manager, security, controller, second, assessment_values
):
    second.subjects_informed_by_conitro = True
    second.save()
    incident = incident_in("assessed")
    workflow.update_facts(incident.pk, manager, {"controllers": [controller, second]})
    workflow.assess(incident.pk, security, {**assessment_values, "risk_level": "high"}, {})
    url = f"/api/incidents/{incident.pk}/inform-subjects/"
    body = {"how": "E-mail to each customer", "controllers": [controller.pk]}
    refused = api("manager").post(url, body, format="json")
    assert refused.status_code == 400
    assert refused.json() == {
        "controllers": [
            f"Nothing of this is open for Bakkerij Van Damme BV ({controller.pk}): not affected "
            "by this incident, or already recorded. Leave them out."
        ]
    }
    body["controllers"] = [second.pk]
    assert api("manager").post(url, body, format="json").status_code == 200
    informed = incident.obligations.get(kind="inform_subjects", controller=second)
    pdf = api("dpo").get(
        f"/api/incidents/{incident.pk}/documents/gba-notification.pdf?lang=en"
        f"&controller={second.pk}"
    )
    assert (
        f"Informed by Conitro {brussels_time(informed.met_at)} — E-mail to each customer"
        in read(pdf)
    )
    again = api("manager").post(url, body, format="json")
    assert again.status_code == 409


def test_the_page_offers_only_the_controllers_whose_people_conitro_still_informs(
    client, incident_in, manager, security, controller, second, assessment_values
):
    """Informing the people is owed for the client that asked Conitro to (its agreement),
    not for the other: the page's form ticks only it, and recording it meets its obligation."""
    second.subjects_informed_by_conitro = True
    second.save()
    incident = incident_in("assessed")
    workflow.update_facts(incident.pk, manager, {"controllers": [controller, second]})
    workflow.assess(incident.pk, security, {**assessment_values, "risk_level": "high"}, {})
    client.force_login(manager)
    page = client.get(f"/incidents/{incident.pk}/inform_subjects/")
    offered = page.context["form"].fields["controllers"].queryset
    assert list(offered) == [second]
    incident.refresh_from_db()
    response = client.post(
        f"/incidents/{incident.pk}/inform_subjects/",
        {"version": incident.version, "how": "E-mail to each customer"},
    )
    assert response.status_code == 302
    informed = incident.obligations.get(kind="inform_subjects", controller=second)
    assert (informed.status, informed.how) == ("met", "E-mail to each customer")
