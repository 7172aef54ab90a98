"""A person's own profile: the language of their pages and pages, where they are paged, their
password and their second factor."""

from django import forms
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

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
