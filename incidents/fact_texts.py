"""Free-text facts in more than one language.

Staff write the description, the consequences and the measures in one language (the
incident's `text_language`); the GBA accepts Dutch, French or German only, and a controller
reads its letter in its own language. Each free text may therefore be given per language
(`translations` on the incident and the assessment: {"fr": {"description": "…"}}). A document
prints the text in its own language when there is one, the original otherwise, and the
incident page says which texts are missing for which language before anyone downloads: never
a silent mix.
"""

from django.utils.translation import pgettext_lazy

INCIDENT_TEXTS = ["title", "description", "discovered_how", "gba_delay_reason"]
ASSESSMENT_TEXTS = [
    "consequences",
    "measures_taken",
    "measures_proposed",
    "measures_before",
    "subjects_informed_reason",
    "international",
    "other_authorities",
    "risk_reasoning",
]
# The languages' names as they read inside a sentence ("pas encore donnés en néerlandais",
# "imprimés tels qu'écrits (en anglais)").
# (Literal, so that makemessages finds each; tests/test_translations.py checks they are
# settings.LANGUAGES' codes.)
LANGUAGE_NAMES = {
    "nl": pgettext_lazy("in a sentence", "Dutch"),
    "fr": pgettext_lazy("in a sentence", "French"),
    "en": pgettext_lazy("in a sentence", "English"),
}
# The languages the GBA accepts that the desk writes documents in: texts are asked for in each.
DOCUMENT_LANGUAGES = {code: LANGUAGE_NAMES[code] for code in ("nl", "fr")}


def incident_of(instance):
    return instance if hasattr(instance, "text_language") else instance.incident


def text_in(instance, field, language):
    """The free text in this language: its translation, else the original."""
    original = getattr(instance, field) or ""
    if language == incident_of(instance).text_language:
        return original
    translated = (instance.translations or {}).get(language, {}).get(field, "")
    return translated or original


def originals(incident):
    """(instance, field) of every free text that has something written in it."""
    found = [(incident, field) for field in INCIDENT_TEXTS if getattr(incident, field)]
    assessment = incident.assessment_or_none()
    if assessment is not None:
        found += [(assessment, field) for field in ASSESSMENT_TEXTS if getattr(assessment, field)]
    return found


def missing(incident, language):
    """The free texts not given in this language (empty when they are, or it is theirs)."""
    if language == incident.text_language:
        return []
    return [
        (instance, field)
        for instance, field in originals(incident)
        if not (instance.translations or {}).get(language, {}).get(field)
    ]


def retire_stale(instance, fields, earlier):
    """The originals of these fields changed: their translations say something else now. They
    are taken out (returned, for the audit trail, which keeps them), so every document prints
    the new original with its warning and the incident page asks for the texts again: never
    an old translation printed silently. A translation given with the change (not the one in
    `earlier`) stays."""
    retired = {}
    kept = {}
    for language, texts in (instance.translations or {}).items():
        old = (earlier or {}).get(language, {})
        gone = {
            field: texts[field]
            for field in fields
            if field in texts and texts[field] == old.get(field)
        }
        if gone:
            retired[language] = gone
        kept[language] = {k: v for k, v in texts.items() if k not in gone}
    if retired:
        instance.translations = {language: texts for language, texts in kept.items() if texts}
    return retired


def verbose_name(instance, field):
    return instance._meta.get_field(field).verbose_name
