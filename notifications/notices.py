"""Notices to the controllers (GDPR art. 33(2)): a letter per affected controller, in its
language, sent by e-mail and tracked like every other message.

A controller is told (its obligation met) when the provider accepted its notice, or when a
manager records another way it was done; the incident's state follows its obligations.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from incidents import workflow
from incidents.documents.facts import incident_digest
from incidents.documents.notice import notice_email
from incidents.documents.store import current_document
from incidents.models import Document, Incident, IncidentEvent, Obligation

from .models import Channel, Message

ACCEPTED = [Message.Status.SENT, Message.Status.DELIVERED]
TELL = Obligation.Kind.TELL_CONTROLLER


def affected_controllers(incident):
    return list(incident.controllers.all())


def waiting_controllers(incident):
    """The controllers not told yet (their obligation to be told is open)."""
    waiting = incident.obligations.filter(kind=TELL, status=Obligation.Status.OPEN)
    return [o.controller for o in waiting.select_related("controller")]


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
    if not incident.is_open:
        raise workflow.TransitionRefused(incident, "notify_controller")
    if not incident.controllers.exists():
        raise ValidationError(
            _("Name the affected controllers first (when logging or in the assessment).")
        )


def send_notices(incident_id, user, delay_reason=""):
    """Send (or send again, after a failure) the notice of each controller not told yet.

    The incident's row lock makes two people pressing "send" at once take turns: the second
    sees the first one's notices and sends none of them again; a notice the provider accepted
    is never sent again.
    """
    queued = []
    with transaction.atomic():
        incident = Incident.objects.select_for_update().get(pk=incident_id)
        check_may_send(incident, user)
        waiting = incident.obligations.filter(kind=TELL, status=Obligation.Status.OPEN)
        late = waiting.filter(deadline_at__lt=timezone.now()).exists()
        if late and not delay_reason.strip():
            raise ValidationError(
                {"delay_reason": _("The deadline has passed: give the reason for the delay.")}
            )
        previous = latest_notices(incident)
        digest = incident_digest(incident)  # once for every notice of this incident
        started = timezone.now()
        sent_to = {}
        for controller in waiting_controllers(incident):
            earlier = previous.get(controller.pk)
            if earlier and earlier.status not in Message.FINAL_FAILURES:
                continue  # already on its way or accepted: never twice
            document = current_document(
                incident,
                Document.Kind.CONTROLLER_NOTICE,
                controller.language,
                user,
                controller,
                facts_digest=digest,
            )
            subject, body = notice_email(incident, controller)
            queued.append(
                Message.objects.create(
                    incident=incident,
                    controller=controller,
                    document=document,
                    requested_by=user,
                    channel=Channel.EMAIL,
                    to=controller.email,
                    subject=subject,
                    text=body,
                )
            )
            sent_to[controller.name] = {
                "to": controller.email,
                "language": controller.language,
                "document_version": document.version,
            }
        if sent_to:
            # One event per sending, listing every notice (a platform breach sends 5,000).
            IncidentEvent.objects.create(
                incident=incident,
                actor=user,
                at=started,
                kind=IncidentEvent.Kind.NOTICE_SENT,
                after={"controllers": sent_to, "delay_reason": delay_reason.strip()},
            )
    from .tasks import enqueue

    ids = [message.pk for message in queued]
    for start in range(0, len(ids), NOTICES_PER_TASK):
        chunk = ids[start : start + NOTICES_PER_TASK]
        transaction.on_commit(
            lambda chunk=chunk: enqueue("notifications.tasks.send_messages", chunk), robust=True
        )
    return queued


NOTICES_PER_TASK = 25  # a platform breach queues thousands: the workers share them in chunks


def told_when_accepted(incident_id, message=None):
    """The provider accepted a notice: that controller is told (its obligation is met at the
    moment the provider accepted it). The state follows the obligations."""
    if message is None or message.controller_id is None or message.status not in ACCEPTED:
        return None
    obligation = Obligation.objects.filter(
        incident_id=incident_id, kind=TELL, controller_id=message.controller_id
    ).first()
    if obligation is None or obligation.status != Obligation.Status.OPEN:
        return None
    # The sending that queued this message: its event is dated when that sending began.
    sent = IncidentEvent.objects.filter(
        incident_id=incident_id, kind=IncidentEvent.Kind.NOTICE_SENT, at__lte=message.created_at
    ).last()
    reason = sent.after.get("delay_reason", "") if sent else ""
    try:
        return workflow.transition(
            incident_id,
            message.requested_by,
            "notify_controller",
            how=_("E-mail with the notice letter, accepted by the provider"),
            notified_at=message.sent_at,
            delay_reason=reason or _("Sent late; no reason given when sending."),
            controllers=[message.controller],
        )
    except (workflow.TransitionRefused, workflow.IncidentChanged, ValidationError):
        return None  # someone recorded it meanwhile


def untold_when_bounced(message, error=""):
    """A letter the provider had accepted bounced: the controller was not told after all. Its
    obligation opens again (the deadline has not moved), so the escalation and the page say so."""
    obligation = Obligation.objects.filter(
        incident_id=message.incident_id,
        kind=TELL,
        controller_id=message.controller_id,
        status=Obligation.Status.MET,
        met_at=message.sent_at,
    ).first()
    if obligation is None:
        return None  # told another way meanwhile, or this letter never counted
    return workflow.reopen_obligation(
        message.incident_id,
        obligation.pk,
        _("The notice e-mail to %(to)s bounced: %(error)s")
        % {"to": message.to, "error": error or _("no reason given")},
    )
