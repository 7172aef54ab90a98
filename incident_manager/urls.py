"""URL map: the web pages, the JSON API, its schema, the admin and login."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import JsonResponse
from django.urls import include, path
from django.views.defaults import page_not_found
from drf_spectacular.views import SpectacularAPIView

from accounts import second_factor
from accounts import views as account_views


def not_found(request, exception):
    """JSON for the API (a path that matches nothing, like /api/incidents/abc/), the usual
    page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return page_not_found(request, exception)


handler404 = not_found

urlpatterns = [
    # notifications first: its incidents/<pk>/notices/ must win over incidents/<pk>/<action>/.
    path("", include("notifications.urls")),
    path("", include("subjects.urls")),
    path("", include("incidents.urls")),
    path("api/", include("incidents.api_urls")),
    path("api/", include("notifications.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("account/two-factor/", second_factor.two_factor, name="two-factor"),
    path(
        "account/two-factor/recovery-codes/",
        second_factor.recovery_codes,
        name="recovery-codes",
    ),
    path("account/two-factor/new-phone/", second_factor.new_phone, name="second-factor-phone"),
    path(
        "account/two-factor/invitation/<str:token>/",
        second_factor.accept_invitation,
        name="second-factor-invitation",
    ),
    path("account/", account_views.profile, name="profile"),
    path("account/resume/", account_views.resume_form, name="resume-form"),
    path("account/keep-alive/", account_views.keep_alive, name="keep-alive"),
    path("account/password/", account_views.PasswordChange.as_view(), name="password-change"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
