"""Show the pages in the language a person chose in their profile; end an idle session; keep
a form sent after the session ended."""

import time

from django.conf import settings
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import urlencode


class UserLanguageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.language:
            translation.activate(user.language)
            request.LANGUAGE_CODE = user.language
        return self.get_response(request)


REFRESHED = "idle_clock_started"
SESSION_REFRESH_SECONDS = 60


class IdleTimeoutMiddleware:
    """A session lasts SESSION_IDLE_MINUTES after the person's last request, not after the
    dashboard's own refresh: an unattended tab refreshing every 10 seconds kept a session alive
    for ever. Listed after SessionMiddleware, so the expiry is extended before it is saved."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        # Saved again, so the idle clock starts over, but at most once a minute: a picker
        # asking the server at each key, or a form saving its draft as one types, would
        # otherwise write the session on every request.
        if (
            session is not None
            and not request.headers.get("X-Dashboard-Refresh")
            and not session.is_empty()
            and seconds_left(session) is None
        ):
            restart_idle_clock(session)
        return response


def restart_idle_clock(session):
    session[REFRESHED] = int(time.time())


def seconds_left(session):
    """How long the session lasts as stored, or None when this request saves it again (its
    idle clock started over a minute ago)."""
    since = int(time.time()) - session.get(REFRESHED, 0)
    if since >= SESSION_REFRESH_SECONDS:
        return None
    return settings.SESSION_COOKIE_AGE - since


# Where a POST without a login is not a person's form: the login itself, the providers'
# webhooks, the API (tokens) and acknowledgement links (signed, no login).
NOT_KEPT = ("/login/", "/webhooks/", "/api/", "/ack/", "/logout/", "/i18n/")
KEPT_MAX_BYTES = 200_000


class KeptFormMiddleware:
    """A form sent after the session ended (30 idle minutes) is not thrown away: what was
    typed is kept in the new session, the login page says why it is there, and after the
    login `/account/resume/` offers it back, to check and send again. Listed after
    CsrfViewMiddleware and AuthenticationMiddleware: a cross-site POST is refused before it
    could be kept, and only a request without a logged-in person is kept."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view, args, kwargs):
        if (
            request.method != "POST"
            or request.user.is_authenticated
            or request.path.startswith(NOT_KEPT)
            or settings.SESSION_COOKIE_NAME not in request.COOKIES  # never logged in here
            or len(request.body) > KEPT_MAX_BYTES
        ):
            return None
        request.session["kept_form"] = {
            "path": request.path,
            "at": timezone.now().isoformat(),
            "data": {
                name: values
                for name, values in request.POST.lists()
                if name != "csrfmiddlewaretoken"
            },
        }
        query = urlencode({"next": reverse("resume-form"), "expired": "1"})
        return redirect(f"{reverse('login')}?{query}")
