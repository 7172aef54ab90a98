"""One breach of a shared platform that touches 5,000 controllers: how long until every
obligation exists and every notice is rendered and queued, what the pages cost then, and how
long the combined GBA notification with its annex takes.

    .venv/bin/python bench/many_controllers.py [--controllers 5000] [--requests 50] [--send]

Uses a fresh SQLite file in a temporary folder unless DATABASE_URL is set (then that database
must be empty and disposable). --send also sends every notice (through Django's in-memory
e-mail back end) and times how long until each controller's obligation is met.
Targets (issue 9): obligations and notices in under 5 minutes; pages p95 under 50 ms.
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "incident_manager.settings")
if "DATABASE_URL" not in os.environ:
    os.environ["DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django_q.conf import Conf  # noqa: E402
from django_q.models import OrmQ  # noqa: E402
from verified import measure, verified_client  # noqa: E402

from accounts.models import User  # noqa: E402
from incidents import workflow  # noqa: E402
from incidents.documents.facts import incident_digest  # noqa: E402
from incidents.documents.gba import build_gba_notification  # noqa: E402
from incidents.identifiers import validate_enterprise_number  # noqa: E402
from incidents.models import (  # noqa: E402
    Controller,
    DataCategory,
    ProcessingActivity,
    SubjectCategory,
)
from notifications import notices  # noqa: E402
from notifications.models import Message  # noqa: E402
from notifications.tasks import send_messages  # noqa: E402


def enterprise_numbers(count):
    """Valid Belgian enterprise numbers: 8 digits and 97 minus their remainder by 97."""
    found, base = [], 5_000_000  # "05000000": eight digits starting with 0
    while len(found) < count:
        check = 97 - base % 97
        number = f"{base:08d}{check:02d}"
        try:
            validate_enterprise_number(number)
            found.append(number)
        except Exception:  # noqa: BLE001, S110 - skip numbers the validator refuses
            pass
        base += 1
    return found


def timed(label, action):
    started = time.perf_counter()
    result = action()
    print(f"{label:<58} {time.perf_counter() - started:8.1f} s")
    return result


def pages(incident, options):
    client = verified_client(User.objects.get(username="dirk"))
    for name, url in [
        ("incident page", f"/incidents/{incident.pk}/"),
        ("dashboard", "/"),
        ("log form", "/incidents/new/"),
        ("assessment form", f"/incidents/{incident.pk}/assess/"),
    ]:
        median, p95, queries = measure(client, url, options.requests)
        size = len(client.get(url).content) / 1000
        print(
            f"{name:<20} median {median:6.1f} ms   p95 {p95:6.1f} ms   queries {queries}"
            f"   {size:,.0f} kB"
        )
    if options.queries:
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            client.get(f"/incidents/{incident.pk}/")
        for query in sorted(captured.captured_queries, key=lambda q: -float(q["time"])):
            print(f"{float(query['time']) * 1000:7.2f} ms  {query['sql'][:300]}")
    if options.profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.runcall(client.get, f"/incidents/{incident.pk}/")
        pstats.Stats(profiler).sort_stats("tottime").print_stats(20)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--controllers", type=int, default=5000)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--send", action="store_true")
    parser.add_argument("--profile", action="store_true", help="where the incident page spends")
    parser.add_argument("--queries", action="store_true", help="the incident page's queries")
    parser.add_argument(
        "--pages-only",
        action="store_true",
        help="only time the pages of the latest incident, in the database an earlier run filled "
        "(DATABASE_URL), with nothing else running",
    )
    options = parser.parse_args()
    if options.pages_only:
        from incidents.models import Incident

        incident = Incident.objects.order_by("-id").first()
        print(f"database: {connection.vendor}; {incident.controllers.count():,} controllers")
        return pages(incident, options)

    call_command("migrate", verbosity=0)
    call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    Conf.SYNC = settings.Q_CLUSTER["sync"] = False  # queue to the broker; no cluster runs
    security, manager = User.objects.get(username="sam"), User.objects.get(username="mia")
    platform = ProcessingActivity.objects.get(position=0)
    print(f"database: {connection.vendor}; {options.controllers:,} controllers on one platform")

    def create_controllers():
        made = Controller.objects.bulk_create(
            Controller(
                name=f"Webwinkel {n:05d} BV",
                enterprise_number=number,
                address=f"Winkelstraat {n}, 9000 Gent",
                contact_person=f"Contact {n}",
                email=f"privacy{n}@shop.example",
                phone="+3292345678",
                language=("nl", "fr", "en")[n % 3],
            )
            for n, number in enumerate(enterprise_numbers(options.controllers))
        )
        platform.controllers.add(*made)

    timed("controllers created (bulk, not part of the target)", create_controllers)
    started = time.perf_counter()
    incident = timed(
        "incident logged with every controller: obligations created",
        lambda: workflow.log_incident(
            security,
            title="Platform database exposed",
            description="A misconfigured backup bucket was public for 3 hours.",
            activities=[platform],
        ),
    )
    print(f"{'  obligations':<58} {incident.obligations.count():8,}")
    timed(
        "assessed (obligations checked again)",
        lambda: workflow.assess(
            incident.pk,
            manager,
            {
                "confidentiality": True,
                "cause_origin": "external",
                "cause_actor": "technical",
                "cause_intent": "malicious",
                "subjects_count": 250_000,
                "records_count": 1_200_000,
                "consequences": "Names and addresses of customers exposed.",
                "measures_taken": "Bucket closed; access logs reviewed.",
                "subjects_informed": "planned",
                "subjects_informed_reason": "E-mail to each customer.",
                "enisa_dpc": 1,
                "enisa_ease_of_identification": "1.00",
                "enisa_confidentiality": "0.50",
                "risk_level": "risk",
            },
            {
                "data_categories": DataCategory.objects.all()[:2],
                "subject_categories": SubjectCategory.objects.all()[:1],
                "controllers": list(incident.controllers.all()),
            },
        ),
    )
    queued = timed(
        "every notice rendered (PDF) and queued",
        lambda: notices.send_notices(incident.pk, manager),
    )
    total = time.perf_counter() - started
    print(
        f"{'  notices queued / tasks in the broker':<58} {len(queued):,} / {OrmQ.objects.count():,}"
    )
    print(f"{'TOTAL: logged → every obligation and notice queued':<58} {total:8.1f} s")

    pages(incident, options)
    timed(
        "combined GBA notification with the annex of every controller",
        lambda: build_gba_notification(incident, "nl", facts_digest=incident_digest(incident)),
    )
    if options.send:
        ids = [message.pk for message in queued]
        timed("every notice sent and its obligation met", lambda: send_messages(ids))
        told = incident.obligations.filter(kind="tell_controller", status="met").count()
        print(f"{'  controllers told':<58} {told:8,}")
        print(f"{'  messages sent':<58} {Message.objects.filter(status='sent').count():8,}")


if __name__ == "__main__":
    main()
