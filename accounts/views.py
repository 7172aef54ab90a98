"""A person's own profile: the language of their pages and pages, where they are paged, their
password and their second factor."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils import translation
from django.utils.dateparse import parse_datetime
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from .middleware import restart_idle_clock
from .models import User
from .second_factor import confirmed_device, recovery_left


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        # The mobile number changes below, once a code sent to it proves it reaches its owner
        # (notifications/reach.py).
        fields = ["display_name", "email", "language"]
        help_texts = {
            "email": gettext_lazy("Alerts come here when SMS and calls fail."),
            "language": gettext_lazy("Of these pages, your SMS, calls and e-mails."),
        }


@login_required
def profile(request):
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        translation.activate(form.instance.language)
        messages.success(request, _("Profile saved."))
        return redirect("profile")
    return render(
        request,
        "accounts/profile.html",
        {
            "form": form,
            "device": confirmed_device(request.user),
            "recovery_left": recovery_left(request.user),
        },
    )


class PasswordChange(auth_views.PasswordChangeView):
    template_name = "accounts/password.html"
    success_url = reverse_lazy("profile")

    def form_valid(self, form):
        messages.success(self.request, _("Password changed."))
        return super().form_valid(form)


@login_required
def resume_form(request):
    """The form sent after the session ended, offered back once: what was typed, as text,
    and a button that sends it again to where it was going (with this session's token)."""
    kept = request.session.pop("kept_form", None)
    if not kept:
        messages.info(request, _("No form is waiting: nothing was kept, or it was sent already."))
        return redirect("incidents:dashboard")
    fields = [(name, value) for name, values in kept["data"].items() for value in values]
    shown = [(name, value) for name, value in fields if name not in HIDDEN_NAMES and value]
    return render(
        request,
        "accounts/resume.html",
        {
            "path": kept["path"] if url_has_allowed_host_and_scheme(kept["path"], None) else "/",
            "fields": fields,
            "shown": shown,
            "at": parse_datetime(kept["at"]),
        },
    )


@login_required
@require_POST
def keep_alive(request):
    """'Stay logged in', and typing in a form: any request the person makes extends the
    session (IdleTimeoutMiddleware); the seconds it now lasts."""
    restart_idle_clock(request.session)
    return JsonResponse({"expires_in": settings.SESSION_COOKIE_AGE})


# Bookkeeping a form carries that means nothing to the person reading what they typed.
HIDDEN_NAMES = {"version", "base", "submission", "next", "take_theirs"}
