"""django-q2 entry points. One recurring schedule runs `dispatch`; a new incident's first alert
goes through `async_task` at once. Tasks only carry ids and are safe to run twice."""

from django.utils import timezone
from django_q.models import Schedule

from . import escalation
from .queue import enqueue
from .sending import send_message

SCHEDULE_NAME = "breachdesk-escalation"
SEND_CHUNK = 20  # messages per send task: the workers send side by side


def dispatch(incident_id=None):
    """Fire what is due (for one incident, or all), and (re)send what waits for a retry.

    Firings are fired a batch of incidents at a time (`escalation.fire_due`). A new incident's
    first alert is sent right here, without another trip through the queue; the periodic run
    hands the messages to the workers in tasks of SEND_CHUNK, sent side by side.
    """
    now = timezone.now()
    fired = sent = 0
    if incident_id is None:
        # A sweep: an open incident without a plan (saved before plans were made with the
        # incident, or restored from a backup) gets one, and its overdue steps fire now.
        for incident in escalation.open_incidents_without_plan():
            escalation.plan(incident, now)
    more = True
    while more:
        claimed, message_ids, more = escalation.fire_due(now, incident=incident_id)
        fired += len(claimed)
        sent += len(message_ids)
        if incident_id is not None:
            send_messages(message_ids)
        else:
            for start in range(0, len(message_ids), SEND_CHUNK):
                enqueue(
                    "notifications.tasks.send_messages", message_ids[start : start + SEND_CHUNK]
                )
    if incident_id is not None:
        # Held pages whose minute is over go now too, not at the next sweep.
        send_messages(escalation.release_held(now))
    if incident_id is None:
        retries = escalation.messages_to_retry(now)
        sent += len(retries)
        for start in range(0, len(retries), SEND_CHUNK):
            enqueue("notifications.tasks.send_messages", retries[start : start + SEND_CHUNK])
    rearm()
    return {"fired": fired, "messages": sent}


def send_messages(message_ids):
    """Each message is claimed on its own, so a task run twice sends nothing twice."""
    return [send_message(message_id) for message_id in message_ids]


def rearm():
    """Pull the recurring schedule forward to the next due moment, so django-q2's scheduler
    (which wakes every 30 s) starts `dispatch` within 30 s of it instead of a minute.

    Never into the past: django-q2 walks an overdue schedule forward one interval per loop,
    inside a transaction, so a `next_run` in 1990 would hold the database for minutes while
    no page goes out. Whatever is overdue is due now.
    """
    upcoming = escalation.next_wake_up()
    if upcoming is not None:
        upcoming = max(upcoming, timezone.now())
        Schedule.objects.filter(name=SCHEDULE_NAME, next_run__gt=upcoming).update(next_run=upcoming)
