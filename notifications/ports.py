"""notifications' answers to what incidents' pages and documents ask of it (incidents.ports):
incidents never imports this app, the app fills the port when it loads."""

from django.db.models import Count, Exists, OuterRef, Q, Subquery
from django.utils import timezone

from incidents import ports

from .models import Acknowledgement, Firing, Message


class Paging(ports.Nothing):
    def annotate(self, incidents):
        latest = Acknowledgement.objects.filter(incident=OuterRef("pk")).order_by("-at")
        return incidents.annotate(
            acknowledged_by=Subquery(latest.values("user__display_name")[:1]),
            acknowledged_by_username=Subquery(latest.values("user__username")[:1]),
            acknowledged_at=Subquery(latest.values("at")[:1]),
            paged=Exists(
                Firing.objects.filter(incident=OuterRef("pk"), outcome=Firing.Outcome.SENT)
            ),
        )

    def paging_person(self, user):
        # EXISTS, not joins: an incident paged for 30 hours has thousands of messages.
        return Exists(
            Message.objects.filter(
                Q(incident=OuterRef("pk")) | Q(also_for__incident=OuterRef("pk")),
                recipient=user,
            )
        )

    def notices_by_status(self, incident):
        rows = (
            Message.objects.filter(incident=incident)
            .exclude(controller=None)
            .values("status")
            .annotate(n=Count("id"))
            .order_by("status")
        )
        return [(Message.Status(row["status"]).label, row["n"]) for row in rows]

    def messages_about(self, incident):
        return (
            Message.objects.about(incident)
            .distinct()
            .select_related("recipient", "firing__step")
            .prefetch_related("also_for__step")
            .order_by("created_at", "id")
        )

    def message_states(self, incident):
        return list(Message.objects.filter(incident=incident).values_list("pk", "status"))

    def settle_unpaged(self, incident):
        Firing.objects.filter(incident=incident, fired_at=None).update(
            fired_at=timezone.now(), outcome=Firing.Outcome.STATE_REACHED
        )
