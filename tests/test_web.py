"""The web pages: login, dashboard, logging, assessing, acting, the register and controllers."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from incidents.models import Controller, Incident

pytestmark = pytest.mark.django_db


def local(moment):
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def browser(client, users):
    def as_role(role):
        client.force_login(users[role])
        return client

    return as_role


def test_every_page_needs_a_login(client, incident_in):
    incident = incident_in("detected")
    for url in ["/", f"/incidents/{incident.pk}/", "/register/", "/controllers/"]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/login/")


def test_logging_a_breach(browser):
    aware = timezone.now() - timedelta(minutes=30)
    response = browser("security").post(
        "/incidents/new/",
        {"title": "Laptop stolen", "description": "From a car.", "aware_at": local(aware)},
        follow=True,
    )
    incident = Incident.objects.get()
    assert response.redirect_chain[-1][0] == f"/incidents/{incident.pk}/"
    assert incident.reference.startswith("INC-")
    assert incident.created_by.username == "security"
    assert incident.deadline_at == incident.aware_at + timedelta(hours=24)


def test_a_future_awareness_time_is_refused_with_the_time_shown(browser):
    future = timezone.now() + timedelta(hours=2)
    response = browser("security").post(
        "/incidents/new/", {"title": "t", "description": "d", "aware_at": local(future)}
    )
    assert response.status_code == 200
    message = response.context["form"].errors["aware_at"][0]
    assert timezone.localtime(future).strftime("%d/%m/%Y %H:%M") in message
    assert not Incident.objects.exists()


def test_dashboard_sorts_by_deadline_and_colours_the_time_left(browser, new_incident):
    calm = new_incident(hours_ago=1, title="calm")
    overdue = new_incident(hours_ago=25, title="overdue")
    urgent = new_incident(hours_ago=21, title="urgent")
    amber = new_incident(hours_ago=13, title="amber")
    response = browser("security").get("/")
    page = [incident.pk for incident in response.context["page"].object_list]
    assert page == [overdue.pk, urgent.pk, amber.pk, calm.pk]
    html = response.content.decode()
    assert html.count('class="clock overdue"') == 1
    assert html.count('class="clock red"') == 1
    assert html.count('class="clock amber"') == 1
    assert html.count('class="clock green"') == 1
    assert "countdown.js" in html


def test_dashboard_leaves_out_closed_and_dismissed(browser, incident_in):
    incident_in("closed")
    incident_in("dismissed")
    open_one = incident_in("gba_notified")
    response = browser("manager").get("/")
    assert [i.pk for i in response.context["page"].object_list] == [open_one.pk]


@pytest.mark.parametrize(
    ("role", "state", "actions"),
    [
        ("security", "detected", ["assess"]),
        ("manager", "detected", ["assess", "dismiss", "merge"]),
        ("security", "assessed", ["assess"]),
        ("manager", "assessed", ["assess", "notify_gba", "notify_controller", "dismiss", "merge"]),
        ("security", "gba_notified", ["assess"]),
        ("dpo", "gba_notified", ["assess", "notify_controller", "dismiss", "merge"]),
        ("manager", "controller_notified", ["assess", "close", "dismiss", "merge"]),
        ("dpo", "closed", []),
    ],
)
def test_the_incident_page_offers_only_what_this_person_may_do_now(
    browser, incident_in, role, state, actions
):
    incident = incident_in(state)
    response = browser(role).get(f"/incidents/{incident.pk}/")
    assert response.context["actions"] == actions
    html = response.content.decode()
    assert ("notify_gba/" in html) == ("notify_gba" in actions)
    assert ("dismiss/" in html) == ("dismiss" in actions)
    assert ("merge/" in html) == ("merge" in actions)


def test_the_incident_page_shows_severity_and_timeline(browser, incident_in):
    incident = incident_in("gba_notified")
    html = browser("security").get(f"/incidents/{incident.pk}/").content.decode()
    assert "2.00" in html
    assert "DBN-2026-1234" in html
    assert html.count("<tr>") >= 4


def test_assessing_through_the_form(browser, new_incident, controller, categories):
    incident = new_incident()
    data, subjects = categories
    response = browser("security").post(
        f"/incidents/{incident.pk}/assess/",
        {
            "version": incident.version,
            "confidentiality": "on",
            "cause_origin": "internal",
            "cause_actor": "human",
            "cause_intent": "accidental",
            "data_categories": [data.pk],
            "subject_categories": [subjects.pk],
            "controllers": [controller.pk],
            "subjects_count": 3,
            "records_count": 3,
            "consequences": "c",
            "measures_taken": "m",
            "subjects_informed": "informed",
            "subjects_informed_reason": "Phoned.",
            "enisa_dpc": 3,
            "enisa_dpc_adjustment": "0",
            "enisa_ease_of_identification": "0.75",
            "enisa_confidentiality": "0.25",
            "enisa_integrity": "0.00",
            "enisa_availability": "0.00",
            "risk_level": "risk",
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    incident.refresh_from_db()
    assert incident.state == "assessed"
    assert incident.assessment.severity.score == incident.assessment.severity.score.__class__(
        "2.50"
    )


def test_a_dpc_adjustment_outside_one_to_four_is_shown_on_its_field(
    browser, incident_in, controller, categories
):
    incident = incident_in("assessed")
    response = browser("manager").get(f"/incidents/{incident.pk}/assess/")
    form_data = {
        name: value
        for name, value in response.context["form"].initial.items()
        if value is not None and name not in {"id", "incident", "assessed_by"}
    }
    form_data.update(
        version=incident.version,
        data_categories=[categories[0].pk],
        subject_categories=[categories[1].pk],
        controllers=[controller.pk],
        enisa_dpc=4,
        enisa_dpc_adjustment="1",
    )
    form_data = {k: v for k, v in form_data.items() if v is not False}
    response = browser("manager").post(f"/incidents/{incident.pk}/assess/", form_data)
    assert response.status_code == 200
    assert "1 and 4" in response.context["form"].errors["enisa_dpc_adjustment"][0]


def test_someone_elses_change_is_reported_not_overwritten(browser, new_incident, security):
    incident = new_incident()
    seen_version = incident.version
    from incidents import workflow

    workflow.update_facts(incident.pk, security, {"title": "Changed meanwhile"})
    response = browser("manager").post(
        f"/incidents/{incident.pk}/dismiss/",
        {"version": seen_version, "reason": "Duplicate."},
        follow=True,
    )
    incident.refresh_from_db()
    assert incident.state == "detected"
    assert incident.title == "Changed meanwhile"
    message = str(list(response.context["messages"])[0])
    assert incident.reference in message and "reload" in message


def test_a_late_gba_notification_form_asks_for_the_reason(browser, incident_in):
    incident = incident_in("assessed", hours_ago=26)
    response = browser("manager").post(
        f"/incidents/{incident.pk}/notify_gba/",
        {"version": incident.version, "reference": "DBN-2026-9"},
    )
    assert response.status_code == 200
    assert "deadline" in response.context["form"].errors["delay_reason"][0]
    incident.refresh_from_db()
    assert incident.state == "assessed"


def test_security_staff_cannot_dismiss(browser, incident_in):
    incident = incident_in("detected")
    response = browser("security").post(
        f"/incidents/{incident.pk}/dismiss/", {"version": incident.version, "reason": "my words"}
    )
    assert response.status_code == 403
    page = response.content.decode()
    assert "Your role may not do this" in page and "my words" in page  # the input stays
    incident.refresh_from_db()
    assert incident.state == "detected"


def test_register_is_for_the_dpo(browser):
    assert browser("manager").get("/register/").status_code == 403
    assert browser("dpo").get("/register/").status_code == 200


def test_register_lists_dismissed_incidents_and_filters(browser, incident_in, new_incident):
    dismissed = incident_in("dismissed")
    old = new_incident(hours_ago=24 * 40, title="old")
    client = browser("dpo")
    everything = client.get("/register/").context["page"].object_list
    assert {dismissed.pk, old.pk} <= {i.pk for i in everything}
    only_dismissed = client.get("/register/?state=dismissed").context["page"].object_list
    assert [i.pk for i in only_dismissed] == [dismissed.pk]
    since = timezone.localdate() - timedelta(days=2)
    recent = client.get(f"/register/?start={since}").context["page"].object_list
    assert old.pk not in {i.pk for i in recent}
    response = client.get("/register/?state=dismissed")
    assert "No personal data." in response.content.decode()


def test_register_refuses_a_backwards_period(browser):
    response = browser("dpo").get("/register/?start=2026-05-01&end=2026-04-01")
    assert "ends before it starts" in response.content.decode()


def test_managers_add_controllers_with_a_checked_kbo(browser):
    client = browser("manager")
    data = {
        "name": "Librairie Lefèvre",
        "enterprise_number": "0431.150.351",
        "address": "Rue Haute 5",
        "contact_person": "Hélène",
        "email": "h@example.com",
        "phone": "0471 23 45 67",
        "language": "fr",
    }
    response = client.post("/controllers/new/", data)
    assert "check digits" in response.context["form"].errors["enterprise_number"][0]
    assert not Controller.objects.exists()
    response = client.post("/controllers/new/", {**data, "enterprise_number": "0831.797.467"})
    assert response.status_code == 302
    controller = Controller.objects.get()
    assert (controller.enterprise_number, controller.phone) == ("0831797467", "+32471234567")


def test_security_staff_cannot_manage_controllers(browser):
    assert browser("security").get("/controllers/new/").status_code == 403


def test_the_acknowledgement_page_speaks_the_language_of_the_person_paged(
    make_user, new_incident, client
):
    from django.test import Client
    from django.urls import reverse

    from notifications.models import Firing
    from notifications.texts import ack_token

    dutch = make_user("manager", "jan", language="nl")
    incident = new_incident(hours_ago=0)
    firing = Firing.objects.get(incident=incident, step__position=1)
    url = reverse("notifications:acknowledge", args=[ack_token(firing, dutch)])
    page = Client().get(url, HTTP_ACCEPT_LANGUAGE="fr")  # a French phone opens Jan's link
    assert page["Content-Language"] == "nl"
    assert '<html lang="nl">' in page.content.decode()
    assert "Ik neem het op (Manager)" in page.content.decode()
    Client().post(url, HTTP_ACCEPT_LANGUAGE="fr")
    again = Client().get(url).content.decode()  # opened again: who answered, and when
    assert "Al bevestigd door Manager" in again
    assert incident.acknowledgements.get().user == dutch


def test_free_texts_carry_their_language_and_the_clock_is_not_read_out_every_minute(
    browser, incident_in
):
    from incidents.models import Incident

    incident = incident_in("assessed")
    Incident.objects.filter(pk=incident.pk).update(text_language="fr")
    html = browser("manager").get(f"/incidents/{incident.pk}/").content.decode()
    assert f'<dd lang="fr">{incident.description}</dd>' in html
    assert '<span lang="fr">Admin account phished</span>' in html
    assert '<dd lang="fr">Phishing of customers.</dd>' in html  # the consequences
    assert '<span role="timer" aria-atomic="true">' in html and 'role="timer" aria-live' not in html
    assert '<span class="visually-hidden clock-band" aria-live="polite"></span>' in html


def test_a_new_assessment_starts_at_not_known_yet_for_the_cause_and_no_select_at_dashes(
    browser, new_incident
):
    incident = new_incident()
    page = browser("security").get(f"/incidents/{incident.pk}/assess/")
    form = page.context["form"]
    assert [form[name].value() for name in ("cause_origin", "cause_actor", "cause_intent")] == [
        "unknown",
        "unknown",
        "unknown",
    ]
    html = page.content.decode()
    assert "---------" not in html and '<option value="">— choose —</option>' in html


def test_numbers_read_the_same_way_on_every_page_of_a_dutch_reader(client, make_user, incident_in):
    incident = incident_in("assessed")
    client.force_login(make_user("manager", "mia", language="nl"))
    pages = [client.get(path).content.decode() for path in (f"/incidents/{incident.pk}/", "/")]
    assert all("2,00" in page and "2.00" not in page for page in pages)


# Pages anyone may open, and why: the links in pages and e-mails (signed), the providers'
# webhooks (each checks its provider's signature), the public notice to the data subjects
# (art. 34(3)(c)), and the way in.
PUBLIC = {
    "acknowledge": "the link in a page, signed for its person",
    "twilio-status": "Twilio's webhook, signed",
    "twilio-sms": "Twilio's webhook, signed",
    "twilio-voice": "Twilio's webhook, signed",
    "sendgrid-tracking": "SendGrid's webhook, signed",
    "public": "the public notice to the data subjects",
    "second-factor-invitation": "the invitation's link, signed for its person",
    "login": "the way in",
    "two-factor": "the second step of the way in",
    "logout": "the way out",
    "set_language": "Django's language switch, for the login page",
}


def every_url(values):
    """(name, path) of every route but the admin's, its parameters filled in from values."""
    from django.urls import URLPattern, URLResolver, get_resolver

    def walk(patterns, prefix):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                yield pattern.name, prefix + str(pattern.pattern)

    for name, route in walk(get_resolver().url_patterns, "/"):
        if route.startswith("/admin/") or "format" in route:
            continue
        route = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: str(values[m.group(1)]), route)
        route = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), route)
        yield name, route.replace("^", "").replace("$", "")


def route_values(incident, controller):
    return {
        "pk": incident.pk,
        "controller_pk": controller.pk,
        "controller_id": controller.pk,
        "rule_id": 1,
        "message_id": 1,
        "token": "x",
        "key": "x",
        "channel": "sms",
        "language": "fr",
        "action": "assess",
    }


def test_every_route_but_the_public_ones_needs_a_login(client, incident_in, controller):
    """Every page, download and API route, found in the URL map itself: a person who has not
    logged in is sent to the login page (the API answers 401), and sees nothing."""
    found = dict(every_url(route_values(incident_in("controller_notified"), controller)))
    assert len(found) > 60 and set(PUBLIC) <= set(found)
    for name, path in found.items():
        if name in PUBLIC:
            continue
        for method in (client.get, client.post):
            response = method(path)
            if path.startswith("/api/"):
                assert response.status_code == 401, (name, path, method)
            else:
                assert (response.status_code, response.get("Location", "").split("?")[0]) == (
                    302,
                    "/login/",
                ), (name, path, method)


def test_a_person_without_a_role_sees_only_their_own_account(
    client, make_user, incident_in, controller
):
    """An account an administrator has not given a role yet (or took it from): every page,
    download and search of the desk is refused, the dashboard saying why; only the person's
    own account opens. Found in the URL map, so a new page cannot forget it."""
    incident = incident_in("controller_notified")
    client.force_login(make_user("nobody"))
    own_account = {
        "profile",
        "password-change",
        "second-factor-phone",
        "recovery-codes",
        "resume-form",
        "keep-alive",
        "test-page",
        "new-phone",
        "confirm-phone",
    }
    found = dict(every_url(route_values(incident, controller)))
    for name, path in found.items():
        if name in PUBLIC or name in own_account or path.startswith("/api/"):
            continue
        response = client.get(path)
        if response.status_code == 405:  # a button's address: what pressing it does
            response = client.post(path)
        assert response.status_code == 403, (name, path, response.status_code)
        assert incident.title not in response.content.decode(), name
    dashboard = client.get("/").content.decode()
    assert "Your account has no role yet: ask an administrator to give you one." in dashboard
    # Nothing leads back to the refusal: the way out is the person's own account.
    assert 'href="/"' not in dashboard.replace('class="brand" href="/"', "")
    assert '<a class="button" href="/account/">Your account</a>' in dashboard
    assert client.get("/account/").status_code == 200
    assert client.get("/controllers/lookup/", {"q": controller.name[:5]}).status_code == 403
