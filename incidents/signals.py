"""What the rest of the product may react to.

`incidents` never imports `notifications`; notifications connects to these signals.
"""

from enum import StrEnum

from django.dispatch import Signal


class Change(StrEnum):
    """What happened to an incident, as the signals below say it."""

    CREATED = "created"
    AWARE_AT_CORRECTED = "aware_at_corrected"  # its deadlines moved
    OBLIGATIONS = "obligations"  # new obligations (a controller added, a regime switched on)
    TRANSITION = "transition"  # its state moved


# Sent inside the transaction that makes the change: what must exist together with the change
# (an incident's escalation plan) is written in that same transaction, or not at all.
# incident: the Incident; kind: Change.CREATED, AWARE_AT_CORRECTED or OBLIGATIONS
incident_saving = Signal()

# Sent after the change is committed (never for a rollback): work that may fail on its own
# (handing the first alert to the queue) without undoing the change.
# incident: the Incident; kind: Change.CREATED, TRANSITION or AWARE_AT_CORRECTED
incident_changed = Signal()
