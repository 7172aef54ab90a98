"""An idle session ends, but nothing typed is lost: a form sent after the end is kept, the login
page says why, and after the login it is offered back to check and send again. A warning and
"stay logged in" come before the end; typing counts as activity, the dashboard's own refresh
does not."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from incidents.models import Incident
from tests.conftest import VerifiedClient
from tests.test_merging import as_posted

pytestmark = pytest.mark.django_db


def test_a_form_sent_after_the_session_ended_is_kept_and_offered_back(
    manager, new_incident, settings
):
    incident = new_incident()
    client = VerifiedClient()
    client.force_login(manager)
    data = as_posted(client.get(f"/incidents/{incident.pk}/edit/"))
    data["description"] = "Typed for twenty minutes, then the phone rang."
    Session.objects.all().delete()  # thirty idle minutes later

    sent = client.post(f"/incidents/{incident.pk}/edit/", data)
    assert sent.status_code == 302
    assert sent["Location"] == "/login/?next=%2Faccount%2Fresume%2F&expired=1"
    login = client.get(sent["Location"], HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Your session ended after a while without activity. What you were sending is kept" in (
        login
    )
    assert Incident.objects.get(pk=incident.pk).description == incident.description  # unchanged

    client.force_login(manager)  # the kept form survives the login (same session, new key)
    offered = client.get("/account/resume/").content.decode()
    assert "Typed for twenty minutes, then the phone rang." in offered
    assert f'<form method="post" action="/incidents/{incident.pk}/edit/"' in offered
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', offered))
    assert hidden["version"] == str(incident.version) and hidden["base"] == data["base"]
    hidden["description"] = "Typed for twenty minutes, then the phone rang."
    assert client.post(f"/incidents/{incident.pk}/edit/", hidden).status_code == 302
    assert Incident.objects.get(pk=incident.pk).description == (
        "Typed for twenty minutes, then the phone rang."
    )
    again = client.get("/account/resume/", follow=True).content.decode()
    assert "No form is waiting" in again  # offered once


def test_a_cross_site_post_is_refused_not_kept(manager, new_incident):
    incident = new_incident()
    client = Client(enforce_csrf_checks=True)
    client.force_login(manager)
    Session.objects.all().delete()
    response = client.post(f"/incidents/{incident.pk}/edit/", {"title": "Forged"})
    assert response.status_code == 403
    assert not any("kept_form" in s.get_decoded() for s in Session.objects.all())


def test_a_post_without_any_session_is_not_kept(new_incident):
    incident = new_incident()
    response = Client().post(f"/incidents/{incident.pk}/edit/", {"title": "x"})
    assert response.status_code == 302 and "expired" not in response["Location"]
    assert Session.objects.count() == 0


def test_stay_logged_in_extends_the_session_and_the_warning_is_on_every_page(
    client, manager, settings
):
    client.force_login(manager)
    page = client.get("/").content.decode()
    assert 'id="session-warning"' in page and f'data-seconds="{settings.SESSION_COOKIE_AGE}"' in (
        page
    )
    assert 'data-keep-alive="/account/keep-alive/"' in page
    assert "session.js" in page
    before = Session.objects.get().expire_date
    with time_machine.travel(timezone.now() + timedelta(minutes=20)):
        assert client.post("/account/keep-alive/").json() == {
            "expires_in": settings.SESSION_COOKIE_AGE
        }
    assert Session.objects.get().expire_date > before
    assert client.get("/account/keep-alive/").status_code == 405
    assert 'id="session-warning"' not in Client().get("/login/").content.decode()


def test_the_session_is_saved_again_at_most_once_a_minute_and_pages_say_what_is_left(
    client, manager, settings
):
    """A picker asking at every key and a draft saved as one types wrote the session on every
    request; the idle clock now starts over at most once a minute, and the warning counts from
    when it did."""
    lasts = settings.SESSION_COOKIE_AGE
    with time_machine.travel(datetime(2026, 7, 1, 9, 0, tzinfo=UTC), tick=False) as clock:
        client.force_login(manager)
        client.get("/")
        started = Session.objects.get().expire_date
        clock.shift(30)
        page = client.get("/").text
        assert Session.objects.get().expire_date == started  # not written again
        assert f'data-seconds="{lasts - 30}" data-lasts="{lasts}"' in page
        clock.shift(30)
        page = client.get("/").text
        assert Session.objects.get().expire_date == started + timedelta(seconds=60)
        assert f'data-seconds="{lasts}" data-lasts="{lasts}"' in page
        clock.shift(10)
        client.post("/account/keep-alive/")  # "stay logged in" always starts it over
        assert Session.objects.get().expire_date == started + timedelta(seconds=70)
