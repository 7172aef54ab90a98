"""What every page needs to know about the person's session: how long it lasts idle."""

from django.conf import settings


def session(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "session_seconds": settings.SESSION_COOKIE_AGE,
        "idle_minutes": settings.SESSION_COOKIE_AGE // 60,
    }
