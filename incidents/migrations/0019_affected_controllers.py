"""Each affected controller gets its own share of the facts: the plain many-to-many table
incident ↔ controller becomes the AffectedController model (same table, same rows), with
counts and categories per controller; empty means "not split yet"."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0018_alter_datacategory_name_en_and_more"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            # The table and its rows are there already: only Django's picture of it changes.
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="AffectedController",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "incident",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="affected",
                                to="incidents.incident",
                            ),
                        ),
                        (
                            "controller",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="affected",
                                to="incidents.controller",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "affected controller",
                        "db_table": "incidents_incident_controllers",
                        "unique_together": {("incident", "controller")},
                    },
                ),
                migrations.AlterField(
                    model_name="incident",
                    name="controllers",
                    field=models.ManyToManyField(
                        blank=True,
                        related_name="incidents",
                        through="incidents.AffectedController",
                        to="incidents.controller",
                        verbose_name="controllers affected",
                    ),
                ),
            ],
        ),
        migrations.AddField(
            model_name="affectedcontroller",
            name="subjects_count",
            field=models.PositiveIntegerField(
                blank=True,
                help_text="Empty: not split yet (the documents print the platform's total).",
                null=True,
                verbose_name="approximate number of its data subjects",
            ),
        ),
        migrations.AddField(
            model_name="affectedcontroller",
            name="records_count",
            field=models.PositiveIntegerField(
                blank=True,
                help_text="Empty: not split yet (the documents print the platform's total).",
                null=True,
                verbose_name="approximate number of its records",
            ),
        ),
        migrations.AddField(
            model_name="affectedcontroller",
            name="data_categories",
            field=models.ManyToManyField(
                blank=True,
                related_name="+",
                to="incidents.datacategory",
                verbose_name="its categories of personal data",
            ),
        ),
        migrations.AddField(
            model_name="affectedcontroller",
            name="subject_categories",
            field=models.ManyToManyField(
                blank=True,
                related_name="+",
                to="incidents.subjectcategory",
                verbose_name="its categories of data subjects",
            ),
        ),
        migrations.AddField(
            model_name="affectedcontroller",
            name="processing_activities",
            field=models.ManyToManyField(
                blank=True,
                related_name="+",
                to="incidents.processingactivity",
                verbose_name="the purpose of its processing",
            ),
        ),
    ]
