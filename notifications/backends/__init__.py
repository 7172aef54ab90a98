"""SMS and voice back ends, chosen by setting like Django's EMAIL_BACKEND.

SMS_BACKEND / VOICE_BACKEND: "console" (development), "filebased" (one file per message in
SMS_FILE_PATH / VOICE_FILE_PATH), "locmem" (tests) or "twilio", or a dotted class path.
Each back end has one method, send(message) -> provider id, and raises TransportError.
"""

from django.conf import settings
from django.utils.module_loading import import_string

ALIASES = {
    "sms": {
        "console": "notifications.backends.console.ConsoleBackend",
        "filebased": "notifications.backends.filebased.SmsFileBackend",
        "locmem": "notifications.backends.locmem.LocmemBackend",
        "twilio": "notifications.backends.twilio.TwilioSmsBackend",
    },
    "call": {
        "console": "notifications.backends.console.ConsoleBackend",
        "filebased": "notifications.backends.filebased.VoiceFileBackend",
        "locmem": "notifications.backends.locmem.LocmemBackend",
        "twilio": "notifications.backends.twilio.TwilioVoiceBackend",
    },
}


class TransportError(Exception):
    """The provider did not take the message. `permanent` says whether retrying can help;
    `maybe_taken`: the request reached it and the answer never came (a read timeout), so the
    retry may make it arrive twice, and says so."""

    def __init__(self, message, permanent=False, maybe_taken=False):
        super().__init__(message)
        self.permanent = permanent
        self.maybe_taken = maybe_taken


def backend_for(channel):
    name = settings.SMS_BACKEND if channel == "sms" else settings.VOICE_BACKEND
    return import_string(ALIASES[channel].get(name, name))()
