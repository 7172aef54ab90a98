"""The escalation clock: plan each incident's firings, fire those that are due, exactly once.

Why a compare-and-set and not a lock: `fire_due()` claims the firings with
`UPDATE … SET fired_at = now WHERE … AND fired_at IS NULL RETURNING id`. Exactly one caller
gets each row back, whether the others are a second django-q2 cluster, a retried task or a worker
restarted after a crash; the others do nothing. The claim, the messages it creates and the next
repetition are one transaction, so a crash before the commit leaves the firing unclaimed and it
is fired again later, never half-done.

The incident's state and the acknowledgements are read again at firing time, so a step that has
become unnecessary does nothing. After an outage every missed firing fires once, late and marked
so, and the next repetition is the next slot after now: no flood of every missed repetition.
"""

from collections import defaultdict
from datetime import timedelta
from typing import NamedTuple

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Case, Count, Max, Min, Q, Value, When
from django.utils import timezone

from accounts.models import User
from incidents.models import Incident, Obligation, Settled, State

from . import storm
from .models import (
    Acknowledgement,
    Channel,
    EscalationPolicy,
    EscalationStep,
    Firing,
    Message,
    has_reached,
)
from .queue import enqueue_send
from .rotas import on_call
from .texts import call_script, email_subject_and_body, sms_text

LATE_AFTER = timedelta(minutes=2)
ABANDONED_FOR_GOOD = "Every try was interrupted before the provider answered; next channel."
CLOSED_STATES = {State.CLOSED, State.DISMISSED}


def earliest_open(incident):
    """{kind: the earliest deadline of its open obligations}, in one query."""
    return dict(
        incident.obligations.filter(status=Obligation.Status.OPEN)
        .order_by()
        .values("kind")
        .annotate(first=Min("deadline_at"))
        .values_list("kind", "first")
    )


def anchor_time(incident, step, earliest=None):
    """When the step is due; None for a step whose obligation is not open (not owed yet).
    earliest: earliest_open(incident), read once for all the steps."""
    if step.anchor == step.Anchor.AWARE:
        base = incident.aware_at
    elif step.obligation and earliest is not None:
        base = earliest.get(step.obligation)
    else:
        base = step.deadline_for(incident)
    return None if base is None else base + step.offset


def plan(incident, now=None):
    """Create the first firing of every step of the active policy (idempotent).

    An incident logged long after awareness has several steps due at once: it gets the first
    alert and the most urgent of the overdue steps, not a burst of every step in between.
    """
    return _plan(incident, lambda step: True, now, active_policy(), earliest_open(incident))


def active_policy():
    """The escalation policy in force, with its steps (None: no policy is active)."""
    return EscalationPolicy.objects.filter(is_active=True).prefetch_related("steps").first()


def plan_for_obligations(incident, now=None):
    """Obligations appeared (part 2 owed, data subjects to inform, a controller added, an
    update owed again): plan the steps that count from their deadlines. Steps already planned
    stay as they are. The policy and the deadlines are read once for the three steps below."""
    policy, earliest = active_policy(), earliest_open(incident)
    planned = _plan(incident, counts_from_an_obligation, now, policy, earliest)
    # A page waiting for a round that was met now waits for the new round's deadline: never
    # "OVERDUE" before it.
    replan(incident, earliest)
    return planned + plan_new_rounds(incident, policy, earliest)


def counts_from_an_obligation(step):
    return step.anchor == step.Anchor.OBLIGATION


def plan_new_rounds(incident, policy, earliest):
    """An obligation owed again (an update after a second change, met before): its steps
    page again, from the new deadline, once the firings of the round before are over."""
    if policy is None:
        return []
    made = []
    steps = [step for step in policy.steps.all() if counts_from_an_obligation(step)]
    # Each step's firings so far, in one query: the last repetition, the last due time, and
    # whether one still waits.
    rounds = {
        row["step"]: row
        for row in Firing.objects.filter(incident=incident, step__in=steps)
        .order_by()
        .values("step")
        .annotate(
            repetition=Max("repetition"),
            due_at=Max("due_at"),
            waiting=Count("pk", filter=Q(fired_at=None)),
        )
    }
    for step in steps:
        due = anchor_time(incident, step, earliest)
        last = rounds.get(step.pk)
        if due is None or last is None or last["waiting"]:
            continue  # not owed, planned by _plan, or still running
        if due > last["due_at"]:
            made.append(
                Firing(
                    incident=incident,
                    step=step,
                    repetition=last["repetition"] + 1,
                    phase=Firing.Phase.PAGE,
                    due_at=due,
                )
            )
    return Firing.objects.bulk_create(made, ignore_conflicts=True)


def _plan(incident, chosen, now, policy, earliest):
    now = now or timezone.now()
    if policy is None:
        return []
    due = {
        step: anchor_time(incident, step, earliest) for step in policy.steps.all() if chosen(step)
    }
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


def replan(incident, earliest):
    """aware_at was corrected: move the firings that have not fired yet, in three queries
    whatever the number of steps and controllers. earliest: earliest_open(incident).

    A step's first page moves with the clock (earlier awareness: an overdue step pages now).
    What follows a page that went out (a repetition, the call, the next level) never comes
    earlier than planned: it follows that page, not the clock, so correcting the awareness
    back and forth can never ring a phone again and again.
    """
    pending = list(Firing.objects.filter(incident=incident, fired_at=None).select_related("step"))
    moved = {}
    for firing in pending:
        step = firing.step
        if step.anchor == step.Anchor.AWARE:
            due = incident.aware_at + step.offset
        else:
            base = earliest.get(step.obligation) if step.obligation else incident.deadline_at
            if base is None:
                continue  # its obligation is met or gone: the firing will find it done
            due = base + step.offset
        if firing.repetition and step.repeat_every:
            due += step.repeat_every * firing.repetition
        if firing.phase == Firing.Phase.CALL:
            due += step.call_if_unacknowledged_after
        if firing.phase == Firing.Phase.NEXT:
            due += step.next_level_after
        if firing.repetition or firing.phase != Firing.Phase.PAGE:
            due = max(due, firing.due_at)
        if due != firing.due_at:
            moved[firing.pk] = due
    if moved:
        Firing.objects.filter(pk__in=moved, fired_at=None).update(
            due_at=Case(*(When(pk=pk, then=Value(due)) for pk, due in moved.items()))
        )


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


def build_message(firing, user, channel, fallback_for=None, also=(), link=None):
    """The message paging this person on this channel about the firing and `also`; its link
    acknowledges `link`'s page (the firing's own by default)."""
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
        message.text = sms_text(firing, user, also, link)
    elif channel == Channel.CALL:
        message.text = call_script(firing, user, also)
    else:
        message.subject, message.text = email_subject_and_body(firing, user, also, link)
    if not message.to:
        message.status = Message.Status.FAILED
        message.error = f"{user} has no {'e-mail address' if channel == 'email' else 'phone'}"
    return message


# The next channel when one fails: a call after an SMS, an e-mail after a call.
FALLBACK = {Channel.SMS: Channel.CALL, Channel.CALL: Channel.EMAIL}


def fall_back(message):
    """Reach the same person on the next channel; returns the new message's id or None."""
    channel = FALLBACK.get(message.channel)
    if channel is None or message.firing_id is None or message.recipient is None:
        return None
    taken = set(
        Message.objects.filter(firing=message.firing_id, recipient=message.recipient).values_list(
            "channel", flat=True
        )
    )
    while channel in taken:
        channel = FALLBACK.get(channel)
        if channel is None:
            return None
    also = list(message.also_for.select_related("step", "incident"))
    fallback = build_message(
        message.firing, message.recipient, channel, fallback_for=message, also=also
    )
    try:
        with transaction.atomic():
            fallback.save()
            fallback.also_for.set(also)
    except IntegrityError:
        return None  # another worker made the same fallback
    if fallback.status == Message.Status.QUEUED:
        transaction.on_commit(lambda: enqueue_send(fallback.pk))
    return fallback.pk


def next_slot(due_at, every, now):
    """The next repetition: one interval after the firing was due, or after it fired when it
    fired late (after an outage), so a catch-up is never followed by a repeat seconds later
    and no missed repetition is sent in a flood."""
    return max(due_at, now) + every


BATCH = 100  # incidents fired in one transaction


def fire_due(now=None, incident=None, limit=BATCH):
    """Fire what is due (for every incident, or one), a batch of incidents at a time, in one
    transaction and a fixed number of queries whatever the batch's size: the firings claimed
    and the ids of the messages to send (committed). `more` says the batch was full.

    Everything due at this moment (and within PAGE_MERGE_WINDOW, see claim and companions)
    goes out together: one page per person and channel that lists everything due for them,
    across incidents (up to PAGE_DIGEST_MAX_INCIDENTS a message), never one page per step.
    """
    now = now or timezone.now()
    with transaction.atomic():
        due = Firing.objects.filter(fired_at=None, due_at__lte=now)
        if incident is not None:
            due = due.filter(incident=incident)
        due = due.order_by("due_at").values_list("incident_id", flat=True)[:limit]
        candidates = list(dict.fromkeys(due))
        claimed = claim(not_being_fired(candidates), now)
        fired, messages = fire_claimed(claimed, now)
        return Fired(fired, messages, len(due) == limit and bool(claimed))


class Fired(NamedTuple):
    claimed: list  # the firings this caller fired (with their companions)
    messages: list  # the ids of their messages to send
    more: bool  # the batch was full: fire_due again


def claim(incident_ids, now):
    """The compare-and-set: mark fired what is due for these incidents, if nobody has; the
    ids this caller got. One `UPDATE … RETURNING`: a firing
    another dispatcher claimed first is not in the answer.

    "Due" includes the next PAGE_MERGE_WINDOW: a step of the same incident due within a
    minute of a page going out now goes out with it, in the same message, rather than waking
    the person again seconds later. Only an incident with something due now is fired: nothing
    is fired early on its own, and no page is ever held back."""
    if not incident_ids:
        return []
    horizon = connection.ops.adapt_datetimefield_value(now + settings.PAGE_MERGE_WINDOW)
    at = connection.ops.adapt_datetimefield_value(now)
    table = connection.ops.quote_name(Firing._meta.db_table)
    steps = connection.ops.quote_name(EscalationStep._meta.db_table)
    marks = ", ".join(["%s"] * len(incident_ids))
    with connection.cursor() as cursor:
        # A deadline moment (the first page of a step that says OVERDUE) is never brought
        # forward: it goes at its second, not with a reminder a minute before.
        cursor.execute(
            f"UPDATE {table} SET fired_at = %s WHERE fired_at IS NULL "  # noqa: S608
            f"AND incident_id IN ({marks}) AND due_at <= %s "
            f"AND (due_at <= %s OR repetition > 0 OR phase <> %s "
            f"OR step_id NOT IN (SELECT id FROM {steps} WHERE overdue)) RETURNING id",
            [at, *incident_ids, horizon, at, Firing.Phase.PAGE],
        )
        return sorted(row[0] for row in cursor.fetchall())


def not_being_fired(incident_ids):
    """The incidents no other dispatcher is firing right now; leave the others to it (it
    takes what is due for them, in one page per person) rather than queue behind its row
    locks. On PostgreSQL a transaction-level advisory lock per incident, taken for the whole
    batch in one query, so dispatchers walking the same due list fire different incidents
    side by side; SQLite has one writer at a time anyway. What is left is still due.
    Advisory locks belong to the whole PostgreSQL server: their namespace is this database's
    name, so two breach desks (or two test runs) on one server never hold each other up."""
    if connection.vendor != "postgresql" or not incident_ids:
        return incident_ids
    # Only PostgreSQL runs this (tests/test_concurrency.py); `make mutate` runs on SQLite.
    with connection.cursor() as cursor:  # pragma: no mutate block
        cursor.execute(
            "SELECT id FROM unnest(%s::bigint[]) AS id "
            "WHERE pg_try_advisory_xact_lock(hashtext('firing ' || current_database()), id::int)",
            [incident_ids],
        )
        return [row[0] for row in cursor.fetchall()]


def decide_claimed(claimed, now):
    """Decide each claimed firing (does it still page anyone?) and record it; the steps of
    those that page supersede their earlier steps. The facts read for the batch, and the
    firings that page, the most urgent first."""
    firings = list(Firing.objects.filter(pk__in=claimed).select_related("incident"))
    facts = FiringDecisions(firings, now)
    for firing in firings:
        firing.step = facts.steps[firing.step_id]
    firings.sort(key=Firing.urgency)
    sent = [firing for firing in firings if facts.decide(firing) == Firing.Outcome.SENT]
    Firing.objects.bulk_update(firings, ["late", "outcome"])
    facts.supersede_earlier(sent)
    return facts, sent


def fire_claimed(claimed, now):
    """Decide, page and plan what follows for claimed firings: the ids of the firings fired
    (with the companions they brought) and of the queued messages."""
    if not claimed:
        return [], []
    facts, sent = decide_claimed(claimed, now)
    brought, paging = companions(sent, facts, now)
    sent = sorted(sent + paging, key=Firing.urgency)
    messages = build_messages(sent, facts)
    Firing.objects.bulk_create(
        [follower for firing in sent for follower in followers(firing, now)],
        ignore_conflicts=True,  # a slot that exists is kept as it is
    )
    fired = sorted([*claimed, *brought])
    return fired, [m.pk for m in messages if m.status == Message.Status.QUEUED]


class FiringDecisions:
    """What deciding a batch of firings needs, read in a few queries for the whole batch:
    the policies' steps, the open obligations, the acknowledgements, what else is due."""

    def __init__(self, firings, now):
        self.now, self.firings = now, firings
        incidents = {firing.incident_id for firing in firings}
        policies = EscalationStep.objects.filter(
            pk__in={firing.step_id for firing in firings}
        ).values_list("policy_id", flat=True)
        self.steps = {step.pk: step for step in EscalationStep.objects.filter(policy__in=policies)}
        self.live, self.open = defaultdict(set), defaultdict(set)
        obligations = (
            Obligation.objects.filter(incident__in=incidents)
            .exclude(status=Obligation.Status.WITHDRAWN)
            .order_by()  # the default ordering would join DISTINCT: 10,000 rows, not a few
            .values_list("incident_id", "kind", "status")
            .distinct()
        )
        for incident_id, kind, status in obligations:
            self.live[incident_id].add(kind)
            if status == Obligation.Status.OPEN:
                self.open[incident_id].add(kind)
        self.acknowledged = set(
            Acknowledgement.objects.filter(incident__in=incidents).values_list(
                "incident_id", "step_id"
            )
        )
        horizon = now + settings.PAGE_MERGE_WINDOW
        self.due = set(
            Firing.objects.filter(incident__in=incidents, due_at__lte=horizon).values_list(
                "incident_id", "step_id"
            )
        ) | {(firing.incident_id, firing.step_id) for firing in firings}
        self.people = {}

    def stops(self, firing):
        """Why this firing will page nobody (its outcome), or None when it still pages."""
        incident, step = firing.incident, firing.step
        # A dismissed breach may still owe the GBA its withdrawal: a step for an obligation
        # pages while it is open, whatever the state; the others stop with the incident.
        if self.done(incident, step) or (incident.state in CLOSED_STATES and not step.obligation):
            return Firing.Outcome.STATE_REACHED
        if (firing.repetition or firing.phase != Firing.Phase.PAGE) and (
            (incident.pk, step.pk) in self.acknowledged
        ):
            return Firing.Outcome.ACKNOWLEDGED
        return None

    def decide(self, firing):
        """Whether a claimed firing still has to page anyone; recorded on it."""
        incident, step = firing.incident, firing.step
        firing.late = self.now - max(firing.due_at, firing.planned_at) > LATE_AFTER
        stopped = self.stops(firing)
        if stopped:
            firing.outcome = stopped
        elif any((incident.pk, later.pk) in self.due for later in self.same_wait(step, True)):
            firing.outcome = Firing.Outcome.SUPERSEDED
        else:
            firing.outcome = Firing.Outcome.SENT
        return firing.outcome

    def done(self, incident, step):
        """The step waits for something that is done: its obligation is met (none open), its
        state is reached, or the obligations the state stands for are all met (the state can
        lag behind them, e.g. before the assessment)."""
        live, open_ = self.live[incident.pk], self.open[incident.pk]
        if step.obligation:
            return step.obligation not in open_
        if not step.until_state:
            return False
        if has_reached(incident.state, step.until_state):
            return True
        waits = lambda kind=None: kind in open_ if kind else bool(open_)  # noqa: E731
        return Settled(live.__contains__, waits).reached(step.until_state)

    def same_wait(self, step, later):
        """The policy's later (or earlier) steps that wait for what this one waits for: the
        deadline steps 4 and 5 both wait for every controller to be told."""
        if not step.waits:
            return []
        return [
            other
            for other in self.steps.values()
            if other.policy_id == step.policy_id
            and (other.until_state, other.obligation) == (step.until_state, step.obligation)
            and (other.position > step.position if later else other.position < step.position)
        ]

    def supersede_earlier(self, sent):
        """A step that pages stops the repetitions of its earlier steps that wait for the
        same thing: one page at a time."""
        earlier = Q()
        for firing in sent:
            steps = [other.pk for other in self.same_wait(firing.step, later=False)]
            if steps:
                earlier |= Q(incident=firing.incident_id, step__in=steps)
        if earlier:
            Firing.objects.filter(earlier, fired_at=None).update(
                fired_at=self.now, outcome=Firing.Outcome.SUPERSEDED
            )

    def recipients(self, step, phase):
        if (step.pk, phase) not in self.people:
            self.people[step.pk, phase] = recipients(step, phase, self.now)
        return self.people[step.pk, phase]


def companions(sent, facts, now):
    """The pages of other incidents due within PAGE_MERGE_WINDOW for people paged now, fired
    with them: a manager paged for INC-1 now is not woken again 40 seconds later for INC-2,
    both are in one message. Only a page that reaches someone paged now comes early, and only
    while that person's message has room (PAGE_DIGEST_MAX_INCIDENTS); one round, no chains.
    Returns the ids of the companions' firings claimed, and those that still page."""
    room = defaultdict(set)  # person -> the incidents their message lists
    for firing in sent:
        for user in facts.recipients(firing.step, firing.phase):
            room[user.pk].add(firing.incident_id)
    if not room:
        return [], []
    near = (
        Firing.objects.filter(
            fired_at=None,
            phase=Firing.Phase.PAGE,
            due_at__lte=now + settings.PAGE_MERGE_WINDOW,
            incident__state__in=[s for s in State.values if s not in CLOSED_STATES],
        )
        .exclude(incident__in={firing.incident_id for firing in facts.firings})
        .exclude(step__overdue=True, repetition=0, due_at__gt=now)  # a deadline moment
        .select_related("step")
        .order_by("due_at", "pk")[: settings.PAGE_DIGEST_MAX_INCIDENTS * 20]
    )
    chosen = []
    for firing in near:
        people = {user.pk for user in facts.recipients(firing.step, firing.phase)}
        paged_now = people & room.keys()
        if firing.incident_id in chosen or not paged_now:
            continue
        limit = settings.PAGE_DIGEST_MAX_INCIDENTS
        if any(len(room[pk]) >= limit for pk in paged_now):
            continue
        chosen.append(firing.incident_id)
        for pk in people:
            room[pk].add(firing.incident_id)
    claimed = claim(not_being_fired(chosen), now)
    if not claimed:
        return [], []
    return claimed, decide_claimed(claimed, now)[1]


def build_messages(group, facts):
    """One message per person and channel for the firings in the group. The first firing
    that pages the person, the most urgent, is the message's; the others are listed in it
    (`also_for`), whatever their incident: the text names the first PAGE_DIGEST_MAX_INCIDENTS
    and says "+N more" behind the link.

    Storm control (storm.py): a page within PAGE_MIN_INTERVAL of the person's last one on
    that channel is held for the end of the interval, unless it is a deadline moment; a page
    that goes now takes in what was held for that person and channel."""
    wanted = {}
    for firing in group:
        step = firing.step
        channels = [Channel.CALL] if firing.phase == Firing.Phase.CALL else step.channels()
        for user in facts.recipients(step, firing.phase):
            for channel in channels:
                wanted.setdefault((user.pk, channel), (user, []))[1].append(firing)
    if not wanted:
        return []
    people = {pk for pk, _channel in wanted}
    channels = {channel for _pk, channel in wanted}
    storm.lock_people(people)
    last, held = storm.last_pages(people, channels), storm.held_until(people, channels)
    messages = []
    for (_pk, channel), (user, firings) in wanted.items():
        message = build_message(firings[0], user, channel, also=firings[1:])
        hold = storm.release_time(user, channel, firings, last, held, facts.now)
        if hold is not None and message.status == Message.Status.QUEUED:
            message.status, message.next_attempt_at = Message.Status.HELD, hold
        messages.append((message, firings))
    Message.objects.bulk_create([message for message, _firings in messages])
    links = [
        Message.also_for.through(message_id=message.pk, firing_id=other.pk)
        for message, firings in messages
        for other in firings[1:]
    ]
    Message.also_for.through.objects.bulk_create(links)
    for message, firings in messages:
        if message.status == Message.Status.QUEUED and (user_channel(message) in held):
            take_in(message, firings, facts.now)
    return [message for message, _firings in messages]


def user_channel(message):
    return message.recipient_id, message.channel


def take_in(carrier, firings, now):
    """The carrier goes out now with the held pages of its person and channel: it lists their
    firings too (those still to page about), and its text says so."""
    gathered = storm.gather(carrier)
    if not gathered:
        return
    listed = {firing.pk for firing in firings}
    live = [firing for firing in gathered if firing.pk not in listed]
    live = still_to_page(live, now)
    Message.also_for.through.objects.bulk_create(
        [Message.also_for.through(message_id=carrier.pk, firing_id=f.pk) for f in live],
        ignore_conflicts=True,
    )
    rewrite(carrier, [*firings, *live])


def still_to_page(firings, now):
    """Of the firings a held page stood for, those still worth a page now: not met, not
    stopped with the incident, not acknowledged by anyone meanwhile."""
    if not firings:
        return []
    facts = FiringDecisions(firings, now)
    return [
        firing
        for firing in firings
        if facts.stops(firing) is None
        and (firing.incident_id, firing.step_id) not in facts.acknowledged
    ]


def rewrite(message, firings):
    """The message's text for these firings, the most urgent first; its link still names
    its own firing (the link acknowledges everything the message lists)."""
    firings = sorted(firings, key=Firing.urgency)
    again = build_message(
        firings[0], message.recipient, message.channel, also=firings[1:], link=message.firing
    )
    message.subject, message.text = again.subject, again.text
    Message.objects.filter(pk=message.pk).update(subject=message.subject, text=message.text)


def release_held(now):
    """Held pages whose interval is over go out: per person and channel, the earliest held
    one carries the others. The ids of the carriers to send."""
    due = (
        Message.objects.filter(status=Message.Status.HELD, next_attempt_at__lte=now)
        .order_by("created_at", "pk")
        .values_list("pk", "recipient_id", "channel")
    )
    carriers = {}
    for pk, person, channel in due:
        carriers.setdefault((person, channel), pk)
    released = []
    for (person, _channel), pk in carriers.items():
        try:
            with transaction.atomic():
                storm.lock_people([person])
                if not Message.objects.filter(pk=pk, status=Message.Status.HELD).update(
                    status=Message.Status.QUEUED, released_at=now, next_attempt_at=now
                ):
                    continue  # another dispatcher released it
                carrier = Message.objects.select_related(
                    "firing__step", "firing__incident", "recipient"
                ).get(pk=pk)
                own = [carrier.firing, *carrier.also_for.select_related("step", "incident")]
                gathered = [f for f in storm.gather(carrier) if f not in own]
                live = still_to_page(own + gathered, now)
                if not live:
                    Message.objects.filter(pk=pk).update(
                        status=Message.Status.NOT_NEEDED, next_attempt_at=None
                    )
                    continue
                Message.also_for.through.objects.bulk_create(
                    [
                        Message.also_for.through(message_id=pk, firing_id=f.pk)
                        for f in live
                        if f.pk != carrier.firing_id
                    ],
                    ignore_conflicts=True,
                )
                rewrite(carrier, live)
                released.append(pk)
        except storm.Gathered:
            continue
    return released


def followers(firing, now):
    """The firings a page brings with it: the follow-up call and the next level if nobody
    acknowledges, and the step's next repetition."""
    step = firing.step
    if firing.phase != Firing.Phase.PAGE:
        return []
    slot = {"incident_id": firing.incident_id, "step": step, "repetition": firing.repetition}
    # A late page keeps its whole acknowledgement window before the call and the next level.
    start = max(firing.due_at, now)
    made = []
    if step.call and step.call_if_unacknowledged_after is not None:
        made.append(
            Firing(
                **slot, phase=Firing.Phase.CALL, due_at=start + step.call_if_unacknowledged_after
            )
        )
    if step.next_level_after is not None:
        made.append(Firing(**slot, phase=Firing.Phase.NEXT, due_at=start + step.next_level_after))
    if step.repeat_every:
        made.append(
            Firing(
                incident_id=firing.incident_id,
                step=step,
                repetition=firing.repetition + 1,
                phase=Firing.Phase.PAGE,
                due_at=next_slot(firing.due_at, step.repeat_every, now),
            )
        )
    return made


def next_pages(incident_ids, now=None):
    """incident id -> the first planned page that will really go out (not one whose step is
    met, acknowledged or stopped with the incident): what "next alert" may promise."""
    now = now or timezone.now()
    pending = list(
        Firing.objects.filter(incident__in=incident_ids, fired_at=None)
        .select_related("incident", "step")
        .order_by("due_at", "pk")
    )
    if not pending:
        return {}
    facts = FiringDecisions(pending, now)
    upcoming = {}
    for firing in pending:
        if firing.incident_id not in upcoming and facts.stops(firing) is None:
            upcoming[firing.incident_id] = firing
    return upcoming


def next_wake_up():
    """The earliest moment something is due: a firing, or a message waiting for a retry."""
    firing = Firing.objects.filter(fired_at=None).aggregate(at=Min("due_at"))["at"]
    retry = Message.objects.filter(
        status__in=[Message.Status.QUEUED, Message.Status.HELD]
    ).aggregate(at=Min("next_attempt_at"))["at"]
    moments = [moment for moment in (firing, retry) if moment is not None]
    return min(moments) if moments else None


def messages_to_retry(now):
    """Queued messages whose back-off is over, sends abandoned by a killed worker, and held
    pages whose interval is over (release_held)."""
    release_held(now)
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
