from django.urls import path

from . import views

app_name = "notifications"
urlpatterns = [
    path("ack/<str:token>/", views.acknowledge_link, name="acknowledge"),
    path("incidents/<int:pk>/notices/", views.controller_notices, name="notices"),
    path("incidents/<int:pk>/acknowledge/", views.acknowledge_on_page, name="acknowledge-on-page"),
    path(
        "incidents/<int:pk>/notices/<int:controller_pk>.pdf",
        views.controller_notice_pdf,
        name="notice-pdf",
    ),
    path("account/test/<str:channel>/", views.test_page, name="test-page"),
    path("account/phone/", views.new_phone, name="new-phone"),
    path("account/phone/confirm/", views.confirm_phone, name="confirm-phone"),
    path("webhooks/twilio/status/", views.twilio_status, name="twilio-status"),
    path("webhooks/twilio/sms/", views.twilio_sms, name="twilio-sms"),
    path("webhooks/twilio/voice/<int:message_id>/", views.twilio_voice, name="twilio-voice"),
    path("webhooks/sendgrid/tracking/", views.sendgrid_tracking, name="sendgrid-tracking"),
]
