"""The facts of an incident as plain values: what documents print and what their hash covers.

A document is made again (a new version) only when these facts changed.
"""

from django.conf import settings
from django.utils.translation import gettext as _

from ..models import AffectedController, Controller
from ..workflow import FACT_FIELDS, as_json, assessment_snapshot
from .base import facts_hash, number

INCIDENT_FIELDS = [
    *FACT_FIELDS,
    "reference",
    "state",
    "deadline_at",
    "dismissal_reason",
    "gba_delay_reason",
    "closed_at",
]


CONTROLLER_FIELDS = ["pk", *Controller.DETAILS]


def incident_facts(incident):
    """Everything a document prints: a change to any of it (a controller's address, the
    organisation's settings, an obligation met) makes a new document version."""
    facts = {field: as_json(getattr(incident, field)) for field in INCIDENT_FIELDS}
    facts["translations"] = incident.translations  # a translation is a new version too
    facts["text_language"] = incident.text_language
    facts["gba_combined"] = incident.gba_combined
    facts["assessment"] = assessment_snapshot(incident.assessment_or_none())
    facts["controllers"] = list(incident.controllers.values_list(*CONTROLLER_FIELDS))
    facts["affected"] = affected_facts(incident)
    facts["obligations"] = [
        [as_json(value) for value in row]
        for row in incident.obligations.values_list(
            "kind", "controller_id", "status", "deadline_at", "met_at", "reference", "delay_reason"
        )
    ]
    facts["organisation"] = settings.ORGANISATION
    return facts


def affected_facts(incident):
    """Each controller's own share of the facts, in a fixed number of queries (5,000
    controllers)."""
    rows = {
        controller: [subjects, records]
        for controller, subjects, records in incident.affected.values_list(
            "controller_id", "subjects_count", "records_count"
        )
    }
    for name in ("data_categories", "subject_categories", "processing_activities"):
        field = AffectedController._meta.get_field(name)
        through = field.remote_field.through
        target = field.m2m_reverse_field_name()
        pairs = through.objects.filter(affectedcontroller__incident=incident).values_list(
            "affectedcontroller__controller_id", f"{target}_id"
        )
        chosen = {}
        for controller, item in pairs:
            chosen.setdefault(controller, []).append(item)
        for controller, row in rows.items():
            row.append(sorted(chosen.get(controller, [])))
    return sorted(rows.items())


def incident_digest(incident):
    """The fingerprint of the incident's facts: stored with a document and printed in its
    footer, so a printout can be matched to its record."""
    return facts_hash(incident_facts(incident))


def share_rows(assessment, affected, language, unknown):
    """What the processing of one controller (affected) or of the whole platform (None)
    involves, as label/value rows: a controller's own figures and categories where given;
    until they are split, the platform's, and the row says so (call inside
    translation.override(language))."""

    def names(items):  # in the reader's alphabetical order
        return "; ".join(sorted(item.name_in(language) for item in items))

    # With one controller, the platform's figures are its own.
    split = affected is not None and affected.incident.affected.count() > 1

    def platform(value):
        if not split or value == unknown:
            return value
        return _("%(value)s (the whole platform; not split per controller yet)") % {"value": value}

    rows = []
    lists = [
        ("processing_activities", _("Purpose of the processing")),
        ("data_categories", _("Categories of personal data")),
        ("subject_categories", _("Categories of data subjects")),
    ]
    for name, label in lists:
        own = list(getattr(affected, name).all()) if affected is not None else []
        rows.append(
            (
                label,
                names(own) if own else platform(names(getattr(assessment, name).all()) or unknown),
            )
        )
    counts = [
        ("subjects_count", _("Approximate number of data subjects")),
        ("records_count", _("Approximate number of records")),
    ]
    for name, label in counts:
        own = getattr(affected, name, None)
        rows.append(
            (
                label,
                number(own, language=language)
                if own is not None
                else platform(number(getattr(assessment, name), unknown, language)),
            )
        )
    return rows


def assessment_rows(assessment, language, unknown, affected=None):
    """The assessment as label/value rows, as the report and the controller's notice print it
    (call inside translation.override(language)); for one controller, its own share."""
    from ..fact_texts import text_in

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
        *share_rows(assessment, affected, language, unknown),
        (_("Cause"), ", ".join(cause) or unknown),
        (_("Likely consequences"), known(text_in(assessment, "consequences", language))),
        (_("Risk to the data subjects"), assessment.get_risk_level_display()),
        (
            _("Severity by an internal method (ENISA 2013; not the legal test)"),
            f"{number(severity.score, language=language)} — {severity.band_label}",
        ),
        (_("Measures taken"), known(text_in(assessment, "measures_taken", language))),
        (_("Measures proposed"), known(text_in(assessment, "measures_proposed", language))),
        (
            _("Data subjects informed"),
            _("%(decision)s: %(how)s")
            % {
                "decision": assessment.get_subjects_informed_display(),
                "how": text_in(assessment, "subjects_informed_reason", language),
            },
        ),
    ]
