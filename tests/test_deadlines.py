"""The 24-hour clock is elapsed time, also across daylight-saving changes in Brussels."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from incidents.deadlines import deadline_for, format_duration, urgency

BRUSSELS = ZoneInfo("Europe/Brussels")


def test_deadline_is_24_hours_after_awareness():
    aware = datetime(2026, 6, 1, 9, 30, tzinfo=UTC)
    assert deadline_for(aware, timedelta(hours=24)) == datetime(2026, 6, 2, 9, 30, tzinfo=UTC)


def test_deadline_across_the_spring_change_is_24_elapsed_hours():
    # 28 March 2026 12:00 CET; clocks jump to CEST in the night: the deadline reads 13:00.
    aware = datetime(2026, 3, 28, 12, 0, tzinfo=BRUSSELS)
    deadline = deadline_for(aware, timedelta(hours=24))
    assert deadline - aware == timedelta(hours=24)
    assert deadline.astimezone(BRUSSELS).hour == 13


def test_deadline_across_the_autumn_change_is_24_elapsed_hours():
    # 24 October 2026 12:00 CEST; clocks go back an hour: the deadline reads 11:00.
    aware = datetime(2026, 10, 24, 12, 0, tzinfo=BRUSSELS)
    deadline = deadline_for(aware, timedelta(hours=24))
    assert deadline - aware == timedelta(hours=24)
    assert deadline.astimezone(BRUSSELS).hour == 11


def test_deadline_is_stored_in_utc():
    aware = datetime(2026, 10, 24, 12, 0, tzinfo=BRUSSELS)
    assert deadline_for(aware, timedelta(hours=24)).tzinfo == UTC


def test_naive_awareness_is_refused():
    with pytest.raises(ValueError):
        deadline_for(datetime(2026, 1, 1, 12, 0), timedelta(hours=24))


@pytest.mark.parametrize(
    ("left", "colour"),
    [
        (timedelta(hours=13), "green"),
        (timedelta(hours=12), "green"),
        (timedelta(hours=11, minutes=59), "amber"),
        (timedelta(hours=4), "amber"),
        (timedelta(hours=3, minutes=59), "red"),
        (timedelta(seconds=1), "red"),
        (timedelta(0), "overdue"),
        (timedelta(hours=-2), "overdue"),
    ],
)
def test_urgency_colours(left, colour):
    assert urgency(left) == colour


def test_format_duration():
    assert format_duration(timedelta(hours=5, minutes=7)) == "5 h 07 min"
    assert format_duration(timedelta(hours=-1, minutes=-30)) == "-1 h 30 min"
    assert format_duration(timedelta(days=1, hours=2)) == "26 h 00 min"


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(0, "0 h 00 min"), (59, "0 h 00 min"), (-1, "-0 h 00 min"), (-5400, "-1 h 30 min")],
)
def test_time_left_at_the_edge_of_the_deadline(seconds, shown):
    """Overdue by a second is overdue: the minus sign says so before the minutes do."""
    assert format_duration(timedelta(seconds=seconds)) == shown


@pytest.mark.django_db
def test_the_regime_table_sets_the_promise_and_a_missing_row_falls_back_to_24_hours():
    from incidents.deadlines import promise_deadline, rule_delay
    from incidents.models import DeadlineRule

    aware = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    DeadlineRule.objects.filter(kind="notify_gba").update(delay=timedelta(hours=12))
    assert promise_deadline(aware) == aware + timedelta(hours=12)  # the sooner of the two
    DeadlineRule.objects.filter(kind="notify_gba").delete()
    assert rule_delay("notify_gba") == timedelta(hours=24)  # INCIDENT_NOTIFICATION_DEADLINE
    assert promise_deadline(aware) == aware + timedelta(hours=24)


@pytest.mark.django_db
def test_an_incident_keeps_its_deadline_when_the_regime_table_changes(new_incident, manager):
    from incidents import workflow
    from incidents.models import DeadlineRule, Incident

    incident = new_incident()
    given = incident.deadline_at
    DeadlineRule.objects.filter(kind="tell_controller").update(delay=timedelta(hours=12))
    workflow.update_facts(incident.pk, manager, {"title": "Renamed"})
    assert Incident.objects.get(pk=incident.pk).deadline_at == given
