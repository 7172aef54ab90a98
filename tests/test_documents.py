"""Documents read back with pypdf: the GBA notification covers every art. 33(3) item with the
incident's own values, in Dutch and in French; accents survive; versions and downloads."""

import io
import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone
from pypdf import PdfReader

from incidents import workflow
from incidents.documents.base import brussels_time
from incidents.models import DataCategory, Document, DocumentDownload, SubjectCategory

pytestmark = pytest.mark.django_db


def named_categories(data, subjects):
    """Categories of personal data and of data subjects, each named as (en, nl, fr)."""
    return (
        [DataCategory.objects.create(name_en=en, name_nl=nl, name_fr=fr) for en, nl, fr in data],
        [
            SubjectCategory.objects.create(name_en=en, name_nl=nl, name_fr=fr)
            for en, nl, fr in subjects
        ],
    )


def read(response):
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return reader, " ".join(text.split())


@pytest.fixture
def assessed(incident_in, manager):
    incident = incident_in("assessed")
    workflow.update_facts(
        incident.pk,
        manager,
        {
            "title": "Fuite « données » chez Lefèvre: ë, ç, à, ô, ĳ en €",
            "discovered_how": "Melding van een klant",
        },
    )
    return incident


GBA_ITEMS = {
    "nl": [
        "Melding van een inbreuk in verband met persoonsgegevens",
        "Identificatie: de meldende verwerker",
        "Verwerker (AVG art. 28)",
        "Gegevensbeschermingsautoriteit",
        "Conitro",
        "De verwerking waarop de inbreuk betrekking heeft",
        "Categorieën persoonsgegevens",
        "E-mailadres",
        "Categorieën betrokkenen",
        "Klanten",
        "1.200",
        "3.400",
        "Beschrijving van het datalek",
        "Extern",
        "Menselijk",
        "Kwaadwillig",
        "vertrouwelijkheid",
        "Melding van een klant",
        "Waarschijnlijke gevolgen",
        "Phishing of customers.",
        "2,00",
        "Genomen maatregelen",
        "Passwords reset.",
        "Two-factor authentication.",
        "Mededeling aan de betrokkenen",
        "E-mail to each customer.",
        "Bakkerij Van Damme BV",
        "0440.966.354",
        "nog niet gekend",
        "Tijdlijn",
    ],
    "fr": [
        "Notification d'une violation de données à caractère personnel",
        "Identification : le sous-traitant notifiant",
        "Sous-traitant (RGPD art. 28)",
        "Autorité de protection des données",
        "Catégories de données à caractère personnel",
        "E-mail",
        "Clients",
        "1 200",  # a narrow no-break space in the PDF; pypdf reads it as a space
        "3 400",
        "2,00",
        "Description de la violation",
        "Externe",
        "Humaine",
        "Malveillante",
        "confidentialité",
        "Conséquences probables",
        "Mesures prises",
        "Communication aux personnes concernées",
        "Bakkerij Van Damme BV",
        "pas encore connu",
        "Chronologie",
    ],
}


@pytest.mark.parametrize("language", ["nl", "fr"])
def test_the_gba_notification_has_every_item_with_the_incidents_values(
    client, dpo, assessed, language
):
    client.force_login(dpo)
    reader, text = read(
        client.get(f"/incidents/{assessed.pk}/documents/gba-notification.pdf?lang={language}")
    )
    missing = [item for item in GBA_ITEMS[language] if item not in text]
    assert not missing, missing
    assert assessed.reference in text
    assert "« données »" in text and "ë, ç, à, ô" in text and "€" in text
    assert reader.metadata.title.startswith(assessed.reference)
    assert reader.metadata.author == "Conitro — breach desk"
    assert reader.metadata.creator == "Conitro breach desk"
    assert "1 / " not in text and ("page 1" in text.lower() or "pagina 1" in text.lower())


def test_fonts_are_embedded(client, dpo, assessed):
    client.force_login(dpo)
    reader, _ = read(client.get(f"/incidents/{assessed.pk}/documents/gba-notification.pdf"))
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            assert "DejaVuSans" in font["/BaseFont"]
            assert "/FontFile2" in font["/FontDescriptor"].get_object()  # embedded TrueType


def test_same_facts_same_version_changed_facts_new_version(client, dpo, assessed, manager):
    client.force_login(dpo)
    url = f"/incidents/{assessed.pk}/documents/gba-notification.pdf?lang=nl"
    client.get(url)
    client.get(url)
    assert Document.objects.filter(incident=assessed).count() == 1
    workflow.update_facts(assessed.pk, manager, {"ended_at": assessed.aware_at})
    client.get(url)
    versions = list(
        Document.objects.filter(incident=assessed).values_list("version", "facts_sha256")
    )
    assert [v for v, _ in versions] == [1, 2]
    assert versions[0][1] != versions[1][1]
    first = Document.objects.get(incident=assessed, version=1)
    assert len(first.sha256) == 64 and bytes(first.content).startswith(b"%PDF")


def test_every_download_is_in_the_audit_trail(client, security, assessed):
    client.force_login(security)
    client.get(f"/incidents/{assessed.pk}/documents/report.pdf")
    event = assessed.events.get(kind="downloaded")
    assert event.actor == security
    assert event.after["document"] == "report"
    assert DocumentDownload.objects.get().user == security


def test_security_staff_may_not_download_the_register(client, security, api):
    client.force_login(security)
    assert client.get("/register.csv").status_code == 403
    assert api("security").get("/api/register.pdf").status_code == 403
    assert not DocumentDownload.objects.exists()


def test_before_the_assessment_the_gba_notification_is_an_initial_one(api, incident_in):
    incident = incident_in("detected")
    response = api("dpo").get(
        f"/api/incidents/{incident.pk}/documents/gba-notification.pdf?lang=en"
    )
    _, text = read(response)
    for row in [
        "Type Initial notification (to be completed, GDPR art. 33(4))",
        "What happened Password entered on a fake login page.",
        "Start of the breach not known yet",
        "How it was discovered not known yet",
        "Purpose of the processing not known yet",
        "Categories of personal data not known yet",
        "Special categories (art. 9-10) not known yet",
        "Categories of data subjects not known yet",
        "Approximate number of data subjects not known yet",
        "Approximate number of records not known yet",
        "Type of breach not known yet",
        "Internal or external not known yet",
        "Human or technical not known yet",
        "Accidental or malicious not known yet",
        "Security measures in place before the breach not known yet",
        "Likely consequences not known yet",
        "Risk to the data subjects not known yet",
        "Measures taken not known yet",
        "Measures proposed not known yet",
        "Data subjects informed not known yet",
        "Controller not known yet",
        "International aspects not known yet",
        "Other supervisory authorities not known yet",
    ]:
        assert row in text, row


def test_a_dismissed_incident_has_no_gba_notification(api, incident_in):
    incident = incident_in("dismissed")
    response = api("dpo").get(f"/api/incidents/{incident.pk}/documents/gba-notification.pdf")
    assert response.status_code == 400
    assert "nothing to notify" in response.json()["non_field_errors"][0]


def test_api_downloads_with_a_token(api, assessed):
    response = api("manager").get(
        f"/api/incidents/{assessed.pk}/documents/gba-notification.pdf?lang=fr"
    )
    _, text = read(response)
    assert "Notification d’une violation" in text or "Notification d'une violation" in text
    assert (
        api("manager").get(f"/api/incidents/{assessed.pk}/documents/report.pdf?lang=xx").status_code
        == 400
    )  # noqa: E501


def test_the_report_has_the_timeline_messages_and_documents(client, dpo, assessed):
    client.force_login(dpo)
    client.get(f"/incidents/{assessed.pk}/documents/gba-notification.pdf?lang=en")
    _, text = read(client.get(f"/incidents/{assessed.pk}/documents/report.pdf?lang=en"))
    for item in ["Timeline", "Alerts and messages", "Documents generated", "GBA notification"]:
        assert item in text
    assert "State: Detected → Assessed." in text
    assert "Downloaded: GBA notification (en, version 1)." in text
    # Sentences and Brussels time, not field names and UTC ISO times.
    assert "aware_at" not in text and "+00:00" not in text


def test_the_report_lists_every_page_with_how_often_it_was_tried(
    client, dpo, incident_in, django_capture_on_commit_callbacks
):
    from notifications.models import Message
    from notifications.tasks import dispatch

    with django_capture_on_commit_callbacks(execute=True):
        with time_machine.travel(timezone.now() - timedelta(hours=30)):
            late = incident_in("assessed")
        dispatch()  # its overdue steps page the managers and the DPO
    pages = Message.objects.filter(incident=late).order_by("pk")
    assert pages.count() > 1
    Message.objects.filter(pk=pages[0].pk).update(attempts=3, error="Twilio 503")
    client.force_login(dpo)
    _, text = read(client.get(f"/incidents/{late.pk}/documents/report.pdf?lang=en"))
    assert "Twilio 503 (3×)" in text
    assert text.count("×)") == 1  # a page handed over at the first try says nothing of tries
    # Each page with the steps of this incident it paged for (one SMS for several steps).
    assert "Manager #1 + #3 + #5 SMS" in text and "Security #1 SMS" in text


def test_the_timeline_reads_as_sentences_in_the_readers_language(client, dpo, manager, assessed):
    workflow.update_facts(assessed.pk, manager, {"ended_at": assessed.aware_at})
    workflow.transition(assessed.pk, manager, "notify_gba", reference="DBN-2026-31")
    client.force_login(dpo)
    _, text = read(client.get(f"/incidents/{assessed.pk}/documents/report.pdf?lang=nl"))
    text = " ".join(text.split())
    assert "Toestand: Beoordeeld → GBA gemeld." in text
    assert (
        "Geregistreerd: De GBA melden voor de verwerkingsverantwoordelijke, voor Bakkerij" in text
    )
    assert "DBN-2026-31" in text
    page = client.get(f"/incidents/{assessed.pk}/").content.decode()  # the DPO reads English
    assert "State: Assessed → GBA notified." in page
    assert "Ended at changed from “" in page and " CET” to “" in page
    timeline = page.split('class="timeline cards"')[1]
    assert "aware_at" not in timeline and "+00:00" not in timeline


def register_csv(response):
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    assert body.startswith(b"\xef\xbb\xbf")  # a BOM: Excel reads UTF-8
    return body.decode("utf-8-sig")


def test_the_register_lists_a_dismissed_incident_with_its_reason(client, dpo, incident_in):
    dismissed = incident_in("dismissed")
    notified = incident_in("gba_notified")
    client.force_login(dpo)
    text = register_csv(client.get("/register.csv?lang=en"))
    lines = text.splitlines()
    assert lines[0].startswith("Reference;Title;State;Decision")
    row = next(line for line in lines if line.startswith(dismissed.reference))
    assert "Not a personal data breach: No personal data." in row
    assert any(
        line.startswith(notified.reference) and "DBN-2026-1235" in line for line in lines
    )  # the second incident
    _, pdf = read(client.get("/register.pdf?lang=en&state=dismissed"))
    assert dismissed.reference in pdf and notified.reference not in pdf
    assert "No personal data." in pdf


def test_the_register_filters_by_period_and_state(api, incident_in, new_incident):
    old = new_incident(hours_ago=24 * 60)
    recent = incident_in("assessed")
    since = (recent.aware_at - timedelta(days=1)).date()
    response = api("manager").get(f"/api/register.csv?from={since}&state=assessed")
    text = register_csv(response)
    assert recent.reference in text and old.reference not in text
    assert api("manager").get("/api/register.csv?from=2026-02-30").status_code == 400


@pytest.fixture
def organisation(settings):
    settings.ORGANISATION = {
        **settings.ORGANISATION,
        "dpo_name": "Hélène Dubois",
        "dpo_email": "dpo@conitro.example",
        "dpo_phone": "+32 9 234 56 78",
    }
    return settings.ORGANISATION


@pytest.mark.parametrize("language", ["nl", "fr", "en"])
def test_the_gba_notification_names_the_dpo_and_how_to_reach_them(
    client, dpo, assessed, organisation, language
):
    """Art. 33(3)(b): the name and contact details of the DPO or other contact point."""
    client.force_login(dpo)
    _, text = read(
        client.get(f"/incidents/{assessed.pk}/documents/gba-notification.pdf?lang={language}")
    )
    for item in ["Hélène Dubois", "dpo@conitro.example", "+32 9 234 56 78"]:
        assert item in text


def test_the_controllers_notice_gives_the_contact_point(
    client, manager, assessed, controller, organisation
):
    client.force_login(manager)
    _, text = read(client.get(f"/incidents/{assessed.pk}/notices/{controller.pk}.pdf"))
    assert "Contactpunt" in text or "Contact point" in text
    assert "dpo@conitro.example" in text


def test_downloading_a_notice_is_in_the_audit_trail(client, manager, assessed, controller):
    client.force_login(manager)
    read(client.get(f"/incidents/{assessed.pk}/notices/{controller.pk}.pdf"))
    download = DocumentDownload.objects.get()
    assert download.user == manager
    assert download.document.kind == "controller_notice"
    assert download.document.controller == controller
    event = assessed.events.get(kind="downloaded")
    assert event.actor == manager


def test_the_register_period_starts_and_ends_at_midnight_in_brussels(api, security):
    """A breach at 00:30 on 1 April in Brussels (22:30 UTC on 31 March) belongs to April."""
    with time_machine.travel(datetime(2026, 4, 2, 12, 0, tzinfo=UTC), tick=False):
        april = workflow.log_incident(
            security,
            title="Just after midnight",
            description="d",
            aware_at=datetime(2026, 3, 31, 22, 30, tzinfo=UTC),
        )
        march = workflow.log_incident(
            security,
            title="Just before midnight",
            description="d",
            aware_at=datetime(2026, 3, 31, 21, 30, tzinfo=UTC),
        )
    in_april = register_csv(api("dpo").get("/api/register.csv?from=2026-04-01&to=2026-04-30"))
    in_march = register_csv(api("dpo").get("/api/register.csv?from=2026-03-01&to=2026-03-31"))
    assert april.reference in in_april and march.reference not in in_april
    assert march.reference in in_march and april.reference not in in_march


def test_a_register_download_is_recorded_before_the_first_byte(client, dpo, incident_in):
    incident_in("assessed")
    client.force_login(dpo)
    response = client.get("/register.csv?lang=nl&state=assessed")
    assert response.status_code == 200
    # Nothing read yet (the person's connection dropped): the download is already recorded.
    download = DocumentDownload.objects.get()
    assert (download.user, download.document.kind) == (dpo, "register_csv")
    assert download.document.filters == {"state": "assessed"}


def gba_text(client, incident, language="en"):
    return read(
        client.get(f"/incidents/{incident.pk}/documents/gba-notification.pdf?lang={language}")
    )[1]


def test_the_gba_notification_says_which_phase_it_is(client, dpo, manager, assessed):
    client.force_login(dpo)
    workflow.update_facts(assessed.pk, manager, {"ended_at": None})
    assert "Initial notification (to be completed, GDPR art. 33(4))" in gba_text(client, assessed)
    workflow.transition(
        assessed.pk, manager, "notify_gba", reference="DBN-2026-4141", delay_reason=""
    )
    # Part 1 filed with the end unknown: part 2 is owed, within 21 days.
    part2 = assessed.obligations.get(kind="complete_gba")
    assert part2.deadline_at == part2.incident.obligations.get(kind="notify_gba").met_at + (
        timedelta(days=21)
    )
    text = gba_text(client, assessed)
    assert "Update of the initial notification DBN-2026-4141, still to be completed" in text
    workflow.update_facts(assessed.pk, manager, {"ended_at": assessed.aware_at})
    text = gba_text(client, assessed)
    assert "Type Complete notification (part 2) of DBN-2026-4141" in text
    assert "CET: ended at" in text.split("What changed since the last filing")[1]
    workflow.transition(assessed.pk, manager, "complete_gba", reference="DBN-2026-4142")
    # Part 2 got its own reference in the portal: what follows continues that one, and lists
    # what changed since part 2, one line per change.
    text = gba_text(client, assessed)
    assert "Type Follow-up of notification DBN-2026-4142" in text
    assert "What changed since the last filing" not in text
    workflow.update_facts(assessed.pk, manager, {"title": "Phishing of an admin account"})
    workflow.update_facts(assessed.pk, manager, {"discovered_how": "A customer called"})
    reader = read(client.get(f"/incidents/{assessed.pk}/documents/gba-notification.pdf?lang=nl"))[0]
    assert reader.metadata.subject == "Melding van een datalek (AVG art. 33)"
    assert reader.root_object["/Lang"] == "nl"
    changed = gba_text(client, assessed).split("What changed since the last filing Changed ")[1]
    assert re.match(
        r"\d\d/\d\d/\d{4} \d\d:\d\d CET: title \d\d/\d\d/\d{4} \d\d:\d\d CET: "
        r"how it was discovered INC-",
        changed,
    ), changed


def test_a_notification_complete_at_its_filing_is_followed_up_not_completed(
    client, dpo, manager, assessed
):
    client.force_login(dpo)
    assert "Type Complete notification 1." in gba_text(client, assessed)
    workflow.transition(
        assessed.pk, manager, "notify_gba", reference="DBN-2026-5151", delay_reason=""
    )
    assert not assessed.obligations.filter(kind="complete_gba").exists()  # no part 2 owed
    assert "Type Follow-up of notification DBN-2026-5151" in gba_text(client, assessed)


def test_the_gba_notification_prints_the_assessment_values(client, dpo, assessed):
    client.force_login(dpo)
    text = gba_text(client, assessed)
    for row in [
        "Name Conitro",
        "Enterprise number not known yet",
        "Address not known yet",
        "E-mail info@conitro.be",
        "Special categories (art. 9-10) no",
        "Approximate number of data subjects 1,200",
        "Approximate number of records 3,400",
        "Type of breach confidentiality",
        "Internal or external External",
        "Human or technical Human",
        "Accidental or malicious Malicious",
        "Likely consequences Phishing of customers.",
        "Severity by an internal method (ENISA 2013; not the legal test) 2.00 — Medium",
        "DPC 1.00 (Simple (contact, biographical data)) × EI 1.00 + CB 1.00 (confidentiality "
        "0.50, integrity 0.00, availability 0.00, malicious intent yes)",
        "Risk to the data subjects Risk to the rights and freedoms of the data subjects",
        "Role of the notifier Processor (GDPR art. 28), notifying on behalf of the controller",
        "Measures taken Passwords reset.",
        "Measures proposed Two-factor authentication.",
        "Data subjects informed Will be informed",
        "How, or why not (art. 34(3)) E-mail to each customer.",
        "Controller Bakkerij Van Damme BV",
        "Enterprise number 0440.966.354",
        "Address Kerkstraat 12, 9000 Gent",
        "Contact person Els Van Damme — privacy@vandamme.example — +32 9 234 56 78",
        "International aspects none Other supervisory authorities none",
        "How it was discovered Melding van een klant",
        "GBA reference none yet",
        "Part 1 submitted not submitted yet",
        "The controller became aware (told by Conitro) not told yet",
    ]:
        assert row in text, row
    assert "Reason for the delay" not in text  # the controller's 72 hours have not started
    assert "24 hours" not in text and "Deadline" not in text  # Conitro's promise is internal


def tell(incident, manager, hours_after_awareness):
    at = incident.aware_at + timedelta(hours=hours_after_awareness)
    workflow.transition(incident.pk, manager, "notify_controller", how="E-mail", notified_at=at)
    return at


def test_a_filing_within_the_controllers_72_hours_admits_no_delay(
    client, dpo, manager, incident_in
):
    """30 hours after Conitro's awareness: past Conitro's 24-hour promise (its reason is kept
    internally), well within the controller's 72 hours (told after one hour)."""
    incident = incident_in("assessed", hours_ago=30)
    told = tell(incident, manager, 1)
    workflow.transition(
        incident.pk, manager, "notify_gba", reference="DBN-2026-76", delay_reason="Weekend."
    )
    assert incident.obligations.get(kind="notify_gba").delay_reason == "Weekend."  # internal
    client.force_login(dpo)
    text = gba_text(client, incident)
    assert "Reason for the delay" not in text
    assert (
        f"The controller became aware (told by Conitro) {brussels_time(told)} 72 hours from the "
        f"controller's awareness end (art. 33(1)) {brussels_time(told + timedelta(hours=72))}"
    ) in text, text


def test_a_filing_past_the_controllers_72_hours_prints_the_reason_for_the_delay(
    client, dpo, manager, incident_in
):
    late = incident_in("assessed", hours_ago=80)
    tell(late, manager, 1)  # its 72 hours ended 7 hours ago
    workflow.transition(
        late.pk, manager, "notify_gba", reference="DBN-2026-77", delay_reason="Weekend staffing."
    )
    client.force_login(dpo)
    assert "Reason for the delay (art. 33(1)) Weekend staffing." in gba_text(client, late)


def test_the_reason_for_the_delay_is_given_before_the_filing_and_printed_on_it(
    client, dpo, manager, incident_in
):
    late = incident_in("assessed", hours_ago=80)
    client.force_login(manager)
    page = client.get(f"/incidents/{late.pk}/").content.decode()
    assert "24 hours have passed and the GBA is not notified yet" in page
    assert f"/incidents/{late.pk}/edit/#id_gba_delay_reason" in page
    client.force_login(dpo)
    assert "Reason for the delay" not in gba_text(client, late)  # the controller is not told
    tell(late, manager, 2)
    assert (
        "Reason for the delay (art. 33(1)) to be given: more than 72 hours after the "
        "controller became aware of the breach"
    ) in gba_text(client, late)
    workflow.update_facts(late.pk, manager, {"gba_delay_reason": "Forensics first."})
    workflow.translate(late.pk, manager, "nl", {"gba_delay_reason": "Eerst het forensisch werk."})
    assert "Reason for the delay (art. 33(1)) Forensics first." in gba_text(client, late)
    assert "Eerst het forensisch werk." in gba_text(client, late, "nl")
    client.force_login(manager)
    page = client.get(f"/incidents/{late.pk}/").content.decode()
    assert "24 hours have passed and the GBA is not notified yet" not in page
    form = client.get(f"/incidents/{late.pk}/").context["action_forms"]["notify_gba"]
    assert form.initial["delay_reason"] == "Forensics first."
    # Filed without repeating it: the reason given before is the filing's.
    workflow.transition(late.pk, manager, "notify_gba", reference="DBN-2026-78")
    filed = late.obligations.get(kind="notify_gba")
    assert filed.delay_reason == "Forensics first."
    client.force_login(dpo)
    assert (
        f"Part 1 submitted {timezone.localtime(filed.met_at):%d/%m/%Y %H:%M %Z} GBA reference "
        "DBN-2026-78 Date of this document"
    ) in gba_text(client, late)
    assert "Reason for the delay (art. 33(1)) Forensics first." in gba_text(client, late)


def test_a_notification_filed_in_time_never_asks_for_a_reason_later(
    client, dpo, manager, incident_in, time_machine
):
    in_time = incident_in("assessed", hours_ago=23)
    workflow.transition(in_time.pk, manager, "notify_gba", reference="DBN-2026-79")
    time_machine.move_to(timezone.now() + timedelta(hours=2))  # the 24 hours are over now
    client.force_login(dpo)
    text = gba_text(client, in_time)
    assert "GBA reference DBN-2026-79" in text and "Reason for the delay" not in text


def test_an_incident_in_time_asks_for_no_reason_for_a_delay(client, manager, incident_in):
    in_time = incident_in("assessed", hours_ago=2)
    client.force_login(manager)
    page = client.get(f"/incidents/{in_time.pk}/").content.decode()
    assert "the notification must give the reason for the delay" not in page


def csv_rows(response):
    import csv as csv_module

    return list(csv_module.reader(io.StringIO(register_csv(response), newline=""), delimiter=";"))


def test_every_column_of_the_register_csv(api, manager, incident_in):
    notified = incident_in("controller_notified", hours_ago=30)
    dismissed = incident_in("dismissed")
    table = csv_rows(api("dpo").get("/api/register.csv?lang=en"))
    assert table[0] == [
        "Reference", "Title", "State", "Decision", "Reasoning", "Aware since", "Deadline",
        "Start of the breach", "End of the breach", "How it was discovered", "What happened",
        "Type of breach", "Categories of personal data", "Categories of data subjects",
        "Approximate number of data subjects", "Approximate number of records",
        "Controllers affected", "Likely consequences", "Measures taken", "Measures proposed",
        "Risk to the data subjects", "Severity (ENISA)", "Data subjects informed (art. 34)",
        "Obligations", "GBA reference", "Reason for the delay",
    ]  # fmt: skip
    row = dict(zip(table[0], next(r for r in table if r[0] == notified.reference), strict=True))
    brussels_time = lambda moment: f"{timezone.localtime(moment):%d/%m/%Y %H:%M %Z}"  # noqa: E731
    told = notified.obligations.get(kind="tell_controller")
    filed = notified.obligations.get(kind="notify_gba")
    assert row == {
        "Reference": notified.reference,
        "Title": "Admin account phished",
        "State": "Controller notified",
        "Decision": "Notified to the GBA",
        "Reasoning": "",
        "Aware since": brussels_time(notified.aware_at),
        "Deadline": brussels_time(notified.deadline_at),
        "Start of the breach": "",
        "End of the breach": brussels_time(notified.ended_at),
        "How it was discovered": "",
        "What happened": "Password entered on a fake login page.",
        "Type of breach": "confidentiality",
        "Categories of personal data": "E-mail",
        "Categories of data subjects": "Cust",
        "Approximate number of data subjects": "1,200",
        "Approximate number of records": "3,400",
        "Controllers affected": "Bakkerij Van Damme BV",
        "Likely consequences": "Phishing of customers.",
        "Measures taken": "Passwords reset.",
        "Measures proposed": "Two-factor authentication.",
        "Risk to the data subjects": "Risk to the rights and freedoms of the data subjects",
        "Severity (ENISA)": "2.00 Medium",
        "Data subjects informed (art. 34)": "Will be informed: E-mail to each customer.",
        "Obligations": (
            f"Notify the GBA for the controller — Bakkerij Van Damme BV: met "
            f"{brussels_time(filed.met_at)} DBN-2026-1234 — late: x\n"
            "Tell the controller — Bakkerij Van Damme BV: met "
            f"{brussels_time(told.met_at)} — late: x"
        ),
        "GBA reference": "DBN-2026-1234",
        "Reason for the delay": "x",
    }
    gone = dict(zip(table[0], next(r for r in table if r[0] == dismissed.reference), strict=True))
    assert gone["Decision"] == "Not a personal data breach: No personal data."
    assert gone["Reasoning"] == "No personal data."
    assert gone["Severity (ENISA)"] == gone["Type of breach"] == ""
    dutch = csv_rows(api("dpo").get("/api/register.csv?lang=nl"))
    dutch_row = next(r for r in dutch if r[0] == notified.reference)
    assert dutch_row[21] == "2,00 Gemiddeld"
    assert dutch_row[14] == "1.200"


def test_the_register_lists_the_latest_awareness_first(api, new_incident, security):
    newer = new_incident(hours_ago=2)
    older = new_incident(hours_ago=48)  # logged later, but Conitro knew of it earlier
    same_time = workflow.log_incident(
        security, title="Same moment", description="d", aware_at=newer.aware_at
    )
    table = csv_rows(api("dpo").get("/api/register.csv?lang=en"))
    assert [row[0] for row in table[1:]] == [
        same_time.reference,  # the same awareness: the one logged last first
        newer.reference,
        older.reference,
    ]


def test_a_no_risk_incident_is_register_only_and_an_open_one_says_open(
    api, manager, incident_in, new_incident
):
    quiet = incident_in("assessed")
    Assessment = type(quiet.assessment)
    Assessment.objects.filter(pk=quiet.assessment.pk).update(risk_level="none")
    open_one = new_incident()
    table = {r[0]: r for r in csv_rows(api("dpo").get("/api/register.csv?lang=en"))}
    assert table[quiet.reference][3] == "No risk: register only"
    assert table[open_one.reference][3] == "Open"


def test_the_controllers_notice_carries_the_facts_and_the_assessment(
    client, manager, assessed, controller, organisation
):
    controller.language = "en"
    controller.save()
    client.force_login(manager)
    reader, text = read(client.get(f"/incidents/{assessed.pk}/notices/{controller.pk}.pdf"))
    assert reader.metadata.subject == "Notice of a personal data breach (GDPR art. 33(2))"
    assert reader.root_object["/Lang"] == "en"
    for row in [
        "Bakkerij Van Damme BV Els Van Damme Kerkstraat 12, 9000 Gent",
        "Subject: personal data breach",
        "Dear Sir or Madam,",
        "As processor of personal data for Bakkerij Van Damme BV, Conitro informs you",
        "we will notify the breach on your behalf to the Belgian Data Protection Authority",
        "Your own 72 hours to notify the Data Protection Authority",
        "What happened Password entered on a fake login page.",
        f"Conitro became aware {timezone.localtime(assessed.aware_at):%d/%m/%Y %H:%M %Z}",
        "Start of the breach not known yet",
        f"End of the breach {timezone.localtime(assessed.ended_at):%d/%m/%Y %H:%M %Z}",
        "Severity by an internal method (ENISA 2013; not the legal test) 2.00 — Medium",
        "Categories of personal data E-mail",
        "Categories of data subjects Cust",
        "Approximate number of data subjects 1,200",
        "Likely consequences Phishing of customers.",
        "Measures proposed Two-factor authentication.",
        "Data subjects informed Will be informed: E-mail to each customer.",
        "GBA reference none yet",
        "Contact point / DPO dpo@conitro.example",
        "Kind regards,",
        "Data protection officer (DPO)",
    ]:
        assert row in text, row


def test_the_register_csv_in_french_has_decimal_commas(api, incident_in):
    notified = incident_in("gba_notified")
    table = csv_rows(api("dpo").get("/api/register.csv?lang=fr"))
    assert table[0][0] == "Référence"
    assert next(r for r in table if r[0] == notified.reference)[21] == "2,00 Moyenne"


def text_positions(page):
    """(x, text) of every piece of text on a PDF page, x in points from the left edge."""
    found = []

    def visit(text, cm, tm, font, size):
        if text.strip():
            found.append((tm[4] * cm[0] + cm[4], text.strip()))

    page.extract_text(visitor_text=visit)
    return found


def test_the_register_pdf_has_its_columns_in_order_within_the_page(client, dpo, incident_in):
    incident_in("gba_notified")
    client.force_login(dpo)
    reader, text = read(client.get("/register.pdf?lang=en"))
    header = [
        "Reference", "Facts", "State and decision", "Aware since → deadline", "Data and people",
        "Effects and remedial action", "Controllers and obligations", "Risk",
    ]  # fmt: skip
    positions = [text.index(label) for label in header]
    assert positions == sorted(positions)
    for page in reader.pages:
        right_margin = float(page.mediabox.width) - 18 * 72 / 25.4
        beyond = [(x, t) for x, t in text_positions(page) if x > right_margin]
        assert not beyond, beyond
        first_words = {label.split()[0] for label in header}
        columns = {round(x) for x, t in text_positions(page) if t.split()[0] in first_words}
        assert len(columns) == len(header)  # eight columns, none on top of another


@pytest.mark.parametrize(
    ("language", "count", "score", "two"),
    [
        ("nl", "1.840", "5,25", "2,00"),
        ("fr", "1\u202f840", "5,25", "2,00"),
        ("en", "1,840", "5.25", "2.00"),
    ],
)
def test_numbers_are_written_the_belgian_way_per_language(language, count, score, two):
    from decimal import Decimal

    from incidents.documents.base import number

    assert number(1840, language=language) == count
    assert number(Decimal("5.25"), language=language) == score
    assert number(Decimal("2.00"), language=language) == two  # a score keeps its decimals
    assert number(None, "?", language) == "?"


def test_times_in_documents_carry_their_zone_across_the_clock_change():
    from incidents.documents.base import brussels_time

    before = datetime(2026, 10, 24, 19, 15, tzinfo=UTC)  # Saturday evening, summer time
    after = before + timedelta(hours=24)  # the clocks went back on Sunday at 03:00
    assert brussels_time(before) == "24/10/2026 21:15 CEST"
    assert brussels_time(after) == "25/10/2026 20:15 CET"


def test_free_texts_given_per_language_never_a_silent_mix(
    client, manager, dpo, assessed, controller
):
    client.force_login(manager)
    page = client.get(f"/incidents/{assessed.pk}/").content.decode()
    assert "Not given in Dutch yet: title, what happened" in page
    assert f"/incidents/{assessed.pk}/texts/nl/" in page
    _, before = read(client.get(f"/incidents/{assessed.pk}/documents/gba-notification.pdf?lang=nl"))
    assert "Password entered on a fake login page." in before
    assert "Nog niet in deze taal gegeven" in " ".join(before.split())
    form = client.get(f"/incidents/{assessed.pk}/texts/nl/").context["form"]
    values = dict.fromkeys(form.fields, "")
    values.update(
        version=assessed.version + 0,
        title="Beheerdersaccount gephisht",
        description="Wachtwoord ingegeven op een valse aanmeldpagina.",
        discovered_how="Melding van een klant",
        consequences="Phishing van klanten.",
        measures_taken="Wachtwoorden gereset.",
        measures_proposed="Tweestapsverificatie.",
        subjects_informed_reason="E-mail aan elke klant.",
    )
    assessed.refresh_from_db()
    values["version"] = assessed.version
    assert client.post(f"/incidents/{assessed.pk}/texts/nl/", values).status_code == 302
    assessed.refresh_from_db()
    assert assessed.translations["nl"]["description"].startswith("Wachtwoord")
    page = client.get(f"/incidents/{assessed.pk}/").content.decode()
    assert "Not given in Dutch yet" not in page and "Not given in French yet" in page
    assert "Texts given in Dutch: " in page
    _, after = read(client.get(f"/incidents/{assessed.pk}/documents/gba-notification.pdf?lang=nl"))
    after = " ".join(after.split())
    assert "Wachtwoord ingegeven op een valse aanmeldpagina." in after
    assert "Password entered" not in after and "Nog niet in deze taal gegeven" not in after
    # The Dutch letter to the controller prints the Dutch texts too.
    _, letter = read(client.get(f"/incidents/{assessed.pk}/notices/{controller.pk}.pdf"))
    assert "Wat er gebeurde Wachtwoord ingegeven op een valse aanmeldpagina." in letter
    assert "Password entered" not in letter
    _, french = read(client.get(f"/incidents/{assessed.pk}/documents/gba-notification.pdf?lang=fr"))
    assert "Password entered on a fake login page." in french  # as written, and said so:
    assert "Pas encore donnés dans cette langue, imprimés tels qu'écrits (en anglais) :" in french


def test_a_text_with_control_characters_is_refused_and_nothing_changes(client, manager, assessed):
    client.force_login(manager)
    assessed.refresh_from_db()
    response = client.post(
        f"/incidents/{assessed.pk}/texts/fr/",
        {"version": assessed.version, "description": "Mot de passe\x07 volé"},
    )
    assert response.status_code == 200
    assert "control characters" in response.content.decode()
    assessed.refresh_from_db()
    assert assessed.translations == {}


def test_each_letter_says_what_conitro_does_with_the_gba_for_that_controller(
    client, manager, settings, incident_in, controller, second, assessment_values, categories
):
    """Two controllers, each its own GBA filing: the letter to each tells its own, in its
    language — to be filed by a deadline, filed with a reference, or not notified and why."""
    incident = incident_in("assessed")
    workflow.update_facts(incident.pk, manager, {"controllers": [controller, second]})
    client.force_login(manager)

    def letter(to):
        return read(client.get(f"/incidents/{incident.pk}/notices/{to.pk}.pdf"))[1]

    def deadline(to, field="deadline_at"):
        filing = incident.obligations.get(kind="notify_gba", controller=to)
        return f"{timezone.localtime(getattr(filing, field)):%d/%m/%Y %H:%M %Z}"

    will = "melden wij de inbreuk namens u aan de Gegevensbeschermingsautoriteit, uiterlijk op"
    assert f"{will} {deadline(controller)}." in letter(controller)
    workflow.transition(
        incident.pk, manager, "notify_gba", reference="DBN-2026-1234", controllers=[controller]
    )
    assert (
        f"hebben wij de inbreuk op {deadline(controller, 'met_at')} namens u gemeld aan de "
        "Gegevensbeschermingsautoriteit, onder referentie DBN-2026-1234."
    ) in letter(controller)
    assert (  # the other controller's is still to be filed
        "nous notifierons la violation en votre nom à l'Autorité de protection des données au "
        f"plus tard le {deadline(second)}."
    ) in letter(second)

    settings.GBA_NOTIFICATION_POLICY = "risk_based"
    values = {**assessment_values, "risk_level": "none", "risk_reasoning": "Versleuteld."}
    relations = {
        "data_categories": [categories[0]],
        "subject_categories": [categories[1]],
        "controllers": [controller, second],
    }
    workflow.assess(incident.pk, manager, values, relations)
    assert (
        "Nous ne notifions pas cette violation à l'Autorité de protection des données : "
        "Peu susceptible d'engendrer un risque"
    ) in letter(second).replace("\u2019", "'"), letter(second)


def test_one_controllers_gba_notification_item_by_item_and_its_follow_up(
    client, dpo, manager, incident_in, controller, second, assessment_values
):
    """For the second of two controllers: its own identification and filing, every list whole,
    special categories, a cause not known yet, the risk's reasoning; once filed, a follow-up
    listing what changed after the filing."""
    incident = incident_in("detected")
    data, subjects = named_categories(
        [("Name", "Naam", "Nom"), ("Health", "Gezondheid", "Santé")],
        [("Patients", "P", "P"), ("Staff", "S", "S")],
    )
    values = {
        **assessment_values,
        "special_categories": True,
        "cause_origin": "unknown",
        "risk_reasoning": "Health data of identifiable patients.",
    }
    relations = {
        "data_categories": data,
        "subject_categories": subjects,
        "controllers": [controller, second],
    }
    workflow.assess(incident.pk, manager, values, relations)
    client.force_login(dpo)

    def notification():
        url = f"/incidents/{incident.pk}/documents/gba-notification.pdf?lang=en"
        return read(client.get(f"{url}&controller={second.pk}"))[1]

    text = notification()
    for item in [
        "Type Initial notification (to be completed, GDPR art. 33(4))",
        "1b. The controller on whose behalf Conitro notifies Controller Librairie Lefèvre SRL",
        "Categories of personal data Health; Name",
        "Contact person Hélène Lefèvre — dpo@lefevre.example — +32 2 555 00 00",
        "Special categories (art. 9-10) yes",
        "Categories of data subjects Patients; Staff",
        "Internal or external not known yet",
        "Risk to the data subjects Risk to the rights and freedoms of the data subjects "
        "Reasoning Health data of identifiable patients. Severity by an internal method",
    ]:
        assert item in text, text
    assert "Bakkerij Van Damme BV" not in text  # the other controller's is its own document

    workflow.transition(
        incident.pk, manager, "notify_gba", reference="DBN-2026-7777", controllers=[second]
    )
    workflow.assess(
        incident.pk, manager, {**values, "cause_origin": "external", "records_count": 9}, relations
    )
    text = notification()
    assert "Type Complete notification (part 2) of DBN-2026-7777" in text
    assert "Internal or external External" in text
    url = f"/incidents/{incident.pk}/documents/gba-notification.pdf?lang=en"
    # The first controller's own notification is not filed: it continues no reference.
    first = read(client.get(f"{url}&controller={controller.pk}"))[1]
    assert "Type Complete notification 1. " in first and "DBN" not in first
    # The combined notification follows the filing made, not the controller listed first.
    assert "Type Complete notification (part 2) of DBN-2026-7777" in read(client.get(url))[1]
    changed = text.split("9. What changed since the last filing Changed ")[1]
    # Only what changed: the same ENISA values typed again (0 for 0.00) are no change.
    assert re.match(
        r"\d\d/\d\d/\d{4} \d\d:\d\d CET: approximate number of records, internal or "
        r"external INC-2026-0001",
        changed,
    ), changed


def test_each_controller_that_notifies_itself_is_told_when_its_own_72_hours_end(
    client, manager, incident_in, controller, second
):
    """Counted from when Conitro told that controller; one not told yet reads "today"."""
    for each in (controller, second):
        each.gba_on_behalf = False
        each.language = "en"
        each.save()
    incident = incident_in("assessed")
    workflow.update_facts(incident.pk, manager, {"controllers": [controller, second]})
    workflow.transition(
        incident.pk, manager, "notify_controller", how="Phone call", controllers=[controller]
    )
    told = incident.obligations.get(kind="tell_controller", controller=controller).met_at
    client.force_login(manager)

    def letter(to):
        return read(client.get(f"/incidents/{incident.pk}/notices/{to.pk}.pdf"))[1]

    def brussels(moment):
        return f"{timezone.localtime(moment):%d/%m/%Y %H:%M %Z}"

    assert (
        f"counted from our notice of {brussels(told)}, by "
        f"{brussels(told + timedelta(hours=72))} at the latest."
    ) in letter(controller)
    assert "if you receive this letter today, by " in letter(second)


def test_a_letter_not_sent_yet_counts_the_72_hours_from_today_even_after_the_gba_filing(
    client, manager, incident_in, controller
):
    """Conitro filed with the GBA for the controller (an obligation met for that
    controller) but has not told it yet: its letter counts from today, not from the filing."""
    controller.language = "en"
    controller.save()
    incident = incident_in("gba_notified", hours_ago=3)
    assert incident.obligations.get(kind="notify_gba", controller=controller).status == "met"
    client.force_login(manager)
    now = timezone.now()
    with time_machine.travel(now, tick=False):
        _, letter = read(client.get(f"/incidents/{incident.pk}/notices/{controller.pk}.pdf"))
    end = timezone.localtime(now + timedelta(hours=72))
    assert (
        f"end by {end:%d/%m/%Y %H:%M %Z} at the latest if you receive this letter today." in letter
    )


def test_every_free_text_given_in_dutch_is_what_the_dutch_documents_print(
    client, manager, assessed, controller
):
    """Each free text written in English and given in Dutch: the Dutch GBA notification and
    the Dutch letter print the Dutch, never the English beside it."""
    from incidents.models import Assessment

    Assessment.objects.filter(incident=assessed).update(
        measures_before="Spam filter in place.",
        international="Customers in Belgium only.",
        other_authorities="The police was told.",
        risk_reasoning="E-mail addresses of customers.",
    )
    dutch = {
        "title": "Beheerdersaccount gephisht",
        "description": "Wachtwoord ingegeven op een valse aanmeldpagina.",
        "discovered_how": "Een klant belde ons",
        "consequences": "Phishing van klanten.",
        "measures_taken": "Wachtwoorden gereset.",
        "measures_proposed": "Tweestapsverificatie.",
        "measures_before": "Spamfilter actief.",
        "subjects_informed_reason": "E-mail aan elke klant.",
        "international": "Alleen klanten in België.",
        "other_authorities": "De politie werd verwittigd.",
        "risk_reasoning": "E-mailadressen van klanten.",
    }
    workflow.update_facts(assessed.pk, manager, {"discovered_how": "A customer called us"})
    workflow.translate(assessed.pk, manager, "nl", dutch)
    assessed.refresh_from_db()
    english = [getattr(assessed, f) for f in ("title", "description", "discovered_how")]
    english += [getattr(assessed.assessment, f) for f in list(dutch)[3:]]
    assert all(english) and not set(english) & set(dutch.values())
    client.force_login(manager)
    url = f"/incidents/{assessed.pk}/documents/gba-notification.pdf?lang=nl"
    _, gba = read(client.get(url))
    printed = {field: value in gba for field, value in dutch.items()}
    assert printed == dict.fromkeys(dutch, True)
    assert [text for text in english if text in gba] == []
    _, letter = read(client.get(f"/incidents/{assessed.pk}/notices/{controller.pk}.pdf"))
    in_letter = ["description", "consequences", "measures_taken", "measures_proposed"]
    assert [field for field in in_letter if dutch[field] not in letter] == []
    assert [text for text in english if text in letter] == []


def test_a_document_names_the_language_its_untranslated_texts_were_written_in(
    client, dpo, assessed, controller
):
    from incidents.models import Incident

    Incident.objects.filter(pk=assessed.pk).update(text_language="fr")
    client.force_login(dpo)
    assert "afgedrukt zoals geschreven (in het Frans)" in gba_text(client, assessed, "nl")
    _, letter = read(client.get(f"/incidents/{assessed.pk}/notices/{controller.pk}.pdf"))
    assert "in het Frans" in letter
    assert "printed as written (in French)" in gba_text(client, assessed, "en")


def test_a_notification_without_a_controller_yet_asks_for_no_reason(
    client, dpo, manager, new_incident
):
    """Logged 30 hours after awareness, no controller named yet: no controller's 72 hours
    run, so the notification admits no delay, whatever reason was given internally."""
    late = new_incident(hours_ago=30)
    workflow.update_facts(late.pk, manager, {"gba_delay_reason": "Found in a backup."})
    client.force_login(dpo)
    text = gba_text(client, late)
    assert "1b. The controller on whose behalf Conitro notifies Controller not known yet" in text
    assert f"End of the breach {timezone.localtime(late.ended_at):%d/%m/%Y %H:%M %Z}" in text
    assert "The controllers became aware (told by Conitro) not told yet" in text
    assert "Reason for the delay" not in text and "Found in a backup." not in text


def test_a_filing_at_the_very_second_of_the_deadline_is_in_time_on_the_notification(
    client, dpo, manager, incident_in
):
    incident = incident_in("assessed", hours_ago=30)  # the deadline was 6 hours ago
    workflow.transition(
        incident.pk,
        manager,
        "notify_gba",
        reference="DBN-2026-60",
        submitted_at=incident.deadline_at,
        delay_reason="Typed although it was not late.",
    )
    assert incident.obligations.get(kind="notify_gba").delay_reason == ""  # not late: none kept
    client.force_login(dpo)
    text = gba_text(client, incident)
    assert "GBA reference DBN-2026-60" in text and "Reason for the delay" not in text


def test_the_gba_notification_prints_what_is_not_known_yet_and_every_kind_of_breach(
    client, dpo, new_incident, security, assessment_values, categories, controller
):
    incident = new_incident(ended=False)
    values = {
        **assessment_values,
        "integrity": True,
        "subjects_count": None,
        "records_count": None,
        "consequences": "",
        "cause_origin": "unknown",
        "cause_actor": "unknown",
        "cause_intent": "unknown",
    }
    relations = {
        "data_categories": [categories[0]],
        "subject_categories": [categories[1]],
        "controllers": [controller],
    }
    workflow.assess(incident.pk, security, values, relations)
    client.force_login(dpo)
    text = gba_text(client, incident)
    for row in [
        "Still to be given number of data subjects, number of records, likely consequences, "
        "cause of the breach, end of the breach",
        "Approximate number of data subjects not known yet Approximate number of records "
        "not known yet",
        "Type of breach confidentiality, integrity",
        "Internal or external not known yet Human or technical not known yet Accidental or "
        "malicious not known yet",
    ]:
        assert row in text, text
    dutch = gba_text(client, incident, "nl")
    assert "Soort inbreuk vertrouwelijkheid, integriteit" in dutch, dutch


def test_the_controllers_72_hours_come_from_the_regime_table(client, dpo, manager, incident_in):
    """The regime table says how long a controller has once told: the notification counts the
    end of that time from when this controller was told."""
    from incidents.models import DeadlineRule

    DeadlineRule.objects.update_or_create(
        kind="controller_gba", defaults={"anchor": "controller_told", "delay": timedelta(hours=48)}
    )
    incident = incident_in("assessed", hours_ago=13)
    told = tell(incident, manager, 3)
    client.force_login(dpo)
    text = gba_text(client, incident)
    assert (
        f"72 hours from the controller's awareness end (art. 33(1)) "
        f"{brussels_time(told + timedelta(hours=48))}"
    ) in text, text
    assert "Reason for the delay" not in text
    assert "Part 1 submitted not submitted yet GBA reference none yet" in text


def test_a_gba_notification_before_any_controller_is_known_says_nothing_was_filed(
    client, dpo, new_incident
):
    client.force_login(dpo)
    text = gba_text(client, new_incident())
    assert "Part 1 submitted not submitted yet GBA reference none yet" in text, text
    assert "Controller not known yet" in text


def test_each_late_filing_prints_its_own_reason_for_the_delay(
    client, dpo, manager, incident_in, controller, second
):
    incident = incident_in("assessed", hours_ago=80)
    workflow.update_facts(incident.pk, manager, {"controllers": [controller, second]})
    tell(incident, manager, 1)  # both told after an hour: their 72 hours are over
    for each, reference, reason in [
        (controller, "DBN-2026-5001", "The bakery's systems were offline."),
        (second, "DBN-2026-5002", "The bookshop's contact was abroad."),
    ]:
        workflow.transition(
            incident.pk, manager, "notify_gba", reference=reference, delay_reason=reason,
            controllers=[each],
        )  # fmt: skip
    client.force_login(dpo)
    url = f"/incidents/{incident.pk}/documents/gba-notification.pdf?lang=en&controller="
    bakery = read(client.get(f"{url}{controller.pk}"))[1]
    assert "Reason for the delay (art. 33(1)) The bakery's systems were offline." in bakery
    bookshop = read(client.get(f"{url}{second.pk}"))[1]
    assert "Reason for the delay (art. 33(1)) The bookshop's contact was abroad." in bookshop


def test_a_letter_is_dated_headed_and_greeted_the_belgian_way(
    client, manager, assessed, controller, second, settings, time_machine
):
    """The place and date per language, the letterhead of art. 2:20 of the Companies Code, a
    reference line, the salutation the controller's record gives."""
    time_machine.move_to(timezone.make_aware(datetime(2026, 12, 6, 12, 0)), tick=False)
    settings.ORGANISATION = {
        **settings.ORGANISATION,
        "place": "",
        "legal_form": "BV",
        "enterprise_number": "0694679950",
        "register": "RPR Gent, afdeling Gent",
        "address": "Voskenslaan 30, 9000 Gent",
        "dpo_phone": "+3292345678",  # as typed: printed the way people read it
    }
    client.force_login(manager)
    _, text = read(client.get(f"/incidents/{assessed.pk}/notices/{controller.pk}.pdf"))
    assert text.startswith(
        "Conitro BV Maatschappelijke zetel: Voskenslaan 30, 9000 Gent Ondernemingsnummer "
        "0694.679.950, RPR Gent, afdeling Gent Antwoorden aan onze DPO: info@conitro.be"
    ), text
    assert f"Kerkstraat 12, 9000 Gent 6 december 2026 Onze referentie: {assessed.reference}" in text
    assert "Geachte heer, mevrouw," in text
    assert "info@conitro.be, +32 9 234 56 78." in text
    settings.ORGANISATION = {**settings.ORGANISATION, "place": "Gent", "place_fr": "Gand"}
    controller.salutation = "Geachte heer Goossens"
    controller.save()
    workflow.update_facts(assessed.pk, manager, {"controllers": [controller, second]})
    _, text = read(client.get(f"/incidents/{assessed.pk}/notices/{controller.pk}.pdf"))
    assert "Gent, 6 december 2026" in text and "Geachte heer Goossens," in text
    _, french = read(client.get(f"/incidents/{assessed.pk}/notices/{second.pk}.pdf"))
    assert "Gand, le 6 décembre 2026 Notre référence" in french, french
    assert "Madame, Monsieur," in french
    second.salutation = "Madame Lefèvre"
    second.save()
    workflow.update_facts(assessed.pk, manager, {"title": "A new version of the letter"})
    _, french = read(client.get(f"/incidents/{assessed.pk}/notices/{second.pk}.pdf"))
    assert "Madame Lefèvre," in french
    assert "Veuillez agréer, Madame, l’expression de nos salutations distinguées." in french
