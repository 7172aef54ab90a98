"""A one-page summary for a report another regime asks for (NIS2's early warning, notification
and final report to the CCB): who reports, which report and by when, what happened, its
severity and impact, what was done. What the person types into Safeonweb@work."""

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from ..fact_texts import text_in
from ..identifiers import format_enterprise_number
from ..models import organisation_name
from .base import brussels_time, paragraph, render, section
from .gba import cause_display, yes_no


def build_regime_summary(incident, language, rule, *, facts_digest):
    with translation.override(language):
        unknown = _("not known yet")
        assessment = incident.assessment_or_none()
        obligation = incident.obligations.filter(rule=rule).first()
        organisation = settings.ORGANISATION
        story = [
            paragraph(rule.name_in(language), "title"),
            paragraph(
                f"{rule.regime.name_in(language)} — {rule.regime.authority} — {incident.reference}",
                "small",
            ),
        ]
        story += section(
            _("The entity that reports"),
            [
                (_("Name"), organisation_name()),
                (
                    _("Enterprise number"),
                    format_enterprise_number(organisation["enterprise_number"]) or unknown,
                ),
                (_("Contact"), " — ".join(
                    p for p in (organisation["dpo_name"], organisation["dpo_email"]) if p
                ) or unknown),
            ],
        )  # fmt: skip
        story += section(
            _("The report"),
            [
                (_("Legal basis"), rule.basis or rule.regime.basis or "—"),
                (_("Conitro became aware"), brussels_time(incident.aware_at)),
                (_("Due by"), brussels_time(obligation.deadline_at) if obligation else unknown),
                (
                    _("Made"),
                    f"{brussels_time(obligation.met_at)} {obligation.reference}".strip()
                    if obligation and obligation.met_at
                    else _("not yet"),
                ),
            ],
        )
        rows = [
            (_("What happened"), text_in(incident, "description", language)),
            (_("Start of the breach"), brussels_time(incident.occurred_at, unknown)),
            (_("End of the breach"), brussels_time(incident.ended_at, unknown)),
        ]
        if assessment is not None:
            rows += [
                (_("Kind of breach"), ", ".join(str(k) for k in assessment.breach_types())),
                (
                    _("Cause"),
                    ", ".join(
                        cause_display(assessment, field, unknown)
                        for field in ("cause_origin", "cause_actor", "cause_intent")
                    ),
                ),
                (_("Malicious"), yes_no(assessment.enisa_malicious)),
                (
                    _("Severity (ENISA)"),
                    f"{assessment.severity.score} · {assessment.severity.band_label}",
                ),
                (_("Cross-border impact"), assessment.international or unknown),
                (_("Measures taken"), text_in(assessment, "measures_taken", language) or unknown),
                (
                    _("Likely consequences"),
                    text_in(assessment, "consequences", language) or unknown,
                ),
            ]
        story += section(_("The incident"), rows)
        return render(
            story,
            title=rule.name_in(language),
            subject=rule.regime.name_in(language),
            reference=incident.reference,
            language=language,
            facts_digest=facts_digest,
        )
