"""The facts of an incident as plain values: what documents print and what their hash covers.

A document is made again (a new version) only when these facts changed.
"""

from django.utils.translation import gettext as _

from ..workflow import FACT_FIELDS, as_json, assessment_snapshot

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


def incident_facts(incident):
    facts = {field: as_json(getattr(incident, field)) for field in INCIDENT_FIELDS}
    facts["assessment"] = assessment_snapshot(incident.assessment_or_none())
    return facts


def assessment_rows(assessment, language, unknown):
    """The assessment as label/value rows, as the report and the controller's notice print it
    (call inside translation.override(language))."""
    severity = assessment.severity
    return [
        (_("Severity (ENISA)"), f"{severity.score} — {severity.band_label}"),
        (_("Type of breach"), ", ".join(str(kind) for kind in assessment.breach_types())),
        (
            _("Categories of personal data"),
            "; ".join(c.name_in(language) for c in assessment.data_categories.all()),
        ),
        (
            _("Categories of data subjects"),
            "; ".join(c.name_in(language) for c in assessment.subject_categories.all()),
        ),
        (_("Approximate number of data subjects"), str(assessment.subjects_count)),
        (_("Approximate number of records"), str(assessment.records_count)),
        (_("Likely consequences"), assessment.consequences),
        (_("Measures taken"), assessment.measures_taken),
        (_("Measures proposed"), assessment.measures_proposed or unknown),
        (
            _("Data subjects informed"),
            f"{assessment.get_subjects_informed_display()}: {assessment.subjects_informed_reason}",
        ),
    ]
