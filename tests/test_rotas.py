"""On-call rotas: who is on call when (Brussels hand-overs, across the clock change, holidays
and swaps), a step that pages whoever is on call, and the next level when nobody answers."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine
from django.contrib.auth.models import Group

from incidents import workflow
from notifications.models import (
    Acknowledgement,
    EscalationPolicy,
    EscalationStep,
    Firing,
    Message,
    Rota,
    RotaMember,
    RotaOverride,
)
from notifications.rotas import next_change, on_call
from notifications.tasks import dispatch

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(make_user):
    return [make_user("manager", name) for name in ("anna", "bart", "chloe")]


@pytest.fixture
def weekly(people):
    # Monday 19 October 2026, 09:00 in Brussels; the clocks go back on Sunday 25 October.
    rota = Rota.objects.create(name="Managers", handover="weekly", starts_on=date(2026, 10, 19))
    for position, person in enumerate(people):
        RotaMember.objects.create(rota=rota, user=person, position=position)
    return rota


def brussels(*args):
    from django.utils import timezone

    return timezone.make_aware(datetime(*args))


def test_a_weekly_rota_hands_over_on_monday_at_nine_in_brussels(weekly, people):
    anna, bart, chloe = people
    assert on_call(weekly, brussels(2026, 10, 19, 9, 0)) == anna
    assert on_call(weekly, brussels(2026, 10, 26, 8, 59)) == anna  # after the clock change
    assert on_call(weekly, brussels(2026, 10, 26, 9, 0)) == bart
    assert brussels(2026, 10, 26, 9, 0) == datetime(2026, 10, 26, 8, 0, tzinfo=UTC)  # CET
    assert on_call(weekly, brussels(2026, 11, 2, 9, 0)) == chloe
    assert on_call(weekly, brussels(2026, 11, 9, 9, 0)) == anna  # round again
    assert on_call(weekly, brussels(2026, 10, 19, 8, 0)) == chloe  # the turn before the first


def test_a_daily_rota_hands_over_every_day(people):
    rota = Rota.objects.create(
        name="Security", handover="daily", starts_on=date(2026, 11, 1), handover_time=time(18, 0)
    )
    for position, person in enumerate(people[:2]):
        RotaMember.objects.create(rota=rota, user=person, position=position)
    assert on_call(rota, brussels(2026, 11, 1, 18, 0)) == people[0]
    assert on_call(rota, brussels(2026, 11, 2, 17, 59)) == people[0]
    assert on_call(rota, brussels(2026, 11, 2, 18, 0)) == people[1]
    assert on_call(rota, brussels(2026, 11, 3, 18, 0)) == people[0]


def test_an_override_covers_a_holiday_and_the_admin_shows_now_and_next(weekly, people, client, dpo):
    anna, bart, chloe = people
    RotaOverride.objects.create(
        rota=weekly,
        user=chloe,
        starts_at=brussels(2026, 10, 21, 0, 0),
        ends_at=brussels(2026, 10, 23, 0, 0),
        reason="Anna on holiday",
    )
    assert on_call(weekly, brussels(2026, 10, 22, 3, 0)) == chloe
    assert on_call(weekly, brussels(2026, 10, 23, 0, 0)) == anna
    assert next_change(weekly, brussels(2026, 10, 20, 12, 0)) == (
        brussels(2026, 10, 21, 0, 0),
        chloe,
    )
    assert next_change(weekly, brussels(2026, 10, 22, 12, 0)) == (
        brussels(2026, 10, 23, 0, 0),
        anna,
    )
    dpo.is_staff = True
    dpo.save()
    client.force_login(dpo)
    with time_machine.travel(brussels(2026, 10, 22, 12, 0), tick=False):
        page = client.get("/admin/notifications/rota/").content.decode()
    assert "Managers" in page, page[page.find("<table") :][:1500]
    row = page[page.find("Managers") :][:600]
    assert str(chloe) in row and "23/10/2026 00:00 CEST" in row, row


@pytest.fixture
def rota_policy(weekly, security, dpo):
    """Step 1 pages whoever is on call; unacknowledged for 10 minutes, the DPO is paged."""
    EscalationPolicy.objects.update(is_active=False)
    policy = EscalationPolicy.objects.create(name="On call", is_active=True)
    step = EscalationStep.objects.create(
        policy=policy,
        position=1,
        anchor="aware",
        offset=timedelta(0),
        sms=True,
        next_level_after=timedelta(minutes=10),
        name_en="New data breach",
    )
    step.rotas.add(weekly)
    step.next_level_roles.add(Group.objects.get(name="dpo"))
    return step


def paged(incident):
    return sorted(
        (m.recipient.username, m.firing.phase)
        for m in Message.objects.filter(incident=incident).select_related("firing", "recipient")
    )


def test_a_step_pages_whoever_is_on_call_and_the_next_level_if_nobody_answers(
    rota_policy, security, channels, django_capture_on_commit_callbacks
):
    with time_machine.travel(brussels(2026, 10, 27, 3, 0), tick=False) as clock:
        with django_capture_on_commit_callbacks(execute=True):
            incident = workflow.log_incident(security, title="Night breach", description="d")
        assert paged(incident) == [("bart", "page")]  # bart's week, not every manager
        clock.move_to(brussels(2026, 10, 27, 3, 9))
        dispatch()
        assert paged(incident) == [("bart", "page")]
        clock.move_to(brussels(2026, 10, 27, 3, 10))
        dispatch()
        assert paged(incident) == [("bart", "page"), ("dpo", "next")]


def test_an_acknowledgement_in_time_keeps_the_next_level_asleep(
    rota_policy, security, people, channels, django_capture_on_commit_callbacks
):
    with time_machine.travel(brussels(2026, 10, 27, 3, 0), tick=False) as clock:
        with django_capture_on_commit_callbacks(execute=True):
            incident = workflow.log_incident(security, title="Night breach", description="d")
        Acknowledgement.objects.create(
            incident=incident, step=rota_policy, user=people[1], via="sms"
        )
        clock.move_to(brussels(2026, 10, 27, 3, 10))
        dispatch()
        assert paged(incident) == [("bart", "page")]
        assert Firing.objects.get(incident=incident, phase="next").outcome == "acknowledged"


def test_the_pending_next_level_follows_its_page_when_the_awareness_is_corrected(
    rota_policy, security, channels, django_capture_on_commit_callbacks
):
    """Logged at 03:00 and paged; then corrected: Conitro knew at 02:55. The person paged at
    03:00 keeps their 10 minutes: the next level stays at 03:10. A later awareness (03:01)
    moves it later (03:11)."""
    with (
        time_machine.travel(brussels(2026, 10, 27, 3, 0), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        incident = workflow.log_incident(security, title="Night breach", description="d")
    assert Firing.objects.get(incident=incident, phase="next").due_at == brussels(
        2026, 10, 27, 3, 10
    )
    for aware, next_level in [((2, 55), (3, 10)), ((3, 1), (3, 11))]:
        with (
            time_machine.travel(brussels(2026, 10, 27, 3, 1), tick=False),
            django_capture_on_commit_callbacks(execute=True),
        ):
            workflow.update_facts(
                incident.pk, security, {"aware_at": brussels(2026, 10, 27, *aware)}
            )
        assert Firing.objects.get(incident=incident, phase="next").due_at == brussels(
            2026, 10, 27, *next_level
        )


def test_a_batch_pages_whoever_was_on_call_when_the_clock_looked(rota_policy, security, people):
    """The clock looks at 08:59:55 and fires what is due then; the batch runs past the
    09:00 handover. Who is paged is decided for the moment the clock looked, for the whole
    batch: one decision, not one that changes half-way through."""
    from notifications.escalation import fire_due

    with time_machine.travel(brussels(2026, 10, 26, 8, 59, 50), tick=False) as clock:
        incident = workflow.log_incident(security, title="Breach", description="d")
        clock.move_to(brussels(2026, 10, 26, 9, 0, 5))
        fire_due(brussels(2026, 10, 26, 8, 59, 55))
    assert paged(incident) == [("anna", "page")]


def test_a_next_level_page_brings_along_only_pages_for_the_next_level(
    rota_policy, security, channels, django_capture_on_commit_callbacks
):
    """At 03:10 the DPO is paged because bart did not answer about the first breach. A second
    breach's page to bart, due 20 s later, is not for the DPO: it keeps its own time (bart is
    not being paged now)."""
    with time_machine.travel(brussels(2026, 10, 27, 3, 0), tick=False) as clock:
        with django_capture_on_commit_callbacks(execute=True):
            first = workflow.log_incident(security, title="Night breach", description="d")
        clock.move_to(brussels(2026, 10, 27, 3, 10))
        second = workflow.log_incident(security, title="Second breach", description="d")
        Firing.objects.filter(incident=second).update(due_at=brussels(2026, 10, 27, 3, 10, 20))
        dispatch(first.pk)
        assert paged(first) == [("bart", "page"), ("dpo", "next")]
        assert Firing.objects.get(incident=second, phase="page").fired_at is None
        assert paged(second) == []


def test_a_page_never_brings_a_follow_up_call_forward(
    rota_policy, security, channels, django_capture_on_commit_callbacks
):
    """bart is paged at 03:00 and called at 03:05 if he has not answered. A second breach
    pages him at 03:04:40: the call about the first still waits until 03:05, his five minutes
    to answer are not cut short by 20 seconds."""
    rota_policy.call = True
    rota_policy.call_if_unacknowledged_after = timedelta(minutes=5)
    rota_policy.save()
    with time_machine.travel(brussels(2026, 10, 27, 3, 0), tick=False) as clock:
        with django_capture_on_commit_callbacks(execute=True):
            first = workflow.log_incident(security, title="Night breach", description="d")
        clock.move_to(brussels(2026, 10, 27, 3, 4, 40))
        with django_capture_on_commit_callbacks(execute=True):
            second = workflow.log_incident(security, title="Second breach", description="d")
        assert paged(second) == [("bart", "page")]
        assert Firing.objects.get(incident=first, phase="call").fired_at is None
        clock.move_to(brussels(2026, 10, 27, 3, 5))
        dispatch()
        assert paged(first) == [("bart", "call"), ("bart", "page")]
