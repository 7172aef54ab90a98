"""Twilio SMS and voice calls through the real SDK.

Status callbacks come back to /webhooks/twilio/status/; a call reads the page in the
recipient's language and offers "press 1 to acknowledge" (Gather to /webhooks/twilio/voice/).
A 5xx or 429 from Twilio, a timeout or a network error is temporary (retried); any other
refusal is permanent. Every request has a timeout (TWILIO_TIMEOUT_SECONDS), so a provider that
hangs costs one message a few seconds, never a worker.
"""

import threading

import requests
from django.conf import settings
from django.urls import reverse
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client
from twilio.twiml.voice_response import VoiceResponse

from ..texts import voice_script
from . import TransportError

VOICE_LANGUAGES = {"nl": "nl-BE", "fr": "fr-BE", "en": "en-GB"}


def public_url(name, *args):
    return settings.PUBLIC_BASE_URL.rstrip("/") + reverse(name, args=args)


# One Twilio client per thread and account, kept: a client per message opened a new HTTPS
# connection (and TLS handshake) for every SMS and call. Per thread, since the clock sends
# from several and a requests session is not promised to be thread-safe.
clients = threading.local()


def client_for(sid, token, timeout):
    key = (sid, token, timeout)
    if getattr(clients, "key", None) != key:
        clients.key = key
        clients.client = Client(sid, token, http_client=TwilioHttpClient(timeout=timeout))
    return clients.client


class TwilioBackend:
    def __init__(self):
        if not (settings.TWILIO_ACCOUNT_SID and settings.TWILIO_AUTH_TOKEN):
            raise TransportError("TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are not set", True)
        self.client = client_for(
            settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, settings.TWILIO_TIMEOUT_SECONDS
        )

    def sender(self):
        if settings.TWILIO_MESSAGING_SERVICE_SID:
            return {"messaging_service_sid": settings.TWILIO_MESSAGING_SERVICE_SID}
        return {"from_": settings.TWILIO_FROM_NUMBER}

    def send(self, message):
        try:
            return self.create(message)
        except TwilioRestException as error:
            temporary = error.status >= 500 or error.status == 429
            raise TransportError(
                f"Twilio {error.status} {error.code}: {error.msg}", permanent=not temporary
            ) from error
        except TwilioException as error:
            raise TransportError(f"Twilio: {error}") from error
        except requests.RequestException as error:
            raise TransportError(
                f"Twilio unreachable: {type(error).__name__}: {error}",
                maybe_taken=isinstance(error, requests.ReadTimeout),
            ) from error


class TwilioSmsBackend(TwilioBackend):
    def create(self, message):
        sent = self.client.messages.create(
            to=message.to,
            body=message.text,
            status_callback=public_url("notifications:twilio-status"),
            **self.sender(),
        )
        return sent.sid


class TwilioVoiceBackend(TwilioBackend):
    def create(self, message):
        language = message.recipient.language if message.recipient else "en"
        script, press_one = voice_script(message, language)
        twiml = VoiceResponse()
        gather = twiml.gather(
            num_digits=1,
            action=public_url("notifications:twilio-voice", message.pk),
            method="POST",
        )
        gather.say(script, language=VOICE_LANGUAGES[language])
        gather.say(press_one, language=VOICE_LANGUAGES[language])
        twiml.say(script, language=VOICE_LANGUAGES[language])
        call = self.client.calls.create(
            to=message.to,
            from_=settings.TWILIO_FROM_NUMBER,
            twiml=str(twiml),
            status_callback=public_url("notifications:twilio-status"),
            status_callback_event=["completed"],
        )
        return call.sid
