"""Sending one message: back-off between tries, when a refusal is final, which channel comes
next, and provider statuses that touch only their own message."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings

from incidents import workflow
from notifications.backends import TransportError
from notifications.models import Message
from notifications.sending import backoff, record_refusal, update_status
from notifications.texts import ack_token, read_ack_token

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


@pytest.fixture
def logged(security, manager, dpo, django_capture_on_commit_callbacks):
    with time_machine.travel(T0, tick=False), django_capture_on_commit_callbacks(execute=True):
        return workflow.log_incident(security, title="Lek", description="d")


def test_tries_are_spaced_30_60_120_seconds_and_at_most_ten_minutes():
    waits = [backoff(attempts).total_seconds() for attempts in [0, 1, 2, 3, 4, 5, 6, 10]]
    assert waits == [30, 30, 60, 120, 240, 480, 600, 600]


def test_a_first_temporary_refusal_reaches_the_person_on_the_next_channel_at_once(logged):
    """Twilio unreachable: the SMS is retried later, and the call goes now (issue 23: nobody
    was reached for 210 s)."""
    sms = Message.objects.filter(channel="sms").first()
    Message.objects.filter(pk=sms.pk).update(attempts=1)
    sms.refresh_from_db()
    assert record_refusal(sms, TransportError("Twilio unreachable: ConnectTimeout")) == "queued"
    call = Message.objects.get(fallback_for=sms)
    assert (call.channel, call.recipient, call.status) == ("call", sms.recipient, "queued")
    sms.refresh_from_db()
    assert sms.status == "queued" and sms.next_attempt_at is not None  # still retried


def test_a_temporary_refusal_is_retried_until_the_last_try_then_falls_back(logged, caplog):
    sms = Message.objects.filter(channel="sms").first()
    Message.objects.filter(pk=sms.pk).update(attempts=settings.MESSAGE_MAX_ATTEMPTS - 1)
    sms.refresh_from_db()
    assert record_refusal(sms, TransportError("Twilio 503 20500: busy")) == "queued"
    sms.refresh_from_db()
    assert sms.error == "Twilio 503 20500: busy" and sms.next_attempt_at is not None
    Message.objects.filter(pk=sms.pk).update(attempts=settings.MESSAGE_MAX_ATTEMPTS)
    sms.refresh_from_db()
    assert record_refusal(sms, TransportError("Twilio 503 20500: busy")) == "failed"
    assert Message.objects.get(fallback_for=sms).channel == "call"
    assert f"message {sms.pk} failed for good: Twilio 503 20500: busy" in caplog.text


def test_a_bounced_e_mail_is_the_last_channel_no_other_message_follows(logged):
    email = Message.objects.filter(channel="email").first()
    Message.objects.filter(pk=email.pk).update(status="sent")
    email.refresh_from_db()
    before = Message.objects.count()
    update_status(email, Message.Status.BOUNCED, "550 no such mailbox")
    assert Message.objects.get(pk=email.pk).status == "bounced"
    assert Message.objects.count() == before


def test_a_failed_sms_falls_back_to_what_this_person_has_not_had_in_this_step(logged, manager):
    """The first alert sends SMS and e-mail: a failed SMS brings a call, not a second e-mail.
    A call the person had for another step does not count."""
    first_sms = Message.objects.get(channel="sms", recipient=manager)
    other_step = Message.objects.create(
        incident=logged, recipient=manager, channel="call", to=manager.phone, text="x"
    )  # a call to the same person outside this step
    Message.objects.filter(pk=first_sms.pk).update(status="sent")
    first_sms.refresh_from_db()
    update_status(first_sms, Message.Status.UNDELIVERED, "30003")
    fallback = Message.objects.get(fallback_for=first_sms)
    assert (fallback.channel, fallback.recipient, fallback.firing) == (
        "call",
        manager,
        first_sms.firing,
    )
    assert other_step.pk != fallback.pk
    # Its call failing too: the e-mail of this step is already there, so nothing more.
    Message.objects.filter(pk=fallback.pk).update(status="sent")
    fallback.refresh_from_db()
    update_status(fallback, Message.Status.FAILED, "no answer")
    assert not Message.objects.filter(fallback_for=fallback).exists()


def test_a_failed_sms_of_one_person_does_not_count_the_others_calls(logged, manager, security):
    sms = Message.objects.get(channel="sms", recipient=manager)
    Message.objects.create(
        incident=logged,
        firing=sms.firing,
        recipient=security,
        channel="call",
        to=security.phone,
        text="x",
    )
    Message.objects.filter(pk=sms.pk).update(status="sent")
    sms.refresh_from_db()
    update_status(sms, Message.Status.FAILED, "30003")
    assert Message.objects.get(fallback_for=sms).channel == "call"


def test_a_status_changes_only_its_own_message(logged):
    sent = list(Message.objects.filter(channel="sms"))
    Message.objects.filter(pk__in=[m.pk for m in sent]).update(status="sent")
    one = Message.objects.get(pk=sent[0].pk)
    update_status(one, Message.Status.DELIVERED)
    statuses = dict(Message.objects.filter(channel="sms").values_list("pk", "status"))
    assert statuses == {sent[0].pk: "delivered", sent[1].pk: "sent"}
    delivered = Message.objects.get(pk=sent[0].pk)
    assert delivered.error == "" and delivered.delivered_at is not None


def test_an_acknowledgement_link_works_until_exactly_its_age_limit(logged, manager):
    firing = Message.objects.filter(recipient=manager).first().firing
    token = ack_token(firing, manager, now=T0)
    limit = T0 + settings.ACK_LINK_MAX_AGE
    assert read_ack_token(token, now=limit) == (firing.pk, manager.pk)
    with pytest.raises(Exception, match="expired"):
        read_ack_token(token, now=limit + timedelta(seconds=1))


class BrokenBackend:
    """A channel whose library fails in a way nobody foresaw."""

    def send(self, message):
        raise RuntimeError("socket closed by the library")


def test_an_unforeseen_error_of_a_channel_is_a_temporary_failure_of_that_message(
    logged, settings, caplog
):
    from notifications.sending import send_message

    settings.SMS_BACKEND = "tests.test_sending.BrokenBackend"
    sms = Message.objects.filter(channel="sms").first()
    Message.objects.filter(pk=sms.pk).update(status="queued", attempts=0)
    assert send_message(sms.pk) == "queued"
    sms.refresh_from_db()
    assert sms.error == "RuntimeError: socket closed by the library" and sms.attempts == 1
    assert f"message {sms.pk}: unexpected error from its channel" in caplog.text


def test_the_dispatcher_retries_a_message_only_once_its_wait_is_over(logged):
    """A message waiting out its back-off is left alone until then, however old; a message
    queued moments ago is left to the send task already on its way, until that is overdue."""
    from notifications.escalation import messages_to_retry

    waiting, fresh = Message.objects.filter(channel="sms")[:2]
    Message.objects.filter(pk=waiting.pk).update(
        status="queued", created_at=T0 - timedelta(hours=1), next_attempt_at=T0 + timedelta(1)
    )
    Message.objects.filter(pk=fresh.pk).update(status="queued", created_at=T0, next_attempt_at=None)
    assert messages_to_retry(T0) == []
    later = T0 + settings.MESSAGE_SEND_TIMEOUT + timedelta(seconds=1)
    assert messages_to_retry(later) == [fresh.pk]
    assert sorted(messages_to_retry(T0 + timedelta(1))) == sorted([waiting.pk, fresh.pk])


def test_a_send_hung_for_good_fails_alone_and_one_hung_once_is_tried_again(logged):
    """Sends left 'sending' by a killed worker: the one out of tries fails (and falls back),
    the other is queued again, marked as possibly sent twice; a send in progress is left be."""
    from notifications.escalation import messages_to_retry

    out_of_tries, hung_once = Message.objects.filter(channel="sms")[:2]
    in_progress = Message.objects.filter(channel="email").first()
    long_ago = T0 - settings.MESSAGE_SEND_TIMEOUT - timedelta(minutes=1)
    Message.objects.filter(pk=out_of_tries.pk).update(
        status="sending", claimed_at=long_ago, attempts=settings.MESSAGE_MAX_ATTEMPTS
    )
    Message.objects.filter(pk=hung_once.pk).update(status="sending", claimed_at=long_ago)
    Message.objects.filter(pk=in_progress.pk).update(status="sending", claimed_at=T0)

    assert messages_to_retry(T0) == [hung_once.pk]
    states = {
        m.pk: (m.status, m.possibly_twice)
        for m in Message.objects.filter(pk__in=[out_of_tries.pk, hung_once.pk, in_progress.pk])
    }
    assert states == {
        out_of_tries.pk: ("failed", False),
        hung_once.pk: ("queued", True),
        in_progress.pk: ("sending", False),
    }
    assert Message.objects.get(fallback_for=out_of_tries).channel == "call"


def test_a_failed_sms_skips_the_call_this_step_already_made_and_sends_an_e_mail(
    security, manager, dpo, django_capture_on_commit_callbacks
):
    """A step that pages by SMS and calls at once, without e-mail: when the SMS fails, the
    person already had the call, so the e-mail comes next, not nothing."""
    from notifications.models import EscalationStep

    EscalationStep.objects.filter(position=1).update(call=True, email=False)
    with time_machine.travel(T0, tick=False), django_capture_on_commit_callbacks(execute=True):
        incident = workflow.log_incident(security, title="Lek", description="d")
    sms = Message.objects.get(incident=incident, channel="sms", recipient=manager)
    assert Message.objects.filter(firing=sms.firing, recipient=manager, channel="call").exists()
    Message.objects.filter(pk=sms.pk).update(status="sent")
    sms.refresh_from_db()
    update_status(sms, Message.Status.UNDELIVERED, "30003")
    fallback = Message.objects.get(fallback_for=sms)
    assert (fallback.channel, fallback.recipient, fallback.to) == ("email", manager, manager.email)


def test_two_callbacks_at_once_a_failure_read_before_the_delivery_does_not_undo_it(logged):
    """Two provider callbacks for one SMS handled side by side: both read it as `sent`; the
    delivery is written first. The failure, decided on what it read, changes nothing and
    calls nobody: the message was delivered."""
    sms = Message.objects.filter(channel="sms").first()
    Message.objects.filter(pk=sms.pk).update(status="sent")
    read_by_one, read_by_other = (Message.objects.get(pk=sms.pk) for _ in range(2))
    update_status(read_by_one, Message.Status.DELIVERED)
    update_status(read_by_other, Message.Status.FAILED, "30008")
    sms.refresh_from_db()
    assert (sms.status, sms.error) == ("delivered", "")
    assert not Message.objects.filter(fallback_for=sms).exists()


class FlakyBackend:
    """A channel that refuses a message's first try and accepts the next."""

    def send(self, message):
        if message.attempts == 1:
            raise TransportError("Twilio 503 20500: busy")
        return f"SM{message.pk}"


def test_a_send_is_claimed_once_recorded_alone_and_a_later_success_clears_the_error(
    logged, settings
):
    """The claim stamps the time a worker took the message (a worker killed after it is
    found by that time); only the message sent is marked sent, its earlier error cleared;
    a message sent once is never sent again."""
    from notifications.escalation import messages_to_retry
    from notifications.sending import send_message

    settings.SMS_BACKEND = "tests.test_sending.FlakyBackend"
    sms, other = Message.objects.filter(channel="sms")[:2]
    Message.objects.filter(pk=sms.pk).update(status="queued", attempts=0)
    Message.objects.filter(pk=other.pk).update(status="sending", claimed_at=T0)  # in progress
    now = T0 + timedelta(minutes=1)
    with time_machine.travel(now, tick=False):
        assert send_message(sms.pk) == "queued"  # refused for now
        Message.objects.filter(pk=sms.pk).update(next_attempt_at=None)
        assert send_message(sms.pk) == "sent"
    sms.refresh_from_db()
    assert (sms.status, sms.error, sms.provider_id, sms.attempts) == ("sent", "", f"SM{sms.pk}", 2)
    assert sms.claimed_at == now and sms.sent_at == now
    assert Message.objects.get(pk=other.pk).status == "sending"  # not touched by sms's record
    assert send_message(sms.pk) is None  # sent once: never claimed again
    assert Message.objects.get(pk=sms.pk).attempts == 2
    # A worker that claimed a message and died: found once its claim is too old.
    Message.objects.filter(pk=sms.pk).update(status="queued")
    settings.SMS_BACKEND = "tests.test_sending.BrokenBackend"
    with time_machine.travel(now, tick=False):
        send_message(sms.pk)
    Message.objects.filter(pk=sms.pk).update(status="sending")  # as if killed mid-send
    assert Message.objects.get(pk=sms.pk).claimed_at == now
    assert sms.pk in messages_to_retry(now + settings.MESSAGE_SEND_TIMEOUT + timedelta(seconds=1))


class HangingBackend:
    """A provider that answers only after the send timed out: meanwhile the dispatcher found
    the send hung and gave it up (queued again, or failed for good with the next channel)."""

    def send(self, message):
        from notifications.escalation import messages_to_retry

        messages_to_retry(message.claimed_at + settings.MESSAGE_SEND_TIMEOUT + timedelta(seconds=1))
        return f"SM{message.pk}late"


@pytest.mark.parametrize(
    ("last_try", "after"), [(False, ("queued", True, "")), (True, ("failed", False, ""))]
)
def test_a_late_answer_to_a_send_given_up_does_not_rewrite_what_was_decided(
    logged, settings, last_try, after
):
    """Once a hung send is given up, what the pages and the trail show stands: the message
    goes again, marked as possibly sent twice, or it failed and the next channel went (the
    worker that hung no longer holds it, so its late answer records nothing)."""
    from notifications.sending import send_message

    settings.SMS_BACKEND = "tests.test_sending.HangingBackend"
    sms = Message.objects.filter(channel="sms").first()
    tries_before = settings.MESSAGE_MAX_ATTEMPTS - 1 if last_try else 0
    Message.objects.filter(pk=sms.pk).update(status="queued", attempts=tries_before, provider_id="")
    with time_machine.travel(T0 + timedelta(minutes=1), tick=False):
        send_message(sms.pk)
    sms.refresh_from_db()
    assert (sms.status, sms.possibly_twice, sms.provider_id) == after
    assert Message.objects.filter(fallback_for=sms).exists() == (after[0] == "failed")


def test_an_e_mail_that_django_refuses_to_build_fails_for_good_without_retrying(logged):
    """A header Django refuses (a line break in the subject) cannot be fixed by trying again."""
    from notifications.sending import send_message

    email = Message.objects.filter(channel="email").first()
    Message.objects.filter(pk=email.pk).update(status="queued", attempts=0, subject="Lek\nBcc: x")
    assert send_message(email.pk) == "failed"
    email.refresh_from_db()
    assert email.status == "failed"
    assert email.error.startswith("BadHeaderError: Header values can't contain newlines")
