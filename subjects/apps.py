from django.apps import AppConfig


class SubjectsConfig(AppConfig):
    name = "subjects"
    verbose_name = "Communications to data subjects"

    def ready(self):
        from . import receivers  # noqa: F401 - delivery events update each recipient
