"""The facts of an incident as plain values: what documents print and what their hash covers.

A document is made again (a new version) only when these facts changed.
"""

from django.conf import settings
from django.utils.translation import gettext as _

from ..models import Controller
from ..workflow import FACT_FIELDS, as_json, assessment_snapshot
from .base import facts_hash

INCIDENT_FIELDS = [
    *FACT_FIELDS,
    "reference",
    "state",
    "deadline_at",
    "dismissal_reason",
    "gba_reference",
    "gba_submitted_at",
    "gba_delay_reason",
    "controller_notified_at",
    "controller_notification_method",
    "controller_delay_reason",
    "closed_at",
]


CONTROLLER_FIELDS = ["pk", *Controller.DETAILS]


def incident_facts(incident):
    """Everything a document prints: a change to any of it (a controller's address, the
    organisation's settings, an obligation met) makes a new document version."""
    facts = {field: as_json(getattr(incident, field)) for field in INCIDENT_FIELDS}
    facts["text_language"] = incident.text_language
    facts["gba_combined"] = incident.gba_combined
    facts["assessment"] = assessment_snapshot(incident.assessment_or_none())
    facts["controllers"] = list(incident.controllers.values_list(*CONTROLLER_FIELDS))
    facts["obligations"] = [
        [as_json(value) for value in row]
        for row in incident.obligations.values_list(
            "kind", "controller_id", "status", "deadline_at", "met_at", "reference", "delay_reason"
        )
    ]
    facts["organisation"] = settings.ORGANISATION
    return facts


def incident_digest(incident):
    """The fingerprint of the incident's facts: stored with a document and printed in its
    footer, so a printout can be matched to its record."""
    return facts_hash(incident_facts(incident))


def assessment_rows(assessment, language, unknown):
    """The assessment as label/value rows, as the report and the controller's notice print it
    (call inside translation.override(language))."""
    from ..fact_texts import text
    from .base import number

    severity = assessment.severity

    def known(value):
        return value if value not in (None, "") else unknown

    cause = [
        str(getattr(assessment, f"get_{field}_display")())
        for field in ("cause_origin", "cause_actor", "cause_intent")
        if getattr(assessment, field) != "unknown"
    ]
    # One phrase: "External, human, malicious".
    cause = cause[:1] + [c[:1].lower() + c[1:] for c in cause[1:]]
    return [
        (_("Type of breach"), ", ".join(str(kind) for kind in assessment.breach_types())),
        (
            _("Categories of personal data"),
            "; ".join(c.name_in(language) for c in assessment.data_categories.all()),
        ),
        (
            _("Categories of data subjects"),
            "; ".join(c.name_in(language) for c in assessment.subject_categories.all()),
        ),
        (
            _("Approximate number of data subjects"),
            number(assessment.subjects_count, unknown, language),
        ),
        (_("Approximate number of records"), number(assessment.records_count, unknown, language)),
        (_("Cause"), ", ".join(cause) or unknown),
        (_("Likely consequences"), known(text(assessment, "consequences", language))),
        (_("Risk to the data subjects"), assessment.get_risk_level_display()),
        (
            _("Severity by an internal method (ENISA 2013; not the legal test)"),
            f"{number(severity.score, language=language)} — {severity.band_label}",
        ),
        (_("Measures taken"), known(text(assessment, "measures_taken", language))),
        (_("Measures proposed"), known(text(assessment, "measures_proposed", language))),
        (
            _("Data subjects informed"),
            _("%(decision)s: %(how)s")
            % {
                "decision": assessment.get_subjects_informed_display(),
                "how": text(assessment, "subjects_informed_reason", language),
            },
        ),
    ]
