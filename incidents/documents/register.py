"""The breach register (GDPR art. 33(5)): every incident, notified or not, dismissed ones too,
with the facts, the effects, the remedial action, the data and people affected, the
controllers, the risk and its reasoning, each obligation with its time and the reason for any
delay, and the decision. CSV is streamed row by row (memory bounded by CHUNK, not by the
register); the PDF is short tables that repeat their header, every column wrapped."""

import csv
import re
from collections.abc import Callable
from datetime import date
from operator import itemgetter
from typing import NamedTuple

from django.db.models import Prefetch
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm

from ..models import AffectedController, Assessment, Obligation, State
from ..obligations import note_shown
from .base import brussels_time, facts_hash, number

CHUNK = 500  # rows fetched at a time: the CSV's memory is bounded by this, not by the register
ROWS_PER_TABLE = 10
OBLIGATIONS_LISTED = 10  # per incident; beyond, counted per kind and status (late ones named)


class Column(NamedTuple):
    """One column of the register: its header, and its value read from an incident's fields
    (`fields()`); in the PDF, also its share of the page's width."""

    header: str
    value: Callable[[dict], str]
    width: float = 0


def field(name):
    return itemgetter(name)


def lines(*values):
    """Several fields in one PDF cell, a line each, the empty ones left out."""
    return lambda row: "\n".join(v for v in (value(row) for value in values) if v)


# The CSV: every field of the register in its own column (GDPR art. 33(5)).
COLUMNS = [
    Column(gettext_lazy("Reference"), field("reference")),
    Column(gettext_lazy("Title"), field("title")),
    Column(gettext_lazy("State"), field("state")),
    Column(gettext_lazy("Decision"), field("decision")),
    Column(gettext_lazy("Reasoning"), field("reasoning")),
    Column(gettext_lazy("Aware since"), field("aware")),
    Column(gettext_lazy("Deadline"), field("deadline")),
    Column(gettext_lazy("Start of the breach"), field("start")),
    Column(gettext_lazy("End of the breach"), field("end")),
    Column(gettext_lazy("How it was discovered"), field("how")),
    Column(gettext_lazy("What happened"), field("what")),
    Column(gettext_lazy("Type of breach"), field("kinds")),
    Column(gettext_lazy("Categories of personal data"), field("data")),
    Column(gettext_lazy("Categories of data subjects"), field("subjects")),
    Column(gettext_lazy("Approximate number of data subjects"), field("people")),
    Column(gettext_lazy("Approximate number of records"), field("records")),
    Column(gettext_lazy("Controllers affected"), field("controllers")),
    Column(gettext_lazy("Likely consequences"), field("consequences")),
    Column(gettext_lazy("Measures taken"), field("measures")),
    Column(gettext_lazy("Measures proposed"), field("proposed")),
    Column(gettext_lazy("Risk to the data subjects"), field("risk")),
    Column(gettext_lazy("Severity (ENISA)"), field("score")),
    Column(gettext_lazy("Data subjects informed (art. 34)"), field("informed")),
    Column(gettext_lazy("Obligations"), field("obligations")),
    Column(gettext_lazy("GBA reference"), field("references")),
    Column(gettext_lazy("Reason for the delay"), field("delays")),
]


def period(row):
    start = row["start"] and f"{row['start']} – {row['end'] or _('not known yet')}"
    return "\n".join(v for v in (row["aware"], f"→ {row['deadline']}", start) if v)


def counted(row):
    people = f"{row['people']} / {row['records']}"
    return people if people.strip(" /") else ""


# The PDF: eight columns on a landscape page, each cell a wrapped paragraph that gathers
# several of the fields above.
PDF_COLUMNS = [
    Column(gettext_lazy("Reference"), field("reference"), 0.095),
    Column(gettext_lazy("Facts"), lines(field("title"), field("what")), 0.15),
    Column(
        gettext_lazy("State and decision"),
        lines(field("state"), field("decision"), field("reasoning")),
        0.10,
    ),
    Column(gettext_lazy("Aware since → deadline"), period, 0.09),
    Column(
        gettext_lazy("Data and people"),
        lines(field("kinds"), field("data"), field("subjects"), counted),
        0.12,
    ),
    Column(
        gettext_lazy("Effects and remedial action"),
        lines(field("consequences"), field("measures"), field("proposed"), field("informed")),
        0.13,
    ),
    Column(
        gettext_lazy("Controllers and obligations"),
        lines(field("controllers"), field("obligations"), field("references"), field("delays")),
        0.19,
    ),
    Column(gettext_lazy("Risk"), lines(field("risk"), field("score")), 0.125),
]


def controller_named(controller):
    """A controller as the register names it: Conitro's own data says Conitro's role there."""
    if controller.is_conitro:
        return _("%(name)s (controller: Conitro's own data)") % {"name": controller.name}
    return controller.name


def decision(incident, assessment):
    """The register's decision on the GBA, as the obligations say it (a filing for some of the
    controllers is said as such: the others are still owed)."""
    if incident.state == State.DISMISSED:
        return _("Not a personal data breach: %(reason)s") % {"reason": incident.dismissal_reason}
    gba = [o for o in incident.obligations.all() if o.kind == Obligation.Kind.NOTIFY_GBA]
    filed = sum(o.status == Obligation.Status.MET for o in gba)
    owed = sum(o.status in {Obligation.Status.MET, Obligation.Status.OPEN} for o in gba)
    if filed and filed < owed:
        return _("Notified to the GBA for %(filed)s of the %(owed)s controllers it is owed for") % {
            "filed": filed,
            "owed": owed,
        }
    if filed:
        return _("Notified to the GBA")
    if gba and all(o.status == Obligation.Status.NOT_REQUIRED for o in gba):
        why = " ".join(
            dict.fromkeys(note_shown(o) for o in gba)
        )  # each reason once, first seen first
        return _("Not notified to the GBA: %(why)s") % {"why": why}
    if assessment and assessment.risk_level == Assessment.Risk.NONE:
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
        % {"controller": o.controller.name, "at": brussels_time(o.met_at), "how": o.how}
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
        line += f" {brussels_time(o.met_at)}"
    else:
        line += " " + _("(deadline %(deadline)s)") % {"deadline": brussels_time(o.deadline_at)}
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
    """The register's fields per incident (by name; COLUMNS shows them), in the active
    language."""
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
        yield {
            "reference": incident.reference,
            "title": incident.title,
            "state": incident.get_state_display(),
            "decision": decision(incident, assessment),
            "reasoning": incident.dismissal_reason
            if incident.state == State.DISMISSED
            else reasoning,
            "aware": brussels_time(incident.aware_at),
            "deadline": brussels_time(incident.deadline_at),
            "start": brussels_time(incident.occurred_at),
            "end": brussels_time(incident.ended_at),
            "how": incident.discovered_how,
            "what": incident.description,
            "kinds": kinds,
            "data": data,
            "subjects": subjects,
            "people": people,
            "records": records,
            "controllers": "; ".join(controller_named(c) for c in incident.controllers.all()),
            "consequences": consequences,
            "measures": measures,
            "proposed": proposed,
            "risk": risk,
            "score": score,
            "informed": "\n".join(art34_lines(incident, assessment)),
            "obligations": "\n".join(obligation_lines(incident)),
            "references": ", ".join(references),
            "delays": "\n".join(delays),
        }


class Echo:
    def write(self, value):
        return value


def csv_lines(incidents, language):
    """UTF-8 with a byte-order mark and semicolons: what a Belgian Excel opens correctly."""
    with translation.override(language):
        writer = csv.writer(Echo(), delimiter=";", lineterminator="\r\n")
        yield "\ufeff" + writer.writerow([str(column.header) for column in COLUMNS])
        for row in rows(incidents):
            yield writer.writerow([inert(column.value(row)) for column in COLUMNS])


FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")
NUMBER = re.compile(r"^-?\d+([.,]\d+)?$")


def inert(cell):
    """A cell a spreadsheet shows as text, never runs: text that starts like a formula
    (=, +, -, @; OWASP's list) gets a leading apostrophe. Numbers stay numbers."""
    if isinstance(cell, str) and cell.startswith(FORMULA_START) and not NUMBER.match(cell):
        return "'" + cell
    return cell


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
        widths = [column.width * width for column in PDF_COLUMNS]
        header = [str(column.header) for column in PDF_COLUMNS]
        story = [paragraph(_("Breach register"), "title"), paragraph(describe(filters), "small")]
        chunks = [[]]  # an empty register is one table with a row of dashes
        for row in rows(incidents):
            if len(chunks[-1]) == ROWS_PER_TABLE:
                chunks.append([])
            chunks[-1].append([column.value(row) or "—" for column in PDF_COLUMNS])
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
