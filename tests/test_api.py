"""The JSON API: create, read, transitions and every kind of error, with token auth."""

from datetime import timedelta

import pytest
from django.utils import timezone

from incidents.models import Incident, IncidentEvent

pytestmark = pytest.mark.django_db


def test_create_returns_reference_state_and_deadline(api):
    aware = timezone.now() - timedelta(hours=2)
    response = api("security").post(
        "/api/incidents/",
        {"title": "SIEM: mass download", "description": "10k rows", "aware_at": aware.isoformat()},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    year = timezone.localtime().year
    assert body["reference"] == f"INC-{year}-0001"
    assert body["state"] == "detected"
    incident = Incident.objects.get(pk=body["id"])
    assert incident.deadline_at == incident.aware_at + timedelta(hours=24)
    assert body["deadline_at"].startswith(timezone.localtime(incident.deadline_at).isoformat()[:16])


def test_create_without_aware_at_starts_the_clock_now(api):
    before = timezone.now()
    response = api("security").post(
        "/api/incidents/", {"title": "t", "description": "d"}, format="json"
    )
    incident = Incident.objects.get(pk=response.json()["id"])
    assert before <= incident.aware_at <= timezone.now()


def test_references_are_sequential(api):
    client = api("security")
    refs = [
        client.post("/api/incidents/", {"title": "t", "description": "d"}).json()["reference"]
        for _ in range(3)
    ]
    assert [ref[-4:] for ref in refs] == ["0001", "0002", "0003"]


def test_future_awareness_is_a_400_naming_the_field_and_changes_nothing(api):
    future = timezone.now() + timedelta(hours=3)
    response = api("security").post(
        "/api/incidents/",
        {"title": "t", "description": "d", "aware_at": future.isoformat()},
        format="json",
    )
    assert response.status_code == 400
    assert "future" in response.json()["aware_at"][0]
    assert not Incident.objects.exists()


def test_missing_title_is_a_400(api):
    response = api("security").post("/api/incidents/", {"description": "d"}, format="json")
    assert response.status_code == 400
    assert "title" in response.json()


def test_unauthenticated_requests_are_refused(client):
    assert client.get("/api/incidents/").status_code == 401  # the token scheme asks for one


def test_a_person_without_a_role_cannot_read(make_user):
    from rest_framework.test import APIClient

    api_client = APIClient()
    api_client.force_authenticate(make_user("nobody"))
    assert api_client.get("/api/incidents/").status_code == 403


def test_list_filters_by_state(api, incident_in):
    incident_in("detected")
    dismissed = incident_in("dismissed")
    body = api("dpo").get("/api/incidents/?state=dismissed").json()
    assert [row["id"] for row in body["results"]] == [dismissed.pk]


def test_unknown_state_filter_is_a_400(api):
    response = api("dpo").get("/api/incidents/?state=bogus")
    assert response.status_code == 400
    assert "state" in response.json()


def test_detail_has_assessment_severity_and_events(api, incident_in):
    incident = incident_in("assessed")
    body = api("security").get(f"/api/incidents/{incident.pk}/").json()
    assert body["assessment"]["severity"] == {"score": "2.00", "band": "medium"}
    kinds = [event["kind"] for event in body["events"]]
    assert kinds == ["created", "transition", "assessed", "obligations"]
    assert [(o["kind"], o["controller_name"], o["status"]) for o in body["obligations"]] == [
        ("notify_gba", "Bakkerij Van Damme BV", "open"),
        ("tell_controller", "Bakkerij Van Damme BV", "open"),
    ]


def test_unknown_incident_is_a_404(api):
    assert api("dpo").get("/api/incidents/999/").status_code == 404
    assert api("dpo").post("/api/incidents/999/close/").status_code == 404


def test_assess_through_the_api(api, new_incident, controller, categories):
    incident = new_incident()
    data, subjects = categories
    payload = {
        "confidentiality": True,
        "cause_origin": "external",
        "cause_actor": "technical",
        "cause_intent": "malicious",
        "data_categories": [data.pk],
        "subject_categories": [subjects.pk],
        "controllers": [controller.pk],
        "subjects_count": 10,
        "records_count": 10,
        "consequences": "c",
        "measures_taken": "m",
        "subjects_informed": "not_informed",
        "art34_ground": "unintelligible",
        "data_unintelligible": "yes",
        "subjects_informed_reason": "Encrypted (art. 34(3)(a)).",
        "enisa_dpc": 4,
        "enisa_ease_of_identification": "0.75",
        "enisa_confidentiality": "0.25",
        "enisa_malicious": True,
        "risk_level": "high",
    }
    response = api("security").post(f"/api/incidents/{incident.pk}/assess/", payload, "json")
    assert response.status_code == 200, response.json()
    assert response.json()["state"] == "assessed"
    assert response.json()["assessment"]["severity"] == {"score": "3.75", "band": "high"}


@pytest.mark.parametrize(
    "route, model",
    [
        ("data-categories", "DataCategory"),
        ("subject-categories", "SubjectCategory"),
        ("processing-activities", "ProcessingActivity"),
    ],
)
def test_an_integrator_reads_the_ids_and_names_that_assess_takes(api, route, model):
    """The seeded lists behind `assess`: every item's id and its name in each language, and
    one item by its id."""
    from incidents import models

    item = getattr(models, model).objects.create(
        name_nl="Naam nl", name_fr="Nom fr", name_en="Name en"
    )
    listed = api("security").get(f"/api/{route}/")
    assert listed.status_code == 200
    assert len(listed.json()) == getattr(models, model).objects.count()  # seeded, and this one
    assert {"id": item.pk, "name_nl": "Naam nl", "name_fr": "Nom fr", "name_en": "Name en"} in (
        listed.json()
    )
    one = api("security").get(f"/api/{route}/{item.pk}/")
    assert one.json()["name_fr"] == "Nom fr"


def test_assessment_without_a_breach_type_is_a_400_and_changes_nothing(
    api, new_incident, controller, categories, assessment_values
):
    incident = new_incident()
    payload = {
        **{k: str(v) if not isinstance(v, bool) else v for k, v in assessment_values.items()},
        "confidentiality": False,
        "data_categories": [categories[0].pk],
        "subject_categories": [categories[1].pk],
        "controllers": [controller.pk],
    }
    response = api("security").post(f"/api/incidents/{incident.pk}/assess/", payload, "json")
    assert response.status_code == 400, response.json()
    assert "confidentiality" in response.json()["non_field_errors"][0]
    incident.refresh_from_db()
    assert incident.state == "detected"
    assert incident.assessment_or_none() is None


def test_reassessing_updates_and_is_audited(api, incident_in):
    incident = incident_in("assessed")
    response = api("manager").post(
        f"/api/incidents/{incident.pk}/assess/", {"subjects_count": 5000}, "json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["assessment"]["subjects_count"] == 5000
    last = IncidentEvent.objects.filter(incident=incident).last()
    assert last.kind == "assessed"
    assert last.before == {"subjects_count": 1200}
    assert last.after == {"subjects_count": 5000}


def test_notify_gba_records_reference_and_time(api, incident_in):
    incident = incident_in("assessed")
    submitted = timezone.now() - timedelta(minutes=5)
    response = api("manager").post(
        f"/api/incidents/{incident.pk}/notify-gba/",
        {"reference": "dbn-2026-00042", "submitted_at": submitted.isoformat()},
        "json",
    )
    assert response.status_code == 200, response.json()
    incident.refresh_from_db()
    assert incident.state == "gba_notified"
    shown = api("dpo").get(f"/api/incidents/{incident.pk}/").json()
    assert (shown["gba_reference"], shown["gba_submitted_at"]) == (
        "DBN-2026-00042",
        timezone.localtime(submitted).isoformat(),
    )


def test_a_reference_that_is_not_a_dbn_is_a_400(api, incident_in):
    incident = incident_in("assessed")
    response = api("manager").post(
        f"/api/incidents/{incident.pk}/notify-gba/", {"reference": "12345"}, "json"
    )
    assert response.status_code == 400
    assert "DBN" in response.json()["reference"][0]
    incident.refresh_from_db()
    assert incident.state == "assessed"


def test_a_late_notification_needs_a_reason(api, incident_in):
    incident = incident_in("assessed", hours_ago=30)
    url = f"/api/incidents/{incident.pk}/notify-gba/"
    response = api("manager").post(url, {"reference": "DBN123456"}, "json")
    assert response.status_code == 400
    assert "deadline" in response.json()["delay_reason"][0]
    incident.refresh_from_db()
    assert incident.state == "assessed"
    response = api("manager").post(
        url, {"reference": "DBN123456", "delay_reason": "Forensics took 30 h."}, "json"
    )
    assert response.status_code == 200
    assert incident.obligations.get(kind="notify_gba").delay_reason == "Forensics took 30 h."


def test_dismiss_needs_a_reason(api, new_incident):
    incident = new_incident()
    response = api("manager").post(f"/api/incidents/{incident.pk}/dismiss/", {}, "json")
    assert response.status_code == 400
    assert "reason" in response.json()
    response = api("manager").post(
        f"/api/incidents/{incident.pk}/dismiss/", {"reason": "   "}, "json"
    )
    assert response.status_code == 400
    incident.refresh_from_db()
    assert incident.state == "detected"


def test_a_transition_from_the_wrong_state_is_a_409_naming_the_state(api, new_incident):
    incident = new_incident()
    response = api("manager").post(f"/api/incidents/{incident.pk}/close/", {}, "json")
    assert response.status_code == 409
    assert response.json()["state"] == "detected"
    assert "Detected" in response.json()["detail"] or "Gedetecteerd" in response.json()["detail"]


def test_a_stale_version_is_a_409_and_changes_nothing(api, incident_in):
    incident = incident_in("assessed")
    response = api("manager").post(
        f"/api/incidents/{incident.pk}/notify-gba/",
        {"reference": "DBN123456", "version": incident.version - 1},
        "json",
    )
    assert response.status_code == 409
    incident.refresh_from_db()
    assert incident.state == "assessed"


def test_security_staff_get_403_with_a_reason(api, incident_in):
    incident = incident_in("assessed")
    response = api("security").post(
        f"/api/incidents/{incident.pk}/notify-gba/", {"reference": "DBN123456"}, "json"
    )
    assert response.status_code == 403
    assert response.json()["detail"]


def test_correcting_aware_at_moves_the_deadline(api, new_incident):
    incident = new_incident(hours_ago=1)
    earlier = incident.aware_at - timedelta(hours=5)
    response = api("security").patch(
        f"/api/incidents/{incident.pk}/", {"aware_at": earlier.isoformat()}, "json"
    )
    assert response.status_code == 200, response.json()
    incident.refresh_from_db()
    assert incident.deadline_at == earlier + timedelta(hours=24)
    event = incident.events.get(kind="aware_at_corrected")
    assert event.before["deadline_at"] != event.after["deadline_at"]


def test_the_state_cannot_be_set_through_patch(api, new_incident):
    incident = new_incident()
    response = api("dpo").patch(f"/api/incidents/{incident.pk}/", {"state": "closed"}, "json")
    assert response.status_code == 200
    incident.refresh_from_db()
    assert incident.state == "detected"


def test_controller_with_an_invalid_kbo_is_a_400(api):
    response = api("manager").post(
        "/api/controllers/",
        {
            "name": "X",
            "enterprise_number": "0431.150.351",
            "address": "a",
            "contact_person": "c",
            "email": "x@example.com",
            "phone": "0471 23 45 67",
            "language": "fr",
        },
        "json",
    )
    assert response.status_code == 400
    assert "check digits" in response.json()["enterprise_number"][0]


def test_controller_is_normalised(api):
    response = api("manager").post(
        "/api/controllers/",
        {
            "name": "X",
            "enterprise_number": "0694.679.950",
            "address": "a",
            "contact_person": "c",
            "email": "x@example.com",
            "phone": "0471 23 45 67",
            "language": "fr",
        },
        "json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["enterprise_number"] == "0694679950"
    assert response.json()["phone"] == "+32471234567"


def test_security_staff_cannot_create_controllers(api):
    assert api("security").post("/api/controllers/", {}, "json").status_code == 403


def test_openapi_schema(api):
    response = api("security").get("/api/schema/")
    assert response.status_code == 200
    assert b"/api/incidents/{id}/notify-gba/" in response.content


def test_the_schema_documents_the_errors_and_what_may_be_null(api):
    schema = api("dpo").get("/api/schema/?format=json").json()
    detail = schema["paths"]["/api/incidents/{id}/"]["get"]["responses"]
    assert {"200", "401", "403", "404", "429"} <= set(detail)
    close = schema["paths"]["/api/incidents/{id}/close/"]["post"]["responses"]
    assert close["409"]["content"]["application/json"]["schema"]["required"] == [
        "detail",
        "state",
        "version",
    ]
    notices = schema["paths"]["/api/incidents/{id}/controller-notices/"]
    assert (
        notices["get"]["responses"]["200"]["content"]["application/json"]["schema"]["type"]
        == "array"
    )  # not paginated
    assert "202" in notices["post"]["responses"]
    components = schema["components"]["schemas"]
    assert components["IncidentDetail"]["properties"]["assessment"]["nullable"] is True
    assert components["Obligation"]["properties"]["met_by"]["nullable"] is True


def test_a_path_the_api_does_not_know_is_a_json_404(api):
    response = api("dpo").get("/api/incidents/abc/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_the_list_of_incidents_reads_the_same_queries_for_one_or_twenty(api, incident_in):
    """Controllers, regimes, filings and notices come with the page of incidents."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = api("manager")
    incident_in("controller_notified")
    client.get("/api/incidents/")
    with CaptureQueriesContext(connection) as one:
        client.get("/api/incidents/")
    for _ in range(19):
        incident_in("controller_notified")
    with CaptureQueriesContext(connection) as twenty:
        rows = client.get("/api/incidents/").json()["results"]
    assert (len(rows), len(twenty)) == (20, len(one))
    assert all(row["gba_reference"].startswith("DBN-2026-") for row in rows)


def test_the_api_is_the_one_published_to_its_clients(api):
    """The schema integrators build against (tests/golden/openapi.yaml): a field, a limit, a
    route, a help text or an error response changed by accident shows as a diff. When a change
    is meant, read it and write it with UPDATE_GOLDEN=1 .venv/bin/pytest -k published."""
    import re

    from tests.test_golden_documents import compare

    response = api("security").get("/api/schema/")
    assert response.status_code == 200
    # An integer's largest value is the database's (64 bits on SQLite, 32 on PostgreSQL for
    # some fields): the same API, told as each database allows.
    schema = re.sub(
        r"\n +(maximum: (9223372036854775807|2147483647|32767)|format: int64)(?=\n)",
        "",
        response.content.decode(),
    )
    compare("openapi", schema, suffix=".yaml")
