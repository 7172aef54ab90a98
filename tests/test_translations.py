"""Dutch is the users' language: pages and errors speak it to a Dutch-speaking person."""

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def test_a_dutch_user_sees_dutch_pages_with_decimal_commas(client, make_user, incident_in):
    incident = incident_in("assessed")
    client.force_login(make_user("manager", username="an", language="nl"))
    html = client.get(f"/incidents/{incident.pk}/").content.decode()
    assert "Tijdlijn" in html
    assert "Ernst (ENISA)" in html
    assert "2,00 · Gemiddeld" in html


def test_api_errors_follow_accept_language(manager, new_incident):
    incident = new_incident()
    client = APIClient()
    client.force_authenticate(manager)
    response = client.post(
        f"/api/incidents/{incident.pk}/close/", {}, "json", HTTP_ACCEPT_LANGUAGE="nl"
    )
    assert response.status_code == 409
    assert "heeft status Gedetecteerd" in response.json()["detail"]
