from rest_framework.routers import DefaultRouter

from . import api

router = DefaultRouter()
router.register("incidents", api.IncidentViewSet, basename="incident")
router.register("controllers", api.ControllerViewSet, basename="controller")
urlpatterns = router.urls
