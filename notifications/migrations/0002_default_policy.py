"""The default escalation policy (notifications/defaults.py), the django-q2 schedule that runs
it, and the DPO's right to edit policies in the admin."""

from django.contrib.auth.management import create_permissions
from django.db import migrations
from django.utils import timezone

from notifications.defaults import create_default_policy

DPO_PERMISSIONS = [
    "view_escalationpolicy", "change_escalationpolicy", "add_escalationpolicy",
    "view_escalationstep", "change_escalationstep", "add_escalationstep", "delete_escalationstep",
    "view_message", "view_firing", "view_acknowledgement",
]  # fmt: skip


def seed(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    create_default_policy(
        Group,
        apps.get_model("notifications", "EscalationPolicy"),
        apps.get_model("notifications", "EscalationStep"),
        obligation_steps=False,  # added by 0006
    )
    apps.get_model("django_q", "Schedule").objects.get_or_create(
        name="breachdesk-escalation",
        defaults={
            "func": "notifications.tasks.dispatch",
            "schedule_type": "I",  # minutes
            "minutes": 1,
            "repeats": -1,
            "next_run": timezone.now(),
        },
    )
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    dpo = Group.objects.filter(name="dpo").first()
    if dpo:
        dpo.permissions.add(
            *apps.get_model("auth", "Permission").objects.filter(
                content_type__app_label="notifications", codename__in=DPO_PERMISSIONS
            )
        )


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0001_initial"),
        ("accounts", "0002_roles"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
