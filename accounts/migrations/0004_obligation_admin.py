"""The DPO keeps Conitro's processing activities and the regime table of deadlines, and reads
every obligation, in the admin (issue 9)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

CODENAMES = [
    "add_processingactivity",
    "change_processingactivity",
    "view_processingactivity",
    "change_deadlinerule",
    "view_deadlinerule",
    "view_obligation",
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
    dependencies = [("accounts", "0003_download_register"), ("incidents", "0012_indexes_for_many_controllers")]
    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
