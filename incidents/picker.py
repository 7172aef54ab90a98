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


class ControllerPicker(forms.SelectMultiple):
    template_name = "incidents/widgets/controller_picker.html"

    def value_from_datadict(self, data, files, name):
        chosen = list(data.getlist(name)) if hasattr(data, "getlist") else list(data.get(name, []))
        typed = data.get(f"{name}_add", "")
        return chosen + [f"add:{line.strip()}" for line in typed.splitlines() if line.strip()]

    def value_omitted_from_data(self, data, files, name):
        return name not in data and f"{name}_add" not in data

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        keys = [str(v) for v in (value or []) if str(v).isdigit()]
        context["chosen"] = list(Controller.objects.filter(pk__in=keys).order_by("name"))
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
        by_number = Controller.objects.filter(enterprise_number=number).values_list("pk", flat=True)
        by_name = Controller.objects.filter(name__iexact=line).values_list("pk", flat=True)
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
        Controller.objects.filter(found)
        .order_by("name")
        .values("pk", "name", "enterprise_number")[:LOOKUP_LIMIT]
    )
