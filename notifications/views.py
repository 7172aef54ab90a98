"""Acknowledgement links and the providers' webhooks.

Every webhook checks the provider's signature first: a forged or unsigned request gets 403 and
changes nothing. Without credentials configured the webhooks refuse everything.
"""

from functools import wraps

from anymail.exceptions import AnymailWebhookValidationFailure
from anymail.webhooks.sendgrid import SendGridTrackingWebhookView
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import VoiceResponse

from accounts.models import User
from incidents import workflow
from incidents.documents.notice import notice_email
from incidents.documents.store import current_document, record_download
from incidents.downloads import attachment
from incidents.models import Document, Incident

from . import notices, reach
from .acknowledgements import acknowledge, acknowledge_page, acknowledge_reply, page_firings
from .models import Acknowledgement, Channel, Firing, Message
from .sending import update_status
from .texts import deadlines, how_long, read_ack_token

TWILIO_STATUSES = {
    "sent": Message.Status.SENT,
    "delivered": Message.Status.DELIVERED,
    "undelivered": Message.Status.UNDELIVERED,
    "failed": Message.Status.FAILED,
    "completed": Message.Status.DELIVERED,  # a call that was answered
    "busy": Message.Status.FAILED,
    "no-answer": Message.Status.FAILED,
    "canceled": Message.Status.FAILED,
}


@require_http_methods(["GET", "POST"])
def acknowledge_link(request, token):
    try:
        firing_id, user_id = read_ack_token(token)
    except signing.SignatureExpired:
        return render(request, "notifications/ack_invalid.html", {"expired": True}, status=410)
    except (signing.BadSignature, ValueError):
        return render(request, "notifications/ack_invalid.html", {"expired": False}, status=400)
    firing = get_object_or_404(Firing.objects.select_related("incident", "step"), pk=firing_id)
    user = get_object_or_404(User, pk=user_id, is_active=True)
    done = False
    if request.method == "POST":
        done = bool(acknowledge_page(firing, user, Acknowledgement.Via.LINK))
    # What the page listed, per incident (one, or a few in a digest), as it stands now.
    pages = {}
    listed = page_firings(firing, user)
    for each in listed:
        page = pages.setdefault(each.incident_id, {"steps": [], "firing": each, "others": set()})
        if each.step not in page["steps"]:
            page["steps"].append(each.step)
    for incident in Incident.objects.filter(pk__in=pages):
        page = pages[incident.pk]
        page.update(incident=incident, acknowledged=[], step_ids={s.pk for s in page["steps"]})
        page["firing"].incident = incident
    due_at = deadlines([page["firing"] for page in pages.values()])  # one query for them all
    for page in pages.values():
        page["deadline"] = due_at[page["firing"].pk]
    # Who else was paged about each incident for what this page listed (their own page or a
    # digest of theirs that lists it): two queries.
    sent = Message.objects.exclude(status__in=Message.NOT_PAGES).exclude(recipient=user)
    pairs = set(
        sent.filter(firing__in=listed).values_list("recipient_id", "firing__incident_id")
    ) | set(
        Message.also_for.through.objects.filter(firing__in=listed, message__in=sent).values_list(
            "message__recipient_id", "firing__incident_id"
        )
    )
    people = User.objects.in_bulk({person for person, _incident in pairs if person})
    for person, incident_id in pairs:
        if person in people:
            pages[incident_id]["others"].add(str(people[person]))
    now = timezone.now()
    for page in pages.values():
        page["others"] = sorted(page["others"])
        page["overdue"] = page["deadline"] <= now
    # Who acknowledged what was listed: one query for all the page's incidents.
    for each in (
        Acknowledgement.objects.filter(
            incident__in=pages, step__in=set().union(*(p["step_ids"] for p in pages.values()))
        )
        .select_related("user")
        .order_by("at", "pk")
    ):
        if each.step_id in pages[each.incident_id]["step_ids"]:
            pages[each.incident_id]["acknowledged"].append(each)
    pages = list(pages.values())
    # The page is in the language of the person paged, not of whatever phone opened the link.
    with translation.override(user.language):
        for page in pages:
            page["left"] = how_long(page["deadline"] - now, spoken=True)
        response = render(
            request,
            "notifications/ack.html",
            {
                "pages": pages,
                "person": user,
                "done": done,
                "any_open": any(page["incident"].is_open for page in pages),
                # Every step the page listed is acknowledged already: no button to press.
                "all_acknowledged": all(
                    page["step_ids"] <= {ack.step_id for ack in page["acknowledged"]}
                    for page in pages
                ),
            },
        )
        response["Content-Language"] = user.language
    return response


def twilio_signed(view):
    @csrf_exempt
    @require_POST
    @wraps(view)
    def checked(request, *args, **kwargs):
        if not settings.TWILIO_AUTH_TOKEN:
            return HttpResponseForbidden(
                "Twilio webhooks are off: TWILIO_AUTH_TOKEN is not set.", content_type="text/plain"
            )
        url = settings.PUBLIC_BASE_URL.rstrip("/") + request.get_full_path()
        signature = request.headers.get("X-Twilio-Signature", "")
        if not RequestValidator(settings.TWILIO_AUTH_TOKEN).validate(
            url, request.POST.dict(), signature
        ):
            return HttpResponseForbidden("Invalid Twilio signature.", content_type="text/plain")
        return view(request, *args, **kwargs)

    return checked


@twilio_signed
def twilio_status(request):
    sid = request.POST.get("MessageSid") or request.POST.get("CallSid") or ""
    reported = request.POST.get("MessageStatus") or request.POST.get("CallStatus") or ""
    status = TWILIO_STATUSES.get(reported)
    message = Message.objects.filter(provider_id=sid).select_related("firing").first()
    if message is not None and status is not None:
        error = request.POST.get("ErrorCode", "")
        update_status(message, status, f"Twilio error {error}" if error else "")
    return HttpResponse(status=204)


@twilio_signed
def twilio_sms(request):
    """A reply to one of our SMS: 'ACK' or 'ACK INC-2026-0042'."""
    acknowledgements = acknowledge_reply(request.POST.get("From", ""), request.POST.get("Body"))
    reply = MessagingResponse()
    if acknowledgements:
        references = dict.fromkeys(ack.incident.reference for ack in acknowledgements)
        reply.message(
            _("Acknowledged: %(reference)s. The next step still comes if it does not move on.")
            % {"reference": ", ".join(references)}
        )
    else:
        reply.message(_("Not understood. Reply ACK, or ACK followed by the reference."))
    return HttpResponse(str(reply), content_type="text/xml")


@twilio_signed
def twilio_voice(request, message_id):
    """The called person pressed a key during the call."""
    message = get_object_or_404(
        Message.objects.select_related("firing__step", "incident", "recipient"),
        pk=message_id,
        channel=Channel.CALL,
    )
    response = VoiceResponse()
    if request.POST.get("Digits") == "1" and message.kind == Message.Kind.TEST:
        update_status(message, Message.Status.DELIVERED)
        response.say(_("Thank you: alerts by phone reach you."))
    elif (
        request.POST.get("Digits") == "1"
        and message.firing
        and message.recipient
        and acknowledge_page(message.firing, message.recipient, Acknowledgement.Via.CALL)
    ):
        response.say(_("Acknowledged. Thank you."))
    else:
        response.say(_("Not acknowledged."))
    return response_xml(response)


def response_xml(response):
    return HttpResponse(str(response), content_type="text/xml")


sendgrid_view = SendGridTrackingWebhookView.as_view()


@csrf_exempt
def sendgrid_tracking(request):
    """SendGrid's event webhook through anymail, which checks the ECDSA signature
    (SENDGRID_TRACKING_WEBHOOK_VERIFICATION_KEY) or basic auth (ANYMAIL_WEBHOOK_SECRET)."""
    anymail = getattr(settings, "ANYMAIL", {})
    if not (
        anymail.get("SENDGRID_TRACKING_WEBHOOK_VERIFICATION_KEY") or anymail.get("WEBHOOK_SECRET")
    ):
        return HttpResponseForbidden(
            "SendGrid webhooks are off: no verification key is set.", content_type="text/plain"
        )
    try:
        return sendgrid_view(request)
    except AnymailWebhookValidationFailure:
        return HttpResponseForbidden("Invalid SendGrid signature.", content_type="text/plain")
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
        # Signed, but not the list of events SendGrid sends: nothing to record.
        return HttpResponseBadRequest("Not a SendGrid event list.", content_type="text/plain")


PREVIEWS = 10


@login_required
@require_http_methods(["GET", "POST"])
def controller_notices(request, pk):
    """Preview each affected controller's notice, then send them all."""
    incident = get_object_or_404(Incident.objects.select_related("assessment"), pk=pk)
    try:
        notices.check_may_send(incident, request.user)
    except workflow.TransitionRefused as error:
        messages.error(request, str(error))
        return redirect("incidents:detail", pk=pk)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("incidents:detail", pk=pk)
    error = None
    if request.method == "POST":
        try:
            sent = notices.send_notices(pk, request.user, request.POST.get("delay_reason", ""))
        except ValidationError as refusal:
            error = " ".join(refusal.messages)
        else:
            if sent:
                messages.success(
                    request,
                    ngettext("%(count)s notice sent.", "%(count)s notices sent.", len(sent))
                    % {"count": len(sent)},
                )
            else:  # sent again: every controller had its notice already
                messages.info(
                    request,
                    _("Every controller has its notice already: nothing new was sent."),
                )
            return redirect("incidents:detail", pk=pk)
    previous = notices.latest_notices(incident)
    waiting = notices.waiting_controllers(incident)
    # A platform breach waits for thousands: preview the first ones, count the rest.
    previews = [
        {
            "controller": controller,
            "email": notice_email(incident, controller),
            "previous": previous.get(controller.pk),
        }
        for controller in waiting[:PREVIEWS]
    ]
    return render(
        request,
        "notifications/notices.html",
        {
            "incident": incident,
            "previews": previews,
            "more": max(0, len(waiting) - PREVIEWS),
            "waiting": len(waiting),
            "late": timezone.now() > incident.deadline_at,
            "error": error,
        },
    )


@login_required
def controller_notice_pdf(request, pk, controller_pk):
    if not request.user.has_perm("incidents.view_incident"):
        raise PermissionDenied
    incident = get_object_or_404(Incident, pk=pk)
    # Only a controller the incident touches has a notice.
    controller = get_object_or_404(incident.controllers, pk=controller_pk)
    document = current_document(
        incident, Document.Kind.CONTROLLER_NOTICE, controller.language, request.user, controller
    )
    record_download(document, request.user)
    return attachment(document)


@login_required
@permission_required("incidents.view_incident", raise_exception=True)
@require_POST
def acknowledge_on_page(request, pk):
    """'I'm on it' from the incident page: acknowledges every step that paged this person."""
    incident = get_object_or_404(Incident, pk=pk)
    # The steps of this incident that paged this person, alone or listed in a page (a digest
    # may list steps of other incidents too: those are not acknowledged from here).
    paging = Message.objects.filter(recipient=request.user, firing__isnull=False)
    steps = {
        firing.step
        for firing in Firing.objects.filter(incident=incident)
        .filter(Q(messages__in=paging) | Q(merged_into__in=paging))
        .select_related("step")
    }
    acknowledged = [
        acknowledge(incident, step, request.user, Acknowledgement.Via.WEB)
        for step in sorted(steps, key=lambda s: s.position)
    ]
    if steps and not any(acknowledged):
        messages.error(request, _("This incident is closed: there is nothing to acknowledge."))
    elif steps:
        messages.success(request, _("Acknowledged. The repeats of your alerts stop."))
    else:
        messages.error(request, _("No alert was sent to you for this incident."))
    return redirect("incidents:detail", pk=pk)


@login_required
@require_POST
def test_page(request, channel):
    """Send oneself a test SMS, call or e-mail (its status shows on the profile)."""
    try:
        reach.send_test(request.user, channel)
    except reach.Refused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, _("Test sent: its status shows below."))
    return redirect(reverse("profile") + "#reach")


@login_required
@require_POST
def new_phone(request):
    """A new number: a code goes to it by SMS; the number in use stays until it is entered."""
    form = reach.NewPhoneForm(request.POST, instance=User.objects.get(pk=request.user.pk))
    if not form.is_valid():
        for error in form.errors.get("pending_phone", []):
            messages.error(request, error)
        return redirect(reverse("profile") + "#reach")
    try:
        reach.ask_for_code(request.user, form.cleaned_data["pending_phone"])
    except reach.Refused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, _("Code sent by SMS: enter it below."))
    return redirect(reverse("profile") + "#reach")


@login_required
@require_POST
def confirm_phone(request):
    try:
        number = reach.confirm_code(request.user, request.POST.get("code", ""))
    except reach.Refused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(
            request, _("Confirmed: alerts go to %(number)s from now on.") % {"number": number}
        )
    return redirect(reverse("profile") + "#reach")
