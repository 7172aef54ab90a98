"""The controller notices in the API: each affected controller's notice and its delivery, and
sending those not told yet. Notices are this app's (incidents never imports notifications),
so the route lives here, beside the incident routes it extends."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from incidents.api import RolePermission
from incidents.models import MEDIUM_TEXT, Incident, Obligation, limited_text

from . import notices


class SendNoticesSerializer(serializers.Serializer):
    delay_reason = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=MEDIUM_TEXT,
        validators=limited_text(MEDIUM_TEXT), help_text="Required once the deadline passed.",
    )  # fmt: skip


class NoticeSerializer(serializers.Serializer):
    controller = serializers.IntegerField()
    controller_name = serializers.CharField()
    to = serializers.CharField()
    language = serializers.CharField()
    told = serializers.CharField(help_text="The obligation's status: open, met, withdrawn.")
    told_at = serializers.DateTimeField(allow_null=True)
    message = serializers.IntegerField(allow_null=True)
    status = serializers.CharField(allow_null=True, help_text="queued, sending, sent, delivered…")
    sent_at = serializers.DateTimeField(allow_null=True)
    delivered_at = serializers.DateTimeField(allow_null=True)
    error = serializers.CharField(allow_blank=True)
    document_version = serializers.IntegerField(allow_null=True)


def notice_rows(incident):
    latest = notices.latest_notices(incident)
    told = {
        o.controller_id: o
        for o in incident.obligations.filter(kind=Obligation.Kind.TELL_CONTROLLER)
    }
    rows = []
    for controller in incident.controllers.order_by("name"):
        message = latest.get(controller.pk)
        obligation = told.get(controller.pk)
        rows.append(
            {
                "controller": controller.pk,
                "controller_name": controller.name,
                "to": controller.email,
                "language": controller.language,
                "told": obligation.status if obligation else "",
                "told_at": obligation.met_at if obligation else None,
                "message": message.pk if message else None,
                "status": message.status if message else None,
                "sent_at": message.sent_at if message else None,
                "delivered_at": message.delivered_at if message else None,
                "error": message.error if message else "",
                "document_version": message.document.version
                if message and message.document
                else None,
            }
        )
    return rows


class ControllerNotices(GenericAPIView):
    """GET: each affected controller's notice and its delivery. POST: send the notices of the
    controllers not told yet (idempotent: a notice on its way or accepted by the provider is
    never sent again); 202 with the list."""

    permission_classes = [RolePermission]  # reading needs incidents.view_incident
    queryset = Incident.objects.all()
    serializer_class = NoticeSerializer
    pagination_class = None

    @extend_schema(responses=NoticeSerializer(many=True))
    def get(self, request, pk):
        incident = get_object_or_404(Incident, pk=pk)
        return Response(NoticeSerializer(notice_rows(incident), many=True).data)

    @extend_schema(request=SendNoticesSerializer, responses={202: NoticeSerializer(many=True)})
    def post(self, request, pk):
        incident = get_object_or_404(Incident, pk=pk)
        serializer = SendNoticesSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        notices.send_notices(incident.pk, request.user, serializer.validated_data["delay_reason"])
        rows = NoticeSerializer(notice_rows(incident), many=True).data
        return Response(rows, status=status.HTTP_202_ACCEPTED)
