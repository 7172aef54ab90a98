"""The escalation policy is edited here. Firings, acknowledgements and messages are records:
read-only, never deleted."""

from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from incidents.admin import ReadOnlyAdmin
from incidents.reference_audit import AuditedAdmin

from .models import (
    Acknowledgement,
    EscalationPolicy,
    EscalationStep,
    Firing,
    Message,
    Rota,
    RotaMember,
    RotaOverride,
)
from .rotas import next_change, on_call


class StepInline(admin.StackedInline):
    model = EscalationStep
    extra = 0
    filter_horizontal = ["roles", "people", "rotas", "next_level_roles", "next_level_rotas"]


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


class RotaMemberInline(admin.TabularInline):
    model = RotaMember
    extra = 1


class RotaOverrideInline(admin.TabularInline):
    model = RotaOverride
    extra = 1


@admin.register(Rota)
class RotaAdmin(AuditedAdmin, admin.ModelAdmin):
    list_display = ["name", "handover", "on_call_now", "next_on_call"]
    readonly_fields = ["on_call_now", "next_on_call"]
    inlines = [RotaMemberInline, RotaOverrideInline]

    @admin.display(description=_("on call now"))
    def on_call_now(self, rota):
        return on_call(rota) if rota.pk else "—"

    @admin.display(description=_("next"))
    def next_on_call(self, rota):
        if not rota.pk:
            return "—"
        moment, person = next_change(rota)
        if moment is None:
            return "—"
        return f"{person} — {timezone.localtime(moment):%d/%m/%Y %H:%M %Z}"
