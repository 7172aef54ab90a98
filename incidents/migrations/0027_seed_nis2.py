"""The Belgian NIS2 regime (law of 26 April 2024; CCB through Safeonweb@work), seeded and off
for every incident until someone marks one significant. Editable in the admin."""

from datetime import timedelta

from django.db import migrations

NIS2 = {
    "code": "nis2-be",
    "name_nl": "NIS2 (België): melding aan het CCB",
    "name_fr": "NIS2 (Belgique) : notification au CCB",
    "name_en": "NIS2 (Belgium): report to the CCB",
    "authority": "Centrum voor Cybersecurity België (CCB) / Centre pour la Cybersécurité "
    "Belgique — Safeonweb@work",
    "basis": "Wet van 26 april 2024 (NIS2), art. 34-35; Richtlijn (EU) 2022/2555, art. 23",
}
RULES = [
    # code-ish English name, nl, fr, anchor, after (index), delay, basis
    ("Early warning", "Vroegtijdige waarschuwing", "Alerte précoce", "aware", None,
     timedelta(hours=24), "art. 23(4)(a) NIS2"),
    ("Incident notification", "Incidentmelding", "Notification d'incident", "aware", None,
     timedelta(hours=72), "art. 23(4)(b) NIS2"),
    # One month after the notification: 30 days (a duration, never shorter than a month of 30).
    ("Final report", "Eindverslag", "Rapport final", "after", 1, timedelta(days=30),
     "art. 23(4)(d) NIS2"),
]  # fmt: skip


def seed(apps, schema_editor):
    Regime = apps.get_model("incidents", "Regime")
    Rule = apps.get_model("incidents", "RegimeRule")
    regime, created = Regime.objects.get_or_create(code=NIS2["code"], defaults=NIS2)
    if not created:
        return
    made = []
    for position, (en, nl, fr, anchor, after, delay, basis) in enumerate(RULES, start=1):
        made.append(
            Rule.objects.create(
                regime=regime,
                name_en=en,
                name_nl=nl,
                name_fr=fr,
                position=position,
                anchor=anchor,
                after=made[after] if after is not None else None,
                delay=delay,
                basis=basis,
                document="summary",
            )
        )


class Migration(migrations.Migration):
    dependencies = [("incidents", "0026_regimes_as_data")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
