"""Who is told what, when, and whether it arrived.

EscalationPolicy/EscalationStep: the plan, as data (admin-editable).
Firing: one due time of one step for one incident (and one repetition of it). Firing it is a
compare-and-set on `fired_at`, so two clusters, a retry or a restart never fire it twice.
Acknowledgement: someone said "I'm on it" for a step; its repeats stop, the clock does not.
Message: every SMS, call and e-mail, recorded before it is sent and updated by the provider.
"""

import datetime

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.utils.translation import gettext_lazy as _

from incidents.models import (
    Controller,
    Document,
    Incident,
    Obligation,
    State,
    validate_one_line,
)


class Channel(models.TextChoices):
    SMS = "sms", _("SMS")
    CALL = "call", _("Voice call")
    EMAIL = "email", _("E-mail")


# How far along the incident is; a step is unnecessary once its state is reached.
PROGRESS = [
    State.DETECTED,
    State.ASSESSED,
    State.GBA_NOTIFIED,
    State.CONTROLLER_NOTIFIED,
    State.CLOSED,
]


def has_reached(current, wanted):
    if current == State.DISMISSED:
        return True
    return PROGRESS.index(current) >= PROGRESS.index(wanted)


class EscalationPolicy(models.Model):
    name = models.CharField(_("name"), max_length=100, validators=[validate_one_line])
    is_active = models.BooleanField(
        _("active"), default=True, help_text=_("New incidents follow the active policy.")
    )

    class Meta:
        verbose_name = _("escalation policy")
        verbose_name_plural = _("escalation policies")

    def __str__(self):
        return self.name


class Rota(models.Model):
    """Who is on call: the members take turns, handing over daily or weekly at a Brussels
    time; an override (a holiday, a swap) puts someone else on call for a while."""

    class Handover(models.TextChoices):
        DAILY = "daily", _("daily")
        WEEKLY = "weekly", _("weekly")

    name = models.CharField(_("name"), max_length=100, unique=True, validators=[validate_one_line])
    handover = models.CharField(
        _("hand-over"), max_length=6, choices=Handover.choices, default=Handover.WEEKLY
    )
    handover_time = models.TimeField(_("hand-over time (Brussels)"), default=datetime.time(9, 0))
    starts_on = models.DateField(
        _("first turn starts on"),
        help_text=_("The first member's first turn; weekly rotas hand over on this weekday."),
    )

    class Meta:
        verbose_name = _("on-call rota")
        verbose_name_plural = _("on-call rotas")

    def __str__(self):
        return self.name


class RotaMember(models.Model):
    rota = models.ForeignKey(Rota, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, verbose_name=_("person")
    )
    position = models.PositiveSmallIntegerField(_("turn"))

    class Meta:
        ordering = ["rota", "position"]
        unique_together = [("rota", "position")]
        verbose_name = _("rota member")

    def __str__(self):
        return f"{self.rota} #{self.position}: {self.user}"


class RotaOverride(models.Model):
    rota = models.ForeignKey(Rota, on_delete=models.CASCADE, related_name="overrides")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, verbose_name=_("on call instead")
    )
    starts_at = models.DateTimeField(_("from"))
    ends_at = models.DateTimeField(_("until"))
    reason = models.CharField(
        _("reason"), max_length=200, blank=True, validators=[validate_one_line]
    )

    class Meta:
        ordering = ["rota", "starts_at"]
        verbose_name = _("override (holiday, swap)")
        verbose_name_plural = _("overrides (holidays, swaps)")

    def __str__(self):
        return f"{self.rota}: {self.user} {self.starts_at:%Y-%m-%d %H:%M}–{self.ends_at:%H:%M}"

    def clean(self):
        from django.core.exceptions import ValidationError

        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": _("The override must end after it starts.")})


class EscalationStep(models.Model):
    class Anchor(models.TextChoices):
        AWARE = "aware", _("after awareness")
        DEADLINE = "deadline", _("relative to the deadline")
        OBLIGATION = "obligation", _("relative to the obligation's deadline")

    OBLIGATIONS = [
        (kind, label)
        for kind, label in Obligation.Kind.choices
        if kind != Obligation.Kind.CONTROLLER_GBA
    ]

    policy = models.ForeignKey(EscalationPolicy, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField(_("position"))
    # What people read in the page and on the incident ("OVERDUE: controller not notified").
    name_nl = models.CharField(
        _("name (Dutch)"), max_length=60, blank=True, validators=[validate_one_line]
    )
    name_fr = models.CharField(
        _("name (French)"), max_length=60, blank=True, validators=[validate_one_line]
    )
    name_en = models.CharField(
        _("name (English)"), max_length=60, blank=True, validators=[validate_one_line]
    )
    anchor = models.CharField(_("from"), max_length=10, choices=Anchor.choices)
    offset = models.DurationField(
        _("offset"), help_text=_("Negative before the deadline, e.g. -4:00:00.")
    )
    until_state = models.CharField(
        _("unless the incident has reached"),
        max_length=20,
        choices=[(state, label) for state, label in State.choices if state in PROGRESS],
        blank=True,
    )
    obligation = models.CharField(
        _("until this obligation is met"),
        max_length=20,
        choices=OBLIGATIONS,
        blank=True,
        help_text=_(
            "With “relative to the obligation's deadline”: the step is planned once the "
            "obligation exists (e.g. part 2 of the GBA notification), counts from its earliest "
            "open deadline and stops when none is open."
        ),
    )
    roles = models.ManyToManyField(Group, blank=True, verbose_name=_("roles"))
    people = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, verbose_name=_("named people")
    )
    rotas = models.ManyToManyField(
        Rota, blank=True, verbose_name=_("whoever is on call in"), related_name="steps"
    )
    # The next level: paged when nobody acknowledged the step within its time.
    next_level_after = models.DurationField(
        _("next level if not acknowledged within"), null=True, blank=True
    )
    next_level_roles = models.ManyToManyField(
        Group, blank=True, verbose_name=_("next level: roles"), related_name="+"
    )
    next_level_rotas = models.ManyToManyField(
        Rota, blank=True, verbose_name=_("next level: whoever is on call in"), related_name="+"
    )
    sms = models.BooleanField(_("SMS"), default=True)
    call = models.BooleanField(_("voice call"), default=False)
    email = models.BooleanField(_("e-mail"), default=False)
    call_if_unacknowledged_after = models.DurationField(
        _("call if not acknowledged within"),
        null=True,
        blank=True,
        help_text=_("Empty: the call (if ticked) goes out with the SMS."),
    )
    repeat_every = models.DurationField(
        _("repeat every, until acknowledged"), null=True, blank=True
    )
    overdue = models.BooleanField(_("says OVERDUE"), default=False)

    class Meta:
        ordering = ["policy", "position"]
        unique_together = [("policy", "position")]
        verbose_name = _("escalation step")

    def __str__(self):
        return f"{self.policy} #{self.position} {self.name_en}".rstrip()

    def name_in(self, language):
        """Its name in this language (English when not given; empty when it has none)."""
        return getattr(self, f"name_{language}", "") or self.name_en

    def clean(self):
        from django.core.exceptions import ValidationError

        if self.anchor == self.Anchor.OBLIGATION and not self.obligation:
            raise ValidationError(
                {"obligation": _("Choose the obligation whose deadline the step counts from.")}
            )
        if self.obligation and self.anchor != self.Anchor.OBLIGATION:
            raise ValidationError(
                {"anchor": _("A step for an obligation counts from that obligation's deadline.")}
            )
        if self.obligation and self.until_state:
            raise ValidationError(
                {"until_state": _("A step for an obligation stops when it is met, not at a state.")}
            )

    @property
    def waits(self):
        """It stops once something is done (a state reached, an obligation met)."""
        return bool(self.until_state or self.obligation)

    def deadline_for(self, incident):
        """The deadline this step is about: its obligation's earliest open one (None when
        none is open), else Conitro's 24 hours."""
        if self.obligation:
            return (
                incident.obligations.filter(kind=self.obligation, status=Obligation.Status.OPEN)
                .order_by("deadline_at")
                .values_list("deadline_at", flat=True)
                .first()
            )
        return incident.deadline_at

    def channels(self):
        """The channels that go out when the step fires (a delayed call comes later)."""
        chosen = [Channel.SMS] if self.sms else []
        if self.call and self.call_if_unacknowledged_after is None:
            chosen.append(Channel.CALL)
        if self.email:
            chosen.append(Channel.EMAIL)
        return chosen


class Firing(models.Model):
    class Phase(models.TextChoices):
        PAGE = "page", _("page")
        CALL = "call", _("follow-up call")
        NEXT = "next", _("next level")

    class Outcome(models.TextChoices):
        SENT = "sent", _("sent")
        STATE_REACHED = "state_reached", _("not needed: the incident moved on")
        ACKNOWLEDGED = "acknowledged", _("not needed: acknowledged")
        SUPERSEDED = "superseded", _("not needed: a later step pages for the same")

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="firings")
    step = models.ForeignKey(EscalationStep, on_delete=models.PROTECT, related_name="firings")
    repetition = models.PositiveIntegerField(default=0)
    phase = models.CharField(max_length=4, choices=Phase.choices, default=Phase.PAGE)
    due_at = models.DateTimeField(db_index=True)
    planned_at = models.DateTimeField(auto_now_add=True)
    fired_at = models.DateTimeField(null=True, blank=True)
    late = models.BooleanField(default=False)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "step", "repetition", "phase"], name="one_firing_per_slot"
            )
        ]
        indexes = [
            models.Index(
                fields=["due_at"], condition=models.Q(fired_at=None), name="pending_firings"
            )
        ]

    def __str__(self):
        return f"{self.incident_id}/{self.step_id}#{self.repetition} {self.phase}"

    def urgency(self):
        """Sort key, the most urgent first: the latest step of the policy, then the earliest
        due. A page is named after its most urgent firing and lists the others in this order."""
        return (-self.step.position, self.due_at, self.pk)

    @property
    def lateness(self):
        """How long after it could first have fired it did fire (None if not yet)."""
        if self.fired_at is None:
            return None
        return self.fired_at - max(self.due_at, self.planned_at)


class Acknowledgement(models.Model):
    class Via(models.TextChoices):
        LINK = "link", _("link")
        SMS = "sms", _("SMS reply")
        CALL = "call", _("key press during the call")
        WEB = "web", _("incident page")

    incident = models.ForeignKey(
        Incident, on_delete=models.PROTECT, related_name="acknowledgements"
    )
    step = models.ForeignKey(EscalationStep, on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    via = models.CharField(max_length=4, choices=Via.choices)
    at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"{self.incident_id}/{self.step_id} by {self.user_id} via {self.via}"


class MessageQuerySet(models.QuerySet):
    def about(self, incident):
        """The pages about this incident: its own, and the digests that list it with others."""
        return self.filter(models.Q(incident=incident) | models.Q(also_for__incident=incident))


class Message(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        SENDING = "sending", _("sending")
        SENT = "sent", _("sent")
        DELIVERED = "delivered", _("delivered")
        FAILED = "failed", _("failed")
        UNDELIVERED = "undelivered", _("undelivered")
        BOUNCED = "bounced", _("bounced")
        # Storm control (escalation.build_messages): a page within PAGE_MIN_INTERVAL of the
        # person's last one on that channel waits, and goes out gathered into their next page.
        HELD = "held", _("held: goes out with the next page")
        GATHERED = "gathered", _("sent within a later page")
        NOT_NEEDED = "not_needed", _("not sent: acknowledged or done before its turn")

    class Kind(models.TextChoices):
        PAGE = "page", _("alert")
        NOTICE = "notice", _("notice to a controller")
        TEST = "test", _("test, asked for by its recipient")
        PHONE_CODE = "phone_code", _("code proving a new phone number")

    FINAL_FAILURES = {Status.FAILED, Status.UNDELIVERED, Status.BOUNCED}
    # Not (yet) a page on its own: what storm control holds back or gathered into another.
    NOT_PAGES = {Status.HELD, Status.GATHERED, Status.NOT_NEEDED}

    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.PAGE)
    # None for a test or a phone code (accounts' own messages, reach.py).
    incident = models.ForeignKey(
        Incident, on_delete=models.PROTECT, null=True, blank=True, related_name="messages"
    )
    firing = models.ForeignKey(
        Firing, on_delete=models.PROTECT, null=True, blank=True, related_name="messages"
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    # A notice to a controller: the letter it carries and who asked for it to be sent.
    controller = models.ForeignKey(
        Controller, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    document = models.ForeignKey(
        Document, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    channel = models.CharField(max_length=5, choices=Channel.choices)
    to = models.CharField(max_length=254)
    subject = models.CharField(max_length=200, blank=True)
    text = models.TextField()
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.QUEUED, db_index=True
    )
    error = models.TextField(blank=True)
    provider_id = models.CharField(max_length=100, blank=True, db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # A send interrupted before the provider's answer was recorded, then tried again: the
    # provider may have had it both times.
    possibly_twice = models.BooleanField(default=False)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    fallback_for = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="fallbacks"
    )
    # The other firings this page stands for: steps of the same incident, or of other
    # incidents (a digest), due for this person within PAGE_MERGE_WINDOW, listed in one
    # message instead of one message each. `incident` is the first firing's.
    also_for = models.ManyToManyField(Firing, blank=True, related_name="merged_into")
    # A held page, when it went out within another (its firings are in that one's also_for).
    gathered_into = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="gathered"
    )
    # A held page that went out as the carrier of the others: when it left its hold.
    released_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = MessageQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["firing", "recipient", "channel"],
                condition=models.Q(firing__isnull=False),
                name="one_message_per_firing_recipient_channel",
            )
        ]
        indexes = [
            # The incident page counts the notices to controllers by status.
            models.Index(fields=["incident", "controller", "status"]),
            # Storm control reads a person's last page on a channel.
            models.Index(
                fields=["recipient", "channel", "created_at"], name="last_page_per_channel"
            ),
        ]

    def __str__(self):
        return f"{self.channel} to {self.to}: {self.status}"

    @property
    def failed(self):
        return self.status in self.FINAL_FAILURES

    @property
    def paged_at(self):
        """When it went out as a page: when it was made, or released from its hold."""
        return self.released_at or self.created_at
