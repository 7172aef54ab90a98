"""Notices to the controllers (GDPR art. 33(2)): a letter per affected controller, in its
language, sent by e-mail and tracked like every other message.

The incident reaches `controller_notified` when every affected controller's notice has been
accepted by the provider (or when a manager records another way it was done, on the incident).
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from incidents import workflow
from incidents.documents.notice import notice_email
from incidents.documents.store import current_document
from incidents.models import Document, Incident, IncidentEvent, State

from .models import Channel, Message

ACCEPTED = [Message.Status.SENT, Message.Status.DELIVERED]


def affected_controllers(incident):
    assessment = incident.assessment_or_none()
    return list(assessment.controllers.all()) if assessment else []


def latest_notices(incident):
    """controller id -> its latest notice message."""
    notices = {}
    for message in incident.messages.filter(controller__isnull=False).order_by("created_at", "id"):
        notices[message.controller_id] = message
    return notices


def check_may_send(incident, user):
    if not user.has_perm("incidents.notify_incident"):
        raise PermissionDenied(_("Only managers and the DPO send notices to controllers."))
    if incident.state != State.GBA_NOTIFIED:
        raise workflow.TransitionRefused(incident, "notify_controller")
    if not affected_controllers(incident):
        raise ValidationError(_("The assessment names no affected controller."))


def send_notices(incident_id, user, delay_reason=""):
    """Send (or send again, after a failure) each affected controller's notice.

    The incident's row lock makes two people pressing "send" at once take turns: the second
    sees the first one's notices and sends none of them again.
    """
    queued = []
    with transaction.atomic():
        incident = Incident.objects.select_for_update().get(pk=incident_id)
        check_may_send(incident, user)
        late = timezone.now() > incident.deadline_at
        if late and not delay_reason.strip():
            raise ValidationError(
                {"delay_reason": _("The deadline has passed: give the reason for the delay.")}
            )
        previous = latest_notices(incident)
        for controller in affected_controllers(incident):
            earlier = previous.get(controller.pk)
            if earlier and earlier.status not in Message.FINAL_FAILURES:
                continue  # already on its way or accepted: never twice
            document = current_document(
                incident, Document.Kind.CONTROLLER_NOTICE, controller.language, user, controller
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
            IncidentEvent.objects.create(
                incident=incident,
                actor=user,
                kind=IncidentEvent.Kind.NOTICE_SENT,
                after={
                    "controller": controller.name,
                    "to": controller.email,
                    "language": controller.language,
                    "document_version": document.version,
                    "delay_reason": delay_reason.strip(),
                },
            )
    from .tasks import enqueue

    for message in queued:
        transaction.on_commit(
            lambda pk=message.pk: enqueue("notifications.tasks.send_messages", [pk])
        )
    return queued


def complete_if_all_sent(incident_id):
    """Move the incident on once the provider accepted every affected controller's notice."""
    incident = Incident.objects.get(pk=incident_id)
    if incident.state != State.GBA_NOTIFIED:
        return None
    notices = latest_notices(incident)
    controllers = affected_controllers(incident)
    if not controllers or any(
        notices.get(c.pk) is None or notices[c.pk].status not in ACCEPTED for c in controllers
    ):
        return None
    last = max(notices[c.pk].sent_at for c in controllers)
    requester = notices[controllers[0].pk].requested_by
    reason = (
        incident.events.filter(kind=IncidentEvent.Kind.NOTICE_SENT)
        .last()
        .after.get("delay_reason", "")
    )
    try:
        return workflow.transition(
            incident.pk,
            requester,
            "notify_controller",
            how=_("E-mail with the notice letter, accepted by the provider"),
            notified_at=last,
            delay_reason=reason,
        )
    except (workflow.TransitionRefused, workflow.IncidentChanged):
        return None  # someone recorded it meanwhile
