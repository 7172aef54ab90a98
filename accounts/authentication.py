"""API tokens, with wrong tokens throttled: DRF checks its throttles only after a request
is authenticated, so a guesser with invalid tokens would never be slowed down. Here every
refused token counts against the caller's address (the client's, behind the TLS proxy); past
the limit, even the right token waits (429) until the window has passed. The counts live in
the shared cache, so every web process sees the same ones."""

from django.conf import settings
from django.core.cache import caches
from django.utils.translation import gettext as _
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed, Throttled
from rest_framework.throttling import UserRateThrottle

from .client_address import client_address


class ThrottledTokenAuthentication(TokenAuthentication):
    def authenticate(self, request):
        if not request.META.get("HTTP_AUTHORIZATION"):
            return None  # no token offered: nothing to count
        counts = caches["shared"]
        key = "token-failures:" + client_address(request)
        if counts.get(key, 0) >= settings.API_TOKEN_FAILURE_LIMIT:
            raise Throttled(
                wait=settings.API_TOKEN_FAILURE_WINDOW,
                detail=_("Too many wrong API tokens from this address: wait and try again."),
            )
        try:
            return super().authenticate(request)
        except AuthenticationFailed:
            counts.add(key, 0, timeout=settings.API_TOKEN_FAILURE_WINDOW)
            counts.incr(key)
            raise


class TokenRateThrottle(UserRateThrottle):
    """Requests per token, counted in the shared cache (not per web process)."""

    cache = caches["shared"]

    def get_ident(self, request):
        return client_address(request)
