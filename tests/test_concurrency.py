"""Two people acting on one incident at once: one wins, the other is told, nothing is lost.

Row locks are only real on PostgreSQL, so these tests run there (CI runs them) and are skipped
on SQLite, where writes are serialised by the database file lock anyway.
"""

import threading

import pytest
from django.db import connection

from incidents import workflow
from incidents.models import Incident, IncidentEvent

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="row locks need PostgreSQL (DATABASE_URL)"
    ),
]


def run_at_once(*calls):
    """Run each call in its own thread and connection, released together by a barrier."""
    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def worker(index, call):
        try:
            barrier.wait()
            outcomes[index] = call()
        except Exception as error:  # noqa: BLE001 - the outcome is what we assert on
            outcomes[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=item) for item in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


def test_two_transitions_at_once_one_wins_the_other_is_told(incident_in, manager, dpo):
    incident = incident_in("assessed")
    outcomes = run_at_once(
        lambda: workflow.transition(incident.pk, manager, "notify_gba", reference="DBN-2026-1"),
        lambda: workflow.transition(incident.pk, dpo, "notify_gba", reference="DBN-2026-2"),
    )
    winners = [o for o in outcomes if isinstance(o, Incident)]
    losers = [o for o in outcomes if isinstance(o, workflow.TransitionRefused)]
    assert len(winners) == 1 and len(losers) == 1, outcomes
    incident.refresh_from_db()
    assert incident.state == winners[0].state
    assert incident.events.filter(kind="transition", from_state="assessed").count() == 1


def test_two_edits_of_the_same_version_one_is_refused(new_incident, security, manager):
    incident = new_incident()
    version = incident.version
    outcomes = run_at_once(
        lambda: workflow.update_facts(incident.pk, security, {"title": "Mine"}, version),
        lambda: workflow.update_facts(incident.pk, manager, {"title": "Theirs"}, version),
    )
    winners = [o for o in outcomes if isinstance(o, Incident)]
    losers = [o for o in outcomes if isinstance(o, workflow.IncidentChanged)]
    assert len(winners) == 1 and len(losers) == 1, outcomes
    incident.refresh_from_db()
    assert incident.title == winners[0].title
    assert incident.version == version + 1


def test_references_are_unique_under_concurrent_creation(security):
    outcomes = run_at_once(
        *[
            (lambda n=n: workflow.log_incident(security, title=f"#{n}", description="d"))
            for n in range(8)
        ]
    )
    assert all(isinstance(o, Incident) for o in outcomes), outcomes
    numbers = sorted(int(o.reference[-4:]) for o in outcomes)
    assert numbers == list(range(1, 9))


def test_the_database_refuses_to_rewrite_the_audit_trail(new_incident):
    incident = new_incident()
    event = IncidentEvent.objects.filter(incident=incident).first()
    with pytest.raises(Exception, match="never rewrites history"), connection.cursor() as cursor:
        cursor.execute("UPDATE incidents_incidentevent SET note = 'x' WHERE id = %s", [event.pk])
    with pytest.raises(Exception, match="never rewrites history"), connection.cursor() as cursor:
        cursor.execute("DELETE FROM incidents_incidentevent WHERE id = %s", [event.pk])
    with pytest.raises(Exception, match="never rewrites history"), connection.cursor() as cursor:
        cursor.execute("DELETE FROM incidents_incident WHERE id = %s", [incident.pk])
    with connection.cursor() as cursor:  # what is not history stays a row like any other
        cursor.execute("UPDATE incidents_incident SET title = 'x' WHERE id = %s", [incident.pk])
    assert Incident.objects.get(pk=incident.pk).title == "x"


def test_the_database_refuses_to_rewrite_the_record_of_reference_changes(controller):
    from incidents.models import ReferenceChange

    change = ReferenceChange.objects.create(
        model="incidents.Controller", object_id=str(controller.pk), object_repr="c", action="added"
    )
    with pytest.raises(Exception, match="never rewrites history"), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE incidents_referencechange SET model = 'x' WHERE id = %s", [change.pk]
        )
    with pytest.raises(Exception, match="never rewrites history"), connection.cursor() as cursor:
        cursor.execute("DELETE FROM incidents_referencechange WHERE id = %s", [change.pk])


def test_the_append_only_migrations_are_undone_and_done_again(controller, incident_in):
    """A release rolled back undoes migrations 0009 and 0003: the triggers go, so what was
    refused is possible again; migrating forward again puts them back (the code a rollback
    runs once, on the day it is needed)."""
    import importlib

    from django.db import transaction

    from incidents.models import ReferenceChange

    audit = importlib.import_module("incidents.migrations.0003_append_only_audit")
    references = importlib.import_module("incidents.migrations.0009_reference_changes_append_only")
    change = ReferenceChange.objects.create(
        model="incidents.Controller", object_id=str(controller.pk), object_repr="c", action="added"
    )
    event = incident_in("detected").events.first()
    rewrites = [
        ("UPDATE incidents_referencechange SET model = 'x' WHERE id = %s", change.pk),
        ("UPDATE incidents_incidentevent SET note = 'x' WHERE id = %s", event.pk),
    ]
    try:
        with connection.schema_editor() as editor:
            references.backward(None, editor)
            audit.backward(None, editor)
        with connection.cursor() as cursor:
            for statement, pk in rewrites:
                cursor.execute(statement, [pk])
                assert cursor.rowcount == 1
        with connection.schema_editor() as editor:
            audit.forward(None, editor)
            references.forward(None, editor)
        for statement, pk in rewrites:
            refused = pytest.raises(Exception, match="never rewrites history")
            with refused, transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(statement, [pk])
    finally:  # as the migrations left it, whatever failed above
        with connection.cursor() as cursor:
            cursor.execute("DROP FUNCTION IF EXISTS breachdesk_refuse_change() CASCADE")
        with connection.schema_editor() as editor:
            audit.forward(None, editor)
            references.forward(None, editor)


def test_two_dispatchers_at_once_send_each_message_once(
    security, manager, dpo, channels, default_policy
):
    import time_machine

    from notifications.models import Firing, Message
    from notifications.tasks import dispatch

    with time_machine.travel("2026-11-25 09:00Z", tick=False) as clock:
        for number in range(20):
            workflow.log_incident(security, title=f"#{number}", description="d")
        clock.move_to("2026-11-25 09:01Z")
        dispatch()  # the first alerts storm control held go out, in one page
        last_first_alert = Message.objects.order_by("-id").first().pk
        clock.move_to("2026-11-25 13:00Z")  # step 2 (aware + 4 h) is due for all 20
        outcomes = run_at_once(dispatch, dispatch)
        clock.move_to("2026-11-25 13:01Z")
        dispatch()  # what the page of the other dispatcher held back
    assert all(isinstance(o, dict) for o in outcomes), outcomes
    assert sum(o["fired"] for o in outcomes) == 20
    # The manager is paged once at 13:00 whichever dispatcher fired which incidents (each
    # person's pages are serialised by an advisory lock): what the second one would have sent
    # is held and goes a minute later. Each incident is in exactly one page that went out.
    made = Message.objects.filter(id__gt=last_first_alert)
    assert {(m.recipient, m.channel) for m in made} == {(manager, "sms")}
    pages = made.exclude(status__in=Message.NOT_PAGES).prefetch_related("also_for")
    assert [p.paged_at.isoformat() for p in pages][:1] == ["2026-11-25T13:00:00+00:00"]
    assert len(pages) <= 2 and all(p.paged_at.minute in (0, 1) for p in pages)
    listed = [f.incident_id for m in pages for f in [m.firing, *m.also_for.all()]]
    assert sorted(listed) == sorted(Incident.objects.values_list("pk", flat=True))
    sent_ids = [message.pk for message in channels]
    assert len(sent_ids) == len(set(sent_ids))
    assert Firing.objects.filter(step__position=2, repetition=0, fired_at=None).count() == 0


def test_two_managers_sending_the_notices_at_once_send_each_notice_once(
    incident_in, manager, dpo, controller
):
    from django.core import mail

    from notifications import notices
    from notifications.models import Message

    incident = incident_in("gba_notified")
    outcomes = run_at_once(
        lambda: notices.send_notices(incident.pk, manager),
        lambda: notices.send_notices(incident.pk, dpo),
    )
    assert not any(isinstance(o, Exception) and not isinstance(o, workflow.TransitionRefused)
                   for o in outcomes), outcomes  # fmt: skip
    assert Message.objects.filter(incident=incident, controller=controller).count() == 1
    assert [m.to for m in mail.outbox if m.to == [controller.email]] == [[controller.email]]


def test_a_dispatcher_leaves_alone_the_incidents_another_is_firing_in_this_database_only():
    """The firing locks are PostgreSQL advisory locks, which belong to the whole server: one
    held for incident 7 of this database keeps a second dispatcher off incident 7, while the
    same number held for another database on the server (another desk, another test run)
    keeps nobody off anything."""
    from django.db import transaction

    from notifications import escalation

    other = connection.copy()  # a second dispatcher's connection
    try:
        with other.cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute(
                "SELECT pg_advisory_xact_lock(hashtext('firing ' || current_database()), 7), "
                "pg_advisory_xact_lock(hashtext('firing some_other_desk'), 8)"
            )
            with transaction.atomic():
                assert escalation.not_being_fired([7, 8, 9]) == [8, 9]
            cursor.execute("COMMIT")
        with transaction.atomic():
            assert escalation.not_being_fired([7, 8, 9]) == [7, 8, 9]
    finally:
        other.close()


def test_two_requests_for_a_phone_code_at_once_send_one_code(manager, default_policy):
    from notifications import reach
    from notifications.models import Message

    outcomes = run_at_once(
        lambda: reach.ask_for_code(manager, "+32470999888"),
        lambda: reach.ask_for_code(manager, "+32470999777"),
    )
    assert sorted(type(o).__name__ for o in outcomes) == ["Message", "Refused"]
    assert Message.objects.filter(kind="phone_code").count() == 1


def test_a_dispatcher_paging_a_person_waits_for_another_paging_them_and_no_one_else():
    """Storm control reads a person's last page, then writes the next: two dispatchers paging
    the same person at once would both read "no page yet" and both page. Each first takes the
    person's lock (storm.lock_people), held until its pages are committed: the other waits,
    then reads what the first wrote. Pages to other people do not wait."""
    from django.db import transaction

    from notifications import storm

    def dispatcher(people, locked, finish):
        """Takes the people's locks in its own transaction and connection, says so, and
        commits when told."""
        try:
            with transaction.atomic():
                storm.lock_people(people)
                locked.set()
                finish.wait(timeout=10)
        finally:
            connection.close()

    def start(people):
        locked, finish = threading.Event(), threading.Event()
        thread = threading.Thread(target=dispatcher, args=(people, locked, finish))
        thread.start()
        return thread, locked, finish

    first, first_locked, first_done = start([7, 3])
    assert first_locked.wait(timeout=5)
    others, others_locked, others_done = start([5, 8])
    same, same_locked, same_done = start([8, 7])
    try:
        assert others_locked.wait(timeout=5), "pages to 5 and 8 waited for those to 7 and 3"
        others_done.set()
        others.join(timeout=5)
        assert not same_locked.wait(timeout=0.5), "two dispatchers paged person 7 at once"
        first_done.set()  # the first page to 7 is committed: the second dispatcher goes on
        assert same_locked.wait(timeout=5)
    finally:
        for done in (first_done, others_done, same_done):
            done.set()
        for thread in (first, others, same):
            thread.join(timeout=10)
