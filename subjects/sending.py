"""Handing a communication to the mail provider: every recipient exactly once.

Recipients are claimed in batches (one language, at most SUBJECTS_BATCH_SIZE: SendGrid takes
1,000 personalisations per request) under the communication's row lock, so two workers never
take the same ones. A batch claimed is `sending`; the provider's answer makes it `accepted`.
If a worker dies between the two, or the request times out without an answer, nobody knows
whether the provider took the batch: its recipients become `uncertain` and are never sent again
on their own. The provider's events (each message carries its recipient's id) settle them as
delivered or bounced; a person may send what is still uncertain after an hour again, knowingly.
A 5xx answer means the provider took nothing: the batch goes back to waiting.

With a back end that cannot send one message per person in one request (SMTP, the console,
tests' memory), each person gets their own message: never one message with everyone in "To".
"""

import logging
from datetime import timedelta

from anymail.backends.base import AnymailBaseBackend
from anymail.exceptions import AnymailAPIError, AnymailError
from anymail.message import AnymailMessage
from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import Count, Max
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_q.models import Schedule
from django_q.tasks import schedule

from .models import Communication, Recipient
from .texts import GREETING, greeting, message

logger = logging.getLogger(__name__)
Status = Recipient.Status
AGAIN_AFTER = timedelta(hours=1)  # uncertain this long without any event: may go again
RETRY_AFTER = timedelta(minutes=1)  # the provider answered 5xx or 429: nothing was taken


def claim(communication_id, now=None):
    """The next batch for this worker (a list of recipients of one language), or []."""
    now = now or timezone.now()
    with transaction.atomic():
        communication = Communication.objects.select_for_update().get(pk=communication_id)
        if communication.status != Communication.Status.SENDING:
            return []
        waiting = communication.recipients.filter(status=Status.PENDING)
        first = waiting.order_by("language", "pk").values_list("language", flat=True).first()
        if first is None:
            return []
        ids = list(
            waiting.filter(language=first)
            .order_by("pk")
            .values_list("pk", flat=True)[: settings.SUBJECTS_BATCH_SIZE]
        )
        number = (communication.recipients.aggregate(last=Max("batch"))["last"] or 0) + 1
        Recipient.objects.filter(pk__in=ids, status=Status.PENDING).update(
            status=Status.SENDING, batch=number, claimed_at=now
        )
    return list(Recipient.objects.filter(pk__in=ids).select_related("communication__controller"))


def batch_capable(connection):
    return isinstance(connection, AnymailBaseBackend)


def hand_over(communication, recipients, connection=None):
    """Send one claimed batch; each recipient ends accepted, failed, waiting or uncertain."""
    connection = connection or get_connection()
    language = recipients[0].language
    subject, body = message(communication, language)
    ids = [r.pk for r in recipients]
    if batch_capable(connection):
        email = AnymailMessage(
            subject,
            body,
            to=[r.email for r in recipients],
            connection=connection,
            merge_data={r.email: {"greeting": greeting(r.name, language)} for r in recipients},
            merge_metadata={r.email: {"recipient": str(r.pk)} for r in recipients},
            metadata={"communication": str(communication.pk)},
            esp_extra={"merge_field_format": "-{}-"},
        )
        try:
            email.send()
        except AnymailAPIError as error:
            code = getattr(error, "status_code", None)
            # The counts and the status code only: the provider's answer may quote addresses.
            logger.warning(
                "communication %s: a batch of %s (%s) not taken: %s",
                communication.pk,
                len(ids),
                language,
                code or "no answer",
            )
            if code is None:  # no answer: the provider may have taken it
                settle(ids, Status.UNCERTAIN, "no answer from the mail provider")
            elif code >= 500 or code == 429:
                settle(ids, Status.PENDING, f"mail provider {code}: tried again")
                return False
            else:
                settle(ids, Status.FAILED, f"refused by the mail provider ({code})")
            return
        except (AnymailError, OSError) as error:
            logger.warning(
                "communication %s: a batch of %s (%s) without an answer: %s",
                communication.pk,
                len(ids),
                language,
                type(error).__name__,
            )
            settle(ids, Status.UNCERTAIN, "no answer from the mail provider")
            return
        settle(ids, Status.ACCEPTED)
        return
    for recipient in recipients:  # one message each: nobody sees another's address
        own = body.replace(GREETING, greeting(recipient.name, language), 1)
        EmailMessage(subject, own, to=[recipient.email], connection=connection).send()
        settle([recipient.pk], Status.ACCEPTED)


def settle(ids, status, error=""):
    Recipient.objects.filter(pk__in=ids, status=Status.SENDING).update(
        status=status, error=error[:300], updated_at=timezone.now()
    )


def interrupted(communication_id, now=None):
    """Batches claimed longer ago than a worker takes: their worker died. Uncertain."""
    now = now or timezone.now()
    return Recipient.objects.filter(
        communication_id=communication_id,
        status=Status.SENDING,
        claimed_at__lt=now - settings.SUBJECTS_CLAIM_STALE,
    ).update(status=Status.UNCERTAIN, error="the worker stopped while handing it over")


def again(communication_id, now=None):
    """A person's "send the uncertain ones again": those claimed over AGAIN_AFTER ago without
    any word from the provider wait again (some may get it twice: the person was told)."""
    now = now or timezone.now()
    with transaction.atomic():
        communication = Communication.objects.select_for_update().get(pk=communication_id)
        count = communication.recipients.filter(
            status=Status.UNCERTAIN, claimed_at__lt=now - AGAIN_AFTER
        ).update(status=Status.PENDING)
        if count:
            communication.status = Communication.Status.SENDING
            communication.save(update_fields=["status"])
    return count


def send_all(communication_id):
    """The task: hand every waiting recipient over, batch by batch; then finish."""
    interrupted(communication_id)
    connection = get_connection()
    communication = Communication.objects.select_related("controller").get(pk=communication_id)
    while batch := claim(communication_id):
        if hand_over(communication, batch, connection) is False:
            retry_later(communication_id)  # the provider is busy or down: in a minute
            return
    finish(communication_id)


def retry_later(communication_id):
    schedule(
        "subjects.sending.send_all",
        communication_id,
        schedule_type=Schedule.ONCE,
        next_run=timezone.now() + RETRY_AFTER,
        repeats=1,
    )


def counts(communication):
    rows = communication.recipients.values("status").annotate(n=Count("pk")).order_by()
    return {row["status"]: row["n"] for row in rows}


def finish(communication_id):
    """Nobody waiting or being handed over: the communication is sent, and the obligation to
    inform the data subjects for its controller is met (by whoever pressed Send)."""
    from incidents import workflow
    from incidents.models import Obligation

    with transaction.atomic():
        communication = Communication.objects.select_for_update().get(pk=communication_id)
        left = communication.recipients.filter(status__in=[Status.PENDING, Status.SENDING])
        if communication.status != Communication.Status.SENDING or left.exists():
            return False
        communication.status = Communication.Status.SENT
        communication.finished_at = timezone.now()
        communication.save(update_fields=["status", "finished_at"])
    told = communication.recipients.exclude(status=Status.FAILED).count()
    owed = communication.incident.obligations.filter(
        kind=Obligation.Kind.INFORM_SUBJECTS,
        controller=communication.controller,
        status=Obligation.Status.OPEN,
    )
    if owed.exists():
        sender = communication.sent_by
        with translation.override(sender.language or settings.LANGUAGE_CODE):
            how = _("E-mail to %(count)s people (communication %(number)s)") % {
                "count": told,
                "number": communication.pk,
            }
        workflow.transition(
            communication.incident_id,
            sender,
            "inform_subjects",
            how=how[:200],
            controllers=[communication.controller],
            delay_reason=communication.delay_reason,
        )
    return True
