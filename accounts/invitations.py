"""Enrolling a second factor takes a one-time invitation, never the password alone.

A new manager or DPO, or one whose device an administrator removed, has no second factor yet.
Whoever holds their password must not be able to enrol a device of their own: the key is shown
only to a session that opened the person's invitation link, which goes to the person's own
e-mail address (or which an administrator hands over: `manage.py invite_second_factor`). The
link is signed (django.core.signing), expires after a day, and is good once: it names the
moment of the latest invitation, which a new invitation replaces and enrolment clears.
"""

from django.conf import settings
from django.core import signing
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

MAX_AGE = 24 * 60 * 60
SESSION_KEY = "second_factor_invitation"
# A person asking again within this time is told to look for the e-mail already sent.
RESEND_AFTER = 10 * 60


class InvitationSigner(signing.TimestampSigner):
    def __init__(self):
        super().__init__(salt="breachdesk.second-factor-invitation")


def stamp(user):
    moment = user.second_factor_invited_at
    return f"{moment.timestamp():.6f}" if moment else ""


def invite(user):
    """A new invitation for this person (earlier links stop working); its link."""
    user.second_factor_invited_at = timezone.now()
    user.save(update_fields=["second_factor_invited_at"])
    token = InvitationSigner().sign(f"{user.pk}:{stamp(user)}")
    return settings.PUBLIC_BASE_URL.rstrip("/") + reverse("second-factor-invitation", args=[token])


def send_invitation(user):
    """E-mail a new invitation to the person's own address; False when they have none."""
    if not user.email:
        return False
    link = invite(user)
    with translation.override(user.language or "nl"):
        context = {"user": user, "link": link, "hours": MAX_AGE // 3600}
        subject = render_to_string("accounts/invitation_subject.txt", context).strip()
        body = render_to_string("accounts/invitation_email.txt", context)
    send_mail(subject, body, None, [user.email])
    return True


def recently_invited(user):
    moment = user.second_factor_invited_at
    return moment is not None and (timezone.now() - moment).total_seconds() < RESEND_AFTER


def accept(request, token):
    """The link opened in this person's own session: it may enrol a device now."""
    try:
        value = InvitationSigner().unsign(token, max_age=MAX_AGE)
    except signing.BadSignature:
        return False
    user = request.user
    if value != f"{user.pk}:{stamp(user)}" or not stamp(user):
        return False
    request.session[SESSION_KEY] = stamp(user)
    return True


def may_enrol(request):
    user = request.user
    return bool(stamp(user)) and request.session.get(SESSION_KEY) == stamp(user)


def used(request):
    """Enrolment done: the invitation is spent."""
    user = request.user
    user.second_factor_invited_at = None
    user.save(update_fields=["second_factor_invited_at"])
    request.session.pop(SESSION_KEY, None)
