"""The breach register (GDPR art. 33(5)): every incident, dismissed and not-notified ones
included, with the decision and its reason. CSV is streamed row by row (memory does not grow
with the number of incidents); the PDF is a table that repeats its header on every page."""

import csv
import re

from django.utils import translation
from django.utils.translation import gettext as _
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm

from ..models import Incident

CHUNK = 500  # rows fetched at a time: the CSV's memory is bounded by this, not by the register
ROWS_PER_TABLE = 20
PLAIN = {0, 2, 4, 5, 6, 7}  # reference, state, times, severity: short, never wrapped


def columns():
    return [
        _("Reference"),
        _("Title"),
        _("State"),
        _("Decision"),
        _("Aware since"),
        _("Deadline"),
        _("Submitted to the GBA"),
        _("GBA reference"),
        _("Controllers notified"),
        _("Reason for the delay"),
        _("Type of breach"),
        _("Approximate number of data subjects"),
        _("Approximate number of records"),
        _("Severity (ENISA)"),
        _("Measures taken"),
    ]


def decision(incident, assessment):
    if incident.state == "dismissed":
        return _("Not a personal data breach: %(reason)s") % {"reason": incident.dismissal_reason}
    if incident.gba_reference:
        return _("Notified to the GBA")
    if assessment and assessment.risk_level == "none":
        return _("No risk: register only")
    return _("Open")


def when(moment):
    from django.utils import timezone

    return timezone.localtime(moment).strftime("%d/%m/%Y %H:%M") if moment else ""


def rows(incidents, decimal_comma=False):
    for incident in incidents.select_related("assessment").iterator(chunk_size=CHUNK):
        assessment = incident.assessment_or_none()
        score = ""
        if assessment:
            severity = assessment.severity
            score = f"{severity.score} {severity.band_label}"
            if decimal_comma:
                score = score.replace(".", ",")
        yield [
            incident.reference,
            incident.title,
            incident.get_state_display(),
            decision(incident, assessment),
            when(incident.aware_at),
            when(incident.deadline_at),
            when(incident.gba_submitted_at),
            incident.gba_reference,
            when(incident.controller_notified_at),
            incident.gba_delay_reason or incident.controller_delay_reason,
            ", ".join(str(t) for t in assessment.breach_types()) if assessment else "",
            str(assessment.subjects_count) if assessment else "",
            str(assessment.records_count) if assessment else "",
            score,
            assessment.measures_taken if assessment else "",
        ]


class Echo:
    def write(self, value):
        return value


def csv_lines(incidents, language):
    """UTF-8 with a byte-order mark and semicolons: what a Belgian Excel opens correctly."""
    with translation.override(language):
        writer = csv.writer(Echo(), delimiter=";", lineterminator="\r\n")
        yield "\ufeff" + writer.writerow(columns())
        for row in rows(incidents, decimal_comma=language in {"nl", "fr"}):
            yield writer.writerow([inert(cell) for cell in row])


FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")
NUMBER = re.compile(r"^-?\d+([.,]\d+)?$")


def inert(cell):
    """A cell a spreadsheet shows as text, never runs: text that starts like a formula
    (=, +, -, @; OWASP's list) gets a leading apostrophe. Numbers stay numbers."""
    if isinstance(cell, str) and cell.startswith(FORMULA_START) and not NUMBER.match(cell):
        return "'" + cell
    return cell


def build_register_pdf(incidents, language, filters):
    """One table per 20 rows, each with the header: reportlab splits one long table across
    pages in quadratic time, many short ones in linear time."""
    from .base import data_table, facts_hash, paragraph, render

    with translation.override(language):
        width = landscape(A4)[0] - 36 * mm
        widths = [w * width for w in (0.115, 0.185, 0.09, 0.21, 0.1, 0.1, 0.1, 0.1)]
        header = [columns()[i] for i in (0, 1, 2, 3, 4, 6, 8, 13)]
        description = ", ".join(f"{k}: {v}" for k, v in filters.items()) or _("all incidents")
        story = [paragraph(_("Breach register"), "title"), paragraph(description, "small")]
        references, chunk = [], []
        for row in rows(incidents):
            references.append(row[0])
            chunk.append([row[i] or "—" for i in (0, 1, 2, 3, 4, 6, 8, 13)])
            if len(chunk) == ROWS_PER_TABLE:
                story.append(data_table(header, chunk, widths, PLAIN))
                chunk = []
        if chunk or not references:
            story.append(data_table(header, chunk or [["—"] * 8], widths, PLAIN))
        return render(
            story,
            title=_("Breach register"),
            subject=_("Register of personal data breaches (GDPR art. 33(5))"),
            reference="",
            language=language,
            facts_digest=facts_hash(references),
            pagesize=landscape(A4),
        )


__all__ = ["Incident", "build_register_pdf", "csv_lines", "rows"]
