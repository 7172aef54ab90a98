"""Handing work to the django-q2 cluster: the one place that does, so any module may queue
work without importing the tasks (which import the escalation and the sending)."""

from django_q.tasks import async_task


def enqueue(func, *args):
    """Hand work to the cluster (run inline when Q_CLUSTER["sync"] is set, as in tests)."""
    return async_task(func, *args)


def enqueue_send(message_id):
    enqueue("notifications.tasks.send_messages", [message_id])
