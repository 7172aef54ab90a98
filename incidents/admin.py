"""The admin edits reference data (controllers, data and subject categories); every change is
recorded in the audit trail (ReferenceChange).

Incidents and their audit trail are read-only here: they change only through the workflow,
which writes the audit events, so the admin cannot bypass it.
"""

from django.contrib import admin

from .models import (
    Controller,
    DataCategory,
    DeadlineRule,
    Incident,
    IncidentEvent,
    Obligation,
    ProcessingActivity,
    ReferenceChange,
    Regime,
    RegimeRule,
    SubjectCategory,
)
from .reference_audit import AuditedAdmin


@admin.register(Controller)
class ControllerAdmin(AuditedAdmin, admin.ModelAdmin):
    list_display = ["name", "enterprise_number", "contact_person", "email", "phone", "language"]
    search_fields = ["name", "enterprise_number", "contact_person"]


@admin.register(DeadlineRule)
class DeadlineRuleAdmin(AuditedAdmin, admin.ModelAdmin):
    """The regime table. An obligation keeps the deadline it was given when it was created;
    a changed rule applies to obligations created from then on."""

    list_display = ["kind", "delay", "anchor", "basis"]
    fields = ["kind", "anchor", "delay", "basis"]
    readonly_fields = ["kind", "anchor"]

    def has_add_permission(self, request):
        return False  # one row per kind of obligation, seeded by a migration

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(DataCategory, SubjectCategory, ProcessingActivity)
class TranslatedNameAdmin(AuditedAdmin, admin.ModelAdmin):
    list_display = ["name_en", "name_nl", "name_fr", "position"]
    list_editable = ["position"]


class RegimeRuleInline(admin.TabularInline):
    model = RegimeRule
    fk_name = "regime"
    fields = ["position", "name_en", "name_nl", "name_fr", "anchor", "after", "delay", "basis",
              "document"]  # fmt: skip
    extra = 0

    def has_delete_permission(self, request, obj=None):
        return False  # obligations keep the rule they came from


@admin.register(Regime)
class RegimeAdmin(AuditedAdmin, admin.ModelAdmin):
    """Other reporting regimes (NIS2 to the CCB, a contract's own clock) and their reports:
    switched on per incident, each report an obligation with its deadline and pages."""

    list_display = ["name_en", "authority", "offered"]
    fields = ["code", "name_en", "name_nl", "name_fr", "authority", "basis", "offered", "position"]
    inlines = [RegimeRuleInline]

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class EventInline(admin.TabularInline):
    model = IncidentEvent
    fields = ["at", "actor", "kind", "from_state", "to_state", "field", "before", "after", "note"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ObligationInline(admin.TabularInline):
    model = Obligation
    fields = ["kind", "controller", "deadline_at", "status", "met_at", "met_by", "how",
              "reference", "delay_reason", "note"]  # fmt: skip
    readonly_fields = fields
    extra = 0
    can_delete = False
    max_num = 0


@admin.register(Incident)
class IncidentAdmin(ReadOnlyAdmin):
    list_display = ["reference", "title", "state", "aware_at", "deadline_at"]
    list_filter = ["state"]
    search_fields = ["reference", "title"]
    inlines = [ObligationInline, EventInline]


@admin.register(Obligation)
class ObligationAdmin(ReadOnlyAdmin):
    """What Conitro owes, across incidents: changed only by the workflow."""

    list_display = ["incident", "kind", "controller", "deadline_at", "status", "met_at"]
    list_filter = ["kind", "status"]
    search_fields = ["incident__reference", "controller__name"]
    list_select_related = ["incident", "controller"]


@admin.register(IncidentEvent)
class IncidentEventAdmin(ReadOnlyAdmin):
    list_display = ["incident", "at", "actor", "kind", "from_state", "to_state", "field"]
    list_filter = ["kind"]


@admin.register(ReferenceChange)
class ReferenceChangeAdmin(ReadOnlyAdmin):
    list_display = ["at", "actor", "model", "object_repr", "action"]
    list_filter = ["model", "action"]
    readonly_fields = [
        "at",
        "actor",
        "model",
        "object_id",
        "object_repr",
        "action",
        "before",
        "after",
    ]

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff
