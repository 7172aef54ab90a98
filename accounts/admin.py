from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from incidents.reference_audit import AuditedAdmin, record, snapshot

from .models import User


@admin.register(User)
class UserAdmin(AuditedAdmin, BaseUserAdmin):
    fieldsets = [
        *BaseUserAdmin.fieldsets,
        (_("Breach desk"), {"fields": ["display_name", "phone", "language"]}),
    ]
    list_display = ["username", "display_name", "email", "phone", "language", "is_active"]

    def user_change_password(self, request, id, form_url=""):
        """Django's own password page, recorded like every other change (never the hash)."""
        user = self.get_object(request, unquote(id))
        before = snapshot(user)
        response = super().user_change_password(request, id, form_url)
        if user is not None and request.method == "POST" and response.status_code == 302:
            record(request.user, user, before)
        return response
