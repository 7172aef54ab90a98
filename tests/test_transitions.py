"""Every transition, allowed and refused, for every role; and every state it is refused from."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError

from incidents import workflow
from incidents.models import IncidentEvent

pytestmark = pytest.mark.django_db

ACTIONS = {
    # action: (url, state it starts from, state it reaches, body)
    "assess": ("assess", "detected", "assessed", None),
    "notify_gba": ("notify-gba", "assessed", "gba_notified", {"reference": "DBN-2026-77"}),
    "notify_controller": (
        "notify-controller",
        "gba_notified",
        "controller_notified",
        {"how": "Phone call with Els"},
    ),
    "close": ("close", "controller_notified", "closed", {}),
    "dismiss": ("dismiss", "detected", "dismissed", {"reason": "Test mail, no personal data."}),
}
MAY = {
    "assess": {"security", "manager", "dpo"},
    "notify_gba": {"manager", "dpo"},
    "notify_controller": {"manager", "dpo"},
    "close": {"manager", "dpo"},
    "dismiss": {"manager", "dpo"},
}
STATES = ["detected", "assessed", "gba_notified", "controller_notified", "closed", "dismissed"]
ALLOWED_FROM = {
    # Reassessing is possible until the incident is closed (a phased notification completes).
    "assess": {"detected", "assessed", "gba_notified", "controller_notified"},
    # Recording needs an open obligation: none before the controllers are named, none left
    # once every GBA notification is filed. The controllers may be told before the GBA.
    "notify_gba": {"assessed"},
    "notify_controller": {"assessed", "gba_notified"},
    "close": {"controller_notified"},
    "dismiss": {"detected", "assessed", "gba_notified", "controller_notified"},
}


def body_for(action, controller, categories, assessment_values):
    if action != "assess":
        return ACTIONS[action][3]
    return {
        **{k: str(v) if not isinstance(v, bool) else v for k, v in assessment_values.items()},
        "data_categories": [categories[0].pk],
        "subject_categories": [categories[1].pk],
        "controllers": [controller.pk],
    }


@pytest.mark.parametrize("role", ["security", "manager", "dpo"])
@pytest.mark.parametrize("action", list(ACTIONS))
def test_each_role_may_or_may_not(
    api, incident_in, controller, categories, assessment_values, action, role
):
    url, source, target, _ = ACTIONS[action]
    incident = incident_in(source)
    events_before = IncidentEvent.objects.filter(incident=incident).count()
    response = api(role).post(
        f"/api/incidents/{incident.pk}/{url}/",
        body_for(action, controller, categories, assessment_values),
        "json",
    )
    incident.refresh_from_db()
    if role in MAY[action]:
        assert response.status_code == 200, response.json()
        assert incident.state == target
        transition = incident.events.filter(kind="transition").last()
        assert (transition.from_state, transition.to_state) == (source, target)
        assert transition.actor.username == role
    else:
        assert response.status_code == 403
        assert incident.state == source
        assert IncidentEvent.objects.filter(incident=incident).count() == events_before


@pytest.mark.parametrize(
    ("action", "state"),
    [
        (action, state)
        for action in ACTIONS
        for state in STATES
        if state not in ALLOWED_FROM[action] and (action, state) != ("close", "gba_notified")
    ],
)
def test_refused_from_every_other_state(
    api, incident_in, controller, categories, assessment_values, action, state
):
    incident = incident_in(state)
    version = incident.version
    response = api("dpo").post(
        f"/api/incidents/{incident.pk}/{ACTIONS[action][0]}/",
        body_for(action, controller, categories, assessment_values),
        "json",
    )
    assert response.status_code == 409, response.json()
    assert response.json()["state"] == state
    incident.refresh_from_db()
    assert (incident.state, incident.version) == (state, version)


def test_closing_before_the_controller_is_told_names_it_and_changes_nothing(api, incident_in):
    """Closing from "GBA notified" exists for Conitro's own data (no client to tell); with a
    client still to tell, the refusal says who."""
    incident = incident_in("gba_notified")
    version = incident.version
    response = api("dpo").post(f"/api/incidents/{incident.pk}/close/", {}, "json")
    assert (response.status_code, response.json()) == (
        400,
        {
            "non_field_errors": [
                "Obligations are still open: Tell the controller (Bakkerij Van Damme BV)."
            ]
        },
    )
    incident.refresh_from_db()
    assert (incident.state, incident.version) == ("gba_notified", version)


def test_dismissing_an_assessed_incident(api, incident_in):
    incident = incident_in("assessed")
    response = api("manager").post(
        f"/api/incidents/{incident.pk}/dismiss/", {"reason": "Data was fictitious."}, "json"
    )
    assert response.status_code == 200
    assert response.json()["dismissal_reason"] == "Data was fictitious."


def test_the_full_path_leaves_a_complete_timeline(incident_in):
    incident = incident_in("closed")
    transitions = [
        (event.from_state, event.to_state) for event in incident.events.filter(kind="transition")
    ]
    assert transitions == [
        ("detected", "assessed"),
        ("assessed", "gba_notified"),
        ("gba_notified", "controller_notified"),
        ("controller_notified", "closed"),
    ]
    assert incident.closed_at is not None


def test_the_state_field_is_protected(new_incident):
    incident = new_incident()
    with pytest.raises(AttributeError):
        incident.state = "closed"


def test_a_late_controller_notification_needs_a_reason(incident_in, manager):
    incident = incident_in("gba_notified", hours_ago=30)
    with pytest.raises(ValidationError) as refused:
        workflow.transition(incident.pk, manager, "notify_controller", how="Phone call")
    assert "delay_reason" in refused.value.message_dict
    incident.refresh_from_db()
    assert incident.state == "gba_notified" and incident.last_controller_notice is None


def test_a_controller_notification_in_time_needs_no_reason(incident_in, manager):
    incident = incident_in("gba_notified", hours_ago=2)
    incident = workflow.transition(incident.pk, manager, "notify_controller", how="Phone call")
    assert incident.state == "controller_notified"


def test_a_late_gba_notification_needs_a_reason(incident_in, manager):
    incident = incident_in("assessed", hours_ago=30)
    with pytest.raises(ValidationError) as refused:
        workflow.transition(incident.pk, manager, "notify_gba", reference="DBN-2026-9")
    assert "delay_reason" in refused.value.message_dict


def test_the_audit_event_keeps_what_the_person_entered(incident_in, manager):
    incident = incident_in("assessed", hours_ago=30)
    workflow.transition(
        incident.pk, manager, "notify_gba", reference="dbn-2026-4711", delay_reason="Weekend."
    )
    event = incident.events.get(kind="recorded", field="notify_gba")
    assert event.after == {
        "reference": "dbn-2026-4711",
        "delay_reason": "Weekend.",
        "controllers": ["Bakkerij Van Damme BV"],
    }
    assert event.actor == manager
    obligation = incident.obligations.get(kind="notify_gba")
    assert (obligation.status, obligation.reference, obligation.delay_reason) == (
        "met",
        "DBN-2026-4711",
        "Weekend.",
    )

    other = incident_in("detected")
    workflow.transition(other.pk, manager, "dismiss", reason="A test mailbox, no real people.")
    event = other.events.get(kind="transition", to_state="dismissed")
    assert event.after == {"reason": "A test mailbox, no real people."}


def test_the_reference_year_is_the_year_in_brussels(security):
    # 23:30 UTC on 31 December is 00:30 on 1 January in Brussels.
    with time_machine.travel(datetime(2026, 12, 31, 23, 30, tzinfo=UTC), tick=False):
        incident = workflow.log_incident(security, title="New year", description="d")
    assert incident.reference == "INC-2027-0001"
    with time_machine.travel(datetime(2026, 12, 31, 22, 30, tzinfo=UTC), tick=False):
        incident = workflow.log_incident(security, title="Old year", description="d")
    assert incident.reference == "INC-2026-0001"


def test_the_dpo_closes_a_settled_incident_through_the_api_with_the_version_seen(api, incident_in):
    incident = incident_in("controller_notified")
    stale = api("dpo").post(
        f"/api/incidents/{incident.pk}/close/", {"version": incident.version - 1}, "json"
    )
    assert stale.status_code == 409
    closed = api("dpo").post(
        f"/api/incidents/{incident.pk}/close/", {"version": incident.version}, "json"
    )
    assert (closed.status_code, closed.json()["state"]) == (200, "closed")
    assert closed.json()["version"] == incident.version + 1
