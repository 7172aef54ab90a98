"""Storm control: at most one page per person and channel within PAGE_MIN_INTERVAL.

A SIEM that logs 200 incidents in a minute must not send a manager 200 SMS. The first page of a
burst goes at once; what follows within the interval is *held* (a message recorded with status
`held`) and goes out gathered into the person's next page, which names the most urgent
incidents and says "+37 more" behind a link where one tap acknowledges them all.

Deadline moments are never held: the first page of a step that says OVERDUE goes at its second,
and gathers what was held for that person on that channel. A held page whose every step was
acknowledged or met before its turn is recorded as not needed. Nothing is lost: every held
message stays, pointing at the page it went out in (`gathered_into`).

On PostgreSQL the people paged take a transaction-level advisory lock each (in id order, so
two dispatchers never wait for each other in a circle) before their last page is read: two
dispatchers firing different incidents for one manager at the same second send one page, and
hold the other. SQLite has one writer at a time: the claim that starts every firing
transaction is a write.
"""

from django.conf import settings
from django.db import connection
from django.db.models import Max
from django.db.models.functions import Coalesce

from .models import Firing, Message


def is_deadline_moment(firing):
    """The first page of a step that says OVERDUE: the moment a legal deadline passed."""
    return firing.step.overdue and firing.repetition == 0 and firing.phase == Firing.Phase.PAGE


def lock_people(user_ids):
    """Serialise the pages of these people with other dispatchers' (PostgreSQL only)."""
    if connection.vendor != "postgresql" or not user_ids:
        return
    # Only PostgreSQL runs this (bench/storm.py, tests on PostgreSQL); `make mutate` runs on
    # SQLite.
    with connection.cursor() as cursor:  # pragma: no mutate block
        cursor.execute(
            "SELECT count(pg_advisory_xact_lock(hashtext('page ' || current_database()), id)) "
            "FROM (SELECT unnest(%s::int[]) AS id ORDER BY 1) AS people",
            [sorted(set(user_ids))],
        )


def last_pages(user_ids, channels):
    """(person id, channel) -> when their last page on that channel went out."""
    pages = (
        Message.objects.filter(recipient__in=user_ids, channel__in=channels, firing__isnull=False)
        .exclude(status__in=Message.NOT_PAGES)
        .values("recipient", "channel")
        .annotate(at=Max(Coalesce("released_at", "created_at")))
    )
    return {(page["recipient"], page["channel"]): page["at"] for page in pages}


def held_until(user_ids, channels):
    """(person id, channel) -> when their held pages go out."""
    held = (
        Message.objects.filter(
            recipient__in=user_ids, channel__in=channels, status=Message.Status.HELD
        )
        .values("recipient", "channel")
        .annotate(at=Max("next_attempt_at"))
    )
    return {(page["recipient"], page["channel"]): page["at"] for page in held}


def release_time(user, channel, firings, last, held, now):
    """When this page may go out: None for now, else the end of the person's interval."""
    if any(is_deadline_moment(firing) for firing in firings):
        return None
    if held.get((user.pk, channel)):
        return held[user.pk, channel] if held[user.pk, channel] > now else None
    interval = settings.PAGE_MIN_INTERVAL.get(channel)
    previous = last.get((user.pk, channel))
    if not interval or previous is None or previous + interval <= now:
        return None
    return previous + interval


def gather(carrier):
    """Take the held pages of the carrier's person and channel into it (a compare-and-set: a
    page another dispatcher gathered first is not taken twice). The firings they stood for."""
    held = list(
        Message.objects.filter(
            recipient=carrier.recipient_id, channel=carrier.channel, status=Message.Status.HELD
        )
        .exclude(pk=carrier.pk)
        .values_list("pk", flat=True)
    )
    if not held:
        return []
    taken = Message.objects.filter(pk__in=held, status=Message.Status.HELD).update(
        status=Message.Status.GATHERED, gathered_into=carrier, next_attempt_at=None
    )
    if taken != len(held):
        raise Gathered(f"held pages of person {carrier.recipient_id} taken by another dispatcher")
    firings = Firing.objects.filter(pk__in=Message.objects.filter(pk__in=held).values("firing"))
    merged = Firing.objects.filter(merged_into__in=held)
    return list((firings | merged).distinct().select_related("step", "incident"))


class Gathered(Exception):
    """Another dispatcher gathered these held pages first: this transaction is rolled back and
    the next tick tries again."""
