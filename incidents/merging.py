"""Two people on one incident: a save never throws away what someone typed.

A form carries the incident's version and a signed fingerprint of each of its fields as the
person saw them (`base`: a hash per field, and when the page was made). When the version moved
on meanwhile (a colleague saved, or the same person in another tab), each field is compared
three ways:
- the person did not change it: the stored value stays, whatever it is now;
- only the person changed it: their value is saved;
- both changed it, to different values: a conflict. Nothing is saved; the form comes back with
  the person's input kept and, for each such field, what it is now, who changed it and when,
  and a choice to take that instead.
So Mia's one sentence in "how it was discovered" and Sam's fifteen fields of the assessment are
both saved, and two people rewriting the same description are shown each other's words.
"""

import hashlib
import json
from datetime import UTC, datetime

from django import forms
from django.core import signing
from django.db.models import Model
from django.forms.models import model_to_dict
from django.utils import timezone

SALT = "incidents.merging.base"


def canonical(value):
    """A value as a comparable, JSON-able form: what the person saw and what is stored now
    compare equal when they mean the same (a queryset and a list of the same rows, 0.5 and
    0.50, None and "")."""
    if value is None or value == "":
        return ""
    if isinstance(value, Model):
        return value.pk
    if isinstance(value, dict):
        return {str(key): canonical(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set)) or hasattr(value, "model"):
        items = [canonical(item) for item in value]
        return sorted(items, key=lambda item: json.dumps(item, sort_keys=True, default=str))
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(microsecond=0).isoformat()
    if isinstance(value, bool):
        return value
    return str(value)


def fingerprint(value):
    text = json.dumps(canonical(value), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def merged_fields(form):
    """The fields that take part: what the form edits, not its bookkeeping."""
    return [
        name
        for name, field in form.fields.items()
        if name not in ("version", "base", "take_theirs")
        and not isinstance(field.widget, forms.HiddenInput)
        and name not in getattr(form, "not_merged", ())
    ]


def stored_values(form, instance, extra=None):
    """What the form's fields hold in the database now (model fields, and `extra` for the
    fields that live elsewhere, like an assessment's controllers on the incident)."""
    names = merged_fields(form)
    values = model_to_dict(instance, fields=names) if instance is not None else {}
    values.update(extra or {})
    return {name: values.get(name) for name in names}


def sign_base(form, values, now=None):
    payload = {
        "at": (now or timezone.now()).isoformat(),
        "fields": {name: fingerprint(values.get(name)) for name in merged_fields(form)},
    }
    return signing.dumps(payload, salt=SALT, compress=True)


def read_base(token):
    """(when the page was made, {field: fingerprint}); None when missing or not ours."""
    try:
        payload = signing.loads(token or "", salt=SALT)
        return datetime.fromisoformat(payload["at"]), payload["fields"]
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None


class Reconciled:
    """Which fields the person changed, and the conflicts (field names) with what is stored."""

    def __init__(self, mine, conflicts, since, seen):
        self.mine, self.conflicts, self.since, self.seen = mine, conflicts, since, seen

    def changed_by_others(self, name, stored):
        return fingerprint(stored.get(name)) != self.seen.get(name)


def reconcile(form, stored):
    """Compare the person's input (cleaned), what they saw (base) and what is stored now."""
    base = read_base(form.data.get("base"))
    if base is None:
        return None  # an old page without a base: the version check refuses it as before
    since, seen = base
    mine, conflicts = [], []
    for name in merged_fields(form):
        typed = fingerprint(form.cleaned_data.get(name))
        now = fingerprint(stored.get(name))
        if typed == seen.get(name):
            continue  # not changed by this person
        mine.append(name)
        if now != seen.get(name) and now != typed:
            conflicts.append(name)
    return Reconciled(mine, conflicts, since, seen)


def taken_theirs(form):
    """The conflicting fields the person chose to take as they are now."""
    chosen = form.data.getlist("take_theirs") if hasattr(form.data, "getlist") else []
    return [name for name in chosen if name in merged_fields(form)]


def shown(form, name, value):
    """A stored value as the person reads it (choices by label, rows by name)."""
    field = form.fields[name]
    if isinstance(field, forms.ModelMultipleChoiceField):
        return ", ".join(str(item) for item in value or []) or "—"
    if isinstance(field, forms.ModelChoiceField):
        return str(value) if value not in (None, "") else "—"
    if getattr(field, "choices", None):
        labels = {str(key): label for key, label in field.choices}
        return str(labels.get(str(value), value)) if value not in (None, "") else "—"
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%d/%m/%Y %H:%M")
    return str(value) if value not in (None, "") else "—"


def who_changed(incident, name, since):
    """The latest event since `since` that changed this field: (person, when) or (None, None)."""
    from .models import IncidentEvent

    events = incident.events.filter(at__gt=since).select_related("actor").order_by("-at", "-id")
    for event in events[:200]:
        if event.field == name or (
            event.kind == IncidentEvent.Kind.ASSESSED and name in (event.after or {})
        ):
            return event.actor, event.at
    return None, None
