"""Choosing controllers at any scale: a processor with 5,000 clients cannot scroll through
5,000 checkboxes (306 put the log form's Save button 9,194 px down on a phone).

The picker shows only the controllers chosen (each a checked box: untick to remove) and a box
to add more by name or KBO number: with JavaScript, picker.js asks `/controllers/lookup/` as the
person types and adds the one they pick; without it, the box takes names or enterprise numbers,
one per line, matched on the server, and any it cannot match is an error on the field.
"""

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext as _

from .identifiers import normalize_enterprise_number
from .models import Controller

LOOKUP_LIMIT = 20
SHOWN_OPEN = 12
SHOWN = 50


class ControllerPicker(forms.SelectMultiple):
    template_name = "incidents/widgets/controller_picker.html"

    def value_from_datadict(self, data, files, name):
        chosen = list(data.getlist(name)) if hasattr(data, "getlist") else list(data.get(name, []))
        # Past the first SHOWN, the chosen travel as one list of keys, kept as they are.
        rest = [key for key in str(data.get(f"{name}_rest", "")).split(",") if key.isdigit()]
        typed = data.get(f"{name}_add", "")
        return (
            chosen + rest + [f"add:{line.strip()}" for line in typed.splitlines() if line.strip()]
        )

    def value_omitted_from_data(self, data, files, name):
        return not any(key in data for key in (name, f"{name}_add", f"{name}_rest"))

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        keys = [str(v) for v in (value or []) if str(v).isdigit()]
        # By name; only the first SHOWN are read whole and shown, each a box to untick: a
        # platform breach names thousands (5,000 made a page of 743 kB in 363 ms).
        ordered = list(
            Controller.objects.filter(pk__in=keys).order_by("name").values_list("pk", flat=True)
        )
        shown = {c.pk: c for c in Controller.objects.filter(pk__in=ordered[:SHOWN])}
        context["chosen"] = [shown[pk] for pk in ordered[:SHOWN]]
        context["chosen_count"] = len(ordered)
        context["rest"] = ",".join(str(pk) for pk in ordered[SHOWN:])
        context["rest_count"] = max(0, len(ordered) - SHOWN)
        context["many"] = SHOWN_OPEN  # more are folded away
        # What was typed and not matched comes back in the box, not lost.
        context["typed"] = "\n".join(str(v)[4:] for v in (value or []) if str(v).startswith("add:"))
        return context

    def optgroups(self, name, value, attrs=None):
        return []  # never render every controller as an option


class ControllerChoiceField(forms.ModelMultipleChoiceField):
    widget = ControllerPicker

    def clean(self, value):
        value = list(value or [])
        typed = [item[4:] for item in value if str(item).startswith("add:")]
        keys = [item for item in value if not str(item).startswith("add:")]
        found, unknown = match(typed)
        if unknown:
            raise ValidationError(
                _(
                    "No controller is called or numbered %(names)s: check the spelling, or "
                    "add it first."
                )
                % {"names": ", ".join(f"“{name}”" for name in unknown)},
                code="unknown",
            )
        return super().clean(list(dict.fromkeys([*keys, *(str(pk) for pk in found)])))


def match(lines):
    """Controllers named or numbered in these lines (a name exactly, case aside; an
    enterprise number in any notation); the lines that match none, or several by name."""
    found, unknown = [], []
    for line in lines[:1000]:
        number = normalize_enterprise_number(line)
        clients = Controller.objects.filter(is_conitro=False)  # Conitro itself: its own tick
        by_number = clients.filter(enterprise_number=number).values_list("pk", flat=True)
        by_name = clients.filter(name__iexact=line).values_list("pk", flat=True)
        hits = list(by_number) or list(by_name)
        if len(hits) == 1:
            found.append(hits[0])
        else:
            unknown.append(line)
    return found, unknown


def lookup(text):
    """Up to LOOKUP_LIMIT controllers whose name or number contains the text."""
    text = (text or "").strip()[:100]
    if len(text) < 2:
        return []
    digits = "".join(char for char in text if char.isdigit())
    found = Q(name__icontains=text)
    if len(digits) >= 3:
        found |= Q(enterprise_number__contains=digits)
    return list(
        Controller.objects.filter(found, is_conitro=False)
        .order_by("name")
        .values("pk", "name", "enterprise_number")[:LOOKUP_LIMIT]
    )
