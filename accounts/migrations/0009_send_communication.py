"""Managers and the DPO may inform the data subjects (issue 25): send a communication, or
publish it as a public notice."""

from django.db import migrations

from accounts.roles import grant_in_migration


def grant(apps, schema_editor):
    grant_in_migration(apps, "subjects", ["send_communication"], ["manager", "dpo"])


class Migration(migrations.Migration):
    dependencies = [("accounts", "0008_pending_phone"), ("subjects", "0001_initial")]
    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
