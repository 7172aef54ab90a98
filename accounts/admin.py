from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.admin import TokenAdmin as BaseTokenAdmin
from rest_framework.authtoken.models import TokenProxy

from .invitations import send_invitation
from .models import User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    """Changes to people are recorded by accounts/access_audit.py, wherever they are made."""

    fieldsets = [
        *BaseUserAdmin.fieldsets,
        (_("Breach desk"), {"fields": ["display_name", "phone", "language"]}),
    ]
    list_display = ["username", "display_name", "email", "phone", "language", "is_active"]
    actions = ["invite_to_second_factor", "reset_second_factor"]

    @admin.action(description=_("E-mail an invitation to set up the second factor"))
    def invite_to_second_factor(self, request, queryset):
        """After a new person is added or their device removed (the reset): the link goes to
        their own address; a password alone never enrols a device."""
        sent = [user for user in queryset.filter(is_active=True) if send_invitation(user)]
        self.message_user(
            request, _("Invitations sent: %(count)s.") % {"count": len(sent)}, messages.SUCCESS
        )

    @admin.action(description=_("Reset the second factor (a lost phone) and e-mail an invitation"))
    def reset_second_factor(self, request, queryset):
        """A lost phone and no recovery code left: their authenticator keys and recovery
        codes are removed (each removal is in the audit trail, with who did it) and an
        invitation to set up a new phone goes to their own address."""
        people = list(queryset)
        for device_model in (TOTPDevice, StaticDevice):
            for device in device_model.objects.filter(user__in=people):
                device.delete()  # one by one: each deletion is audited
        sent = [user for user in people if user.is_active and send_invitation(user)]
        self.message_user(
            request,
            _("Second factor reset for %(count)s; invitations sent: %(sent)s.")
            % {"count": len(people), "sent": len(sent)},
            messages.SUCCESS,
        )


admin.site.unregister(TokenProxy)


@admin.register(TokenProxy)
class TokenAdmin(BaseTokenAdmin):
    """DRF's token admin, except that Django's own admin log (LogEntry) never stores a key:
    its object_repr was the whole token. The audit trail has each token's first characters."""

    def log_addition(self, request, obj, message):
        return None

    def log_change(self, request, obj, message):
        return None

    def log_deletion(self, request, obj, object_repr):
        return None

    def log_deletions(self, request, queryset):
        return None
