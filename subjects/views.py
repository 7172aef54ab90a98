"""The pages of a communication to the data subjects: its texts with a preview, its people
from a CSV file, Send with a progress bar, and the public notice (art. 34(3)(c))."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from incidents import obligations, workflow
from incidents.models import Incident, Obligation
from notifications.queue import enqueue

from . import importing, sending, texts
from .forms import RecipientsForm, SendForm, TextsForm
from .models import LANGUAGES, Communication, Recipient

SEND = "subjects.send_communication"


def informed_by_conitro(incident, controller_id):
    controller = get_object_or_404(incident.controllers, pk=controller_id)
    if not (controller.is_conitro or controller.subjects_informed_by_conitro):
        raise Http404(_("This controller informs its data subjects itself."))
    return controller


def owed(communication):
    return communication.incident.obligations.filter(
        kind=Obligation.Kind.INFORM_SUBJECTS, controller=communication.controller
    ).first()


@login_required
@permission_required("incidents.view_incident", raise_exception=True)
def communication(request, pk, controller_id):
    incident = get_object_or_404(Incident, pk=pk)
    controller = informed_by_conitro(incident, controller_id)
    current = Communication.objects.filter(incident=incident, controller=controller).first()
    written = current.texts if current else texts.defaults(incident, controller)
    texts_form = TextsForm(texts=written)
    recipients_form = RecipientsForm()
    send_form = SendForm()
    if request.method == "POST":
        if not request.user.has_perm(SEND):
            raise PermissionDenied(_("Only managers and the DPO may inform the data subjects."))
        action = request.POST.get("action")
        if action == "texts":
            texts_form = TextsForm(request.POST, texts=written)
            if texts_form.is_valid() and save_texts(request, incident, controller, texts_form):
                return redirect(request.path)
        elif action == "import" and current is not None:
            recipients_form = RecipientsForm(request.POST, request.FILES)
            if recipients_form.is_valid() and import_people(request, current, recipients_form):
                return redirect(request.path)
        elif action == "send" and current is not None:
            send_form = SendForm(request.POST)
            if send_form.is_valid() and start(request, current, send_form):
                return redirect(request.path)
        elif action == "publish" and current is not None:
            send_form = SendForm(request.POST)
            if send_form.is_valid() and publish(request, current, send_form):
                return redirect(request.path)
        elif action == "resend_uncertain" and current is not None:
            resend_uncertain(request, current)
            return redirect(request.path)
        else:
            messages.error(request, _("Save the texts first."))
            return redirect(request.path)
    return render(
        request,
        "subjects/communication.html",
        {
            "incident": incident,
            "controller": controller,
            "communication": current,
            "texts_form": texts_form,
            "recipients_form": recipients_form,
            "send_form": send_form,
            "previews": previews(current, incident, controller, written),
            "progress": progress(current) if current else None,
            "poll_seconds": settings.SUBJECTS_PROGRESS_SECONDS,
            "title": _("Inform the data subjects"),
        },
        status=400 if request.method == "POST" else 200,
    )


def previews(current, incident, controller, written):
    """Each language's message as a person named “Jan Peeters” would receive it."""
    shown = current or Communication(incident=incident, controller=controller, texts=written)
    result = []
    for language, name in LANGUAGES:
        subject, body = texts.message(shown, language, texts.greeting("Jan Peeters", language))
        result.append({"language": language, "name": name, "subject": subject, "body": body})
    return result


def save_texts(request, incident, controller, form):
    with transaction.atomic():
        current, _created = Communication.objects.select_for_update().get_or_create(
            incident=incident,
            controller=controller,
            defaults={"created_by": request.user, "texts": form.texts()},
        )
        if current.status != Communication.Status.DRAFT:
            messages.error(request, _("The communication has gone out: its texts stay as sent."))
            return False
        current.texts = form.texts()
        current.save(update_fields=["texts"])
    messages.success(request, _("The texts are saved."))
    return True


def import_people(request, current, form):
    try:
        added, twice = importing.add(current.pk, form.cleaned_data["file"].read())
    except ValidationError as refused:
        for error in refused.messages:
            form.add_error("file", error)
        return False
    messages.success(
        request,
        _("%(added)s people added; %(twice)s addresses listed twice were kept once.")
        % {"added": added, "twice": twice},
    )
    return True


def late_without_reason(current, form):
    """Past the obligation's deadline a reason is asked before anything goes out (the
    obligation would refuse it afterwards, once the people were told)."""
    obligation = owed(current)
    if obligation is None or obligation.status != Obligation.Status.OPEN:
        return False
    try:
        obligations.check_late([obligation], timezone.now(), form.cleaned_data["delay_reason"])
    except ValidationError as refused:
        for error in refused.message_dict["delay_reason"]:
            form.add_error("delay_reason", error)
        return True
    return False


def start(request, current, form):
    if late_without_reason(current, form):
        return False
    reason = form.cleaned_data["delay_reason"].strip()
    with transaction.atomic():
        locked = Communication.objects.select_for_update().get(pk=current.pk)
        languages = set(locked.recipients.values_list("language", flat=True).distinct())
        missing = [
            code for code in sorted(languages) if not locked.text(code).get("body", "").strip()
        ]
        if locked.status != Communication.Status.DRAFT or not languages or missing:
            form.add_error(
                None,
                _("Nothing to send: add the people first.")
                if not languages
                else _("Write the text in %(languages)s first.") % {"languages": ", ".join(missing)}
                if missing
                else _("It is already being sent."),
            )
            return False
        locked.status = Communication.Status.SENDING
        locked.sent_by, locked.started_at, locked.delay_reason = (
            request.user,
            timezone.now(),
            reason,
        )
        locked.save(update_fields=["status", "sent_by", "started_at", "delay_reason"])
        transaction.on_commit(lambda: enqueue("subjects.sending.send_all", locked.pk))
    messages.success(request, _("Sending: the progress shows here."))
    return True


def publish(request, current, form):
    """Art. 34(3)(c): a public communication instead, when individual messages would take
    disproportionate effort."""
    if late_without_reason(current, form):
        return False
    with transaction.atomic():
        locked = Communication.objects.select_for_update().get(pk=current.pk)
        if locked.status != Communication.Status.DRAFT:
            form.add_error(None, _("It is already being sent."))
            return False
        locked.status = Communication.Status.PUBLISHED
        locked.sent_by, locked.finished_at = request.user, timezone.now()
        locked.save(update_fields=["status", "sent_by", "finished_at"])
    url = request.build_absolute_uri(reverse("subjects:public", args=[locked.public_key]))
    obligation = owed(locked)
    if obligation is not None and obligation.status == Obligation.Status.OPEN:
        workflow.transition(
            locked.incident_id,
            request.user,
            "inform_subjects",
            how=(_("Public notice (art. 34(3)(c)): %(url)s") % {"url": url})[:200],
            controllers=[locked.controller],
            delay_reason=form.cleaned_data["delay_reason"].strip(),
        )
    messages.success(request, _("Published at %(url)s.") % {"url": url})
    return True


def resend_uncertain(request, current):
    """After an hour without any word from the provider, a person may send the uncertain ones
    again, knowingly: some of them may receive it twice."""
    count = sending.again(current.pk)
    if count:
        transaction.on_commit(lambda: enqueue("subjects.sending.send_all", current.pk))
    messages.info(request, _("%(count)s sent again.") % {"count": count})


def progress(current):
    counts = sending.counts(current)
    total = sum(counts.values())
    handed = total - counts.get("pending", 0) - counts.get("sending", 0)
    return {
        "total": total,
        "handed": handed,
        "rows": [(label, counts.get(value, 0)) for value, label in Recipient.Status.choices],
        "uncertain": counts.get("uncertain", 0),
        "status": current.get_status_display(),
        "running": current.status == Communication.Status.SENDING,
    }


@login_required
@permission_required("incidents.view_incident", raise_exception=True)
@require_GET
def progress_json(request, pk, controller_id):
    current = get_object_or_404(Communication, incident_id=pk, controller_id=controller_id)
    shown = progress(current)
    return JsonResponse(
        {"total": shown["total"], "handed": shown["handed"], "running": shown["running"]}
    )


@require_GET
def public(request, key):
    """The public notice (art. 34(3)(c)), in Dutch or French (and English), no login."""
    notice = get_object_or_404(
        Communication.objects.select_related("controller"),
        public_key=key,
        status=Communication.Status.PUBLISHED,
    )
    language = request.GET.get("lang", "nl")
    if language not in dict(LANGUAGES):
        language = "nl"
    with translation.override(language):
        subject, body = texts.message(notice, language, texts.greeting("", language))
        return render(
            request,
            "subjects/public.html",
            {
                "subject": subject,
                "body": body,
                "language": language,
                "languages": LANGUAGES,
                "sender": texts.sender(notice.controller),
                "published": notice.finished_at,
            },
        )
