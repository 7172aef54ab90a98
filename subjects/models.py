"""The communication of a breach to the people whose data it is (GDPR art. 34), for one
controller's data: Conitro's own, or a client's that asked Conitro to inform its people.

A communication has its texts in Dutch, French and English (art. 34(2): nature of the breach,
the DPO's contact, likely consequences, measures, what people can do themselves), edited from
templates per incident; its recipients come from a CSV file; it is sent in batches, each
recipient handed to the mail provider exactly once (subjects/sending.py) and followed by the
provider's delivery events. Or, when individual messages would take disproportionate effort
(art. 34(3)(c)), it is published on a public page instead.

The recipients' addresses are personal data too: they are erased SUBJECT_ADDRESSES_KEPT_DAYS
after the sending ends (the counts and statuses stay, for the register and the GBA).
"""

import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import get_language_info, gettext_lazy

from incident_manager.languages import CODES
from incidents.models import Controller, Incident

# The desk's languages, each named in itself (Django's own names): "Nederlands", "Français".
LANGUAGES = [(code, get_language_info(code)["name_local"].capitalize()) for code in CODES]
SUBJECT_LENGTH = 200
BODY_LENGTH = 10_000


def new_public_key():
    return secrets.token_urlsafe(16)


class Communication(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", gettext_lazy("draft")
        SENDING = "sending", gettext_lazy("sending")
        SENT = "sent", gettext_lazy("handed to the mail provider")
        PUBLISHED = "published", gettext_lazy("published (art. 34(3)(c))")

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="communications")
    controller = models.ForeignKey(Controller, on_delete=models.PROTECT, related_name="+")
    # {"nl": {"subject": "...", "body": "..."}, "fr": {...}, "en": {...}}
    texts = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    public_key = models.CharField(max_length=40, unique=True, default=new_public_key)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    started_at = models.DateTimeField(null=True)
    finished_at = models.DateTimeField(null=True)
    addresses_erased_at = models.DateTimeField(null=True)
    # Given at Send when the obligation's deadline has passed; recorded with it when met.
    delay_reason = models.TextField(blank=True, max_length=2_000)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "controller"], name="one_communication_per_controller"
            )
        ]
        permissions = [("send_communication", "Send a communication to the data subjects")]

    def __str__(self):
        return f"{self.incident.reference}: {self.controller}"

    def text(self, language):
        return self.texts.get(language) or {}


class Recipient(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", gettext_lazy("waiting")
        SENDING = "sending", gettext_lazy("being handed over")
        # A worker stopped while handing this batch over: it may or may not have reached the
        # provider. Never sent again blindly; the provider's events settle it.
        UNCERTAIN = "uncertain", gettext_lazy("uncertain: waiting for the provider")
        ACCEPTED = "accepted", gettext_lazy("accepted by the provider")
        DELIVERED = "delivered", gettext_lazy("delivered")
        BOUNCED = "bounced", gettext_lazy("bounced")
        FAILED = "failed", gettext_lazy("refused")

    communication = models.ForeignKey(
        Communication, on_delete=models.PROTECT, related_name="recipients"
    )
    email = models.EmailField(max_length=254)
    name = models.CharField(max_length=200, blank=True)
    language = models.CharField(max_length=2, choices=LANGUAGES)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    batch = models.PositiveIntegerField(null=True)
    claimed_at = models.DateTimeField(null=True)
    error = models.CharField(max_length=300, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["communication", "email"], name="one_per_address")
        ]
        indexes = [models.Index(fields=["communication", "status", "language"])]

    def __str__(self):
        return f"{self.communication_id}: {self.pk}"
