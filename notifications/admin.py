"""The escalation policy is edited here. Firings, acknowledgements and messages are records:
read-only, never deleted."""

from django.contrib import admin

from incidents.admin import ReadOnlyAdmin
from incidents.reference_audit import AuditedAdmin

from .models import Acknowledgement, EscalationPolicy, EscalationStep, Firing, Message


class StepInline(admin.StackedInline):
    model = EscalationStep
    extra = 0
    filter_horizontal = ["roles", "people"]


@admin.register(EscalationPolicy)
class EscalationPolicyAdmin(AuditedAdmin, admin.ModelAdmin):
    list_display = ["name", "is_active"]
    inlines = [StepInline]


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    list_display = ["incident", "recipient", "channel", "to", "status", "attempts", "created_at"]
    list_filter = ["channel", "status"]
    search_fields = ["incident__reference", "to", "provider_id"]


@admin.register(Firing)
class FiringAdmin(ReadOnlyAdmin):
    list_display = ["incident", "step", "repetition", "phase", "due_at", "fired_at", "late"]
    list_filter = ["phase", "late", "outcome"]


@admin.register(Acknowledgement)
class AcknowledgementAdmin(ReadOnlyAdmin):
    list_display = ["incident", "step", "user", "via", "at"]
