"""Two real `qcluster` processes share the work, on the ORM broker and on Redis: every page goes
out, none goes out twice.

The clusters are separate processes on the test database (PostgreSQL: SQLite's single writer
would only serialise them). The file-based SMS back end writes one file per message sent, so a
message handed to the provider twice would show as two files.
"""

import os
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from django.db import connection
from django.utils import timezone
from django_q.conf import Conf
from django_q.tasks import async_task

from incidents import workflow
from notifications.models import Firing, Message

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/9")
INCIDENTS = 12

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="two clusters at once need PostgreSQL"
    ),
]


def redis_answers():
    try:
        return redis.from_url(REDIS_URL).ping()
    except redis.RedisError:
        return False


def start_clusters(env):
    return [
        subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=ROOT,
            env={**env, "Q_WORKERS": "2"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(2)
    ]


def run_two_clusters(env, security):
    clusters = start_clusters(env)
    try:
        # Awareness 5 h ago: the first alert and step 2 (aware + 4 h) are due at once.
        incidents = [
            workflow.log_incident(
                security,
                title=f"Cluster test {number}",
                description="d",
                aware_at=timezone.now() - timedelta(hours=5),
            )
            for number in range(INCIDENTS)
        ]
        for _ in range(10):  # both clusters dispatching everything at once, again and again
            async_task("notifications.tasks.dispatch")
        for _ in range(4):  # and every send task delivered again, as after a retry
            time.sleep(0.5)
            every_message = list(Message.objects.values_list("pk", flat=True))
            async_task("notifications.tasks.send_messages", every_message)
            async_task("notifications.tasks.send_messages", every_message)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            due = Firing.objects.filter(fired_at=None, due_at__lte=timezone.now()).count()
            unsent = Message.objects.exclude(status__in=["sent", "gathered"]).count()
            waiting = Firing.objects.filter(
                incident__in=incidents, step__position__in=[1, 2], repetition=0, fired_at=None
            )
            if not due and not unsent and not waiting.exists():
                break
            # What storm control held goes at the next dispatch: the schedule's, as when no
            # clock runs, but without waiting up to 30 s for django-q2's scheduler to wake.
            async_task("notifications.tasks.dispatch")
            time.sleep(0.5)
    finally:
        for cluster in clusters:
            cluster.terminate()
        for cluster in clusters:
            cluster.wait(timeout=30)
    return incidents


def assert_each_page_sent_once(tmp_path, incidents):
    """Step 1 (security and manager, SMS and e-mail) and step 2 (the manager, SMS) are due at
    once: each reaches each person on each channel exactly once, alone or listed in a page
    with other steps and incidents (one page per person and channel, up to 5 incidents)."""
    messages = (
        Message.objects.exclude(status__in=Message.NOT_PAGES)
        .select_related("recipient", "firing__step")
        .prefetch_related("also_for__step")
    )
    paged = Counter(
        (firing.incident_id, message.recipient.username, message.channel, firing.step.position)
        for message in messages
        for firing in [message.firing, *message.also_for.all()]
    )
    expected = {
        (incident.pk, person, channel, 1)
        for incident in incidents
        for person in ("security", "manager")
        for channel in ("sms", "email")
    } | {(incident.pk, "manager", "sms", 2) for incident in incidents}
    assert set(paged) == expected
    assert set(paged.values()) == {1}, "a step reached someone twice on one channel"
    assert set(messages.values_list("status", flat=True)) == {"sent"}
    # Storm control held what came within its interval (3 s here): each went out in a page.
    assert not Message.objects.exclude(status__in=["sent", "gathered"]).exists()
    assert not Message.objects.filter(status="gathered").exclude(gathered_into__status="sent")
    sms = messages.filter(channel="sms")
    files = Counter(path.name.split("-")[2] for path in (tmp_path / "sms").glob("*.txt"))
    assert sorted(files) == sorted(str(pk) for pk in sms.values_list("pk", flat=True))
    assert set(files.values()) == {1}, "an SMS was handed to the back end twice"


def test_two_clusters_on_the_orm_broker(
    tmp_path, process_env, security, manager, default_policy, monkeypatch
):
    monkeypatch.setattr(Conf, "SYNC", False)
    incidents = run_two_clusters(process_env, security)
    assert_each_page_sent_once(tmp_path, incidents)


@pytest.mark.skipif(not redis_answers(), reason=f"no Redis at {REDIS_URL}")
def test_two_clusters_on_the_redis_broker(
    tmp_path, process_env, security, manager, default_policy, monkeypatch
):
    monkeypatch.setattr(Conf, "SYNC", False)
    monkeypatch.setattr(Conf, "ORM", None)
    monkeypatch.setattr(Conf, "REDIS", REDIS_URL)
    redis.from_url(REDIS_URL).delete(f"django_q:{Conf.CLUSTER_NAME}:q")
    incidents = run_two_clusters({**process_env, "REDIS_URL": REDIS_URL}, security)
    assert_each_page_sent_once(tmp_path, incidents)
