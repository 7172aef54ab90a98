"""A database connection lost at the worst moment, on PostgreSQL: after the provider accepted
a message and before we recorded it. The record is retried on a new connection, so the
message is not reclaimed and sent again."""

import psycopg
import pytest
from django.db import connection
from django.utils.module_loading import import_string

from incidents import workflow
from notifications.models import Message
from notifications.tasks import dispatch

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="kills PostgreSQL connections"),
]
handed_over = []


def kill_this_connection():
    """Terminate this process's database session from another one, as a failover would."""
    pid = connection.connection.info.backend_pid
    settings = connection.settings_dict
    with psycopg.connect(
        host=settings["HOST"], port=settings["PORT"], user=settings["USER"], dbname="postgres"
    ) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])


class ConnectionKillingBackend:
    """A provider that accepts the message, during which our database connection dies."""

    def send(self, message):
        handed_over.append(message.pk)
        kill_this_connection()
        return f"killed-{message.pk}"


def test_the_send_is_recorded_on_a_new_connection_and_not_repeated(
    security, manager, settings, default_policy
):
    settings.SMS_BACKEND = "tests.test_lost_connections.ConnectionKillingBackend"
    # The back end is imported by its dotted path: read the list of that module, not ours.
    handed_over = import_string("tests.test_lost_connections.handed_over")
    handed_over.clear()
    incident = workflow.log_incident(security, title="t", description="d")  # first alert: 2 SMS
    sms = Message.objects.filter(incident=incident, channel="sms")
    assert sorted(handed_over) == sorted(sms.values_list("pk", flat=True))
    assert set(sms.values_list("status", flat=True)) == {"sent"}
    assert all(m.provider_id == f"killed-{m.pk}" for m in sms)
    dispatch()  # a later sweep finds nothing to reclaim or send again
    assert len(handed_over) == 2


def test_a_connection_lost_while_logging_leaves_neither_incident_nor_plan(
    security, manager, default_policy
):
    """Killed between the incident's insert and the commit: nothing half-saved survives."""
    from incidents.models import Incident
    from incidents.signals import incident_saving
    from notifications.models import Firing

    def kill(sender, **kwargs):
        kill_this_connection()

    incident_saving.connect(kill, weak=False)
    try:
        with pytest.raises(Exception, match="terminat|closed|connection"):
            workflow.log_incident(security, title="Lost", description="d")
    finally:
        incident_saving.disconnect(kill)
    connection.close()
    assert not Incident.objects.exists() and not Firing.objects.exists()
    workflow.log_incident(security, title="Again", description="d")  # and the next one works
    assert Incident.objects.get().firings.exists()


def test_a_database_gone_longer_than_the_retries_leaves_the_message_to_be_reclaimed(
    security, manager, default_policy, caplog
):
    """The provider took the message, and the database stays unreachable: recording it is
    tried four times, 0.25, 0.5 and 1 s apart, each reconnection logged, then it gives up
    loudly. The message stays `sending`, so the reclaim finds it (marked "may have arrived
    twice") instead of it passing for sent or for never handed over."""
    import time

    from django.db import OperationalError

    from notifications.sending import record_sent

    workflow.log_incident(security, title="t", description="d")
    message = Message.objects.filter(channel="sms").first()
    Message.objects.filter(pk=message.pk).update(status=Message.Status.SENDING)
    database = connection.settings_dict

    def allow_connections(allowed):
        with psycopg.connect(
            host=database["HOST"],
            port=database["PORT"],
            user=database["USER"],
            dbname="postgres",
            autocommit=True,
        ) as other:
            other.execute(f'ALTER DATABASE "{database["NAME"]}" ALLOW_CONNECTIONS {allowed}')

    allow_connections("false")
    try:
        kill_this_connection()
        started = time.monotonic()
        with pytest.raises(OperationalError), caplog.at_level("WARNING"):
            record_sent(message.pk, "late-1")
        elapsed = time.monotonic() - started
    finally:
        allow_connections("true")
    reconnecting = [r.getMessage() for r in caplog.records if "while recording" in r.getMessage()]
    assert (
        reconnecting == [f"message {message.pk}: connection lost while recording; reconnecting"] * 3
    )
    assert elapsed >= 1.75
    assert Message.objects.get(pk=message.pk).status == Message.Status.SENDING
