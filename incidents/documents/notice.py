"""The notice to a controller (GDPR art. 33(2)): a letter from a processor to its controller, in
the controller's language, from a template (templates/letters/): sender and address, place and
date, the addressee, the facts the controller needs for its own notification, whether Conitro
notified the GBA on its behalf (with the DBN) or the controller must, by when its own 72 hours
end, and the signatory (the DPO). The e-mail that carries it has its own template."""

from babel.dates import format_date
from django.conf import settings
from django.db.models import Max, Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from ..fact_texts import LANGUAGE_NAMES, missing, text_in
from ..identifiers import format_enterprise_number, format_phone
from ..models import Assessment, IncidentEvent, Obligation, State
from ..obligations import controller_deadline, note_shown
from ..timeline import field_label, value_text
from ..workflow import REPORTED_FACTS
from .base import NUMBER_LOCALES, brussels_time, paragraph, render, section
from .facts import assessment_rows
from .gba import form_sections


def gba_status(incident, controller):
    """What the letter says about the GBA for this controller. Every controller of the
    incident has its GBA obligation (sync makes one as the controller is named)."""
    filing = incident.obligations.get(kind=Obligation.Kind.NOTIFY_GBA, controller=controller)
    status = {"on_behalf": controller.gba_on_behalf, "deadline": brussels_time(filing.deadline_at)}
    if filing.status == Obligation.Status.MET:
        status.update(reference=filing.reference, submitted=brussels_time(filing.met_at))
    elif filing.status == Obligation.Status.NOT_REQUIRED:
        status["not_required"] = note_shown(filing)
    return status


def who_informs(incident, assessment, affected):
    """Who tells the data subjects, and by when, as the letter says it."""
    if assessment is None:
        return _("Decided once the risk is assessed; we will tell you.")
    decision, ground = affected.subjects_decision()
    Decision = Assessment.SubjectsInformed
    if decision == Decision.UNDECIDED:
        return _("Not decided yet; we will tell you as soon as it is.")
    if decision == Decision.NOT_INFORMED:
        if ground:
            return _("They are not informed: %(ground)s.") % {
                "ground": Assessment.Art34Ground(ground).label
            }
        return _("Not required as we assess the risk (no high risk); as controller, you decide.")
    owed = incident.obligations.filter(
        kind=Obligation.Kind.INFORM_SUBJECTS, controller=affected.controller
    ).first()
    if owed is not None and owed.status == Obligation.Status.OPEN:
        return _(
            "Conitro informs them on your behalf, as you asked, by %(deadline)s at the latest."
        ) % {"deadline": brussels_time(owed.deadline_at)}
    if owed is not None and owed.status == Obligation.Status.MET:
        return _("Conitro informed them on your behalf on %(at)s (%(how)s).") % {
            "at": brussels_time(owed.met_at),
            "how": owed.how,
        }
    if assessment.risk_level == Assessment.Risk.HIGH:
        return _(
            "The risk is high: you inform them without undue delay, unless a ground of "
            "art. 34(3) applies (encrypted or unintelligible data, measures that remove the "
            "high risk, or a public communication where informing each one would take "
            "disproportionate effort)."
        )
    return _("%(decision)s; as controller, you decide (no high risk assessed).") % {
        "decision": Decision(decision).label
    }


def closing_salutation(controller):
    """The French closing repeats the title alone: "Veuillez agréer, Monsieur, …" after
    "Monsieur Dubois,"."""
    salutation = controller.salutation or _("Dear Sir or Madam")
    for title in ("Madame", "Monsieur", "Maître", "Docteur"):
        if salutation.startswith(f"{title} "):
            return title
    return salutation


def letter_context(incident, controller):
    told = incident.obligations.filter(
        kind=Obligation.Kind.TELL_CONTROLLER, controller=controller, status=Obligation.Status.MET
    ).first()
    # Counted from when the controller was told; for a letter not sent yet, from today.
    told_at = told.met_at if told else timezone.now()
    return {
        "incident": incident,
        "controller": controller,
        # Call inside translation.override(the controller's language).
        "salutation": controller.salutation or _("Dear Sir or Madam"),
        "closing_salutation": closing_salutation(controller),
        "organisation": settings.ORGANISATION,
        "dpo_phone": format_phone(settings.ORGANISATION.get("dpo_phone", "")),  # +32 9 234 …
        "aware": brussels_time(incident.aware_at),
        "gba": gba_status(incident, controller),
        "controller_deadline": brussels_time(controller_deadline(told_at)),
        # Once told, the 72 hours count from that notice, not from the day this copy is read.
        "told": brussels_time(told.met_at) if told else "",
    }


def last_letter(incident, controller):
    """When this controller last got a letter: when it was told, or its latest update."""
    return incident.obligations.filter(
        controller=controller,
        kind__in=[Obligation.Kind.TELL_CONTROLLER, Obligation.Kind.UPDATE_CONTROLLER],
        status=Obligation.Status.MET,
    ).aggregate(at=Max("met_at"))["at"]


def supplement(incident, controller):
    """What changed since this controller's last letter, as (label, "old → new") rows, when
    it is owed an update; None when its letter is the first notice."""
    owed = incident.obligations.filter(
        controller=controller,
        kind=Obligation.Kind.UPDATE_CONTROLLER,
        status=Obligation.Status.OPEN,
    )
    if not owed.exists():  # the first notice of 5,000: one query, nothing more
        return None
    since = last_letter(incident, controller)
    return changes_for(incident, controller, since) if since else None


def changes_for(incident, controller, since):
    """Call inside translation.override: the rows are in the reader's language."""
    rows = []
    Kind = IncidentEvent.Kind
    # Only the events that can be a change for this controller: not the notices sent to
    # thousands of others (their JSON lists every one of them).
    relevant = (
        Q(kind__in=[Kind.AWARE_AT_CORRECTED, Kind.ASSESSED])
        | Q(kind=Kind.CHANGED, field__in=[*REPORTED_FACTS, "affected_controller"])
        | Q(kind=Kind.RECORDED, field="notify_gba")
        | Q(kind=Kind.TRANSITION, to_state=State.DISMISSED)
    )
    for event in incident.events.filter(relevant, at__gt=since).order_by("at", "id"):
        before = event.before if isinstance(event.before, dict) else {}
        after = event.after if isinstance(event.after, dict) else {}
        if event.kind == IncidentEvent.Kind.AWARE_AT_CORRECTED:
            pairs = [("aware_at", before.get("aware_at"), after.get("aware_at"))]
        elif event.kind == IncidentEvent.Kind.CHANGED and event.field in REPORTED_FACTS:
            pairs = [(event.field, event.before, event.after)]
        elif (
            event.kind == IncidentEvent.Kind.CHANGED
            and event.field == "affected_controller"
            and after.get("controller_id") == controller.pk
        ):
            pairs = [
                (name, before.get(name), value)
                for name, value in sorted(after.items())
                if name not in {"controller", "controller_id"}
            ]
        elif event.kind == IncidentEvent.Kind.ASSESSED:
            pairs = [
                (name, before.get(name), value)
                for name, value in sorted(after.items())  # PostgreSQL's JSON keeps no order
                if name not in {"controllers", "translations"}
            ]
        elif (
            event.kind == IncidentEvent.Kind.RECORDED
            and event.field == "notify_gba"
            and controller.name in after.get("controllers", [])
        ):
            rows.append((_("GBA reference"), after.get("reference", "")))
            continue
        elif event.kind == IncidentEvent.Kind.TRANSITION and event.to_state == State.DISMISSED:
            rows.append(
                (
                    _("Outcome"),
                    _("Not a personal data breach: %(reason)s")
                    % {"reason": incident.dismissal_reason},
                )
            )
            continue
        else:
            continue
        rows += [
            (
                str(field_label(name)).capitalize(),
                f"{value_text(name, old)} → {value_text(name, new)}",
            )
            for name, old, new in pairs
        ]
    return rows


def notice_email(incident, controller):
    """Subject and body of the e-mail that carries the letter (or its supplement)."""
    language = controller.language
    with translation.override(language):
        changes = supplement(incident, controller)
        names = {
            "reference": incident.reference,
            "organisation": settings.ORGANISATION["name"],
        }
        context = letter_context(incident, controller)
        if changes is not None:
            subject = _("Supplement: personal data breach %(reference)s — %(organisation)s")
            template = f"letters/update_email_{language}.txt"
            context.update(changes=changes, told=brussels_time(last_letter(incident, controller)))
        else:
            subject = _("Personal data breach %(reference)s — notice from %(organisation)s")
            template = f"letters/notice_email_{language}.txt"
        return subject % names, render_to_string(template, context).strip()


def letterhead(organisation, unknown):
    """Who writes, as the Belgian Companies and Associations Code (art. 2:20) wants it on a
    company's letters: name and legal form, registered office, enterprise number with its
    register, e-mail and website."""
    number = format_enterprise_number(organisation.get("enterprise_number", ""))
    registered = ", ".join(v for v in (number, organisation.get("register", "")) if v)
    return [
        " ".join(v for v in (organisation["name"], organisation.get("legal_form", "")) if v),
        _("Registered office: %(address)s") % {"address": organisation["address"] or unknown},
        _("Enterprise number %(number)s") % {"number": registered or unknown},
        " — ".join(
            v
            for v in (
                _("Replies to our DPO: %(email)s") % {"email": organisation["dpo_email"]},
                organisation.get("website", ""),
            )
            if v
        ),
    ]


def date_line(organisation, language):
    """ "Gent, 6 december 2026" / "Gand, le 6 décembre 2026" / "Ghent, 6 December 2026"."""
    today = format_date(timezone.localdate(), format="long", locale=NUMBER_LOCALES[language])
    place = organisation.get(f"place_{language}") or organisation.get("place", "")
    if not place:
        return today
    return _("%(place)s, %(date)s") % {"place": place, "date": today}


def build_controller_notice(incident, language, controller, *, facts_digest):
    with translation.override(language):
        unknown = _("not known yet")
        organisation = settings.ORGANISATION
        context = letter_context(incident, controller)
        changes = supplement(incident, controller)
        template = f"letters/controller_notice_{language}.txt"
        if changes is not None:
            template = f"letters/controller_update_{language}.txt"
            context.update(
                told=brussels_time(last_letter(incident, controller)),
                dismissed=incident.state == State.DISMISSED,
            )
        letter = render_to_string(template, context).strip()
        subject_line, _blank, body = letter.partition("\n\n")
        story = [
            paragraph("\n".join(letterhead(organisation, unknown)), "small"),
            paragraph(
                f"{controller.name}\n{controller.contact_person}\n{controller.address}", "body"
            ),
            paragraph(
                "\n".join(
                    [
                        date_line(organisation, language),
                        _("Our reference: %(reference)s") % {"reference": incident.reference},
                    ]
                ),
                "letter",
            ),
            paragraph(subject_line, "h1"),
        ]
        if missing(incident, language):
            story.append(
                paragraph(
                    _(
                        "Some facts below are written in %(written)s, as our staff recorded "
                        "them; we will send them translated on request."
                    )
                    % {"written": LANGUAGE_NAMES[incident.text_language]},
                    "small",
                )
            )
        *parts, closing = body.split("\n\n")
        story += [paragraph(part, "letter") for part in parts]
        if changes is not None:
            story += section(
                _("What changed since our last letter"), changes or [(_("Changed"), _("nothing"))]
            )
        rows = [
            (_("What happened"), text_in(incident, "description", language)),
            (_("Conitro became aware"), brussels_time(incident.aware_at)),
            (_("Start of the breach"), brussels_time(incident.occurred_at, unknown)),
            (_("End of the breach"), brussels_time(incident.ended_at, unknown)),
        ]
        assessment = incident.assessment_or_none()
        affected = incident.affected.get(controller=controller)
        if assessment:
            rows += assessment_rows(assessment, language, unknown, affected)
        rows += [
            (
                _("Informing the data subjects (art. 34)"),
                who_informs(incident, assessment, affected),
            ),
            (_("GBA reference"), context["gba"].get("reference") or _("none yet")),
            (_("Contact point / DPO"), organisation["dpo_email"]),
        ]
        story += section(_("The breach"), rows)
        story.append(paragraph(closing, "letter"))
        story.append(
            paragraph(
                "\n".join(
                    v
                    for v in (
                        organisation["dpo_name"],
                        _("Data protection officer (DPO)"),
                        organisation["name"],
                    )
                    if v
                )
            )
        )
        if not controller.gba_on_behalf:
            # It files itself: the facts as the GBA's form asks for them (art. 28(3)(f)).
            story.append(
                paragraph(
                    _("Annex: the facts for your own notification, in the order of the GBA's form"),
                    "h1",
                )
            )
            story += form_sections(incident, assessment, affected, language, unknown)
        return render(
            story,
            title=_("Notice to the controller"),
            subject=_("Notice of a personal data breach (GDPR art. 33(2))"),
            reference=incident.reference,
            language=language,
            facts_digest=facts_digest,
        )
