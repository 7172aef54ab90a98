"""Web pages: thin views over the workflow. Every page needs a login; what a page offers
follows the person's role and the incident's state."""

import uuid
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef, Q
from django.http import Http404, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import get_language, gettext_lazy, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from incident_manager import languages

from . import (
    controller_import,
    downloads,
    drafts,
    fact_texts,
    merging,
    picker,
    ports,
    reference_audit,
    workflow,
)
from . import obligations as obligations_rules
from . import severity as enisa
from .forms import (
    ACTION_FORMS,
    AffectedControllerForm,
    AssessmentForm,
    ControllerForm,
    DashboardFilterForm,
    FactsForm,
    IncidentForm,
    RegimeReportForm,
    RegimeRequestForm,
    RegisterFilterForm,
    TextsForm,
)
from .models import (
    AffectedController,
    Controller,
    Document,
    Incident,
    Obligation,
    RegimeRule,
    State,
)

PAGE_SIZE = 50


def add_errors(form, error):
    """Show a model or workflow ValidationError on the form, next to its field if it has one."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


def apply_or_show(form, change):
    """Run a workflow change; a ValidationError, or a refusal of the person's role (changed
    since the page was shown), is shown on the form, whose input stays, and None returned."""
    try:
        return change()
    except ValidationError as error:
        add_errors(form, error)
    except PermissionDenied as error:
        form.add_error(None, str(error))
        form.refused = True  # the page answers 403, with the form as it was sent
    return None


def not_now(request, incident):
    """A form for what cannot be done now (a closed incident, a step already recorded): the
    incident page, which says why, instead of a form nobody could send."""
    if incident.is_open:
        messages.info(request, _("This cannot be recorded now: the incident page shows what is."))
    else:
        messages.info(
            request,
            _("%(reference)s is %(state)s: its facts and records are read-only now.")
            % {"reference": incident.reference, "state": incident.get_state_display()},
        )
    return redirect("incidents:detail", pk=incident.pk)


def back_on_conflict(view):
    """Someone else changed the incident, or its state no longer allows the action: say so
    on the incident's page, which shows the incident as it now is."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except workflow.IncidentChanged as error:
            messages.error(request, error.message_for(request.user))
            return redirect("incidents:detail", pk=error.incident.pk)
        except workflow.TransitionRefused as error:
            messages.error(request, str(error))
            return redirect("incidents:detail", pk=error.incident.pk)

    return wrapped


def search(text):
    """Every word (at most 10) somewhere in the incident, in any order."""
    found = Q()
    for word in text.split()[:10]:
        controllers = Incident.controllers.through.objects.filter(incident=OuterRef("pk")).filter(
            Q(controller__name__icontains=word) | Q(controller__enterprise_number__icontains=word)
        )
        found &= (
            Q(reference__icontains=word)
            | Q(title__icontains=word)
            | Q(description__icontains=word)
            | Q(discovered_how__icontains=word)
            | Exists(controllers)
        )
    return found


@login_required
@permission_required("incidents.view_controller", raise_exception=True)
def controller_lookup(request):
    """The controller picker's search (picker.js): up to 20 by name or KBO number."""
    return JsonResponse({"controllers": picker.lookup(request.GET.get("q"))})


@login_required
def dashboard(request):
    """The open incidents, most urgent first; searchable, filtered, kept current by
    dashboard.js, which fetches the table again every DASHBOARD_REFRESH_SECONDS."""
    if not request.user.has_perm("incidents.view_incident"):
        raise PermissionDenied(
            _("Your account has no role yet: ask an administrator to give you one.")
        )
    filters = DashboardFilterForm(request.GET or None)
    chosen = filters.cleaned_data if filters.is_valid() else {}
    now = timezone.now()
    incidents = Incident.objects.open().with_clock()
    overdue = incidents.filter(next_deadline__lte=now).count()
    if chosen.get("q") or chosen.get("state") in (State.CLOSED, State.DISMISSED):
        # A search looks through every incident, closed and dismissed ones too, for each word
        # in any order: reference, title, texts, and the names and numbers of its controllers.
        incidents = Incident.objects.with_clock().filter(search(chosen.get("q") or ""))
    if chosen.get("state"):
        incidents = incidents.filter(state=chosen["state"])
    if chosen.get("mine"):
        incidents = incidents.filter(
            Q(created_by=request.user) | ports.paging.paging_person(request.user)
        )
    if chosen.get("overdue"):
        incidents = incidents.filter(next_deadline__lte=now)
    # Who acknowledged last and whether anyone was paged: the paging app's answers.
    incidents = ports.paging.annotate(incidents.select_related("assessment")).order_by(
        *DASHBOARD_ORDER[chosen.get("sort") or "deadline"]
    )
    page = Paginator(incidents, PAGE_SIZE).get_page(request.GET.get("page"))
    # The rows as objects once: the table's "next alert" (notifications' next_alerts tag, the
    # pages that will really go out) is set on them.
    page.object_list = list(page.object_list)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "page": page,
        "now": now,
        "overdue": overdue,
        "filters": filters,
        "query": query.urlencode(),
        "may_log": request.user.has_perm("incidents.add_incident"),
        "refresh_seconds": settings.DASHBOARD_REFRESH_SECONDS,
    }
    if request.headers.get("X-Dashboard-Refresh"):  # dashboard.js: the table alone
        return render(request, "incidents/dashboard_table.html", context)
    return render(request, "incidents/dashboard.html", context)


DASHBOARD_ORDER = {
    # The earliest open obligation first; what owes nothing now last.
    "deadline": [F("next_deadline").asc(nulls_last=True), "deadline_at", "id"],
    "newest": ["-created_at", "-id"],
    "reference": ["reference"],
}


@login_required
@permission_required("incidents.add_incident", raise_exception=True)
def create(request):
    form = IncidentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        values = dict(form.cleaned_data)
        # What was typed: the same token sent again with other words is not a double-click.
        typed = {name: value for name, value in values.items() if name != "submission"}
        values["fingerprint"] = merging.fingerprint(typed)
        try:
            incident = apply_or_show(form, lambda: workflow.log_incident(request.user, **values))
        except workflow.SubmissionReused as reused:
            return changed_resubmission(request, reused.incident)
        if incident:
            tell_what_was_logged(request, incident)
            return redirect("incidents:detail", pk=incident.pk)
    return render(request, "incidents/form.html", {"form": form, "title": _("Log a breach")})


def changed_resubmission(request, earlier):
    """Back, edit, send again: the first sending logged `earlier`; what was changed since is
    kept in the form and logged only if the person says it is a new breach (a new token)."""
    data = request.POST.copy()
    data["submission"] = uuid.uuid4().hex
    form = IncidentForm(data)
    messages.warning(
        request,
        _(
            "This form was already sent: %(reference)s was logged then. What you changed since "
            "is kept below and not logged yet: log it as a new incident if it is another "
            "breach, or correct %(reference)s if it is the same one."
        )
        % {"reference": earlier.reference},
    )
    return render(
        request,
        "incidents/form.html",
        {
            "form": form,
            "title": _("Log a breach"),
            "submit_label": _("Log as a new incident"),
            "also": (
                reverse("incidents:edit", args=[earlier.pk]),
                _("Correct %(reference)s") % {"reference": earlier.reference},
            ),
        },
        status=409,
    )


def tell_what_was_logged(request, incident):
    """The reference and the deadline; a form sent twice says so; an incident logged after
    its deadline, or one that looks like another logged minutes ago, is pointed out."""
    deadline = timezone.localtime(incident.deadline_at).strftime("%d/%m/%Y %H:%M %Z")
    if incident.repeated:
        messages.info(
            request,
            _("This form was already sent: %(reference)s was logged then, nothing new was logged.")
            % {"reference": incident.reference},
        )
        return
    messages.success(
        request,
        _("%(reference)s logged. The deadline is %(deadline)s.")
        % {"reference": incident.reference, "deadline": deadline},
    )
    if incident.deadline_at <= timezone.now():
        messages.warning(
            request,
            _(
                "Already past its deadline (%(deadline)s): notify the GBA and the controllers "
                "now, and record why it is late."
            )
            % {"deadline": deadline},
        )
    for other in workflow.similar_to(incident):
        minutes = max(int((incident.created_at - other.created_at).total_seconds() // 60), 0)
        messages.warning(
            request,
            ngettext(
                "A similar incident, %(reference)s “%(title)s”, was logged %(minutes)s minute "
                "ago. If it is the same breach, merge this one into it.",
                "A similar incident, %(reference)s “%(title)s”, was logged %(minutes)s minutes "
                "ago. If it is the same breach, merge this one into it.",
                minutes,
            )
            % {"reference": other.reference, "title": other.title, "minutes": minutes},
        )


def incident_with_everything(pk):
    incidents = Incident.objects.select_related(
        "created_by", "assessment", "assessment__assessed_by"
    ).prefetch_related(
        "assessment__data_categories",
        "assessment__subject_categories",
        "assessment__processing_activities",
    )
    return get_object_or_404(incidents, pk=pk)


# A shared platform can touch 5,000 controllers: the page lists the first ones and counts all.
OBLIGATIONS_LISTED = 20
EVENTS_LISTED = 30
CONTROLLERS_LISTED = 10


def missing_texts(incident):
    """Said before anyone downloads: per document language, the free texts not given in it
    (the document would print them as written, and says so)."""
    missing = []
    for language, name in fact_texts.DOCUMENT_LANGUAGES.items():
        fields = fact_texts.missing(incident, language)
        if fields:
            missing.append(
                {
                    "language": language,
                    "name": name,
                    "fields": ", ".join(str(fact_texts.verbose_name(i, f)) for i, f in fields),
                }
            )
    return missing


@login_required
@permission_required("incidents.view_incident", raise_exception=True)
def detail(request, pk):
    incident = incident_with_everything(pk)
    actions = workflow.allowed_actions(incident, request.user)
    forms = {
        action: ACTION_FORMS[action](initial={"version": incident.version}, incident=incident)
        for action in actions
        if action in ACTION_FORMS
    }
    # Open ones first, then by deadline; the rest counted (a platform breach has thousands).
    events = list(
        incident.events.select_related("actor")
        .defer("before", "after")
        .order_by("-at", "-id")[:EVENTS_LISTED]
    )
    events_count = incident.events.count() if len(events) == EVENTS_LISTED else len(events)
    listed = incident.obligations.select_related("controller", "met_by", "rule__regime")
    obligations = list(
        listed.filter(status=Obligation.Status.OPEN).order_by("deadline_at")[:OBLIGATIONS_LISTED]
    )
    if len(obligations) < OBLIGATIONS_LISTED:
        obligations += listed.exclude(status=Obligation.Status.OPEN).order_by("-updated_at")[
            : OBLIGATIONS_LISTED - len(obligations)
        ]
    for o in obligations:
        o.shown_note = obligations_rules.note_shown(o)  # why not owed, in the reader's language
    counts = {
        (Obligation.Kind(row["kind"]).label, Obligation.Status(row["status"]).label): row["n"]
        for row in incident.obligations.values("kind", "status").annotate(n=Count("id"))
    }
    # Any ten (sorting 5,000 names for a glance costs more than it tells), each with its own
    # figures and when it was told.
    affected = list(incident.affected.select_related("controller").order_by()[:CONTROLLERS_LISTED])
    controllers = [row.controller for row in affected]
    told = dict(
        incident.obligations.filter(
            kind=Obligation.Kind.TELL_CONTROLLER,
            status=Obligation.Status.MET,
            controller__in=controllers,
        ).values_list("controller_id", "met_at")
    )
    for row in affected:
        row.told = told.get(row.controller_id)
    return render(
        request,
        "incidents/detail.html",
        {
            "incident": incident,
            "obligations": obligations,
            "obligations_more": max(0, sum(counts.values()) - OBLIGATIONS_LISTED),
            "obligation_counts": [(k, s, n) for (k, s), n in sorted(counts.items())],
            "controllers_for_documents": controllers,
            "affected": affected,
            # A notification exists only in the name of a controller that gave the mandate.
            "gba_notification_possible": not incident.controllers.exists()
            or incident.controllers.filter(Q(gba_on_behalf=True) | Q(is_conitro=True)).exists(),
            "controllers_count": incident.controllers.count(),
            # The latest events; the report holds the whole trail (a platform breach's notices
            # alone make thousands). Loaded without their JSON: the sentences are cached.
            "events": events[::-1],
            "events_left_out": max(0, events_count - EVENTS_LISTED),
            "missing_texts": missing_texts(incident),
            "delay_reason_wanted": timezone.now() > incident.deadline_at
            and not incident.gba_delay_reason
            and workflow.action_possible(incident, "notify_gba"),
            "assessment": incident.assessment_or_none(),
            # Reports an authority may ask for (NIS2's intermediate report), regime switched on.
            "requestable": RegimeRule.objects.filter(
                regime__in=incident.regimes.all(), anchor=RegimeRule.Anchor.REQUEST
            ).select_related("regime")
            if incident.is_open
            else [],
            "drafts": incident.assessment_drafts.select_related("author").order_by("-saved_at")
            if incident.is_open
            else [],
            "actions": actions,
            "action_forms": forms,
            "may_edit": incident.is_open and request.user.has_perm("incidents.change_incident"),
            "now": timezone.now(),
            # The incident's own documents; the controllers' letters are counted (thousands).
            "documents": incident.documents.filter(controller=None)
            .select_related("created_by")
            .defer("content"),
            "letters": incident.documents.exclude(controller=None).count(),
            # Alerts to people; the notices to controllers are on the notices' page and API.
            "notices_by_status": ports.paging.notices_by_status(incident),
        },
    )


@login_required
@permission_required("incidents.change_incident", raise_exception=True)
@back_on_conflict
def edit(request, pk):
    incident = get_object_or_404(Incident, pk=pk)
    if request.method == "GET" and not incident.is_open:
        return not_now(request, incident)
    form = FactsForm(request.POST or None, instance=incident, initial={"version": incident.version})
    conflicts = []
    if request.method == "POST" and form.is_valid():

        def save(names, version):
            changes = {name: form.cleaned_data[name] for name in names}
            return workflow.update_facts(pk, request.user, changes, version)

        done, conflicts, form = save_merging(
            request,
            form,
            pk,
            lambda fresh: merging.stored_values(form, fresh),
            save,
            lambda data: FactsForm(data, instance=incident),
        )
        if done:
            return redirect("incidents:detail", pk=pk)
    elif request.method != "POST":
        form.initial["base"] = merging.sign_base(form, merging.stored_values(form, incident))
    return render(
        request,
        "incidents/form.html",
        {
            "form": form,
            "incident": incident,
            "title": _("Correct the facts"),
            "conflicts": conflicts,
        },
        status=409 if conflicts else 200,
    )


def save_merging(request, form, pk, stored, save, rebuild, said=None):
    """Save what the person changed, merged with what others saved since their page was made
    (incidents/merging.py). `stored(incident)`: the form's fields as stored now; `save(names,
    version)`: run the workflow for these fields; `rebuild(data)`: the form again with these
    data. (saved incident or None, conflicts, form):
    on a conflict the form comes back with the person's input, the version now and a new base,
    and each conflicting field with what it is now, who changed it and when."""
    fresh = Incident.objects.get(pk=pk)
    now = stored(fresh)
    theirs = merging.taken_theirs(form)
    if fresh.version == form.cleaned_data["version"]:
        names = [name for name in merging.merged_fields(form) if name not in theirs]
        for name in theirs:
            form.cleaned_data[name] = now[name]
        saved = apply_or_show(form, lambda: save(names, fresh.version))
        if saved:
            messages.success(request, said or _("Saved."))
        return saved, [], form
    outcome = merging.reconcile(form, now)
    if outcome is None:
        raise workflow.IncidentChanged(fresh)  # a page made before bases: refused as before
    if outcome.conflicts:
        data = request.POST.copy()
        data["version"] = fresh.version
        data["base"] = merging.sign_base(form, now)
        data.setlist("take_theirs", [])
        again = rebuild(data)
        again.is_valid()
        conflicts = []
        for name in outcome.conflicts:
            who, when = merging.who_changed(fresh, name, outcome.since)
            conflicts.append(
                {
                    "name": name,
                    "label": again.fields[name].label,
                    "theirs": merging.shown(again, name, now[name]),
                    "who": who,
                    "when": when,
                }
            )
        return None, conflicts, again
    names = [name for name in outcome.mine if name not in theirs]
    for name in merging.merged_fields(form):
        if name not in names and outcome.changed_by_others(name, now):
            form.cleaned_data[name] = now[name]  # what others saved meanwhile stays
    saved = apply_or_show(form, lambda: save(names, fresh.version))
    if saved:
        messages.success(
            request,
            _("Saved, together with what others changed while you were editing."),
        )
    return saved, [], form


@login_required
@permission_required("incidents.assess_incident", raise_exception=True)
@back_on_conflict
def assess(request, pk):
    incident = get_object_or_404(Incident.objects.select_related("assessment"), pk=pk)
    if request.method == "GET" and not incident.is_open:
        return not_now(request, incident)
    assessment = incident.assessment_or_none()

    def assessment_form(data=None, initial=None):
        return AssessmentForm(
            data,
            instance=assessment,
            initial=initial or {"version": incident.version},
            incident=incident,
        )

    def stored(fresh):
        return merging.stored_values(
            form, fresh.assessment_or_none(), workflow.named_controllers(fresh)
        )

    def save(_names, version):
        # The fields the person did not change hold what is stored now (save_merging).
        return workflow.assess(pk, request.user, form.values(), form.relation_values(), version)

    if request.method == "POST" and "draft" in request.POST:
        return keep_draft(request, incident, assessment_form())
    draft = drafts.of(incident, request.user)
    form = assessment_form(request.POST or None)
    conflicts = []
    if request.method == "POST" and form.is_valid():
        done, conflicts, form = save_merging(
            request, form, pk, stored, save, assessment_form, _("Assessment saved.")
        )
        if done:
            drafts.use_up(incident, request.user)
            return redirect("incidents:detail", pk=pk)
    elif request.method != "POST" and draft is not None:
        form = assessment_form(initial=drafts.as_initial(form, draft))
    elif request.method != "POST":
        form.initial["base"] = merging.sign_base(form, stored(incident))
    return render(
        request,
        "incidents/assessment.html",
        {
            "form": form,
            "incident": incident,
            "title": _("Assess the breach"),
            "bands": enisa.BANDS,
            "conflicts": conflicts,
            "draft": draft,
            "draft_saved_after_ms": int(settings.DRAFT_SAVED_AFTER_SECONDS * 1000),
            "others_drafting": incident.assessment_drafts.exclude(author=request.user)
            .select_related("author")
            .order_by("-saved_at"),
        },
        status=409 if conflicts else 200,
    )


def keep_draft(request, incident, form):
    """Save the person's assessment as typed, as their draft (incidents/drafts.py): from a
    step's button (back to the page) or from the page as they type (JSON)."""
    wants_json = request.headers.get("Accept") == "application/json"
    if not incident.is_open:
        if wants_json:
            return JsonResponse(
                {"error": _("The incident is closed: nothing was saved.")}, status=409
            )
        return not_now(request, incident)
    try:
        draft = drafts.keep(incident, request.user, form, request.POST)
    except drafts.TooLong as refused:
        if wants_json:
            return JsonResponse({"error": str(refused)}, status=400)
        messages.error(request, str(refused))
        return redirect("incidents:assess", pk=incident.pk)
    time = date_format(timezone.localtime(draft.saved_at), "H:i:s T")
    if wants_json:  # a line at the foot of the screen, under the typing
        return JsonResponse({"saved": _("Draft saved at %(time)s.") % {"time": time}})
    said = _(
        "Draft saved at %(time)s. It is not the assessment yet: the incident stays as it is "
        "until you save the assessment."
    ) % {"time": time}
    messages.success(request, said)
    step = request.POST.get("draft", "")
    anchor = f"#step-{step}" if step.isdigit() else ""
    return redirect(reverse("incidents:assess", args=[incident.pk]) + anchor)


@login_required
@permission_required("incidents.assess_incident", raise_exception=True)
@back_on_conflict
def affected_controller(request, pk, controller_id):
    """One controller's own share of the facts: its counts, categories, purpose."""
    incident = get_object_or_404(Incident.objects.select_related("assessment"), pk=pk)
    affected = get_object_or_404(
        AffectedController.objects.select_related("controller"),
        incident=incident,
        controller_id=controller_id,
    )
    form = AffectedControllerForm(
        request.POST or None, instance=affected, initial={"version": incident.version}
    )
    if request.method == "POST" and form.is_valid():
        values, version = form.values(), form.cleaned_data["version"]
        if apply_or_show(
            form, lambda: workflow.update_affected(pk, request.user, controller_id, values, version)
        ):
            messages.success(
                request, _("The facts of %(name)s are saved.") % {"name": affected.controller}
            )
            return redirect("incidents:detail", pk=pk)
    title = _("Facts of %(name)s") % {"name": affected.controller}
    return render(
        request,
        "incidents/form.html",
        {
            "form": form,
            "incident": incident,
            "title": title,
            "intro": _(
                "Its own share of the breach. Leave a figure or a list empty while it is not "
                "split per controller: its documents then print the platform's and say so."
            ),
        },
    )


@login_required
@permission_required("incidents.change_incident", raise_exception=True)
@back_on_conflict
def translate_texts(request, pk, language):
    """The free texts in another language, for the documents in that language."""
    if language not in languages.CODES:
        raise Http404
    incident = get_object_or_404(Incident.objects.select_related("assessment"), pk=pk)
    form = TextsForm(
        request.POST or None,
        initial={"version": incident.version},
        incident=incident,
        language=language,
    )
    if request.method == "POST" and form.is_valid():
        values = dict(form.cleaned_data)
        version = values.pop("version")
        if apply_or_show(
            form, lambda: workflow.translate(pk, request.user, language, values, version)
        ):
            messages.success(request, _("Saved."))
            return redirect("incidents:detail", pk=pk)
    names = languages.names()
    return render(
        request,
        "incidents/form.html",
        {
            "form": form,
            "incident": incident,
            "title": _("The texts in %(language)s") % {"language": names[language]},
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
@back_on_conflict
def action(request, pk, action):
    if action not in ACTION_FORMS:
        raise Http404
    incident = get_object_or_404(Incident, pk=pk)
    if request.method == "GET":  # say so before anyone types into a form they may not send
        workflow.check_permission(request.user, "dismiss" if action == "merge" else action)
        if action not in workflow.allowed_actions(incident, request.user):
            return not_now(request, incident)
    form = ACTION_FORMS[action](
        request.POST or None, initial={"version": incident.version}, incident=incident
    )
    if request.method == "POST" and form.is_valid():
        arguments = dict(form.cleaned_data)
        version = arguments.pop("version")
        arguments.pop("confirm", None)  # the close page's "yes"
        if action == "merge":
            change = lambda: workflow.merge(pk, request.user, arguments["original"], version)  # noqa: E731
        else:
            change = lambda: workflow.transition(pk, request.user, action, version, **arguments)  # noqa: E731
        if apply_or_show(form, change):
            messages.success(request, DONE_MESSAGES[action])
            return redirect("incidents:detail", pk=pk)
    return render(
        request,
        "incidents/form.html",
        {
            "form": form,
            "incident": incident,
            "title": workflow.ACTION_TITLES[action],
            "submit_label": SUBMIT_LABELS.get(action, _("Record")),
        },
        status=403 if getattr(form, "refused", False) else 200,
    )


# What the button says and what the page says afterwards: the action, not "Save".
SUBMIT_LABELS = {
    "close": gettext_lazy("Close the incident"),
    "dismiss": gettext_lazy("Dismiss"),
    "merge": gettext_lazy("Merge into the original"),
}
DONE_MESSAGES = {
    "notify_gba": gettext_lazy("Recorded: the GBA notification."),
    "complete_gba": gettext_lazy("Recorded: the completed GBA notification (part 2)."),
    "notify_controller": gettext_lazy("Recorded: the controllers were told."),
    "inform_subjects": gettext_lazy("Recorded: the data subjects were informed."),
    "update_controller": gettext_lazy("Recorded: the update sent to the controllers."),
    "gba_follow_up": gettext_lazy("Recorded: the follow-up sent to the GBA."),
    "gba_withdrawal": gettext_lazy("Recorded: the withdrawal sent to the GBA."),
    "close": gettext_lazy("Closed: no more alerts; the register keeps it."),
    "dismiss": gettext_lazy("Dismissed: the register keeps it with the reason."),
    "merge": gettext_lazy("Merged into the original incident."),
}


@login_required
@permission_required("incidents.view_register", raise_exception=True)
def register(request):
    form = RegisterFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    incidents = Incident.objects.register(**filters).select_related("assessment").with_notices()
    page = Paginator(incidents, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "incidents/register.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "download_languages": list(languages.names().items()),
        },
    )


@login_required
@permission_required("incidents.view_controller", raise_exception=True)
def controllers(request):
    page = Paginator(Controller.objects.filter(is_conitro=False), CONTROLLERS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "incidents/controllers.html",
        {
            "page": page,
            "controllers": page.object_list,
            "may_manage": request.user.has_perm("incidents.change_controller"),
            "may_import": request.user.has_perm("incidents.add_controller"),
        },
    )


CONTROLLERS_PER_PAGE = 100


@login_required
@permission_required("incidents.add_controller", raise_exception=True)
@require_http_methods(["GET", "POST"])
def import_controllers(request):
    """A CSV of controllers: all saved, or none with every line's error."""
    errors = []
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            errors = [_("Choose a CSV file.")]
        else:
            try:
                created, updated = controller_import.import_controllers(request.user, upload.read())
            except ValidationError as refusal:
                errors = refusal.messages
            else:
                messages.success(
                    request,
                    _("%(created)s controllers added, %(updated)s updated.")
                    % {"created": created, "updated": updated},
                )
                return redirect("incidents:controllers")
    return render(
        request,
        "incidents/import_controllers.html",
        {
            "errors": errors,
            "required": controller_import.REQUIRED,
            "optional": controller_import.OPTIONAL,
        },
    )


@login_required
@permission_required("incidents.change_controller", raise_exception=True)
def controller_form(request, pk=None):
    controller = get_object_or_404(Controller, pk=pk) if pk else None
    if controller is None and not request.user.has_perm("incidents.add_controller"):
        raise Http404
    form = ControllerForm(request.POST or None, instance=controller)
    if request.method == "POST" and form.is_valid():
        before = reference_audit.snapshot(controller)
        with transaction.atomic():
            form.save()
            reference_audit.record(request.user, form.instance, before)
        messages.success(request, _("Controller saved."))
        return redirect("incidents:controllers")
    title = _("Edit controller") if controller else _("New controller")
    return render(request, "incidents/form.html", {"form": form, "title": title})


def downloading(fetch):
    """A web download: a refusal is a 403 page, a bad request says what to change."""

    @login_required
    @wraps(fetch)
    def view(request, *args, **kwargs):
        try:
            return fetch(request.user, request.GET, *args, **kwargs)
        except ValidationError as error:
            # Plain text: the message may echo what was asked for (?lang=<meta …>).
            return HttpResponseBadRequest(
                " ".join(error.messages), content_type="text/plain; charset=utf-8"
            )
        except downloads.NoMandate as refusal:
            return HttpResponse(str(refusal), status=409, content_type="text/plain; charset=utf-8")

    return view


@login_required
@permission_required("incidents.notify_incident", raise_exception=True)
@require_http_methods(["GET", "POST"])
@back_on_conflict
def regime_report(request, pk, rule_id):
    """Record a report another regime asks for (NIS2's to the CCB): it meets that obligation,
    and the reports that follow it are owed from then."""
    incident = get_object_or_404(Incident, pk=pk)
    rule = get_object_or_404(RegimeRule.objects.select_related("regime"), pk=rule_id)
    if (
        request.method == "GET"
        and not incident.obligations.filter(rule=rule, status=Obligation.Status.OPEN).exists()
    ):
        return not_now(request, incident)
    form = RegimeReportForm(request.POST or None, initial={"version": incident.version})
    if request.method == "POST" and form.is_valid():
        arguments = dict(form.cleaned_data)
        version = arguments.pop("version")
        if apply_or_show(
            form,
            lambda: workflow.report_under_regime(pk, request.user, rule.pk, version, **arguments),
        ):
            messages.success(
                request, _("Recorded: %(report)s.") % {"report": rule.name_in(get_language())}
            )
            return redirect("incidents:detail", pk=pk)
    return render(
        request,
        "incidents/form.html",
        {
            "form": form,
            "incident": incident,
            "title": f"{rule} — {rule.regime.authority}",
            "submit_label": _("Record the report"),
        },
    )


@login_required
@permission_required("incidents.notify_incident", raise_exception=True)
@require_http_methods(["GET", "POST"])
@back_on_conflict
def regime_request(request, pk, rule_id):
    """The authority asked for a report (NIS2's intermediate report to the CCB): owed from
    now, by the time it gave."""
    incident = get_object_or_404(Incident, pk=pk)
    rule = get_object_or_404(RegimeRule.objects.select_related("regime"), pk=rule_id)
    if request.method == "GET" and not incident.is_open:
        return not_now(request, incident)
    form = RegimeRequestForm(request.POST or None, initial={"version": incident.version})
    if request.method == "POST" and form.is_valid():
        due_at, version = form.cleaned_data["due_at"], form.cleaned_data["version"]
        if apply_or_show(
            form,
            lambda: workflow.request_regime_report(pk, request.user, rule.pk, due_at, version),
        ):
            messages.success(
                request,
                _("Owed now: %(report)s, by %(due)s.")
                % {
                    "report": rule.name_in(get_language()),
                    "due": date_format(timezone.localtime(due_at), "d/m/Y H:i T"),
                },
            )
            return redirect("incidents:detail", pk=pk)
    return render(
        request,
        "incidents/form.html",
        {
            "form": form,
            "incident": incident,
            "title": _("%(authority)s asked for: %(report)s")
            % {"authority": rule.regime.authority, "report": rule},
            "submit_label": _("Record the request"),
        },
    )


regime_summary_pdf = downloading(
    lambda user, params, pk, rule_id: downloads.regime_document(user, params, pk, rule_id)
)
gba_notification_pdf = downloading(
    lambda user, params, pk: downloads.incident_document(
        user, params, pk, Document.Kind.GBA_NOTIFICATION
    )
)
report_pdf = downloading(
    lambda user, params, pk: downloads.incident_document(user, params, pk, Document.Kind.REPORT)
)
register_csv = downloading(lambda user, params: downloads.register_document(user, params, "csv"))
register_pdf = downloading(lambda user, params: downloads.register_document(user, params, "pdf"))
