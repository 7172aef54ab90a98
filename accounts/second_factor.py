"""The second factor: a TOTP code from an authenticator app (django-otp's TOTP devices).

Why django-otp: it is the small, well-kept core that django-two-factor-auth and others build on;
we need exactly one method (TOTP, RFC 6238) and our own two short pages, not a framework of
wizards and SMS tokens (an SMS code would travel on the very channel that pages people).

After the password, a person who must (managers, the DPO, admin users) or chose to (security
staff) use a second factor sees one page: the code form; or, the first time, the QR code of a
new key and the code form that confirms it, but only once the session opened the person's
invitation link (accounts/invitations.py): a password alone never enrols a device. Until then
every page sends them there.
"""

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_otp import login as otp_login
from django_otp.oath import hotp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from . import invitations

ISSUER = "Conitro breach desk"
# Paths a person who still owes the second factor may open.
OPEN_PATHS = ("/account/two-factor/", "/logout/", "/static/", "/ack/", "/webhooks/", "/api/")


def confirmed_device(user):
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def owes_second_factor(request):
    user = request.user
    if not user.is_authenticated or user.is_verified():
        return False
    return user.requires_second_factor or confirmed_device(user) is not None


class SecondFactorMiddleware:
    """Sends a logged-in person who still owes the second factor to the code page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith(OPEN_PATHS) and owes_second_factor(request):
            target = reverse("two-factor") + "?next=" + request.get_full_path()
            return HttpResponseRedirect(target)
        return self.get_response(request)


def qr_svg(device):
    return segno.make(device.config_url, error="m").svg_data_uri(scale=5)


@login_required
def two_factor(request):
    """Enter the code; the first time, with an invitation, scan the new key and confirm it."""
    next_url = request.POST.get("next") or request.GET.get("next") or reverse("incidents:dashboard")
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}):
        next_url = reverse("incidents:dashboard")
    device = confirmed_device(request.user)
    if device is None:
        return enrol(request, next_url)
    if request.method == "POST" and "recovery" in request.POST:
        return recover(request, next_url)
    error = code_error(request, device)
    if request.method == "POST" and not error:
        otp_login(request, device)
        return HttpResponseRedirect(next_url)
    return page(request, next_url, error=error)


def recovery_device(user):
    return StaticDevice.objects.filter(user=user, confirmed=True).first()


def recovery_left(user):
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def new_recovery_codes(user):
    """RECOVERY_CODES new single-use codes (django-otp's static tokens), replacing any
    earlier ones; shown once, kept by django-otp as they are (like the TOTP key)."""
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=_("recovery codes"), confirmed=True)
    codes = [StaticToken.random_token() for _n in range(settings.RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=c) for c in codes])
    return codes


def show_codes(request, codes, next_url):
    """The codes, once: in groups of four, to write down or print."""
    return render(
        request,
        "accounts/recovery_codes.html",
        {"codes": [f"{code[:4]} {code[4:]}" for code in codes], "next": next_url},
    )


def recover(request, next_url):
    """A lost phone: one recovery code stands in for the TOTP code, once."""
    device = recovery_device(request.user)
    code = "".join(request.POST.get("recovery", "").split()).lower()
    if device is None:
        return page(
            request,
            next_url,
            error=_(
                "You have no recovery codes: ask an administrator to reset your second factor."
            ),
        )
    allowed, _why = device.verify_is_allowed()
    if not allowed:
        return page(
            request, next_url, error=_("Too many wrong codes: wait a few seconds, then try again.")
        )
    if not device.verify_token(code):
        return page(
            request, next_url, error=_("That recovery code is not right, or it was used already.")
        )
    otp_login(request, device)
    left = device.token_set.count()
    messages.warning(
        request,
        ngettext(
            "Recovery code used: %(count)s left. Move your second factor to your new phone "
            "on your profile.",
            "Recovery code used: %(count)s left. Move your second factor to your new phone "
            "on your profile.",
            left,
        )
        % {"count": left},
    )
    return HttpResponseRedirect(next_url)


@login_required
def recovery_codes(request):
    """New recovery codes (the old ones stop working), for a person who passed the second
    factor in this session."""
    if request.method != "POST" or not request.user.is_verified():
        return HttpResponseRedirect(reverse("profile"))
    return show_codes(request, new_recovery_codes(request.user), reverse("profile"))


@login_required
def new_phone(request):
    """Move the second factor to a new phone: a new key, confirmed with a code from the new
    phone; the old phone's key stops working then. Only in a session that passed the second
    factor (with the old phone or a recovery code)."""
    if not request.user.is_verified():
        return HttpResponseRedirect(reverse("two-factor") + "?next=" + reverse("profile"))
    user = request.user
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, confirmed=False, name=ISSUER)
    error = code_error(request, device)
    if request.method == "POST" and not error:
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        otp_login(request, device)
        messages.success(request, _("Your second factor is now on the new phone."))
        return HttpResponseRedirect(reverse("profile"))
    return page(request, reverse("profile"), device=device, error=error, moving=True)


def code_error(request, device):
    """What is wrong with the code posted ("" when it is right, or nothing was posted)."""
    if request.method != "POST":
        return ""
    allowed, _why = device.verify_is_allowed()
    if not allowed:
        # django-otp doubles the wait after each wrong code: guessing 10^6 codes is hopeless.
        return _("Too many wrong codes: wait a few seconds, then enter the code shown now.")
    code = "".join(request.POST.get("code", "").split())
    if code.isascii() and code.isdigit() and device.verify_token(code):
        return ""
    if used_already(device, code):
        return _(
            "That code was right, but it was used already (each code counts once): wait for "
            "the next one, then enter it."
        )
    return _("That code is not right, or it expired: enter the 6 digits shown now.")


def used_already(device, code):
    """The code of the time step last used: right, but a replay, which django-otp refuses."""
    if not (code.isascii() and code.isdigit()) or device.last_t < 0:
        return False
    return hotp(device.bin_key, device.last_t, digits=device.digits) == int(code)


def enrol(request, next_url):
    """No device yet: without an invitation opened in this session, offer to e-mail one;
    with it, show a new key and confirm it with a code."""
    user = request.user
    if not invitations.may_enrol(request):
        notice = ""
        if request.method == "POST" and request.POST.get("invite"):
            if invitations.recently_invited(user):
                notice = _("An invitation was sent a few minutes ago: look for it in your mailbox.")
            elif invitations.send_invitation(user):
                notice = _("Sent: open the link in the e-mail on this device.")
            else:
                notice = _("You have no e-mail address: ask an administrator for an invitation.")
        return page(request, next_url, invited=False, notice=notice)
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, confirmed=False, name=ISSUER)
    error = code_error(request, device)
    if request.method == "POST" and not error:
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        invitations.used(request)
        otp_login(request, device)
        return show_codes(request, new_recovery_codes(user), next_url)
    return page(request, next_url, device=device, error=error)


def page(request, next_url, *, device=None, invited=True, notice="", error="", moving=False):
    setting_up = device is not None
    key = device.config_url.split("secret=")[1].split("&")[0] if setting_up else ""
    return render(
        request,
        "accounts/two_factor.html",
        {
            "setting_up": setting_up,
            "needs_invitation": not invited,
            "qr": qr_svg(device) if setting_up else "",
            "key": key,
            # Typed from another screen: in groups of four, as authenticator apps show keys.
            "key_grouped": " ".join(key[i : i + 4] for i in range(0, len(key), 4)),
            # On the phone that shows this page: the otpauth:// link opens the app.
            "otpauth": device.config_url if setting_up else "",
            "email": masked(request.user.email),
            "notice": notice,
            "error": error,
            "next": next_url,
            "optional": not request.user.requires_second_factor,
            "moving": moving,
            "has_recovery": device is None and recovery_device(request.user) is not None,
        },
        status=400 if error else 200,
    )


def masked(email):
    """m…@conitro.be: enough to recognise one's own address, not to learn someone's."""
    name, _at, domain = (email or "").partition("@")
    return f"{name[:1]}…@{domain}" if domain else ""


@login_required
def accept_invitation(request, token):
    """The link from the invitation e-mail, opened after logging in."""
    if invitations.accept(request, token):
        return HttpResponseRedirect(reverse("two-factor"))
    return render(
        request,
        "accounts/two_factor.html",
        {
            "needs_invitation": True,
            "email": masked(request.user.email),
            "error": _(
                "This invitation is not valid for you any more (used, replaced by a newer one, "
                "or older than a day): ask for a new one below."
            ),
            "next": reverse("incidents:dashboard"),
        },
        status=400,
    )
