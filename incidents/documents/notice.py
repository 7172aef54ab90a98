"""The notice to a controller (GDPR art. 33(2)): a letter in the controller's language with
the facts as far as they concern it."""

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from .base import facts_hash, local, paragraph, render, section
from .facts import assessment_rows, incident_facts


def notice_email(incident, controller):
    """Subject and body of the e-mail that carries the letter."""
    with translation.override(controller.language):
        subject = _("Personal data breach %(reference)s — notice from %(organisation)s") % {
            "reference": incident.reference,
            "organisation": settings.ORGANISATION["name"],
        }
        body = _(
            "Dear %(contact)s,\n\n"
            "As your processor, %(organisation)s informs you of a personal data breach that "
            "concerns data we process on your behalf (GDPR art. 33(2)). The attached letter "
            "gives the facts known today; we will complete them as the investigation goes on.\n\n"
            "Reference: %(reference)s\nAware since: %(aware)s\n\n"
            "Kind regards,\n%(organisation)s — %(email)s"
        ) % {
            "contact": controller.contact_person,
            "organisation": settings.ORGANISATION["name"],
            "reference": incident.reference,
            "aware": local(incident.aware_at, ""),
            "email": settings.ORGANISATION["dpo_email"],
        }
        return subject, body


def build_controller_notice(incident, language, controller):
    with translation.override(language):
        unknown = _("not known yet")
        assessment = incident.assessment_or_none()
        _subject, body = notice_email(incident, controller)
        story = [
            paragraph(settings.ORGANISATION["name"], "small"),
            paragraph(
                f"{controller.name}\n{controller.contact_person}\n{controller.address}", "body"
            ),
            paragraph(timezone.localtime().strftime("%d/%m/%Y"), "small"),
            paragraph(_("Notice of a personal data breach"), "title"),
            paragraph(body.split("\n\n", 1)[1].rsplit("\n\n", 1)[0]),
        ]
        rows = [
            (_("What happened"), incident.description),
            (_("Conitro became aware"), local(incident.aware_at, unknown)),
            (_("Start of the breach"), local(incident.occurred_at, unknown)),
            (_("End of the breach"), local(incident.ended_at, unknown)),
        ]
        if assessment:
            rows += assessment_rows(assessment, language, unknown)
        rows += [
            (_("GBA reference"), incident.gba_reference or unknown),
            (_("Contact point / DPO"), settings.ORGANISATION["dpo_email"]),
        ]
        story += section(_("The breach"), rows)
        return render(
            story,
            title=_("Notice to the controller"),
            subject=_("Notice of a personal data breach (GDPR art. 33(2))"),
            reference=incident.reference,
            language=language,
            facts_digest=facts_hash(incident_facts(incident)),
        )
