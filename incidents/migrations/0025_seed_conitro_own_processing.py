"""Seed Conitro's own processing activities (its privacy policy: it is the controller of its
customers' and prospects' data) and the categories they add. Editable afterwards in the admin."""

from django.db import migrations

OWN_ACTIVITIES = [
    ("Bestellingen en facturatie van klanten (webwinkel)",
     "Commandes et facturation des clients (boutique en ligne)",
     "Customer orders and invoicing (webshop)"),
    ("Klantenreviews", "Avis des clients", "Customer reviews"),
    ("Serverlogs en beveiliging van de website", "Journaux serveur et sécurité du site",
     "Server logs and website security"),
    ("Websitestatistieken, met toestemming", "Statistiques du site, avec consentement",
     "Website analytics, with consent"),
    ("Betalingen via Mollie", "Paiements via Mollie", "Payments through Mollie"),
    ("Levering van pakketten via vervoerders", "Livraison des colis par des transporteurs",
     "Parcel delivery through carriers"),
    ("Leeftijdscontrole (jonger dan 18)", "Contrôle de l'âge (moins de 18 ans)",
     "Age checks (under 18)"),
    ("Nieuwsbrief en prospecten", "Newsletter et prospects", "Newsletter and prospects"),
]
DATA_CATEGORIES = [
    ("Geboortedatum (leeftijdscontrole)", "Date de naissance (contrôle de l'âge)",
     "Date of birth (age check)"),
    ("Bestelgeschiedenis en leveringsadres", "Historique des commandes et adresse de livraison",
     "Order history and delivery address"),
]
SUBJECT_CATEGORIES = [
    ("Minderjarigen (jonger dan 18)", "Mineurs (moins de 18 ans)", "Minors (under 18)"),
]


def seed(apps, schema_editor):
    activity = apps.get_model("incidents", "ProcessingActivity")
    first = (activity.objects.order_by("-position").values_list("position", flat=True).first()
             or 0) + 1
    for position, (nl, fr, en) in enumerate(OWN_ACTIVITIES, start=first):
        activity.objects.get_or_create(
            name_en=en,
            defaults={"name_nl": nl, "name_fr": fr, "position": position, "conitro_own": True},
        )
    for model_name, rows in [("DataCategory", DATA_CATEGORIES),
                             ("SubjectCategory", SUBJECT_CATEGORIES)]:
        model = apps.get_model("incidents", model_name)
        first = (model.objects.order_by("-position").values_list("position", flat=True).first()
                 or 0) + 1
        for position, (nl, fr, en) in enumerate(rows, start=first):
            model.objects.get_or_create(
                name_en=en, defaults={"name_nl": nl, "name_fr": fr, "position": position}
            )


class Migration(migrations.Migration):
    dependencies = [("incidents", "0024_conitro_as_controller")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
