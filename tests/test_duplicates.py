"""One incident per submission, a hint when one looks like another, and a merge that keeps the
trail: a double-click must not page everyone twice nor count a breach twice in the register."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from incidents import workflow
from incidents.models import Incident, IncidentEvent
from notifications.models import Firing
from tests.test_concurrency import run_at_once


def form(title="Laptop stolen", submission="3f2b9c", **extra):
    aware = timezone.localtime(timezone.now() - timedelta(minutes=30))
    return {
        "title": title,
        "description": "From a car.",
        "aware_at": aware.strftime("%Y-%m-%dT%H:%M"),
        "submission": submission,
        **extra,
    }


@pytest.mark.django_db
def test_the_same_form_sent_twice_logs_one_incident(client, security):
    client.force_login(security)
    first = client.post("/incidents/new/", form(), follow=True)
    again = client.post("/incidents/new/", form(), follow=True)  # double-click, back + resend
    incident = Incident.objects.get()
    assert (
        first.redirect_chain[-1][0] == again.redirect_chain[-1][0] == f"/incidents/{incident.pk}/"
    )
    assert "already sent" in again.content.decode()
    assert IncidentEvent.objects.filter(kind="created").count() == 1
    assert Firing.objects.filter(step__position=1).count() == 1  # paged once
    client.post("/incidents/new/", form(submission="another-form"))
    assert Incident.objects.count() == 2  # a new form is a new incident


@pytest.mark.django_db
def test_back_edit_and_send_again_keeps_the_new_words_and_offers_a_new_incident(client, security):
    client.force_login(security)
    client.post("/incidents/new/", form())
    first = Incident.objects.get()
    changed = client.post("/incidents/new/", form(title="Laptop and phone stolen"))
    assert changed.status_code == 409 and Incident.objects.count() == 1
    html = changed.content.decode()
    assert (
        f"This form was already sent: {first.reference} was logged then. What you changed "
        "since is kept below and not logged yet"
    ) in html
    assert 'value="Laptop and phone stolen"' in html
    assert ">Log as a new incident</button>" in html
    assert f'href="/incidents/{first.pk}/edit/">Correct {first.reference}</a>' in html
    token = changed.context["form"]["submission"].value()
    assert token != "3f2b9c"
    client.post("/incidents/new/", form(title="Laptop and phone stolen", submission=token))
    assert sorted(Incident.objects.values_list("title", flat=True)) == [
        "Laptop and phone stolen",
        "Laptop stolen",
    ]


@pytest.mark.django_db
def test_the_log_form_carries_a_fresh_token_each_time(client, security):
    client.force_login(security)
    tokens = [client.get("/incidents/new/").context["form"].initial["submission"] for _ in range(2)]
    assert len(set(tokens)) == 2 and all(len(token) == 32 for token in tokens)


@pytest.mark.django_db
def test_a_submission_is_remembered_for_24_hours(security, time_machine):
    time_machine.move_to(timezone.now())
    first = workflow.log_incident(security, title="A", description="d", submission="k")
    time_machine.shift(timedelta(hours=23, minutes=59))
    assert workflow.log_incident(security, title="A", description="d", submission="k") == first
    time_machine.shift(timedelta(minutes=2))
    later = workflow.log_incident(security, title="A", description="d", submission="k")
    assert later != first and not later.repeated


@pytest.mark.django_db
def test_the_api_replays_a_request_with_the_same_idempotency_key(api):
    body = {"title": "Mailbox hacked", "description": "Forwarding rule."}
    first = api("security").post("/api/incidents/", body, HTTP_IDEMPOTENCY_KEY="req-1")
    again = api("security").post("/api/incidents/", body, HTTP_IDEMPOTENCY_KEY="req-1")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again["Idempotent-Replayed"] == "true"
    assert first.json()["reference"] == again.json()["reference"]
    assert Incident.objects.count() == 1
    bad = api("security").post("/api/incidents/", body, HTTP_IDEMPOTENCY_KEY="é" * 3)
    assert bad.status_code == 400 and "Idempotency-Key" in bad.json()
    assert Incident.objects.count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="two at once need PostgreSQL")
def test_two_copies_of_one_submission_at_the_same_moment_log_one_incident(security):
    def send():
        return workflow.log_incident(security, title="Twice", description="d", submission="dbl")

    outcomes = run_at_once(send, send, send)
    assert all(isinstance(outcome, Incident) for outcome in outcomes), outcomes
    assert len({outcome.pk for outcome in outcomes}) == 1
    assert Incident.objects.count() == 1
    assert sorted(outcome.repeated for outcome in outcomes) == [False, True, True]


@pytest.mark.django_db
def test_a_similar_incident_logged_minutes_ago_is_pointed_out(client, security, make_user):
    other = make_user("security", "ann")
    earlier = workflow.log_incident(other, title="Laptop stolen", description="Train.")
    client.force_login(security)
    page = client.post("/incidents/new/", form(title="laptop stolen "), follow=True)
    text = page.content.decode()
    assert f"A similar incident, {earlier.reference}" in text and "merge this one" in text
    client.force_login(make_user("security", "bob"))  # another title, another person
    alone = client.post("/incidents/new/", form(title="Ransomware", submission="x2"), follow=True)
    assert "A similar incident" not in alone.content.decode()


@pytest.mark.django_db
def test_logging_an_incident_already_past_its_deadline_warns(client, security):
    client.force_login(security)
    aware = timezone.localtime(timezone.now() - timedelta(hours=30)).strftime("%Y-%m-%dT%H:%M")
    page = client.post("/incidents/new/", form(aware_at=aware), follow=True)
    assert "Already past its deadline" in page.content.decode()


@pytest.mark.django_db
def test_a_duplicate_merged_into_its_original_leaves_the_register_and_keeps_its_trail(
    client, security, manager, dpo
):
    original = workflow.log_incident(security, title="Laptop stolen", description="Train.")
    duplicate = workflow.log_incident(security, title="Laptop stolen", description="Same.")
    client.force_login(manager)
    form_page = client.get(f"/incidents/{duplicate.pk}/merge/")
    assert form_page.context["form"].initial["original"] == original.reference  # suggested
    client.post(
        f"/incidents/{duplicate.pk}/merge/",
        {"original": original.reference.lower(), "version": duplicate.version},
    )
    duplicate.refresh_from_db()
    assert duplicate.duplicate_of == original and duplicate.state == "dismissed"
    assert duplicate.dismissal_reason == f"Duplicate of {original.reference}."
    assert list(Incident.objects.register()) == [original]
    assert duplicate.events.filter(kind="created").exists()  # its trail stays
    page = client.get(f"/incidents/{original.pk}/").content.decode()
    assert f"{duplicate.reference} was merged into this incident as its duplicate." in page
    client.force_login(dpo)
    csv = b"".join(client.get("/register.csv").streaming_content).decode("utf-8-sig")
    assert original.reference in csv and duplicate.reference not in csv


@pytest.mark.django_db
@pytest.mark.parametrize("target", ["self", "INC-1999-0001", "duplicate"])
def test_a_merge_into_itself_nothing_or_another_duplicate_is_refused(
    client, security, manager, target
):
    original = workflow.log_incident(security, title="A", description="d")
    first = workflow.log_incident(security, title="B", description="d")
    second = workflow.log_incident(security, title="C", description="d")
    workflow.merge(first.pk, manager, original.reference)
    reference = {
        "self": second.reference,
        "INC-1999-0001": "INC-1999-0001",
        "duplicate": first.reference,
    }[target]
    client.force_login(manager)
    page = client.post(
        f"/incidents/{second.pk}/merge/", {"original": reference, "version": second.version}
    )
    assert page.status_code == 200
    assert page.context["form"].errors["original"] == [
        f"No incident has the reference {reference}."
        if target == "INC-1999-0001"
        else "Merge into the original incident, not into itself or another duplicate."
    ]
    second.refresh_from_db()
    assert (second.state, second.duplicate_of) == ("detected", None)


@pytest.mark.django_db
def test_a_merge_from_a_stale_page_is_refused_and_a_merge_is_signed(security, manager):
    original = workflow.log_incident(security, title="A", description="d")
    duplicate = workflow.log_incident(security, title="A", description="d")
    seen = duplicate.version
    workflow.update_facts(duplicate.pk, security, {"title": "A, renamed"}, seen)
    with pytest.raises(workflow.IncidentChanged):
        workflow.merge(duplicate.pk, manager, original.reference, seen)
    assert Incident.objects.get(pk=duplicate.pk).duplicate_of is None
    merged = workflow.merge(duplicate.pk, manager, original.reference, seen + 1)
    assert merged.duplicate_of == original  # what the caller is given is what was saved
    event = original.events.get(kind="merged")
    assert (event.actor, event.after) == (manager, {"duplicate": duplicate.reference})


@pytest.mark.django_db
def test_what_counts_as_similar_same_title_within_two_hours_or_alike_by_one_person_minutes_ago(
    security, make_user, time_machine
):
    start = timezone.now() - timedelta(hours=5)
    other = make_user("security", "ann")

    def log(user, title, minutes):
        time_machine.move_to(start + timedelta(minutes=minutes), tick=False)
        return workflow.log_incident(user, title=title, description="d")

    log(other, "Laptop stolen", 0)  # 2 h 01 min before
    same_title = log(other, "LAPTOP STOLEN", 2)
    merged = log(other, "Laptop stolen", 111)
    workflow.merge(merged.pk, make_user("manager", "max"), same_title.reference)
    log(security, "Stolen laptop, phishing mail", 110.5)  # the same person, 10½ minutes before
    alike = log(security, "Stolen laptop in Gent", 115)  # the same person, 6 minutes, alike
    log(security, "Ransomware", 116)  # the same person, minutes before, but nothing alike
    log(other, "Ransomware", 118)  # another person and title, 3 minutes before
    incident = log(security, "laptop stolen", 121)
    assert workflow.similar_to(incident) == [same_title, alike]  # the same title first

    more = [log(other, "Laptop stolen", m) for m in (121.2, 121.4, 121.6)]
    assert workflow.similar_to(log(other, "Laptop Stolen", 122)) == more[::-1]  # three at most


@pytest.mark.django_db
def test_a_breach_logged_minutes_earlier_by_the_same_person_for_the_same_controller_is_similar(
    security, controller, second, time_machine
):
    """A SIEM's analyst logs two differently worded incidents for one client minutes apart: a
    likely duplicate. Another client's incident logged in between is not, nor one without any
    controller."""
    start = timezone.now() - timedelta(hours=1)

    def log(title, minutes, controllers):
        time_machine.move_to(start + timedelta(minutes=minutes), tick=False)
        return workflow.log_incident(
            security, title=title, description="d", controllers=controllers
        )

    same_client = log("Ransomware on the file server", 0, [controller])
    log("Phishing mail clicked", 1, [second])  # another client, nothing alike
    log("Lost badge", 2, [])  # no controller yet
    incident = log("Mailbox rules changed", 3, [controller])
    assert workflow.similar_to(incident) == [same_client]
    assert workflow.similar_to(log("Printer jam", 4, [])) == []  # no controller: title only


@pytest.mark.django_db
def test_a_submission_key_is_each_persons_own(security, make_user, controller):
    """Two people (or two API clients) who happen to send the same key each log their own
    incident, with everything they sent; each one's replay gives back their own."""
    other = make_user("security", "ann")
    occurred = timezone.now() - timedelta(hours=3)
    mine = workflow.log_incident(
        security, title="A", description="d", submission="1", occurred_at=occurred,
        controllers=[controller],
    )  # fmt: skip
    theirs = workflow.log_incident(other, title="B", description="d", submission="1")
    assert not theirs.repeated and theirs != mine and theirs.title == "B"
    assert (mine.occurred_at, list(mine.controllers.all())) == (occurred, [controller])
    again = workflow.log_incident(other, title="B", description="d", submission="1")
    assert again.repeated and again == theirs
    assert Incident.objects.count() == 2


def test_a_breach_cannot_be_merged_into_an_incident_dismissed_as_no_breach(security, manager):
    from django.core.exceptions import ValidationError

    from incidents.models import Incident

    test_alarm = workflow.log_incident(security, title="Phishing test", description="d")
    workflow.transition(test_alarm.pk, manager, "dismiss", reason="Our own phishing exercise.")
    breach = workflow.log_incident(security, title="Phishing", description="d")
    with pytest.raises(ValidationError) as refused:
        workflow.merge(breach.pk, manager, test_alarm.reference)
    assert refused.value.message_dict["original"] == [
        f"{test_alarm.reference} was dismissed (Our own phishing exercise.): merge into an "
        "incident that is a breach, or assess this one on its own."
    ]
    assert Incident.objects.get(pk=breach.pk).state == "detected"


@pytest.mark.django_db
def test_a_siem_logging_different_breaches_gets_no_merge_hints(client, security):
    client.force_login(security)
    for number, title in enumerate(["Ransomware on file server", "Phishing wave", "DDoS"]):
        page = client.post(
            "/incidents/new/", form(title=title, submission=f"s{number}"), follow=True
        )
        assert "A similar incident" not in page.content.decode(), title
        assert '<li class="success">' in page.content.decode()
