"""The people's addresses are personal data too: kept only while needed. SUBJECT_ADDRESSES_KEPT_DAYS
after a communication went out (or was published), each address is replaced by a placeholder
and each name erased; how many people were informed, in which language and with what outcome
stays, for the register and the GBA. Run daily (the `breachdesk-erase-addresses` schedule)."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import CharField, F, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from .models import Communication, Recipient

PLACEHOLDER_DOMAIN = "@erased.invalid"


def erase_due(now=None):
    """Erase the addresses of every communication past its keeping time: how many people."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.SUBJECT_ADDRESSES_KEPT_DAYS)
    due = Communication.objects.filter(
        finished_at__lt=cutoff,
        addresses_erased_at=None,
        status__in=[Communication.Status.SENT, Communication.Status.PUBLISHED],
    )
    erased = 0
    for communication in due:
        with transaction.atomic():
            erased += Recipient.objects.filter(communication=communication).update(
                email=Concat(Cast(F("pk"), CharField()), Value(PLACEHOLDER_DOMAIN)), name=""
            )
            Communication.objects.filter(pk=communication.pk).update(addresses_erased_at=now)
    return erased
