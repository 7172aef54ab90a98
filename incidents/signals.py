"""What the rest of the product may react to. Sent after the change is committed.

`incidents` never imports `notifications`; notifications connects to these signals.
"""

from django.dispatch import Signal

# incident: the Incident; kind: "created", "transition" or "aware_at_corrected"
incident_changed = Signal()
