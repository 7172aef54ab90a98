"""The case Conitro meets most (issue 22): one platform breach, three controllers. The bakery
lets Conitro notify the GBA for it; the web shop notifies the GBA itself; the bookshop reads
French and lets Conitro notify. Every document is read back with pypdf and checked per
controller: its own figures, its mandate, or the annex it needs to file itself."""

import io
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from pypdf import PdfReader

from incidents import workflow
from incidents.documents.base import brussels_time
from incidents.models import Controller, DataCategory, SubjectCategory

pytestmark = pytest.mark.django_db


def read(response):
    assert response.status_code == 200, response.content[:300]
    reader = PdfReader(io.BytesIO(response.content))
    return " ".join("\n".join(page.extract_text() for page in reader.pages).split())


def kbo(base):
    return f"0{base:07d}{97 - base % 97:02d}"


def make_controller(name, number, language, mandate):
    return Controller.objects.create(
        name=name,
        enterprise_number=kbo(number),
        address="Kerkstraat 1, 9000 Gent",
        contact_person="Jan Goossens",
        email=f"privacy@{number}.example",
        phone="+3292345678",
        language=language,
        gba_on_behalf=mandate,
    )


@pytest.fixture
def platform(new_incident, security, assessment_values):
    bakery = make_controller("Bakkerij Van Damme BV", 4409663, "nl", True)
    shop = make_controller("Webshop Peeters BV", 5512345, "nl", False)
    bookshop = make_controller("Librairie Lefèvre SRL", 8317974, "fr", True)
    email = DataCategory.objects.create(name_nl="E-mailadres", name_fr="E-mail", name_en="E-mail")
    address = DataCategory.objects.create(name_nl="Adres", name_fr="Adresse", name_en="Address")
    customers = SubjectCategory.objects.create(
        name_nl="Klanten", name_fr="Clients", name_en="Customers"
    )
    incident = new_incident(hours_ago=2)
    values = {**assessment_values, "subjects_count": 2105, "records_count": 6000}
    relations = {
        "data_categories": [email, address],
        "subject_categories": [customers],
        "controllers": [bakery, shop, bookshop],
    }
    workflow.assess(incident.pk, security, values, relations)
    shares = {bakery: (37, 80, [email]), shop: (1800, 5000, [email, address]), bookshop: None}
    for controller, share in shares.items():
        if share:
            subjects, records, data = share
            workflow.update_affected(
                incident.pk,
                security,
                controller.pk,
                {"subjects_count": subjects, "records_count": records, "data_categories": data},
            )
    return incident, bakery, shop, bookshop


def gba(client, incident, language, controller=None):
    url = f"/incidents/{incident.pk}/documents/gba-notification.pdf?lang={language}"
    return client.get(url + (f"&controller={controller.pk}" if controller else ""))


def letter(client, incident, controller):
    return read(client.get(f"/incidents/{incident.pk}/notices/{controller.pk}.pdf"))


def test_each_controller_s_documents_print_its_own_figures(client, dpo, platform):
    incident, bakery, shop, bookshop = platform
    client.force_login(dpo)
    dutch = read(gba(client, incident, "nl", bakery))
    assert "Geschat aantal betrokkenen 37 Geschat aantal persoonsgegevens 80" in dutch, dutch
    assert "Categorieën persoonsgegevens E-mailadres Bijzondere" in dutch
    assert "2.105" not in dutch
    french = read(gba(client, incident, "fr", bookshop))
    assert (
        "Nombre approximatif de personnes concernées 2 105 (toute la plateforme ; pas encore "
        "réparti par responsable du traitement)"
    ) in french, french
    shop_letter = letter(client, incident, shop)
    assert "Geschat aantal betrokkenen 1.800" in shop_letter, shop_letter
    assert "Categorieën persoonsgegevens Adres; E-mailadres" in shop_letter


def test_no_notification_in_the_name_of_a_controller_without_a_mandate(client, dpo, api, platform):
    incident, bakery, shop, bookshop = platform
    client.force_login(dpo)
    refused = gba(client, incident, "nl", shop)
    assert refused.status_code == 409
    assert "Webshop Peeters BV notifies the GBA itself" in refused.content.decode()
    url = f"/api/incidents/{incident.pk}/documents/gba-notification.pdf?controller={shop.pk}"
    answer = api("dpo").get(url)
    assert answer.status_code == 409
    assert answer.json()["detail"].startswith("Webshop Peeters BV notifies the GBA itself")
    assert not incident.documents.filter(controller=shop, kind="gba_notification").exists()
    # The combined notification (the page's first link) names only the mandated two.
    combined = read(gba(client, incident, "en"))
    assert "2 controllers: see the annex." in combined, combined
    assert "Bakkerij Van Damme BV" in combined and "Librairie Lefèvre SRL" in combined
    assert "Webshop Peeters" not in combined
    assert "37 data subjects 80 records" in combined  # the bakery's own, in the annex
    assert "including controllers that notify the GBA themselves" in combined
    page = client.get(f"/incidents/{incident.pk}/").content.decode()
    assert f"controller={shop.pk}" not in page
    assert f"controller={bakery.pk}" in page and f"controller={bookshop.pk}" in page


def test_a_controller_that_files_itself_gets_the_facts_in_the_gba_form_s_order(
    client, dpo, platform
):
    incident, _bakery, shop, _bookshop = platform
    client.force_login(dpo)
    text = letter(client, incident, shop)
    annex = text.split("Bijlage: de feiten voor uw eigen melding, in de volgorde van het "
                       "formulier van de GBA", 1)  # fmt: skip
    assert len(annex) == 2, text
    order = [
        "2. De verwerking waarop de inbreuk betrekking heeft",
        "3. Beschrijving van het datalek",
        "4. Waarschijnlijke gevolgen en risico",
        "5. Genomen en voorgestelde maatregelen",
        "6. Mededeling aan de betrokkenen",
        "7. Grensoverschrijdende aspecten",
    ]
    positions = [annex[1].find(heading) for heading in order]
    assert -1 not in positions and positions == sorted(positions), positions
    assert "Geschat aantal betrokkenen 1.800" in annex[1]


def test_without_any_mandate_there_is_no_combined_notification(client, dpo, platform):
    incident, bakery, _shop, bookshop = platform
    Controller.objects.filter(pk__in=[bakery.pk, bookshop.pk]).update(gba_on_behalf=False)
    client.force_login(dpo)
    refused = gba(client, incident, "nl")
    assert refused.status_code == 409
    assert "No controller of" in refused.content.decode()
    page = client.get(f"/incidents/{incident.pk}/").content.decode()
    assert "documents/gba-notification.pdf" not in page


def test_each_controller_s_72_hours_count_from_when_it_was_told(client, dpo, manager, platform):
    incident, bakery, _shop, bookshop = platform
    told = incident.aware_at + timedelta(minutes=50)
    workflow.transition(
        incident.pk, manager, "notify_controller", how="E-mail", notified_at=told,
        controllers=[bakery],
    )  # fmt: skip
    client.force_login(dpo)
    text = read(gba(client, incident, "en", bakery))
    assert f"The controller became aware (told by Conitro) {brussels_time(told)}" in text
    assert brussels_time(told + timedelta(hours=72)) in text
    other = read(gba(client, incident, "en", bookshop))
    assert "The controller became aware (told by Conitro) not told yet" in other


def test_the_report_lists_what_was_owed_to_each_controller(client, dpo, manager, platform):
    incident, bakery, shop, _bookshop = platform
    workflow.transition(
        incident.pk, manager, "notify_gba", reference="DBN-2026-501", controllers=[bakery]
    )
    client.force_login(dpo)
    text = read(client.get(f"/incidents/{incident.pk}/documents/report.pdf?lang=en"))
    filed = incident.obligations.get(kind="notify_gba", controller=bakery)
    assert (
        "Bakkerij Van Damme BV Notify the GBA for the controller "
        f"{brussels_time(filed.deadline_at)} met {brussels_time(filed.met_at)} DBN-2026-501 —"
    ) in text, text
    assert (
        "Webshop Peeters BV Notify the GBA for the controller "
        f"{brussels_time(filed.deadline_at)} not required — The controller notifies the GBA itself "
        "(processing agreement)."
    ) in text
    assert "Reasoning for the risk level —" in text


def test_after_the_risk_became_high_everyone_is_brought_up_to_date(
    client, dpo, manager, security, platform, assessment_values
):
    """Told and filed; then the risk becomes high. Each controller told is owed an update (the
    French bookshop's supplement says it in French), the GBA a follow-up for each filing made
    (the web shop files itself: none for it); nothing closes until both are recorded."""
    incident, bakery, shop, bookshop = platform
    workflow.transition(incident.pk, manager, "notify_controller", how="E-mail")
    for controller, reference in [(bakery, "DBN-2026-601"), (bookshop, "DBN-2026-602")]:
        workflow.transition(
            incident.pk, manager, "notify_gba", reference=reference, controllers=[controller]
        )
    owed = incident.obligations.filter(kind="update_controller", status="open")
    assert sorted(owed.values_list("controller__name", flat=True)) == [
        "Bakkerij Van Damme BV",  # its DBN, known after its letter
        "Librairie Lefèvre SRL",
    ]
    values = {**assessment_values, "subjects_count": 2105, "records_count": 6000}
    workflow.assess(incident.pk, security, {**values, "risk_level": "high"}, {})
    owed = incident.obligations.filter(kind="update_controller", status="open")
    assert owed.count() == 3  # the web shop too: it was told
    follow_ups = incident.obligations.filter(kind="gba_follow_up", status="open")
    assert sorted(follow_ups.values_list("controller__name", flat=True)) == [
        "Bakkerij Van Damme BV",
        "Librairie Lefèvre SRL",
    ]
    client.force_login(dpo)
    french = letter(client, incident, bookshop)
    assert "Objet : complément à notre notification du" in french, french
    assert (
        "Risque Risque pour les droits et libertés des personnes concernées → Risque élevé pour "
        "les droits et libertés des personnes concernées"
    ) in french
    assert "Référence de l'APD DBN-2026-602" in french
    dutch = letter(client, incident, bakery)
    assert "GBA-referentie DBN-2026-601" in dutch and "Betreft: aanvulling" in dutch
    with pytest.raises(ValidationError) as refused:
        workflow.transition(incident.pk, manager, "close")
    assert refused.value.messages[0].startswith("Obligations are still open: Update the controller")
    workflow.transition(incident.pk, manager, "gba_follow_up")  # one portal update each
    workflow.transition(incident.pk, manager, "update_controller", how="E-mail")
    filed = dict(
        incident.obligations.filter(kind="gba_follow_up").values_list(
            "controller__name", "reference"
        )
    )
    assert filed == {
        "Bakkerij Van Damme BV": "DBN-2026-601",
        "Librairie Lefèvre SRL": "DBN-2026-602",
    }
    assert workflow.transition(incident.pk, manager, "close").state == "closed"
