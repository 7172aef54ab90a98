"""Document speed and memory.

    .venv/bin/python bench/documents.py [--incidents 10000] [--repeat 20]

On a fresh SQLite file (or the empty, disposable database in DATABASE_URL): the median time to
build the GBA notification and the incident report of one assessed incident, and the time and
peak Python memory (tracemalloc) of the register as PDF and as streamed CSV, at a tenth of the
incidents and at all of them, to show whether memory grows with the number of incidents.
Then the same two documents for a description of 20,000 characters in 10,000 lines and in one
paragraph (a text stored before the line limit, or pasted from a log).
Targets: GBA notification under 100 ms; long descriptions under 2 s each; register of 10,000
under 10 s; CSV memory flat.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
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

from accounts.models import User  # noqa: E402
from incidents.documents.facts import incident_digest  # noqa: E402
from incidents.documents.gba import build_gba_notification  # noqa: E402
from incidents.documents.register import (  # noqa: E402
    build_register_pdf,
    csv_lines,
    register_digest,
)
from incidents.documents.report import build_incident_report  # noqa: E402
from incidents.models import Assessment, Incident, IncidentEvent, State  # noqa: E402


def seed(count, start, user, template):
    now = timezone.now()
    states = [State.CLOSED, State.DISMISSED, State.GBA_NOTIFIED, State.ASSESSED]
    incidents = [
        Incident(
            reference=f"INC-B-{n:06d}",
            title=f"Benchmark incident {n} — données « test » ë ç",
            description="Seeded by bench/documents.py",
            aware_at=now - timedelta(hours=30 + n),
            deadline_at=now - timedelta(hours=6 + n),
            state=states[n % 4],
            dismissal_reason="Not personal data" if n % 4 == 1 else "",
            created_by=user,
        )
        for n in range(start, start + count)
    ]
    Incident.objects.bulk_create(incidents, batch_size=2000)
    fields = {
        f.name: getattr(template, f.name)
        for f in Assessment._meta.fields
        if f.name not in {"id", "incident", "assessed_at"}
    }
    created = Incident.objects.filter(reference__startswith="INC-B-", assessment=None)
    Assessment.objects.bulk_create(
        [Assessment(incident_id=pk, **fields) for pk in created.values_list("pk", flat=True)],
        batch_size=2000,
    )


def timed(function, repeat):
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def measured(function):
    """Time without tracing (tracemalloc slows Python down), then peak memory with it."""
    started = time.perf_counter()
    result = function()
    elapsed = time.perf_counter() - started
    tracemalloc.start()
    function()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return result, elapsed, peak / 1e6


def register_figures(label):
    incidents = Incident.objects.register()
    count = incidents.count()
    pdf, pdf_time, pdf_peak = measured(
        lambda: build_register_pdf(incidents, "nl", {}, register_digest(incidents, {}))
    )
    size, csv_time, csv_peak = measured(
        lambda: sum(len(line.encode()) for line in csv_lines(incidents, "nl"))
    )
    print(
        f"{label}: register of {count:,} incidents — PDF {pdf_time:.2f} s, peak {pdf_peak:.0f} MB, "
        f"{len(pdf) / 1e6:.1f} MB, {pdf.count(b'/Type /Page') - 1} pages; "
        f"CSV {csv_time:.2f} s, peak {csv_peak:.1f} MB, {size / 1e6:.1f} MB"
    )


def long_descriptions(incident):
    original = incident.description
    shapes = {
        "10,000 lines": "x\n" * 10_000,
        "one paragraph": ("Een zin van een lange beschrijving. " * 600)[:20_000],
    }
    for shape, description in shapes.items():
        Incident.objects.filter(pk=incident.pk).update(description=description)
        incident.refresh_from_db()
        digest = incident_digest(incident)
        figures = []
        for name, build in [("GBA notification", build_gba_notification),
                            ("report", build_incident_report)]:  # fmt: skip
            started = time.perf_counter()
            pdf = build(incident, "nl", facts_digest=digest)
            pages = pdf.count(b"/Type /Page") - 1
            figures.append(f"{name} {time.perf_counter() - started:.2f} s ({pages} pages)")
        print(f"description of {len(description):,} characters in {shape}: " + "; ".join(figures))
    Incident.objects.filter(pk=incident.pk).update(description=original)
    incident.refresh_from_db()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=20)
    options = parser.parse_args()
    call_command("migrate", verbosity=0)
    call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    user = User.objects.get(username="dirk")
    incident = Incident.objects.get(reference__endswith="-0003")  # assessed, GBA notified
    IncidentEvent.objects.bulk_create(
        [
            IncidentEvent(incident=incident, actor=user, kind="changed", field="title")
            for _ in range(40)
        ]
    )
    print(f"database: {connection.vendor}")
    gba = timed(
        lambda: build_gba_notification(incident, "nl", facts_digest=incident_digest(incident)),
        options.repeat,
    )
    report = timed(
        lambda: build_incident_report(incident, "nl", facts_digest=incident_digest(incident)),
        options.repeat,
    )
    print(
        f"GBA notification: median {gba:.1f} ms; "
        f"incident report (44 events): median {report:.1f} ms"
    )
    long_descriptions(incident)
    tenth = options.incidents // 10
    seed(tenth, 0, user, incident.assessment)
    register_figures("1/10")
    seed(options.incidents - tenth, tenth, user, incident.assessment)
    register_figures("all ")


if __name__ == "__main__":
    main()
