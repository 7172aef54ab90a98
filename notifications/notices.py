"""Notices to the controllers (GDPR art. 33(2)): a letter per affected controller, in its
language, sent by e-mail and tracked like every other message.

A controller is told (its obligation met) when the provider accepted its notice, or when a
manager records another way it was done; the incident's state follows its obligations.
"""

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from incidents import workflow
from incidents.documents.facts import incident_digest
from incidents.documents.notice import notice_email
from incidents.documents.store import current_document
from incidents.models import Document, Incident, IncidentEvent, Obligation

from .models import Channel, Message
from .queue import enqueue

ACCEPTED = [Message.Status.SENT, Message.Status.DELIVERED]
TELL = Obligation.Kind.TELL_CONTROLLER


UPDATE = Obligation.Kind.UPDATE_CONTROLLER


def waiting_controllers(incident):
    """The controllers not told yet, and those told who are owed an update (the facts
    changed since their last letter): their letter is the notice, or its supplement."""
    waiting = incident.obligations.filter(kind__in=[TELL, UPDATE], status=Obligation.Status.OPEN)
    controllers = {o.controller_id: o.controller for o in waiting.select_related("controller")}
    return list(controllers.values())


def updates_owed_since(incident):
    """controller id -> when the update it is owed was opened."""
    return dict(
        incident.obligations.filter(kind=UPDATE, status=Obligation.Status.OPEN).values_list(
            "controller_id", "created_at"
        )
    )


def latest_notices(incident):
    """controller id -> its latest notice message."""
    notices = {}
    messages = incident.messages.filter(controller__isnull=False).select_related("document")
    for message in messages.defer("document__content").order_by("created_at", "id"):
        notices[message.controller_id] = message
    return notices


def check_may_send(incident, user):
    """Controllers are told whatever the GBA's state: before, during or after its filing."""
    if not user.has_perm("incidents.notify_incident"):
        raise PermissionDenied(_("Only managers and the DPO send notices to controllers."))
    dismissed_owing = incident.obligations.filter(kind=UPDATE, status=Obligation.Status.OPEN)
    if not (incident.is_open or dismissed_owing.exists()):
        raise workflow.TransitionRefused(incident, "notify_controller")
    if not incident.controllers.exists():
        raise ValidationError(
            _("Name the affected controllers first (when logging or in the assessment).")
        )


def send_notices(incident_id, user, delay_reason=""):
    """Send (or send again, after a failure) the notice of each controller not told yet.

    Nothing slow under a lock: the incident's row lock is held to decide who needs a letter and
    again to record the messages, never while the letters and e-mails are made (5,000 letters
    take minutes; on SQLite the lock is the whole database's). Two people pressing "send" at
    once take turns at the second lock: the second sees the first one's notices and records
    none of them again; a notice the provider accepted is never sent again. Facts changed while
    the letters were made: they are made again from the new facts.
    """
    for _attempt in range(3):
        with transaction.atomic():
            incident = Incident.objects.select_for_update().get(pk=incident_id)
            check_may_send(incident, user)
            check_delay_reason(incident, delay_reason)
            controllers = unsent_controllers(incident)
        digest = incident_digest(incident)
        letters = {
            controller.pk: (
                current_document(
                    incident,
                    Document.Kind.CONTROLLER_NOTICE,
                    controller.language,
                    user,
                    controller,
                    facts_digest=digest,
                ),
                *notice_email(incident, controller),
            )
            for controller in controllers
        }
        with transaction.atomic():
            incident = Incident.objects.select_for_update().get(pk=incident_id)
            check_may_send(incident, user)
            if incident_digest(incident) != digest:
                continue  # the facts changed while the letters were made: make them again
            started = timezone.now()  # before the messages: told_when_accepted looks it up
            queued = record_notices(incident, user, unsent_controllers(incident), letters)
            if queued:
                IncidentEvent.objects.create(
                    incident=incident,
                    actor=user,
                    at=started,
                    kind=IncidentEvent.Kind.NOTICE_SENT,
                    after={"controllers": sent_to(queued), "delay_reason": delay_reason.strip()},
                )
            enqueue_on_commit([message.pk for message in queued])
            return queued
    raise workflow.IncidentChanged(incident)


def check_delay_reason(incident, delay_reason):
    waiting = incident.obligations.filter(kind__in=[TELL, UPDATE], status=Obligation.Status.OPEN)
    if waiting.filter(deadline_at__lt=timezone.now()).exists() and not delay_reason.strip():
        raise ValidationError(
            {"delay_reason": _("The deadline has passed: give the reason for the delay.")}
        )


def unsent_controllers(incident):
    """The controllers waiting whose letter is neither on its way nor accepted: for an
    update, a letter sent since the update was owed."""
    previous = latest_notices(incident)
    owed_since = updates_owed_since(incident)
    untold = set(
        incident.obligations.filter(kind=TELL, status=Obligation.Status.OPEN).values_list(
            "controller_id", flat=True
        )
    )  # one query for 5,000 controllers, not one each

    def unsent(controller):
        message = previous.get(controller.pk)
        if message is None or message.status in Message.FINAL_FAILURES:
            return True
        since = owed_since.get(controller.pk)
        told = controller.pk not in untold
        return told and since is not None and message.created_at < since

    return [controller for controller in waiting_controllers(incident) if unsent(controller)]


def record_notices(incident, user, controllers, letters):
    """A message for each controller that still needs one and has its letter made."""
    return [
        Message.objects.create(
            kind=Message.Kind.NOTICE,
            incident=incident,
            controller=controller,
            document=letters[controller.pk][0],
            requested_by=user,
            channel=Channel.EMAIL,
            to=controller.email,
            subject=letters[controller.pk][1],
            text=letters[controller.pk][2],
        )
        for controller in controllers
        if controller.pk in letters
    ]


def sent_to(queued):
    """One event per sending, listing every notice (a platform breach sends 5,000)."""
    return {
        message.controller.name: {
            "to": message.to,
            "language": message.controller.language,
            "document_version": message.document.version,
        }
        for message in queued
    }


def enqueue_on_commit(ids):
    for start in range(0, len(ids), NOTICES_PER_TASK):
        chunk = ids[start : start + NOTICES_PER_TASK]
        transaction.on_commit(
            lambda chunk=chunk: enqueue("notifications.tasks.send_messages", chunk), robust=True
        )


NOTICES_PER_TASK = 25  # a platform breach queues thousands: the workers share them in chunks


def told_when_accepted(incident_id, message=None):
    """The provider accepted a notice: that controller is told (its obligation is met at the
    moment the provider accepted it). The state follows the obligations."""
    if message is None or message.controller_id is None or message.status not in ACCEPTED:
        return None
    obligation = Obligation.objects.filter(
        incident_id=incident_id, kind=TELL, controller_id=message.controller_id
    ).first()
    action = "notify_controller"
    if obligation is not None and obligation.status == Obligation.Status.MET:
        # Told already: this letter is the supplement owed since the facts changed.
        obligation = Obligation.objects.filter(
            incident_id=incident_id,
            kind=UPDATE,
            controller_id=message.controller_id,
            status=Obligation.Status.OPEN,
            created_at__lte=message.created_at,
        ).first()
        action = "update_controller"
    if obligation is None or obligation.status != Obligation.Status.OPEN:
        return None
    # The sending that queued this message: its event is dated when that sending began.
    sent = IncidentEvent.objects.filter(
        incident_id=incident_id, kind=IncidentEvent.Kind.NOTICE_SENT, at__lte=message.created_at
    ).last()
    reason = sent.after.get("delay_reason", "") if sent else ""
    if not reason and message.sent_at and message.sent_at > obligation.deadline_at:
        with translation.override(settings.LANGUAGE_CODE):  # stored like the desk's notes
            reason = _("Sent late; no reason given when sending.")
    try:
        return workflow.transition(
            incident_id,
            message.requested_by,
            action,
            how=_("E-mail with the notice letter, accepted by the provider"),
            notified_at=message.sent_at,
            delay_reason=reason,
            controllers=[message.controller],
        )
    except (workflow.TransitionRefused, workflow.IncidentChanged, ValidationError):
        return None  # someone recorded it meanwhile


def untold_when_bounced(message, error=""):
    """A letter the provider had accepted bounced: the controller was not told after all. Its
    obligation opens again (the deadline has not moved), so the escalation and the page say so."""
    obligation = (
        Obligation.objects.filter(
            incident_id=message.incident_id,
            kind__in=[TELL, UPDATE],  # the notice, or its supplement
            controller_id=message.controller_id,
            status=Obligation.Status.MET,
            met_at=message.sent_at,
        )
        .order_by("-round")
        .first()
    )
    if obligation is None:
        return None  # told another way meanwhile, or this letter never counted
    return workflow.reopen_obligation(
        message.incident_id,
        obligation.pk,
        _("The notice e-mail to %(to)s bounced: %(error)s")
        % {"to": message.to, "error": error or _("no reason given")},
    )
