"""The facts of an incident as plain values: what documents print and what their hash covers.

A document is made again (a new version) only when these facts changed.
"""

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
