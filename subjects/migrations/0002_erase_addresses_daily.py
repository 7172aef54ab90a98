"""Erase the people's addresses once they are no longer needed, every day (subjects/retention.py)."""

from django.db import migrations
from django.utils import timezone


def schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.get_or_create(
        name="breachdesk-erase-addresses",
        defaults={
            "func": "subjects.retention.erase_due",
            "schedule_type": "D",  # daily
            "repeats": -1,
            "next_run": timezone.now(),
        },
    )


class Migration(migrations.Migration):
    dependencies = [("subjects", "0001_initial"), ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more")]
    operations = [migrations.RunPython(schedule, migrations.RunPython.noop)]
