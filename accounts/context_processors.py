"""What every page needs to know about the person's session: how long it lasts idle."""

from django.conf import settings

from .middleware import seconds_left


def session(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "session_lasts": settings.SESSION_COOKIE_AGE,
        # What is left as stored: the page's own request saves it at most once a minute.
        "session_seconds": seconds_left(request.session) or settings.SESSION_COOKIE_AGE,
        "idle_minutes": settings.SESSION_COOKIE_AGE // 60,
    }
