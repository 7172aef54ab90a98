"""Everything that changes an incident goes through here, for the web pages and the API alike.

Each function takes the incident's row lock (select_for_update) inside one transaction, checks
the version the person was looking at, runs the change, bumps the version and appends the
audit events. So two people acting at once cannot both win: the second one waits for the lock,
then finds the incident changed and is told so, and nothing is lost.
"""

import re
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_fsm import can_proceed

from incident_manager import languages

from . import obligations
from .deadlines import promise_deadline
from .models import (
    TRANSITION_PERMISSIONS,
    AffectedController,
    Assessment,
    Incident,
    IncidentEvent,
    Obligation,
    ReferenceCounter,
    RegimeRule,
    State,
    Submission,
)
from .signals import Change, incident_changed, incident_saving

FACT_FIELDS = [
    "title",
    "description",
    "aware_at",
    "told_by",
    "occurred_at",
    "ended_at",
    "discovered_how",
    "text_language",
    "gba_combined",
    "gba_delay_reason",
]
# A change to these after a controller was told, or the GBA notified, is owed to them.
REPORTED_FACTS = {"description", "aware_at", "occurred_at", "ended_at", "discovered_how"}
TRANSITION_FIELDS = ["dismissal_reason"]


class TransitionRefused(Exception):
    """The action is not possible from the incident's current state."""

    def __init__(self, incident, action, reason=None):
        self.incident = incident
        self.action = action
        super().__init__(
            reason
            or _("%(reference)s is %(state)s: it cannot be %(action)s from that state.")
            % {
                "reference": incident.reference,
                "state": incident.get_state_display(),
                "action": ACTION_LABELS.get(action, action),
            }
        )


class IncidentChanged(Exception):
    """The incident changed since the person loaded it: by someone else, or by themselves
    (a second tab, the back button and a resend)."""

    def __init__(self, incident):
        self.incident = incident
        # Every incident has at least the event of its creation.
        last = incident.events.select_related("actor").order_by("-at", "-id").first()
        self.changed_by, self.changed_at = last.actor, last.at
        super().__init__(self.message_for(None))

    def message_for(self, user):
        values = {
            "reference": self.incident.reference,
            "state": self.incident.get_state_display(),
            "time": timezone.localtime(self.changed_at).strftime("%H:%M %Z"),
        }
        if user is not None and self.changed_by is not None and self.changed_by.pk == user.pk:
            return (
                _(
                    "You already saved a change to %(reference)s at %(time)s (it is now "
                    "%(state)s); this page was older than that. Nothing more was saved: check "
                    "the incident as it is now."
                )
                % values
            )
        return (
            _(
                "%(reference)s was changed by someone else while you were working on it "
                "(it is now %(state)s). Your change was not saved: reload, check, and try again."
            )
            % values
        )


ACTION_LABELS = {
    "change": gettext_lazy("changed"),
    "assess": gettext_lazy("assessed"),
    "notify_gba": gettext_lazy("recorded as notified to the GBA"),
    "complete_gba": gettext_lazy("recorded as completed with the GBA"),
    "notify_controller": gettext_lazy("recorded as notified to the controllers"),
    "inform_subjects": gettext_lazy("recorded as communicated to the data subjects"),
    "update_controller": gettext_lazy("recorded as updated to the controllers"),
    "gba_follow_up": gettext_lazy("recorded as followed up with the GBA"),
    "gba_withdrawal": gettext_lazy("recorded as withdrawn with the GBA"),
    "close": gettext_lazy("closed"),
    "dismiss": gettext_lazy("dismissed"),
}


def as_json(value):
    """A value as the audit trail stores it."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, Decimal | timedelta):
        return str(value)
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, list | tuple | set):
        return sorted(as_json(item) for item in value)
    return value


def next_reference(year):
    """INC-YYYY-NNNN. The counter is raised in one UPDATE, whose row lock (held until the
    incident's transaction ends) makes two creations at once take turns; a year's first
    incident makes its row."""
    counter = ReferenceCounter.objects.filter(year=year)
    if not counter.update(last=models.F("last") + 1):
        ReferenceCounter.objects.get_or_create(year=year)
        counter.update(last=models.F("last") + 1)
    return f"INC-{year}-{counter.values_list('last', flat=True).get():04d}"


def with_activities(controllers, activities):
    """The controllers named, and every controller of these processing activities (a breach
    of a shared platform touches all its clients)."""
    from .models import Controller

    chosen = {c.pk: c for c in controllers or ()}
    if activities:
        for controller in Controller.objects.filter(activities__in=activities).distinct():
            chosen.setdefault(controller.pk, controller)
        if any(activity.conitro_own for activity in activities):  # Conitro's own data
            conitro = Controller.conitro()
            chosen.setdefault(conitro.pk, conitro)
    return list(chosen.values())


def with_own(controllers, own):
    """The client controllers named, and Conitro itself when its own data is affected (own
    None: as it was)."""
    from .models import Controller

    clients = [c for c in controllers if not c.is_conitro]
    if own is None:
        own = len(clients) < len(controllers)
    return clients + ([Controller.conitro()] if own else [])


def named_controllers(incident):
    """{"controllers": the clients named, "conitro_is_controller": whether Conitro's own data
    is}: what the forms show and merge (Conitro itself is a tick, not a name in the picker)."""
    named = list(incident.controllers.only("pk", "is_conitro"))
    return {
        "controllers": [c for c in named if not c.is_conitro],
        "conitro_is_controller": any(c.is_conitro for c in named),
    }


def log_incident(
    user,
    *,
    title,
    description,
    aware_at=None,
    occurred_at=None,
    controllers=(),
    activities=(),
    conitro_is_controller=False,
    submission="",
    fingerprint="",
    **facts,
):
    """Log an incident; the controllers it touches, when already known, get their obligations
    at once (they can be named later, in the assessment). activities: every controller of
    these processing activities is touched; conitro_is_controller: Conitro's own data is
    (Conitro itself among the controllers).

    submission: the form's one-time token or the API's Idempotency-Key. The same one again
    (a double-click, a resubmit, a retried request) gives the incident it logged the first
    time, marked `repeated`, and logs nothing; two at once log one (a unique key).
    fingerprint: what was sent with it; the same key with something else is refused
    (SubmissionReused)."""
    controllers = with_activities(with_own(list(controllers), conitro_is_controller), activities)
    if not user.has_perm("incidents.add_incident"):
        raise PermissionDenied(_("Your role may not log incidents."))
    now = timezone.now()
    if submission:
        Submission.objects.filter(created_at__lt=now - settings.SUBMISSION_KEPT).delete()
        earlier = Submission.objects.filter(user=user, key=submission).first()
        if earlier is not None:
            return repeated(earlier, fingerprint)
        sent = (submission, fingerprint)
        try:
            return _log(
                user, title, description, aware_at, occurred_at, controllers, facts, now, sent
            )
        except IntegrityError:
            # The same submission, at the same moment, committed first: it is that incident.
            earlier = Submission.objects.filter(user=user, key=submission).first()
            if earlier is None:
                raise
            return repeated(earlier, fingerprint)
    return _log(user, title, description, aware_at, occurred_at, controllers, facts, now, None)


class SubmissionReused(Exception):
    """An Idempotency-Key sent again with another body (IETF draft: 422)."""

    def __init__(self, incident):
        self.incident = incident
        super().__init__(
            _(
                "This Idempotency-Key was used for %(reference)s with another body: use a new "
                "key for a new incident, or send the same body to get %(reference)s again."
            )
            % {"reference": incident.reference}
        )


def repeated(submission, fingerprint=""):
    if submission.fingerprint and fingerprint and submission.fingerprint != fingerprint:
        raise SubmissionReused(submission.incident)
    incident = Incident.objects.get(pk=submission.incident_id)
    incident.repeated = True
    return incident


def _log(user, title, description, aware_at, occurred_at, controllers, facts, now, submission):
    facts["text_language"] = facts.get("text_language") or getattr(user, "language", "") or "nl"
    incident = Incident(
        title=title,
        description=description,
        aware_at=aware_at or now,
        occurred_at=occurred_at,
        created_by=user,
        **facts,
    )
    incident.full_clean(exclude=["reference", "deadline_at", "state"])
    with transaction.atomic():
        incident.reference = next_reference(timezone.localtime(now).year)
        incident.save()
        after = {field: as_json(getattr(incident, field)) for field in FACT_FIELDS}
        if controllers:
            incident.controllers.set(controllers)
            after["controllers"] = as_json(list(controllers))
        IncidentEvent.objects.create(
            incident=incident,
            actor=user,
            kind=IncidentEvent.Kind.CREATED,
            to_state=incident.state,
            after=after,
        )
        obligations.sync(incident, user, now)
        if submission:
            key, fingerprint = submission
            Submission.objects.create(
                user=user, key=key, fingerprint=fingerprint, incident=incident
            )
        announce(incident, Change.CREATED)
    incident.repeated = False
    return incident


def similar_to(incident, within=timedelta(hours=2)):
    """Open incidents logged shortly before this one that look like the same breach: the
    same title, or logged by the same person minutes earlier. A hint, never a refusal. (A
    merged duplicate is dismissed, so never open.)"""
    recent = (
        Incident.objects.open()
        .filter(created_at__gte=incident.created_at - within)
        .exclude(pk=incident.pk)
        .filter(created_at__lte=incident.created_at)
    )
    same_title = list(recent.filter(title__iexact=incident.title.strip()).order_by("-created_at"))
    # Logged by the same person minutes earlier is a hint only when it also looks alike (a
    # SIEM logs many different breaches a minute): most of the title's words, or a controller.
    words = title_words(incident.title)
    # A controller in common, asked of the database: a platform breach names thousands. As a
    # join, each side found by index (an IN list of 5,000 was built again for each candidate).
    shares_a_controller = models.Exists(
        AffectedController.objects.filter(
            incident=models.OuterRef("pk"), controller__affected__incident=incident
        )
    )
    nearby = recent.filter(
        created_by=incident.created_by_id,
        created_at__gte=incident.created_at - timedelta(minutes=10),
    ).annotate(shares_a_controller=shares_a_controller)
    alike = [
        other
        for other in nearby.order_by("-created_at")[:50]
        if other not in same_title
        and (
            len(words & title_words(other.title)) * 2 >= max(len(words), 1)
            or other.shares_a_controller
        )
    ]
    return (same_title + alike)[:3]


def title_words(title):
    """The words of a title that say something (four letters or more), in lower case."""
    return {word for word in re.findall(r"\w+", (title or "").lower()) if len(word) >= 4}


def merge(duplicate_id, user, original_reference, expected_version=None):
    """A duplicate is merged into its original: it is dismissed as a duplicate (its audit
    trail, alerts and obligations stay, withdrawn), the register counts only the original,
    and the original's timeline says which incident was merged into it."""
    original = Incident.objects.filter(reference=(original_reference or "").strip().upper()).first()
    if original is None:
        raise ValidationError(
            {
                "original": _("No incident has the reference %(reference)s.")
                % {"reference": original_reference}
            }
        )
    if original.pk == duplicate_id or original.duplicate_of_id:
        raise ValidationError(
            {
                "original": _(
                    "Merge into the original incident, not into itself or another duplicate."
                )
            }
        )
    if original.state == State.DISMISSED:
        # Dismissed as no breach: merging into it would file a possible breach away unseen.
        raise ValidationError(
            {
                "original": _(
                    "%(reference)s was dismissed (%(reason)s): merge into an incident that is "
                    "a breach, or assess this one on its own."
                )
                % {"reference": original.reference, "reason": original.dismissal_reason}
            }
        )
    reason = _("Duplicate of %(reference)s.") % {"reference": original.reference}
    with transaction.atomic():
        incident = transition(duplicate_id, user, "dismiss", expected_version, reason=reason)
        Incident.objects.filter(pk=incident.pk).update(duplicate_of=original)
        IncidentEvent.objects.create(
            incident=original,
            actor=user,
            kind=IncidentEvent.Kind.MERGED,
            after={"duplicate": incident.reference},
        )
    incident.duplicate_of = original
    return incident


def announce(incident, kind):
    """Tell the rest of the product: now, inside the transaction (incident_saving), and once
    the change is committed (incident_changed; never for a rollback). A failure after the
    commit is logged, never turned into an error for a change that is saved."""
    if kind in {Change.CREATED, Change.AWARE_AT_CORRECTED}:
        incident_saving.send(sender=Incident, incident=incident, kind=kind)
    transaction.on_commit(
        lambda: incident_changed.send(sender=Incident, incident=incident, kind=kind), robust=True
    )


def parse_version(value):
    """The incident version a person saw: a whole number, as the page or the API gave it."""
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 10:
        return int(value)
    raise ValidationError(
        {"version": _("The version is the whole number the incident page or the API gave you.")}
    )


@contextmanager
def locked(incident_id, expected_version):
    expected_version = parse_version(expected_version)
    with transaction.atomic():
        incident = Incident.objects.select_for_update().get(pk=incident_id)
        if expected_version is not None and expected_version != incident.version:
            raise IncidentChanged(incident)
        yield incident
        incident.version += 1
        incident.save()


def update_facts(incident_id, user, changes, expected_version=None):
    """Change title, description or times. Correcting aware_at moves the deadline."""
    if not user.has_perm("incidents.change_incident"):
        raise PermissionDenied(_("Your role may not change incidents."))
    changes = dict(changes)
    controllers = changes.pop("controllers", None)
    regimes = changes.pop("regimes", None)
    unknown = set(changes) - set(FACT_FIELDS)
    if unknown:
        raise ValidationError({field: _("This field cannot be changed.") for field in unknown})
    with locked(incident_id, expected_version) as incident:
        if not incident.is_open:
            raise TransitionRefused(incident, "change")
        before = {field: getattr(incident, field) for field in changes}
        old_deadline = incident.deadline_at
        for field, value in changes.items():
            setattr(incident, field, value)
        incident.full_clean(exclude=[f for f in _all_fields(incident) if f not in changes])
        changed = [field for field in changes if before[field] != changes[field]]
        for field in changed:
            event = {
                "incident": incident,
                "actor": user,
                "kind": IncidentEvent.Kind.CHANGED,
                "field": field,
                "before": as_json(before[field]),
                "after": as_json(changes[field]),
            }
            if field == "aware_at":
                incident.deadline_at = promise_deadline(incident.aware_at)
                obligations.move_deadlines(incident)
                announce(incident, Change.AWARE_AT_CORRECTED)
                event["kind"] = IncidentEvent.Kind.AWARE_AT_CORRECTED
                event["before"] = {
                    "aware_at": as_json(before[field]),
                    "deadline_at": as_json(old_deadline),
                }
                event["after"] = {
                    "aware_at": as_json(changes[field]),
                    "deadline_at": as_json(incident.deadline_at),
                }
            IncidentEvent.objects.create(**event)
        retire_translations(incident, user, incident, changed, incident.translations)
        if set(changed) & REPORTED_FACTS:
            obligations.owe_updates(incident, user)
        if controllers is not None:
            set_controllers(incident, user, controllers)
        if regimes is not None:
            set_regimes(incident, user, regimes)
    return incident


def set_regimes(incident, user, regimes):
    """Switch regimes on or off for the incident (NIS2 once it is significant): their reports
    are owed, or their open ones withdrawn."""
    before = sorted(str(regime) for regime in incident.regimes.all())
    incident.regimes.set(regimes)
    after = sorted(str(regime) for regime in incident.regimes.all())
    if record_change(incident, user, "regimes", before, after):
        obligations.sync(incident, user)


def record_change(incident, user, field, before, after):
    """An audit event for a changed list (controllers, regimes); whether it changed."""
    if before == after:
        return False
    IncidentEvent.objects.create(
        incident=incident,
        actor=user,
        kind=IncidentEvent.Kind.CHANGED,
        field=field,
        before=before,
        after=after,
    )
    return True


def retire_translations(incident, user, instance, changed, earlier):
    """Translations of texts whose original changed are out of date: taken out of the
    documents (fact_texts.retire_stale), kept in the audit trail."""
    from . import fact_texts

    retired = fact_texts.retire_stale(instance, changed, earlier)
    if not retired:
        return
    type(instance).objects.filter(pk=instance.pk).update(translations=instance.translations)
    IncidentEvent.objects.create(
        incident=incident,
        actor=user,
        kind=IncidentEvent.Kind.CHANGED,
        field="translations.stale",
        before=retired,
        after={},
    )


def set_controllers(incident, user, controllers):
    """The controllers the incident touches changed: their obligations follow."""
    before = as_json(list(incident.controllers.all()))
    incident.controllers.set(controllers)
    record_change(incident, user, "controllers", before, as_json(list(controllers)))
    obligations.sync(incident, user)
    summarise(incident, user)


def affected_snapshot(affected):
    """One controller's own facts as the audit trail and the documents' hash keep them."""
    return {
        name: as_json(list(getattr(affected, name).all()))
        if affected._meta.get_field(name).many_to_many
        else getattr(affected, name)
        for name in AffectedController.FACTS
    }


def check_share(incident, values):
    """A controller's share is part of the platform's figure, never more than it."""
    assessment = incident.assessment_or_none()
    errors = {}
    for field in ("subjects_count", "records_count"):
        total = getattr(assessment, field, None)
        value = values.get(field)
        if value is not None and total is not None and value > total:
            errors[field] = _(
                "More than the platform's total of %(total)s in the assessment: a controller's "
                "share is part of it. Correct the total first if it grew."
            ) % {"total": total}
    if errors:
        raise ValidationError(errors)


def update_affected(incident_id, user, controller_id, values, expected_version=None):
    """Give one controller's own share of the facts (counts, categories, purpose). A value
    left out stays as it was; an empty one means "not split yet" (the platform's)."""
    check_permission(user, "assess")
    unknown = set(values) - set(AffectedController.FACTS)
    if unknown:
        raise ValidationError({field: _("This field cannot be changed.") for field in unknown})
    with locked(incident_id, expected_version) as incident:
        if not incident.is_open:
            raise TransitionRefused(incident, "change")
        affected = AffectedController.objects.select_related("controller").get(
            incident=incident, controller_id=controller_id
        )
        before = affected_snapshot(affected)
        plain = {k: v for k, v in values.items() if not affected._meta.get_field(k).many_to_many}
        for field, value in plain.items():
            setattr(affected, field, value)
        affected.full_clean(exclude=["incident", "controller"])
        check_share(incident, plain)
        affected.save()
        for name, items in values.items():
            if name not in plain:
                getattr(affected, name).set(items)
        after = affected_snapshot(affected)
        changes = {k: v for k, v in after.items() if before[k] != v}
        if changes:
            IncidentEvent.objects.create(
                incident=incident,
                actor=user,
                kind=IncidentEvent.Kind.CHANGED,
                field="affected_controller",
                before={"controller": affected.controller.name, **{k: before[k] for k in changes}},
                after={
                    "controller": affected.controller.name,
                    "controller_id": affected.controller_id,
                    **changes,
                },
            )
            obligations.owe_updates(incident, user, [affected.controller_id])
    return affected


def translate(incident_id, user, language, values, expected_version=None):
    """Give the free texts in another language (incidents/fact_texts.py): the documents in
    that language print them instead of the original. An empty value removes one."""
    from . import fact_texts

    if not user.has_perm("incidents.change_incident"):
        raise PermissionDenied(_("Your role may not change incidents."))
    if language not in languages.CODES:
        raise ValidationError({"language": _("Texts are given in nl, fr or en.")})
    with locked(incident_id, expected_version) as incident:
        if not incident.is_open:
            raise TransitionRefused(incident, "change")
        for instance, fields in [
            (incident, fact_texts.INCIDENT_TEXTS),
            (incident.assessment_or_none(), fact_texts.ASSESSMENT_TEXTS),
        ]:
            if instance is None:
                continue
            given = {f: (values.get(f) or "").strip() for f in fields if f in values}
            errors = {}
            for field, value in given.items():
                try:
                    instance._meta.get_field(field).run_validators(value)
                except ValidationError as error:
                    errors[field] = error.messages
            if errors:
                raise ValidationError(errors)
            before = dict((instance.translations or {}).get(language, {}))
            after = {k: v for k, v in {**before, **given}.items() if v}
            if after == before:
                continue
            instance.translations = {**(instance.translations or {}), language: after}
            type(instance).objects.filter(pk=instance.pk).update(translations=instance.translations)
            IncidentEvent.objects.create(
                incident=incident,
                actor=user,
                kind=IncidentEvent.Kind.CHANGED,
                field=f"translations.{language}",
                before=before,
                after=after,
            )
    return incident


def _all_fields(instance):
    return [field.name for field in instance._meta.fields]


def assessment_snapshot(assessment):
    if assessment is None or assessment.pk is None:
        return {}
    snapshot = {
        field.name: as_json(getattr(assessment, field.name))
        for field in Assessment._meta.fields
        if field.name not in {"id", "incident", "assessed_by", "assessed_at"}
    }
    for name in ["data_categories", "subject_categories", "processing_activities"]:
        snapshot[name] = as_json(list(getattr(assessment, name).all()))
    snapshot["controllers"] = as_json(list(assessment.incident.controllers.all()))
    return snapshot


def assess(incident_id, user, values, relations, expected_version=None):
    """Save the assessment (values: plain fields; relations: the many-to-many lists) and move
    the incident to `assessed`; while it is assessed, this updates the assessment."""
    check_permission(user, "assess")
    relations = dict(relations)
    activities = relations.pop("all_controllers_of", None)
    own = relations.pop("conitro_is_controller", None)
    with locked(incident_id, expected_version) as incident:
        _check_state(incident, "assess")
        if own is not None or activities:
            named = relations.get("controllers")
            if named is None:
                named = list(incident.controllers.all())
            relations["controllers"] = with_own(named, own)
            if activities:
                relations["controllers"] = with_activities(relations["controllers"], activities)
        assessment = incident.assessment_or_none() or Assessment(incident=incident)
        before = assessment_snapshot(assessment)
        for field, value in values.items():
            setattr(assessment, field, value)
        assessment.assessed_by = user
        assessment.full_clean(exclude=["incident", "assessed_by"])
        assessment.save()
        for name, items in relations.items():
            target = incident if name == "controllers" else assessment
            getattr(target, name).set(items)
        # As stored, not as typed: 0.5 and 0.50 are one ENISA value, not a change.
        assessment.refresh_from_db()
        after = assessment_snapshot(assessment)
        changes = {k: v for k, v in after.items() if before.get(k) != v}
        _run_transition(incident, user, "assess", {})
        if changes:
            IncidentEvent.objects.create(
                incident=incident,
                actor=user,
                kind=IncidentEvent.Kind.ASSESSED,
                before={k: before.get(k) for k in changes},
                after=changes,
            )
        retire_translations(incident, user, assessment, list(changes), before.get("translations"))
        if set(changes) - {"controllers", "translations"}:
            obligations.owe_updates(incident, user)
        obligations.sync(incident, user)
        summarise(incident, user)
    return incident


# What a person records, and the obligation it meets.
ACTION_KINDS = {
    "notify_gba": Obligation.Kind.NOTIFY_GBA,
    "complete_gba": Obligation.Kind.COMPLETE_GBA,
    "notify_controller": Obligation.Kind.TELL_CONTROLLER,
    "inform_subjects": Obligation.Kind.INFORM_SUBJECTS,
    "update_controller": Obligation.Kind.UPDATE_CONTROLLER,
    "gba_follow_up": Obligation.Kind.GBA_FOLLOW_UP,
    "gba_withdrawal": Obligation.Kind.GBA_WITHDRAWAL,
}
# What is still owed once a breach is dismissed: telling the GBA and the controllers told.
AFTER_DISMISSAL = {"gba_withdrawal", "update_controller"}


def transition(incident_id, user, action, expected_version=None, **arguments):
    """Record a notification (notify_gba, complete_gba, notify_controller, inform_subjects:
    it meets obligations, and the state follows), or close or dismiss the incident."""
    if action not in TRANSITION_PERMISSIONS or action == "assess":
        raise ValueError(f"unknown action {action!r}")
    check_permission(user, action)
    with locked(incident_id, expected_version) as incident:
        if action in ACTION_KINDS:
            if not (incident.is_open or action in AFTER_DISMISSAL):
                raise TransitionRefused(incident, action)
            record(incident, user, action, **arguments)
        else:
            _check_state(incident, action)
            _run_transition(incident, user, action, arguments)
            if action == "dismiss":
                obligations.withdraw_all(incident, user)
                obligations.owe_withdrawal(incident, user)
                obligations.owe_updates(incident, user, gba=False)
    return incident


def record(
    incident,
    user,
    action,
    *,
    reference="",
    submitted_at=None,
    notified_at=None,
    how="",
    delay_reason="",
    controllers=None,
):
    kind = ACTION_KINDS[action]
    if not action_possible(incident, action):
        raise TransitionRefused(
            incident,
            action,
            _("%(reference)s is %(state)s. %(reason)s")
            % {
                "reference": incident.reference,
                "state": incident.get_state_display(),
                "reason": obligations.nothing_open_message(incident, kind),
            },
        )
    if kind == Obligation.Kind.NOTIFY_GBA:
        # Given on the incident before the filing (it is printed on the notification).
        delay_reason = (delay_reason or "").strip() or incident.gba_delay_reason
    entered = {"reference": reference, "how": how, "delay_reason": delay_reason}
    at = submitted_at or notified_at
    met = obligations.meet(
        incident,
        user,
        kind,
        at=at,
        how=how,
        reference=reference,
        delay_reason=delay_reason,
        controllers=controllers,
    )
    if not any(o.delay_reason for o in met):
        entered.pop("delay_reason")  # in time: no delay, so no reason for one
    if kind == Obligation.Kind.NOTIFY_GBA:
        # The letter promised the DBN: the controllers told before the filing are owed it.
        obligations.owe_updates(incident, user, [o.controller_id for o in met], gba=False)
    IncidentEvent.objects.create(
        incident=incident,
        actor=user,
        kind=IncidentEvent.Kind.RECORDED,
        field=action,
        after={
            **{k: as_json(v) for k, v in entered.items() if v not in (None, "")},
            **({"at": as_json(at)} if at else {}),
            "controllers": sorted(o.controller.name for o in met),
        },
    )
    summarise(incident, user)
    return met


def report_under_regime(
    incident_id, user, rule_id, expected_version=None, *, at=None, reference="", how="",
    delay_reason="",
):  # fmt: skip
    """A report another regime asks for was made (NIS2's early warning to the CCB, say): it
    meets that obligation, and the reports that follow it are owed from then (the final report
    a month after the notification)."""
    if not user.has_perm("incidents.notify_incident"):
        raise PermissionDenied(
            _("Your role may not do this: reports are recorded by managers and the DPO.")
        )
    with locked(incident_id, expected_version) as incident:
        if not incident.is_open:
            raise TransitionRefused(incident, "report")
        obligation = (
            incident.obligations.select_related("rule")
            .filter(rule_id=rule_id, status=Obligation.Status.OPEN)
            .first()
        )
        if obligation is None:
            raise ValidationError(
                _("This report is not owed now: it was recorded already, or its regime is off.")
            )
        at = at or timezone.now()
        delay_reason = (delay_reason or "").strip()
        obligations.check_time(incident, at, "notified_at")
        obligations.check_late([obligation], at, delay_reason)
        obligation.status, obligation.met_at, obligation.met_by = (
            Obligation.Status.MET,
            at,
            user,
        )
        obligation.reference = (reference or "").strip()[:44]
        obligation.how = (how or "").strip()[:200]
        obligation.delay_reason = delay_reason if at > obligation.deadline_at else ""
        obligation.full_clean(exclude=["incident", "controller", "met_by", "rule"])
        obligation.save()
        IncidentEvent.objects.create(
            incident=incident,
            actor=user,
            kind=IncidentEvent.Kind.RECORDED,
            field=Obligation.Kind.REGIME,
            after={
                "controllers": [str(obligation.rule)],
                "at": as_json(at),
                **{
                    name: value
                    for name, value in (
                        ("reference", obligation.reference),
                        ("how", obligation.how),
                        ("delay_reason", obligation.delay_reason),
                    )
                    if value
                },
            },
        )
        obligations.report_made(incident, user, obligation.rule, at)
    return incident


def request_regime_report(incident_id, user, rule_id, due_at, expected_version=None):
    """The authority asked for a report (NIS2's intermediate report to the CCB): it is owed by
    the time it gave, paged and recorded like the others."""
    if not user.has_perm("incidents.notify_incident"):
        raise PermissionDenied(
            _("Your role may not do this: reports are recorded by managers and the DPO.")
        )
    with locked(incident_id, expected_version) as incident:
        if not incident.is_open:
            raise TransitionRefused(incident, "report")
        if due_at is None or due_at <= timezone.now():
            raise ValidationError({"due_at": _("Give the time it is due by, in the future.")})
        rule = RegimeRule.objects.filter(pk=rule_id).first()
        if rule is None:
            raise ValidationError(_("No such report."))
        obligations.report_requested(incident, user, rule, due_at)
    return incident


def reopen_obligation(incident_id, obligation_id, reason):
    """What was counted as done turned out not to be (a letter bounced): open it again, with
    the reason, and let the state follow. A closed or dismissed incident is left as it is."""
    with locked(incident_id, None) as incident:
        obligation = incident.obligations.select_related("controller").get(pk=obligation_id)
        if not incident.is_open or obligation.status != Obligation.Status.MET:
            return None
        obligation.status = Obligation.Status.OPEN
        obligation.met_at = obligation.met_by = None
        obligation.how = ""
        obligation.note = reason
        obligation.save()
        obligations.record_event(incident, None, [], [obligation], note=reason)
        summarise(incident, None)
    return obligation


def summarise(incident, user):
    """Move the state to what the obligations say: gba_notified once every GBA notification
    owed is filed, controller_notified once every controller is told as well (in whatever
    order they happened), back to assessed when a new obligation opened."""
    moves = []
    if incident.state == State.GBA_NOTIFIED and not incident.gba_settled():
        moves.append("reopen")
    if incident.state == State.CONTROLLER_NOTIFIED and not incident.notifications_settled():
        moves.append("reopen")
    for move in moves:
        _summary_transition(incident, user, move)
    if incident.state == State.ASSESSED and incident.gba_settled():
        _summary_transition(incident, user, "gba_notified")
    if incident.state in {State.ASSESSED, State.GBA_NOTIFIED} and incident.notifications_settled():
        _summary_transition(incident, user, "controllers_notified")


def _summary_transition(incident, user, name):
    from_state = incident.state
    getattr(incident, name)()
    IncidentEvent.objects.create(
        incident=incident,
        actor=user,
        kind=IncidentEvent.Kind.TRANSITION,
        from_state=from_state,
        to_state=incident.state,
    )
    announce(incident, Change.TRANSITION)


def check_permission(user, action):
    if not user.has_perm(TRANSITION_PERMISSIONS[action]):
        raise PermissionDenied(
            _("Your role may not do this: an incident can be %(action)s by %(roles)s.")
            % {"action": ACTION_LABELS[action], "roles": ROLE_NAMES[action]}
        )


ACTION_TITLES = {
    "assess": gettext_lazy("Assess"),
    "notify_gba": gettext_lazy("Record the GBA notification"),
    "complete_gba": gettext_lazy("Record the completed GBA notification (part 2)"),
    "notify_controller": gettext_lazy("Record the controller notification"),
    "inform_subjects": gettext_lazy("Record the communication to the data subjects"),
    "update_controller": gettext_lazy("Record the update sent to the controllers"),
    "gba_follow_up": gettext_lazy("Record the follow-up sent to the GBA"),
    "gba_withdrawal": gettext_lazy("Record the withdrawal sent to the GBA"),
    "close": gettext_lazy("Close"),
    "dismiss": gettext_lazy("Dismiss: not a personal-data breach"),
    "merge": gettext_lazy("Merge this duplicate into its original"),
}

ROLE_NAMES = {
    "assess": gettext_lazy("security staff, managers and the DPO"),
    "notify_gba": gettext_lazy("managers and the DPO"),
    "complete_gba": gettext_lazy("managers and the DPO"),
    "notify_controller": gettext_lazy("managers and the DPO"),
    "inform_subjects": gettext_lazy("managers and the DPO"),
    "update_controller": gettext_lazy("managers and the DPO"),
    "gba_follow_up": gettext_lazy("managers and the DPO"),
    "gba_withdrawal": gettext_lazy("managers and the DPO"),
    "close": gettext_lazy("managers and the DPO"),
    "dismiss": gettext_lazy("managers and the DPO"),
}


def action_possible(incident, action, open_kinds=None):
    """Whether the action makes sense now (regardless of who asks). open_kinds: the kinds of
    obligation still open, when the caller read them already."""
    if action in ACTION_KINDS:
        kind = ACTION_KINDS[action]
        possible = incident.is_open or action in AFTER_DISMISSAL
        if open_kinds is not None:
            return possible and kind in open_kinds
        return possible and incident._open(kind)
    return can_proceed(getattr(incident, action), check_conditions=False)


def _check_state(incident, action):
    if not can_proceed(getattr(incident, action), check_conditions=False):
        raise TransitionRefused(incident, action)


def _run_transition(incident, user, action, arguments):
    method = getattr(incident, action)
    if action == "close" and not can_proceed(method):
        waiting = incident.live_obligations().filter(status=Obligation.Status.OPEN)
        waiting = waiting.select_related("controller")[:10]
        raise ValidationError(
            _("Obligations are still open: %(open)s.")
            % {"open": "; ".join(f"{o.get_kind_display()} ({o.controller.name})" for o in waiting)}
        )
    if not can_proceed(method):
        assessment = incident.assessment_or_none()
        missing = assessment.missing_items() if assessment else [_("the assessment")]
        raise ValidationError(
            _("The assessment is not complete: %(missing)s.") % {"missing": ", ".join(missing)}
        )
    from_state = incident.state
    method(**arguments)
    # What the transition wrote (a reason, a reference) is checked like any other text.
    incident.clean_fields(exclude=[f for f in _all_fields(incident) if f not in TRANSITION_FIELDS])
    if from_state != incident.state:
        IncidentEvent.objects.create(
            incident=incident,
            actor=user,
            kind=IncidentEvent.Kind.TRANSITION,
            from_state=from_state,
            to_state=incident.state,
            after={k: as_json(v) for k, v in arguments.items() if v not in (None, "")} or None,
        )
        announce(incident, Change.TRANSITION)


def allowed_actions(incident, user):
    """The actions this person may take on this incident now (for the page's buttons)."""
    open_kinds = set(
        incident.obligations.filter(status=Obligation.Status.OPEN)
        .order_by()
        .values_list("kind", flat=True)
        .distinct()
    )
    actions = []
    for action, permission in TRANSITION_PERMISSIONS.items():
        if user.has_perm(permission) and action_possible(incident, action, open_kinds):
            actions.append(action)
    if "close" in actions and open_kinds:
        actions.remove("close")  # offered only once nothing is owed (the page says what is)
    if "dismiss" in actions:
        actions.append("merge")  # a duplicate is dismissed into its original
    return actions
