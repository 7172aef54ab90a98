from django.urls import path

from . import views

app_name = "subjects"
urlpatterns = [
    path(
        "incidents/<int:pk>/subjects/<int:controller_id>/",
        views.communication,
        name="communication",
    ),
    path(
        "incidents/<int:pk>/subjects/<int:controller_id>/progress/",
        views.progress_json,
        name="progress",
    ),
    path("notice/<str:key>/", views.public, name="public"),
]
