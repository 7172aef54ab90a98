"""gunicorn's settings for `make serve` (read from the working directory).

gunicorn itself trusts X-Forwarded-Proto (and -For) from 127.0.0.1 by default, so a client
talking to it directly on this machine could claim HTTPS. Forwarded headers are trusted only
with BEHIND_TLS_PROXY=1, and then only from the proxy (TRUSTED_PROXIES, as Django's settings).
"""

import os

if os.environ.get("BEHIND_TLS_PROXY", "0") == "1":
    forwarded_allow_ips = os.environ.get("TRUSTED_PROXIES", "127.0.0.1,::1")
else:
    forwarded_allow_ips = ""
