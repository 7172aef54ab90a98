"""On PostgreSQL the database itself refuses to change or delete an audit event or to delete
an incident, so not even a raw SQL statement or a bug elsewhere can rewrite history.
(The application refuses it on every database; see IncidentEvent and IncidentQuerySet.)
TRUNCATE, which only an administrator can run, is not a row operation and stays possible."""

from django.db import migrations

FORWARD = """
CREATE FUNCTION breachdesk_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% on % is refused: the breach desk never rewrites history',
        TG_OP, TG_TABLE_NAME;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER incidentevent_append_only BEFORE UPDATE OR DELETE ON incidents_incidentevent
    FOR EACH ROW EXECUTE FUNCTION breachdesk_refuse_change();
CREATE TRIGGER incident_never_deleted BEFORE DELETE ON incidents_incident
    FOR EACH ROW EXECUTE FUNCTION breachdesk_refuse_change();
"""

BACKWARD = """
DROP TRIGGER incident_never_deleted ON incidents_incident;
DROP TRIGGER incidentevent_append_only ON incidents_incidentevent;
DROP FUNCTION breachdesk_refuse_change();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("incidents", "0002_seed_inventory")]
    operations = [migrations.RunPython(forward, backward)]
