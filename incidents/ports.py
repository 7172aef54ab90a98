"""What incidents shows of the work of the apps built on it (the pages sent, who acknowledged
them, the notices to controllers), asked through one port instead of importing them: DESIGN.md
keeps `incidents` free of `notifications`. `NotificationsConfig.ready` fills `ports.paging`
with `notifications.ports.Paging`; without it, the port answers that nothing was paged."""

from django.db.models import CharField, DateTimeField, Q, Value


class Nothing:
    """The answers of a desk without paging: nobody paged, nothing sent."""

    def annotate(self, incidents):
        """The dashboard's rows annotated with `acknowledged_by`, `acknowledged_by_username`,
        `acknowledged_at` (the latest acknowledgement) and `paged` (anyone paged)."""
        return incidents.annotate(
            acknowledged_by=Value(None, output_field=CharField()),
            acknowledged_by_username=Value(None, output_field=CharField()),
            acknowledged_at=Value(None, output_field=DateTimeField()),
            paged=Value(False),
        )

    def paging_person(self, user):
        """A condition on incidents: this person was paged about it."""
        return Q(pk__in=[])

    def notices_by_status(self, incident):
        """[(status label, count)] of the notices to controllers."""
        return []

    def messages_about(self, incident):
        """Every message about the incident, oldest first (the report prints them)."""
        return []

    def message_states(self, incident):
        """[(id, status)]: what makes a new version of the report."""
        return []

    def settle_unpaged(self, incident):
        """The pages not sent yet of an incident settled before anyone could be paged (the
        demo's) are recorded as not needed."""


paging = Nothing()


def fill(implementation):
    """The paging app's answers (called once, when it loads)."""
    global paging
    paging = implementation
