"""People: who logs, who is paged, who signs. Their role is a Django group (see roles.py)."""

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from incidents.fields import PhoneNumberField
from incidents.models import validate_one_line

LANGUAGES = settings.LANGUAGES  # one definition, in the settings


class User(AbstractUser):
    # When the latest invitation to enrol a second factor was made (accounts/invitations.py);
    # cleared when it is used.
    second_factor_invited_at = models.DateTimeField(null=True, blank=True, editable=False)
    display_name = models.CharField(
        _("display name"), max_length=150, blank=True, validators=[validate_one_line]
    )
    phone = PhoneNumberField(_("mobile number"), blank=True)
    # A new number is used for pages only once the code sent to it was entered (reach.py):
    # until then it waits here, with the code's hash, when it was sent and the wrong tries.
    pending_phone = PhoneNumberField(_("new mobile number, not confirmed yet"), blank=True)
    phone_code = models.CharField(max_length=128, blank=True, editable=False)
    phone_code_sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    phone_code_tries = models.PositiveSmallIntegerField(default=0, editable=False)
    language = models.CharField(_("language"), max_length=2, choices=LANGUAGES, default="nl")

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"

    def __str__(self):
        return self.display_name or self.get_full_name() or self.username

    @property
    def roles(self):
        return [group.name for group in self.groups.all()]

    @property
    def requires_second_factor(self):
        """Managers, the DPO and admin users must confirm their login with a TOTP code;
        security staff may (settings.SECOND_FACTOR_ROLES)."""
        if self.is_staff or self.is_superuser:
            return True
        return self.groups.filter(name__in=settings.SECOND_FACTOR_ROLES).exists()
