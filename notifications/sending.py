"""Send one message: claim it, hand it to its channel, record what the provider said.

A temporary refusal (HTTP 5xx, 429, a network error) is retried with back-off; a permanent one
(an invalid number, a refused address) is not, is shown in red on the incident, and the person
is tried on the next channel: SMS, then a call, then e-mail.
"""

import logging
import time
from datetime import timedelta

from anymail.exceptions import (
    AnymailAPIError,
    AnymailError,
    AnymailInvalidAddress,
)
from django.conf import settings
from django.core.mail import BadHeaderError, EmailMessage
from django.db import InterfaceError, OperationalError, connection
from django.db.models import F
from django.utils import timezone

from . import notices
from .backends import TransportError, backend_for
from .escalation import fall_back
from .models import Channel, Message
from .texts import written_again

logger = logging.getLogger(__name__)


def backoff(attempts):
    """30 s, 60 s, 120 s, … capped at 10 minutes."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 600))


def claim(message_id, now):
    """Compare-and-set queued -> sending; only one worker gets each message."""
    return Message.objects.filter(pk=message_id, status=Message.Status.QUEUED).update(
        status=Message.Status.SENDING, attempts=F("attempts") + 1, claimed_at=now
    )


def send_message(message_id):
    now = timezone.now()
    if not claim(message_id, now):
        return None
    # Only what every send needs: a notice's PDF (`document`) is read when it is attached.
    message = Message.objects.select_related("recipient").get(pk=message_id)
    if message.attempts > 1 and message.kind == Message.Kind.PAGE and message.firing_id:
        # A retry: what it says is written again for now ("overdue since", not "in 40 sec.").
        message.subject, message.text = written_again(message)
        Message.objects.filter(pk=message.pk).update(subject=message.subject, text=message.text)
    try:
        provider_id = deliver(message)
    except TransportError as error:
        return record_refusal(message, error)
    except (BadHeaderError, ValueError) as error:
        # The message itself cannot be sent (a header Django refuses): retrying cannot help.
        return record_refusal(message, TransportError(f"{type(error).__name__}: {error}", True))
    except Exception as error:  # noqa: BLE001 - one message's failure must not stop the others
        logger.exception("message %s: unexpected error from its channel", message.pk)
        return record_refusal(message, TransportError(f"{type(error).__name__}: {error}"))
    record_sent(message.pk, provider_id)
    if message.controller_id:
        notices.told_when_accepted(message.incident_id, Message.objects.get(pk=message.pk))
    return Message.Status.SENT


def record_sent(message_id, provider_id, tries=4):
    """The provider has the message: record it, reconnecting if the database connection was
    lost meanwhile. Left as `sending`, it would be reclaimed and sent a second time."""
    for attempt in range(tries):
        try:
            return Message.objects.filter(pk=message_id, status=Message.Status.SENDING).update(
                status=Message.Status.SENT,
                provider_id=provider_id or "",
                sent_at=timezone.now(),
                error="",
            )
        # Tested by losing a PostgreSQL connection (tests/test_lost_connections.py); `make
        # mutate` runs on SQLite, which cannot lose one.
        except (OperationalError, InterfaceError):  # pragma: no mutate block
            if attempt == tries - 1 or connection.in_atomic_block:
                raise
            logger.warning("message %s: connection lost while recording; reconnecting", message_id)
            connection.close()  # the next query opens a new connection
            time.sleep(0.25 * 2**attempt)


def deliver(message):
    if message.channel == Channel.EMAIL:
        return send_email(message)
    return backend_for(message.channel).send(message)


def send_email(message):
    email = EmailMessage(
        message.subject,
        message.text,
        settings.DEFAULT_FROM_EMAIL,
        [message.to],
        # A controller's answer to a notice goes to the DPO, not to the sending address.
        reply_to=[settings.ORGANISATION["dpo_email"]]
        if message.controller_id and settings.ORGANISATION.get("dpo_email")
        else None,
    )
    email.extra_headers["X-Breachdesk-Message"] = str(message.pk)
    if message.document_id:
        document = message.document
        email.attach(document.filename, bytes(document.content), "application/pdf")
    try:
        email.send()
    except AnymailInvalidAddress as error:
        # Trying again would not help. (Anymail's own text is about its parser, not the person.)
        # SendGrid answers a recipient it refuses with a 400: AnymailAPIError, below.
        raise TransportError(
            f"E-mail refused: {message.to} is not an e-mail address; correct the address.",
            permanent=True,
        ) from error
    except AnymailAPIError as error:
        status = getattr(error, "status_code", None) or 0
        raise TransportError(
            f"E-mail provider {status}: {error}", permanent=400 <= status < 500 and status != 429
        ) from error
    except (AnymailError, OSError) as error:
        raise TransportError(f"E-mail: {error}") from error
    status = getattr(email, "anymail_status", None)
    return (status.message_id if status else None) or f"email-{message.pk}"


def record_refusal(message, error):
    permanent = error.permanent or message.attempts >= settings.MESSAGE_MAX_ATTEMPTS
    if permanent:
        Message.objects.filter(pk=message.pk).update(status=Message.Status.FAILED, error=str(error))
        logger.warning("message %s failed for good: %s", message.pk, error)
        fall_back(message)
        return Message.Status.FAILED
    Message.objects.filter(pk=message.pk).update(
        status=Message.Status.QUEUED,
        error=str(error),
        next_attempt_at=timezone.now() + backoff(message.attempts),
        **({"possibly_twice": True} if error.maybe_taken else {}),
    )
    if message.attempts == 1:
        # The provider is down or busy: the person is reached on the next channel now, not
        # after the SMS's tries (30 + 60 + 120 s of silence); the SMS keeps being retried.
        fall_back(message)
    return Message.Status.QUEUED


# A later callback never takes a message back: a final status (delivered or a failure) stays.
RANK = {
    Message.Status.QUEUED: 0,
    Message.Status.SENDING: 1,
    Message.Status.SENT: 2,
    Message.Status.DELIVERED: 3,
    Message.Status.FAILED: 3,
    Message.Status.UNDELIVERED: 3,
    Message.Status.BOUNCED: 3,
}


def update_status(message, status, error=""):
    """Apply a provider's status; a failure sends the person the next channel."""
    if RANK[status] <= RANK[message.status]:
        return
    now = timezone.now()
    changes = {"status": status}
    if status == Message.Status.DELIVERED:
        changes["delivered_at"] = now
    if error:
        changes["error"] = error
    updated = Message.objects.filter(pk=message.pk, status=message.status).update(**changes)
    if updated and status in Message.FINAL_FAILURES:
        fall_back(message)
        if message.controller_id:
            notices.untold_when_bounced(message, error)
