"""One page per person per minute: pages of several incidents due for the same person within
PAGE_MERGE_WINDOW go out as one message listing each incident (a digest), up to
PAGE_DIGEST_MAX_INCIDENTS incidents a message; its link and an SMS reply acknowledge them."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from incidents import workflow
from notifications.acknowledgements import acknowledge_reply
from notifications.models import EscalationStep, Firing, Message
from notifications.tasks import dispatch
from notifications.texts import is_gsm7

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
H, S = timedelta(hours=1), timedelta(seconds=1)


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def log(clock, security, manager, dpo, django_capture_on_commit_callbacks):
    """Log an incident `after` T0, its first alert sent."""

    def logged(title, after=timedelta(0)):
        clock.move_to(T0 + after)
        with django_capture_on_commit_callbacks(execute=True):
            return workflow.log_incident(security, title=title, description="d")

    return logged


def step2(incident):
    """Step 2 (aware + 4 h, managers by SMS, until assessed), the first time."""
    return Firing.objects.get(incident=incident, step__position=2, repetition=0)


def pages_at(clock, moment, **filters):
    """The pages a dispatcher sends at `moment`, after the clock released at their time the
    first alerts that storm control held (incidents logged within a minute of each other)."""
    while held := Message.objects.filter(status="held", next_attempt_at__lt=moment).first():
        clock.move_to(held.next_attempt_at)
        dispatch()
    clock.move_to(moment)
    before = Message.objects.order_by("-id").values_list("id", flat=True).first() or 0
    dispatch()
    return list(Message.objects.filter(id__gt=before, **filters).order_by("id"))


def steps_2_and_3_due_at(moment, *incidents):
    """Step 2 (managers) and step 3 (managers and the DPO) of these incidents due together."""
    for incident in incidents:
        Firing.objects.filter(incident=incident, step__position__in=[2, 3], repetition=0).update(
            due_at=moment
        )


def two_incidents_paged_for_steps_2_and_3(log, clock, manager):
    """Two incidents 20 s apart whose steps 2 and 3 are due together: the manager's one SMS."""
    first = log("Klantendatabank gelekt")
    second = log("Laptop gestolen", after=20 * S)
    steps_2_and_3_due_at(T0 + 4 * H, first, second)
    (sms,) = pages_at(clock, T0 + 4 * H, recipient=manager, channel="sms")
    return first, second, sms


def listed(message):
    firings = [message.firing, *message.also_for.all()]
    return sorted({firing.incident.reference for firing in firings})


def test_a_digest_names_the_first_deadline_only_when_its_deadlines_differ(log, clock, manager):
    first = log("Klantendatabank gelekt", after=30 * S)  # deadline 26/11 10:00:30
    second = log("Laptop gestolen", after=70 * S)  # deadline 26/11 10:01:10, 40 s later
    sms = pages_at(clock, T0 + 4 * H + 30 * S, recipient=manager, channel="sms")
    assert len(sms) == 1 and listed(sms[0]) == [first.reference, second.reference]
    assert f"{second.reference} (first deadline 26/11 10:00). OK for all:" in sms[0].text


def test_two_incidents_due_within_a_minute_page_the_manager_once(log, clock, manager, client):
    first = log("Klantendatabank gelekt")
    second = log("Laptop gestolen", after=20 * S)
    assert step2(second).due_at == T0 + 4 * H + 20 * S

    sms = pages_at(clock, T0 + 4 * H, recipient=manager, channel="sms")
    assert len(sms) == 1 and listed(sms[0]) == [first.reference, second.reference]
    link = re.search(r"https://\S+/ack/\S+/", sms[0].text).group(0)
    assert sms[0].text == (
        f"2 breaches: Not assessed yet: {first.reference}, {second.reference} "
        f"(deadline 26/11 10:00). OK for all: {link}"
    )
    # Two SMS segments of 153 characters instead of two SMS a few seconds apart.
    assert is_gsm7(sms[0].text) and len(sms[0].text) <= 2 * 153
    # The second incident's page came 20 s early, with the first's: not again at its time.
    assert step2(second).fired_at == T0 + 4 * H
    assert pages_at(clock, T0 + 4 * H + 20 * S) == []

    # One tap on the link acknowledges both, each in its own timeline.
    page = client.get(link.removeprefix("https://breachdesk.example"))
    assert first.reference in page.text and second.reference in page.text
    assert "2 breaches" in page.text
    client.post(link.removeprefix("https://breachdesk.example"))
    for incident in (first, second):
        assert incident.acknowledgements.filter(user=manager, step__position=2).exists()
        assert incident.events.filter(kind="acknowledged", actor=manager).exists()

    # The second incident's page lists the digest, with the step it was paged for.
    client.force_login(manager)
    detail = client.get(f"/incidents/{second.pk}/").text
    assert f"in one page with {first.reference}" in detail


def test_the_email_and_the_call_of_a_digest_list_every_incident(log, clock, manager):
    first = log("Klantendatabank gelekt")
    second = log("Laptop gestolen", after=20 * S)
    for incident in (first, second):  # step 3 pages by SMS and e-mail: due with step 2
        Firing.objects.filter(incident=incident, step__position=3, repetition=0).update(
            due_at=T0 + 4 * H
        )
    email = pages_at(clock, T0 + 4 * H, recipient=manager, channel="email")
    assert len(email) == 1
    assert email[0].subject == (
        f"[Breach desk] 2 breaches: GBA not notified yet {first.reference}, "
        f"GBA not notified yet {second.reference}"
    )  # step 2 pages by SMS only: the e-mail is about step 3
    body = email[0].text
    assert body.startswith("2 breaches need you:\n\n")
    for incident in (first, second):
        assert f"{incident.reference} {incident.title}\nState: Detected\n" in body
        assert f"/incidents/{incident.pk}/" in body
    assert "Aware since: 25/11/2026 10:00 CET" in body
    assert re.search(r"Acknowledge all of them \(.*\): https://\S+/ack/\S+/$", body)

    call = Message(
        firing=email[0].firing, recipient=manager, channel="call", incident=email[0].incident
    )
    from notifications.escalation import build_message

    script = build_message(email[0].firing, manager, "call", also=email[0].also_for.all()).text
    assert script.startswith("Breach desk of Conitro. 2 breaches. ")
    assert script.count("The deadline is 26/11 10:00, in 20 hours.") == 2 and call.channel == "call"


def test_a_page_that_reaches_nobody_paged_now_keeps_its_time(log, clock, manager, dpo):
    """Only a page for someone paged now comes early: step 3 of the second incident, made to
    page the DPO alone, still fires at its own time while the managers get step 2."""
    first = log("Klantendatabank gelekt")
    second = log("Laptop gestolen")
    step3 = EscalationStep.objects.get(policy__is_active=True, position=3)
    step3.roles.set(step3.roles.filter(name="dpo"))
    Firing.objects.filter(incident=first, step__position=2).update(due_at=T0 + 4 * H)
    Firing.objects.filter(incident=second, step__position=2).update(due_at=T0 + 5 * H)
    Firing.objects.filter(incident=second, step__position=3, repetition=0).update(
        due_at=T0 + 4 * H + 30 * S
    )
    # A third incident's step 2, due after the DPO's page, still joins the managers' page.
    third = log("Phishing")
    Firing.objects.filter(incident=third, step__position=2).update(due_at=T0 + 4 * H + 40 * S)
    sms = pages_at(clock, T0 + 4 * H, channel="sms")
    assert [(m.recipient, listed(m)) for m in sms] == [
        (manager, sorted([first.reference, third.reference]))
    ]
    later = pages_at(clock, T0 + 4 * H + 30 * S, channel="sms")
    assert [(m.recipient, listed(m)) for m in later] == [(dpo, [second.reference])]


def test_a_page_names_five_incidents_and_says_how_many_more_it_stands_for(log, clock, manager):
    incidents = [log(f"Phishing {n}", after=n * S) for n in range(7)]
    (sms,) = pages_at(clock, T0 + 4 * H + 10 * S, recipient=manager, channel="sms")
    assert listed(sms) == sorted(i.reference for i in incidents)
    link = re.search(r"https://\S+/ack/\S+/", sms.text).group(0)
    named = ", ".join(i.reference for i in incidents[:5])
    assert sms.text == (
        f"7 breaches: Not assessed yet: {named} (deadline 26/11 10:00). "
        f"+2 more. All, and OK for all: {link}"
    )
    assert is_gsm7(sms.text) and len(sms.text) <= 2 * 153  # five references, not five titles


def test_an_sms_reply_acknowledges_the_whole_digest_or_the_incident_it_names(log, clock, manager):
    first = log("Klantendatabank gelekt")
    second = log("Laptop gestolen", after=20 * S)
    pages_at(clock, T0 + 4 * H, recipient=manager, channel="sms")

    made = acknowledge_reply(manager.phone, f"ACK {second.reference}")
    assert sorted((a.incident.pk, a.step.position) for a in made) == [(second.pk, 2)]
    assert not first.acknowledgements.filter(user=manager, step__position=2).exists()
    made = acknowledge_reply(manager.phone, "ack")
    assert sorted((a.incident.pk, a.step.position) for a in made) == [(first.pk, 2), (second.pk, 2)]
    assert first.acknowledgements.filter(user=manager, step__position=2).exists()


def test_a_person_acknowledges_only_what_their_own_page_listed(log, clock, manager, dpo, client):
    """Steps 2 (managers) and 3 (managers and the DPO) due together: the manager's SMS lists
    both, the DPO's only step 3, from the same firing. The DPO's tap acknowledges step 3 for
    them, never step 2, which nobody told them about."""
    incident = log("Klantendatabank gelekt")
    steps_2_and_3_due_at(T0 + 4 * H, incident)
    sms = {m.recipient: m for m in pages_at(clock, T0 + 4 * H, channel="sms")}
    assert sms[manager].firing == sms[dpo].firing  # step 3, the most urgent
    assert [f.step.position for f in sms[manager].also_for.all()] == [2]
    link = re.search(r"/ack/\S+/", sms[dpo].text).group(0)
    client.post(link)
    acknowledged = incident.acknowledgements.filter(user=dpo)
    assert sorted(acknowledged.values_list("step__position", flat=True)) == [3]


def test_a_full_page_brings_no_companion_it_keeps_its_time(log, clock, manager):
    """Five incidents fill the manager's page: a sixth, due 30 s later, is not brought
    early into a second page at the same moment; it goes out at its own time."""
    five = [log(f"Phishing {n}", after=n * S) for n in range(5)]
    sixth = log("Phishing 5", after=30 * S)
    sms = pages_at(clock, T0 + 4 * H + 4 * S, recipient=manager, channel="sms")
    assert [listed(m) for m in sms] == [sorted(i.reference for i in five)]
    assert step2(sixth).fired_at is None
    later = pages_at(clock, T0 + 4 * H + 30 * S, recipient=manager, channel="sms")
    assert [listed(m) for m in later] == [[sixth.reference]]


def test_a_page_reads_the_same_whatever_order_its_list_comes_in(log, clock, manager):
    """A fallback reads what a page listed back from the database, in no particular order:
    the steps still read most urgent first, the same in every incident, grouped once."""
    from notifications.escalation import build_message

    first, second, sms = two_incidents_paged_for_steps_2_and_3(log, clock, manager)
    listed_with = list(sms.also_for.order_by("pk"))  # step 2 before step 3
    again = build_message(sms.firing, manager, "sms", also=listed_with)
    assert again.text == sms.text
    assert sms.text.startswith(
        f"2 breaches: GBA not notified yet + Not assessed yet: {first.reference}, "
        f"{second.reference} "
    )


def test_the_page_of_a_digest_says_who_already_acknowledged_each_incident(
    log, clock, manager, make_user, client
):
    """Two managers paged for three incidents: the second acknowledges one by SMS; the first,
    opening their link, sees that under that incident only. Who acknowledged is read in one
    query, whatever the number of incidents listed."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    other = make_user("manager", "manager2")
    incidents = [log(f"Phishing {n}", after=n * S) for n in range(3)]
    sms = {m.recipient: m for m in pages_at(clock, T0 + 4 * H + 2 * S, channel="sms")}
    assert listed(sms[manager]) == listed(sms[other]) == sorted(i.reference for i in incidents)
    clock.move_to(T0 + 4 * H + 5 * 60 * S)
    acknowledge_reply(other.phone, f"ACK {incidents[1].reference}")

    link = re.search(r"/ack/\S+/", sms[manager].text).group(0)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(link).text
    read = [q["sql"] for q in queries if "notifications_acknowledgement" in q["sql"]]
    assert len(read) == 1
    said = re.findall(r"<li class=\"acknowledged\">([^<]*)</li>", page)
    assert said == ["Already acknowledged by Manager at 25/11 14:05 CET (SMS reply)."]
    # Under the second incident, not the first or the third.
    sections = page.split(incidents[1].reference)
    assert "Already acknowledged" not in sections[0]
    assert page.count("Already acknowledged") == 1


def test_a_french_digest_puts_a_space_before_each_colon(log, clock, manager):
    manager.language = "fr"
    manager.save()
    first = log("Klantendatabank gelekt")
    second = log("Laptop gestolen", after=20 * S)
    (sms,) = pages_at(clock, T0 + 4 * H, recipient=manager, channel="sms")
    link = sms.text.rsplit(" ", 1)[1]
    assert sms.text == (
        f"2 fuites de données : Pas encore évaluée : {first.reference}, {second.reference} "
        f"(échéance 26/11 10:00). OK pour tout : {link}"
    )


def test_a_digest_sms_that_fails_is_followed_by_a_call_listing_the_same_incidents(
    log, clock, manager
):
    from notifications.sending import update_status

    first = log("Klantendatabank gelekt")
    second = log("Laptop gestolen", after=20 * S)
    (sms,) = pages_at(clock, T0 + 4 * H, recipient=manager, channel="sms")
    Message.objects.filter(pk=sms.pk).update(status="sent")
    sms.refresh_from_db()
    update_status(sms, Message.Status.UNDELIVERED, "30003")
    call = Message.objects.get(fallback_for=sms)
    assert call.channel == "call"
    assert listed(call) == [first.reference, second.reference]
    assert call.text.startswith("Breach desk of Conitro. 2 breaches. ")
    assert call.text.count("The deadline is 26/11 10:00, in 20 hours.") == 2


def test_a_link_acknowledges_what_its_own_page_listed_not_a_later_page(log, clock, manager, client):
    """Two digests to the same manager an hour apart: the first one's link acknowledges its
    two incidents, not those of the second page."""
    early = [log("Phishing A"), log("Phishing B", after=10 * S)]
    late = [log("Phishing C", after=H), log("Phishing D", after=H + 10 * S)]
    (first,) = pages_at(clock, T0 + 4 * H + 10 * S, recipient=manager, channel="sms")
    (second,) = pages_at(clock, T0 + 5 * H + 10 * S, recipient=manager, channel="sms")
    assert listed(first) == sorted(i.reference for i in early)
    assert set(listed(second)) >= {i.reference for i in late}
    client.post(re.search(r"/ack/\S+/", first.text).group(0))
    acknowledged = {
        incident.reference
        for incident in early + late
        if incident.acknowledgements.filter(user=manager).exists()
    }
    assert acknowledged == {i.reference for i in early}


def test_the_page_of_a_digest_names_each_incidents_steps_most_urgent_first(
    log, clock, manager, client
):
    first, second, sms = two_incidents_paged_for_steps_2_and_3(log, clock, manager)
    page = client.get(re.search(r"/ack/\S+/", sms.text).group(0)).text
    steps = re.findall(r'<p class="step-name">(.*?)</p>', page)
    both = "<strong>GBA not notified yet</strong> + <strong>Not assessed yet</strong>"
    assert steps == [both, both]


def test_companions_fill_a_page_up_to_five_incidents_and_the_next_keeps_its_time(
    log, clock, manager
):
    """One incident due now, five more within the minute: four come early in the manager's
    page (five in all), the sixth pages at its own time."""
    incidents = [log(f"Phishing {n}", after=n * 10 * S) for n in range(6)]
    sms = pages_at(clock, T0 + 4 * H, recipient=manager, channel="sms")
    assert [listed(m) for m in sms] == [sorted(i.reference for i in incidents[:5])]
    assert step2(incidents[5]).fired_at is None
    later = pages_at(clock, T0 + 4 * H + 50 * S, recipient=manager, channel="sms")
    assert [listed(m) for m in later] == [[incidents[5].reference]]


def test_a_digest_says_which_of_its_pages_are_late(log, clock, manager):
    """The first incident's page is 3 minutes late (a dispatcher was down); the second, due
    20 s later, is on time: the SMS says so per group."""
    first = log("Klantendatabank gelekt")
    second = log("Laptop gestolen", after=20 * S)
    Firing.objects.filter(pk=step2(first).pk).update(due_at=T0 + 4 * H - 3 * 60 * S)
    (sms,) = pages_at(clock, T0 + 4 * H, recipient=manager, channel="sms")
    assert sms.text.startswith(
        f"2 breaches: Not assessed yet (late): {first.reference} (deadline 26/11 10:00); "
        f"Not assessed yet: {second.reference} (deadline 26/11 10:00). OK for all: "
    ), sms.text


def test_a_call_about_two_steps_of_one_incident_reads_both(log, clock, manager):
    incident = log("Klantendatabank gelekt")
    steps_2_and_3_due_at(T0 + 4 * H, incident)
    (sms,) = pages_at(clock, T0 + 4 * H, recipient=manager, channel="sms")
    from notifications.escalation import build_message

    call = build_message(sms.firing, manager, "call", also=list(sms.also_for.all())).text
    assert call.startswith(
        "Breach desk of Conitro. GBA not notified yet. Not assessed yet. Incident 2 0 2 6 - "
    ), call


def test_a_page_with_room_for_some_brings_those_due_soonest(log, clock, manager):
    """Room for four more incidents and six due within the minute: the four due soonest come
    along, whatever order they were logged in; the other two keep their own time."""
    now = log("Phishing now")
    soon = [log(f"Phishing {n}") for n in range(6)]
    for n, incident in enumerate(soon):  # logged first, due last
        Firing.objects.filter(pk=step2(incident).pk).update(due_at=T0 + 4 * H + (55 - 5 * n) * S)
    Firing.objects.filter(pk=step2(now).pk).update(due_at=T0 + 4 * H)
    (sms,) = pages_at(clock, T0 + 4 * H, recipient=manager, channel="sms")
    assert listed(sms) == sorted(i.reference for i in [now, *soon[2:]])
    assert [step2(i).fired_at for i in soon[:2]] == [None, None]


def test_a_dismissed_incident_takes_no_place_in_a_page(log, clock, manager):
    """A false alarm dismissed before its page is due is no companion: the page's five
    places go to incidents still open."""
    now = log("Phishing now")
    dismissed = log("False alarm")
    workflow.transition(dismissed.pk, manager, "dismiss", reason="Test e-mail, no breach.")
    others = [log(f"Phishing {n}") for n in range(4)]
    Firing.objects.filter(pk=step2(now).pk).update(due_at=T0 + 4 * H)
    Firing.objects.filter(pk=step2(dismissed).pk).update(due_at=T0 + 4 * H + 5 * S)
    for incident in others:
        Firing.objects.filter(pk=step2(incident).pk).update(due_at=T0 + 4 * H + 30 * S)
    (sms,) = pages_at(clock, T0 + 4 * H, recipient=manager, channel="sms")
    assert listed(sms) == sorted(i.reference for i in [now, *others])
    assert step2(dismissed).fired_at is None  # decided at its own time: nothing to page


def test_a_full_page_for_one_person_leaves_room_for_anothers_companions(
    clock, security, manager, settings, django_capture_on_commit_callbacks
):
    """Two incidents a page: the manager's fills up, but a page due 30 s later for the
    security officer alone still joins the officer's page, which has room."""
    settings.PAGE_DIGEST_MAX_INCIDENTS = 2
    step1 = EscalationStep.objects.get(policy__is_active=True, position=1)
    step2 = EscalationStep.objects.get(policy__is_active=True, position=2)
    officer_only = EscalationStep.objects.create(
        policy=step1.policy, position=99, anchor="aware", offset=timedelta(hours=30), sms=True
    )
    officer_only.roles.add(*step1.roles.filter(name="security"))
    later = [workflow.log_incident(security, title=f"B{n}", description="d") for n in range(3)]
    Firing.objects.filter(incident__in=later).delete()
    for incident, step, after in [
        (later[0], step2, 10 * S),  # the manager's: fills their page
        (later[1], step1, 20 * S),  # the officer's and the manager's: the manager is full
        (later[2], officer_only, 30 * S),  # the officer's alone: room on the officer's page
    ]:
        Firing.objects.create(incident=incident, step=step, due_at=T0 + after)
    with django_capture_on_commit_callbacks(execute=True):
        first = workflow.log_incident(security, title="A", description="d")
    (officer,) = Message.objects.filter(recipient=security, channel="sms")
    assert listed(officer) == sorted([first.reference, later[2].reference])
    (boss,) = Message.objects.filter(recipient=manager, channel="sms")
    assert listed(boss) == sorted([first.reference, later[0].reference])
