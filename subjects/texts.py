"""The texts of a communication: the defaults written from the incident (templates per
language, in clear and plain language: art. 34(2)), and each message as a person receives it:
their greeting, the text as edited, the signature."""

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

from incidents.fact_texts import text_in
from incidents.models import organisation_name

from .models import LANGUAGES

GREETING = "-greeting-"  # where each person's own greeting goes (the provider fills it in)


def sender(controller):
    """Who the message is from: Conitro for its own data, else the controller it informs for."""
    return organisation_name() if controller.is_conitro else controller.name


def defaults(incident, controller):
    """{language: {"subject", "body"}} from the incident's facts, in each language."""
    assessment = incident.assessment_or_none()
    organisation = settings.ORGANISATION
    dpo = " — ".join(
        part
        for part in (organisation["dpo_name"], organisation["dpo_email"], organisation["dpo_phone"])
        if part
    )
    texts = {}
    for language, _name in LANGUAGES:
        with translation.override(language):
            context = {
                "own": controller.is_conitro,
                "sender": sender(controller),
                "what": text_in(incident, "description", language),
                "data": "; ".join(
                    category.name_in(language) for category in assessment.data_categories.all()
                )
                if assessment
                else "",
                "consequences": text_in(assessment, "consequences", language) if assessment else "",
                "measures": text_in(assessment, "measures_taken", language) if assessment else "",
                "dpo": dpo,
            }
            texts[language] = {
                "subject": render_to_string(f"subjects/texts/subject_{language}.txt", context)
                .strip()
                .replace("\n", " "),
                "body": render_to_string(f"subjects/texts/body_{language}.txt", context).strip(),
            }
    return texts


def greeting(name, language):
    with translation.override(language):
        return render_to_string("subjects/texts/greeting.txt", {"name": name}).strip()


def message(communication, language, greeting_text=GREETING):
    """(subject, body) in this language; the greeting left as the placeholder for a batch."""
    written = communication.text(language)
    with translation.override(language):
        signature = render_to_string(
            "subjects/texts/signature.txt",
            {
                "sender": sender(communication.controller),
                "address": settings.ORGANISATION["address"]
                if communication.controller.is_conitro
                else "",
            },
        ).strip()
    body = f"{greeting_text}\n\n{written.get('body', '')}\n\n{signature}\n"
    return written.get("subject", ""), body
