"""No incident without its escalation plan: the plan is saved in the incident's own
transaction, a sweep repairs any open incident without one, and a queue that cannot be
reached never turns a saved incident into an error."""

import pytest
from django.db import transaction
from django_q.conf import Conf

from incidents import workflow
from incidents.models import Incident
from notifications.models import Firing, Message
from notifications.tasks import dispatch

pytestmark = pytest.mark.django_db


def test_the_plan_is_saved_with_the_incident_before_any_commit_hook(security):
    incident = workflow.log_incident(security, title="t", description="d")  # no hook runs here
    steps = set(Firing.objects.filter(incident=incident).values_list("step__position", flat=True))
    assert steps == {1, 2, 3, 4, 5}


def test_a_failed_log_leaves_neither_incident_nor_plan(security):
    with pytest.raises(RuntimeError), transaction.atomic():
        workflow.log_incident(security, title="t", description="d")
        raise RuntimeError("the request failed")
    assert not Incident.objects.exists() and not Firing.objects.exists()


def test_the_sweep_plans_an_open_incident_without_a_plan_and_pages(security, manager, channels):
    incident = workflow.log_incident(security, title="From a backup", description="d")
    Firing.objects.filter(incident=incident).delete()  # as if saved before plans existed
    dispatch()
    assert Firing.objects.filter(incident=incident).exists()
    assert Message.objects.filter(incident=incident, firing__step__position=1).exists()
    assert {message.to for message in channels} >= {security.phone, manager.phone}


def test_an_unreachable_queue_still_answers_201_and_the_plan_is_there(
    api, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(Conf, "SYNC", False)
    monkeypatch.setattr(Conf, "ORM", "no-such-database")  # the broker cannot be reached
    with django_capture_on_commit_callbacks(execute=True):
        response = api("security").post(
            "/api/incidents/", {"title": "Queue down", "description": "d"}, format="json"
        )
    assert response.status_code == 201, response.content[:300]
    incident = Incident.objects.get(pk=response.json()["id"])
    assert incident.firings.filter(step__position=1, fired_at=None).exists()
