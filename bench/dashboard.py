"""Server time and query count of the dashboard and the incident page over 10,000 incidents.

    .venv/bin/python bench/dashboard.py [--incidents 10000] [--requests 200]

Uses a fresh SQLite file in a temporary folder unless DATABASE_URL is set (then that database
must be empty and disposable). Pages are rendered through Django's full request stack
(middleware, auth, templates) with the test client; times are wall-clock per request.
Target: p95 under 50 ms, and a query count that does not grow with the number of incidents.
"""

import argparse
import os
import random
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "incident_manager.settings")
if "DATABASE_URL" not in os.environ:
    os.environ["DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402
from verified import measure, verified_client  # noqa: E402

from accounts.models import User  # noqa: E402
from incidents.models import (  # noqa: E402
    Assessment,
    Controller,
    DataCategory,
    Incident,
    IncidentEvent,
    State,
    SubjectCategory,
)

OPEN_SHARE = 0.02  # a busy desk: 2 % of all incidents ever logged are still open


def seed(total, start, user, controller):
    now = timezone.now()
    rng = random.Random(start)
    incidents = []
    for number in range(start, start + total):
        is_open = rng.random() < OPEN_SHARE
        aware = now - timedelta(hours=rng.uniform(0, 30) if is_open else rng.uniform(30, 20000))
        state = rng.choice([State.DETECTED, State.ASSESSED, State.GBA_NOTIFIED])
        if not is_open:
            state = rng.choice([State.CLOSED, State.DISMISSED])
        incidents.append(
            Incident(
                reference=f"INC-B-{number:06d}",
                title=f"Benchmark incident {number}",
                description="Seeded by bench/dashboard.py",
                aware_at=aware,
                deadline_at=aware + timedelta(hours=24),
                state=state,
                created_by=user,
            )
        )
    Incident.objects.bulk_create(incidents, batch_size=2000)
    created = Incident.objects.filter(reference__in=[i.reference for i in incidents])
    IncidentEvent.objects.bulk_create(
        [
            IncidentEvent(incident_id=pk, actor=user, kind="created", to_state="detected")
            for pk in created.values_list("pk", flat=True)
        ],
        batch_size=2000,
    )


def page_with_history(user, controller):
    """One incident as the incident page shows it at its fullest: assessed, 40 events."""
    incident = Incident.objects.filter(state=State.ASSESSED, assessment__isnull=True).first()
    assessment = Assessment.objects.create(
        incident=incident,
        confidentiality=True,
        cause_origin="external",
        cause_actor="human",
        cause_intent="malicious",
        subjects_count=1000,
        records_count=2000,
        consequences="c",
        measures_taken="m",
        subjects_informed="planned",
        subjects_informed_reason="r",
        enisa_dpc=2,
        enisa_ease_of_identification="0.75",
        risk_level="risk",
        assessed_by=user,
    )
    assessment.data_categories.set(DataCategory.objects.all())
    assessment.subject_categories.set(SubjectCategory.objects.all())
    incident.controllers.set([controller])
    IncidentEvent.objects.bulk_create(
        [
            IncidentEvent(
                incident=incident, actor=user, kind="changed", field="title", before="a", after="b"
            )
            for _ in range(40)
        ]
    )
    return incident


def report(label, total, client, incident, requests):
    for name, url in [("dashboard", "/"), ("incident page", f"/incidents/{incident.pk}/")]:
        median, p95, queries = measure(client, url, requests)
        print(
            f"{label:>8} incidents  {name:<14} median {median:6.1f} ms   p95 {p95:6.1f} ms   "
            f"queries {queries}"
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=200)
    options = parser.parse_args()

    call_command("migrate", verbosity=0)
    call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    user = User.objects.get(username="dirk")
    controller = Controller.objects.first()
    client = verified_client(user)

    print(f"database: {connection.vendor}; {options.requests} requests per page")
    first = options.incidents // 10
    seed(first, 0, user, controller)
    incident = page_with_history(user, controller)
    report(f"{Incident.objects.count():,}", first, client, incident, options.requests)
    seed(options.incidents - first, first, user, controller)
    report(f"{Incident.objects.count():,}", options.incidents, client, incident, options.requests)
    print(f"open incidents on the dashboard: {Incident.objects.open().count():,} (50 per page)")


if __name__ == "__main__":
    main()
