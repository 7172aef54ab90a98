from django.apps import AppConfig
from django.core import checks
from django.utils.translation import gettext_lazy as _


class IncidentsConfig(AppConfig):
    name = "incidents"
    verbose_name = _("Incidents")


@checks.register()
def organisation_enterprise_number(app_configs, **kwargs):
    """The organisation's KBO number is printed on every letter and GBA notification: a wrong
    one is refused when the desk starts, not discovered on a signed document."""
    from django.conf import settings
    from django.core.exceptions import ValidationError

    from .identifiers import normalize_enterprise_number, validate_enterprise_number

    number = settings.ORGANISATION.get("enterprise_number", "")
    if not number:
        return []
    try:
        validate_enterprise_number(normalize_enterprise_number(number))
    except ValidationError as error:
        return [
            checks.Error(
                f"ORGANISATION_ENTERPRISE_NUMBER {number!r} is not a valid enterprise number: "
                f"{' '.join(error.messages)}",
                hint="Use the 10 digits of the KBO/BCE, e.g. 0694.679.950.",
                id="incidents.E001",
            )
        ]
    return []
