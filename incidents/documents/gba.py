"""The GBA notification document: every item of GDPR art. 33(3), in the GBA's order.

The GBA takes notifications through its portal only, so this is what the DPO reviews and then
types in: 1. the organisation, 2. the processing affected, 3. the breach, then consequences,
measures, communication to the data subjects, controllers, other authorities and the timeline.
What is not known yet says so ("nog niet gekend"), as a phased notification (art. 33(4)) may.
"""

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from ..identifiers import format_enterprise_number
from .base import facts_hash, local, paragraph, render, section
from .facts import incident_facts

# The default of settings.ORGANISATION["purpose"], marked here so that it gets translated.
gettext_noop(
    "Operating web shops on behalf of the controllers: orders, invoicing, payments, delivery "
    "and customer service"
)


def notification_type(incident, assessment):
    if incident.gba_reference:
        return _("Follow-up of notification %(reference)s") % {"reference": incident.gba_reference}
    if assessment is None or assessment.missing_items() or incident.ended_at is None:
        return _("Initial notification (to be completed, GDPR art. 33(4))")
    return _("Complete notification")


def organisation_rows(unknown):
    organisation = settings.ORGANISATION
    return [
        (_("Name"), organisation["name"] or unknown),
        (
            _("Enterprise number"),
            format_enterprise_number(organisation["enterprise_number"]) or unknown,
        ),
        (_("Address"), organisation["address"] or unknown),
        (_("Contact point / DPO"), organisation["dpo_name"] or unknown),
        (_("E-mail"), organisation["dpo_email"] or unknown),
        (_("Phone"), organisation["dpo_phone"] or unknown),
    ]


def yes_no(value):
    return _("yes") if value else _("no")


def build_gba_notification(incident, language):
    with translation.override(language):
        unknown = _("not known yet")
        assessment = incident.assessment_or_none()

        def known(value):
            return value if value not in (None, "", []) else unknown

        story = [
            paragraph(_("Notification of a personal data breach to the GBA/APD"), "title"),
            paragraph(
                _("GDPR art. 33 — %(reference)s — %(title)s")
                % {"reference": incident.reference, "title": incident.title},
                "small",
            ),
        ]
        story += section(
            _("0. Type of notification"),
            [(_("Type"), notification_type(incident, assessment))],
        )
        story += section(_("1. Identification of the organisation"), organisation_rows(unknown))
        if assessment:
            data = "; ".join(c.name_in(language) for c in assessment.data_categories.all())
            subjects = "; ".join(c.name_in(language) for c in assessment.subject_categories.all())
            processing = [
                (_("Purpose of the processing"), _(settings.ORGANISATION["purpose"])),
                (_("Categories of personal data"), known(data)),
                (_("Special categories (art. 9-10)"), yes_no(assessment.special_categories)),
                (_("Categories of data subjects"), known(subjects)),
                (_("Approximate number of data subjects"), str(assessment.subjects_count)),
                (_("Approximate number of records"), str(assessment.records_count)),
            ]
            breach_types = ", ".join(str(label) for label in assessment.breach_types())
            cause = [
                (_("Type of breach"), known(breach_types)),
                (_("Internal or external"), assessment.get_cause_origin_display()),
                (_("Human or technical"), assessment.get_cause_actor_display()),
                (_("Accidental or malicious"), assessment.get_cause_intent_display()),
            ]
            severity = assessment.severity
            consequences = [
                (_("Likely consequences"), assessment.consequences),
                (
                    _("Severity (ENISA)"),
                    f"{severity.score} — {severity.band_label}",
                ),
                (
                    _("ENISA inputs"),
                    _(
                        "DPC %(dpc)s (%(category)s) × EI %(ei)s + CB %(cb)s "
                        "(confidentiality %(c)s, integrity %(i)s, availability %(a)s, "
                        "malicious intent %(m)s)"
                    )
                    % {
                        "dpc": assessment.dpc,
                        "category": assessment.get_enisa_dpc_display(),
                        "ei": assessment.enisa_ease_of_identification,
                        "cb": severity.circumstances,
                        "c": assessment.enisa_confidentiality,
                        "i": assessment.enisa_integrity,
                        "a": assessment.enisa_availability,
                        "m": yes_no(assessment.enisa_malicious),
                    },
                ),
                (_("Risk"), assessment.get_risk_level_display()),
            ]
            measures = [
                (_("Measures taken"), assessment.measures_taken),
                (_("Measures proposed"), known(assessment.measures_proposed)),
            ]
            communication = [
                (_("Data subjects informed"), assessment.get_subjects_informed_display()),
                (_("How, or why not (art. 34(3))"), assessment.subjects_informed_reason),
            ]
            controllers = [
                (
                    controller.name,
                    f"{controller.enterprise_number_display} — {controller.contact_person}, "
                    f"{controller.email}, {controller.phone}",
                )
                for controller in assessment.controllers.all()
            ] or [(_("Controllers"), unknown)]
            authorities = [(_("Other authorities"), known(assessment.other_authorities))]
        else:
            processing = [(_("Purpose of the processing"), _(settings.ORGANISATION["purpose"]))]
            processing += [
                (label, unknown)
                for label in [
                    _("Categories of personal data"),
                    _("Special categories (art. 9-10)"),
                    _("Categories of data subjects"),
                    _("Approximate number of data subjects"),
                    _("Approximate number of records"),
                ]
            ]
            cause = [
                (label, unknown)
                for label in [
                    _("Type of breach"),
                    _("Internal or external"),
                    _("Human or technical"),
                    _("Accidental or malicious"),
                ]
            ]
            consequences = [(_("Likely consequences"), unknown), (_("Severity (ENISA)"), unknown)]
            measures = [(_("Measures taken"), unknown), (_("Measures proposed"), unknown)]
            communication = [(_("Data subjects informed"), unknown)]
            controllers = [(_("Controllers"), unknown)]
            authorities = [(_("Other authorities"), unknown)]
        story += section(_("2. The processing affected by the breach"), processing)
        story += section(
            _("3. Description of the breach"),
            [
                (_("What happened"), incident.description),
                (_("Start of the breach"), local(incident.occurred_at, unknown)),
                (_("End of the breach"), local(incident.ended_at, unknown)),
                (_("Conitro became aware"), local(incident.aware_at, unknown)),
                (_("How it was discovered"), known(incident.discovered_how)),
                *cause,
            ],
        )
        story += section(_("4. Likely consequences and severity"), consequences)
        story += section(_("5. Measures taken and proposed"), measures)
        story += section(_("6. Communication to the data subjects"), communication)
        story += section(_("7. Controllers concerned"), controllers)
        story += section(_("8. Other supervisory authorities (cross-border)"), authorities)
        timeline = [
            (_("Aware since"), local(incident.aware_at, unknown)),
            (_("Deadline (24 h)"), local(incident.deadline_at, unknown)),
            (_("Submitted to the GBA"), local(incident.gba_submitted_at, unknown)),
            (_("GBA reference"), known(incident.gba_reference)),
        ]
        if incident.gba_delay_reason or (
            incident.gba_submitted_at and incident.gba_submitted_at > incident.deadline_at
        ):
            timeline.append((_("Reason for the delay"), known(incident.gba_delay_reason)))
        story += section(_("9. Timeline"), timeline)
        return render(
            story,
            title=_("GBA notification"),
            subject=_("Notification of a personal data breach (GDPR art. 33)"),
            reference=incident.reference,
            language=language,
            facts_digest=facts_hash(incident_facts(incident)),
        )
