"""Managers and the DPO may inform the data subjects (issue 25): send a communication, or
publish it as a public notice."""

from django.contrib.auth.management import create_permissions
from django.db import migrations


def grant(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    permission = apps.get_model("auth", "Permission").objects.get(
        content_type__app_label="subjects", codename="send_communication"
    )
    for group in apps.get_model("auth", "Group").objects.filter(name__in=["manager", "dpo"]):
        group.permissions.add(permission)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0008_pending_phone"), ("subjects", "0001_initial")]
    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
