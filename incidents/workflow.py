"""Everything that changes an incident goes through here, for the web pages and the API alike.

Each function takes the incident's row lock (select_for_update) inside one transaction, checks
the version the person was looking at, runs the change, bumps the version and appends the
audit events. So two people acting at once cannot both win: the second one waits for the lock,
then finds the incident changed and is told so, and nothing is lost.
"""

from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_fsm import can_proceed

from .deadlines import deadline_for
from .models import (
    TRANSITION_PERMISSIONS,
    Assessment,
    Incident,
    IncidentEvent,
    ReferenceCounter,
    State,
)
from .signals import incident_changed, incident_saving

FACT_FIELDS = ["title", "description", "aware_at", "occurred_at", "ended_at", "discovered_how"]
TRANSITION_FIELDS = [
    "dismissal_reason",
    "gba_reference",
    "gba_delay_reason",
    "controller_notification_method",
    "controller_delay_reason",
]


class TransitionRefused(Exception):
    """The action is not possible from the incident's current state."""

    def __init__(self, incident, action):
        self.incident = incident
        self.action = action
        super().__init__(
            _("%(reference)s is %(state)s: it cannot be %(action)s from that state.")
            % {
                "reference": incident.reference,
                "state": incident.get_state_display(),
                "action": ACTION_LABELS.get(action, action),
            }
        )


class IncidentChanged(Exception):
    """Someone else changed the incident since the person loaded it."""

    def __init__(self, incident):
        self.incident = incident
        super().__init__(
            _(
                "%(reference)s was changed by someone else while you were working on it "
                "(it is now %(state)s). Your change was not saved: reload, check, and try again."
            )
            % {"reference": incident.reference, "state": incident.get_state_display()}
        )


ACTION_LABELS = {
    "change": gettext_lazy("changed"),
    "assess": gettext_lazy("assessed"),
    "notify_gba": gettext_lazy("recorded as notified to the GBA"),
    "notify_controller": gettext_lazy("recorded as notified to the controllers"),
    "close": gettext_lazy("closed"),
    "dismiss": gettext_lazy("dismissed"),
}


def as_json(value):
    """A value as the audit trail stores it."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, list | tuple | set):
        return sorted(as_json(item) for item in value)
    return value


def next_reference(year):
    """INC-YYYY-NNNN. The counter row's lock makes it unique under concurrent creation."""
    ReferenceCounter.objects.get_or_create(year=year)
    counter = ReferenceCounter.objects.select_for_update().get(year=year)
    counter.last += 1
    counter.save(update_fields=["last"])
    return f"INC-{year}-{counter.last:04d}"


def log_incident(user, *, title, description, aware_at=None, occurred_at=None, **facts):
    if not user.has_perm("incidents.add_incident"):
        raise PermissionDenied(_("Your role may not log incidents."))
    now = timezone.now()
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
        IncidentEvent.objects.create(
            incident=incident,
            actor=user,
            kind=IncidentEvent.Kind.CREATED,
            to_state=incident.state,
            after={field: as_json(getattr(incident, field)) for field in FACT_FIELDS},
        )
        announce(incident, "created")
    return incident


def announce(incident, kind):
    """Tell the rest of the product: now, inside the transaction (incident_saving), and once
    the change is committed (incident_changed; never for a rollback). A failure after the
    commit is logged, never turned into an error for a change that is saved."""
    if kind in {"created", "aware_at_corrected"}:
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
                incident.deadline_at = deadline_for(incident.aware_at)
                announce(incident, "aware_at_corrected")
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
    for name in ["data_categories", "subject_categories", "controllers"]:
        snapshot[name] = as_json(list(getattr(assessment, name).all()))
    return snapshot


def assess(incident_id, user, values, relations, expected_version=None):
    """Save the assessment (values: plain fields; relations: the many-to-many lists) and move
    the incident to `assessed`; while it is assessed, this updates the assessment."""
    _check_permission(user, "assess")
    with locked(incident_id, expected_version) as incident:
        _check_state(incident, "assess")
        assessment = incident.assessment_or_none() or Assessment(incident=incident)
        before = assessment_snapshot(assessment)
        for field, value in values.items():
            setattr(assessment, field, value)
        assessment.assessed_by = user
        assessment.full_clean(exclude=["incident", "assessed_by"])
        assessment.save()
        for name, items in relations.items():
            getattr(assessment, name).set(items)
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
    return incident


def transition(incident_id, user, action, expected_version=None, **arguments):
    """notify_gba, notify_controller, close or dismiss, with their arguments."""
    if action not in TRANSITION_PERMISSIONS or action == "assess":
        raise ValueError(f"unknown action {action!r}")
    _check_permission(user, action)
    with locked(incident_id, expected_version) as incident:
        _check_state(incident, action)
        _run_transition(incident, user, action, arguments)
    return incident


def _check_permission(user, action):
    if not user.has_perm(TRANSITION_PERMISSIONS[action]):
        raise PermissionDenied(
            _("Your role may not do this: an incident can be %(action)s by %(roles)s.")
            % {"action": ACTION_LABELS[action], "roles": ROLE_NAMES[action]}
        )


ACTION_TITLES = {
    "assess": gettext_lazy("Assess"),
    "notify_gba": gettext_lazy("Record the GBA notification"),
    "notify_controller": gettext_lazy("Record the controller notification"),
    "close": gettext_lazy("Close"),
    "dismiss": gettext_lazy("Dismiss: not a personal-data breach"),
}

ROLE_NAMES = {
    "assess": gettext_lazy("security staff, managers and the DPO"),
    "notify_gba": gettext_lazy("managers and the DPO"),
    "notify_controller": gettext_lazy("managers and the DPO"),
    "close": gettext_lazy("managers and the DPO"),
    "dismiss": gettext_lazy("managers and the DPO"),
}


def _check_state(incident, action):
    if not can_proceed(getattr(incident, action), check_conditions=False):
        raise TransitionRefused(incident, action)


def _run_transition(incident, user, action, arguments):
    method = getattr(incident, action)
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
        announce(incident, "transition")


def allowed_actions(incident, user):
    """The actions this person may take on this incident now (for the page's buttons)."""
    actions = []
    for action, permission in TRANSITION_PERMISSIONS.items():
        if user.has_perm(permission) and can_proceed(
            getattr(incident, action), check_conditions=False
        ):
            actions.append(action)
    return actions


__all__ = [
    "IncidentChanged",
    "State",
    "TransitionRefused",
    "allowed_actions",
    "assess",
    "log_incident",
    "transition",
    "update_facts",
]
