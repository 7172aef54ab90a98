"""E-mail through anymail's SendGrid back end (HTTP intercepted) and SendGrid's signed event
webhook, verified by anymail with a real ECDSA key pair."""

import base64
import json

import pytest
import responses
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from incidents import workflow
from notifications.models import Message

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.filterwarnings("ignore:django-anymail has dropped official support"),
]
SEND = "https://api.sendgrid.com/v3/mail/send"
PRIVATE_KEY = ec.generate_private_key(ec.SECP256R1())
PUBLIC_KEY = (
    PRIVATE_KEY.public_key()
    .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    .decode()
    .replace("-----BEGIN PUBLIC KEY-----", "")
    .replace("-----END PUBLIC KEY-----", "")
    .replace("\n", "")
)


@pytest.fixture
def sendgrid(settings):
    settings.EMAIL_BACKEND = "anymail.backends.sendgrid.EmailBackend"
    settings.ANYMAIL = {
        "SENDGRID_API_KEY": "SG.test-key",
        "SENDGRID_TRACKING_WEBHOOK_VERIFICATION_KEY": PUBLIC_KEY,
    }
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add(responses.POST, SEND, status=202, body="")
        yield mock


@pytest.fixture
def logged(security, manager, django_capture_on_commit_callbacks, sendgrid):
    with django_capture_on_commit_callbacks(execute=True):
        return workflow.log_incident(security, title="Lek van e-mailadressen", description="d")


def test_the_alert_email_goes_through_sendgrid(logged, sendgrid, manager):
    requests = [call.request for call in sendgrid.calls if call.request.url == SEND]
    assert len(requests) == 2
    payload = json.loads(requests[0].body)
    personalizations = [json.loads(r.body)["personalizations"][0] for r in requests]
    recipients = {p["to"][0]["email"] for p in personalizations}
    assert recipients == {"security@conitro.example", "manager@conitro.example"}
    assert payload["from"]["email"] == "breachdesk@conitro.be"
    assert logged.reference in payload["subject"]
    assert requests[0].headers["Authorization"] == "Bearer SG.test-key"
    message = Message.objects.get(channel="email", recipient=manager)
    assert message.status == "sent"
    # The message's own number travels with it, to find it from the provider's side.
    sent_to_manager = next(
        p
        for p in map(json.loads, (r.body for r in requests))
        if any(to["email"] == manager.email for to in p["personalizations"][0]["to"])
    )
    assert sent_to_manager["headers"]["X-Breachdesk-Message"] == str(message.pk)
    # anymail's id, which SendGrid's events carry back to find the message by.
    assert (
        message.provider_id == sent_to_manager["personalizations"][0]["custom_args"]["anymail_id"]
    )


def sign(body, timestamp="1764064800"):
    signature = PRIVATE_KEY.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    return {
        "HTTP_X_TWILIO_EMAIL_EVENT_WEBHOOK_SIGNATURE": base64.b64encode(signature).decode(),
        "HTTP_X_TWILIO_EMAIL_EVENT_WEBHOOK_TIMESTAMP": timestamp,
    }


def event(message, kind, **extra):
    return json.dumps(
        [{"event": kind, "email": message.to, "anymail_id": message.provider_id, **extra}]
    ).encode()


def test_a_signed_delivered_event_marks_the_email_delivered(logged, client, manager):
    message = Message.objects.get(channel="email", recipient=manager)
    body = event(message, "delivered")
    response = client.post(
        "/webhooks/sendgrid/tracking/", body, content_type="application/json", **sign(body)
    )
    assert response.status_code == 200
    message.refresh_from_db()
    assert message.status == "delivered"


def test_a_bounce_is_recorded_with_the_reason(logged, client, manager):
    message = Message.objects.get(channel="email", recipient=manager)
    body = event(message, "bounce", reason="550 5.1.1 mailbox unknown", type="bounce")
    client.post("/webhooks/sendgrid/tracking/", body, content_type="application/json", **sign(body))
    message.refresh_from_db()
    assert message.status == "bounced"
    assert "550" in message.error


def test_a_forged_or_unsigned_event_is_refused_and_changes_nothing(logged, client, manager):
    message = Message.objects.get(channel="email", recipient=manager)
    body = event(message, "bounce")
    forged = sign(event(message, "delivered"))  # a signature over another body
    assert (
        client.post(
            "/webhooks/sendgrid/tracking/", body, content_type="application/json", **forged
        ).status_code
        == 403
    )
    assert (
        client.post(
            "/webhooks/sendgrid/tracking/", body, content_type="application/json"
        ).status_code
        == 403
    )
    message.refresh_from_db()
    assert message.status == "sent"


def test_without_a_verification_key_the_webhook_refuses_everything(settings, client):
    settings.ANYMAIL = {}
    response = client.post("/webhooks/sendgrid/tracking/", b"[]", content_type="application/json")
    assert response.status_code == 403


def test_a_sendgrid_server_error_is_retried(logged, sendgrid, manager):
    from notifications.sending import send_message

    message = Message.objects.get(channel="email", recipient=manager)
    Message.objects.filter(pk=message.pk).update(status="queued", attempts=0)
    for status in (503, 500, 429):  # the provider is down or busy: tried again later
        sendgrid.replace(responses.POST, SEND, status=status, body="unavailable")
        Message.objects.filter(pk=message.pk).update(next_attempt_at=None)
        assert send_message(message.pk) == "queued"
        assert Message.objects.get(pk=message.pk).error.startswith(f"E-mail provider {status}: ")
    sendgrid.replace(responses.POST, SEND, status=400, body='{"errors":[{"message":"bad"}]}')
    Message.objects.filter(pk=message.pk).update(next_attempt_at=None)
    assert send_message(message.pk) == "failed"  # refused: trying again would not help
    assert Message.objects.get(pk=message.pk).error.startswith("E-mail provider 400: ")


@pytest.fixture
def french(second):
    second.gba_on_behalf = False  # notifies the GBA itself: Conitro only tells it
    second.save()
    return second


def test_controller_notices_go_out_with_the_letter_in_their_language(
    sendgrid, client, manager, incident_in, controller, french, django_capture_on_commit_callbacks
):
    incident = incident_in("gba_notified")
    workflow.update_facts(incident.pk, manager, {"controllers": [controller, french]})
    client.force_login(manager)
    preview = client.get(f"/incidents/{incident.pk}/notices/").content.decode()
    assert "Madame, Monsieur," in preview and "Monsieur Hélène" not in preview
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/incidents/{incident.pk}/notices/", {"delay_reason": ""})
    assert response.status_code == 302
    payloads = [json.loads(c.request.body) for c in sendgrid.calls if c.request.url == SEND]
    to_french = next(
        p for p in payloads if p["personalizations"][0]["to"][0]["email"] == "dpo@lefevre.example"
    )
    assert to_french["subject"].startswith("Violation de données")
    (attached,) = to_french["attachments"]
    assert attached["type"] == "application/pdf"
    notice = Message.objects.get(incident=incident, controller=french)
    assert attached["filename"] == notice.document.filename
    assert attached["filename"].startswith(incident.reference) and attached["filename"].endswith(
        ".pdf"
    )
    letter = base64.b64decode(attached["content"])
    assert letter.startswith(b"%PDF")
    import io

    from pypdf import PdfReader

    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(letter)).pages)
    text = " ".join(text.split())
    assert "Objet : violation de données à caractère personnel" in text
    assert "vous notifiez vous-même la violation à l'Autorité de protection des données" in text
    assert incident.reference in text
    incident.refresh_from_db()
    assert incident.state == "controller_notified"  # every notice accepted by SendGrid
    assert "accepted by the provider" in incident.last_controller_notice.how
    notices = Message.objects.filter(incident=incident, controller__isnull=False)
    assert {m.status for m in notices} == {"sent"}
    (sending,) = incident.events.filter(kind="notice_sent")
    assert sorted(sending.after["controllers"]) == [controller.name, french.name]


def test_a_refused_notice_keeps_the_incident_waiting(
    sendgrid, client, manager, incident_in, django_capture_on_commit_callbacks
):
    sendgrid.replace(responses.POST, SEND, status=400, body='{"errors":[{"message":"bad to"}]}')
    incident = incident_in("gba_notified")
    client.force_login(manager)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/incidents/{incident.pk}/notices/")
    incident.refresh_from_db()
    assert incident.state == "gba_notified"
    notice = Message.objects.get(incident=incident, controller__isnull=False)
    assert notice.status == "failed"


def test_sending_again_resends_only_the_refused_notice(
    sendgrid, client, manager, incident_in, controller, french, django_capture_on_commit_callbacks
):
    second = french
    incident = incident_in("gba_notified")
    workflow.update_facts(incident.pk, manager, {"controllers": [controller, second]})
    client.force_login(manager)

    def send_to(addresses):
        """SendGrid accepts these recipients and refuses the others."""
        sendgrid.calls.reset()

        def reply(request):
            to = json.loads(request.body)["personalizations"][0]["to"][0]["email"]
            if to in addresses:
                return 202, {}, ""
            return 400, {}, '{"errors":[{"message":"bad to"}]}'

        sendgrid.remove(responses.POST, SEND)
        sendgrid.add_callback(responses.POST, SEND, callback=reply)
        with django_capture_on_commit_callbacks(execute=True):
            client.post(f"/incidents/{incident.pk}/notices/", {"delay_reason": ""})
        return sorted(
            json.loads(c.request.body)["personalizations"][0]["to"][0]["email"]
            for c in sendgrid.calls
        )

    assert send_to({controller.email}) == sorted([controller.email, second.email])
    incident.refresh_from_db()
    assert incident.state == "gba_notified"  # one notice was refused
    assert send_to({controller.email, second.email}) == [second.email]
    notices = Message.objects.filter(incident=incident, controller__isnull=False)
    assert notices.filter(controller=controller).count() == 1
    assert sorted(notices.filter(controller=second).values_list("status", flat=True)) == [
        "failed",
        "sent",
    ]
    incident.refresh_from_db()
    assert incident.state == "controller_notified"


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b'{"event": "delivered"}',
        b"[1, 2]",
        b"null",
        b"\xff\xfe",
        b"[" * 50_000 + b"]" * 50_000,
    ],
    ids=["not json", "an object", "numbers", "null", "not UTF-8", "nested 50,000 deep"],
)
def test_a_signed_body_that_is_no_event_list_is_a_400(logged, client, manager, body):
    response = client.post(
        "/webhooks/sendgrid/tracking/", body, content_type="application/json", **sign(body)
    )
    assert response.status_code == 400
    assert Message.objects.get(channel="email", recipient=manager).status == "sent"


def test_a_letter_that_bounces_after_acceptance_means_the_controller_was_not_told(
    sendgrid, client, manager, incident_in, controller, django_capture_on_commit_callbacks
):
    incident = incident_in("gba_notified")
    client.force_login(manager)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/incidents/{incident.pk}/notices/", {"delay_reason": ""})
    incident.refresh_from_db()
    assert incident.state == "controller_notified"
    notice = Message.objects.get(incident=incident, controller=controller)
    body = event(notice, "bounce", reason="550 5.1.1 mailbox unknown", type="bounce")
    client.post("/webhooks/sendgrid/tracking/", body, content_type="application/json", **sign(body))
    told = incident.obligations.get(kind="tell_controller")
    assert (told.status, told.met_at) == ("open", None)
    assert "bounced: 550 5.1.1 mailbox unknown" in told.note
    incident.refresh_from_db()
    assert incident.state == "gba_notified"  # back to waiting for the controller
    assert incident.events.filter(kind="transition").last().to_state == "gba_notified"


@pytest.mark.parametrize("address", ["dpo@", "two words@example.com", "a@b@example.com"])
def test_an_address_no_provider_can_take_fails_at_once_without_a_request(
    logged, sendgrid, manager, address
):
    """Trying again would not make the address valid: the message fails for good, says why,
    and the person is reached on their next channel (here the e-mail was the last)."""
    from notifications.sending import send_message

    message = Message.objects.get(channel="email", recipient=manager)
    Message.objects.filter(pk=message.pk).update(status="queued", attempts=0, to=address)
    before = len(sendgrid.calls)
    assert send_message(message.pk) == "failed"
    assert len(sendgrid.calls) == before  # refused before anything was sent
    message.refresh_from_db()
    assert (
        message.error == f"E-mail refused: {address} is not an e-mail address; correct the address."
    )


def test_a_mail_server_that_cannot_be_reached_is_tried_again_and_says_so(logged, manager, settings):
    """Through SMTP (a relay instead of SendGrid): the connection refused is a transport
    error, retried later, recorded in words on the message."""
    from notifications.sending import send_message

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 2
    message = Message.objects.get(channel="email", recipient=manager)
    Message.objects.filter(pk=message.pk).update(status="queued", attempts=0)
    assert send_message(message.pk) == "queued"
    message.refresh_from_db()
    assert message.error.startswith("E-mail: ") and "refused" in message.error.lower()


def test_sending_again_while_the_notices_are_on_their_way_says_nothing_new_was_sent(
    client, manager, incident_in
):
    incident = incident_in("gba_notified")
    client.force_login(manager)
    first = client.post(f"/incidents/{incident.pk}/notices/", {"delay_reason": ""}, follow=True)
    assert "1 notice sent." in first.content.decode()
    again = client.post(f"/incidents/{incident.pk}/notices/", {"delay_reason": ""}, follow=True)
    page = again.content.decode()
    assert "Every controller has its notice already: nothing new was sent." in page
    assert "0 notices sent." not in page
    assert Message.objects.filter(incident=incident, controller__isnull=False).count() == 1
