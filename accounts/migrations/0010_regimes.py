"""The DPO keeps the other reporting regimes (NIS2 to the CCB) and their reports in the admin."""

from django.db import migrations

from accounts.roles import grant_in_migration

CODENAMES = [
    "add_regime",
    "change_regime",
    "view_regime",
    "add_regimerule",
    "change_regimerule",
    "view_regimerule",
]


def grant(apps, schema_editor):
    grant_in_migration(apps, "incidents", CODENAMES, ["dpo"])


class Migration(migrations.Migration):
    dependencies = [("accounts", "0009_send_communication"), ("incidents", "0028_regime_documents")]
    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
