"""Settings of the breach desk, all read from the environment.

Development needs nothing set: SQLite in the project folder, DEBUG on, console back ends.
Production sets DJANGO_DEBUG=0, DJANGO_SECRET_KEY, ALLOWED_HOSTS and DATABASE_URL (PostgreSQL).
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name, default):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default):
    value = os.environ.get(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", True)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off.")
    SECRET_KEY = "development-only-key-do-not-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.forms",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "csp",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "django_q",
    "accounts",
    "incidents",
    "notifications",
    "subjects",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "accounts.middleware.IdleTimeoutMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "accounts.second_factor.SecondFactorMiddleware",
    "accounts.middleware.KeptFormMiddleware",
    "accounts.middleware.UserLanguageMiddleware",
    "accounts.access_audit.ActorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "incident_manager.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.session",
            ],
        },
    },
]

# Form widgets render through TEMPLATES, so a widget of ours (the controller picker) lives in
# templates/ like every other page; "django.forms" supplies Django's own widget templates.
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

WSGI_APPLICATION = "incident_manager.wsgi.application"

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "0")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server and the django-q2 cluster write to one file: wait for the lock
    # instead of failing with "database is locked", and write-ahead log for readers.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # refuses a locked-out name before the password
    "django.contrib.auth.backends.ModelBackend",
]
# django-axes: 5 wrong passwords for one name from one address lock that pair for 15 minutes
# (the web login and the admin alike); a good login resets the count. Locking the name alone
# would let anyone lock the DPO out during a breach.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked.html"
AXES_VERBOSE = False
# The client's address behind the TLS proxy (accounts/client_address.py): X-Forwarded-For is
# read only on requests from these addresses. BEHIND_TLS_PROXY=1 trusts a proxy on this
# machine unless TRUSTED_PROXIES names others.
TRUSTED_PROXIES = frozenset(
    address.strip()
    for address in os.environ.get(
        "TRUSTED_PROXIES", "127.0.0.1,::1" if env_bool("BEHIND_TLS_PROXY", False) else ""
    ).split(",")
    if address.strip()
)
AXES_CLIENT_IP_CALLABLE = "accounts.client_address.client_address"

# Roles that must confirm every login with a TOTP code (accounts/second_factor.py).
SECOND_FACTOR_ROLES = ["manager", "dpo"]
OTP_TOTP_ISSUER = "Conitro breach desk"

# A session ends after this long without a request (idle timeout); each request extends it.
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_IDLE_MINUTES", "30")) * 60
# Informing the data subjects (subjects/): SendGrid takes 1,000 personalisations a request; a
# batch claimed longer ago than this had its worker die; the addresses are erased this many
# days after the sending ends (the counts stay).
SUBJECTS_BATCH_SIZE = 1000
# How often a communication's page asks how far the sending is.
SUBJECTS_PROGRESS_SECONDS = float(os.environ.get("SUBJECTS_PROGRESS_SECONDS", "2"))
SUBJECTS_CLAIM_STALE = timedelta(seconds=int(os.environ.get("SUBJECTS_CLAIM_STALE_SECONDS", "600")))
SUBJECT_ADDRESSES_KEPT_DAYS = int(os.environ.get("SUBJECT_ADDRESSES_KEPT_DAYS", "90"))
# The assessment keeps a person's draft this long after their last key (incidents/drafts.py).
DRAFT_SAVED_AFTER_SECONDS = 3
SESSION_SAVE_EVERY_REQUEST = False  # accounts.middleware.IdleTimeoutMiddleware extends it

# Wrong API tokens: this many per address within the window, then 429 (accounts/authentication.py).
API_TOKEN_FAILURE_LIMIT = int(os.environ.get("API_TOKEN_FAILURE_LIMIT", "10"))
API_TOKEN_FAILURE_WINDOW = 15 * 60

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "incidents:dashboard"
LOGOUT_REDIRECT_URL = "login"

# Times are stored in UTC and shown in Brussels.
USE_TZ = True
TIME_ZONE = "Europe/Brussels"
USE_I18N = True
LANGUAGE_CODE = "nl"
LANGUAGES = [("nl", _("Dutch")), ("fr", _("French")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "var" / "static"))
# WhiteNoise serves the static files from the application itself, also with DEBUG off
# (`collectstatic` first: `make serve` does); hashed names can be cached for a year.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

WHITENOISE_USE_FINDERS = DEBUG  # development: serve from the source folders, no collectstatic
WHITENOISE_AUTOREFRESH = DEBUG

# Content Security Policy (django-csp): only our own scripts, styles and forms; no inline
# script, no framing. A page that needed an exception would show it here.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }
}

# The promise: GBA and controller informed within this time of awareness (elapsed time).
INCIDENT_NOTIFICATION_DEADLINE = timedelta(
    hours=float(os.environ.get("INCIDENT_NOTIFICATION_DEADLINE_HOURS", "24"))
)
# A time "in the future" by less than this is a clock difference between machines, not a typo.
CLOCK_SKEW_TOLERANCE = timedelta(minutes=1)

REST_FRAMEWORK = {
    # Tokens only: a session that still owes its second factor must not reach the API.
    "DEFAULT_AUTHENTICATION_CLASSES": ["accounts.authentication.ThrottledTokenAuthentication"],
    "DEFAULT_THROTTLE_CLASSES": ["accounts.authentication.TokenRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"user": os.environ.get("API_RATE", "600/minute")},
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "incidents.api.exception_handler",
    "DEFAULT_PARSER_CLASSES": [
        "incidents.parsers.SafeJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "TITLE": "Breach desk API",
    "DESCRIPTION": "Log and follow personal-data breaches against the 24-hour clock.",
    "VERSION": "1",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "incidents.api_schema.add_error_responses",
    ],
    "ENUM_NAME_OVERRIDES": {
        "IncidentStateEnum": "incidents.models.State.choices",
        "LanguageEnum": "incidents.models.LANGUAGES",
    },
}

# django-q2: the ORM broker needs no other service; Redis when REDIS_URL is set.
Q_CLUSTER = {
    "name": "breachdesk",
    "workers": int(os.environ.get("Q_WORKERS", "2")),
    "timeout": 60,
    "retry": 90,
    "max_attempts": 3,
    "catch_up": False,  # after an outage, run a missed schedule once, not once per missed slot
    "save_limit": -1,  # keep failed tasks only: every message has its own record
    "orm": "default",
}
if os.environ.get("REDIS_URL"):
    Q_CLUSTER.pop("orm")
    Q_CLUSTER["redis"] = os.environ["REDIS_URL"]
# "shared" holds counts that must hold across web processes (wrong API tokens, requests per
# token): Redis when there is one, else a table in the database (`createcachetable`, which the
# migrations and `make run`/`make serve` run). "default" is each process's own memory.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "shared": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "breachdesk_shared_cache",
    },
}
if os.environ.get("REDIS_URL"):
    CACHES["shared"] = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": os.environ["REDIS_URL"],
    }

# Conitro as documents name it (the GBA notification's part 1).
ORGANISATION = {
    "name": os.environ.get("ORGANISATION_NAME", "Conitro"),
    # The letterhead (Belgian Companies and Associations Code art. 2:20): legal form, registered
    # office (the address), enterprise number with its register ("RPR Gent, afdeling Gent").
    "legal_form": os.environ.get("ORGANISATION_LEGAL_FORM", ""),
    "enterprise_number": os.environ.get("ORGANISATION_ENTERPRISE_NUMBER", ""),
    "register": os.environ.get("ORGANISATION_REGISTER", ""),
    "address": os.environ.get("ORGANISATION_ADDRESS", ""),
    "website": os.environ.get("ORGANISATION_WEBSITE", ""),
    "dpo_name": os.environ.get("ORGANISATION_DPO_NAME", ""),
    "dpo_email": os.environ.get("ORGANISATION_DPO_EMAIL", "info@conitro.be"),
    "dpo_phone": os.environ.get("ORGANISATION_DPO_PHONE", ""),
    # Where the letters are signed ("Gent, 6 december 2026"; in French "Gand, le 6 décembre
    # 2026" with ORGANISATION_PLACE_FR).
    "place": os.environ.get("ORGANISATION_PLACE", ""),
    "place_fr": os.environ.get("ORGANISATION_PLACE_FR", ""),
}

# every_breach: Conitro notifies the GBA of every breach, as its privacy policy promises
# ("iedere veiligheidsinbreuk"). risk_based: a breach unlikely to result in a risk is recorded
# with its reasoning and not notified (GDPR art. 33(1)). The controllers are always told.
GBA_NOTIFICATION_POLICY = os.environ.get("GBA_NOTIFICATION_POLICY", "every_breach")

# Channels. Nothing reaches a real provider unless its credentials are set.
SMS_BACKEND = os.environ.get("SMS_BACKEND", "console")
VOICE_BACKEND = os.environ.get("VOICE_BACKEND", "console")
SMS_FILE_PATH = os.environ.get("SMS_FILE_PATH", str(BASE_DIR / "var" / "sms"))
VOICE_FILE_PATH = os.environ.get("VOICE_FILE_PATH", str(BASE_DIR / "var" / "calls"))
TWILIO_ACCOUNT_SID = os.environ.get("TWILIO_ACCOUNT_SID", "")
TWILIO_AUTH_TOKEN = os.environ.get("TWILIO_AUTH_TOKEN", "")
TWILIO_FROM_NUMBER = os.environ.get("TWILIO_FROM_NUMBER", "")
TWILIO_MESSAGING_SERVICE_SID = os.environ.get("TWILIO_MESSAGING_SERVICE_SID", "")
# Twilio answers within a second; a shutdown waits at most this long for a hanging one.
TWILIO_TIMEOUT_SECONDS = float(os.environ.get("TWILIO_TIMEOUT_SECONDS", "3"))
# Where people and providers reach this server: links in messages, Twilio callbacks.
PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:8000")
# The dashboard fetches its table again this often: new incidents appear without a reload.
DASHBOARD_REFRESH_SECONDS = int(os.environ.get("DASHBOARD_REFRESH_SECONDS", "10"))
# A form or API request sent again within this time gives the incident it logged the first time.
SUBMISSION_KEPT = timedelta(hours=24)
ACK_LINK_MAX_AGE = timedelta(hours=float(os.environ.get("ACK_LINK_MAX_AGE_HOURS", "48")))
# Single-use codes for a lost phone (django-otp's static tokens), made when the second factor
# is set up and again on demand; shown once.
RECOVERY_CODES = 10
# A person's own tests (a test SMS, call or e-mail; a code to a new number): one per channel
# this often. A code proving a new number lives PHONE_CODE_LIFETIME and allows PHONE_CODE_TRIES.
TEST_PAGE_INTERVAL = timedelta(minutes=1)
PHONE_CODE_LIFETIME = timedelta(minutes=10)
PHONE_CODE_TRIES = 5
# A send claimed longer ago than this was abandoned by a killed worker: try it again.
# The clock process (`manage.py clock`): it never sleeps longer than CLOCK_POLL, and on SIGTERM
# gives sends in flight CLOCK_STOP_GRACE before it exits.
CLOCK_POLL = timedelta(seconds=float(os.environ.get("CLOCK_POLL_SECONDS", "0.5")))
CLOCK_STOP_GRACE = timedelta(seconds=3)
# What is due for a person within this time of a page going out to them (another step of the
# incident, or another incident's page) goes out with it, in one message: one wake-up instead
# of two a few seconds apart.
PAGE_MERGE_WINDOW = timedelta(seconds=int(os.environ.get("PAGE_MERGE_WINDOW_SECONDS", "60")))
# At most this many incidents named in one page (SMS, call); the rest are "+N more" behind
# its link, where one tap acknowledges them all. Companions fill a page up to this many.
PAGE_DIGEST_MAX_INCIDENTS = int(os.environ.get("PAGE_DIGEST_MAX_INCIDENTS", "5"))
# Storm control: at most one page per person and channel within this time. What comes sooner
# is held and goes out gathered into the person's next page ("+37 more"), at the end of the
# interval or with a deadline's page, which is never held (escalation.build_messages).
PAGE_MIN_INTERVAL = {
    channel: timedelta(seconds=int(os.environ.get(f"PAGE_MIN_INTERVAL_{channel.upper()}", "60")))
    for channel in ("sms", "call", "email")
}
# Its threads that send the messages of what it fires, side by side (with 2 on SQLite the burst of
# bench/escalation.py was slower than with 8).
CLOCK_WORKERS = int(os.environ.get("CLOCK_WORKERS", "8"))
MESSAGE_SEND_TIMEOUT = timedelta(seconds=60)  # a provider call times out after 10 s
# A message still refused after this many tries fails and the person gets the next channel:
# retries at 30, 60 and 120 s, so the fallback comes within about 4 minutes.
MESSAGE_MAX_ATTEMPTS = 4

SENDGRID_API_KEY = os.environ.get("SENDGRID_API_KEY", "")
ANYMAIL = {
    name: value
    for name, value in {
        "SENDGRID_API_KEY": SENDGRID_API_KEY,
        "SENDGRID_TRACKING_WEBHOOK_VERIFICATION_KEY": os.environ.get(
            "SENDGRID_TRACKING_WEBHOOK_VERIFICATION_KEY"
        ),
        "WEBHOOK_SECRET": os.environ.get("ANYMAIL_WEBHOOK_SECRET"),
    }.items()
    if value
}
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "anymail.backends.sendgrid.EmailBackend"
    if SENDGRID_API_KEY
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH", str(BASE_DIR / "var" / "email"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "breachdesk@conitro.be")

if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    # Only behind a proxy that sets X-Forwarded-Proto itself and strips it from clients;
    # otherwise anyone could claim HTTPS.
    if env_bool("BEHIND_TLS_PROXY", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}
