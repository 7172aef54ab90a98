"""API tokens, with wrong tokens throttled: DRF checks its throttles only after a request
is authenticated, so a guesser with invalid tokens would never be slowed down. Here every
refused token counts against the caller's address; past the limit, even the right token
waits (429) until the window has passed."""

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext as _
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed, Throttled


class ThrottledTokenAuthentication(TokenAuthentication):
    def authenticate(self, request):
        key = "token-failures:" + request.META.get("REMOTE_ADDR", "")
        if cache.get(key, 0) >= settings.API_TOKEN_FAILURE_LIMIT:
            raise Throttled(
                wait=settings.API_TOKEN_FAILURE_WINDOW,
                detail=_("Too many wrong API tokens from this address: wait and try again."),
            )
        try:
            return super().authenticate(request)
        except AuthenticationFailed:
            cache.add(key, 0, timeout=settings.API_TOKEN_FAILURE_WINDOW)
            cache.incr(key)
            raise
