"""Web forms. They parse what people type; the rules that span fields and states are checked
by the model and the workflow, whose ValidationErrors are shown on the same form."""

import uuid
from datetime import date, timedelta
from decimal import Decimal

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils import timezone
from django.utils.html import escape
from django.utils.translation import gettext_lazy as _

from .models import (
    ONE_LINE,
    AffectedController,
    Assessment,
    Controller,
    Incident,
    Obligation,
    ProcessingActivity,
    Regime,
    State,
)
from .picker import ControllerChoiceField
from .workflow import named_controllers

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

    def __init__(self, *args, incident=None, **kwargs):
        super().__init__(*args, **kwargs)


def controllers_field(**kwargs):
    """The controllers affected, chosen by name or KBO number (picker.py): the page lists
    only those chosen, whatever the number of clients."""
    return ControllerChoiceField(
        queryset=Controller.objects.filter(is_conitro=False),
        label=_("Controllers affected"),
        **kwargs,
    )


def own_data_field():
    return forms.BooleanField(
        required=False,
        label=_("Conitro's own data is affected: Conitro is its controller"),
        help_text=_(
            "Its customers' and prospects' data, orders, reviews, server logs (its privacy "
            "policy). Conitro then notifies the GBA as controller and informs the people "
            "concerned when the risk is high."
        ),
    )


class IncidentForm(forms.ModelForm):
    """Log a breach: only what is known in the first minute is required."""

    controllers = controllers_field(
        required=False,
        help_text=_(
            "If already known: each one gets its obligations (told, GBA) at once. "
            "Otherwise name them in the assessment."
        ),
    )

    activities = forms.ModelMultipleChoiceField(
        queryset=ProcessingActivity.objects.all(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label=_("Every controller of these processing activities"),
        help_text=_(
            "A breach of a shared platform touches all its clients; one of Conitro's own "
            "activities makes Conitro the controller."
        ),
    )
    conitro_is_controller = own_data_field()

    # One incident per form sent: a double-click or a resubmit gives the first one again.
    submission = forms.CharField(widget=forms.HiddenInput, required=False, max_length=100)

    class Meta:
        model = Incident
        fields = [
            "title",
            "description",
            "aware_at",
            "told_by",
            "occurred_at",
            "discovered_how",
            "text_language",
        ]
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
            self.initial.setdefault("submission", uuid.uuid4().hex)
        if "text_language" in self.fields:
            # Empty: the language of the person logging it.
            self.fields["text_language"].required = False


class FactsForm(IncidentForm):
    version = forms.IntegerField(widget=forms.HiddenInput)
    base = forms.CharField(widget=forms.HiddenInput, required=False)  # merging.py
    submission = None
    controllers = None
    activities = None
    conitro_is_controller = None

    regimes = forms.ModelMultipleChoiceField(
        queryset=Regime.objects.filter(offered=True),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label=_("Also reported under"),
        help_text=_(
            "NIS2: tick it when the incident is significant (art. 23): the CCB is owed an "
            "early warning within 24 hours, a notification within 72 hours and a final report."
        ),
    )

    def clean(self):
        cleaned = super().clean()
        # The form shows times to the minute: an unchanged time sent back is the stored one,
        # seconds and all (an API's 10:02:37 must not move to 10:02:00, nor its deadlines).
        for name in ("aware_at", "occurred_at", "ended_at"):
            stored, sent = getattr(self.instance, name, None), cleaned.get(name)
            if stored and sent and sent == stored.replace(second=0, microsecond=0):
                cleaned[name] = stored
        return cleaned

    class Meta(IncidentForm.Meta):
        fields = [
            *IncidentForm.Meta.fields,
            "ended_at",
            "gba_combined",
            "gba_delay_reason",
            "regimes",
        ]
        field_classes = {**IncidentForm.Meta.field_classes, "ended_at": forms.DateTimeField}
        widgets = {
            **IncidentForm.Meta.widgets,
            "ended_at": DateTimeInput(),
            "gba_delay_reason": forms.Textarea(attrs={"rows": 2}),
        }
        help_texts = {
            "gba_delay_reason": _(
                "Once Conitro's 24 hours have passed, say why the GBA is not notified yet: the "
                "report and the register keep it, and the notification prints it if it is filed "
                "more than 72 hours after the controller became aware (art. 33(1))."
            )
        }


class AssessmentForm(forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput)
    base = forms.CharField(widget=forms.HiddenInput, required=False)  # merging.py
    not_merged = ("all_controllers_of",)  # an action ("add these too"), not a stored value
    relations = [
        "data_categories",
        "subject_categories",
        "processing_activities",
        "controllers",
        "all_controllers_of",
        "conitro_is_controller",
    ]
    controllers = controllers_field(required=False)
    conitro_is_controller = own_data_field()
    # The processing activities are asked once (below); this says whether all their clients
    # are affected too (a shared platform).
    all_controllers_of = forms.BooleanField(
        required=False,
        label=_("Every controller of these processing activities is affected too"),
        help_text=_("A breach of a shared platform touches all its clients."),
    )
    processing_activities = forms.ModelMultipleChoiceField(
        queryset=ProcessingActivity.objects.all(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label=_("Processing activities affected"),
        help_text=_("The purpose of the processing, as the GBA form asks for it."),
    )

    def __init__(self, *args, incident=None, **kwargs):
        super().__init__(*args, **kwargs)
        if incident is not None and not self.is_bound:
            for name, value in named_controllers(incident).items():
                self.initial.setdefault(name, value)
        self.fields["data_unintelligible"].required = False  # not answered: not known yet
        if self.instance.pk is None:
            # The cause is rarely known in the first hours: "not known yet" is an answer the
            # phased notification allows (art. 33(4)), not a guess typed to get past a form.
            for name in ("cause_origin", "cause_actor", "cause_intent"):
                self.initial.setdefault(name, Assessment.Origin.UNKNOWN)
        for field in self.fields.values():
            choices = getattr(field, "choices", None)
            if isinstance(field, forms.TypedChoiceField) and choices and choices[0][0] == "":
                field.choices = [("", _("— choose —")), *list(choices)[1:]]

    def clean(self):
        cleaned = super().clean()
        # A kind of breach is asked once: its ENISA grade says how it was hit, and a kind that
        # was not hit adds nothing to the severity (the grade's field is hidden with it).
        for kind, grade in Assessment.GRADED_KINDS.items():
            if not cleaned.get(kind) and grade in cleaned:
                cleaned[grade] = Decimal(0)
        return cleaned

    def clean_data_unintelligible(self):
        return self.cleaned_data["data_unintelligible"] or Assessment.Unintelligible.UNKNOWN

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
            "art34_ground",
            "data_unintelligible",
            "subjects_informed_reason",
            "measures_before",
            "international",
            "other_authorities",
            "enisa_dpc",
            "enisa_dpc_adjustment",
            "enisa_ease_of_identification",
            "enisa_confidentiality",
            "enisa_integrity",
            "enisa_availability",
            "risk_level",
            "risk_reasoning",
        ]
        widgets = {
            "data_categories": forms.CheckboxSelectMultiple,
            "subject_categories": forms.CheckboxSelectMultiple,
            "measures_before": forms.Textarea(attrs={"rows": 2}),
            "international": forms.Textarea(attrs={"rows": 2}),
            "risk_reasoning": forms.Textarea(attrs={"rows": 2}),
            "consequences": forms.Textarea(attrs={"rows": 3}),
            "measures_taken": forms.Textarea(attrs={"rows": 3}),
            "measures_proposed": forms.Textarea(attrs={"rows": 3}),
            "subjects_informed_reason": forms.Textarea(attrs={"rows": 2}),
            "other_authorities": forms.Textarea(attrs={"rows": 2}),
        }

    # The form in the order a person works through a breach, each part with what the law or
    # the ENISA method means by its terms (incidents/templates: assessment.html).
    SECTIONS = [
        (
            _("What was hit"),
            _(
                "Confidentiality: data seen by someone who should not. Integrity: data altered. "
                "Availability: data lost or out of reach. One breach can be all three. For each "
                "kind that was hit, how: the circumstances the ENISA severity adds up (CB)."
            ),
            [
                "confidentiality",
                "enisa_confidentiality",
                "integrity",
                "enisa_integrity",
                "availability",
                "enisa_availability",
            ],
        ),
        (
            _("Cause"),
            _("As far as known now; “not known yet” is a valid answer and can be updated."),
            ["cause_origin", "cause_actor", "cause_intent"],
        ),
        (
            _("Data and people"),
            _(
                "Special categories (GDPR art. 9-10): health, origin, opinions, beliefs, union "
                "membership, genetic or biometric data, sex life, criminal records."
            ),
            [
                "data_categories",
                "special_categories",
                "subject_categories",
                "subjects_count",
                "records_count",
            ],
        ),
        (
            _("Severity (ENISA method)"),
            _(
                "Severity = DPC × EI + CB. DPC (data processing context): how sensitive the data "
                "is, 1 to 4, adjusted for context. EI (ease of identification): how easily the "
                "people can be identified from it, 0.25 to 1. CB (circumstances of the breach): "
                "how confidentiality, integrity and availability were hit (the first step), plus "
                "0.5 when it was malicious (the cause)."
            ),
            ["enisa_dpc", "enisa_dpc_adjustment", "enisa_ease_of_identification"],
        ),
        (
            _("Risk and who must be told"),
            _(
                "Art. 33: the controller notifies the GBA within 72 hours unless the breach is "
                "unlikely to result in a risk; Conitro, as processor, tells the controller without "
                "undue delay (art. 33(2)), within 24 hours by contract. Art. 34: the data subjects "
                "are told when the risk is high: serious harm is likely (identity theft, fraud, "
                "discrimination, sensitive data exposed)."
            ),
            [
                "risk_level",
                "risk_reasoning",
                "data_unintelligible",
                "subjects_informed",
                "art34_ground",
                "subjects_informed_reason",
            ],
        ),
        (
            _("Consequences and measures"),
            "",
            ["consequences", "measures_taken", "measures_proposed", "measures_before"],
        ),
        (
            _("Controllers and processing"),
            "",
            ["conitro_is_controller", "controllers", "processing_activities", "all_controllers_of"],
        ),
        (_("Across borders"), "", ["international", "other_authorities"]),
    ]

    def sections(self):
        """Each step: its number, title, explanation, fields, and whether what it requires
        is answered (the step list at the top of the page marks it done)."""
        for number, (title, explanation, names) in enumerate(self.SECTIONS, start=1):
            fields = [self[name] for name in names if name in self.fields]
            yield number, title, explanation, fields, self.answered(names)

    def answered(self, names):
        if "confidentiality" in names and not any(
            self[kind].value() for kind in Assessment.GRADED_KINDS
        ):
            return False
        return all(
            self[name].value() not in (None, "", [])
            for name in names
            if name in self.fields and self.fields[name].required
        )

    def _post_clean(self):
        # Model validation happens in the workflow, under the incident's lock.
        pass

    def values(self):
        values = {
            name: value
            for name, value in self.cleaned_data.items()
            if name not in self.relations and name not in ("version", "base")
        }
        # ENISA's "malicious intent" is the cause asked above, not a second question.
        values["enisa_malicious"] = values.get("cause_intent") == Assessment.Intent.MALICIOUS
        return values

    def relation_values(self):
        values = {name: self.cleaned_data[name] for name in self.relations}
        values["all_controllers_of"] = (
            list(self.cleaned_data.get("processing_activities") or [])
            if self.cleaned_data.get("all_controllers_of")
            else []
        )
        return values


class AffectedControllerForm(forms.ModelForm):
    """One controller's own share of the facts; empty: not split yet."""

    version = forms.IntegerField(widget=forms.HiddenInput)

    class Meta:
        model = AffectedController
        fields = AffectedController.FACTS
        widgets = {
            "data_categories": forms.CheckboxSelectMultiple,
            "subject_categories": forms.CheckboxSelectMultiple,
            "processing_activities": forms.CheckboxSelectMultiple,
        }

    def values(self):
        return {name: self.cleaned_data[name] for name in AffectedController.FACTS}


class ObligationForm(VersionedForm):
    """Records what was done for some controllers (empty: every one still waiting)."""

    kind = None
    controllers = forms.ModelMultipleChoiceField(
        queryset=Controller.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label=_("For which controllers"),
        help_text=_("None ticked: every controller still waiting."),
    )

    def __init__(self, *args, incident=None, **kwargs):
        super().__init__(*args, **kwargs)
        if incident is not None:
            waiting = incident.obligations.filter(kind=self.kind, status=Obligation.Status.OPEN)
            self.fields["controllers"].queryset = Controller.objects.filter(
                pk__in=waiting.values("controller")
            )
            if self.kind == Obligation.Kind.NOTIFY_GBA:
                self.initial.setdefault("delay_reason", incident.gba_delay_reason)


def when_field(label):
    return datetime_field(label=label, required=False, help_text=_("Empty means now."))


LATE_HELP = _("Required when the notification comes after the deadline.")


def delay_reason_field(help_text=LATE_HELP):
    return forms.CharField(
        label=_("Reason for the delay"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=help_text,
    )


def reference_field(help_text, required=False):
    return forms.CharField(
        label=_("GBA reference (DBN…)"), max_length=44, required=required, help_text=help_text
    )


def how_field(label, help_text):
    return forms.CharField(label=label, max_length=200, help_text=help_text)


class GbaNotificationForm(ObligationForm):
    kind = Obligation.Kind.NOTIFY_GBA
    reference = reference_field(
        _("Shown by the GBA portal after part 1 is submitted."), required=True
    )
    submitted_at = when_field(_("Submitted at"))
    delay_reason = delay_reason_field()


class RegimeReportForm(VersionedForm):
    """A report another regime asks for was made (NIS2's early warning to the CCB, say)."""

    at = when_field(_("Made at"))
    reference = forms.CharField(
        label=_("Its reference"),
        max_length=44,
        required=False,
        validators=ONE_LINE,
        help_text=_("What the authority's portal gave (Safeonweb@work), if anything."),
    )
    how = forms.CharField(
        label=_("How"),
        max_length=200,
        required=False,
        validators=ONE_LINE,
        help_text=_("Safeonweb@work, e-mail, phone."),
    )
    delay_reason = delay_reason_field()


class RegimeRequestForm(VersionedForm):
    """The authority asked for a report (NIS2's intermediate report): by when."""

    due_at = datetime_field(
        label=_("Due by"), required=True, help_text=_("The time the authority gave.")
    )


class GbaCompletionForm(ObligationForm):
    kind = Obligation.Kind.COMPLETE_GBA
    reference = reference_field(_("Empty: the reference of part 1."))
    submitted_at = when_field(_("Submitted at"))
    delay_reason = delay_reason_field(_("Required when part 2 comes after its deadline."))


class SubjectsInformedForm(ObligationForm):
    kind = Obligation.Kind.INFORM_SUBJECTS
    how = how_field(
        _("How the data subjects were informed"),
        _("E-mail to each person, letter, public communication (art. 34(3)(c))…"),
    )
    notified_at = when_field(_("Informed at"))
    delay_reason = delay_reason_field(None)


class ControllerNotificationForm(ObligationForm):
    kind = Obligation.Kind.TELL_CONTROLLER
    how = how_field(
        _("How the controllers were told"), _("E-mail, phone call with whom, registered letter…")
    )
    notified_at = when_field(_("Notified at"))
    delay_reason = delay_reason_field()


class ControllerUpdateForm(ObligationForm):
    kind = Obligation.Kind.UPDATE_CONTROLLER
    how = how_field(
        _("How the update was sent"),
        _("E-mail with the update letter (listing what changed), phone call with whom…"),
    )
    notified_at = when_field(_("Sent at"))
    delay_reason = delay_reason_field()


class GbaFollowUpForm(ObligationForm):
    kind = Obligation.Kind.GBA_FOLLOW_UP
    reference = reference_field(_("Empty: the reference of the filing it follows up."))
    submitted_at = when_field(_("Submitted at"))
    delay_reason = delay_reason_field()


class GbaWithdrawalForm(GbaFollowUpForm):
    kind = Obligation.Kind.GBA_WITHDRAWAL


class DismissForm(VersionedForm):
    reason = forms.CharField(
        label=_("Why this is not a personal-data breach"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Dismissing stops every alert and withdraws what is owed; the register keeps the "
            "incident with this reason."
        ),
    )


class CloseForm(VersionedForm):
    """Closing ends the clocks and the alerts: asked on a page of its own, never one click."""

    confirm = forms.BooleanField(
        label=_("Everything owed is recorded: close this incident"),
        help_text=_("No more alerts are sent; the incident stays in the register."),
    )


class MergeForm(VersionedForm):
    original = forms.CharField(
        label=_("Reference of the original incident"),
        max_length=20,
        help_text=_(
            "This incident is dismissed as its duplicate: its alerts stop, its trail stays, and "
            "the register counts only the original."
        ),
    )

    def __init__(self, *args, incident=None, **kwargs):
        super().__init__(*args, incident=incident, **kwargs)
        if incident is not None and not self.is_bound:
            from .workflow import similar_to

            similar = similar_to(incident, within=timedelta(days=1))
            if similar:
                self.initial.setdefault("original", similar[0].reference)


ACTION_FORMS = {
    "notify_gba": GbaNotificationForm,
    "complete_gba": GbaCompletionForm,
    "notify_controller": ControllerNotificationForm,
    "inform_subjects": SubjectsInformedForm,
    "update_controller": ControllerUpdateForm,
    "gba_follow_up": GbaFollowUpForm,
    "gba_withdrawal": GbaWithdrawalForm,
    "dismiss": DismissForm,
    "close": CloseForm,
    "merge": MergeForm,
}


class ControllerForm(forms.ModelForm):
    class Meta:
        model = Controller
        fields = [*Controller.DETAILS, "activities"]
        widgets = {
            "address": forms.Textarea(attrs={"rows": 3}),
            "activities": forms.CheckboxSelectMultiple,
        }


REGISTER_DATES = [
    MinValueValidator(date(2000, 1, 1), _("Choose a date from 01/01/2000 on.")),
    MaxValueValidator(date(2999, 12, 31), _("Choose a date before 31/12/2999.")),
]


class DashboardFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    state = forms.ChoiceField(
        label=_("State"),
        required=False,
        choices=[("", _("every open state"))]
        + [
            (state.value, state.label)
            for state in (
                State.DETECTED,
                State.ASSESSED,
                State.GBA_NOTIFIED,
                State.CONTROLLER_NOTIFIED,
                State.CLOSED,
                State.DISMISSED,
            )
        ],
    )
    mine = forms.BooleanField(label=_("Mine (logged by me or paging me)"), required=False)
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)
    sort = forms.ChoiceField(
        label=_("Order"),
        required=False,
        choices=[
            ("deadline", _("deadline first")),
            ("newest", _("newest first")),
            ("reference", _("reference")),
        ],
    )


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


class TextsForm(VersionedForm):
    """The incident's free texts in one more language: one field per text written, with the
    original shown under it."""

    def __init__(self, *args, incident=None, language=None, **kwargs):
        super().__init__(*args, **kwargs)
        from .fact_texts import originals

        for instance, field in originals(incident):
            model_field = instance._meta.get_field(field)
            widget = forms.TextInput if field == "title" else forms.Textarea(attrs={"rows": 3})
            self.fields[field] = forms.CharField(
                label=model_field.verbose_name.capitalize(),
                required=False,
                widget=widget,
                max_length=model_field.max_length,
                validators=model_field.validators,
                initial=(instance.translations or {}).get(language, {}).get(field, ""),
                # Django prints help_text as HTML: the original is someone's text, escaped.
                help_text=escape(getattr(instance, field)),
            )
