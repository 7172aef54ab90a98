"""React to incidents: plan the escalation with a new incident and send its first alert at once."""

import logging

from anymail.signals import tracking
from django.dispatch import receiver
from django_q.conf import Conf
from django_q.signals import post_spawn

from incidents.signals import Change, incident_changed, incident_saving

from . import escalation
from .models import Channel, Message
from .queue import enqueue
from .sending import update_status
from .tasks import rearm


@receiver(incident_saving)
def plan_with_the_incident(sender, incident, kind, **extra):
    """In the incident's own transaction: no incident is ever saved without its plan."""
    if kind == Change.CREATED:
        escalation.plan(incident)
    elif kind == Change.AWARE_AT_CORRECTED:
        escalation.replan(incident, escalation.earliest_open(incident))
    elif kind == Change.OBLIGATIONS:
        escalation.plan_for_obligations(incident)


@receiver(incident_changed)
def on_incident_changed(sender, incident, kind, **extra):
    """After the commit: the first alert goes to the queue at once. Should the queue be
    unreachable, the periodic dispatch sends it (the firing is already saved)."""
    if kind == Change.CREATED:
        enqueue("notifications.tasks.dispatch", incident.pk)
    rearm()


@receiver(post_spawn)
def dispatch_after_a_restart(sender, proc_name, **extra):
    """A worker (re)started: what fell due while the cluster was down goes out now, not when
    the schedule next comes round. Several workers doing it at once is harmless: firing is a
    compare-and-set. (Tasks run inline, as in tests, call the worker once per task: no
    restart there.)"""
    if Conf.SYNC:
        return
    try:
        enqueue("notifications.tasks.dispatch")
    except Exception:  # noqa: BLE001 - the schedule still runs dispatch within a minute
        logger.exception("could not queue a dispatch after %s started", proc_name)


@receiver(tracking)
def on_email_event(sender, event, esp_name, **extra):
    """SendGrid's delivery events, already verified by anymail, update the message."""
    status = EMAIL_STATUSES.get(event.event_type)
    message = Message.objects.filter(provider_id=event.message_id, channel=Channel.EMAIL).first()
    if message is not None and status is not None:
        update_status(message, status, event.description or event.mta_response or "")


logger = logging.getLogger(__name__)

EMAIL_STATUSES = {
    "delivered": Message.Status.DELIVERED,
    "bounced": Message.Status.BOUNCED,
    "rejected": Message.Status.FAILED,
    "failed": Message.Status.FAILED,
}
