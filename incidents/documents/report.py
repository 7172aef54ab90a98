"""The incident report for the DPO: all facts, the assessment and severity, the complete
timeline, every alert and message with its delivery status, and every document generated."""

from django.utils import translation
from django.utils.translation import gettext as _
from reportlab.lib.units import mm

from .. import ports
from ..obligations import note_shown
from ..timeline import sentence
from .base import brussels_time, data_table, paragraph, render, section
from .facts import assessment_rows
from .gba import yes_no


def build_incident_report(incident, language, *, facts_digest):
    """The DPO's full account of one incident: its facts, what was owed to whom and done, the
    assessment, the timeline, every page and message, every document made."""
    with translation.override(language):
        story = [
            paragraph(_("Incident report"), "title"),
            paragraph(f"{incident.reference} — {incident.title}", "small"),
        ]
        story += section(_("Facts"), fact_rows(incident))
        # What was owed to whom, by when, and what was done: one row per obligation (the
        # filings' references, the delays' reasons, Conitro's internal 24-hour deadlines too).
        story.append(paragraph(_("Obligations per controller"), "h1"))
        story += obligation_tables(incident)
        story += section(_("Assessment"), assessment_section_rows(incident, language))
        story.append(paragraph(_("Timeline"), "h1"))
        story.append(timeline_table(incident))
        story.append(paragraph(_("Alerts and messages"), "h1"))
        story.append(messages_table(incident))
        story.append(paragraph(_("Documents generated"), "h1"))
        story.append(documents_table(incident))
        return render(
            story,
            title=_("Incident report"),
            subject=_("Incident report"),
            reference=incident.reference,
            language=language,
            facts_digest=facts_digest,
        )


def fact_rows(incident):
    unknown = _("not known yet")
    return [
        (_("State"), incident.get_state_display()),
        (_("What happened"), incident.description),
        (_("Aware since"), brussels_time(incident.aware_at)),
        (_("Deadline (24 h)"), brussels_time(incident.deadline_at)),
        (_("Start of the breach"), brussels_time(incident.occurred_at, unknown)),
        (_("End of the breach"), brussels_time(incident.ended_at, unknown)),
        (_("How it was discovered"), incident.discovered_how or unknown),
        (_("Logged by"), f"{incident.created_by} · {brussels_time(incident.created_at, '')}"),
        (_("Reason given for a late GBA notice"), incident.gba_delay_reason or "—"),
        (_("Reason for dismissal"), incident.dismissal_reason or "—"),
    ]


def assessment_section_rows(incident, language):
    assessment = incident.assessment_or_none()
    if not assessment:
        return [(_("Assessment"), _("Not assessed yet."))]
    cause = (
        f"{assessment.get_cause_origin_display()}, "
        f"{assessment.get_cause_actor_display()}, "
        f"{assessment.get_cause_intent_display()}"
    )
    assessed = f"{assessment.assessed_by} · {brussels_time(assessment.assessed_at, '')}"
    return [
        *assessment_rows(assessment, language, "—"),
        (_("Risk"), assessment.get_risk_level_display()),
        (_("Reasoning for the risk level"), assessment.risk_reasoning or "—"),
        (_("Cause"), cause),
        (_("Special categories (art. 9-10)"), yes_no(assessment.special_categories)),
        (_("Controllers affected"), "; ".join(c.name for c in incident.controllers.all())),
        (_("Assessed by"), assessed),
    ]


def timeline_table(incident):
    rows = [
        [brussels_time(event.at, ""), str(event.actor or _("the system")), sentence(event)]
        for event in incident.events.select_related("actor")
    ]
    return data_table([_("When"), _("Who"), _("What happened")], rows, [30 * mm, 30 * mm, 114 * mm])


def messages_table(incident):
    rows = [
        [
            brussels_time(message.created_at, ""),
            str(message.recipient or message.to),
            step_here(message, incident),
            message.get_channel_display(),
            message.to,
            message.get_status_display()
            + (f" — {message.error}" if message.error else "")
            + (f" ({message.attempts}×)" if message.attempts > 1 else ""),
        ]
        for message in ports.paging.messages_about(incident)
    ]
    return data_table(
        [_("When"), _("Person"), _("Step"), _("Channel"), _("To"), _("Status")],
        rows or [["—"] * 6],
        [26 * mm, 26 * mm, 12 * mm, 20 * mm, 40 * mm, 50 * mm],
    )


def documents_table(incident):
    rows = [
        [
            brussels_time(document.created_at, ""),
            document.get_kind_display(),
            document.language,
            str(document.version),
            str(document.created_by),
            document.sha256[:16],
        ]
        for document in incident.documents.select_related("created_by")
    ]
    return data_table(
        [_("When"), _("Document"), _("Language"), _("Version"), _("By"), "SHA-256"],
        rows or [["—"] * 6],
        [26 * mm, 44 * mm, 16 * mm, 14 * mm, 30 * mm, 44 * mm],
    )


def obligation_tables(incident, per_table=25):
    """Short tables (reportlab splits one long table in quadratic time)."""
    obligations = incident.obligations.select_related("controller").order_by(
        "controller__name", "deadline_at", "kind", "round"
    )
    rows = [
        [
            o.controller.name,
            o.get_kind_display(),
            brussels_time(o.deadline_at, ""),
            o.get_status_display() + (f" {brussels_time(o.met_at, '')}" if o.met_at else ""),
            o.reference or "—",
            o.delay_reason or note_shown(o) or "—",
        ]
        for o in obligations
    ] or [["—"] * 6]
    header = [
        _("Controller"),
        _("Owed"),
        _("Deadline"),
        _("Done"),
        _("GBA reference"),
        _("Reason for the delay, or why not owed"),
    ]
    widths = [36 * mm, 30 * mm, 22 * mm, 26 * mm, 26 * mm, 34 * mm]
    return [
        data_table(header, rows[start : start + per_table], widths)
        for start in range(0, len(rows), per_table)
    ]


def step_here(message, incident):
    """'#2': the step of this incident a page was about ('—' for a notice)."""
    listed = [message.firing, *message.also_for.all()] if message.firing else []
    positions = sorted({f.step.position for f in listed if f.incident_id == incident.pk})
    return " + ".join(f"#{position}" for position in positions) or "—"
