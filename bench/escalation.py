"""Escalation under load, with a real django-q2 cluster and the file-based SMS back end.

    .venv/bin/python bench/escalation.py [--incidents 1000] [--workers 2] [--clusters 1]
                                         [--clocks 1] [--step 5] [--no-storm-control]

Starts `manage.py qcluster` (--clusters of them) and `manage.py clock` (--clocks; 0 for the
q2 schedule alone) as separate processes on a fresh database (a temporary SQLite file, or the empty,
disposable database in DATABASE_URL), logs the incidents at a steady pace (--pace) while the
clocks and clusters send their first alerts, then, once every first alert has left, moves a
step of the default policy (--step; 5, the deadline's OVERDUE page, by default) of all of them
into one minute starting 10 s later, as an edited policy or a corrected awareness would (so a
slow logging phase cannot eat the window). Then it waits until every due step has fired and
every message has left, and prints: first-alert latency (incident logged -> the first SMS that
names it handed to the back end), step lateness (due -> fired, and due -> SMS sent), pages of a
deadline sent before it, duplicates (messages per firing, recipient and channel, and files
written per message) and messages per second.

Storm control holds a page that comes within a minute of the person's last one (not a
deadline's): with it, step 2 (a reminder) of 1,000 incidents in a minute goes out in one page a
minute and first alerts logged at 10/s wait up to a minute. --no-storm-control turns it off to
measure the clock alone (`--step 2 --no-storm-control` is the run of earlier sessions).
"""

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = Path(tempfile.mkdtemp(prefix="breachdesk-bench-"))
sys.path.insert(0, str(ROOT))
from bench.processes import clusters_and_clocks, prepare  # noqa: E402

prepare(WORK, "bench.sqlite3")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import User  # noqa: E402
from incidents import workflow  # noqa: E402
from notifications.models import Firing, Message  # noqa: E402


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def seconds(deltas):
    return [delta.total_seconds() for delta in deltas]


def people():
    for username, role in [("sec", "security"), ("man1", "manager"), ("man2", "manager")]:
        user = User.objects.create_user(
            username, f"{username}@conitro.example", "x", phone=f"+3247100{len(username):04d}"
        )
        user.groups.add(Group.objects.get(name=role))
    return User.objects.get(username="sec")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clusters", type=int, default=1)
    parser.add_argument("--clocks", type=int, default=1)
    parser.add_argument("--pace", type=float, default=10.0, help="incidents logged per second")
    parser.add_argument("--step", type=int, default=5, help="the step moved into the window")
    parser.add_argument("--no-storm-control", action="store_true")
    options = parser.parse_args()
    if options.no_storm_control:
        for channel in ("SMS", "CALL", "EMAIL"):
            os.environ[f"PAGE_MIN_INTERVAL_{channel}"] = "0"
        settings.PAGE_MIN_INTERVAL = dict.fromkeys(settings.PAGE_MIN_INTERVAL, timedelta(0))

    call_command("migrate", verbosity=0)
    security = people()
    with clusters_and_clocks(options.clusters, options.clocks, options.workers):
        time.sleep(4)  # let the clusters and clocks start
        started = time.monotonic()
        for number in range(options.incidents):
            workflow.log_incident(
                security, title=f"Bench {number}", description="bench", aware_at=timezone.now()
            )
            pause = started + (number + 1) / options.pace - time.monotonic()
            if pause > 0:
                time.sleep(pause)
        logged = time.monotonic() - started
        while Message.objects.filter(status__in=["queued", "sending", "held"]).exists():
            time.sleep(0.5)
        print(f"logged {options.incidents} in {logged:.1f} s; first alerts all sent after "
              f"{time.monotonic() - started:.1f} s")  # fmt: skip
        window_start = timezone.now() + timedelta(seconds=10)
        rng = random.Random(1)
        step2 = Firing.objects.filter(step__position=options.step, repetition=0, fired_at=None)
        for firing in step2:
            due = window_start + timedelta(seconds=rng.uniform(0, 60))
            Firing.objects.filter(pk=firing.pk, fired_at=None).update(due_at=due)
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            waiting = Firing.objects.filter(fired_at=None, due_at__lte=timezone.now()).count()
            unsent = Message.objects.filter(status__in=["queued", "sending", "held"]).count()
            if timezone.now() > window_start + timedelta(seconds=60) and not waiting and not unsent:
                break
            time.sleep(1)
    report(options)


def report(options):
    # Every SMS and what it lists: its own firing, and the steps (of the same incident or, in
    # a digest, of others) due with it.
    listed = []  # (firing, message)
    sms = Message.objects.filter(channel="sms").exclude(firing=None).exclude(status="gathered")
    for message in sms.select_related("firing__step", "firing__incident").prefetch_related(
        "also_for__step", "also_for__incident"
    ):
        listed += [(firing, message) for firing in [message.firing, *message.also_for.all()]]
    first_alert = {}  # incident -> its first alert's SMS, the first one sent
    step2_sent = {}  # step 2 firing -> the SMS listing it, sent first
    for firing, message in listed:
        if not message.sent_at:
            continue
        if firing.step.position == 1:
            latency = message.sent_at - firing.incident.created_at
            first_alert[firing.incident_id] = min(
                first_alert.get(firing.incident_id, latency), latency
            )
        elif firing.step.position == options.step and firing.repetition == 0:
            late = message.sent_at - firing.due_at
            step2_sent[firing.pk] = min(step2_sent.get(firing.pk, late), late)
    first = list(first_alert.values())
    overdue = Firing.objects.filter(step__position=options.step, step__overdue=True).exists()
    step2 = Firing.objects.filter(step__position=options.step, repetition=0).exclude(fired_at=None)
    fired_late = [firing.fired_at - firing.due_at for firing in step2]
    sms_late = list(step2_sent.values())
    early = sum(1 for late in sms_late if late.total_seconds() < 0)
    pages = Counter(
        (firing.pk, message.recipient_id, message.channel) for firing, message in listed
    )
    duplicates = sum(1 for count in pages.values() if count > 1)
    incidents_per_sms = {}
    for firing, message in listed:
        incidents_per_sms.setdefault(message.pk, set()).add(firing.incident_id)
    digests = sum(1 for incidents in incidents_per_sms.values() if len(incidents) > 1)
    files = Counter(
        path.name.split("-")[2] for path in (WORK / "sms").glob("*.txt")
    )  # YYYYmmdd-HHMMSS-<message id>-<channel>.txt
    files_twice = sum(1 for count in files.values() if count > 1)
    sent = Message.objects.exclude(sent_at=None)
    span = (max(m.sent_at for m in sent) - min(m.created_at for m in sent)).total_seconds() or 1
    not_fired = Firing.objects.filter(
        step__position=options.step, repetition=0, fired_at=None
    ).count()
    broker = "Redis" if os.environ.get("REDIS_URL") else "ORM"
    print(f"database: {connection.vendor}; broker: {broker}; {options.clusters} cluster(s) of "
          f"{options.workers} workers; {options.clocks} clock(s); "
          f"{options.incidents} incidents logged at {options.pace:.0f}/s; step {options.step} "
          f"moved; storm control {'off' if options.no_storm_control else 'on'}")  # fmt: skip
    first_s = seconds(first)
    print(
        f"first alert (logged -> the first SMS naming it sent): "
        f"median {statistics.median(first_s):.2f} s, "
        f"p99 {percentile(first_s, 0.99):.2f} s, max {max(first_s):.2f} s ({len(first_s)} SMS)"
    )
    fired_s, sms_s = seconds(fired_late), seconds(sms_late)
    print(
        f"step {options.step} lateness, due -> fired: median {statistics.median(fired_s):.2f} s, "
        f"p99 {percentile(fired_s, 0.99):.2f} s, max {max(fired_s):.2f} s "
        f"({len(fired_s)} firings, {not_fired} not fired)"
    )
    print(
        f"step {options.step} lateness, due -> SMS sent: median {statistics.median(sms_s):.2f} s, "
        f"p99 {percentile(sms_s, 0.99):.2f} s, max {max(sms_s):.2f} s ({len(sms_s)} steps)"
    )
    print(
        f"merged: {len(listed)} steps paged in {sms.count()} SMS; {digests} SMS list several "
        f"incidents; {early} step-{options.step} pages went out before their time"
        + (f", up to {-min(sms_s):.0f} s" if early else "")
        + (" (a deadline's page: never early)" if overdue else "")
    )
    print(
        f"duplicates: {duplicates} steps paged twice to a person on a channel, "
        f"{files_twice} SMS files written twice"
    )
    print(f"messages: {sent.count()} sent in {span:.0f} s = {sent.count() / span:.1f} per second")
    print(f"files in {WORK}")


if __name__ == "__main__":
    main()
