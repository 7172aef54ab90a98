"""The API an integrator needs: the ids `assess` asks for, the obligations, and the controller
notices (sent idempotently, listed with their delivery)."""

import pytest
import responses

from incidents.models import DataCategory, ProcessingActivity, SubjectCategory

pytestmark = pytest.mark.django_db


def test_the_ids_assess_needs_are_listed(api, categories):
    for url, model in [
        ("/api/data-categories/", DataCategory),
        ("/api/subject-categories/", SubjectCategory),
        ("/api/processing-activities/", ProcessingActivity),
    ]:
        body = api("security").get(url).json()
        assert [item["id"] for item in body] == list(model.objects.values_list("pk", flat=True))
        assert set(body[0]) == {"id", "name_nl", "name_fr", "name_en"}
    activities = api("security").get("/api/processing-activities/").json()
    assert activities[0]["name_nl"].startswith("Webwinkels uitbaten")


def test_an_incident_logged_with_its_controllers_shows_its_obligations(api, controller):
    response = api("security").post(
        "/api/incidents/",
        {"title": "Shop dump", "description": "On a forum.", "controllers": [controller.pk]},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = api("security").get(f"/api/incidents/{response.json()['id']}/").json()
    assert body["controllers"] == [controller.pk]
    assert sorted((o["kind"], o["status"]) for o in body["obligations"]) == [
        ("notify_gba", "open"),
        ("tell_controller", "open"),
    ]
    assert all(o["deadline_at"] == body["deadline_at"] for o in body["obligations"])


def test_notifying_the_gba_for_one_controller_through_the_api(api, incident_in, controller):
    incident = incident_in("assessed")
    response = api("dpo").post(
        f"/api/incidents/{incident.pk}/notify-gba/",
        {"reference": "DBN-2026-44", "controllers": [controller.pk]},
        format="json",
    )
    assert response.status_code == 200, response.json()
    filed = next(o for o in response.json()["obligations"] if o["kind"] == "notify_gba")
    assert (filed["status"], filed["reference"], filed["met_by"]) == ("met", "DBN-2026-44", "Dpo")


def test_controller_notices_are_sent_once_and_listed(
    api, incident_in, controller, django_capture_on_commit_callbacks, settings
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    incident = incident_in("gba_notified")
    url = f"/api/incidents/{incident.pk}/controller-notices/"
    assert api("security").post(url, {}, format="json").status_code == 403
    before = api("dpo").get(url).json()
    assert [(n["controller_name"], n["told"], n["status"]) for n in before] == [
        ("Bakkerij Van Damme BV", "open", None)
    ]
    with django_capture_on_commit_callbacks(execute=True):
        first = api("dpo").post(url, {}, format="json")
    assert first.status_code == 202, first.json()
    (notice,) = first.json()
    with django_capture_on_commit_callbacks(execute=True):
        again = api("manager").post(url, {}, format="json")
    assert again.status_code == 202
    listed = api("dpo").get(url).json()
    assert [(n["told"], n["status"], n["message"]) for n in listed] == [
        ("met", "sent", notice["message"])
    ]
    assert listed[0]["document_version"] == 1
    assert incident.messages.filter(controller=controller).count() == 1  # never twice


@responses.activate
def test_a_late_notice_through_the_api_needs_its_reason(api, incident_in):
    incident = incident_in("gba_notified", hours_ago=30)
    url = f"/api/incidents/{incident.pk}/controller-notices/"
    refused = api("dpo").post(url, {}, format="json")
    assert refused.status_code == 400
    assert "delay_reason" in refused.json()
    assert not incident.messages.filter(controller__isnull=False).exists()
