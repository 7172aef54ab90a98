from django.urls import path

from . import api

urlpatterns = [
    path(
        "incidents/<int:pk>/controller-notices/",
        api.ControllerNotices.as_view(),
        name="api-controller-notices",
    ),
]
