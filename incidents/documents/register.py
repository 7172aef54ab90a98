"""The breach register (GDPR art. 33(5)): every incident, notified or not, dismissed ones too,
with the facts, the effects, the remedial action, the data and people affected, the
controllers, the risk and its reasoning, each obligation with its time and the reason for any
delay, and the decision. CSV is streamed row by row (memory bounded by CHUNK, not by the
register); the PDF is short tables that repeat their header, every column wrapped."""

import csv
import re
from datetime import date

from django.db.models import Prefetch
from django.utils import translation
from django.utils.translation import gettext as _
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm

from ..models import AffectedController, Assessment, Incident, Obligation, State
from ..obligations import note_shown
from .base import facts_hash, local, number

CHUNK = 500  # rows fetched at a time: the CSV's memory is bounded by this, not by the register
ROWS_PER_TABLE = 10
OBLIGATIONS_LISTED = 10  # per incident; beyond, counted per kind and status (late ones named)


def columns():
    return [
        _("Reference"),
        _("Title"),
        _("State"),
        _("Decision"),
        _("Reasoning"),
        _("Aware since"),
        _("Deadline"),
        _("Start of the breach"),
        _("End of the breach"),
        _("How it was discovered"),
        _("What happened"),
        _("Type of breach"),
        _("Categories of personal data"),
        _("Categories of data subjects"),
        _("Approximate number of data subjects"),
        _("Approximate number of records"),
        _("Controllers affected"),
        _("Likely consequences"),
        _("Measures taken"),
        _("Measures proposed"),
        _("Risk to the data subjects"),
        _("Severity (ENISA)"),
        _("Data subjects informed (art. 34)"),
        _("Obligations"),
        _("GBA reference"),
        _("Reason for the delay"),
    ]


def controller_named(controller):
    """A controller as the register names it: Conitro's own data says Conitro's role there."""
    if controller.is_conitro:
        return _("%(name)s (controller: Conitro's own data)") % {"name": controller.name}
    return controller.name


def decision(incident, assessment):
    if incident.state == "dismissed":
        return _("Not a personal data breach: %(reason)s") % {"reason": incident.dismissal_reason}
    gba = [o for o in incident.obligations.all() if o.kind == Obligation.Kind.NOTIFY_GBA]
    if any(o.status == Obligation.Status.MET for o in gba):
        return _("Notified to the GBA")
    if gba and all(o.status == Obligation.Status.NOT_REQUIRED for o in gba):
        why = " ".join(
            dict.fromkeys(note_shown(o) for o in gba)
        )  # each reason once, first seen first
        return _("Not notified to the GBA: %(why)s") % {"why": why}
    if assessment and assessment.risk_level == "none":
        return _("No risk: register only")
    return _("Open")


def art34_lines(incident, assessment):
    """The art. 34 decision as taken: the platform's, then each controller with its own (how,
    on which 34(3) ground), and each communication recorded."""
    if assessment is None:
        return []

    def said(decision, ground):
        text = str(Assessment.SubjectsInformed(decision).label)
        return f"{text} — {Assessment.Art34Ground(ground).label}" if ground else text

    lines = [said(assessment.subjects_informed, assessment.art34_ground)]
    if assessment.subjects_informed_reason:
        lines[0] = _("%(decision)s: %(how)s") % {
            "decision": lines[0],
            "how": assessment.subjects_informed_reason,
        }
    own = [a for a in incident.affected.all() if a.subjects_informed]
    lines += [
        f"{a.controller.name}: {said(a.subjects_informed, a.art34_ground)}"
        for a in own[:OBLIGATIONS_LISTED]
    ]
    lines += [
        _("%(controller)s: informed by Conitro %(at)s (%(how)s)")
        % {"controller": o.controller.name, "at": local(o.met_at), "how": o.how}
        for o in incident.obligations.all()
        if o.kind == Obligation.Kind.INFORM_SUBJECTS and o.status == Obligation.Status.MET
    ][:OBLIGATIONS_LISTED]
    return lines


def obligation_lines(incident):
    """Each obligation with its time and delay reason; for a platform-wide breach (thousands
    of controllers), counts per kind and status, and the late ones by name."""
    obligations = list(incident.obligations.all())
    if len(obligations) <= OBLIGATIONS_LISTED:
        return [one_obligation(o) for o in obligations]
    counts = {}
    for o in obligations:
        key = (o.get_kind_display(), o.get_status_display())
        counts[key] = counts.get(key, 0) + 1
    lines = [
        _("%(obligation)s — %(status)s: %(count)s")
        % {"obligation": kind, "status": status, "count": number(n)}
        for (kind, status), n in sorted(counts.items())
    ]
    lines += [one_obligation(o) for o in obligations if o.late][:OBLIGATIONS_LISTED]
    return lines


def one_obligation(o):
    line = _("%(obligation)s — %(controller)s: %(status)s") % {
        "obligation": o.get_kind_display(),
        "controller": o.controller.name,
        "status": o.get_status_display(),
    }
    if o.met_at:
        line += f" {local(o.met_at)}"
    else:
        line += " " + _("(deadline %(deadline)s)") % {"deadline": local(o.deadline_at)}
    if o.reference:
        line += f" {o.reference}"
    if o.delay_reason:
        line += " — " + _("late: %(reason)s") % {"reason": o.delay_reason}
    elif o.note:
        line += f" — {note_shown(o)}"
    return line


def with_everything(incidents):
    return incidents.select_related("assessment").prefetch_related(
        "assessment__data_categories",
        "assessment__subject_categories",
        "controllers",
        Prefetch("affected", queryset=AffectedController.objects.select_related("controller")),
        Prefetch("obligations", queryset=Obligation.objects.select_related("controller")),
    )


def rows(incidents):
    """The register's fields per incident, in the active language."""
    language = translation.get_language()
    for incident in with_everything(incidents).iterator(chunk_size=CHUNK):
        assessment = incident.assessment_or_none()
        score = risk = kinds = data = subjects = people = records = ""
        consequences = measures = proposed = reasoning = ""
        if assessment:
            severity = assessment.severity
            score = f"{number(severity.score)} {severity.band_label}"
            risk = assessment.get_risk_level_display()
            kinds = ", ".join(str(t) for t in assessment.breach_types())
            data = "; ".join(sorted(c.name_in(language) for c in assessment.data_categories.all()))
            subjects = "; ".join(
                sorted(c.name_in(language) for c in assessment.subject_categories.all())
            )
            people = number(assessment.subjects_count, _("not known yet"))
            records = number(assessment.records_count, _("not known yet"))
            consequences = assessment.consequences or _("not known yet")
            measures = assessment.measures_taken
            proposed = assessment.measures_proposed
            reasoning = assessment.risk_reasoning
        obligations = list(incident.obligations.all())
        references = sorted({o.reference for o in obligations if o.reference})
        delays = sorted({o.delay_reason for o in obligations if o.delay_reason})
        yield [
            incident.reference,
            incident.title,
            incident.get_state_display(),
            decision(incident, assessment),
            incident.dismissal_reason if incident.state == "dismissed" else reasoning,
            local(incident.aware_at),
            local(incident.deadline_at),
            local(incident.occurred_at),
            local(incident.ended_at),
            incident.discovered_how,
            incident.description,
            kinds,
            data,
            subjects,
            people,
            records,
            "; ".join(controller_named(c) for c in incident.controllers.all()),
            consequences,
            measures,
            proposed,
            risk,
            score,
            "\n".join(art34_lines(incident, assessment)),
            "\n".join(obligation_lines(incident)),
            ", ".join(references),
            "\n".join(delays),
        ]


class Echo:
    def write(self, value):
        return value


def csv_lines(incidents, language):
    """UTF-8 with a byte-order mark and semicolons: what a Belgian Excel opens correctly."""
    with translation.override(language):
        writer = csv.writer(Echo(), delimiter=";", lineterminator="\r\n")
        yield "\ufeff" + writer.writerow(columns())
        for row in rows(incidents):
            yield writer.writerow([inert(cell) for cell in row])


FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")
NUMBER = re.compile(r"^-?\d+([.,]\d+)?$")


def inert(cell):
    """A cell a spreadsheet shows as text, never runs: text that starts like a formula
    (=, +, -, @; OWASP's list) gets a leading apostrophe. Numbers stay numbers."""
    if isinstance(cell, str) and cell.startswith(FORMULA_START) and not NUMBER.match(cell):
        return "'" + cell
    return cell


# The PDF: eight columns, each cell a wrapped paragraph that may hold several register fields.
PDF_WIDTHS = (0.095, 0.15, 0.10, 0.09, 0.12, 0.13, 0.19, 0.125)


def pdf_row(row):
    (reference, title, state, decided, reasoning, aware, deadline, start, end, how, what,
     kinds, data, subjects, people, records, controllers, consequences, measures, proposed,
     risk, score, informed, obligations, references, delays) = row  # fmt: skip
    return [
        reference,
        "\n".join(v for v in (title, what) if v),
        "\n".join(v for v in (state, decided, reasoning) if v),
        "\n".join(
            v
            for v in (aware, f"→ {deadline}", start and f"{start} – {end or _('not known yet')}")
            if v
        ),
        "\n".join(v for v in (kinds, data, subjects, f"{people} / {records}") if v.strip(" /")),
        "\n".join(v for v in (consequences, measures, proposed, informed) if v),
        "\n".join(v for v in (controllers, obligations, references, delays) if v),
        "\n".join(v for v in (risk, score) if v),
    ]


def pdf_header():
    return [
        _("Reference"),
        _("Facts"),
        _("State and decision"),
        _("Aware since → deadline"),
        _("Data and people"),
        _("Effects and remedial action"),
        _("Controllers and obligations"),
        _("Risk"),
    ]


def describe(filters):
    """The filters as the register's form names them, with dates the Belgian way."""
    from ..forms import RegisterFilterForm

    fields = RegisterFilterForm.base_fields
    parts = []
    for key, value in filters.items():
        shown = State(value).label if key == "state" else f"{date.fromisoformat(value):%d/%m/%Y}"
        parts.append(f"{fields[key].label}: {shown}")
    return ", ".join(parts) or _("all incidents")


def register_digest(incidents, filters):
    """The fingerprint of a register: its filters and every incident version in it. Printed in
    the PDF's footer and stored with the document, so a printout can be matched to its record."""
    versions = list(incidents.values_list("reference", "version", "updated_at"))
    return facts_hash([filters, versions])


def build_register_pdf(incidents, language, filters, facts_digest):
    """Short tables of ROWS_PER_TABLE rows, each with the header: reportlab splits one long
    table across pages in quadratic time, many short ones in linear time."""
    from .base import data_table, paragraph, render

    with translation.override(language):
        width = landscape(A4)[0] - 36 * mm
        widths = [w * width for w in PDF_WIDTHS]
        header = pdf_header()
        story = [paragraph(_("Breach register"), "title"), paragraph(describe(filters), "small")]
        chunks = [[]]  # an empty register is one table with a row of dashes
        for row in rows(incidents):
            if len(chunks[-1]) == ROWS_PER_TABLE:
                chunks.append([])
            chunks[-1].append([cell or "—" for cell in pdf_row(row)])
        for chunk in chunks:
            story.append(data_table(header, chunk or [["—"] * len(header)], widths))
        return render(
            story,
            title=_("Breach register"),
            subject=_("Register of personal data breaches (GDPR art. 33(5))"),
            reference="",
            language=language,
            facts_digest=facts_digest,
            pagesize=landscape(A4),
        )


__all__ = ["Incident", "build_register_pdf", "csv_lines", "register_digest", "rows"]
