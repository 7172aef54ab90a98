"""django-q2 entry points. One recurring schedule runs `dispatch`; a new incident's first alert
goes through `async_task` at once. Tasks only carry ids and are safe to run twice."""

from django.utils import timezone
from django_q.models import Schedule
from django_q.tasks import async_task

from . import escalation

SCHEDULE_NAME = "breachdesk-escalation"


def enqueue(func, *args):
    """Hand work to the cluster (run inline when Q_CLUSTER["sync"] is set, as in tests)."""
    return async_task(func, *args)


def dispatch(incident_id=None):
    """Fire what is due (for one incident, or all), and (re)send what waits for a retry."""
    now = timezone.now()
    fired = sent = 0
    for firing_id in escalation.due_firings(now, incident=incident_id):
        for message_id in escalation.fire(firing_id, now):
            enqueue("notifications.sending.send_message", message_id)
            sent += 1
        fired += 1
    if incident_id is None:
        for message_id in escalation.messages_to_retry(now):
            enqueue("notifications.sending.send_message", message_id)
            sent += 1
    rearm()
    return {"fired": fired, "messages": sent}


def rearm():
    """Pull the recurring schedule forward to the next due moment, so django-q2's scheduler
    (which wakes every 30 s) starts `dispatch` within 30 s of it instead of a minute."""
    upcoming = escalation.next_wake_up()
    if upcoming is not None:
        Schedule.objects.filter(name=SCHEDULE_NAME, next_run__gt=upcoming).update(next_run=upcoming)
