"""Each affected controller has its own share of the facts (issue 22): read and written per
controller through the API, audited, checked against the platform's figures."""

from datetime import timedelta

import pytest
from django.utils.dateparse import parse_datetime

from incidents import workflow
from incidents.models import AffectedController, IncidentEvent, ProcessingActivity
from incidents.timeline import sentence

pytestmark = pytest.mark.django_db


def url(incident, controller):
    return f"/api/incidents/{incident.pk}/controllers/{controller.pk}/"


def test_a_controller_not_split_yet_has_empty_facts_and_its_mandate(api, incident_in, controller):
    incident = incident_in("assessed")
    body = api("security").get(url(incident, controller)).json()
    assert body == {
        "controller": controller.pk,
        "name": "Bakkerij Van Damme BV",
        "language": "nl",
        "gba_on_behalf": True,
        "subjects_informed_by_conitro": False,
        "told_at": None,
        "gba_deadline_at": None,
        "subjects_count": None,
        "records_count": None,
        "data_categories": [],
        "subject_categories": [],
        "processing_activities": [],
        "subjects_informed": "",
        "art34_ground": "",
    }


def test_its_own_figures_are_kept_and_audited(api, incident_in, controller, categories):
    incident = incident_in("assessed")
    activity = ProcessingActivity.objects.first()
    response = api("security").patch(
        url(incident, controller),
        {
            "subjects_count": 37,
            "records_count": 80,
            "data_categories": [categories[0].pk],
            "processing_activities": [activity.pk],
            "version": incident.version,
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = api("security").get(url(incident, controller)).json()
    assert (body["subjects_count"], body["records_count"]) == (37, 80)
    assert (body["data_categories"], body["subject_categories"]) == ([categories[0].pk], [])
    assert body["processing_activities"] == [activity.pk]
    event = incident.events.get(field="affected_controller")
    assert event.after == {
        "controller": "Bakkerij Van Damme BV",
        "controller_id": controller.pk,
        "subjects_count": 37,
        "records_count": 80,
        "data_categories": ["E-mail"],
        "processing_activities": [str(activity)],
    }
    assert event.before["subjects_count"] is None
    assert sentence(event) == (
        "Facts of Bakkerij Van Damme BV: categories of personal data “nothing” → “E-mail”; "
        f"processing activities affected “nothing” → “{activity}”; approximate number of "
        "records “nothing” → “80”; approximate number of people “nothing” → “37”."
    )


def test_a_share_larger_than_the_platform_total_is_refused(api, incident_in, controller):
    incident = incident_in("assessed")  # the platform: 1,200 people, 3,400 records
    response = api("security").patch(
        url(incident, controller), {"subjects_count": 1201}, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()) == ["subjects_count"]
    assert "1200" in response.json()["subjects_count"][0]
    assert AffectedController.objects.get(incident=incident).subjects_count is None
    assert not incident.events.filter(field="affected_controller").exists()


def test_refusals_name_what_is_wrong(api, incident_in, controller, second):
    incident = incident_in("assessed")
    assert api("security").get(url(incident, second)).status_code == 404
    stale = api("security").patch(
        url(incident, controller), {"subjects_count": 3, "version": 1}, format="json"
    )
    assert stale.status_code == 409
    bad = api("security").patch(
        url(incident, controller), {"data_categories": ["x"], "records_count": -1}, format="json"
    )
    assert bad.status_code == 400
    assert sorted(bad.json()) == ["data_categories", "records_count"]
    closed = incident_in("closed")
    refused = api("security").patch(url(closed, controller), {"subjects_count": 3}, format="json")
    assert refused.status_code == 409
    assert "closed" in refused.json()["detail"].lower()


def test_when_it_was_told_starts_its_own_72_hours(api, incident_in, controller, manager):
    incident = incident_in("gba_notified")
    told = incident.aware_at + timedelta(minutes=30)
    workflow.transition(incident.pk, manager, "notify_controller", how="E-mail", notified_at=told)
    body = api("security").get(url(incident, controller)).json()
    assert parse_datetime(body["told_at"]) == told
    assert parse_datetime(body["gba_deadline_at"]) == told + timedelta(hours=72)


def test_the_schema_describes_the_per_controller_facts(api):
    schema = api("security").get("/api/schema/?format=json").json()
    path = schema["paths"]["/api/incidents/{id}/controllers/{controller_id}/"]
    assert sorted(path) == ["get", "patch"]
    component = schema["components"]["schemas"]["AffectedController"]["properties"]
    assert component["subjects_count"]["type"] == "integer"
    assert component["data_categories"]["type"] == "array"
    assert component["told_at"]["readOnly"] is True


def test_the_incident_page_shows_and_edits_each_controller_s_facts(
    client, security, incident_in, controller
):
    incident = incident_in("assessed")
    client.force_login(security)
    page = client.get(f"/incidents/{incident.pk}/").content.decode()
    assert "Bakkerij Van Damme BV:\n    figures not split yet" in page
    form_url = f"/incidents/{incident.pk}/controllers/{controller.pk}/"
    assert form_url in page
    incident.refresh_from_db()
    too_many = client.post(form_url, {"subjects_count": "5000", "version": incident.version})
    assert too_many.status_code == 200
    assert "More than the platform&#x27;s total of 1200" in too_many.content.decode()
    assert 'value="5000"' in too_many.content.decode()  # the input stays
    saved = client.post(
        form_url, {"subjects_count": "12", "records_count": "30", "version": incident.version}
    )
    assert saved.status_code == 302
    page = client.get(f"/incidents/{incident.pk}/").content.decode()
    assert "12 data subjects, 30 records" in page


@pytest.mark.parametrize("count", [5, 6])
def test_the_timeline_names_five_controllers_and_counts_the_rest(count):
    """A platform breach owes thousands of letters: the timeline's line names five
    controllers, whole, and counts the others."""
    names = [f"Client {number}" for number in range(1, count + 1)]
    event = IncidentEvent(
        kind=IncidentEvent.Kind.OBLIGATIONS,
        after={"created": {"tell_controller:open": names}, "changed": {}},
    )
    listed = "Client 1, Client 2, Client 3, Client 4, Client 5" + (
        " and 1 more" if count == 6 else ""
    )
    assert sentence(event) == (
        f"Obligations: Tell the controller — open: {count} controllers ({listed})."
    )
