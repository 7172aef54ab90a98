from django.urls import path

from . import views

app_name = "incidents"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("incidents/new/", views.create, name="create"),
    path("incidents/<int:pk>/", views.detail, name="detail"),
    path("incidents/<int:pk>/edit/", views.edit, name="edit"),
    path("incidents/<int:pk>/assess/", views.assess, name="assess"),
    path(
        "incidents/<int:pk>/documents/gba-notification.pdf",
        views.gba_notification_pdf,
        name="gba-notification-pdf",
    ),
    path("incidents/<int:pk>/documents/report.pdf", views.report_pdf, name="report-pdf"),
    path(
        "incidents/<int:pk>/regimes/<int:rule_id>/",
        views.regime_report,
        name="regime-report",
    ),
    path(
        "incidents/<int:pk>/regimes/<int:rule_id>/request/",
        views.regime_request,
        name="regime-request",
    ),
    path(
        "incidents/<int:pk>/regimes/<int:rule_id>/summary.pdf",
        views.regime_summary_pdf,
        name="regime-summary-pdf",
    ),
    path("register.csv", views.register_csv, name="register-csv"),
    path("register.pdf", views.register_pdf, name="register-pdf"),
    path(
        "incidents/<int:pk>/controllers/<int:controller_id>/",
        views.affected_controller,
        name="affected-controller",
    ),
    path("incidents/<int:pk>/texts/<str:language>/", views.translate_texts, name="translate"),
    path("incidents/<int:pk>/<slug:action>/", views.action, name="action"),
    path("register/", views.register, name="register"),
    path("controllers/", views.controllers, name="controllers"),
    path("controllers/lookup/", views.controller_lookup, name="controller-lookup"),
    path("controllers/new/", views.controller_form, name="controller-create"),
    path("controllers/import/", views.import_controllers, name="controller-import"),
    path("controllers/<int:pk>/", views.controller_form, name="controller-edit"),
]
