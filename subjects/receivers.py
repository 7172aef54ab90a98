"""The mail provider's events (verified by anymail) settle each recipient: every message of a
communication carries its recipient's id."""

from anymail.signals import tracking
from django.dispatch import receiver
from django.utils import timezone

from .models import Recipient

Status = Recipient.Status
# What an event says, and the statuses it may follow (a late "queued" never undoes a bounce).
SETTLES = {
    "queued": (Status.ACCEPTED, {Status.UNCERTAIN, Status.SENDING}),
    "delivered": (Status.DELIVERED, {Status.UNCERTAIN, Status.SENDING, Status.ACCEPTED}),
    "bounced": (Status.BOUNCED, {Status.UNCERTAIN, Status.SENDING, Status.ACCEPTED}),
    "rejected": (Status.FAILED, {Status.UNCERTAIN, Status.SENDING, Status.ACCEPTED}),
    "failed": (Status.FAILED, {Status.UNCERTAIN, Status.SENDING, Status.ACCEPTED}),
}


@receiver(tracking)
def on_recipient_event(sender, event, esp_name, **extra):
    recipient = str((event.metadata or {}).get("recipient", ""))
    settles = SETTLES.get(event.event_type)
    if not recipient.isdigit() or settles is None:
        return
    status, after = settles
    Recipient.objects.filter(pk=int(recipient), status__in=after).update(
        status=status,
        error=(event.description or event.mta_response or "")[:300],
        updated_at=timezone.now(),
    )
