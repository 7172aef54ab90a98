"""An assessment saved as one goes: each step kept as typed, before it is complete.

A person works through the assessment in steps; each step's "Save as draft" (and the page itself,
a few seconds after typing stops) keeps everything typed so far as their draft. Nothing is
required, nothing is checked but its size: "about 500" in a count is kept as typed, to be
corrected later. The draft changes no state and stops no clock. Saving the assessment checks
everything and uses the draft up. The draft keeps the version and the signed base of the page
it started from, so the final save merges with what colleagues saved meanwhile
(incidents/merging.py), as a save straight from the page does.
"""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import AssessmentDraft

MOST_VALUES = 10_000  # a list of controllers may hold thousands; never without bound
LONGEST_VALUE = 10_000  # a field without its own limit (a choice, a number, the signed base)


class TooLong(ValueError):
    """A draft would keep more than a field can take: nothing is kept."""


def typed(form, data):
    """The form's fields as they were typed: name -> list of strings (nothing else kept)."""
    kept = {}
    for name, field in form.fields.items():
        if name == "take_theirs":
            continue
        values = data.getlist(name)
        limit = getattr(field, "max_length", None) or LONGEST_VALUE
        if len(values) > MOST_VALUES or any(len(value) > limit for value in values):
            raise TooLong(
                _("“%(label)s” is longer than it may be (%(limit)s characters): shorten it.")
                % {"label": field.label or name, "limit": limit}
            )
        if values:
            kept[name] = values
    return kept


def keep(incident, user, form, data):
    """Save what `user` typed in `form` (data: the request's POST) as their draft."""
    values = typed(form, data)
    with transaction.atomic():
        draft, _created = AssessmentDraft.objects.update_or_create(
            incident=incident,
            author=user,
            defaults={"data": values, "saved_at": timezone.now()},
        )
    return draft


def of(incident, user):
    return AssessmentDraft.objects.filter(incident=incident, author=user).first()


def as_initial(form, draft):
    """The draft's values as the form's initial values: shown as typed, without the errors a
    bound form would show for what is still missing."""
    initial = {}
    for name, field in form.fields.items():
        many = getattr(field.widget, "allow_multiple_selected", False)
        values = draft.data.get(name, [])
        if many:
            initial[name] = values
        elif values:
            initial[name] = values[-1]
        elif getattr(field.widget, "input_type", None) == "checkbox":
            initial[name] = False  # a box left unticked is not in the data
    return initial


def use_up(incident, user):
    AssessmentDraft.objects.filter(incident=incident, author=user).delete()
