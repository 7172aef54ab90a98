"""Show the pages in the language a person chose in their profile."""

from django.utils import translation


class UserLanguageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.language:
            translation.activate(user.language)
            request.LANGUAGE_CODE = user.language
        return self.get_response(request)


class IdleTimeoutMiddleware:
    """A session lasts SESSION_IDLE_MINUTES after the person's last request, not after the
    dashboard's own refresh: an unattended tab refreshing every 10 seconds kept a session alive
    for ever. Listed after SessionMiddleware, so the expiry is extended before it is saved."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if (
            session is not None
            and not request.headers.get("X-Dashboard-Refresh")
            and not session.is_empty()
        ):
            session.modified = True  # saved again: the idle clock starts over
        return response
