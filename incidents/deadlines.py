"""The clock: deadlines are elapsed time from awareness, computed in UTC.

24 hours across a daylight-saving change in Brussels is still 24 hours, so the arithmetic is
done on aware datetimes converted to UTC, never on wall-clock fields.
"""

from datetime import UTC, timedelta

from django.conf import settings

AMBER_BELOW = timedelta(hours=12)
RED_BELOW = timedelta(hours=4)


def notification_delay():
    return settings.INCIDENT_NOTIFICATION_DEADLINE


def rule_delays(*kinds):
    """How long the regime table gives for each of these obligations (DeadlineRule, editable in
    the admin), read in one query; Conitro's promise (INCIDENT_NOTIFICATION_DEADLINE) for a
    kind the table has no row for."""
    from django.apps import apps

    rules = apps.get_model("incidents", "DeadlineRule").objects.filter(kind__in=kinds)
    delays = dict(rules.values_list("kind", "delay"))
    return {kind: delays.get(kind, notification_delay()) for kind in kinds}


def rule_delay(kind):
    return rule_delays(kind)[kind]


def promise_deadline(aware_at):
    """Conitro's promise: the GBA and every controller told within 24 h of awareness (the
    earlier of the two rules, should they ever differ)."""
    return deadline_for(aware_at, min(rule_delays("tell_controller", "notify_gba").values()))


def deadline_for(aware_at, delay=None):
    """The moment the GBA and the controller must have been told."""
    if aware_at.tzinfo is None:
        raise ValueError("aware_at must be timezone-aware")
    return aware_at.astimezone(UTC) + (delay if delay is not None else notification_delay())


def time_left(deadline_at, now):
    """Signed: negative once the deadline has passed."""
    return deadline_at - now


def urgency(remaining):
    """The colour of a countdown: 'overdue', 'red' (< 4 h), 'amber' (< 12 h) or 'green'."""
    if remaining <= timedelta(0):
        return "overdue"
    if remaining < RED_BELOW:
        return "red"
    if remaining < AMBER_BELOW:
        return "amber"
    return "green"


def format_duration(remaining):
    """'5 h 07 min', '-1 h 30 min' for overdue; days are shown as hours on purpose."""
    seconds = int(remaining.total_seconds())
    sign = "-" if seconds < 0 else ""
    minutes = abs(seconds) // 60
    return f"{sign}{minutes // 60} h {minutes % 60:02d} min"
