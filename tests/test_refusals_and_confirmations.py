"""Refusals that say why and keep what was typed; closing and dismissing asked, not clicked."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from incidents import workflow


@pytest.mark.django_db
def test_security_staff_are_told_before_the_gba_form_not_after(client, security, incident_in):
    incident = incident_in("assessed")
    client.force_login(security)
    page = client.get(f"/incidents/{incident.pk}/notify_gba/")
    text = page.content.decode()
    assert page.status_code == 403
    assert "Not for your role" in text and "managers and the DPO" in text
    assert 'name="reference"' not in text  # no form to fill in for nothing


@pytest.mark.django_db
def test_a_stale_resend_of_ones_own_change_is_not_blamed_on_someone_else(
    client, manager, incident_in
):
    incident = incident_in("detected")
    client.force_login(manager)
    form = {"version": incident.version, "reason": "A test mail, no personal data."}
    moment = timezone.now() + timedelta(seconds=5)
    with time_machine.travel(moment, tick=False):
        client.post(f"/incidents/{incident.pk}/dismiss/", form)
    incident.refresh_from_db()
    assert incident.state == "dismissed"
    again = client.post(f"/incidents/{incident.pk}/dismiss/", form, follow=True)  # back + resend
    text = again.content.decode()
    assert "You already saved a change" in text and "someone else" not in text
    # Two hours later, the time named is still that of the change, not of the refusal.
    with time_machine.travel(moment + timedelta(hours=2), tick=False):
        with pytest.raises(workflow.IncidentChanged) as refused:
            workflow.transition(incident.pk, manager, "dismiss", form["version"], reason="Again.")
        said = refused.value.message_for(manager)
    assert said == (
        f"You already saved a change to {incident.reference} at "
        f"{timezone.localtime(moment):%H:%M %Z} (it is now "
        "Dismissed); this page was older than that. Nothing more was saved: check the incident "
        "as it is now."
    )


@pytest.mark.django_db
def test_someone_elses_change_is_named_as_such(client, manager, dpo, incident_in):
    incident = incident_in("detected")
    version = incident.version
    workflow.update_facts(incident.pk, dpo, {"title": "Renamed"}, version)
    client.force_login(manager)
    page = client.post(
        f"/incidents/{incident.pk}/dismiss/", {"version": version, "reason": "x"}, follow=True
    )
    assert "changed by someone else" in page.content.decode()


@pytest.mark.django_db
def test_closing_asks_for_a_confirmation_on_its_own_page(client, manager, incident_in):
    incident = incident_in("controller_notified")
    client.force_login(manager)
    detail = client.get(f"/incidents/{incident.pk}/").content.decode()
    assert f'action="/incidents/{incident.pk}/close/"' not in detail  # no one-click close
    unconfirmed = client.post(f"/incidents/{incident.pk}/close/", {"version": incident.version})
    assert unconfirmed.status_code == 200 and "confirm" in unconfirmed.context["form"].errors
    incident.refresh_from_db()
    assert incident.state == "controller_notified"
    client.post(f"/incidents/{incident.pk}/close/", {"version": incident.version, "confirm": "on"})
    incident.refresh_from_db()
    assert incident.state == "closed"


@pytest.mark.django_db
def test_a_closed_incidents_forms_are_not_offered_and_an_action_done_already_is_not(
    client, manager, incident_in
):
    closed = incident_in("closed")
    client.force_login(manager)
    for path in ("edit/", "assess/", "notify_gba/", "close/"):
        response = client.get(f"/incidents/{closed.pk}/{path}", follow=True)
        assert response.redirect_chain == [(f"/incidents/{closed.pk}/", 302)], path
        assert f"{closed.reference} is Closed: its facts and records are read-only now." in (
            response.content.decode()
        )
    filed = incident_in("gba_notified")
    response = client.get(f"/incidents/{filed.pk}/notify_gba/", follow=True)
    assert response.redirect_chain == [(f"/incidents/{filed.pk}/", 302)]
    assert "This cannot be recorded now: the incident page shows what is." in (
        response.content.decode()
    )
