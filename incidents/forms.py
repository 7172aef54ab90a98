"""Web forms. They parse what people type; the rules that span fields and states are checked
by the model and the workflow, whose ValidationErrors are shown on the same form."""

from datetime import date

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import Assessment, Controller, Incident, State

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format=DATETIME_FORMAT, **kwargs)


def datetime_field(**kwargs):
    return forms.DateTimeField(
        widget=DateTimeInput(), input_formats=[DATETIME_FORMAT, "%Y-%m-%d %H:%M"], **kwargs
    )


class VersionedForm(forms.Form):
    """Carries the version of the incident the person saw, to detect a concurrent change."""

    version = forms.IntegerField(widget=forms.HiddenInput)


class IncidentForm(forms.ModelForm):
    """Log a breach: only what is known in the first minute is required."""

    class Meta:
        model = Incident
        fields = ["title", "description", "aware_at", "occurred_at", "discovered_how"]
        field_classes = {"aware_at": forms.DateTimeField, "occurred_at": forms.DateTimeField}
        widgets = {
            "aware_at": DateTimeInput(),
            "occurred_at": DateTimeInput(),
            "description": forms.Textarea(attrs={"rows": 4}),
            "discovered_how": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ["aware_at", "occurred_at", "ended_at"]:
            if name in self.fields:
                self.fields[name].input_formats = [DATETIME_FORMAT, "%Y-%m-%d %H:%M"]
        if not self.is_bound and not self.instance.pk:
            self.initial.setdefault("aware_at", timezone.localtime().replace(second=0))


class FactsForm(IncidentForm):
    version = forms.IntegerField(widget=forms.HiddenInput)

    class Meta(IncidentForm.Meta):
        fields = [*IncidentForm.Meta.fields, "ended_at"]
        field_classes = {**IncidentForm.Meta.field_classes, "ended_at": forms.DateTimeField}
        widgets = {**IncidentForm.Meta.widgets, "ended_at": DateTimeInput()}


class AssessmentForm(forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput)
    relations = ["data_categories", "subject_categories", "controllers"]

    class Meta:
        model = Assessment
        fields = [
            "confidentiality",
            "integrity",
            "availability",
            "cause_origin",
            "cause_actor",
            "cause_intent",
            "data_categories",
            "special_categories",
            "subject_categories",
            "subjects_count",
            "records_count",
            "consequences",
            "measures_taken",
            "measures_proposed",
            "subjects_informed",
            "subjects_informed_reason",
            "controllers",
            "other_authorities",
            "enisa_dpc",
            "enisa_dpc_adjustment",
            "enisa_ease_of_identification",
            "enisa_confidentiality",
            "enisa_integrity",
            "enisa_availability",
            "enisa_malicious",
            "risk_level",
        ]
        widgets = {
            "data_categories": forms.CheckboxSelectMultiple,
            "subject_categories": forms.CheckboxSelectMultiple,
            "controllers": forms.CheckboxSelectMultiple,
            "consequences": forms.Textarea(attrs={"rows": 3}),
            "measures_taken": forms.Textarea(attrs={"rows": 3}),
            "measures_proposed": forms.Textarea(attrs={"rows": 3}),
            "subjects_informed_reason": forms.Textarea(attrs={"rows": 2}),
            "other_authorities": forms.Textarea(attrs={"rows": 2}),
        }

    def _post_clean(self):
        # Model validation happens in the workflow, under the incident's lock.
        pass

    def values(self):
        return {
            name: value
            for name, value in self.cleaned_data.items()
            if name not in self.relations and name != "version"
        }

    def relation_values(self):
        return {name: self.cleaned_data[name] for name in self.relations}


class GbaNotificationForm(VersionedForm):
    reference = forms.CharField(
        label=_("GBA reference (DBN…)"),
        max_length=44,
        help_text=_("Shown by the GBA portal after part 1 is submitted."),
    )
    submitted_at = datetime_field(
        label=_("Submitted at"), required=False, help_text=_("Empty means now.")
    )
    delay_reason = forms.CharField(
        label=_("Reason for the delay"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required when the notification comes after the deadline."),
    )


class ControllerNotificationForm(VersionedForm):
    how = forms.CharField(
        label=_("How the controllers were told"),
        max_length=200,
        help_text=_("E-mail, phone call with whom, registered letter…"),
    )
    notified_at = datetime_field(
        label=_("Notified at"), required=False, help_text=_("Empty means now.")
    )
    delay_reason = forms.CharField(
        label=_("Reason for the delay"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required when the notification comes after the deadline."),
    )


class DismissForm(VersionedForm):
    reason = forms.CharField(
        label=_("Why this is not a personal-data breach"),
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class CloseForm(VersionedForm):
    pass


ACTION_FORMS = {
    "notify_gba": GbaNotificationForm,
    "notify_controller": ControllerNotificationForm,
    "dismiss": DismissForm,
    "close": CloseForm,
}


class ControllerForm(forms.ModelForm):
    class Meta:
        model = Controller
        fields = [
            "name",
            "enterprise_number",
            "address",
            "contact_person",
            "email",
            "phone",
            "language",
        ]
        widgets = {"address": forms.Textarea(attrs={"rows": 3})}


REGISTER_DATES = [
    MinValueValidator(date(2000, 1, 1), _("Choose a date from 01/01/2000 on.")),
    MaxValueValidator(date(2999, 12, 31), _("Choose a date before 31/12/2999.")),
]


class RegisterFilterForm(forms.Form):
    start = forms.DateField(
        label=_("Aware from"),
        required=False,
        validators=REGISTER_DATES,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    end = forms.DateField(
        label=_("Aware until"),
        required=False,
        validators=REGISTER_DATES,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    state = forms.ChoiceField(
        label=_("State"), required=False, choices=[("", _("All")), *State.choices]
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("start") and cleaned.get("end") and cleaned["start"] > cleaned["end"]:
            raise forms.ValidationError(_("The period ends before it starts."))
        return cleaned
