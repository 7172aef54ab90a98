"""Seed the assessment form's lists from Conitro's data inventory (its privacy policy).
Editable afterwards in the admin."""

from django.db import migrations

DATA_CATEGORIES = [
    ("Persoonlijke identificatiegegevens: naam, adres, telefoonnummer",
     "Données d'identification personnelle : nom, adresse, numéro de téléphone",
     "Personal identification data: name, address, phone number"),
    ("Klantnummer en factuurnummer", "Numéro de client et numéro de facture",
     "Customer number and invoice number"),
    ("Bedrijfsgegevens: bedrijfsnaam, maatschappelijke zetel, btw-nummer",
     "Données d'entreprise : nom, siège social, numéro de TVA",
     "Company data: company name, registered address, VAT number"),
    ("E-mailadres", "Adresse e-mail", "E-mail address"),
    ("Elektronische identificatiegegevens: IP-adressen, loginhistoriek",
     "Données d'identification électronique : adresses IP, historique de connexion",
     "Electronic identification data: IP addresses, login history"),
    ("Cookies en websitegebruik (Google Analytics, Facebook Pixel)",
     "Cookies et utilisation du site (Google Analytics, Facebook Pixel)",
     "Cookies and website usage (Google Analytics, Facebook Pixel)"),
    ("Reviews", "Avis", "Reviews"),
    ("Serverlogs: IP-adres, browserversie, tijdstip van bezoek",
     "Journaux serveur : adresse IP, version du navigateur, heure de visite",
     "Server logs: IP address, browser version, time of visit"),
    ("Financiële en transactiegegevens (facturen, betalingen via Mollie)",
     "Données financières et de transaction (factures, paiements via Mollie)",
     "Financial and transaction data (invoices, payments through Mollie)"),
    ("Inloggegevens", "Données de connexion", "Login credentials"),
]

SUBJECT_CATEGORIES = [
    ("Klanten", "Clients", "Customers"),
    ("Prospecten en nieuwsbriefabonnees", "Prospects et abonnés à la newsletter",
     "Prospects and newsletter subscribers"),
    ("Wedstrijddeelnemers", "Participants aux concours", "Contest participants"),
    ("Websitebezoekers", "Visiteurs du site", "Website visitors"),
    ("Werknemers", "Employés", "Employees"),
]


def seed(apps, schema_editor):
    for model_name, rows in [("DataCategory", DATA_CATEGORIES),
                             ("SubjectCategory", SUBJECT_CATEGORIES)]:
        model = apps.get_model("incidents", model_name)
        for position, (nl, fr, en) in enumerate(rows, start=1):
            model.objects.get_or_create(
                name_en=en, defaults={"name_nl": nl, "name_fr": fr, "position": position}
            )


class Migration(migrations.Migration):
    dependencies = [("incidents", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
