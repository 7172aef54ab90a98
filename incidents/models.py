"""The breach: incidents and their state machine, assessments, controllers, the audit trail.

Invariants live here: the state only changes through the transition methods (the field is
protected), each transition has a permission and its conditions, the deadline always follows
aware_at, and audit events can be added but never changed or deleted.
The workflow (locking, version checks, writing events) is in workflow.py.
"""

import re
from datetime import datetime, time, timedelta
from functools import cache, cached_property

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone, translation
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_fsm import GET_STATE, ConcurrentTransitionMixin, FSMField, transition

from . import severity as enisa
from .deadlines import promise_deadline
from .fields import EnterpriseNumberField, PhoneNumberField
from .identifiers import format_enterprise_number

LANGUAGES = settings.LANGUAGES  # one definition, in the settings


class State(models.TextChoices):
    DETECTED = "detected", gettext_lazy("Detected")
    ASSESSED = "assessed", gettext_lazy("Assessed")
    GBA_NOTIFIED = "gba_notified", gettext_lazy("GBA notified")
    CONTROLLER_NOTIFIED = "controller_notified", gettext_lazy("Controller notified")
    CLOSED = "closed", gettext_lazy("Closed")
    DISMISSED = "dismissed", gettext_lazy("Dismissed")


# Until the controller is told, the 24-hour promise is still open.
CLOCK_RUNNING_STATES = [State.DETECTED, State.ASSESSED, State.GBA_NOTIFIED]
OPEN_STATES = [*CLOCK_RUNNING_STATES, State.CONTROLLER_NOTIFIED]

TRANSITION_PERMISSIONS = {
    "assess": "incidents.assess_incident",
    "notify_gba": "incidents.notify_incident",
    "complete_gba": "incidents.notify_incident",
    "notify_controller": "incidents.notify_incident",
    "inform_subjects": "incidents.notify_incident",
    "update_controller": "incidents.notify_incident",
    "gba_follow_up": "incidents.notify_incident",
    "gba_withdrawal": "incidents.notify_incident",
    "close": "incidents.close_incident",
    "dismiss": "incidents.dismiss_incident",
}


CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
LINE_BREAKS = re.compile(r"[\r\n\u2028\u2029\x85]")


def validate_text(value):
    """Free text may hold line breaks and tabs, no other control characters (a NUL byte is
    refused by PostgreSQL and by every PDF and spreadsheet)."""
    if CONTROL_CHARACTERS.search(value or ""):
        raise ValidationError(
            _("This text contains invisible control characters: retype or paste it as plain text."),
            code="control_characters",
        )


def validate_single_line(value):
    """A title goes into e-mail subjects and SMS: one line."""
    validate_text(value)
    if LINE_BREAKS.search(value or ""):
        raise ValidationError(_("A title is one line: remove the line breaks."), code="line_break")


@deconstructible
class MaxLinesValidator:
    """A text that goes into documents has a limit on lines as well as characters: ten thousand
    two-character lines are within 20,000 characters and would make 170 printed pages."""

    def __init__(self, limit):
        self.limit = limit

    def __call__(self, value):
        count = len((value or "").splitlines())
        if count > self.limit:
            raise ValidationError(
                _(
                    "This text has %(count)s lines; at most %(limit)s fit in the documents: "
                    "join short lines, or leave out what the documents do not need."
                )
                % {"count": count, "limit": self.limit},
                code="too_many_lines",
            )

    def __eq__(self, other):
        return isinstance(other, MaxLinesValidator) and other.limit == self.limit


def validate_one_line(value):
    """A name, a person or a reference: one line of plain text."""
    validate_text(value)
    if LINE_BREAKS.search(value or ""):
        raise ValidationError(_("This is one line: remove the line breaks."), code="line_break")


ONE_LINE = [validate_one_line]


@deconstructible
class TranslationsValidator:
    """The free texts in other languages: {"fr": {"description": "…", …}, "en": {…}}; only the
    model's free texts, each a string within that text's own limits. Any other shape would break
    every document that prints them."""

    def __init__(self, model):
        self.model = model

    def __call__(self, value):
        from django.apps import apps

        from .fact_texts import ASSESSMENT_TEXTS, INCIDENT_TEXTS

        model = apps.get_model(self.model)
        texts = INCIDENT_TEXTS if model.__name__ == "Incident" else ASSESSMENT_TEXTS
        languages = [code for code, _name in LANGUAGES]
        if not isinstance(value, dict) or not all(
            key in languages and isinstance(given, dict) for key, given in value.items()
        ):
            raise ValidationError(
                _(
                    "Texts in other languages are an object per language (%(languages)s), e.g. "
                    '{"fr": {"%(field)s": "…"}}.'
                )
                % {"languages": ", ".join(languages), "field": texts[1]},
                code="shape",
            )
        for given in value.values():
            for field, text in given.items():
                if field not in texts:
                    raise ValidationError(
                        _("%(field)s is not a free text of this record; one of: %(texts)s.")
                        % {"field": str(field)[:50], "texts": ", ".join(texts)},
                        code="unknown_text",
                    )
                if not isinstance(text, str):
                    raise ValidationError(
                        _("The text of %(field)s is a string.") % {"field": field},
                        code="not_text",
                    )
                for validator in model._meta.get_field(field).validators:
                    validator(text)  # the original's own limits (characters, lines, plain text)

    def __eq__(self, other):
        return isinstance(other, TranslationsValidator) and other.model == self.model


def limited_text(limit):
    """Validators for a free-text field: a limit that a real description fits in (characters,
    and lines: one line for every 50 characters), plain text."""
    return [MaxLengthValidator(limit), MaxLinesValidator(limit // 50), validate_text]


# A description of 20,000 characters is about eight printed pages: room for any real account.
LONG_TEXT = 20_000
MEDIUM_TEXT = 5_000
ADDRESS_TEXT = 500


class TranslatedName(models.Model):
    """A seeded list item with its name in the three languages of the documents."""

    name_nl = models.CharField(gettext_lazy("name (Dutch)"), max_length=200, validators=ONE_LINE)
    name_fr = models.CharField(gettext_lazy("name (French)"), max_length=200, validators=ONE_LINE)
    name_en = models.CharField(gettext_lazy("name (English)"), max_length=200, validators=ONE_LINE)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        abstract = True
        ordering = ["position", "name_en"]

    def __str__(self):
        return self.name_in(translation.get_language() or "en")

    def name_in(self, language):
        return getattr(self, f"name_{language}", "") or self.name_en


class DataCategory(TranslatedName):
    class Meta(TranslatedName.Meta):
        verbose_name = gettext_lazy("category of personal data")
        verbose_name_plural = gettext_lazy("categories of personal data")


class SubjectCategory(TranslatedName):
    class Meta(TranslatedName.Meta):
        verbose_name = gettext_lazy("category of data subjects")
        verbose_name_plural = gettext_lazy("categories of data subjects")


class ProcessingActivity(TranslatedName):
    """One of Conitro's processing activities (the purpose the GBA form asks for), chosen per
    incident: for its controllers, or its own (conitro_own: Conitro is the controller, as its
    privacy policy describes: orders, reviews, server logs, analytics, payments, parcels)."""

    conitro_own = models.BooleanField(
        gettext_lazy("Conitro's own processing (Conitro is the controller)"), default=False
    )

    class Meta(TranslatedName.Meta):
        verbose_name = gettext_lazy("processing activity")
        verbose_name_plural = gettext_lazy("processing activities")


def organisation_name():
    """Conitro's name with its legal form ("Conitro BV"), from settings.ORGANISATION."""
    organisation = settings.ORGANISATION
    return " ".join(part for part in (organisation["name"], organisation.get("legal_form")) if part)


class Controller(models.Model):
    """A client of Conitro on whose behalf it processes personal data; and one row for Conitro
    itself (is_conitro), the controller of its own processing (customers, orders, reviews, server
    logs): an incident touching Conitro's own data names it among its controllers, and what is
    owed for it differs (incidents/obligations.py: the GBA as controller, the data subjects, no
    letter to itself). That row mirrors settings.ORGANISATION (Controller.conitro())."""

    name = models.CharField(gettext_lazy("name"), max_length=200, validators=ONE_LINE)
    enterprise_number = EnterpriseNumberField(gettext_lazy("enterprise number"), unique=True)
    address = models.TextField(
        gettext_lazy("address"),
        max_length=ADDRESS_TEXT,
        validators=[MaxLengthValidator(ADDRESS_TEXT), MaxLinesValidator(6), validate_text],
    )
    contact_person = models.CharField(
        gettext_lazy("contact person"), max_length=200, validators=ONE_LINE
    )
    salutation = models.CharField(
        gettext_lazy("salutation in letters"),
        max_length=100,
        blank=True,
        validators=ONE_LINE,
        help_text=gettext_lazy(
            "How letters greet the contact person, in the controller's language: “Geachte "
            "heer Goossens”, “Monsieur Dubois”. Empty: “Geachte heer, mevrouw” / “Madame, "
            "Monsieur”."
        ),
    )
    email = models.EmailField(gettext_lazy("e-mail"))
    phone = PhoneNumberField(gettext_lazy("phone"))
    language = models.CharField(
        gettext_lazy("language"), max_length=2, choices=LANGUAGES, default="nl"
    )
    dpo_name = models.CharField(
        gettext_lazy("DPO (name)"), max_length=200, blank=True, validators=ONE_LINE
    )
    dpo_email = models.EmailField(gettext_lazy("DPO (e-mail)"), blank=True)
    gba_on_behalf = models.BooleanField(
        gettext_lazy("Conitro notifies the GBA on its behalf"),
        default=True,
        help_text=gettext_lazy(
            "The processing agreement authorises Conitro to notify the GBA for this controller. "
            "Untick it when the controller notifies the GBA itself."
        ),
    )
    subjects_informed_by_conitro = models.BooleanField(
        gettext_lazy("Conitro informs the data subjects"),
        default=False,
        help_text=gettext_lazy(
            "The controller asked Conitro to inform the data subjects of a high-risk breach "
            "(GDPR art. 34)."
        ),
    )
    activities = models.ManyToManyField(
        "ProcessingActivity",
        blank=True,
        related_name="controllers",
        verbose_name=gettext_lazy("processing activities"),
    )
    is_conitro = models.BooleanField(
        gettext_lazy("Conitro itself (its own processing)"), default=False, editable=False
    )

    # What people enter about a controller (forms, API, CSV import, the documents' facts).
    DETAILS = [
        "name",
        "enterprise_number",
        "address",
        "contact_person",
        "salutation",
        "email",
        "phone",
        "language",
        "dpo_name",
        "dpo_email",
        "gba_on_behalf",
        "subjects_informed_by_conitro",
    ]

    class Meta:
        ordering = ["name"]
        verbose_name = gettext_lazy("controller")
        constraints = [
            models.UniqueConstraint(
                fields=["is_conitro"], condition=models.Q(is_conitro=True), name="one_conitro"
            )
        ]

    def __str__(self):
        return self.name

    @classmethod
    def conitro(cls):
        """Conitro's own row, made or brought up to date from settings.ORGANISATION (the one
        source of its name, number, address and DPO)."""
        organisation = settings.ORGANISATION
        details = {
            "name": organisation_name(),
            "enterprise_number": organisation["enterprise_number"],
            "address": organisation["address"],
            "contact_person": organisation["dpo_name"],
            "email": organisation["dpo_email"],
            "phone": organisation["dpo_phone"],
            "dpo_name": organisation["dpo_name"],
            "dpo_email": organisation["dpo_email"],
            "gba_on_behalf": False,  # it notifies as controller, for nobody else
            "subjects_informed_by_conitro": True,
        }
        row = cls.objects.filter(is_conitro=True).first()
        if row is None:
            return cls.objects.create(is_conitro=True, **details)
        changed = [name for name, value in details.items() if getattr(row, name) != value]
        if changed:
            for name in changed:
                setattr(row, name, details[name])
            row.save(update_fields=changed)
        return row

    @property
    def enterprise_number_display(self):
        return format_enterprise_number(self.enterprise_number)


class Regime(TranslatedName):
    """A reporting regime beside the GDPR's (whose clocks are the DeadlineRule table): the
    Belgian NIS2 law's reports to the CCB, a contract's own clock. Data: an administrator adds a
    regime and its rules; a person switches it on for an incident (NIS2: when the incident is
    significant), and its rules become obligations with their own deadlines and pages."""

    code = models.SlugField(gettext_lazy("code"), max_length=40, unique=True)
    authority = models.CharField(gettext_lazy("reported to"), max_length=200, validators=ONE_LINE)
    basis = models.CharField(gettext_lazy("legal basis"), max_length=300, blank=True)
    offered = models.BooleanField(
        gettext_lazy("offered on incidents"),
        default=True,
        help_text=gettext_lazy("Off: it cannot be switched on for new incidents."),
    )

    class Meta(TranslatedName.Meta):
        verbose_name = gettext_lazy("reporting regime")
        verbose_name_plural = gettext_lazy("reporting regimes")


class RegimeRule(TranslatedName):
    """One report a regime asks for: owed from awareness, or after another of its reports was
    made, within its delay; with the document that goes with it."""

    class Anchor(models.TextChoices):
        AWARE = "aware", gettext_lazy("Conitro became aware")
        AFTER = "after", gettext_lazy("the report named below was made")
        # NIS2's intermediate report: owed when the CCB asks, by the time it gives.
        REQUEST = "request", gettext_lazy("the authority asked for it (due when it says)")

    class Document(models.TextChoices):
        NONE = "", gettext_lazy("none")
        SUMMARY = "summary", gettext_lazy("a one-page summary")

    regime = models.ForeignKey(Regime, on_delete=models.PROTECT, related_name="rules")
    anchor = models.CharField(gettext_lazy("from"), max_length=10, choices=Anchor.choices)
    after = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="followers",
        verbose_name=gettext_lazy("after the report"),
    )
    delay = models.DurationField(gettext_lazy("within"))
    basis = models.CharField(gettext_lazy("legal basis"), max_length=300, blank=True)
    document = models.CharField(
        gettext_lazy("document"), max_length=10, choices=Document.choices, blank=True
    )

    class Meta(TranslatedName.Meta):
        verbose_name = gettext_lazy("report of a regime")
        verbose_name_plural = gettext_lazy("reports of a regime")

    def clean(self):
        if (self.anchor == self.Anchor.AFTER) != (self.after_id is not None):
            raise ValidationError(
                {"after": _("Name the report it follows exactly when it counts from one.")}
            )
        if self.after_id is not None and self.after.regime_id != self.regime_id:
            raise ValidationError({"after": _("It follows a report of the same regime.")})


class ReferenceCounter(models.Model):
    """The last INC-YYYY-NNNN number handed out per year; its row lock serialises creation."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self):
        return f"{self.year}: {self.last}"


class Submission(models.Model):
    """One form sent, or one API request with an Idempotency-Key: sent again (a double-click,
    the back button, a retried request) within SUBMISSION_KEPT it gives the incident it
    logged the first time instead of a second one. The unique key makes two at once safe."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=100)
    # SHA-256 of what was sent with the key (the API's request): the same key with another
    # body is a mistake the sender must hear of, not a replay.
    fingerprint = models.CharField(max_length=64, blank=True)
    incident = models.ForeignKey("Incident", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="one_incident_per_submission")
        ]

    def __str__(self):
        return f"{self.key} -> {self.incident_id}"


class IncidentQuerySet(models.QuerySet):
    def open(self):
        """Open incidents, and dismissed ones that still owe something (the GBA told that
        its filing is withdrawn, the controllers told that it was no breach)."""
        owing = Obligation.objects.filter(
            incident=models.OuterRef("pk"), status=Obligation.Status.OPEN
        )
        return self.filter(
            models.Q(state__in=OPEN_STATES) | models.Q(state=State.DISMISSED) & models.Exists(owing)
        )

    def with_clock(self):
        """Each incident's clock, from its open obligations (one source of truth): the earliest
        open deadline (`next_deadline`; Conitro's promise while no controller is known yet and
        nothing is owed), and whether anything was met late (`met_late`)."""
        owed = Obligation.objects.filter(incident=models.OuterRef("pk"))
        earliest = (
            owed.filter(status=Obligation.Status.OPEN)
            .order_by("deadline_at")
            .values("deadline_at")[:1]
        )
        nothing_owed = ~models.Exists(owed.exclude(status=Obligation.Status.WITHDRAWN))
        return self.annotate(
            next_deadline=models.functions.Coalesce(
                models.Subquery(earliest),
                models.Case(
                    models.When(
                        nothing_owed & models.Q(state__in=CLOCK_RUNNING_STATES),
                        then=models.F("deadline_at"),
                    ),
                    default=None,
                ),
            ),
            # How late the latest of the obligations met late was met (None: all in time).
            met_late=models.Subquery(
                owed.filter(status=Obligation.Status.MET, met_at__gt=models.F("deadline_at"))
                .annotate(
                    late_by=models.ExpressionWrapper(
                        models.F("met_at") - models.F("deadline_at"),
                        output_field=models.DurationField(),
                    )
                )
                .order_by("-late_by")
                .values("late_by")[:1]
            ),
            met_any=models.Exists(owed.filter(status=Obligation.Status.MET)),
        )

    def overdue(self, now):
        return self.with_clock().filter(next_deadline__lte=now)

    def register(self, start=None, end=None, state=None):
        """Every incident ever logged (art. 33(5)), by awareness date in Brussels; a duplicate
        merged into its original is the original's, not a breach of its own."""
        incidents = self.filter(duplicate_of=None).order_by("-aware_at", "-id")
        zone = timezone.get_current_timezone()
        if start:
            midnight = datetime.combine(start, time.min, tzinfo=zone)
            incidents = incidents.filter(aware_at__gte=midnight)
        if end:
            next_midnight = datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone)
            incidents = incidents.filter(aware_at__lt=next_midnight)
        if state:
            incidents = incidents.filter(state=state)
        return incidents

    def with_notices(self):
        """Read each incident's filings and controller notices with the page's rows (one
        query for all), for `Incident.gba_filing` and `Incident.last_controller_notice`."""
        met = Obligation.objects.filter(
            status=Obligation.Status.MET, kind__in=Incident.NOTICE_KINDS
        )
        return self.prefetch_related(
            models.Prefetch("obligations", met.order_by("met_at", "pk"), to_attr="met_notices")
        )

    def delete(self):
        raise ValidationError(_("Incidents are never deleted; dismiss one instead."))


# The GDPR applies from this day; an earlier awareness or start time is a typo in the year.
EARLIEST = datetime(2018, 5, 25, tzinfo=timezone.get_fixed_timezone(120))


def validate_plausible_time(value):
    """Not in the future (beyond clock skew between machines), not before the GDPR."""
    validate_not_in_future(value)
    if value and value < EARLIEST:
        shown = timezone.localtime(value).strftime("%d/%m/%Y %H:%M") if value.year > 1 else value
        raise ValidationError(
            _(
                "This time is before 25/05/2018, when the GDPR took effect: check the year "
                "(you entered %(value)s)."
            )
            % {"value": shown},
            code="too_early",
        )


def validate_not_in_future(value):
    now = timezone.now()
    if value and value > now + settings.CLOCK_SKEW_TOLERANCE:
        shown = timezone.localtime(value).strftime("%d/%m/%Y %H:%M")
        raise ValidationError(
            _("This time cannot be in the future (you entered %(value)s).") % {"value": shown},
            code="future",
        )


class Settled:
    """The one rule of what is done, read by the state (the FSM's conditions), the pages and
    the escalation: `owes(kind)` whether a live obligation of that kind exists, `waits(kind)`
    whether one is open (any kind without one)."""

    def __init__(self, owes, waits):
        # Each answer read once: the state's questions ask "is a notice owed?" several times.
        self.owes, self.waits = cache(owes), cache(waits)

    def known(self):
        """Whose data it is is known: a client to tell, or a GBA filing owed (Conitro's own
        data has no controller to tell)."""
        return self.owes(Obligation.Kind.TELL_CONTROLLER) or self.owes(Obligation.Kind.NOTIFY_GBA)

    def gba(self):
        """Every GBA notification Conitro owes is filed or not required (a controller that
        notifies the GBA itself gives Conitro none); until whose data it is is known, not."""
        return self.known() and not self.waits(Obligation.Kind.NOTIFY_GBA)

    def notifications(self):
        """Filed, and no controller left to tell."""
        return self.gba() and not self.waits(Obligation.Kind.TELL_CONTROLLER)

    def controllers_told(self):
        """Filed and every controller told: the state "controller notified". Conitro's own
        data alone has no controller to tell: it stays "GBA notified" (and closes from there)."""
        return self.owes(Obligation.Kind.TELL_CONTROLLER) and self.notifications()

    def everything(self):
        return self.known() and not self.waits()

    def reached(self, state):
        """Whether what a state stands for is done (the state itself may lag behind)."""
        return {State.GBA_NOTIFIED: self.gba, State.CONTROLLER_NOTIFIED: self.notifications}.get(
            state, lambda: False
        )()


class Incident(ConcurrentTransitionMixin, models.Model):
    reference = models.CharField(gettext_lazy("reference"), max_length=20, unique=True)
    title = models.CharField(
        gettext_lazy("title"), max_length=200, validators=[validate_single_line]
    )
    description = models.TextField(
        gettext_lazy("what happened"), max_length=LONG_TEXT, validators=limited_text(LONG_TEXT)
    )
    aware_at = models.DateTimeField(
        gettext_lazy("aware since"),
        validators=[validate_plausible_time],
        help_text=gettext_lazy("When Conitro became reasonably certain personal data was hit."),
    )
    told_by = models.CharField(
        gettext_lazy("reported to Conitro by (a sub-processor)"),
        max_length=200,
        blank=True,
        validators=[validate_single_line],
        help_text=gettext_lazy(
            "When one of Conitro's own sub-processors (Mollie, a carrier, the hosting provider) "
            "reported the breach: its name. “Aware since” is then when it told Conitro."
        ),
    )
    occurred_at = models.DateTimeField(
        gettext_lazy("started at"), null=True, blank=True, validators=[validate_plausible_time]
    )
    ended_at = models.DateTimeField(
        gettext_lazy("ended at"), null=True, blank=True, validators=[validate_plausible_time]
    )
    discovered_how = models.TextField(
        gettext_lazy("how it was discovered"),
        blank=True,
        max_length=MEDIUM_TEXT,
        validators=limited_text(MEDIUM_TEXT),
    )
    deadline_at = models.DateTimeField(gettext_lazy("deadline"), editable=False)
    state = FSMField(
        gettext_lazy("state"),
        default=State.DETECTED,
        choices=State.choices,
        protected=True,
        max_length=20,
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    dismissal_reason = models.TextField(
        gettext_lazy("reason for dismissal"),
        blank=True,
        max_length=MEDIUM_TEXT,
        validators=limited_text(MEDIUM_TEXT),
    )
    duplicate_of = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="duplicates",
        verbose_name=gettext_lazy("duplicate of"),
        help_text=gettext_lazy("Merged into this incident: not counted in the register."),
    )
    # Given before the filing when Conitro's 24 hours have passed: the filing takes it as its
    # reason. What was filed, when and with which reason is the obligations' (one source).
    gba_delay_reason = models.TextField(
        gettext_lazy("reason for the late GBA notice"),
        blank=True,
        max_length=MEDIUM_TEXT,
        validators=limited_text(MEDIUM_TEXT),
    )
    closed_at = models.DateTimeField(gettext_lazy("closed"), null=True, blank=True)
    controllers = models.ManyToManyField(
        Controller,
        blank=True,
        through="AffectedController",
        related_name="incidents",
        verbose_name=gettext_lazy("controllers affected"),
    )
    regimes = models.ManyToManyField(
        Regime,
        blank=True,
        related_name="incidents",
        verbose_name=gettext_lazy("also reported under"),
        help_text=gettext_lazy(
            "NIS2: tick it when the incident is significant (art. 23): the CCB is owed an early "
            "warning within 24 hours, a notification within 72 hours and a final report."
        ),
    )
    text_language = models.CharField(
        gettext_lazy("language of the texts"),
        max_length=2,
        choices=LANGUAGES,
        default="nl",
        help_text=gettext_lazy(
            "The language the description and the other free texts are written in. The GBA "
            "accepts Dutch, French or German only."
        ),
    )
    translations = models.JSONField(
        gettext_lazy("the free texts in other languages"),
        default=dict,
        blank=True,
        validators=[TranslationsValidator("incidents.Incident")],
    )
    gba_combined = models.BooleanField(
        gettext_lazy("one combined GBA notification for all controllers"),
        default=False,
        help_text=gettext_lazy(
            "For a shared platform with many controllers: one notification with an annex "
            "listing them, instead of one notification per controller."
        ),
    )

    objects = IncidentQuerySet.as_manager()

    # The obligations whose recording the register and the API summarise per incident.
    NOTICE_KINDS = ["notify_gba", "tell_controller"]

    class Meta:
        ordering = ["deadline_at"]
        indexes = [
            models.Index(fields=["state", "deadline_at"]),
            models.Index(fields=["aware_at"]),
        ]
        permissions = [
            ("assess_incident", "Can assess an incident"),
            ("notify_incident", "Can record notifications of an incident"),
            ("dismiss_incident", "Can dismiss an incident"),
            ("close_incident", "Can close an incident"),
            ("view_register", "Can view the breach register"),
            ("download_register", "Can download the breach register"),
        ]

    def __str__(self):
        return f"{self.reference} {self.title}"

    def save(self, *args, **kwargs):
        if self._state.adding or self.deadline_at is None:
            self.deadline_at = promise_deadline(self.aware_at)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(_("Incidents are never deleted; dismiss one instead."))

    def clean(self):
        errors = {}
        if self.occurred_at and self.aware_at and self.occurred_at > self.aware_at:
            errors["occurred_at"] = _(
                "The breach cannot start after Conitro became aware of it: check both times."
            )
        if self.ended_at and self.occurred_at and self.ended_at < self.occurred_at:
            errors["ended_at"] = _("The breach cannot end before it started: check both times.")
        if errors:
            raise ValidationError(errors)

    @property
    def is_open(self):
        return self.state in OPEN_STATES

    @property
    def clock_running(self):
        return self.state in CLOCK_RUNNING_STATES

    def clock(self):
        """(next deadline, anything met, met late): annotated by
        IncidentQuerySet.with_clock() (the dashboard's rows), or read in one query. `met late`
        is how late the latest obligation met late was met (None when all were in time)."""
        if not hasattr(self, "next_deadline"):
            annotated = Incident.objects.with_clock().get(pk=self.pk)
            self.next_deadline = annotated.next_deadline
            self.met_any, self.met_late = annotated.met_any, annotated.met_late
        return self.next_deadline, self.met_any, self.met_late

    @property
    def conitro_is_controller(self):
        """Conitro's own data is affected (its row among the controllers; prefetched or not)."""
        return any(controller.is_conitro for controller in self.controllers.all())

    def assessment_or_none(self):
        try:
            return self.assessment
        except Assessment.DoesNotExist:
            return None

    def assessment_complete(self):
        assessment = self.assessment_or_none()
        return assessment is not None and not assessment.missing_items()

    def _met_notice(self, kind, last=False):
        """The first (or latest) obligation of this kind met: from `with_notices()` when the
        page read them, else one query."""
        if "met_notices" in self.__dict__:
            met = [o for o in self.met_notices if o.kind == kind]
            return (met[-1] if last else met[0]) if met else None
        met = self.obligations.filter(kind=kind, status=Obligation.Status.MET)
        return met.order_by(*(["-met_at", "-pk"] if last else ["met_at", "pk"])).first()

    @property
    def gba_filing(self):
        """The first GBA notification filed (its reference, time and delay reason), or None."""
        return self._met_notice(Obligation.Kind.NOTIFY_GBA)

    @property
    def last_controller_notice(self):
        """The latest notice to a controller recorded (when, how, why late), or None."""
        return self._met_notice(Obligation.Kind.TELL_CONTROLLER, last=True)

    def live_obligations(self, *kinds):
        """The obligations that count (a withdrawn one does not), of these kinds or all."""
        live = self.obligations.exclude(status=Obligation.Status.WITHDRAWN)
        return live.filter(kind__in=kinds) if kinds else live

    def _open(self, *kinds):
        return self.live_obligations(*kinds).filter(status=Obligation.Status.OPEN).exists()

    def settled(self):
        """What the obligations say is done (Settled: the rule the escalation reads too). Each
        question is one indexed query, whatever the number of controllers (5,000 on a shared
        platform): the obligations are never all loaded to summarise them."""
        return Settled(
            owes=lambda kind: self.live_obligations(kind).exists(),
            waits=lambda kind=None: self._open(*([kind] if kind else [])),
        )

    def gba_settled(self):
        return self.settled().gba()

    def notifications_settled(self):
        return self.settled().controllers_told()

    def everything_settled(self):
        return self.settled().everything()

    # The state is a summary of the obligations: the workflow moves it (summarise()) after
    # every change to them. People act on obligations, not on these transitions, except for
    # close and dismiss.

    @transition(
        field=state,
        source=[State.DETECTED, State.ASSESSED, State.GBA_NOTIFIED, State.CONTROLLER_NOTIFIED],
        target=GET_STATE(
            lambda self: State.ASSESSED if self.state == State.DETECTED else self.state
        ),
        conditions=[assessment_complete],
        permission=TRANSITION_PERMISSIONS["assess"],
    )
    def assess(self):
        """The assessment is saved by the workflow; re-assessing keeps the state."""

    @transition(
        field=state, source=State.ASSESSED, target=State.GBA_NOTIFIED, conditions=[gba_settled]
    )
    def gba_notified(self):
        """Every GBA notification Conitro owes is filed (or not required)."""

    @transition(
        field=state,
        source=[State.ASSESSED, State.GBA_NOTIFIED],
        target=State.CONTROLLER_NOTIFIED,
        conditions=[notifications_settled],
    )
    def controllers_notified(self):
        """Every controller is told and every GBA notification filed (or not required)."""

    @transition(
        field=state, source=[State.GBA_NOTIFIED, State.CONTROLLER_NOTIFIED], target=State.ASSESSED
    )
    def reopen(self):
        """A new controller or a new assessment made an obligation open again."""

    @transition(
        field=state,
        # From "GBA notified" only when nothing is owed: Conitro's own data, no client to tell.
        source=[State.GBA_NOTIFIED, State.CONTROLLER_NOTIFIED],
        target=State.CLOSED,
        conditions=[everything_settled],
        permission=TRANSITION_PERMISSIONS["close"],
    )
    def close(self):
        self.closed_at = timezone.now()

    @transition(
        field=state,
        # Also after filings and notices: the investigation may show it was no breach after
        # all; the GBA and the controllers told are then owed that (obligations.py).
        source=[State.DETECTED, State.ASSESSED, State.GBA_NOTIFIED, State.CONTROLLER_NOTIFIED],
        target=State.DISMISSED,
        permission=TRANSITION_PERMISSIONS["dismiss"],
    )
    def dismiss(self, reason):
        if not (reason or "").strip():
            raise ValidationError(
                {"reason": _("Say why this is not a personal-data breach; the register keeps it.")}
            )
        self.dismissal_reason = reason.strip()
        self.closed_at = timezone.now()


def approximate_count(label, help_text):
    """A number of people or records: empty when not known yet (or not split yet)."""
    return models.PositiveIntegerField(label, null=True, blank=True, help_text=help_text)


class Assessment(models.Model):
    """What the breach is, what it hits, how bad it is. One per incident, updated in place;
    every change is an event in the audit trail."""

    class Origin(models.TextChoices):
        INTERNAL = "internal", gettext_lazy("Internal")
        EXTERNAL = "external", gettext_lazy("External")
        UNKNOWN = "unknown", gettext_lazy("Not known yet")

    class Actor(models.TextChoices):
        HUMAN = "human", gettext_lazy("Human")
        TECHNICAL = "technical", gettext_lazy("Technical")
        UNKNOWN = "unknown", gettext_lazy("Not known yet")

    class Intent(models.TextChoices):
        ACCIDENTAL = "accidental", gettext_lazy("Accidental")
        MALICIOUS = "malicious", gettext_lazy("Malicious")
        UNKNOWN = "unknown", gettext_lazy("Not known yet")

    class SubjectsInformed(models.TextChoices):
        INFORMED = "informed", gettext_lazy("Informed")
        PLANNED = "planned", gettext_lazy("Will be informed")
        NOT_INFORMED = "not_informed", gettext_lazy("Will not be informed")
        UNDECIDED = "undecided", gettext_lazy("Not decided yet")

    class Art34Ground(models.TextChoices):
        """Why a high risk needs no communication to each data subject (GDPR art. 34(3))."""

        UNINTELLIGIBLE = (
            "unintelligible",
            gettext_lazy(
                "The data is unintelligible to anyone not authorised, e.g. encrypted "
                "(art. 34(3)(a))"
            ),
        )
        RISK_REMOVED = (
            "risk_removed",
            gettext_lazy(
                "Measures taken since ensure the high risk is no longer likely (art. 34(3)(b))"
            ),
        )
        PUBLIC = (
            "public",
            gettext_lazy(
                "Informing each one would take disproportionate effort: a public communication "
                "instead (art. 34(3)(c))"
            ),
        )

    class Unintelligible(models.TextChoices):
        YES = "yes", gettext_lazy("Yes: encrypted or otherwise unintelligible")
        NO = "no", gettext_lazy("No")
        UNKNOWN = "unknown", gettext_lazy("Not known yet")

    class Risk(models.TextChoices):
        # What the documents print: the legal test, not what the desk does about it.
        NONE = "none", gettext_lazy("Unlikely to result in a risk")
        RISK = "risk", gettext_lazy("Risk to the rights and freedoms of the data subjects")
        HIGH = "high", gettext_lazy("High risk to the rights and freedoms of the data subjects")

    incident = models.OneToOneField(Incident, on_delete=models.PROTECT, related_name="assessment")
    confidentiality = models.BooleanField(gettext_lazy("confidentiality breach"), default=False)
    integrity = models.BooleanField(gettext_lazy("integrity breach"), default=False)
    availability = models.BooleanField(gettext_lazy("availability breach"), default=False)
    cause_origin = models.CharField(
        gettext_lazy("internal or external"), max_length=10, choices=Origin.choices
    )
    cause_actor = models.CharField(
        gettext_lazy("human or technical"), max_length=10, choices=Actor.choices
    )
    cause_intent = models.CharField(
        gettext_lazy("accidental or malicious"), max_length=10, choices=Intent.choices
    )
    data_categories = models.ManyToManyField(
        DataCategory, verbose_name=gettext_lazy("categories of personal data")
    )
    special_categories = models.BooleanField(
        gettext_lazy("special categories involved (art. 9-10)"), default=False
    )
    subject_categories = models.ManyToManyField(
        SubjectCategory, verbose_name=gettext_lazy("categories of data subjects")
    )
    subjects_count = approximate_count(
        gettext_lazy("approximate number of people"),
        gettext_lazy("Leave empty when not known yet: the documents say so."),
    )
    records_count = approximate_count(
        gettext_lazy("approximate number of records"),
        gettext_lazy("Leave empty when not known yet: the documents say so."),
    )
    consequences = models.TextField(
        gettext_lazy("likely consequences"),
        blank=True,
        help_text=gettext_lazy("Leave empty when not known yet: the documents say so."),
        max_length=LONG_TEXT,
        validators=limited_text(LONG_TEXT),
    )
    measures_taken = models.TextField(
        gettext_lazy("measures taken"), max_length=LONG_TEXT, validators=limited_text(LONG_TEXT)
    )
    measures_proposed = models.TextField(
        gettext_lazy("measures proposed"),
        blank=True,
        max_length=LONG_TEXT,
        validators=limited_text(LONG_TEXT),
    )
    subjects_informed = models.CharField(
        gettext_lazy("data subjects informed"), max_length=12, choices=SubjectsInformed.choices
    )
    art34_ground = models.CharField(
        gettext_lazy("ground for not informing them (art. 34(3))"),
        max_length=16,
        choices=Art34Ground.choices,
        blank=True,
        help_text=gettext_lazy("Required when the risk is high and they will not be informed."),
    )
    data_unintelligible = models.CharField(
        gettext_lazy("was the data encrypted or unintelligible?"),
        max_length=8,
        choices=Unintelligible.choices,
        default=Unintelligible.UNKNOWN,
    )
    subjects_informed_reason = models.TextField(
        gettext_lazy("how, or why not (art. 34(3))"),
        max_length=MEDIUM_TEXT,
        validators=limited_text(MEDIUM_TEXT),
    )
    processing_activities = models.ManyToManyField(
        ProcessingActivity,
        blank=True,
        verbose_name=gettext_lazy("processing activities affected"),
        help_text=gettext_lazy("The purpose of the processing, as the GBA form asks for it."),
    )
    measures_before = models.TextField(
        gettext_lazy("security measures in place before the breach"),
        blank=True,
        max_length=LONG_TEXT,
        validators=limited_text(LONG_TEXT),
    )
    international = models.TextField(
        gettext_lazy("international aspects"),
        blank=True,
        max_length=MEDIUM_TEXT,
        validators=limited_text(MEDIUM_TEXT),
        help_text=gettext_lazy("Data subjects or establishments in other countries, if any."),
    )
    risk_reasoning = models.TextField(
        gettext_lazy("reasoning for the risk level"),
        blank=True,
        max_length=MEDIUM_TEXT,
        validators=limited_text(MEDIUM_TEXT),
        help_text=gettext_lazy(
            "Why this level: the register keeps it (GDPR art. 33(5)). Required when the "
            "breach is unlikely to result in a risk."
        ),
    )
    other_authorities = models.TextField(
        gettext_lazy("other supervisory authorities (cross-border)"),
        blank=True,
        max_length=MEDIUM_TEXT,
        validators=limited_text(MEDIUM_TEXT),
        help_text=gettext_lazy("Empty when no other authority is concerned or it is not known."),
    )
    enisa_dpc = models.PositiveSmallIntegerField(
        gettext_lazy("data processing context"), choices=enisa.DPC_CATEGORIES
    )
    enisa_dpc_adjustment = models.DecimalField(
        gettext_lazy("context adjustment"),
        max_digits=3,
        decimal_places=2,
        default=0,
        validators=[MinValueValidator(-3), MaxValueValidator(3)],
        help_text=gettext_lazy(
            "Volume, vulnerable people, invalid or public data may move the DPC within 1-4."
        ),
    )
    enisa_ease_of_identification = models.DecimalField(
        gettext_lazy("ease of identification"),
        max_digits=3,
        decimal_places=2,
        choices=enisa.EASE_OF_IDENTIFICATION,
    )
    enisa_confidentiality = models.DecimalField(
        gettext_lazy("loss of confidentiality"),
        max_digits=3,
        decimal_places=2,
        default=0,
        choices=enisa.CONFIDENTIALITY_CIRCUMSTANCES,
    )
    enisa_integrity = models.DecimalField(
        gettext_lazy("loss of integrity"),
        max_digits=3,
        decimal_places=2,
        default=0,
        choices=enisa.INTEGRITY_CIRCUMSTANCES,
    )
    enisa_availability = models.DecimalField(
        gettext_lazy("loss of availability"),
        max_digits=3,
        decimal_places=2,
        default=0,
        choices=enisa.AVAILABILITY_CIRCUMSTANCES,
    )
    enisa_malicious = models.BooleanField(gettext_lazy("malicious intent"), default=False)
    risk_level = models.CharField(gettext_lazy("risk"), max_length=4, choices=Risk.choices)
    translations = models.JSONField(
        gettext_lazy("the free texts in other languages"),
        default=dict,
        blank=True,
        validators=[TranslationsValidator("incidents.Assessment")],
    )
    assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False
    )
    assessed_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"{self.incident.reference} assessment"

    # Each kind of breach and the ENISA grade of how it was hit (asked together, once).
    GRADED_KINDS = {
        "confidentiality": "enisa_confidentiality",
        "integrity": "enisa_integrity",
        "availability": "enisa_availability",
    }

    @property
    def dpc(self):
        return self.enisa_dpc + self.enisa_dpc_adjustment

    def clean(self):
        inputs_given = self.enisa_dpc is not None and self.enisa_dpc_adjustment is not None
        if inputs_given and not 1 <= self.dpc <= 4:
            raise ValidationError(
                {
                    "enisa_dpc_adjustment": _(
                        "With this adjustment the context score would be %(score)s; it "
                        "must stay within 1 and 4."
                    )
                    % {"score": self.dpc}
                }
            )
        if not (self.confidentiality or self.integrity or self.availability):
            raise ValidationError(
                _("Tick at least one kind of breach: confidentiality, integrity or availability.")
            )
        for kind, grade in self.GRADED_KINDS.items():
            if not getattr(self, kind) and getattr(self, grade):
                raise ValidationError(
                    {
                        grade: _(
                            "A loss is graded but this kind of breach is not ticked: tick it, "
                            "or set the grade to its lowest."
                        )
                    }
                )
        check_art34(self, self)
        if self.risk_level == self.Risk.NONE and not (self.risk_reasoning or "").strip():
            raise ValidationError(
                {
                    "risk_reasoning": _(
                        "Say why the breach is unlikely to result in a risk: the register keeps "
                        "the reasoning (GDPR art. 33(5))."
                    )
                }
            )

    @property
    def severity(self):
        return enisa.severity(
            self.dpc,
            self.enisa_ease_of_identification,
            self.enisa_confidentiality,
            self.enisa_integrity,
            self.enisa_availability,
            self.enisa_malicious,
        )

    def breach_types(self):
        labels = {
            "confidentiality": gettext_lazy("confidentiality"),
            "integrity": gettext_lazy("integrity"),
            "availability": gettext_lazy("availability"),
        }
        return [label for name, label in labels.items() if getattr(self, name)]

    def missing_items(self):
        """What still stops the incident from being assessed (empty when complete). The kind
        of breach is not among them: clean() refuses an assessment without one."""
        missing = []
        if not self.data_categories.exists():
            missing.append(_("categories of personal data"))
        if not self.subject_categories.exists():
            missing.append(_("categories of data subjects"))
        if not self.incident.controllers.exists():
            missing.append(_("controllers affected"))
        return missing

    def unknowns(self):
        """What is saved as not known yet: a GBA notification with any of these is an initial
        one, to be completed (GDPR art. 33(4))."""
        unknown = []
        if self.subjects_count is None:
            unknown.append(_("number of data subjects"))
        if self.records_count is None:
            unknown.append(_("number of records"))
        if not (self.consequences or "").strip():
            unknown.append(_("likely consequences"))
        for field in ("cause_origin", "cause_actor", "cause_intent"):
            if getattr(self, field) == "unknown":
                unknown.append(_("cause of the breach"))
                break
        if self.incident.ended_at is None:
            unknown.append(_("end of the breach"))
        return unknown


class AssessmentDraft(models.Model):
    """One person's assessment in progress, saved as they go: what they typed, as typed, even
    while it is incomplete or a figure is still a guess. It is not the assessment: it moves no
    state and stops no clock; saving the assessment uses it up."""

    incident = models.ForeignKey(
        Incident, on_delete=models.PROTECT, related_name="assessment_drafts"
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    data = models.JSONField(default=dict)  # the form's fields: name -> the values typed
    saved_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["incident", "author"], name="one_draft_per_person")
        ]

    def __str__(self):
        return f"{self.incident.reference} draft by {self.author}"


def check_art34(decision, assessment):
    """A high risk and no communication needs a ground of art. 34(3); unintelligible data as
    that ground needs the data recorded as unintelligible."""
    high = assessment.risk_level == Assessment.Risk.HIGH
    not_informed = decision.subjects_informed == Assessment.SubjectsInformed.NOT_INFORMED
    if high and not_informed and not decision.art34_ground:
        raise ValidationError(
            {
                "art34_ground": _(
                    "The risk is high: not informing the data subjects needs a ground of "
                    "art. 34(3). Choose it, or choose “not decided yet”."
                )
            }
        )
    if (
        decision.art34_ground == Assessment.Art34Ground.UNINTELLIGIBLE
        and assessment.data_unintelligible != Assessment.Unintelligible.YES
    ):
        raise ValidationError(
            {
                "art34_ground": _(
                    "Unintelligible data is a ground only when the assessment records the data "
                    "as encrypted or otherwise unintelligible."
                )
            }
        )


class AppendOnly(models.Model):
    """Rows that are written once and never changed or deleted (audit trail, documents)."""

    refusal = gettext_lazy("This record is append-only.")

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValidationError(str(self.refusal))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(str(self.refusal))


class EventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise ValidationError(_("The audit trail is append-only."))

    def delete(self):
        raise ValidationError(_("The audit trail is append-only."))


class IncidentEvent(AppendOnly):
    """One line of the audit trail. Rows are only ever inserted (see also migration 0003,
    which makes PostgreSQL itself refuse UPDATE and DELETE)."""

    class Kind(models.TextChoices):
        CREATED = "created", gettext_lazy("Logged")
        TRANSITION = "transition", gettext_lazy("State changed")
        CHANGED = "changed", gettext_lazy("Fact changed")
        AWARE_AT_CORRECTED = "aware_at_corrected", gettext_lazy("Awareness time corrected")
        ASSESSED = "assessed", gettext_lazy("Assessment changed")
        ACKNOWLEDGED = "acknowledged", gettext_lazy("Alert acknowledged")
        DOCUMENT_DOWNLOADED = "downloaded", gettext_lazy("Document downloaded")
        NOTICE_SENT = "notice_sent", gettext_lazy("Controller notice sent")
        OBLIGATIONS = "obligations", gettext_lazy("Obligations changed")
        RECORDED = "recorded", gettext_lazy("Notification recorded")
        MERGED = "merged", gettext_lazy("Duplicate merged")

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    from_state = models.CharField(max_length=20, blank=True, choices=State.choices)
    to_state = models.CharField(max_length=20, blank=True, choices=State.choices)
    field = models.CharField(max_length=64, blank=True)
    before = models.JSONField(null=True)
    after = models.JSONField(null=True)
    note = models.TextField(blank=True)

    objects = EventQuerySet.as_manager()

    class Meta:
        ordering = ["at", "id"]
        # (incident, at, id): the page's latest events come straight from the index, also
        # when a platform breach has written thousands.
        indexes = [models.Index(fields=["incident", "at", "id"], name="incident_event_latest")]

    refusal = gettext_lazy("The audit trail is append-only.")

    def __str__(self):
        return f"{self.incident_id} {self.kind} {self.at:%Y-%m-%d %H:%M}"


class Document(AppendOnly):
    """A generated document, stored and never overwritten. A new version is made only when
    the facts it is made from changed (facts_sha256)."""

    class Kind(models.TextChoices):
        GBA_NOTIFICATION = "gba_notification", gettext_lazy("GBA notification")
        REPORT = "report", gettext_lazy("Incident report")
        CONTROLLER_NOTICE = "controller_notice", gettext_lazy("Notice to the controller")
        REGISTER_PDF = "register_pdf", gettext_lazy("Breach register (PDF)")
        REGISTER_CSV = "register_csv", gettext_lazy("Breach register (CSV)")
        REGIME_SUMMARY = "regime_summary", gettext_lazy("Report under another regime")

    incident = models.ForeignKey(
        Incident, on_delete=models.PROTECT, null=True, related_name="documents"
    )
    controller = models.ForeignKey(Controller, on_delete=models.PROTECT, null=True)
    # The report of another regime this document is for (NIS2's early warning to the CCB, say).
    rule = models.ForeignKey(RegimeRule, on_delete=models.PROTECT, null=True, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    language = models.CharField(max_length=2, choices=LANGUAGES)
    version = models.PositiveIntegerField()
    facts_sha256 = models.CharField(max_length=64)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    content = models.BinaryField(null=True, editable=False)
    filters = models.JSONField(null=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        # The incident page lists its own documents and counts the letters of thousands.
        indexes = [models.Index(fields=["incident", "controller", "kind"])]
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "kind", "language", "version"],
                condition=models.Q(controller=None, incident__isnull=False, rule=None),
                name="one_incident_document_version",
            ),
            models.UniqueConstraint(
                fields=["incident", "rule", "language", "version"],
                condition=models.Q(rule__isnull=False),
                name="one_regime_document_version",
            ),
            models.UniqueConstraint(
                fields=["incident", "controller", "kind", "language", "version"],
                condition=models.Q(controller__isnull=False),
                name="one_notice_version",
            ),
        ]

    refusal = gettext_lazy("Generated documents are never overwritten.")

    def __str__(self):
        return f"{self.get_kind_display()} v{self.version} ({self.language})"

    @property
    def filename(self):
        stem = self.incident.reference if self.incident_id else "register"
        extension = "csv" if self.kind == self.Kind.REGISTER_CSV else "pdf"
        return f"{stem}-{self.kind.replace('_', '-')}-{self.language}-v{self.version}.{extension}"


class DocumentDownload(AppendOnly):
    """Who downloaded which document when (append-only)."""

    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="downloads")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    refusal = gettext_lazy("The audit trail is append-only.")

    def __str__(self):
        return f"{self.document} by {self.user_id}"


class ReferenceChange(AppendOnly):
    """A change to reference data (controllers, categories, the escalation policy, people),
    made in the admin, on the controllers' pages or through the API: who, when, what before,
    what after. Documents and pages use this data, so its history is part of the audit trail."""

    class Action(models.TextChoices):
        ADDED = "added", gettext_lazy("added")
        CHANGED = "changed", gettext_lazy("changed")
        DELETED = "deleted", gettext_lazy("deleted")

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    model = models.CharField(max_length=100)
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(max_length=200)
    action = models.CharField(max_length=8, choices=Action.choices)
    before = models.JSONField(null=True)
    after = models.JSONField(null=True)

    refusal = gettext_lazy("The audit trail is append-only.")

    class Meta:
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.model} {self.object_repr} {self.action}"


class AffectedController(models.Model):
    """One controller an incident affects, with its own share of the facts: how many of *its*
    data subjects and records, which of *its* categories, the purpose of *its* processing.
    Empty means "not split yet": the controller's documents then print the platform's figures
    and say so. When it was told (its awareness, art. 33(1)) is its tell-the-controller
    obligation's; its mandate is the processing agreement's (Controller.gba_on_behalf)."""

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="affected")
    controller = models.ForeignKey(Controller, on_delete=models.PROTECT, related_name="affected")
    subjects_count = approximate_count(
        gettext_lazy("approximate number of its data subjects"),
        gettext_lazy("Empty: not split yet (the documents print the platform's total)."),
    )
    records_count = approximate_count(
        gettext_lazy("approximate number of its records"),
        gettext_lazy("Empty: not split yet (the documents print the platform's total)."),
    )
    data_categories = models.ManyToManyField(
        DataCategory,
        blank=True,
        related_name="+",
        verbose_name=gettext_lazy("its categories of personal data"),
    )
    subject_categories = models.ManyToManyField(
        SubjectCategory,
        blank=True,
        related_name="+",
        verbose_name=gettext_lazy("its categories of data subjects"),
    )
    processing_activities = models.ManyToManyField(
        ProcessingActivity,
        blank=True,
        related_name="+",
        verbose_name=gettext_lazy("the purpose of its processing"),
    )

    subjects_informed = models.CharField(
        gettext_lazy("its data subjects informed (art. 34)"),
        max_length=12,
        choices=Assessment.SubjectsInformed.choices,
        blank=True,
        help_text=gettext_lazy("Empty: as decided for the platform in the assessment."),
    )
    art34_ground = models.CharField(
        gettext_lazy("its ground for not informing them (art. 34(3))"),
        max_length=16,
        choices=Assessment.Art34Ground.choices,
        blank=True,
    )

    # What people enter per controller (the API, the page); the rest comes from elsewhere.
    FACTS = [
        "subjects_count",
        "records_count",
        "data_categories",
        "subject_categories",
        "processing_activities",
        "subjects_informed",
        "art34_ground",
    ]

    class Meta:
        db_table = "incidents_incident_controllers"  # the plain many-to-many table it grew from
        unique_together = [("incident", "controller")]
        verbose_name = gettext_lazy("affected controller")

    def __str__(self):
        return f"{self.incident_id}: {self.controller_id}"

    def subjects_decision(self):
        """(decision, ground) of art. 34 for this controller: its own, else the platform's."""
        assessment = self.incident.assessment_or_none()
        if self.subjects_informed:
            return self.subjects_informed, self.art34_ground
        if assessment is None:
            return Assessment.SubjectsInformed.UNDECIDED, ""
        return assessment.subjects_informed, assessment.art34_ground

    def clean(self):
        assessment = self.incident.assessment_or_none()
        if self.subjects_informed and assessment is not None:
            check_art34(self, assessment)

    @cached_property
    def told_at(self):
        """When the controller was told: its awareness, from which its own 72 hours run."""
        return (
            Obligation.objects.filter(
                incident_id=self.incident_id,
                controller_id=self.controller_id,
                kind=Obligation.Kind.TELL_CONTROLLER,
                status=Obligation.Status.MET,
            )
            .values_list("met_at", flat=True)
            .first()
        )


class DeadlineRule(models.Model):
    """The regime table (DOMAIN.md, "Other clocks"): how long each obligation may take, from
    which moment. Data, editable in the admin; an obligation keeps the deadline it was given
    when it was created (a corrected awareness time recomputes the open ones)."""

    class Kind(models.TextChoices):
        TELL_CONTROLLER = "tell_controller", gettext_lazy("Tell the controller")
        NOTIFY_GBA = "notify_gba", gettext_lazy("Notify the GBA for the controller")
        COMPLETE_GBA = "complete_gba", gettext_lazy("Complete the GBA notification (part 2)")
        INFORM_SUBJECTS = "inform_subjects", gettext_lazy("Inform the data subjects")
        CONTROLLER_GBA = "controller_gba", gettext_lazy("The controller notifies the GBA itself")
        # Kept current until the file closes: what changed after a controller was told or
        # the GBA was notified, and a filing withdrawn when the breach turned out not to be one.
        UPDATE_CONTROLLER = "update_controller", gettext_lazy("Update the controller")
        GBA_FOLLOW_UP = "gba_follow_up", gettext_lazy("Send the GBA a follow-up")
        GBA_WITHDRAWAL = "gba_withdrawal", gettext_lazy("Withdraw the GBA notification")
        # A report another regime asks for (RegimeRule): to the CCB under NIS2, say.
        REGIME = "regime", gettext_lazy("Report under another regime")

    class Anchor(models.TextChoices):
        AWARE = "aware", gettext_lazy("Conitro became aware")
        CONTROLLER_TOLD = "controller_told", gettext_lazy("the controller was told")
        GBA_PART1 = "gba_part1", gettext_lazy("part 1 was filed with the GBA")
        HIGH_RISK = "high_risk", gettext_lazy("the high risk was assessed")
        CHANGED = "changed", gettext_lazy("the facts changed, or the incident was dismissed")

    kind = models.CharField(
        gettext_lazy("obligation"), max_length=20, choices=Kind.choices, unique=True
    )
    anchor = models.CharField(gettext_lazy("from"), max_length=20, choices=Anchor.choices)
    delay = models.DurationField(gettext_lazy("within"))
    basis = models.CharField(gettext_lazy("legal basis"), max_length=300, blank=True)

    class Meta:
        ordering = ["delay", "kind"]
        verbose_name = gettext_lazy("deadline rule")

    def __str__(self):
        return f"{self.get_kind_display()}: {self.delay} from {self.get_anchor_display()}"


class Obligation(models.Model):
    """Something Conitro owes for one incident and one controller, with its own deadline.
    Created by the workflow (incidents/obligations.py), never deleted: a controller taken off
    the incident withdraws its obligations, a no-risk decision makes the GBA's not required."""

    Kind = DeadlineRule.Kind

    class Status(models.TextChoices):
        OPEN = "open", gettext_lazy("open")
        MET = "met", gettext_lazy("met")
        NOT_REQUIRED = "not_required", gettext_lazy("not required")
        WITHDRAWN = "withdrawn", gettext_lazy("withdrawn")

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="obligations")
    controller = models.ForeignKey(Controller, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    deadline_at = models.DateTimeField(gettext_lazy("deadline"))
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    met_at = models.DateTimeField(null=True, blank=True)
    met_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    how = models.CharField(max_length=200, blank=True, validators=ONE_LINE)
    reference = models.CharField(max_length=44, blank=True, validators=ONE_LINE)
    delay_reason = models.TextField(
        blank=True, max_length=MEDIUM_TEXT, validators=limited_text(MEDIUM_TEXT)
    )
    note = models.TextField(
        blank=True, max_length=MEDIUM_TEXT, validators=limited_text(MEDIUM_TEXT)
    )
    # An update or a follow-up is owed again after each change: round 1, 2, … (0 for the rest).
    round = models.PositiveSmallIntegerField(default=0)
    # Which report of another regime (kind "regime"); owed by Conitro itself.
    rule = models.ForeignKey(
        RegimeRule, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["deadline_at", "kind", "controller_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "kind", "controller", "round"],
                condition=models.Q(rule=None),
                name="one_obligation_per_controller_and_round",
            ),
            models.UniqueConstraint(
                fields=["incident", "rule", "round"],
                condition=models.Q(rule__isnull=False),
                name="one_obligation_per_regime_rule",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "deadline_at"]),
            models.Index(fields=["incident", "status", "kind"]),
            # The incident page: the open ones first, soonest deadline first, 50 of thousands.
            models.Index(fields=["incident", "status", "deadline_at"]),
        ]
        verbose_name = gettext_lazy("obligation")

    def __str__(self):
        return f"{self.incident_id} {self.kind} {self.controller_id}: {self.status}"

    @property
    def late(self):
        at = self.met_at if self.status == self.Status.MET else timezone.now()
        return self.status in {self.Status.OPEN, self.Status.MET} and at > self.deadline_at
