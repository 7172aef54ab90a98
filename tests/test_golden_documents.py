"""Every word of the documents a DPO signs, compared with the text a person has read.

One realistic incident — a shared platform leaks two clients' customer data on the night of
the October clock change — walked through the workflow with a frozen clock. Each document is
read back (pypdf for the PDFs) and compared line by line with `tests/golden/<name>.txt`. A
change to a label, a number's format, a time zone, a missing row or a row too many shows as a
diff. When a change is meant, read the new text and write it with

    UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_golden_documents.py

The SHA-256 of the facts in the footers is replaced by <hash> (ids differ between databases).
"""

import difflib
import io
import os
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine
from pypdf import PdfReader

from incidents import workflow
from incidents.documents.facts import incident_digest
from incidents.documents.gba import build_gba_notification
from incidents.documents.notice import build_controller_notice, notice_email
from incidents.documents.register import build_register_pdf, csv_lines, register_digest
from incidents.models import Controller, Incident, ProcessingActivity

pytestmark = pytest.mark.django_db
GOLDEN = Path(__file__).parent / "golden"
AWARE = datetime(2026, 10, 24, 22, 40, tzinfo=UTC)  # 00:40 CEST, Sunday 25 October


def pdf_text(content):
    reader = PdfReader(io.BytesIO(content))
    lines = []
    for number, page in enumerate(reader.pages, 1):
        lines.append(f"--- page {number} ---")
        lines += [" ".join(line.split()) for line in page.extract_text().splitlines()]
    return normalise("\n".join(line for line in lines if line))


def as_text(pdf):
    return pdf_text(pdf), pdf


def normalise(text):
    return re.sub(r"(SHA-256\D{0,20}?)[0-9a-f]{16}", r"\1<hash>", text).rstrip() + "\n"


def compare(name, text, pdf=None, suffix=".txt"):
    path = GOLDEN / f"{name}{suffix}"
    if pdf is not None and os.environ.get("GOLDEN_PDFS"):  # to look at them (pdftoppm)
        Path(os.environ["GOLDEN_PDFS"], f"{name}.pdf").write_bytes(pdf)
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    expected = path.read_text(encoding="utf-8")
    diff = "\n".join(
        difflib.unified_diff(
            expected.splitlines(), text.splitlines(), f"golden/{name}{suffix}", "now", lineterm=""
        )
    )
    assert not diff, f"{name} differs from what was read and approved:\n{diff}"


@pytest.fixture
def organisation(settings):
    settings.ORGANISATION = {
        "name": "Conitro",
        "enterprise_number": "0123.456.749",
        "address": "Voskenslaan 30, 9000 Gent",
        "dpo_name": "Hélène Dubois",
        "dpo_email": "dpo@conitro.example",
        "dpo_phone": "+32 9 234 56 78",
        "place": "Gent",
        "place_fr": "Gand",
        "legal_form": "BV",
        "register": "RPR Gent, afdeling Gent",
        "website": "www.conitro.be",
    }


@pytest.fixture
def platform_breach(organisation, security, manager, categories, assessment_values):
    webshops = ProcessingActivity.objects.create(
        name_nl="Webwinkels uitbaten", name_fr="Exploitation de boutiques en ligne",
        name_en="Running web shops",
    )  # fmt: skip
    bakery = Controller.objects.create(
        name="Bakkerij Van Damme BV", enterprise_number="0440966354",
        address="Kerkstraat 12, 9000 Gent", contact_person="Els Van Damme",
        salutation="Geachte mevrouw Van Damme", email="privacy@vandamme.example",
        phone="+3292345678", language="nl",
        dpo_name="Jan Peeters", dpo_email="dpo@vandamme.example",
    )  # fmt: skip
    bakery.activities.add(webshops)
    boulangerie = Controller.objects.create(
        name="Boulangerie Lefèvre SRL", enterprise_number="0202239951",
        address="Rue Haute 5, 1000 Bruxelles", contact_person="Hélène Lefèvre",
        email="vie.privee@lefevre.example", phone="+3225551234", language="fr",
    )  # fmt: skip
    boulangerie.activities.add(webshops)
    with time_machine.travel(AWARE + timedelta(minutes=25), tick=False) as clock:
        incident = workflow.log_incident(
            security,
            title="Klantendatabank van het webwinkelplatform gelekt",
            description="Een back-up van de klantendatabank stond publiek op een opslagserver.",
            aware_at=AWARE,
            occurred_at=AWARE - timedelta(days=2),
            discovered_how="Melding van een beveiligingsonderzoeker",
            text_language="nl",
            activities=[webshops],
        )
        clock.move_to(AWARE + timedelta(hours=3))
        values = {
            **assessment_values,
            "subjects_count": 1840,
            "records_count": None,  # not known yet
            "consequences": "Phishing van klanten.",
            "measures_taken": "Server afgesloten, back-up verwijderd.",
            "measures_proposed": "Versleutelde back-ups.",
            "measures_before": "Toegang met wachtwoord.",
            "subjects_informed_reason": "E-mail aan elke klant.",
            "enisa_ease_of_identification": Decimal("0.75"),
            "risk_level": "high",
        }
        workflow.assess(
            incident.pk,
            manager,
            values,
            {
                "data_categories": [categories[0]],
                "subject_categories": [categories[1]],
                "controllers": [bakery, boulangerie],
                "processing_activities": [webshops],
            },
        )
        yield {"incident": incident, "bakery": bakery, "boulangerie": boulangerie, "clock": clock}


def test_the_documents_of_a_platform_breach_read_as_approved(platform_breach, manager):
    incident, bakery, boulangerie, clock = platform_breach.values()
    fresh = Incident.objects.get(pk=incident.pk)
    compare(
        "gba_initial_nl_bakery",
        *as_text(build_gba_notification(fresh, "nl", bakery, facts_digest=incident_digest(fresh))),
    )
    compare(
        "notice_fr_boulangerie",
        *as_text(
            build_controller_notice(fresh, "fr", boulangerie, facts_digest=incident_digest(fresh))
        ),
    )
    subject, body = notice_email(fresh, bakery)
    compare("notice_email_nl_bakery", normalise(f"{subject}\n\n{body}"))
    # Late: the reason given before the filing, then part 1 filed for both controllers.
    clock.move_to(AWARE + timedelta(hours=26))
    workflow.update_facts(
        incident.pk,
        manager,
        {"gba_delay_reason": "Forensisch onderzoek eerst.", "gba_combined": True},
    )  # one portal form for both: one DBN
    workflow.transition(incident.pk, manager, "notify_gba", reference="DBN-2026-0815")
    workflow.transition(
        incident.pk, manager, "notify_controller", how="E-mail", delay_reason="Idem"
    )
    clock.move_to(AWARE + timedelta(days=3))
    fresh = Incident.objects.get(pk=incident.pk)
    compare(
        "gba_update_fr_boulangerie",
        *as_text(
            build_gba_notification(fresh, "fr", boulangerie, facts_digest=incident_digest(fresh))
        ),
    )
    compare(
        "gba_combined_en",
        *as_text(build_gba_notification(fresh, "en", facts_digest=incident_digest(fresh))),
    )
    compare(
        "notice_nl_bakery",
        *as_text(build_controller_notice(fresh, "nl", bakery, facts_digest=incident_digest(fresh))),
    )
    everything = Incident.objects.all()
    compare(
        "register_en",
        *as_text(build_register_pdf(everything, "en", {}, register_digest(everything, {}))),
    )
    compare("register_fr_csv", normalise("".join(csv_lines(everything, "fr"))))
