"""The GBA notification document: every item of GDPR art. 33(3), in the GBA form's order.

The GBA takes notifications through its portal only, so this is what the DPO reviews and then
types in. Conitro is a processor: it notifies *on behalf of* a named controller, as the
processing agreement authorises (WP250rev.01, EDPB 9/2022), so the document says who notifies
for whom. One document per controller by default; one combined document with an annex of the
controllers when the incident says so (a shared platform).

Phases (art. 33(4)): *initial* (what is known; "not known yet" for the rest, honestly), then
*complete* (part 2, to the DBN reference), then *follow-up* (listing what changed since).
"""

from django.conf import settings
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext

from ..fact_texts import LANGUAGE_NAMES, missing, text_in, verbose_name
from ..identifiers import format_enterprise_number, format_phone
from ..models import Assessment, IncidentEvent, Obligation, organisation_name
from ..obligations import controller_deadline
from ..timeline import field_label
from .base import brussels_time, data_table, number, paragraph, render, section
from .facts import share_rows

AUTHORITY = {
    "name": gettext_lazy("Data Protection Authority (Gegevensbeschermingsautoriteit / Autorité "
                         "de protection des données)"),
    "address": gettext_lazy("Rue de la Presse 35, 1000 Brussels"),
    "enterprise_number": "0694.679.950",
}  # fmt: skip


def unbroken(value):
    """A phone number is never split across two lines (no-break spaces)."""
    return value.replace(" ", "\u00a0")


def filing(incident, controller):
    """(part 1, part 2) obligations of this controller, or Nones. The combined notification
    (no controller) follows the earliest filing: one portal form filed for all of them."""
    if controller is None:
        first = (
            incident.obligations.filter(kind=Obligation.Kind.NOTIFY_GBA)
            .order_by(F("met_at").asc(nulls_last=True), "pk")
            .first()
        )
        if first is None:
            return None, None
        controller = first.controller
    owed = {
        o.kind: o
        for o in incident.obligations.filter(
            controller=controller,
            kind__in=[Obligation.Kind.NOTIFY_GBA, Obligation.Kind.COMPLETE_GBA],
        )
    }
    return owed.get(Obligation.Kind.NOTIFY_GBA), owed.get(Obligation.Kind.COMPLETE_GBA)


def filed(obligation):
    return obligation is not None and obligation.status == Obligation.Status.MET


def notification_type(assessment, part1, part2):
    """Initial, complete (part 2) or follow-up; the reference it continues."""
    complete = (
        assessment is not None and not assessment.missing_items() and not (assessment.unknowns())
    )
    if filed(part2) or (filed(part1) and part2 is None):
        reference = (part2 if filed(part2) else part1).reference
        return _("Follow-up of notification %(reference)s") % {"reference": reference}
    if filed(part1):
        if complete:
            return _("Complete notification (part 2) of %(reference)s") % {
                "reference": part1.reference
            }
        return _("Update of the initial notification %(reference)s, still to be completed") % {
            "reference": part1.reference
        }
    if complete:
        return _("Complete notification")
    return _("Initial notification (to be completed, GDPR art. 33(4))")


def organisation_rows(unknown, combined, own=False):
    """Conitro: the processor notifying for its controllers, or (own) the controller of its
    own processing, notifying for itself."""
    organisation = settings.ORGANISATION
    return [
        (_("Name"), organisation_name() or unknown),
        (
            _("Enterprise number"),
            format_enterprise_number(organisation["enterprise_number"]) or unknown,
        ),
        (_("Address"), organisation["address"] or unknown),
        (_("Contact point / DPO"), organisation["dpo_name"] or unknown),
        (_("E-mail"), organisation["dpo_email"] or unknown),
        (_("Phone"), unbroken(format_phone(organisation["dpo_phone"])) or unknown),
        (
            _("Role of the notifier"),
            _(
                "Controller (GDPR art. 4(7)) of the personal data concerned: its own "
                "processing (customers, orders, website), notifying for itself (art. 33(1))"
            )
            if own
            else _(
                "Processor (GDPR art. 28), notifying on behalf of the controllers listed in the "
                "annex, as their processing agreements authorise"
            )
            if combined
            else _(
                "Processor (GDPR art. 28), notifying on behalf of the controller named below, "
                "as the processing agreement authorises"
            ),
        ),
    ]


def controller_rows(controller, unknown):
    return [
        (_("Controller"), controller.name),
        (_("Enterprise number"), controller.enterprise_number_display or unknown),
        (_("Address"), controller.address or unknown),
        (
            _("Contact person"),
            f"{controller.contact_person} — {controller.email} — "
            f"{unbroken(format_phone(controller.phone))}",
        ),
        (
            _("DPO of the controller"),
            " — ".join(v for v in (controller.dpo_name, controller.dpo_email) if v) or unknown,
        ),
    ]


def yes_no(value):
    return _("yes") if value else _("no")


def cause_display(assessment, field, unknown):
    value = getattr(assessment, field)
    if value == "unknown":
        return unknown
    return getattr(assessment, f"get_{field}_display")()


def changes_since(incident, since):
    """What changed after a filing, as the follow-up lists it: one line per change."""
    if since is None:
        return []
    lines = []
    for event in incident.events.filter(at__gt=since).order_by("at", "id"):
        if event.kind in {IncidentEvent.Kind.CHANGED, IncidentEvent.Kind.AWARE_AT_CORRECTED}:
            names = [event.field]  # every change names its field (aware_at for a correction)
        elif event.kind == IncidentEvent.Kind.ASSESSED:
            names = list(event.after or {})
        else:
            continue
        labels = sorted({field_label(name) for name in names})
        lines.append(f"{brussels_time(event.at)}: {', '.join(labels)}")
    return lines


def mandated(incident):
    """The controllers Conitro may notify the GBA for (their processing agreement says so):
    only these are named in a notification or its annex."""
    return incident.controllers.filter(gba_on_behalf=True)


def build_gba_notification(incident, language, controller=None, *, facts_digest):
    """One controller's notification, or (controller None) the combined one with an annex
    of the mandated controllers. downloads.py refuses a controller without a mandate."""
    with translation.override(language):
        unknown = _("not known yet")
        assessment = incident.assessment_or_none()
        controllers = list(mandated(incident).order_by("name"))
        if controller is None and len(controllers) == 1 and not incident.gba_combined:
            controller = controllers[0]
        part1, part2 = filing(incident, controller)
        affected = incident.affected.get(controller=controller) if controller is not None else None
        story = [
            paragraph(_("Notification of a personal data breach"), "title"),
            paragraph(
                _("To the %(authority)s, %(address)s — GDPR art. 33 — %(reference)s — %(title)s")
                % {
                    "authority": AUTHORITY["name"],
                    "address": AUTHORITY["address"],
                    "reference": incident.reference,
                    "title": text_in(incident, "title", language),
                },
                "small",
            ),
            *warnings(incident, language),
        ]
        kind = [(_("Type"), notification_type(assessment, part1, part2))]
        still_unknown = assessment.unknowns() if assessment is not None else []
        if still_unknown:
            # What part 2 will give (GDPR art. 33(4): the information provided in phases).
            kind.append((_("Still to be given"), ", ".join(still_unknown)))
        story += section(_("0. Type of notification"), kind)
        own = controller is not None and controller.is_conitro
        if own:  # Conitro's own data: it is the controller, and nobody else's name is used
            story += section(
                _("1. Identification: the controller"),
                organisation_rows(unknown, combined=False, own=True),
            )
        else:
            story += section(
                _("1. Identification: the notifying processor"),
                # Without a controller of its own the notification lists them all in its annex.
                organisation_rows(unknown, combined=controller is None and bool(controllers)),
            )
        if own:
            pass  # nobody else's name: Conitro notifies for itself
        elif controller is not None:
            story += section(
                _("1b. The controller on whose behalf Conitro notifies"),
                controller_rows(controller, unknown),
            )
        elif controllers:
            story += section(
                _("1b. The controllers on whose behalf Conitro notifies"),
                [
                    (
                        _("Controllers"),
                        ngettext(
                            "%(count)s controller: see the annex.",
                            "%(count)s controllers: see the annex.",
                            len(controllers),
                        )
                        % {"count": number(len(controllers))},
                    )
                ],
            )
        else:
            story += section(
                _("1b. The controller on whose behalf Conitro notifies"),
                [(_("Controller"), unknown)],
            )
        # The platform's figures in a combined notification include controllers that notify
        # the GBA themselves: said, with each mandated controller's own figure in the annex.
        shared = affected is None and incident.controllers.filter(gba_on_behalf=False).exists()
        story += form_sections(incident, assessment, affected, language, unknown, shared)
        story += section(
            _("8. Timeline"), timeline_rows(incident, affected, part1, part2, language)
        )
        changes = changes_since(incident, part2.met_at if filed(part2) else (
            part1.met_at if filed(part1) else None
        ))  # fmt: skip
        if changes:
            story += section(
                _("9. What changed since the last filing"),
                [(_("Changed"), "\n".join(changes))],
            )
        if controller is None and controllers:
            story.append(paragraph(_("Annex: the controllers concerned"), "h1"))
            story += annex_tables(incident, controllers, unknown)
        return render(
            story,
            title=_("GBA notification"),
            subject=_("Notification of a personal data breach (GDPR art. 33)"),
            reference=incident.reference,
            language=language,
            facts_digest=facts_digest,
        )


def warnings(incident, language):
    """What the reader must know before using the text: texts not given in its language, an
    English version (for reading, never for filing)."""
    story = []
    if language == "en":
        story.append(
            paragraph(
                _("For reading only, not for submission: the GBA accepts Dutch, French or German."),
                "h1",
            )
        )
    untranslated = missing(incident, language)
    if untranslated:
        story.append(
            paragraph(
                _(
                    "Not given in this language yet, printed as written (in %(written)s): "
                    "%(fields)s. The GBA accepts Dutch, French or German: give these texts "
                    "in this language before submitting."
                )
                % {
                    "written": LANGUAGE_NAMES[incident.text_language],
                    "fields": ", ".join(str(verbose_name(i, f)) for i, f in untranslated),
                },
                "h1",
            )
        )
    return story


def form_sections(incident, assessment, affected, language, unknown, shared=False):
    """Sections 2 to 7 of the GBA's form: the processing (one controller's own share when
    affected is given), the breach, its consequences, the measures, the data subjects, the
    cross-border aspects. The notification prints them; so does the annex of the letter to a
    controller that notifies the GBA itself (art. 28(3)(f): the processor assists)."""

    def known(value):
        return value if value not in (None, "", []) else unknown

    if assessment is None:
        processing = [
            (label, unknown)
            for label in [
                _("Purpose of the processing"),
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
                _("Security measures in place before the breach"),
            ]
        ]
        consequences = [
            (_("Likely consequences"), unknown),
            (_("Risk to the data subjects"), unknown),
        ]
        measures = [(_("Measures taken"), unknown), (_("Measures proposed"), unknown)]
        communication = [(_("Data subjects informed"), unknown)]
        authorities = [
            (_("International aspects"), unknown),
            (_("Other supervisory authorities"), unknown),
        ]
    else:
        purpose, data, subjects, people, records = share_rows(
            assessment, affected, language, unknown
        )
        if shared:
            note = _(
                "%(value)s (the whole platform, including controllers that notify the GBA "
                "themselves; each mandated controller's own figure is in the annex)"
            )
            people, records = [
                (row[0], note % {"value": row[1]} if row[1] != unknown else row[1])
                for row in (people, records)
            ]
        processing = [
            purpose,
            data,
            (_("Special categories (art. 9-10)"), yes_no(assessment.special_categories)),
            subjects,
            people,
            records,
        ]
        breach_types = ", ".join(str(label) for label in assessment.breach_types())
        cause = [
            (_("Type of breach"), known(breach_types)),
            (_("Internal or external"), cause_display(assessment, "cause_origin", unknown)),
            (_("Human or technical"), cause_display(assessment, "cause_actor", unknown)),
            (_("Accidental or malicious"), cause_display(assessment, "cause_intent", unknown)),
            (
                _("Security measures in place before the breach"),
                known(text_in(assessment, "measures_before", language)),
            ),
        ]
        consequences = [
            (_("Likely consequences"), known(text_in(assessment, "consequences", language))),
            (_("Risk to the data subjects"), assessment.get_risk_level_display()),
            *severity_rows(assessment),
        ]
        reasoning = text_in(assessment, "risk_reasoning", language)
        if reasoning:
            consequences.insert(2, (_("Reasoning"), reasoning))
        measures = [
            (_("Measures taken"), known(text_in(assessment, "measures_taken", language))),
            (_("Measures proposed"), known(text_in(assessment, "measures_proposed", language))),
        ]
        communication = communication_rows(assessment, affected, language, unknown)
        none = pgettext("cross-border", "none")
        authorities = [
            (_("International aspects"), text_in(assessment, "international", language) or none),
            (
                _("Other supervisory authorities"),
                text_in(assessment, "other_authorities", language) or none,
            ),
        ]
    story = section(_("2. The processing affected by the breach"), processing)
    story += section(
        _("3. Description of the breach"),
        [
            (_("What happened"), text_in(incident, "description", language)),
            (_("Start of the breach"), brussels_time(incident.occurred_at, unknown)),
            (_("End of the breach"), brussels_time(incident.ended_at, unknown)),
            (_("Conitro became aware"), brussels_time(incident.aware_at)),
            (_("How it was discovered"), known(text_in(incident, "discovered_how", language))),
            *cause,
        ],
    )
    story += section(_("4. Likely consequences and risk"), consequences)
    story += section(_("5. Measures taken and proposed"), measures)
    story += section(_("6. Communication to the data subjects"), communication)
    story += section(_("7. Cross-border aspects"), authorities)
    return story


def communication_rows(assessment, affected, language, unknown):
    """Art. 34 as decided for this controller (its own decision, else the platform's)."""
    decision, ground = (
        affected.subjects_decision()
        if affected is not None
        else (assessment.subjects_informed, assessment.art34_ground)
    )
    rows = [
        (_("Data subjects informed"), Assessment.SubjectsInformed(decision).label),
        (
            _("Data encrypted or otherwise unintelligible"),
            assessment.get_data_unintelligible_display(),
        ),
    ]
    if ground:
        rows.append((_("Ground (art. 34(3))"), Assessment.Art34Ground(ground).label))
    how = text_in(assessment, "subjects_informed_reason", language)
    rows.append((_("How, or why not (art. 34(3))"), how or unknown))
    if affected is not None:
        informed = assessment.incident.obligations.filter(
            kind=Obligation.Kind.INFORM_SUBJECTS,
            controller=affected.controller,
            status=Obligation.Status.MET,
        ).first()
        if informed is not None:
            rows.append(
                (
                    _("Informed by Conitro"),
                    f"{brussels_time(informed.met_at)} — {informed.how}",
                )
            )
    return rows


def severity_rows(assessment):
    severity = assessment.severity
    return [
        (
            _("Severity by an internal method (ENISA 2013; not the legal test)"),
            f"{number(severity.score)} — {severity.band_label}",
        ),
        (
            _("ENISA inputs"),
            _(
                "DPC %(dpc)s (%(category)s) × EI %(ei)s + CB %(cb)s "
                "(confidentiality %(c)s, integrity %(i)s, availability %(a)s, "
                "malicious intent %(m)s)"
            )
            % {
                "dpc": number(assessment.dpc),
                "category": assessment.get_enisa_dpc_display(),
                "ei": number(assessment.enisa_ease_of_identification),
                "cb": number(severity.circumstances),
                "c": number(assessment.enisa_confidentiality),
                "i": number(assessment.enisa_integrity),
                "a": number(assessment.enisa_availability),
                "m": yes_no(assessment.enisa_malicious),
            },
        ),
    ]


def first_told(incident):
    """The earliest awareness of a mandated controller: its 72 hours end first."""
    return (
        incident.obligations.filter(
            kind=Obligation.Kind.TELL_CONTROLLER,
            controller__gba_on_behalf=True,
            status=Obligation.Status.MET,
        )
        .order_by("met_at")
        .values_list("met_at", flat=True)
        .first()
    )


def timeline_rows(incident, affected, part1, part2, language):
    """The legal facts: when Conitro became aware, when the controller did (we told it; its 72
    hours of art. 33(1) run from then), the filing. Conitro's own 24-hour promise is internal
    and is not printed here; a reason for delay is asked only past the controller's 72 hours."""
    rows = [(_("Conitro became aware"), brussels_time(incident.aware_at))]
    if incident.told_by:
        rows.append((_("Reported to Conitro by its sub-processor"), incident.told_by))
    if affected is not None and affected.controller.is_conitro:
        # Conitro's own data: its own awareness starts the 72 hours of art. 33(1).
        end = controller_deadline(incident.aware_at)
        rows.append((_("72 hours from Conitro's awareness end (art. 33(1))"), brussels_time(end)))
    else:
        if affected is not None:
            told = affected.told_at
            rows.append(
                (
                    _("The controller became aware (told by Conitro)"),
                    brussels_time(told, _("not told yet")),
                )
            )
        else:
            told = first_told(incident)
            rows.append(
                (
                    _("The controllers became aware (told by Conitro)"),
                    _("see the annex") if told else _("not told yet"),
                )
            )
        end = controller_deadline(told)
        if end is not None:
            rows.append(
                (_("72 hours from the controller's awareness end (art. 33(1))"), brussels_time(end))
            )
    rows += [
        (
            pgettext("GBA notification", "Part 1 submitted"),
            brussels_time(part1 and part1.met_at, _("not submitted yet")),
        ),
        (_("GBA reference"), part1.reference if filed(part1) else _("none yet")),
    ]
    if part2 is not None:
        rows.append(
            (pgettext("GBA notification", "Part 2 due by"), brussels_time(part2.deadline_at))
        )
    rows.append((_("Date of this document"), brussels_time(timezone.now())))
    submitted = part1.met_at if filed(part1) else timezone.now()
    if end is not None and submitted > end:
        reason = (part1.delay_reason if part1 else "") or text_in(
            incident, "gba_delay_reason", language
        )
        rows.append(
            (
                _("Reason for the delay (art. 33(1))"),
                reason
                or _(
                    "to be given: more than 72 hours after the controller became aware of the "
                    "breach"
                ),
            )
        )
    return rows


def annex_tables(incident, controllers, unknown, per_table=25):
    """Short tables, each with the header: reportlab splits one long table in quadratic time.
    Each controller with its own figures (or "not split yet") and when it was told."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm

    width = A4[0] - 36 * mm
    shares = {a.controller_id: a for a in incident.affected.filter(controller__gba_on_behalf=True)}
    told = dict(
        incident.obligations.filter(
            kind=Obligation.Kind.TELL_CONTROLLER, status=Obligation.Status.MET
        ).values_list("controller_id", "met_at")
    )
    not_split = _("not split yet")

    def figures(share):
        subjects = getattr(share, "subjects_count", None)
        records = getattr(share, "records_count", None)
        return "\n".join(
            [
                _("%(count)s data subjects") % {"count": number(subjects)}
                if subjects is not None
                else not_split,
                _("%(count)s records") % {"count": number(records)} if records is not None else "",
            ]
        ).strip()

    rows = [
        [
            f"{c.name}\n{c.enterprise_number_display or unknown}",
            c.address,
            "\n".join(
                [
                    f"{c.contact_person}, {c.email}",
                    _("DPO: %(dpo)s")
                    % {"dpo": " — ".join(v for v in (c.dpo_name, c.dpo_email) if v) or unknown},
                ]
            ),
            figures(shares.get(c.pk)),
            brussels_time(told.get(c.pk), _("not told yet")),
        ]
        for c in controllers
    ]
    header = [
        _("Controller"),
        _("Address"),
        _("Contact"),
        _("Its figures"),
        _("Told (its awareness)"),
    ]
    widths = [w * width for w in (0.22, 0.2, 0.28, 0.15, 0.15)]
    return [
        data_table(header, rows[start : start + per_table], widths)
        for start in range(0, len(rows), per_table)
    ]
