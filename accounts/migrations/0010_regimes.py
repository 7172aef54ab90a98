"""The DPO keeps the other reporting regimes (NIS2 to the CCB) and their reports in the admin."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

CODENAMES = [
    "add_regime",
    "change_regime",
    "view_regime",
    "add_regimerule",
    "change_regimerule",
    "view_regimerule",
]


def grant(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    permissions = apps.get_model("auth", "Permission").objects.filter(
        content_type__app_label="incidents", codename__in=CODENAMES
    )
    for group in apps.get_model("auth", "Group").objects.filter(name="dpo"):
        group.permissions.add(*permissions)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0009_send_communication"), ("incidents", "0028_regime_documents")]
    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
