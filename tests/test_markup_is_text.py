"""Markup typed into any free text, or put into any query parameter, is shown as text on every
page: it can neither redirect the reader (a <meta refresh> to a look-alike login page) nor add
elements. Download errors that echo what was asked for are plain text."""

import pytest

from incidents.fact_texts import ASSESSMENT_TEXTS, INCIDENT_TEXTS
from incidents.models import Assessment, Controller, Incident

pytestmark = pytest.mark.django_db

PAYLOAD = '<meta http-equiv="refresh" content="0;url=//evil.example/"><b id="injected">x</b>'
RAW = ['<meta http-equiv="refresh"', '<b id="injected">']


def assert_inert(response, where):
    html = response.content.decode()
    assert not any(raw in html for raw in RAW), where


@pytest.fixture
def hostile(incident_in, controller):
    """An assessed incident whose every free text, and its controller's, is the payload."""
    incident = incident_in("assessed")
    Incident.objects.filter(pk=incident.pk).update(**dict.fromkeys(INCIDENT_TEXTS, PAYLOAD))
    Assessment.objects.filter(incident=incident).update(**dict.fromkeys(ASSESSMENT_TEXTS, PAYLOAD))
    Controller.objects.filter(pk=controller.pk).update(
        name=PAYLOAD, address=PAYLOAD, contact_person=PAYLOAD, dpo_name=PAYLOAD
    )
    return Incident.objects.get(pk=incident.pk)


def pages(incident, controller):
    pk = incident.pk
    return [
        "/",
        f"/incidents/{pk}/",
        f"/incidents/{pk}/edit/",
        f"/incidents/{pk}/assess/",
        f"/incidents/{pk}/texts/fr/",
        f"/incidents/{pk}/texts/en/",
        *(
            f"/incidents/{pk}/{action}/"
            for action in [
                "notify_gba",
                "complete_gba",
                "notify_controller",
                "inform_subjects",
                "dismiss",
                "close",
                "merge",
            ]
        ),
        f"/incidents/{pk}/notices/",
        "/register/",
        "/controllers/",
        f"/controllers/{controller.pk}/",
        "/account/",
    ]


def expected_status(incident, user, url):
    """200 for a page; for an action's form: 403 when the role may not take it, 302 (to the
    incident, which says why) when it cannot be taken now, 200 when it can."""
    from django.core.exceptions import PermissionDenied

    from incidents import workflow

    action = url.rstrip("/").rsplit("/", 1)[-1]
    if action not in {"notify_gba", "complete_gba", "notify_controller", "inform_subjects",
                      "dismiss", "close", "merge"}:  # fmt: skip
        return 200
    try:
        workflow.check_permission(user, "dismiss" if action == "merge" else action)
    except PermissionDenied:
        return 403
    return 200 if action in workflow.allowed_actions(incident, user) else 302


def test_free_texts_are_text_on_every_page(client, dpo, hostile, controller):
    client.force_login(dpo)
    statuses = set()
    for url in pages(hostile, controller):
        response = client.get(url)
        assert response.status_code == expected_status(hostile, dpo, url), url
        statuses.add(response.status_code)
        assert_inert(response, url)
    assert statuses == {200, 302}  # the forms this incident offers, and one it does not


def test_the_texts_page_shows_each_original_escaped(client, dpo, hostile):
    client.force_login(dpo)
    html = client.get(f"/incidents/{hostile.pk}/texts/fr/").content.decode()
    escaped = PAYLOAD.replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    # Each text under its field, and the title once more in the heading.
    assert html.count(escaped) == len(INCIDENT_TEXTS) + len(ASSESSMENT_TEXTS) + 1


PARAMETERS = ["lang", "state", "q", "from", "to", "controller", "order", "page", "next"]


def test_query_parameters_are_text_on_every_page(client, dpo, hostile, controller):
    client.force_login(dpo)
    query = "&".join(f"{name}={PAYLOAD}" for name in PARAMETERS)
    for url in pages(hostile, controller):
        response = client.get(f"{url}?{query}")
        assert_inert(response, url)


@pytest.mark.parametrize(
    "url",
    [
        "/incidents/{pk}/documents/gba-notification.pdf?lang={payload}",
        "/incidents/{pk}/documents/report.pdf?lang={payload}",
        "/incidents/{pk}/documents/gba-notification.pdf?controller={payload}",
        "/register.csv?state={payload}",
        "/register.pdf?from={payload}",
        "/register.csv?lang={payload}",
    ],
)
def test_a_download_error_is_plain_text(client, dpo, hostile, url):
    client.force_login(dpo)
    response = client.get(url.format(pk=hostile.pk, payload=PAYLOAD))
    assert response.status_code == 400
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["X-Content-Type-Options"] == "nosniff"
