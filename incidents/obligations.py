"""What Conitro owes, to whom, by when (GDPR art. 33(2), 33(1) on a controller's behalf or as
controller of its own data, 33(4), 34; Conitro's 24-hour promise).

For every controller an incident touches: *tell the controller*; *notify the GBA* for it when
the processing agreement lets Conitro do so (Controller.gba_on_behalf); *complete the GBA
notification* (part 2) when part 1 was filed with facts still unknown; *inform the data
subjects* of a high-risk breach when the controller asked Conitro to. Deadlines come from the
regime table (DeadlineRule). Obligations are never deleted: they are withdrawn, not required
(with the reason) or met (by whom, when, how, with the delay's reason when late).

Called by the workflow inside the incident's row lock; every change is an audit event.
"""

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from .deadlines import deadline_for, rule_delay, rule_delays
from .models import (
    Assessment,
    Controller,
    Incident,
    IncidentEvent,
    Obligation,
    RegimeRule,
    validate_not_in_future,
)
from .signals import Change, incident_saving

Kind = Obligation.Kind
Status = Obligation.Status

DBN_REFERENCE = re.compile(r"^DBN[-/._]?[A-Z0-9][A-Z0-9\-/._]{2,40}$")
EVERY_BREACH = "every_breach"
RISK_BASED = "risk_based"


def gba_policy():
    """GBA_NOTIFICATION_POLICY (settings, from the environment); anything else stops here."""
    policy = settings.GBA_NOTIFICATION_POLICY
    if policy not in {EVERY_BREACH, RISK_BASED}:
        raise ValueError(f"GBA_NOTIFICATION_POLICY must be {EVERY_BREACH} or {RISK_BASED}")
    return policy


def gba_not_required_reason(incident, controller):
    """Why Conitro does not notify the GBA for this controller (or, for its own data, as
    controller), or None when it must."""
    if not controller.gba_on_behalf and not controller.is_conitro:
        return _("The controller notifies the GBA itself (processing agreement).")
    assessment = incident.assessment_or_none()
    if (
        gba_policy() == RISK_BASED
        and assessment is not None
        and assessment.risk_level == Assessment.Risk.NONE
    ):
        return _("Unlikely to result in a risk: recorded in the register, not notified. %s") % (
            assessment.risk_reasoning
        )
    return None


def subjects_not_required_reason(incident, controller):
    assessment = incident.assessment_or_none()
    if assessment is None or assessment.risk_level != Assessment.Risk.HIGH:
        return _("No high risk assessed.")
    if not (controller.subjects_informed_by_conitro or controller.is_conitro):
        return _("The controller informs the data subjects itself.")
    return None


def sync(incident, user, now=None):
    """Make the obligations match the incident's controllers and assessment: create what is
    owed, withdraw what a removed controller no longer needs, mark as not required what the
    policy or the assessment does not ask for, and open again what it asks for once more."""
    now = now or timezone.now()
    controllers = {c.pk: c for c in incident.controllers.all()}
    everything = list(incident.obligations.select_related("controller", "rule"))
    existing = {(o.kind, o.controller_id): o for o in everything if o.round == 0}
    delays = rule_delays(Kind.TELL_CONTROLLER, Kind.NOTIFY_GBA, Kind.INFORM_SUBJECTS)

    created, changed = [], []

    def require(kind, controller, deadline, not_required):
        status = Status.NOT_REQUIRED if not_required else Status.OPEN
        obligation = existing.get((kind, controller.pk))
        if obligation is None:
            if kind == Kind.INFORM_SUBJECTS and not_required:
                return  # never owed: nothing to record
            created.append(
                Obligation(
                    incident=incident,
                    controller=controller,
                    kind=kind,
                    deadline_at=deadline,
                    status=status,
                    note=not_required or "",
                )
            )
        elif obligation.status != Status.MET and (
            obligation.status != status or (not_required or "") != obligation.note
        ):
            obligation.status, obligation.note = status, not_required or ""
            changed.append(obligation)

    # The desk's reasons are stored in one language, whoever changes the incident: another
    # reader is no change of reason. note_shown() gives them in the reader's language.
    with translation.override(settings.LANGUAGE_CODE):
        for controller in controllers.values():
            if not controller.is_conitro:  # Conitro's own data: no letter to itself
                aware_deadline = deadline_for(incident.aware_at, delays[Kind.TELL_CONTROLLER])
                require(Kind.TELL_CONTROLLER, controller, aware_deadline, None)
            gba_deadline = deadline_for(incident.aware_at, delays[Kind.NOTIFY_GBA])
            require(
                Kind.NOTIFY_GBA,
                controller,
                gba_deadline,
                gba_not_required_reason(incident, controller),
            )
            subjects_deadline = now + delays[Kind.INFORM_SUBJECTS]
            require(
                Kind.INFORM_SUBJECTS,
                controller,
                subjects_deadline,
                subjects_not_required_reason(incident, controller),
            )
        for obligation in everything:
            if (
                obligation.rule_id is None
                and obligation.controller_id not in controllers
                and obligation.status in {Status.OPEN, Status.NOT_REQUIRED}
            ):
                obligation.status = Status.WITHDRAWN
                obligation.note = _("The controller is no longer among those affected.")
                changed.append(obligation)
        regime_created, regime_changed = sync_regimes(incident, everything)
        created += regime_created
        changed += regime_changed
    Obligation.objects.bulk_create(created, batch_size=1000)
    if changed:
        Obligation.objects.bulk_update(changed, ["status", "note", "updated_at"], batch_size=1000)
    record_event(incident, user, created, changed)
    return created, changed


def sync_regimes(incident, everything):
    """The reports of the regimes switched on for the incident (NIS2 to the CCB): those owed
    from awareness exist, with the rule's deadline; a regime switched off withdraws its open
    ones. Owed by Conitro itself (its row), whatever the controllers."""
    on = set(incident.regimes.values_list("pk", flat=True))
    existing = {o.rule_id: o for o in everything if o.rule_id is not None}
    created, changed = [], []
    if not on and not existing:
        return created, changed  # the common case: the GDPR's clocks only
    rules = list(RegimeRule.objects.filter(regime__in=on, anchor=RegimeRule.Anchor.AWARE))
    conitro = Controller.conitro() if rules else None
    for rule in rules:
        obligation = existing.get(rule.pk)
        if obligation is None:
            created.append(
                Obligation(
                    incident=incident,
                    controller=conitro,
                    kind=Kind.REGIME,
                    rule=rule,
                    deadline_at=deadline_for(incident.aware_at, rule.delay),
                )
            )
        elif obligation.status == Status.WITHDRAWN:
            obligation.status, obligation.note = Status.OPEN, ""
            changed.append(obligation)
    for obligation in (o for o in everything if o.rule_id is not None):
        if obligation.rule.regime_id not in on and obligation.status == Status.OPEN:
            obligation.status = Status.WITHDRAWN
            obligation.note = _("The regime no longer applies to the incident.")
            changed.append(obligation)
    return created, changed


def report_requested(incident, user, rule, due_at):
    """The authority asked for a report (NIS2's intermediate report): owed by the time it gave,
    a new round each time it asks."""
    if rule.regime_id not in set(incident.regimes.values_list("pk", flat=True)):
        raise ValidationError(_("Its regime is off for this incident: switch it on first."))
    if rule.anchor != RegimeRule.Anchor.REQUEST:
        raise ValidationError(_("This report is owed on its own clock, not on request."))
    earlier = incident.obligations.filter(rule=rule)
    if earlier.filter(status=Status.OPEN).exists():
        raise ValidationError(_("This report is already owed: record it first."))
    last = earlier.order_by("-round").values_list("round", flat=True).first()
    obligation = Obligation(
        incident=incident,
        controller=Controller.conitro(),
        kind=Kind.REGIME,
        rule=rule,
        deadline_at=due_at,
        round=0 if last is None else last + 1,
    )
    obligation.save()
    record_event(incident, user, [obligation], [])
    return obligation


def report_made(incident, user, rule, at):
    """A regime's report was made: the reports that follow it are owed from now."""
    followers = [
        Obligation(
            incident=incident,
            controller=Controller.conitro(),
            kind=Kind.REGIME,
            rule=follower,
            deadline_at=deadline_for(at, follower.delay),
        )
        for follower in rule.followers.all()
        if not incident.obligations.filter(rule=follower).exists()
    ]
    Obligation.objects.bulk_create(followers)
    record_event(incident, user, followers, [])
    return followers


def owe_updates(incident, user, controllers=None, *, gba=True, now=None):
    """Facts changed: every controller already told is owed an update, and every GBA filing
    made a follow-up (unless part 2, which will carry the change, is still owed). One open
    round per controller: a second change before it is met goes into the same update."""
    now = now or timezone.now()
    # Withdrawn rows too: they hold round numbers (a controller taken off and named again).
    rows = incident.obligations.filter(
        kind__in=[
            Kind.TELL_CONTROLLER,
            Kind.NOTIFY_GBA,
            Kind.COMPLETE_GBA,
            Kind.UPDATE_CONTROLLER,
            Kind.GBA_FOLLOW_UP,
        ]
    )
    if controllers is not None:
        rows = rows.filter(controller__in=controllers)
    told, filed, open_, rounds = set(), set(), set(), {}
    for kind, controller, status, round_ in rows.values_list(
        "kind", "controller_id", "status", "round"
    ):
        if status == Status.MET and kind == Kind.TELL_CONTROLLER:
            told.add(controller)
        if status == Status.MET and kind == Kind.NOTIFY_GBA:
            filed.add(controller)
        if status == Status.OPEN:
            open_.add((kind, controller))
        rounds[kind, controller] = max(round_, rounds.get((kind, controller), 0))
    filed -= {c for kind, c in open_ if kind == Kind.COMPLETE_GBA}
    owed = [(Kind.UPDATE_CONTROLLER, told)] + ([(Kind.GBA_FOLLOW_UP, filed)] if gba else [])
    return owe(incident, user, owed, open_, rounds, now)


def owe_withdrawal(incident, user, now=None):
    """A breach already filed with the GBA was dismissed as none: the GBA is told so."""
    now = now or timezone.now()
    filed = set(
        incident.obligations.filter(kind=Kind.NOTIFY_GBA, status=Status.MET).values_list(
            "controller_id", flat=True
        )
    )
    return owe(incident, user, [(Kind.GBA_WITHDRAWAL, filed)], set(), {}, now)


def owe(incident, user, owed, open_, rounds, now):
    names = {}
    wanted = {c for _kind, whom in owed for c in whom}
    if wanted:
        names = Controller.objects.in_bulk(wanted)
    delays = rule_delays(*(kind for kind, _whom in owed))  # one rule per kind
    deadlines = {kind: now + delay for kind, delay in delays.items()}
    created = [
        Obligation(
            incident=incident,
            controller=names[controller],
            kind=kind,
            deadline_at=deadlines[kind],
            round=rounds.get((kind, controller), 0) + 1,
        )
        for kind, whom in owed
        for controller in sorted(whom)
        if (kind, controller) not in open_
    ]
    Obligation.objects.bulk_create(created, batch_size=1000)
    record_event(incident, user, created, [])
    return created


def record_event(incident, user, created, changed, note=""):
    if not (created or changed):
        return
    if created:
        # Escalation steps may count from the new deadlines.
        incident_saving.send(sender=Incident, incident=incident, kind=Change.OBLIGATIONS)
    IncidentEvent.objects.create(
        incident=incident,
        actor=user,
        kind=IncidentEvent.Kind.OBLIGATIONS,
        after={
            "created": summary(created),
            "changed": summary(changed),
        },
        note=note,
    )


def summary(obligations):
    """{"tell_controller:open": ["Bakkerij Van Damme BV", …], …}: compact for 5,000 rows."""
    grouped = {}
    for obligation in obligations:
        key = f"{obligation.kind}:{obligation.status}"
        who = str(obligation.rule) if obligation.rule_id else obligation.controller.name
        grouped.setdefault(key, []).append(who)
    return grouped


def move_deadlines(incident):
    """Awareness was corrected: the open obligations counted from it move with it. One update
    per kind, whatever the number of controllers (they share the deadline)."""
    now = timezone.now()
    for kind, delay in rule_delays(Kind.TELL_CONTROLLER, Kind.NOTIFY_GBA).items():
        incident.obligations.filter(kind=kind, status=Status.OPEN).update(
            deadline_at=deadline_for(incident.aware_at, delay), updated_at=now
        )


def check_time(incident, at, field):
    if at < incident.aware_at:
        raise ValidationError(
            {field: _("A notification cannot come before Conitro became aware of the breach.")}
        )
    try:
        validate_not_in_future(at)
    except ValidationError as error:
        raise ValidationError({field: error.messages}) from error


def check_late(obligations, at, delay_reason):
    late = [o for o in obligations if at > o.deadline_at]
    if late and not (delay_reason or "").strip():
        deadline = min(o.deadline_at for o in late)
        shown = timezone.localtime(deadline).strftime("%d/%m/%Y %H:%M %Z")
        raise ValidationError(
            {
                "delay_reason": _(
                    "This comes after its deadline of %(deadline)s: give the reason for the "
                    "delay (the report and the register keep it)."
                )
                % {"deadline": shown}
            }
        )


def check_named(obligations, kind, controllers):
    """Every controller named must have this obligation open: a controller not on the incident,
    or one already told, is refused by name instead of being skipped."""
    if not controllers:
        return
    owed = {obligation.controller_id for obligation in obligations}
    missing = [c for c in controllers if getattr(c, "pk", c) not in owed]  # objects or ids
    if missing:
        raise ValidationError(
            {
                "controllers": _(
                    "Nothing of this is open for %(names)s: not affected by this incident, or "
                    "already recorded. Leave them out."
                )
                % {
                    "names": ", ".join(
                        f"{c.name} ({c.pk})" if hasattr(c, "pk") else str(c) for c in missing[:10]
                    )
                }
            }
        )


def open_obligations(incident, kind, controllers=None):
    obligations = incident.obligations.select_related("controller").filter(
        kind=kind, status=Status.OPEN
    )
    if controllers:
        obligations = obligations.filter(controller__in=controllers)
    return list(obligations)


def meet(incident, user, kind, *, at=None, how="", reference="", delay_reason="", controllers=None):
    """Record that Conitro did what it owed (for these controllers, or every one still open).
    Returns the obligations met."""
    at = at or timezone.now()
    delay_reason = (delay_reason or "").strip()
    how = (how or "").strip()
    reference = (reference or "").strip().upper()
    check_texts(how=how, reference=reference, delay_reason=delay_reason)
    # The workflow refuses a recording with nothing open (TransitionRefused, with
    # nothing_open_message) before it gets here.
    obligations = open_obligations(incident, kind, controllers)
    check_named(obligations, kind, controllers)
    if kind == Kind.NOTIFY_GBA and not DBN_REFERENCE.match(reference):
        raise ValidationError(
            {
                "reference": _(
                    "The GBA's reference starts with DBN, as shown after submitting "
                    "part 1 in the GBA portal (you entered %(value)s)."
                )
                % {"value": reference or _("nothing")}
            }
        )
    if kind == Kind.NOTIFY_GBA:
        check_reference_unused(incident, obligations, reference)
    if kind != Kind.NOTIFY_GBA and reference and not DBN_REFERENCE.match(reference):
        raise ValidationError(
            {
                "reference": _("The GBA's reference starts with DBN (you entered %(value)s).")
                % {"value": reference}
            }
        )
    if kind in {Kind.TELL_CONTROLLER, Kind.INFORM_SUBJECTS, Kind.UPDATE_CONTROLLER} and not how:
        raise ValidationError({"how": _("Say how it was done (e-mail, phone, letter).")})
    check_time(incident, at, "submitted_at" if "gba" in kind else "notified_at")
    check_late(obligations, at, delay_reason)
    # Part 2, a follow-up or a withdrawal continues the filing it follows: its DBN by default
    # (one query for 5,000 controllers).
    filed_references = (
        filed_reference_of(incident, [o.controller_id for o in obligations])
        if kind in {Kind.COMPLETE_GBA, Kind.GBA_FOLLOW_UP, Kind.GBA_WITHDRAWAL}
        else {}
    )
    for obligation in obligations:
        obligation.status = Status.MET
        obligation.met_at = at
        obligation.met_by = user
        obligation.how = how
        obligation.reference = reference or filed_references.get(obligation.controller_id, "")
        obligation.delay_reason = delay_reason if at > obligation.deadline_at else ""
    Obligation.objects.bulk_update(
        obligations,
        ["status", "met_at", "met_by", "how", "reference", "delay_reason", "updated_at"],
        batch_size=1000,
    )
    if kind == Kind.NOTIFY_GBA:
        # What was met is in the workflow's "recorded" event; a part 2 owed is new.
        record_event(incident, user, part_two_owed(incident, obligations, at), [])
    return obligations


def check_texts(**typed):
    """What a person typed for a recording, checked against the obligation's own limits
    (characters, lines) before anything is written."""
    errors = {}
    for name, value in typed.items():
        try:
            Obligation._meta.get_field(name).clean(value, None)
        except ValidationError as error:
            errors[name] = error.messages
    if errors:
        raise ValidationError(errors)


def check_reference_unused(incident, obligations, reference):
    """A DBN reference belongs to one filing: one controller's, or the combined notification
    of one incident (Incident.gba_combined) for all its controllers."""
    if len(obligations) > 1 and not incident.gba_combined:
        raise ValidationError(
            {
                "reference": _(
                    "%(reference)s would be one filing for %(count)s controllers, but this "
                    "incident's notification is not combined: record each controller's own "
                    "reference, or make the notification combined first."
                )
                % {"reference": reference, "count": len(obligations)}
            }
        )
    used = (
        Obligation.objects.filter(kind=Kind.NOTIFY_GBA, status=Status.MET, reference=reference)
        .exclude(pk__in=[o.pk for o in obligations])
        .select_related("incident", "controller")
    )
    if incident.gba_combined:
        used = used.exclude(incident=incident)
    other = used.first()
    if other is not None:
        raise ValidationError(
            {
                "reference": _(
                    "%(reference)s is already the reference of the filing for %(controller)s "
                    "(%(incident)s): each filing has its own."
                )
                % {
                    "reference": reference,
                    "controller": other.controller.name,
                    "incident": other.incident.reference,
                }
            }
        )


def part_two_owed(incident, filed, at):
    """Part 1 filed while facts were still unknown: part 2 is owed within 21 days."""
    assessment = incident.assessment_or_none()
    if assessment is not None and not assessment.unknowns() and not assessment.missing_items():
        return []
    deadline = at + rule_delay(Kind.COMPLETE_GBA)
    created = [
        Obligation(
            incident=incident,
            controller=o.controller,
            kind=Kind.COMPLETE_GBA,
            deadline_at=deadline,
        )
        for o in filed
    ]
    return Obligation.objects.bulk_create(created, batch_size=1000, ignore_conflicts=True)


def filed_reference_of(incident, controller_ids):
    """controller id -> the DBN reference of its part 1 (what follows is owed only after it)."""
    return dict(
        incident.obligations.filter(
            kind=Kind.NOTIFY_GBA, controller_id__in=controller_ids
        ).values_list("controller_id", "reference")
    )


def nothing_open_message(incident, kind):
    if not incident.controllers.exists():
        return _("Name the affected controllers first: obligations are per controller.")
    return {
        Kind.TELL_CONTROLLER: _("Every affected controller has been told already."),
        Kind.NOTIFY_GBA: _(
            "No GBA notification is owed now: each one is filed, not required, or the "
            "controller notifies the GBA itself."
        ),
        Kind.COMPLETE_GBA: _(
            "No GBA notification waits to be completed: part 2 is owed only after a part 1 "
            "filed with facts still unknown."
        ),
        Kind.INFORM_SUBJECTS: _(
            "Conitro does not owe the data subjects a communication for this incident."
        ),
        Kind.UPDATE_CONTROLLER: _(
            "No controller waits for an update: one is owed when the facts change after the "
            "controller was told."
        ),
        Kind.GBA_FOLLOW_UP: _(
            "No follow-up to the GBA is owed: one is owed when the facts change after a filing."
        ),
        Kind.GBA_WITHDRAWAL: _(
            "No withdrawal is owed: only a breach filed with the GBA and then dismissed needs one."
        ),
    }[kind]


def note_shown(obligation):
    """Why an obligation is not required or withdrawn, in the reader's language. The desk's
    own reasons are stored in the language of whoever changed the incident, so they are worked
    out again here (sync keeps the stored note in step with them); a person's words (the reason
    an incident was dismissed) are shown as written."""
    incident, note = obligation.incident, obligation.note
    if not note:
        return note
    if incident.dismissal_reason:
        with translation.override(settings.LANGUAGE_CODE):
            dismissed = note == dismissal_note(incident)
        if dismissed:
            return dismissal_note(incident)
    if obligation.status == Status.WITHDRAWN:
        return _("The controller is no longer among those affected.")
    reasons = {
        Kind.NOTIFY_GBA: gba_not_required_reason,
        Kind.INFORM_SUBJECTS: subjects_not_required_reason,
    }
    if obligation.status == Status.NOT_REQUIRED and obligation.kind in reasons:
        # The decision as it was taken: said in the reader's language while today's rules
        # give the same reason; otherwise (the policy changed since) the reason stored then.
        reason = reasons[obligation.kind]
        with translation.override(settings.LANGUAGE_CODE):
            same = reason(incident, obligation.controller) == note
        return reason(incident, obligation.controller) if same else note
    return note


def dismissal_note(incident):
    return _("Dismissed: %(reason)s") % {"reason": incident.dismissal_reason}


def withdraw_all(incident, user):
    """The incident was dismissed: what was still open is not required."""
    open_ = list(incident.obligations.select_related("controller").filter(status=Status.OPEN))
    with translation.override(settings.LANGUAGE_CODE):
        note = dismissal_note(incident)
    for obligation in open_:
        obligation.status = Status.NOT_REQUIRED
        obligation.note = note
    Obligation.objects.bulk_update(open_, ["status", "note", "updated_at"], batch_size=1000)
    record_event(incident, user, [], open_)


def controller_deadline(told_at):
    """When the controller's own 72 hours (art. 33(1)) end, counted from when it was told."""
    return told_at + rule_delay(Kind.CONTROLLER_GBA) if told_at else None
