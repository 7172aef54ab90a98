"""Who is on call in a rota at a moment: the members take turns from `starts_on`, handing over
daily or weekly at `handover_time` in Brussels (the wall-clock time, also across the clock
change); an override covering the moment (a holiday, a swap) wins."""

from datetime import datetime, timedelta

from django.utils import timezone

PERIOD_DAYS = {"daily": 1, "weekly": 7}


def handover_at(rota, turn):
    """The moment the `turn`-th turn starts (turn 0: the first member's first turn)."""
    day = rota.starts_on + timedelta(days=turn * PERIOD_DAYS[rota.handover])
    return timezone.make_aware(datetime.combine(day, rota.handover_time))


def turn_at(rota, at):
    local = timezone.localtime(at)
    turn = (local.date() - rota.starts_on).days // PERIOD_DAYS[rota.handover]
    return turn - 1 if handover_at(rota, turn) > at else turn


def override_at(rota, at):
    return (
        rota.overrides.select_related("user")
        .filter(starts_at__lte=at, ends_at__gt=at)
        .order_by("-starts_at")
        .first()
    )


def on_call(rota, at=None):
    """The person on call at that moment (None for a rota without members)."""
    at = at or timezone.now()
    override = override_at(rota, at)
    if override is not None:
        return override.user
    members = list(rota.members.select_related("user"))
    if not members:
        return None
    return members[turn_at(rota, at) % len(members)].user


def next_change(rota, at=None):
    """(moment, person): when someone else is on call next, and who."""
    at = at or timezone.now()
    now_on_call = on_call(rota, at)
    moments = [handover_at(rota, turn_at(rota, at) + n) for n in (1, 2)]
    moments += [o.starts_at for o in rota.overrides.filter(starts_at__gt=at)]
    moments += [o.ends_at for o in rota.overrides.filter(starts_at__lte=at, ends_at__gt=at)]
    for moment in sorted(moments):
        person = on_call(rota, moment)
        if person != now_on_call:
            return moment, person
    return None, None
