"""The address a request came from, for the login lockout (django-axes) and the API's
wrong-token throttle alike.

Behind the TLS proxy every request arrives from the proxy's address, so counting failures
by REMOTE_ADDR would lock everyone out together. The proxy appends the address it saw to
X-Forwarded-For; anything to the left of that may have been written by the client. So the
client is the right-most entry that is not one of our proxies, and X-Forwarded-For is read
only when the request really came from a trusted proxy (TRUSTED_PROXIES): a client talking to
gunicorn directly cannot choose its own address.

(django-ipware 8's engine, which axes would use, was tried: with one proxy it returned no
address for a one-entry header, and the left-most entry for two. The rule is short enough to
state here, and axes takes it through its own AXES_CLIENT_IP_CALLABLE setting.)
"""

import ipaddress

from django.conf import settings


def client_address(request):
    remote = request.META.get("REMOTE_ADDR", "")
    if remote not in settings.TRUSTED_PROXIES:
        return remote
    hops = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
    for hop in reversed(hops):
        hop = hop.strip()
        if hop in settings.TRUSTED_PROXIES:
            continue
        try:
            return str(ipaddress.ip_address(hop))
        except ValueError:
            return remote  # a header our proxy did not write: count it against the proxy
    return remote
