from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from .models import User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = [
        *BaseUserAdmin.fieldsets,
        (_("Breach desk"), {"fields": ["display_name", "phone", "language"]}),
    ]
    list_display = ["username", "display_name", "email", "phone", "language", "is_active"]
