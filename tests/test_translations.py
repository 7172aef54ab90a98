"""Dutch is the users' language: pages and errors speak it to a Dutch-speaking person."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from django.utils.translation import trans_real
from rest_framework.test import APIClient

from incidents import workflow
from notifications.models import Message
from notifications.tasks import dispatch

pytestmark = pytest.mark.django_db


def test_a_dutch_user_sees_dutch_pages_with_decimal_commas(client, make_user, incident_in):
    incident = incident_in("assessed")
    client.force_login(make_user("manager", username="an", language="nl"))
    html = client.get(f"/incidents/{incident.pk}/").content.decode()
    assert "Tijdlijn" in html
    assert "Ernst (ENISA)" in html
    assert "2,00 · Gemiddeld" in html


def test_api_errors_follow_accept_language(manager, new_incident):
    incident = new_incident()
    client = APIClient()
    client.force_authenticate(manager)
    response = client.post(
        f"/api/incidents/{incident.pk}/close/", {}, "json", HTTP_ACCEPT_LANGUAGE="nl"
    )
    assert response.status_code == 409
    assert "heeft status Gedetecteerd" in response.json()["detail"]


@pytest.fixture
def untranslated(monkeypatch):
    """Records every text looked up in the Dutch or French catalogue and not found there.

    Django falls back from French to Dutch (the default language) and then to the English
    source, so a missing French text would otherwise go unnoticed in a French document.
    """
    missing = set()
    for language in ("nl", "fr"):
        catalogue = trans_real.translation(language)
        for name in ("gettext", "ngettext"):
            original = getattr(catalogue, name)

            def lookup(message, *args, catalogue=catalogue, original=original, name=name,
                       language=language):  # fmt: skip
                key = (message, 0) if name == "ngettext" else message  # plurals: (msgid, form)
                if message and catalogue._catalog.get(key) is None:
                    missing.add((language, message))
                return original(message, *args)

            monkeypatch.setattr(catalogue, name, lookup)
    return missing


@pytest.mark.parametrize("language", ["nl", "fr"])
def test_every_document_page_and_message_is_wholly_translated(
    client,
    make_user,
    incident_in,
    controller,
    untranslated,
    language,
    settings,
    django_capture_on_commit_callbacks,
):
    """No English text in a Dutch or French document, page or page to a person."""
    settings.ORGANISATION = {**settings.ORGANISATION, "dpo_name": "D", "dpo_phone": "+3221"}
    person = make_user("dpo", username=f"dpo-{language}", language=language)
    make_user("manager", username=f"manager-{language}", language=language)
    controller.language = language
    controller.save()
    with django_capture_on_commit_callbacks(execute=True):
        with time_machine.travel(timezone.now() - timedelta(hours=30)):
            late = incident_in("assessed")
            incident_in("assessed")  # paged in the same messages: a digest
        dispatch()  # the late incidents' overdue steps page everyone, in their language
    gba_notified = incident_in("gba_notified")
    detected = incident_in("detected")
    incident_in("dismissed")
    client.force_login(person)
    urls = [
        "/",
        "/register/",
        "/controllers/",
        "/incidents/new/",
        f"/incidents/{detected.pk}/",
        f"/incidents/{late.pk}/",
        f"/incidents/{late.pk}/assess/",
        f"/incidents/{late.pk}/edit/",
        f"/incidents/{late.pk}/notify_gba/",
        f"/incidents/{detected.pk}/dismiss/",
        f"/incidents/{gba_notified.pk}/notices/",
        f"/incidents/{late.pk}/documents/gba-notification.pdf?lang={language}",
        f"/incidents/{detected.pk}/documents/report.pdf?lang={language}",
        f"/incidents/{late.pk}/documents/report.pdf?lang={language}",
        f"/incidents/{late.pk}/notices/{controller.pk}.pdf",
        f"/register.pdf?lang={language}",
    ]
    digest = next(
        m
        for m in Message.objects.filter(recipient=person, channel="sms")
        if m.also_for.exclude(incident=m.incident).exists()
    )
    urls.append(re.search(r"/ack/\S+/", digest.text).group(0))  # the digest's page
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
    b"".join(client.get(f"/register.csv?lang={language}").streaming_content)
    pages = Message.objects.filter(recipient__language=language)
    assert pages.filter(channel="sms").exists() and pages.filter(channel="email").exists()
    assert not sorted(m for lang, m in untranslated if lang == language)


def test_a_translation_made_before_its_original_changed_is_never_printed(
    incident_in, manager, security, assessment_values, client, dpo
):
    """The French reason for the risk said the old thing after the Dutch original changed
    (issue 22): a changed original takes its translations out of the documents, the page asks
    for them again, and the audit trail keeps them."""
    import io

    from pypdf import PdfReader

    from incidents.fact_texts import missing
    from incidents.timeline import sentence

    incident = incident_in("assessed")
    workflow.translate(
        incident.pk,
        manager,
        "fr",
        {"consequences": "Hameçonnage des clients.", "description": "Mot de passe saisi."},
    )
    values = {**assessment_values, "consequences": "Phishing en identiteitsfraude."}
    workflow.assess(incident.pk, security, values, {})
    incident.refresh_from_db()
    assert incident.assessment.translations == {}
    assert incident.translations == {"fr": {"description": "Mot de passe saisi."}}
    assert "consequences" in [field for _instance, field in missing(incident, "fr")]
    event = incident.events.get(field="translations.stale")
    assert event.before == {"fr": {"consequences": "Hameçonnage des clients."}}
    assert sentence(event) == (
        "Translations out of date since their original changed, to be given again: fr: likely "
        "consequences."
    )
    client.force_login(dpo)
    pdf = client.get(f"/incidents/{incident.pk}/documents/gba-notification.pdf?lang=fr")
    text = " ".join(
        "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages).split()
    )
    assert "Hameçonnage des clients." not in text
    assert "Phishing en identiteitsfraude." in text
    page = client.get(f"/incidents/{incident.pk}/").content.decode()
    assert re.search(r"Not given in French yet: [^.]*likely consequences", page)


def test_a_translation_given_with_the_change_stays(incident_in, manager, security, api):
    incident = incident_in("assessed")
    response = api("security").post(
        f"/api/incidents/{incident.pk}/assess/",
        {
            "consequences": "Fraude.",
            "translations": {"fr": {"consequences": "Fraude (fr)."}},
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    incident.refresh_from_db()
    assert incident.assessment.translations == {"fr": {"consequences": "Fraude (fr)."}}
    assert not incident.events.filter(field="translations.stale").exists()


def test_translating_makes_a_new_version_of_the_documents(client, dpo, incident_in, manager):
    incident = incident_in("assessed")
    client.force_login(dpo)
    url = f"/incidents/{incident.pk}/documents/gba-notification.pdf?lang=fr"
    assert client.get(url).status_code == 200
    workflow.translate(incident.pk, manager, "fr", {"description": "Mot de passe saisi."})
    assert client.get(url).status_code == 200
    versions = incident.documents.filter(kind="gba_notification", language="fr")
    assert sorted(versions.values_list("version", flat=True)) == [1, 2]


def test_dutch_speaks_to_the_reader_as_u_throughout():
    """One register of Dutch: the formal "u", never "je", "jij" or "jouw"."""
    import re

    from django.utils.translation import trans_real

    catalog = trans_real.translation("nl")._catalog
    # What each text says now (ours first): a library's own catalogue only where ours is silent.
    keys = set(catalog.keys())
    texts = [catalog[key] for key in keys if isinstance(catalog[key], str)]
    informal = sorted(
        text for text in texts if re.search(r"\b(je|jij|jou|jouw|jezelf)\b", text, re.I)
    )
    assert informal == []
    assert catalog["Not for your role"] == "Niet voor uw rol"


def test_a_french_reader_never_gets_dutch_from_the_fallback():
    """Django falls back from French to Dutch (LANGUAGE_CODE): every text Dutch has, French
    has too, ours and the libraries'."""
    from django.utils.translation import trans_real

    dutch, french = trans_real.translation("nl")._catalog, trans_real.translation("fr")._catalog
    assert sorted(str(key) for key in set(dutch.keys()) if key not in french) == []
    assert trans_real.translation("fr").gettext("Are you sure?") == "Êtes-vous sûr ?"


def test_every_table_of_languages_has_the_desks_languages_and_no_other():
    """The languages are defined once (settings.LANGUAGES); what maps each to something else
    (a sentence's name, a number format, a voice) covers exactly those."""
    from incident_manager.languages import CODES
    from incidents.documents.base import NUMBER_LOCALES
    from incidents.fact_texts import LANGUAGE_NAMES
    from notifications.backends.twilio import VOICE_LANGUAGES
    from subjects.models import LANGUAGES

    assert CODES == ("nl", "fr", "en")
    for table in (LANGUAGE_NAMES, NUMBER_LOCALES, VOICE_LANGUAGES, dict(LANGUAGES)):
        assert tuple(table) == CODES
    assert dict(LANGUAGES) == {"nl": "Nederlands", "fr": "Français", "en": "English"}


GETTEXT = {
    "_": "msgid",
    "gettext": "msgid",
    "gettext_lazy": "msgid",
    "gettext_noop": "msgid",
    "ngettext": "plural",
    "ngettext_lazy": "plural",
    "pgettext": "context",
    "pgettext_lazy": "context",
}


def marked_for_translation():
    """Every text the code marks for translation, as the catalogue keys it: (file, line, key)."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    for package in ("incidents", "notifications", "accounts", "subjects", "incident_manager"):
        for path in sorted((root / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_bytes())):
                if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                    continue
                kind = GETTEXT.get(node.func.id)
                texts = [a.value for a in node.args if isinstance(a, ast.Constant)]
                if kind is None or not texts or not all(isinstance(t, str) for t in texts):
                    continue
                key = {
                    "msgid": texts[0],
                    "plural": (texts[0], 0),
                    "context": f"{texts[0]}\x04{texts[-1]}",
                }[kind]
                yield path.relative_to(root).as_posix(), node.lineno, key


def test_every_text_the_code_marks_for_translation_is_translated():
    """A Dutch or French reader never meets an English text because the code's text differs
    from the catalogue's: every literal in `_()`, `ngettext()`, `pgettext()` is translated."""
    found = list(marked_for_translation())
    assert len(found) > 500
    for language in ("nl", "fr"):
        catalog = trans_real.translation(language)._catalog
        missing = [f"{path}:{line} {key!r}" for path, line, key in found if key not in catalog]
        assert missing == [], language


def our_forms():
    import importlib
    import inspect

    from django import forms

    for name in ["incidents.forms", "accounts.views", "accounts.second_factor", "subjects.views"]:
        module = importlib.import_module(name)
        for _, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, forms.BaseForm) and value.__module__ == name:
                yield value


def test_every_field_of_every_form_is_labelled_in_dutch():
    """A field without its own label shows its Python name ("Overdue") untranslated."""
    from django.utils import translation

    catalog = trans_real.translation("nl")._catalog
    keys = set(catalog.keys())  # a TranslationCatalog is not iterable
    translated = {catalog[k].lower() for k in keys if isinstance(catalog[k], str)}
    found = list(our_forms())
    assert len(found) > 20
    unlabelled = []
    with translation.override("nl"):
        for form in found:
            for name, field in form.base_fields.items():
                if field.widget.is_hidden:  # the version seen, a draft's key: never shown
                    continue
                label = str(field.label) if field.label is not None else None
                if label is None or label.lower() not in translated:  # capfirst'ed or not
                    unlabelled.append(f"{form.__module__}.{form.__name__}.{name}: {label}")
    assert unlabelled == []
