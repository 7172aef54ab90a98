from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("Escalation and messages")

    def ready(self):
        from incidents import ports

        from . import receivers  # noqa: F401 - connects the signal receivers
        from .ports import Paging

        ports.fill(Paging())
