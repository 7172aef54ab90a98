from django.urls import path
from rest_framework.routers import DefaultRouter

from . import api

router = DefaultRouter()
router.register("incidents", api.IncidentViewSet, basename="incident")
router.register("controllers", api.ControllerViewSet, basename="controller")
router.register("data-categories", api.DataCategoryViewSet, basename="data-category")
router.register("subject-categories", api.SubjectCategoryViewSet, basename="subject-category")
router.register(
    "processing-activities", api.ProcessingActivityViewSet, basename="processing-activity"
)
urlpatterns = [
    path(
        "incidents/<int:pk>/documents/gba-notification.pdf",
        api.GbaNotificationDownload.as_view(),
        name="api-gba-notification-pdf",
    ),
    path(
        "incidents/<int:pk>/documents/report.pdf",
        api.ReportDownload.as_view(),
        name="api-report-pdf",
    ),
    path("register.csv", api.RegisterCsvDownload.as_view(), name="api-register-csv"),
    path("register.pdf", api.RegisterPdfDownload.as_view(), name="api-register-pdf"),
    *router.urls,
]
