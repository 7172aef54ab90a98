"""Can the desk reach you? A test SMS, call or e-mail to oneself, and proof of a new number.

A person sends themselves a test page from their profile and sees what the provider said of it
(queued, sent, delivered, failed and why), at most one per channel per TEST_PAGE_INTERVAL. A new
mobile number is used for pages only once the six-digit code sent to it by SMS was entered on
the profile: a typo, or someone else's number, never silently takes the pages. The code is
kept hashed (Django's password hashers), lives CODE_LIFETIME and allows CODE_TRIES tries; a
new code can be asked for once a minute. The number in use stays in use until then.
"""

import secrets

from django import forms
from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User

from .models import Channel, Message
from .queue import enqueue_send


class NewPhoneForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["pending_phone"]
        labels = {"pending_phone": gettext_lazy("New mobile number")}
        help_texts = {
            "pending_phone": gettext_lazy(
                "We send a code to it by SMS; alerts go to the new number once you entered it."
            )
        }


class Refused(Exception):
    """What the person is told; nothing was sent or changed."""


def recent_tests(user, count=6):
    return list(
        Message.objects.filter(
            recipient=user, kind__in=[Message.Kind.TEST, Message.Kind.PHONE_CODE]
        ).order_by("-created_at", "-pk")[:count]
    )


def send_test(user, channel):
    """Queue a test page to oneself on this channel; the message."""
    if channel not in Channel.values:
        raise Refused(_("Choose SMS, call or e-mail."))
    to = user.email if channel == Channel.EMAIL else user.phone
    if not to:
        raise Refused(
            _("You have no e-mail address: add one above first.")
            if channel == Channel.EMAIL
            else _("You have no mobile number: add one below first.")
        )
    with translation.override(user.language):
        context = {"person": user, "channel": channel}
        text = " ".join(render_to_string("notifications/reach/test.txt", context).split())
        subject = _("Test from the breach desk") if channel == Channel.EMAIL else ""
    with transaction.atomic():
        lock(user)  # two clicks at once: one test
        since = timezone.now() - settings.TEST_PAGE_INTERVAL
        if Message.objects.filter(
            recipient=user, kind=Message.Kind.TEST, channel=channel, created_at__gt=since
        ).exists():
            raise Refused(
                _("A test on this channel left less than a minute ago: see its status below.")
            )
        return queue(user, Message.Kind.TEST, channel, to, text, subject)


def lock(user):
    """The person's row, locked until the transaction ends (PostgreSQL; SQLite has one writer
    at a time): their tests, codes and tries are counted one request at a time."""
    return User.objects.select_for_update().get(pk=user.pk)


def queue(user, kind, channel, to, text, subject=""):
    with transaction.atomic():
        message = Message.objects.create(
            kind=kind, recipient=user, channel=channel, to=to, text=text, subject=subject
        )
        transaction.on_commit(lambda: enqueue_send(message.pk))
    return message


def ask_for_code(user, number):
    """Send a code to the new number (already validated and normalised); the message."""
    if not number:
        raise Refused(_("Enter the new mobile number."))
    if number == user.phone:
        raise Refused(_("This is the number in use already."))
    code = f"{secrets.randbelow(10**6):06d}"
    with translation.override(user.language):
        text = " ".join(
            render_to_string("notifications/reach/phone_code.txt", {"code": code}).split()
        )
    now = timezone.now()
    with transaction.atomic():
        user = lock(user)  # two requests at once: one code
        sent = user.phone_code_sent_at
        if sent and now - sent < settings.TEST_PAGE_INTERVAL:
            raise Refused(
                _("A code was sent less than a minute ago: wait for it, or try again soon.")
            )
        user.pending_phone, user.phone_code = number, make_password(code)
        user.phone_code_sent_at, user.phone_code_tries = now, 0
        user.save(
            update_fields=["pending_phone", "phone_code", "phone_code_sent_at", "phone_code_tries"]
        )
        return queue(user, Message.Kind.PHONE_CODE, Channel.SMS, number, text)


def confirm_code(user, code):
    """The code sent to the new number: right, and the number takes the pages from now on.
    Tries are counted under the person's row lock: tries sent at once all count."""
    refused = None
    with transaction.atomic():
        try:
            return check_code(lock(user), code)
        except Refused as refusal:
            refused = refusal  # the wrong try counted is committed; then it is said
    raise refused


def check_code(user, code):
    if not user.pending_phone:
        raise Refused(_("No new number is waiting for a code."))
    if timezone.now() - user.phone_code_sent_at > settings.PHONE_CODE_LIFETIME:
        raise Refused(_("This code expired: ask for a new one."))
    if user.phone_code_tries >= settings.PHONE_CODE_TRIES:
        raise Refused(_("Too many wrong codes: ask for a new one."))
    code = "".join((code or "").split())
    if not (code.isascii() and code.isdigit() and check_password(code, user.phone_code)):
        user.phone_code_tries += 1
        user.save(update_fields=["phone_code_tries"])
        raise Refused(
            _("That code is not the one sent to %(number)s.") % {"number": user.pending_phone}
        )
    user.phone, user.pending_phone, user.phone_code = user.pending_phone, "", ""
    user.phone_code_sent_at, user.phone_code_tries = None, 0
    user.save(
        update_fields=[
            "phone",
            "pending_phone",
            "phone_code",
            "phone_code_sent_at",
            "phone_code_tries",
        ]
    )
    return user.phone
