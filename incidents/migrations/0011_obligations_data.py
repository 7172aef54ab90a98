"""The regime table, Conitro's processing activities, each incident's controllers moved from
its assessment to the incident, and the obligations of the incidents logged before."""

from datetime import timedelta

from django.conf import settings
from django.db import migrations

H = timedelta(hours=1)

RULES = [
    # kind, anchor, delay, basis
    ("tell_controller", "aware", None,
     "GDPR art. 33(2): without undue delay; Conitro's privacy policy art. 8: within 24 h"),
    ("notify_gba", "aware", None,
     "Conitro's privacy policy art. 8: within 24 h (the controller's own limit is 72 h, "
     "GDPR art. 33(1))"),
    ("complete_gba", "gba_part1", 21 * 24 * H,
     "GBA portal: part 2 within 21 calendar days of part 1 (unconfirmed: check the portal)"),
    ("inform_subjects", "high_risk", 72 * H,
     "GDPR art. 34: without undue delay (72 h is Conitro's working limit)"),
    ("controller_gba", "controller_told", 72 * H,
     "GDPR art. 33(1): 72 h from the controller's awareness, i.e. from our notice"),
]  # fmt: skip

ACTIVITIES = [
    ("Webwinkels uitbaten voor de verwerkingsverantwoordelijken: bestellingen, facturatie, "
     "betalingen, levering en klantendienst",
     "Exploitation de boutiques en ligne pour les responsables du traitement : commandes, "
     "facturation, paiements, livraison et service clientèle",
     "Operating web shops on behalf of the controllers: orders, invoicing, payments, delivery "
     "and customer service"),
    ("Hosting en beheer van websites en klantaccounts",
     "Hébergement et gestion de sites web et de comptes clients",
     "Hosting and managing websites and customer accounts"),
    ("Nieuwsbrieven en marketingcampagnes versturen",
     "Envoi de lettres d'information et de campagnes de marketing",
     "Sending newsletters and marketing campaigns"),
]  # fmt: skip


def forwards(apps, schema_editor):
    Rule = apps.get_model("incidents", "DeadlineRule")
    promise = settings.INCIDENT_NOTIFICATION_DEADLINE
    for kind, anchor, delay, basis in RULES:
        Rule.objects.get_or_create(
            kind=kind, defaults={"anchor": anchor, "delay": delay or promise, "basis": basis}
        )
    Activity = apps.get_model("incidents", "ProcessingActivity")
    if not Activity.objects.exists():
        for position, (nl, fr, en) in enumerate(ACTIVITIES):
            Activity.objects.create(name_nl=nl, name_fr=fr, name_en=en, position=position)

    Incident = apps.get_model("incidents", "Incident")
    Assessment = apps.get_model("incidents", "Assessment")
    Obligation = apps.get_model("incidents", "Obligation")
    for assessment in Assessment.objects.prefetch_related("controllers"):
        incident = Incident.objects.get(pk=assessment.incident_id)
        controllers = list(assessment.controllers.all())
        incident.controllers.add(*controllers)
        for controller in controllers:
            told = incident.controller_notified_at is not None
            filed = bool(incident.gba_reference)
            ended = incident.state == "dismissed"
            for kind, met, at in [
                ("tell_controller", told, incident.controller_notified_at),
                ("notify_gba", filed, incident.gba_submitted_at),
            ]:
                Obligation.objects.get_or_create(
                    incident=incident,
                    controller=controller,
                    kind=kind,
                    defaults={
                        "deadline_at": incident.deadline_at,
                        "status": "met" if met else ("not_required" if ended else "open"),
                        "met_at": at if met else None,
                        "how": incident.controller_notification_method if kind[0] == "t" else "",
                        "reference": incident.gba_reference if kind == "notify_gba" else "",
                        "delay_reason": (
                            incident.controller_delay_reason
                            if kind[0] == "t"
                            else incident.gba_delay_reason
                        ),
                    },
                )


class Migration(migrations.Migration):
    dependencies = [("incidents", "0010_obligations")]
    operations = [
        migrations.RunPython(forwards, migrations.RunPython.noop),
        migrations.RemoveField(model_name="assessment", name="controllers"),
    ]
