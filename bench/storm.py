"""An alert storm: a SIEM logs 200 incidents through the API within a minute.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/storm REDIS_URL=redis://127.0.0.1:6379/3 \
        .venv/bin/python bench/storm.py [--incidents 200] [--over 60] [--clusters 2] [--clocks 2]
        [--watch 300] [--burst]

Starts `manage.py qcluster` (--clusters) and `manage.py clock` (--clocks) as separate processes
on a fresh database (a temporary SQLite file, or the empty, disposable database in
DATABASE_URL), with file back ends for SMS, calls and e-mail. It logs the incidents through
`POST /api/incidents/` (in this process, through the whole middleware and the API view), spread
evenly over --over seconds (--burst: all at once), watches for --watch seconds from the first
one, and prints per person and channel the messages that went out in the first five minutes,
the first page of the storm per person (logged -> handed to the back end), how long each
incident waited to be named in a page, whether every incident was paged to every person its
first step pages, and duplicates (a step paged twice to a person on a channel; a file written
twice for one message).
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = Path(tempfile.mkdtemp(prefix="breachdesk-storm-"))
sys.path.insert(0, str(ROOT))
from bench.processes import clusters_and_clocks, prepare  # noqa: E402

prepare(WORK, "storm.sqlite3", API_RATE="100000/minute")

import django  # noqa: E402

django.setup()

from django.contrib.auth.models import Group  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402

from accounts.models import User  # noqa: E402
from incidents.models import Incident  # noqa: E402
from notifications.models import Firing, Message  # noqa: E402

FIVE_MINUTES = timedelta(minutes=5)


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def people():
    """A SIEM account (security), two managers and the DPO, each with a phone."""
    made = {}
    for number, (username, role) in enumerate(
        [("siem", "security"), ("man1", "manager"), ("man2", "manager"), ("dpo", "dpo")]
    ):
        user = User.objects.create_user(
            username, f"{username}@conitro.example", "x", phone=f"+324710000{number:02d}"
        )
        user.groups.add(Group.objects.get(name=role))
        made[username] = user
    return made


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=200)
    parser.add_argument("--over", type=float, default=60.0, help="seconds to log them in")
    parser.add_argument("--burst", action="store_true", help="log them all at once")
    parser.add_argument("--clusters", type=int, default=2)
    parser.add_argument("--clocks", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--watch", type=float, default=300.0, help="seconds to watch")
    options = parser.parse_args()

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    staff = people()
    token = Token.objects.create(user=staff["siem"])
    api = Client(HTTP_AUTHORIZATION=f"Token {token.key}")
    with clusters_and_clocks(options.clusters, options.clocks, options.workers):
        time.sleep(5)  # let the clusters and clocks start
        started = time.monotonic()
        pace = 0 if options.burst else options.over / options.incidents
        for number in range(options.incidents):
            response = api.post(
                "/api/incidents/",
                json.dumps({"title": f"SIEM alert {number}", "description": "SIEM rule 4711"}),
                content_type="application/json",
            )
            assert response.status_code == 201, response.content
            pause = started + (number + 1) * pace - time.monotonic()
            if pause > 0:
                time.sleep(pause)
        logged = time.monotonic() - started
        time.sleep(max(options.watch - (time.monotonic() - started), 0))
    report(options, staff, logged)


def report(options, staff, logged):
    incidents = list(Incident.objects.order_by("created_at"))
    start = incidents[0].created_at
    out = (
        Message.objects.filter(firing__isnull=False)
        .exclude(status__in=Message.NOT_PAGES)
        .exclude(sent_at=None)
        .select_related("recipient", "firing")
        .prefetch_related("also_for")
    )
    counts = Counter()
    first_page = {}
    named_at = defaultdict(dict)  # person -> incident -> when first paged about it
    pages = Counter()  # (firing, person, channel) -> messages
    for message in out:
        person = message.recipient.username
        if message.paged_at - start < FIVE_MINUTES:
            counts[person, message.channel] += 1
        first_page[person] = min(first_page.get(person, message.sent_at), message.sent_at)
        for firing in [message.firing, *message.also_for.all()]:
            pages[firing.pk, person, message.channel] += 1
            if message.channel == "sms" and firing.step.position == 1:
                seen = named_at[person].get(firing.incident_id)
                named_at[person][firing.incident_id] = min(seen or message.sent_at, message.sent_at)
    broker = "Redis" if os.environ.get("REDIS_URL") else "ORM"
    print(
        f"database: {connection.vendor}; broker: {broker}; "
        f"{options.clusters} cluster(s) of {options.workers} workers; {options.clocks} clock(s); "
        f"{len(incidents)} incidents logged through the API in {logged:.1f} s"
    )
    print("messages per person in the first five minutes (SMS / calls / e-mails):")
    for person in staff:
        print(
            f"  {person:5} {counts[person, 'sms']:3} SMS  {counts[person, 'call']:3} calls"
            f"  {counts[person, 'email']:3} e-mails"
        )
    paged = [person for person in named_at if person != "dpo"]  # step 1: security, managers
    for person in paged:
        waits = [
            (named_at[person][i.pk] - i.created_at).total_seconds()
            for i in incidents
            if i.pk in named_at[person]
        ]
        print(
            f"  {person:5} first page of the storm "
            f"{(first_page[person] - start).total_seconds():.2f} s after the first incident; "
            f"{len(waits)}/{len(incidents)} incidents named in an SMS, waited median "
            f"{statistics.median(waits):.1f} s, p99 {percentile(waits, 0.99):.1f} s, "
            f"max {max(waits):.1f} s"
        )
    unpaged = sum(1 for p in paged for i in incidents if i.pk not in named_at[p])
    duplicates = sum(1 for count in pages.values() if count > 1)
    files = Counter(path.name.split("-")[2] for path in (WORK / "sms").glob("*.txt"))
    held = Message.objects.filter(status=Message.Status.HELD).count()
    late_firings = Firing.objects.filter(late=True).count()
    print(
        f"every incident paged: {unpaged} (person, incident) pairs never named in an SMS; "
        f"{held} pages still held; {late_firings} firings fired late"
    )
    print(
        f"duplicates: {duplicates} steps paged twice to a person on a channel, "
        f"{sum(1 for c in files.values() if c > 1)} SMS files written twice"
    )
    print(f"files in {WORK}")


if __name__ == "__main__":
    main()
