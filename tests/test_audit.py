"""The audit trail is append-only, and records every change with who, when, before and after."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from incidents import workflow
from incidents.models import Incident, IncidentEvent

pytestmark = pytest.mark.django_db


def test_logging_records_who_and_the_facts(new_incident, security):
    incident = new_incident()
    event = incident.events.get()
    assert (event.kind, event.actor, event.to_state) == ("created", security, "detected")
    assert event.after["title"] == incident.title


def test_every_changed_fact_is_recorded_with_before_and_after(new_incident, manager):
    incident = new_incident()
    workflow.update_facts(
        incident.pk, manager, {"title": "New title", "description": incident.description}
    )
    event = incident.events.get(kind="changed")
    assert (event.field, event.before, event.after) == ("title", incident.title, "New title")
    assert event.actor == manager


def test_correcting_aware_at_moves_the_deadline_and_says_so(new_incident, security):
    incident = new_incident(hours_ago=2)
    earlier = incident.aware_at - timedelta(hours=3)
    workflow.update_facts(incident.pk, security, {"aware_at": earlier})
    incident.refresh_from_db()
    assert incident.deadline_at == earlier + timedelta(hours=24)
    event = incident.events.get(kind="aware_at_corrected")
    assert event.before["deadline_at"] == (earlier + timedelta(hours=27)).isoformat()
    assert event.after["deadline_at"] == (earlier + timedelta(hours=24)).isoformat()


def test_events_cannot_be_changed_or_deleted_by_the_application(new_incident):
    incident = new_incident()
    event = incident.events.get()
    event.note = "rewritten"
    refusal = r"^\[.The audit trail is append-only\..\]$"
    with pytest.raises(ValidationError, match=refusal):
        event.save()
    with pytest.raises(ValidationError, match=refusal):
        event.delete()
    with pytest.raises(ValidationError, match=refusal):
        IncidentEvent.objects.filter(pk=event.pk).update(note="x")
    with pytest.raises(ValidationError, match=refusal):
        IncidentEvent.objects.all().delete()
    assert IncidentEvent.objects.get(pk=event.pk).note == ""


def test_incidents_are_never_deleted(new_incident):
    incident = new_incident()
    refusal = r"^\[.Incidents are never deleted; dismiss one instead\..\]$"
    with pytest.raises(ValidationError, match=refusal):
        incident.delete()
    with pytest.raises(ValidationError, match=refusal):
        Incident.objects.all().delete()
    assert Incident.objects.count() == 1


def test_the_admin_cannot_edit_or_delete_events_or_incidents(admin_client, new_incident):
    incident = new_incident()
    event = incident.events.get()
    assert admin_client.get(f"/admin/incidents/incidentevent/{event.pk}/change/").status_code == 200
    response = admin_client.post(f"/admin/incidents/incidentevent/{event.pk}/delete/")
    assert response.status_code == 403
    response = admin_client.post(
        f"/admin/incidents/incident/{incident.pk}/change/", {"title": "admin edit"}
    )
    assert response.status_code == 403
    incident.refresh_from_db()
    assert incident.title != "admin edit"


def test_a_refused_change_writes_no_event(new_incident, manager):
    incident = new_incident()
    count = IncidentEvent.objects.count()
    with pytest.raises(ValidationError):
        workflow.transition(incident.pk, manager, "dismiss", reason="")
    with pytest.raises(workflow.TransitionRefused):
        workflow.transition(incident.pk, manager, "close")
    assert IncidentEvent.objects.count() == count


def test_a_closed_incident_cannot_be_edited(incident_in, manager):
    incident = incident_in("closed")
    with pytest.raises(workflow.TransitionRefused):
        workflow.update_facts(incident.pk, manager, {"title": "x"})


def test_the_first_assessment_is_recorded_with_its_facts_not_its_keys(incident_in, controller):
    """The audit trail of an assessment lists what was assessed, the controllers among it;
    the row's own id, incident and author are the event's, not facts that changed."""
    incident = incident_in("assessed")
    (event,) = incident.events.filter(kind="assessed")
    assert not {"id", "incident", "assessed_by", "assessed_at"} & set(event.after)
    assert event.after["controllers"] == [str(controller)]
    assert event.after["subjects_count"] == 1200 and event.after["cause_origin"] == "external"
    assert event.before == dict.fromkeys(event.after)
    (obligations,) = incident.events.filter(kind="obligations")
    assert obligations.note == ""  # what changed is in the event itself; no reason given
    assert obligations.after["created"]["tell_controller:open"] == [controller.name]


def test_an_incident_logged_with_its_controllers_records_them_and_who_owes_what(
    security, controller
):
    incident = workflow.log_incident(
        security, title="Known at once", description="d", controllers=[controller]
    )
    (created,) = incident.events.filter(kind="created")
    assert created.after["controllers"] == [str(controller)]
    (owed,) = incident.events.filter(kind="obligations")
    assert owed.actor == security  # the obligations came from this person's log
    assert owed.after["created"]["tell_controller:open"] == [controller.name]
