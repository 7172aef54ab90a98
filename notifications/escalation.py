"""The escalation clock: plan each incident's firings, fire those that are due, exactly once.

Why a compare-and-set and not a lock: `fire()` claims a firing with
`UPDATE … SET fired_at = now WHERE id = … AND fired_at IS NULL`. Exactly one caller sees one
row updated, whether the others are a second django-q2 cluster, a retried task or a worker
restarted after a crash; the others do nothing. The claim, the messages it creates and the next
repetition are one transaction, so a crash before the commit leaves the firing unclaimed and it
is fired again later, never half-done.

The incident's state and the acknowledgements are read again at firing time, so a step that has
become unnecessary does nothing. After an outage every missed firing fires once, late and marked
so, and the next repetition is the next slot after now: no flood of every missed repetition.
"""

from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Min, Q
from django.utils import timezone

from accounts.models import User
from incidents.models import Incident, Obligation, State

from .models import Acknowledgement, Channel, EscalationPolicy, Firing, Message, has_reached
from .rotas import on_call
from .sending import fall_back
from .texts import call_script, email_subject_and_body, sms_text

LATE_AFTER = timedelta(minutes=2)
FIRING_LOCKS = 4242  # the advisory-lock namespace of incident_busy()
ABANDONED_FOR_GOOD = "Every try was interrupted before the provider answered; next channel."
CLOSED_STATES = {State.CLOSED, State.DISMISSED}


def anchor_time(incident, step):
    """When the step is due; None for a step whose obligation is not open (not owed yet)."""
    base = incident.aware_at if step.anchor == step.Anchor.AWARE else step.deadline_for(incident)
    return None if base is None else base + step.offset


def plan(incident, now=None):
    """Create the first firing of every step of the active policy (idempotent).

    An incident logged long after awareness has several steps due at once: it gets the first
    alert and the most urgent of the overdue steps, not a burst of every step in between.
    """
    return _plan(incident, lambda step: True, now)


def plan_for_obligations(incident, now=None):
    """Obligations appeared (part 2 owed, data subjects to inform, a controller added): plan
    the steps that count from their deadlines. Steps already planned stay as they are."""
    return _plan(incident, lambda step: step.anchor == step.Anchor.OBLIGATION, now)


def _plan(incident, chosen, now):
    now = now or timezone.now()
    policy = EscalationPolicy.objects.filter(is_active=True).prefetch_related("steps").first()
    if policy is None:
        return []
    due = {step: anchor_time(incident, step) for step in policy.steps.all() if chosen(step)}
    due = {step: at for step, at in due.items() if at is not None}
    overdue = [step for step, at in due.items() if step.waits and at <= now]
    superseded = set(overdue[:-1])
    firings = [
        Firing(incident=incident, step=step, due_at=at)
        for step, at in due.items()
        if step not in superseded
    ]
    Firing.objects.bulk_create(firings, ignore_conflicts=True)
    return firings


def replan(incident):
    """aware_at was corrected: move the firings that have not fired yet."""
    for firing in Firing.objects.filter(incident=incident, fired_at=None).select_related("step"):
        due = anchor_time(incident, firing.step)
        if due is None:
            continue  # its obligation is met or gone: the firing will find it done
        if firing.repetition and firing.step.repeat_every:
            due += firing.step.repeat_every * firing.repetition
        if firing.phase == Firing.Phase.CALL:
            due += firing.step.call_if_unacknowledged_after
        if firing.phase == Firing.Phase.NEXT:
            due += firing.step.next_level_after
        Firing.objects.filter(pk=firing.pk, fired_at=None).update(due_at=due)


def due_firings(now, incident=None, limit=1000):
    firings = Firing.objects.filter(fired_at=None, due_at__lte=now)
    if incident is not None:
        firings = firings.filter(incident=incident)
    # At the same moment the later (more urgent) step first: the page is named after it.
    firings = firings.order_by("due_at", "-step__position")
    return list(firings.values_list("pk", flat=True)[:limit])


def recipients(step, phase=Firing.Phase.PAGE, at=None):
    """Who a firing pages: the step's roles, named people and whoever is on call in its
    rotas; for the next level, the next level's roles and rotas."""
    if phase == Firing.Phase.NEXT:
        roles, named, rotas = step.next_level_roles.all(), [], step.next_level_rotas.all()
    else:
        roles, named, rotas = step.roles.all(), step.people.all(), step.rotas.all()
    on_duty = [person.pk for person in (on_call(rota, at) for rota in rotas) if person]
    people = User.objects.filter(is_active=True).filter(
        Q(groups__in=roles) | Q(pk__in=named) | Q(pk__in=on_duty)
    )
    return list(people.distinct().order_by("pk"))


def address(user, channel):
    return user.email if channel == Channel.EMAIL else user.phone


def build_message(firing, user, channel, fallback_for=None, also=()):
    incident = firing.incident
    message = Message(
        incident=incident,
        firing=firing,
        recipient=user,
        channel=channel,
        to=address(user, channel),
        fallback_for=fallback_for,
    )
    if channel == Channel.SMS:
        message.text = sms_text(firing, user, also)
    elif channel == Channel.CALL:
        message.text = call_script(firing, user, also)
    else:
        message.subject, message.text = email_subject_and_body(firing, user, also)
    if not message.to:
        message.status = Message.Status.FAILED
        message.error = f"{user} has no {'e-mail address' if channel == 'email' else 'phone'}"
    return message


def next_slot(due_at, every, now):
    """The next repetition: one interval after the firing was due, or after it fired when it
    fired late (after an outage), so a catch-up is never followed by a repeat seconds later
    and no missed repetition is sent in a flood."""
    return max(due_at, now) + every


def fire(firing_id, now=None):
    """Fire one firing if nobody has: the ids of the messages to send (already committed),
    or None when another worker claimed it first.

    What else is due for the same incident at this moment (another step's repetition, the
    same hour mark) goes out in the same messages: one page per person and channel that
    lists everything due, never one page per step. Nothing is fired early to be merged.
    """
    now = now or timezone.now()
    with transaction.atomic():
        incident_id = (
            Firing.objects.filter(pk=firing_id, fired_at=None)
            .values_list("incident_id", flat=True)
            .first()
        )
        if incident_id is None or incident_busy(incident_id) or not claim([firing_id], now):
            return None
        firing = Firing.objects.select_related("incident", "step").get(pk=firing_id)
        if decide(firing, now) != Firing.Outcome.SENT:
            return []
        group = [firing]
        due_too = Firing.objects.filter(incident=firing.incident, fired_at=None, due_at__lte=now)
        claimed = claim(list(due_too.values_list("pk", flat=True)), now)
        for other in (
            Firing.objects.filter(pk__in=claimed)
            .select_related("step")
            .order_by("step__position", "phase", "repetition")
        ):
            other.incident = firing.incident
            if decide(other, now) == Firing.Outcome.SENT:
                group.append(other)
        group.sort(key=lambda member: -member.step.position)  # the most urgent named first
        messages = build_messages(group)
        for member in group:
            schedule_followers(member, now)
    return [m.pk for m in messages if m.status == Message.Status.QUEUED]


def claim(firing_ids, now):
    """The compare-and-set: mark these firings fired, if nobody has; the ids this caller got."""
    return [
        pk for pk in firing_ids if Firing.objects.filter(pk=pk, fired_at=None).update(fired_at=now)
    ]


def incident_busy(incident_id):
    """Another dispatcher is firing this incident's steps right now: leave them to it (it
    takes what is due for the incident with it, in one page per person) rather than queue
    behind its row locks. On PostgreSQL a transaction-level advisory lock per incident, so
    dispatchers walking the same due list fire different incidents side by side; SQLite has
    one writer at a time anyway. A firing left this way is still due: the next tick fires it.
    """
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", [FIRING_LOCKS, incident_id])
        return not cursor.fetchone()[0]


def decide(firing, now):
    """Whether a claimed firing still has to page anyone; recorded on it."""
    incident, step = firing.incident, firing.step
    firing.late = now - max(firing.due_at, firing.planned_at) > LATE_AFTER
    if incident.state in CLOSED_STATES or step_done(incident, step):
        firing.outcome = Firing.Outcome.STATE_REACHED
    elif (firing.repetition or firing.phase != Firing.Phase.PAGE) and (
        Acknowledgement.objects.filter(incident=incident, step=step).exists()
    ):
        firing.outcome = Firing.Outcome.ACKNOWLEDGED
    elif same_wait(step, later=True).filter(incident=incident, due_at__lte=now).exists():
        firing.outcome = Firing.Outcome.SUPERSEDED
    else:
        firing.outcome = Firing.Outcome.SENT
        # Its earlier steps that wait for the same thing stop repeating: one page at a time.
        same_wait(step, later=False).filter(incident=incident, fired_at=None).update(
            fired_at=now, outcome=Firing.Outcome.SUPERSEDED
        )
    firing.save(update_fields=["late", "outcome"])
    return firing.outcome


def build_messages(group):
    """One message per person and channel for the firings in the group (the first that
    pages them is the message's firing; the others are listed in it, `also_for`)."""
    wanted = {}
    for firing in group:
        step = firing.step
        channels = [Channel.CALL] if firing.phase == Firing.Phase.CALL else step.channels()
        for user in recipients(step, firing.phase):
            for channel in channels:
                wanted.setdefault((user.pk, channel), (user, []))[1].append(firing)
    messages = Message.objects.bulk_create(
        [
            build_message(firings[0], user, channel, also=firings[1:])
            for (_pk, channel), (user, firings) in wanted.items()
        ]
    )
    links = [
        Message.also_for.through(message_id=message.pk, firing_id=other.pk)
        for message, (_user, firings) in zip(messages, wanted.values(), strict=True)
        for other in firings[1:]
    ]
    Message.also_for.through.objects.bulk_create(links)
    return messages


def same_wait(step, later):
    """Firings of the policy's later (or earlier) steps that wait for what this one waits
    for: the deadline steps 4 and 5 both wait for every controller to be told."""
    if not step.waits:
        return Firing.objects.none()
    position = {"step__position__gt" if later else "step__position__lt": step.position}
    return Firing.objects.filter(
        step__policy=step.policy_id,
        step__until_state=step.until_state,
        step__obligation=step.obligation,
        **position,
    )


def step_done(incident, step):
    """The step waits for something that is done: its obligation is met (none open), its
    state is reached, or the obligations the state stands for are all met (the state can lag
    behind them, e.g. before the assessment)."""
    if step.obligation:
        return not incident.obligations.filter(
            kind=step.obligation, status=Obligation.Status.OPEN
        ).exists()
    if not step.until_state:
        return False
    if has_reached(incident.state, step.until_state):
        return True
    if step.until_state == State.GBA_NOTIFIED:
        return incident.gba_settled()
    if step.until_state == State.CONTROLLER_NOTIFIED:
        return incident.notifications_settled()
    return False


def schedule_followers(firing, now):
    step = firing.step
    if firing.phase != Firing.Phase.PAGE:
        return
    if step.call and step.call_if_unacknowledged_after is not None:
        Firing.objects.get_or_create(
            incident=firing.incident,
            step=step,
            repetition=firing.repetition,
            phase=Firing.Phase.CALL,
            # A late page keeps its whole acknowledgement window before the call.
            defaults={"due_at": max(firing.due_at, now) + step.call_if_unacknowledged_after},
        )
    if step.next_level_after is not None:
        Firing.objects.get_or_create(
            incident=firing.incident,
            step=step,
            repetition=firing.repetition,
            phase=Firing.Phase.NEXT,
            defaults={"due_at": max(firing.due_at, now) + step.next_level_after},
        )
    if step.repeat_every:
        Firing.objects.get_or_create(
            incident=firing.incident,
            step=step,
            repetition=firing.repetition + 1,
            phase=Firing.Phase.PAGE,
            defaults={"due_at": next_slot(firing.due_at, step.repeat_every, now)},
        )


def next_wake_up():
    """The earliest moment something is due: a firing, or a message waiting for a retry."""
    firing = Firing.objects.filter(fired_at=None).aggregate(at=Min("due_at"))["at"]
    retry = Message.objects.filter(status=Message.Status.QUEUED).aggregate(
        at=Min("next_attempt_at")
    )["at"]
    moments = [moment for moment in (firing, retry) if moment is not None]
    return min(moments) if moments else None


def messages_to_retry(now):
    """Queued messages whose back-off is over, and sends abandoned by a killed worker."""
    stale = now - settings.MESSAGE_SEND_TIMEOUT
    abandoned = Message.objects.filter(status=Message.Status.SENDING, claimed_at__lt=stale)
    for message in abandoned.filter(attempts__gte=settings.MESSAGE_MAX_ATTEMPTS):
        # A send that keeps hanging counts toward the limit like a refusal: the person gets
        # the next channel instead of waiting on this one forever.
        if Message.objects.filter(pk=message.pk, status=Message.Status.SENDING).update(
            status=Message.Status.FAILED, error=ABANDONED_FOR_GOOD
        ):
            fall_back(message)
    abandoned.update(status=Message.Status.QUEUED, next_attempt_at=now, possibly_twice=True)
    return list(
        Message.objects.filter(status=Message.Status.QUEUED)
        .filter(Q(next_attempt_at__lte=now) | Q(next_attempt_at=None, created_at__lt=stale))
        .values_list("pk", flat=True)[:1000]
    )


def open_incidents_without_plan():
    return Incident.objects.exclude(state__in=CLOSED_STATES).filter(firings=None)
