"""On PostgreSQL the database refuses to change or delete a recorded change of reference data,
like the incidents' audit trail (0003)."""

from django.db import migrations

FORWARD = """
CREATE TRIGGER referencechange_append_only BEFORE UPDATE OR DELETE ON incidents_referencechange
    FOR EACH ROW EXECUTE FUNCTION breachdesk_refuse_change();
"""
BACKWARD = "DROP TRIGGER referencechange_append_only ON incidents_referencechange;"


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("incidents", "0008_reference_changes")]
    operations = [migrations.RunPython(forward, backward)]
