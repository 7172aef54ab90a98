"""What the rest of the product may react to.

`incidents` never imports `notifications`; notifications connects to these signals.
"""

from django.dispatch import Signal

# Sent inside the transaction that makes the change: what must exist together with the change
# (an incident's escalation plan) is written in that same transaction, or not at all.
# incident: the Incident; kind: "created", "aware_at_corrected" or "obligations" (new ones)
incident_saving = Signal()

# Sent after the change is committed (never for a rollback): work that may fail on its own
# (handing the first alert to the queue) without undoing the change.
# incident: the Incident; kind: "created", "transition" or "aware_at_corrected"
incident_changed = Signal()
