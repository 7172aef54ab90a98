"""The JSON API, for integrations such as a SIEM that opens incidents.

Same rules as the web pages: every change goes through workflow.py. Errors are JSON a person
can act on: 400 with per-field messages, 403 for a role that may not, 404, and 409 when the
incident's state does not allow the action (the body says which state it is in) or someone
changed it meanwhile.
"""

import hashlib
import json
import re
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, parsers, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from incident_manager import languages

from . import controller_import, downloads, fields, reference_audit, workflow
from .forms import AssessmentForm
from .models import (
    MEDIUM_TEXT,
    AffectedController,
    Assessment,
    Controller,
    DataCategory,
    Document,
    Incident,
    IncidentEvent,
    Obligation,
    ProcessingActivity,
    State,
    SubjectCategory,
    limited_text,
    validate_one_line,
)
from .obligations import controller_deadline

IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,100}")


def fingerprint(values):
    """SHA-256 of a request's values as parsed (the same body however it is spaced)."""
    canonical = {
        name: [item.pk for item in value] if isinstance(value, list) else value
        for name, value in values.items()
    }
    encoded = json.dumps(canonical, sort_keys=True, default=str).encode()
    return hashlib.sha256(encoded).hexdigest()


class NormalizingSerializerField(serializers.CharField):
    normalizer = staticmethod(str)

    def to_internal_value(self, data):
        return self.normalizer(super().to_internal_value(data))


class PhoneSerializerField(NormalizingSerializerField):
    normalizer = staticmethod(fields.normalize_phone)


class EnterpriseNumberSerializerField(NormalizingSerializerField):
    normalizer = staticmethod(fields.normalize_enterprise_number)


class ChoiceField(serializers.ChoiceField):
    """Decimal choices (the ENISA inputs) accept 0.5, "0.5" and "0.50" alike."""

    def to_internal_value(self, data):
        if any(isinstance(choice, Decimal) for choice in self.choices):
            try:
                data = str(Decimal(str(data)).quantize(Decimal("0.01")))
            except InvalidOperation:
                self.fail("invalid_choice", input=data)
        return super().to_internal_value(data)


class ModelSerializer(serializers.ModelSerializer):
    serializer_choice_field = ChoiceField
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        fields.PhoneNumberField: PhoneSerializerField,
        fields.EnterpriseNumberField: EnterpriseNumberSerializerField,
    }


class ControllerSerializer(ModelSerializer):
    class Meta:
        model = Controller
        fields = ["id", *Controller.DETAILS, "activities"]


class EventSerializer(serializers.ModelSerializer):
    actor = serializers.StringRelatedField()

    class Meta:
        model = IncidentEvent
        fields = ["at", "actor", "kind", "from_state", "to_state", "field", "before", "after"]


class SeveritySerializer(serializers.Serializer):
    score = serializers.DecimalField(max_digits=4, decimal_places=2)
    band = serializers.CharField()


class VersionField(serializers.IntegerField):
    """A whole number in ASCII digits (int() would also take "٣"), within a sane range."""

    def __init__(self, **kwargs):
        super().__init__(min_value=1, max_value=2**31 - 1, **kwargs)

    def to_internal_value(self, data):
        if isinstance(data, str) and not data.isascii():
            self.fail("invalid")
        return super().to_internal_value(data)


class IdField(serializers.PrimaryKeyRelatedField):
    """An id is a whole number: 1.5, true or "1e3" is refused, not read as 1."""

    def to_internal_value(self, data):
        whole = isinstance(data, int) and not isinstance(data, bool)
        digits = isinstance(data, str) and data.isascii() and data.isdigit() and len(data) < 10
        if not (whole or digits):
            self.fail("incorrect_type", data_type=type(data).__name__)
        return super().to_internal_value(data)


def controller_ids(**kwargs):
    return IdField(many=True, queryset=Controller.objects.all(), **kwargs)


class ObligationSerializer(serializers.ModelSerializer):
    controller = serializers.PrimaryKeyRelatedField(read_only=True)
    controller_name = serializers.CharField(source="controller.name", read_only=True)
    met_by = serializers.StringRelatedField(allow_null=True)
    rule_name = serializers.StringRelatedField(
        source="rule", allow_null=True, help_text="Kind `regime`: which report (NIS2's, say)."
    )

    class Meta:
        model = Obligation
        fields = [
            "id",
            "kind",
            "rule",
            "rule_name",
            "controller",
            "controller_name",
            "deadline_at",
            "status",
            "met_at",
            "met_by",
            "how",
            "reference",
            "delay_reason",
            "note",
        ]


class AssessmentSerializer(ModelSerializer):
    severity = SeveritySerializer(read_only=True)
    controllers = controller_ids(
        write_only=True,
        required=False,
        help_text="Ids of the controllers affected (GET /api/controllers/); replaces the list.",
    )
    all_controllers_of = serializers.PrimaryKeyRelatedField(
        many=True,
        queryset=ProcessingActivity.objects.all(),
        write_only=True,
        required=False,
        help_text="Also every controller of these processing activities (ids).",
    )
    conitro_is_controller = serializers.BooleanField(
        write_only=True,
        required=False,
        help_text="True when Conitro's own data is affected (Conitro is its controller: the GBA "
        "as controller, the data subjects); `controllers` may then be empty. Absent: as it was.",
    )
    assessed_by = serializers.StringRelatedField()
    version = VersionField(
        write_only=True, required=False, help_text="The incident version you last saw."
    )

    class Meta:
        model = Assessment
        exclude = ["id", "incident"]
        read_only_fields = ["assessed_at"]

    def validate(self, attrs):
        # Model-level checks (DPC range, a kind of breach) run in the workflow, under the lock.
        return attrs


class AffectedControllerSerializer(ModelSerializer):
    """One affected controller's own facts; an empty count or list: not split yet (its
    documents print the platform's figure and say so)."""

    controller = serializers.PrimaryKeyRelatedField(read_only=True)
    name = serializers.CharField(source="controller.name", read_only=True)
    language = serializers.CharField(source="controller.language", read_only=True)
    gba_on_behalf = serializers.BooleanField(
        source="controller.gba_on_behalf",
        read_only=True,
        help_text="Conitro may notify the GBA for it (its processing agreement; change it on "
        "/api/controllers/{id}/).",
    )
    subjects_informed_by_conitro = serializers.BooleanField(
        source="controller.subjects_informed_by_conitro", read_only=True
    )
    told_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="When it was told: its awareness."
    )
    gba_deadline_at = serializers.SerializerMethodField(
        help_text="When its own 72 hours to notify the GBA end (art. 33(1)), once told."
    )
    data_categories = IdField(many=True, queryset=DataCategory.objects.all(), required=False)
    subject_categories = IdField(many=True, queryset=SubjectCategory.objects.all(), required=False)
    processing_activities = IdField(
        many=True, queryset=ProcessingActivity.objects.all(), required=False
    )
    version = VersionField(
        write_only=True, required=False, help_text="The incident version you last saw."
    )

    class Meta:
        model = AffectedController
        fields = [
            "controller",
            "name",
            "language",
            "gba_on_behalf",
            "subjects_informed_by_conitro",
            "told_at",
            "gba_deadline_at",
            *AffectedController.FACTS,
            "version",
        ]

    @extend_schema_field(OpenApiTypes.DATETIME)
    def get_gba_deadline_at(self, affected):
        deadline = controller_deadline(affected.told_at)
        return serializers.DateTimeField().to_representation(deadline) if deadline else None


class IncidentSerializer(ModelSerializer):
    controllers = controller_ids(
        required=False,
        help_text="Ids of the controllers affected (GET /api/controllers/); replaces the list. "
        "Each one's own facts: /api/incidents/{id}/controllers/{controller_id}/. Conitro's own "
        "row is among them when conitro_is_controller is true.",
    )
    conitro_is_controller = serializers.BooleanField(
        read_only=True, help_text="Conitro's own data is affected: Conitro is its controller."
    )
    # Read from the obligations (the one source): the first GBA filing, the latest notice to
    # a controller. Each controller's own are in the obligations.
    gba_reference = serializers.CharField(
        source="gba_filing.reference",
        read_only=True,
        default="",
        help_text="The DBN of the first GBA filing (each filing's: the obligations).",
    )
    gba_submitted_at = serializers.DateTimeField(
        source="gba_filing.met_at",
        read_only=True,
        default=None,
        help_text="When the GBA was first notified.",
    )
    controller_notified_at = serializers.DateTimeField(
        source="last_controller_notice.met_at",
        read_only=True,
        default=None,
        help_text="When a controller was last told (each one's: the obligations).",
    )
    controller_notification_method = serializers.CharField(
        source="last_controller_notice.how",
        read_only=True,
        default="",
        help_text="How that controller was told.",
    )
    controller_delay_reason = serializers.CharField(
        source="last_controller_notice.delay_reason",
        read_only=True,
        default="",
        help_text="Why that notice came after its deadline (empty when in time).",
    )

    class Meta:
        model = Incident
        fields = [
            "id",
            "reference",
            "state",
            "title",
            "description",
            "aware_at",
            "occurred_at",
            "ended_at",
            "discovered_how",
            "deadline_at",
            "version",
            "created_at",
            "dismissal_reason",
            "gba_reference",
            "gba_submitted_at",
            "gba_delay_reason",
            "controller_notified_at",
            "controller_notification_method",
            "controller_delay_reason",
            "closed_at",
            "text_language",
            "gba_combined",
            "controllers",
            "conitro_is_controller",
            "told_by",
            "regimes",
        ]
        read_only_fields = [
            name
            for name in fields
            if name
            not in {
                "title",
                "description",
                "aware_at",
                "occurred_at",
                "ended_at",
                "discovered_how",
                "text_language",
                "gba_combined",
                "gba_delay_reason",
                "controllers",
                "told_by",
                "regimes",
            }
        ]
        extra_kwargs = {
            "aware_at": {"required": False, "help_text": "Defaults to now."},
            "regimes": {
                "required": False,
                "help_text": "Other regimes this incident is reported under (ids; NIS2 when "
                "significant): each report becomes an obligation. PATCH to switch on or off.",
            },
        }


class NewIncidentSerializer(IncidentSerializer):
    activities = serializers.PrimaryKeyRelatedField(
        many=True,
        queryset=ProcessingActivity.objects.all(),
        write_only=True,
        required=False,
        help_text="Every controller of these processing activities is affected (ids).",
    )
    conitro_is_controller = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Conitro's own data is affected: Conitro is its controller.",
    )

    class Meta(IncidentSerializer.Meta):
        fields = [*IncidentSerializer.Meta.fields, "activities"]
        read_only_fields = [*IncidentSerializer.Meta.read_only_fields, "regimes"]


class IncidentDetailSerializer(IncidentSerializer):
    assessment = AssessmentSerializer(read_only=True, source="assessment_or_none", allow_null=True)
    obligations = ObligationSerializer(many=True, read_only=True)
    events = EventSerializer(many=True, read_only=True)

    class Meta(IncidentSerializer.Meta):
        fields = [*IncidentSerializer.Meta.fields, "assessment", "obligations", "events"]


class VersionSerializer(serializers.Serializer):
    version = VersionField(
        required=False, help_text="The incident version you last saw; 409 if it changed."
    )


class ObligationActionSerializer(VersionSerializer):
    controllers = controller_ids(
        required=False,
        help_text="For which controllers; empty or absent: every one still waiting.",
    )
    delay_reason = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=MEDIUM_TEXT,
        validators=limited_text(MEDIUM_TEXT),
    )  # fmt: skip


class NotifyGbaSerializer(ObligationActionSerializer):
    reference = serializers.CharField(max_length=44, help_text="The GBA's DBN… reference.")
    submitted_at = serializers.DateTimeField(required=False)


class CompleteGbaSerializer(ObligationActionSerializer):
    reference = serializers.CharField(
        max_length=44, required=False, allow_blank=True, help_text="Empty: part 1's reference."
    )
    submitted_at = serializers.DateTimeField(required=False)


class NotifyControllerSerializer(ObligationActionSerializer):
    how = serializers.CharField(
        max_length=200, validators=[validate_one_line], help_text="E-mail, phone call, letter…"
    )
    notified_at = serializers.DateTimeField(required=False)


class InformSubjectsSerializer(NotifyControllerSerializer):
    pass


class UpdateControllerSerializer(NotifyControllerSerializer):
    pass


class GbaFollowUpSerializer(CompleteGbaSerializer):
    reference = serializers.CharField(
        max_length=44,
        required=False,
        allow_blank=True,
        help_text="Empty: the reference of the filing it follows.",
    )


class RegimeReportSerializer(VersionSerializer):
    at = serializers.DateTimeField(required=False, help_text="When it was made; empty: now.")
    reference = serializers.CharField(
        max_length=44, required=False, allow_blank=True, default="",
        validators=[validate_one_line],
    )  # fmt: skip
    how = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default="",
        validators=[validate_one_line],
    )  # fmt: skip
    delay_reason = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=MEDIUM_TEXT,
        validators=limited_text(MEDIUM_TEXT),
    )  # fmt: skip


class RegimeRequestSerializer(VersionSerializer):
    due_at = serializers.DateTimeField(help_text="The time the authority gave.")


class DismissSerializer(VersionSerializer):
    reason = serializers.CharField(max_length=MEDIUM_TEXT, validators=limited_text(MEDIUM_TEXT))


class RolePermission(permissions.DjangoModelPermissions):
    """Reading needs view_*; transitions check their own permission in the workflow."""

    perms_map = {
        **permissions.DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
    }

    def has_permission(self, request, view):
        if getattr(view, "action", None) in TRANSITION_SERIALIZERS and request.method == "POST":
            return bool(request.user and request.user.is_authenticated)
        return super().has_permission(request, view)


TRANSITION_SERIALIZERS = {
    "regime_report": RegimeReportSerializer,
    "regime_request": RegimeRequestSerializer,
    "notify_gba": NotifyGbaSerializer,
    "complete_gba": CompleteGbaSerializer,
    "notify_controller": NotifyControllerSerializer,
    "inform_subjects": InformSubjectsSerializer,
    "update_controller": UpdateControllerSerializer,
    "gba_follow_up": GbaFollowUpSerializer,
    "gba_withdrawal": GbaFollowUpSerializer,
    "close": VersionSerializer,
    "dismiss": DismissSerializer,
    "assess": AssessmentSerializer,
}


def with_details(incidents):
    """What the detail representation reads, fetched in a fixed number of queries. The
    obligations' controllers and people come by a join, not by a list of their ids: 5,000
    controllers' ids in one query are more than SQLite takes."""
    incidents = incidents.with_notices().select_related("assessment", "assessment__assessed_by")
    return incidents.prefetch_related(
        "assessment__data_categories",
        "assessment__subject_categories",
        "assessment__processing_activities",
        "controllers",
        Prefetch("obligations", Obligation.objects.select_related("controller", "met_by", "rule")),
        Prefetch("events", IncidentEvent.objects.select_related("actor")),
    )


@extend_schema_view(
    list=extend_schema(parameters=[OpenApiParameter("state", enum=State.values, required=False)])
)
class IncidentViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    permission_classes = [RolePermission]
    http_method_names = ["get", "post", "patch", "head", "options"]
    lookup_value_regex = "[0-9]{1,9}"  # /api/incidents/abc/close/ is a 404, not a 500

    def get_queryset(self):
        incidents = Incident.objects.order_by("deadline_at", "id")
        if self.action != "list":
            return with_details(incidents)
        state = self.request.query_params.get("state")
        if state:
            if state not in State.values:
                raise serializers.ValidationError(
                    {"state": f"Unknown state {state!r}; one of: {', '.join(State.values)}."}
                )
            incidents = incidents.filter(state=state)
        # Each incident lists its controllers' ids, whether Conitro's own data is among them,
        # and its regimes: read for the whole page at once, not per incident.
        return incidents.with_notices().prefetch_related("controllers", "regimes")

    def get_serializer_class(self):
        if self.action == "retrieve":
            return IncidentDetailSerializer
        if self.action == "create":
            return NewIncidentSerializer
        return TRANSITION_SERIALIZERS.get(self.action, IncidentSerializer)

    def _detail(self, incident, status_code=status.HTTP_200_OK):
        fresh = with_details(Incident.objects.all()).get(pk=incident.pk)
        return Response(IncidentDetailSerializer(fresh).data, status=status_code)

    def create(self, request, *args, **kwargs):
        """Log an incident. With an `Idempotency-Key` header (kept 24 h), the same request
        sent again (a retry after a timeout) answers with the incident it logged the first
        time, 200 and `Idempotent-Replayed: true`, and logs nothing."""
        key = request.headers.get("Idempotency-Key", "")
        if key and not IDEMPOTENCY_KEY.fullmatch(key):
            raise serializers.ValidationError(
                {"Idempotency-Key": _("Up to 100 visible ASCII characters, e.g. a UUID.")}
            )
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        serializer.instance = workflow.log_incident(
            request.user,
            submission=key,
            fingerprint=fingerprint(serializer.validated_data) if key else "",
            **serializer.validated_data,
        )
        if serializer.instance.repeated:
            return Response(
                serializer.data, status=status.HTTP_200_OK, headers={"Idempotent-Replayed": "true"}
            )
        return Response(serializer.data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        """Correct facts (title, description, times); a new aware_at moves the deadline."""
        incident = self.get_object()
        serializer = IncidentSerializer(incident, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        version = request.data.get("version")
        incident = workflow.update_facts(
            incident.pk, request.user, serializer.validated_data, version
        )
        return self._detail(incident)

    @extend_schema(request=AssessmentSerializer, responses=IncidentDetailSerializer)
    @action(detail=True, methods=["post"])
    def assess(self, request, pk):
        incident = self.get_object()
        assessment = incident.assessment_or_none()
        serializer = AssessmentSerializer(assessment, data=request.data, partial=bool(assessment))
        serializer.is_valid(raise_exception=True)
        values = dict(serializer.validated_data)
        version = values.pop("version", None)
        relations = {name: values.pop(name) for name in AssessmentForm.relations if name in values}
        incident = workflow.assess(incident.pk, request.user, values, relations, version)
        return self._detail(incident)

    def _transition(self, request, pk, action_name):
        serializer = TRANSITION_SERIALIZERS[action_name](data=request.data)
        serializer.is_valid(raise_exception=True)
        arguments = dict(serializer.validated_data)
        version = arguments.pop("version", None)
        incident = workflow.transition(int(pk), request.user, action_name, version, **arguments)
        return self._detail(incident)

    @extend_schema(methods=["GET"], responses=AffectedControllerSerializer)
    @extend_schema(
        methods=["PATCH"],
        request=AffectedControllerSerializer,
        responses=AffectedControllerSerializer,
    )
    @action(
        detail=True,
        methods=["get", "patch"],
        url_path=r"controllers/(?P<controller_id>[0-9]{1,9})",
    )
    def affected_controller(self, request, pk, controller_id):
        """One affected controller's own facts: its counts, categories and purpose (PATCH
        what you know; empty: not split yet), its mandate and when it was told."""
        incident = get_object_or_404(Incident, pk=pk)
        affected = get_object_or_404(
            AffectedController.objects.select_related("controller"),
            incident=incident,
            controller_id=int(controller_id),
        )
        if request.method == "PATCH":
            serializer = AffectedControllerSerializer(affected, data=request.data, partial=True)
            serializer.is_valid(raise_exception=True)
            values = dict(serializer.validated_data)
            version = values.pop("version", None)
            affected = workflow.update_affected(
                incident.pk, request.user, affected.controller_id, values, version
            )
        return Response(AffectedControllerSerializer(affected).data)

    @extend_schema(request=RegimeReportSerializer, responses=IncidentDetailSerializer)
    @action(
        detail=True,
        methods=["post"],
        url_path=r"regimes/(?P<rule_id>[0-9]{1,9})/report",
    )
    def regime_report(self, request, pk, rule_id):
        """Record a report another regime asks for (NIS2's early warning to the CCB, say):
        it meets that obligation; the reports that follow it are owed from then."""
        serializer = RegimeReportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        arguments = dict(serializer.validated_data)
        version = arguments.pop("version", None)
        incident = workflow.report_under_regime(
            int(pk), request.user, int(rule_id), version, **arguments
        )
        return self._detail(incident)

    @extend_schema(request=RegimeRequestSerializer, responses=IncidentDetailSerializer)
    @action(
        detail=True,
        methods=["post"],
        url_path=r"regimes/(?P<rule_id>[0-9]{1,9})/request",
    )
    def regime_request(self, request, pk, rule_id):
        """The authority asked for a report (NIS2's intermediate report): owed by `due_at`."""
        serializer = RegimeRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        values = dict(serializer.validated_data)
        incident = workflow.request_regime_report(
            int(pk), request.user, int(rule_id), values["due_at"], values.get("version")
        )
        return self._detail(incident)

    @extend_schema(request=NotifyGbaSerializer, responses=IncidentDetailSerializer)
    @action(detail=True, methods=["post"], url_path="notify-gba")
    def notify_gba(self, request, pk):
        return self._transition(request, pk, "notify_gba")

    @extend_schema(request=NotifyControllerSerializer, responses=IncidentDetailSerializer)
    @action(detail=True, methods=["post"], url_path="notify-controller")
    def notify_controller(self, request, pk):
        return self._transition(request, pk, "notify_controller")

    @extend_schema(request=CompleteGbaSerializer, responses=IncidentDetailSerializer)
    @action(detail=True, methods=["post"], url_path="complete-gba")
    def complete_gba(self, request, pk):
        return self._transition(request, pk, "complete_gba")

    @extend_schema(request=InformSubjectsSerializer, responses=IncidentDetailSerializer)
    @action(detail=True, methods=["post"], url_path="inform-subjects")
    def inform_subjects(self, request, pk):
        return self._transition(request, pk, "inform_subjects")

    @extend_schema(request=UpdateControllerSerializer, responses=IncidentDetailSerializer)
    @action(detail=True, methods=["post"], url_path="update-controller")
    def update_controller(self, request, pk):
        """Record that the controllers were sent what changed since they were told."""
        return self._transition(request, pk, "update_controller")

    @extend_schema(request=GbaFollowUpSerializer, responses=IncidentDetailSerializer)
    @action(detail=True, methods=["post"], url_path="gba-follow-up")
    def gba_follow_up(self, request, pk):
        """Record the follow-up filed with the GBA after the facts changed."""
        return self._transition(request, pk, "gba_follow_up")

    @extend_schema(request=GbaFollowUpSerializer, responses=IncidentDetailSerializer)
    @action(detail=True, methods=["post"], url_path="gba-withdrawal")
    def gba_withdrawal(self, request, pk):
        """Record that the GBA was told a dismissed breach's notification is withdrawn."""
        return self._transition(request, pk, "gba_withdrawal")

    @extend_schema(request=VersionSerializer, responses=IncidentDetailSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, pk):
        return self._transition(request, pk, "close")

    @extend_schema(request=DismissSerializer, responses=IncidentDetailSerializer)
    @action(detail=True, methods=["post"])
    def dismiss(self, request, pk):
        return self._transition(request, pk, "dismiss")


class NamedItemSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name_nl = serializers.CharField()
    name_fr = serializers.CharField()
    name_en = serializers.CharField()


class NamedItemViewSet(viewsets.ReadOnlyModelViewSet):
    """Ids and names of a seeded list, so that an integrator can fill in `assess`."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = NamedItemSerializer
    pagination_class = None
    lookup_value_regex = "[0-9]{1,9}"


class DataCategoryViewSet(NamedItemViewSet):
    queryset = DataCategory.objects.all()


class SubjectCategoryViewSet(NamedItemViewSet):
    queryset = SubjectCategory.objects.all()


class ProcessingActivityViewSet(NamedItemViewSet):
    queryset = ProcessingActivity.objects.all()


class CsvUpload(parsers.BaseParser):
    """A CSV body as its bytes (the import reads and checks them itself)."""

    media_type = "text/csv"

    def parse(self, stream, media_type=None, parser_context=None):
        return stream.read()


class ImportResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()


class ImportErrorsSerializer(serializers.Serializer):
    errors = serializers.ListField(child=serializers.CharField())


class ControllerViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    permission_classes = [RolePermission]
    serializer_class = ControllerSerializer
    queryset = Controller.objects.filter(is_conitro=False)  # Conitro mirrors its settings
    http_method_names = ["get", "post", "patch", "head", "options"]
    lookup_value_regex = "[0-9]{1,9}"

    def perform_create(self, serializer):
        with transaction.atomic():
            serializer.save()
            reference_audit.record(self.request.user, serializer.instance, {})

    @extend_schema(
        request={"text/csv": str, "multipart/form-data": {"type": "object", "properties": {
            "file": {"type": "string", "format": "binary"}}}},
        responses={201: ImportResultSerializer, 400: ImportErrorsSerializer},
    )  # fmt: skip
    @action(
        detail=False,
        methods=["post"],
        url_path="import",
        parser_classes=[CsvUpload, parsers.MultiPartParser],
    )
    def import_csv(self, request):
        """The same CSV as the controllers' import page: every line saved, or none, with each
        line's errors (400). The body is the file (text/csv) or a form with `file`."""
        content = request.data.get("file") if hasattr(request.data, "get") else request.data
        if hasattr(content, "read"):
            content = content.read()
        if not isinstance(content, bytes) or not content:
            return Response(
                {"errors": [_("Send the CSV file as the body (text/csv) or as `file`.")]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        try:
            created, updated = controller_import.import_controllers(request.user, content)
        except DjangoValidationError as refusal:
            return Response({"errors": refusal.messages}, status=status.HTTP_400_BAD_REQUEST)
        return Response({"created": created, "updated": updated}, status=status.HTTP_201_CREATED)

    def perform_update(self, serializer):
        before = reference_audit.snapshot(serializer.instance)
        with transaction.atomic():
            serializer.save()
            reference_audit.record(self.request.user, serializer.instance, before)


# Django REST framework's own words that reach people, here so that our catalogue says them in
# our register (DRF's Dutch says "je"; the desk says "u" throughout).
LIBRARY_WORDS = [gettext_noop("You do not have permission to perform this action.")]


def exception_handler(exc, context):
    """Our domain errors as JSON: 400 per field, 403, 404 and 409 with the current state."""
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            body = {
                ("non_field_errors" if field == "__all__" else field): messages
                for field, messages in exc.message_dict.items()
            }
        else:
            body = {"non_field_errors": exc.messages}
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, downloads.NoMandate):
        return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, workflow.SubmissionReused):
        return Response(
            {"detail": str(exc), "incident": exc.incident.pk},
            status=status.HTTP_422_UNPROCESSABLE_ENTITY,
        )
    if isinstance(exc, workflow.TransitionRefused | workflow.IncidentChanged):
        return Response(
            {"detail": str(exc), "state": exc.incident.state, "version": exc.incident.version},
            status=status.HTTP_409_CONFLICT,
        )
    if isinstance(exc, PermissionDenied) and str(exc):
        return Response({"detail": str(exc)}, status=status.HTTP_403_FORBIDDEN)
    if isinstance(exc, ObjectDoesNotExist):
        return Response({"detail": _("Not found.")}, status=status.HTTP_404_NOT_FOUND)
    if isinstance(exc, RequestDataTooBig):
        return Response(
            {
                "detail": _("The request is larger than %(limit)s bytes: shorten the texts.")
                % {"limit": settings.DATA_UPLOAD_MAX_MEMORY_SIZE}
            },
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    return drf_exception_handler(exc, context)


# An empty value is the same as none (the register page's form sends them empty).
DAY_OR_EMPTY = {"type": "string", "pattern": r"^([0-9]{4}-[0-9]{2}-[0-9]{2})?$"}
LANG = OpenApiParameter(
    "lang", {"type": "string", "enum": [*languages.CODES, ""]}, required=False
)  # empty: the person's own language
REGISTER_FILTERS = [
    LANG,
    OpenApiParameter("from", DAY_OR_EMPTY, required=False, description="YYYY-MM-DD"),
    OpenApiParameter("to", DAY_OR_EMPTY, required=False, description="YYYY-MM-DD"),
    OpenApiParameter("state", enum=State.values, required=False, allow_blank=True),
]
PDF = {(200, "application/pdf"): OpenApiTypes.BINARY}


class DownloadView(APIView):
    """PDF and CSV downloads with token auth; the same rules as the web pages."""

    permission_classes = [permissions.IsAuthenticated]
    fetch = None

    def get(self, request, **kwargs):
        return type(self).fetch(request.user, request.query_params, **kwargs)


@extend_schema_view(
    get=extend_schema(
        parameters=[
            LANG,
            OpenApiParameter(
                "controller", int, required=False, description="One controller's notification."
            ),
        ],
        responses=PDF,
    )
)
class GbaNotificationDownload(DownloadView):
    def fetch(user, params, pk):
        return downloads.incident_document(user, params, pk, Document.Kind.GBA_NOTIFICATION)


@extend_schema_view(get=extend_schema(parameters=[LANG], responses=PDF))
class ReportDownload(DownloadView):
    def fetch(user, params, pk):
        return downloads.incident_document(user, params, pk, Document.Kind.REPORT)


@extend_schema_view(
    get=extend_schema(parameters=REGISTER_FILTERS, responses={(200, "text/csv"): OpenApiTypes.STR})
)
class RegisterCsvDownload(DownloadView):
    def fetch(user, params):
        return downloads.register_document(user, params, "csv")


@extend_schema_view(get=extend_schema(parameters=REGISTER_FILTERS, responses=PDF))
class RegisterPdfDownload(DownloadView):
    def fetch(user, params):
        return downloads.register_document(user, params, "pdf")
