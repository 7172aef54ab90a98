"""Storm control: at most one page per person and channel a minute (PAGE_MIN_INTERVAL); what
comes sooner is held and goes out gathered into the next page ("+4 more"), one tap
acknowledges all it stood for, and a deadline moment is never held."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from incidents import workflow
from notifications.acknowledgements import acknowledge
from notifications.models import EscalationStep, Firing, Message
from notifications.tasks import dispatch
from notifications.texts import is_gsm7

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
S, M = timedelta(seconds=1), timedelta(minutes=1)


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def log(clock, security, manager, dpo, channels, django_capture_on_commit_callbacks):
    def logged(title, after=timedelta(0)):
        clock.move_to(T0 + after)
        with django_capture_on_commit_callbacks(execute=True):
            return workflow.log_incident(security, title=title, description="d")

    return logged


def went_out(**filters):
    """The pages that went out (not held, not gathered into another)."""
    return list(
        Message.objects.filter(firing__isnull=False, **filters)
        .exclude(status__in=Message.NOT_PAGES)
        .order_by("id")
    )


def listed(message):
    return sorted({f.incident.reference for f in [message.firing, *message.also_for.all()]})


def link_of(message):
    return re.search(r"https://\S+/ack/\S+/", message.text).group(0)


def test_a_burst_pages_each_person_once_a_minute_and_every_incident_is_in_one_page(
    log, clock, manager, client
):
    incidents = [log(f"SIEM alert {n}", after=n * S) for n in range(10)]
    references = [incident.reference for incident in incidents]

    (first,) = went_out(recipient=manager, channel="sms")
    assert listed(first) == [references[0]] and first.created_at == T0
    held = Message.objects.filter(recipient=manager, channel="sms", status="held")
    assert held.count() == 9
    assert set(held.values_list("next_attempt_at", flat=True)) == {T0 + M}
    assert len(went_out(recipient=manager, channel="email")) == 1

    clock.move_to(T0 + M - S)
    dispatch()
    assert len(went_out(recipient=manager, channel="sms")) == 1  # not a second early

    clock.move_to(T0 + M)
    dispatch()
    first_again, digest = went_out(recipient=manager, channel="sms")
    assert first_again == first and digest.released_at == T0 + M and digest.status == "sent"
    assert listed(digest) == sorted(references[1:])
    named = ", ".join(references[1:6])
    assert digest.text == (
        f"9 breaches: New data breach: {named} (deadline 26/11 10:00). "
        f"+4 more. All, and OK for all: {link_of(digest)}"
    )
    assert is_gsm7(digest.text) and len(digest.text) <= 2 * 153
    assert set(
        Message.objects.filter(recipient=manager, channel="sms")
        .exclude(pk__in=[first.pk, digest.pk])
        .values_list("status", "gathered_into", "next_attempt_at")
    ) == {("gathered", digest.pk, None)}
    (mail_digest,) = went_out(recipient=manager, channel="email")[1:]
    assert listed(mail_digest) == sorted(references[1:])
    assert mail_digest.subject.startswith("[Breach desk] 9 breaches:")
    assert all(reference in mail_digest.text for reference in references[1:])

    # The link lists all nine; one tap acknowledges them all.
    path = link_of(digest).removeprefix("https://breachdesk.example")
    listing = client.get(path).text
    assert all(reference in listing for reference in references[1:])
    # The one tap comes before the nine incidents, not after them all.
    assert listing.index('type="submit"') < listing.index('<section class="ack-incident">')
    client.post(path)
    acknowledged = {
        incident.pk
        for incident in incidents
        if incident.acknowledgements.filter(user=manager, step__position=1).exists()
    }
    assert acknowledged == {incident.pk for incident in incidents[1:]}

    clock.move_to(T0 + 2 * M)
    dispatch()
    assert len(went_out(recipient=manager, channel="sms")) == 2  # nothing left held


def test_a_page_after_the_interval_goes_at_once(log, manager):
    log("Eerste")
    log("Tweede", after=M)
    assert [listed(m) for m in went_out(recipient=manager, channel="sms")] == [
        ["INC-2026-0001"],
        ["INC-2026-0002"],
    ]
    assert not Message.objects.filter(status="held").exists()


def test_the_interval_is_a_setting_per_channel(log, manager, settings):
    settings.PAGE_MIN_INTERVAL = {"sms": 5 * S, "call": M, "email": 0 * S}
    log("Eerste")
    log("Tweede", after=2 * S)
    log("Derde", after=5 * S)
    assert [listed(m) for m in went_out(recipient=manager, channel="sms")] == [
        ["INC-2026-0001"],
        ["INC-2026-0002", "INC-2026-0003"],  # the held one goes with the next
    ]
    assert len(went_out(recipient=manager, channel="email")) == 3


def test_a_deadline_moment_is_never_held_and_takes_in_what_was_held(log, clock, manager):
    log("Eerste")
    second = log("Tweede", after=10 * S)
    assert Message.objects.filter(recipient=manager, channel="sms", status="held").count() == 1
    overdue = Firing.objects.get(incident=second, step__position=5, repetition=0)
    Firing.objects.filter(pk=overdue.pk).update(due_at=T0 + 30 * S)

    clock.move_to(T0 + 30 * S)
    dispatch()
    first_page, deadline_page = went_out(recipient=manager, channel="sms")
    assert deadline_page.firing_id == overdue.pk and deadline_page.created_at == T0 + 30 * S
    assert deadline_page.text.startswith(
        "OVERDUE: controller not notified + New data breach INC-2026-0002: Tweede."
    )
    assert Message.objects.get(
        recipient=manager, channel="sms", status="gathered"
    ).gathered_into == (deadline_page)
    # Its call and e-mail too, whatever the pages of the last minute.
    assert len(went_out(recipient=manager, channel="call", firing=overdue)) == 1
    assert len(went_out(recipient=manager, channel="email", firing=overdue)) == 1

    clock.move_to(T0 + M)
    dispatch()
    assert len(went_out(recipient=manager, channel="sms")) == 2  # the held page went with it


def test_a_held_page_acknowledged_before_its_turn_is_not_sent(log, clock, manager, security):
    log("Eerste")
    second = log("Tweede", after=10 * S)
    step1 = EscalationStep.objects.get(policy__is_active=True, position=1)
    acknowledge(second, step1, security, "web")

    clock.move_to(T0 + M)
    dispatch()
    assert len(went_out(recipient=manager, channel="sms")) == 1
    assert set(
        Message.objects.filter(recipient=manager, incident=second).values_list("status", flat=True)
    ) == {"not_needed"}


def test_held_calls_go_out_as_one_call_a_minute(log, clock, manager):
    incidents = [log(f"Ransomware {n}", after=n * S) for n in range(3)]
    step4 = EscalationStep.objects.get(policy__is_active=True, position=4)
    for n, incident in enumerate(incidents):  # their follow-up calls, 20 s apart
        Firing.objects.create(
            incident=incident, step=step4, phase="call", due_at=T0 + 10 * M + 20 * n * S
        )
    for moment in (10 * M, 10 * M + 20 * S, 10 * M + 40 * S, 11 * M):
        clock.move_to(T0 + moment)
        dispatch()
    first, second = went_out(recipient=manager, channel="call")
    assert (first.created_at, listed(first)) == (T0 + 10 * M, [incidents[0].reference])
    assert (second.released_at, listed(second)) == (
        T0 + 11 * M,
        sorted(i.reference for i in incidents[1:]),
    )
    assert second.text.startswith("Breach desk of Conitro. 2 breaches. ")


def test_an_sms_reply_acknowledges_the_page_that_went_out_not_one_still_held(log, clock, manager):
    from notifications.acknowledgements import acknowledge_reply

    first = log("Eerste")
    second = log("Tweede", after=10 * S)
    made = acknowledge_reply(manager.phone, "ACK")
    assert [a.incident for a in made] == [first]
    assert not second.acknowledgements.exists()


def test_the_ack_page_says_how_long_is_left_who_else_was_paged_and_who_acknowledged(
    log, clock, manager, client
):
    incident = log("Klantendatabank gelekt")
    (sms,) = went_out(recipient=manager, channel="sms")
    path = link_of(sms).removeprefix("https://breachdesk.example")
    clock.move_to(T0 + 5 * M)
    page = client.get(path).text
    assert "Deadline 26/11/2026 10:00 CET (in 23 hours)" in page
    assert "Also paged: Security" in page  # the officer who logged it; not the manager
    assert 'type="submit"' in page
    client.post(path)
    clock.move_to(T0 + 24 * 60 * M + 30 * S)
    page = client.get(path).text
    assert "Overdue since 26/11/2026 10:00 CET (30 seconds ago)" in page
    assert "Already acknowledged by Manager at 25/11 10:05 CET (link)." in page
    assert 'type="submit"' not in page
    assert incident.acknowledgements.get().user == manager


def test_the_incident_page_and_the_dashboard_show_a_page_that_was_a_digest(
    log, clock, client, manager
):
    incidents = [log(f"SIEM alert {n}", after=n * S) for n in range(8)]
    clock.move_to(T0 + M)
    dispatch()
    (_first, digest) = went_out(recipient=manager, channel="sms")
    client.force_login(manager)
    held = Message.objects.get(recipient=manager, channel="sms", incident=incidents[7])
    page = client.get(f"/incidents/{incidents[7].pk}/").content.decode()
    assert "sent within a later page" in page and "went out in the page of 10:01:00" in page
    others = ", ".join(i.reference for i in incidents[1:6])
    assert f"in one page with {others} and 1 more" in page
    assert held.gathered_into == digest
    rows = re.findall(r"<tr.*?</tr>", client.get("/").content.decode(), re.S)
    flagged = sorted(
        i.reference
        for i in incidents
        if any(i.reference in r and "paged in a digest" in r for r in rows)
    )
    assert flagged == sorted(i.reference for i in incidents[1:])


def test_a_retry_says_what_is_true_when_it_goes_out(log, clock, manager, channels):
    """Refused at first (Twilio down), the SMS is tried again 40 s after the deadline: it says
    "Overdue since", not the "in 20 sec." it said before."""
    from notifications.sending import send_message

    incident = log("Klantendatabank gelekt")
    step2 = Firing.objects.get(incident=incident, step__position=2, repetition=0)
    pending = Firing.objects.filter(incident=incident, fired_at=None)
    pending.exclude(pk=step2.pk).update(due_at=T0 + 48 * 60 * M)  # out of the way
    Firing.objects.filter(pk=step2.pk).update(due_at=T0 + 24 * 60 * M - 20 * S)
    clock.move_to(T0 + 24 * 60 * M - 20 * S)
    dispatch()
    (sms,) = went_out(recipient=manager, channel="sms", firing=step2)
    assert "Deadline 26/11 10:00 (in 20 sec.)." in sms.text
    Message.objects.filter(pk=sms.pk).update(status="queued", attempts=1)
    clock.move_to(T0 + 24 * 60 * M + 40 * S)
    assert send_message(sms.pk) == "sent"
    sms.refresh_from_db()
    assert "Overdue since 26/11 10:00. OK: " in sms.text and channels[-1].text == sms.text
