"""SMS and calls through the real twilio SDK, its HTTP intercepted with `responses`; retries,
permanent failures and fallback; the signed status, reply and key-press webhooks."""

import json
from datetime import timedelta
from urllib.parse import parse_qs

import pytest
import responses
from django.utils import timezone
from twilio.request_validator import RequestValidator

from incidents import workflow
from notifications.models import Acknowledgement, Message
from notifications.sending import send_message
from notifications.tasks import dispatch

pytestmark = pytest.mark.django_db
SID = "AC" + "0" * 32
TOKEN = "twilio-test-auth-token"
API = f"https://api.twilio.com/2010-04-01/Accounts/{SID}"


@pytest.fixture
def twilio(settings):
    settings.SMS_BACKEND = "twilio"
    settings.VOICE_BACKEND = "twilio"
    settings.TWILIO_ACCOUNT_SID = SID
    settings.TWILIO_AUTH_TOKEN = TOKEN
    settings.TWILIO_FROM_NUMBER = "+3225550100"
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def twilio_reply(sid, status=201):
    return {"status": status, "body": json.dumps({"sid": sid, "status": "queued"})}


def form(call):
    return {key: values[0] for key, values in parse_qs(call.request.body).items()}


@pytest.fixture
def logged(security, manager, dpo, django_capture_on_commit_callbacks, twilio):
    twilio.add(responses.POST, f"{API}/Messages.json", **twilio_reply("SM1"))
    with django_capture_on_commit_callbacks(execute=True):
        return workflow.log_incident(security, title="Gestolen laptop", description="d")


def test_the_sms_request_is_what_twilio_expects(logged, twilio, security, manager):
    requests = [c for c in twilio.calls if c.request.url.endswith("/Messages.json")]
    assert sorted(form(request)["To"] for request in requests) == sorted(
        [security.phone, manager.phone]
    )
    sent = form(requests[0])
    assert sent["From"] == "+3225550100"
    assert logged.reference in sent["Body"]
    assert sent["StatusCallback"] == "https://breachdesk.example/webhooks/twilio/status/"
    assert requests[0].request.headers["Authorization"].startswith("Basic ")
    message = Message.objects.filter(channel="sms").first()
    assert (message.status, message.provider_id) == ("sent", "SM1")


def test_a_temporary_error_is_retried_with_backoff(logged, twilio):
    message = Message.objects.filter(channel="sms").first()
    Message.objects.filter(pk=message.pk).update(status="queued", attempts=0)
    twilio.replace(responses.POST, f"{API}/Messages.json", status=503, json={"code": 20500})
    assert send_message(message.pk) == "queued"
    message.refresh_from_db()
    assert message.attempts == 1 and message.next_attempt_at > timezone.now()
    twilio.replace(responses.POST, f"{API}/Messages.json", **twilio_reply("SM2"))
    Message.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
    dispatch()
    message.refresh_from_db()
    assert (message.status, message.attempts, message.provider_id) == ("sent", 2, "SM2")


def test_a_429_is_temporary_too(logged, twilio):
    message = Message.objects.filter(channel="sms").first()
    Message.objects.filter(pk=message.pk).update(status="queued")
    twilio.replace(responses.POST, f"{API}/Messages.json", status=429, json={"code": 20429})
    assert send_message(message.pk) == "queued"


def test_an_invalid_number_fails_for_good_and_falls_back_to_a_call(
    security, manager, dpo, django_capture_on_commit_callbacks, twilio
):
    manager.phone = "+32400000000"
    manager.save()
    invalid = {"code": 21211, "message": "The 'To' number is not a valid phone number."}

    def by_number(request):
        if "To=%2B32400000000" in request.body:
            return (400, {}, json.dumps(invalid))
        return (201, {}, json.dumps({"sid": "SMok", "status": "queued"}))

    twilio.add_callback(responses.POST, f"{API}/Messages.json", callback=by_number)
    twilio.add(responses.POST, f"{API}/Calls.json", **twilio_reply("CA1"))
    with django_capture_on_commit_callbacks(execute=True):
        incident = workflow.log_incident(security, title="t", description="d")
    failed = Message.objects.get(incident=incident, recipient=manager, channel="sms")
    assert failed.status == "failed" and "21211" in failed.error
    assert failed.attempts == 1  # not retried
    call = Message.objects.get(fallback_for=failed)
    assert (call.channel, call.status, call.provider_id) == ("call", "sent", "CA1")
    other = Message.objects.get(incident=incident, recipient=security, channel="sms")
    assert other.status == "sent"  # the next person on the step is still reached


def test_the_call_says_the_page_in_the_recipients_language_and_offers_press_one(
    logged, twilio, manager
):
    from notifications.escalation import build_message

    manager.language = "fr"
    manager.save()
    twilio.add(responses.POST, f"{API}/Calls.json", **twilio_reply("CA9"))
    firing = Message.objects.first().firing
    call = build_message(firing, manager, "call")
    call.save()
    send_message(call.pk)
    request = form([c for c in twilio.calls if c.request.url.endswith("/Calls.json")][-1])
    assert 'language="fr-BE"' in request["Twiml"]
    assert "Appuyez sur 1 pour accuser réception." in request["Twiml"]  # in French too
    assert f"/webhooks/twilio/voice/{call.pk}/" in request["Twiml"]
    assert request["StatusCallback"] == "https://breachdesk.example/webhooks/twilio/status/"


def signed_post(client, path, data, token=TOKEN):
    url = "https://breachdesk.example" + path
    signature = RequestValidator(token).compute_signature(url, data)
    return client.post(path, data, HTTP_X_TWILIO_SIGNATURE=signature)


def test_a_signed_status_callback_marks_delivered(logged, client):
    message = Message.objects.filter(channel="sms").first()
    response = signed_post(
        client,
        "/webhooks/twilio/status/",
        {"MessageSid": "SM1", "MessageStatus": "delivered"},
    )
    assert response.status_code == 204
    message.refresh_from_db()
    assert message.status == "delivered" and message.delivered_at is not None


def test_a_forged_or_unsigned_callback_is_refused_and_changes_nothing(logged, client):
    data = {"MessageSid": "SM1", "MessageStatus": "failed"}
    forged = signed_post(client, "/webhooks/twilio/status/", data, token="not-the-token")
    unsigned = client.post("/webhooks/twilio/status/", data)
    assert (forged.status_code, unsigned.status_code) == (403, 403)
    assert not Message.objects.filter(status="failed").exists()


def test_undelivered_sms_falls_back_to_a_call(logged, client, twilio):
    twilio.add(responses.POST, f"{API}/Calls.json", **twilio_reply("CA2"))
    signed_post(
        client,
        "/webhooks/twilio/status/",
        {"MessageSid": "SM1", "MessageStatus": "undelivered", "ErrorCode": "30003"},
    )
    failed = Message.objects.filter(status="undelivered").first()
    assert "30003" in failed.error
    assert Message.objects.get(fallback_for=failed).channel == "call"


def test_replying_ack_acknowledges(logged, client, manager):
    response = signed_post(client, "/webhooks/twilio/sms/", {"From": manager.phone, "Body": "ack"})
    assert b"<Message>" in response.content
    acknowledgement = Acknowledgement.objects.get()
    assert (acknowledgement.user, acknowledgement.via) == (manager, "sms")
    event = logged.events.get(kind="acknowledged")
    assert event.actor == manager


def test_replying_ack_with_a_reference_picks_that_incident(
    logged, client, manager, security, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        workflow.log_incident(security, title="second", description="d")
    signed_post(
        client, "/webhooks/twilio/sms/", {"From": manager.phone, "Body": f"ACK {logged.reference}"}
    )
    assert Acknowledgement.objects.get().incident == logged


def test_an_ack_reply_answers_the_latest_sms_not_a_later_call_to_the_same_number(
    logged, client, manager, security
):
    """A call to the manager's phone about a second incident came after the SMS about the
    first: the SMS reply "ACK" answers the SMS."""
    from notifications.escalation import build_message

    second = workflow.log_incident(security, title="second", description="d")  # no SMS yet
    build_message(second.firings.get(step__position=1), manager, "call").save()
    signed_post(client, "/webhooks/twilio/sms/", {"From": manager.phone, "Body": "ACK"})
    assert Acknowledgement.objects.get().incident == logged


def test_an_ack_from_a_number_that_is_nobodys_changes_nothing(logged, client):
    response = signed_post(client, "/webhooks/twilio/sms/", {"From": "+32470999999", "Body": "ACK"})
    assert response.status_code == 200
    assert not Acknowledgement.objects.exists()
    assert not logged.events.filter(kind="acknowledged").exists()


def test_an_ack_acknowledges_as_the_person_whose_number_sent_it(logged, client, security):
    signed_post(client, "/webhooks/twilio/sms/", {"From": security.phone, "Body": "ACK"})
    assert Acknowledgement.objects.get().user == security
    assert logged.events.get(kind="acknowledged").actor == security


def test_an_ack_from_someone_who_was_not_paged_changes_nothing(logged, client, dpo):
    """The DPO is not in the first alert: their ACK cannot acknowledge it for the others."""
    signed_post(client, "/webhooks/twilio/sms/", {"From": dpo.phone, "Body": "ACK"})
    assert not Acknowledgement.objects.exists()


def test_a_reply_that_is_not_ack_changes_nothing(logged, client, manager):
    response = signed_post(
        client, "/webhooks/twilio/sms/", {"From": manager.phone, "Body": "wie is dit?"}
    )
    assert response.status_code == 200
    assert not Acknowledgement.objects.exists()


def test_pressing_one_during_the_call_acknowledges(logged, client, manager, twilio):
    from notifications.escalation import build_message

    call = build_message(Message.objects.first().firing, manager, "call")
    call.save()
    response = signed_post(client, f"/webhooks/twilio/voice/{call.pk}/", {"Digits": "1"})
    assert b"<Say" in response.content
    assert Acknowledgement.objects.get().via == "call"


def test_without_credentials_nothing_calls_twilio(settings, logged):
    settings.TWILIO_AUTH_TOKEN = ""
    message = Message.objects.filter(channel="sms").first()
    Message.objects.filter(pk=message.pk).update(status="queued", attempts=0)
    assert send_message(message.pk) == "failed"
    assert "not set" in Message.objects.get(pk=message.pk).error


def test_the_call_status_completed_means_delivered(logged, client, manager, twilio):
    from notifications.escalation import build_message

    call = build_message(Message.objects.first().firing, manager, "call")
    call.provider_id, call.status = "CA7", "sent"
    call.save()
    signed_post(client, "/webhooks/twilio/status/", {"CallSid": "CA7", "CallStatus": "completed"})
    call.refresh_from_db()
    assert call.status == "delivered"
    assert timedelta(0) <= timezone.now() - call.delivered_at < timedelta(minutes=1)


def test_the_incident_page_shows_each_persons_messages_and_failures_in_red(
    security, manager, dpo, django_capture_on_commit_callbacks, twilio, client
):
    manager.phone = "+32400000000"
    manager.save()
    twilio.add(
        responses.POST,
        f"{API}/Messages.json",
        status=400,
        json={"code": 21211, "message": "invalid"},
    )
    twilio.add(responses.POST, f"{API}/Calls.json", **twilio_reply("CA1"))
    with django_capture_on_commit_callbacks(execute=True):
        incident = workflow.log_incident(security, title="t", description="d")
    client.force_login(dpo)
    html = client.get(f"/incidents/{incident.pk}/").content.decode()
    assert '<tr class="failed">' in html
    assert "21211" in html
    assert "+32400000000" in html


def test_a_late_failure_callback_never_takes_a_delivered_message_back(logged, client):
    """Callbacks can arrive out of order: delivered stays delivered, and nobody is called."""
    message = Message.objects.filter(channel="sms").first()
    Message.objects.filter(pk=message.pk).update(provider_id="SM-late")
    status = {"MessageSid": "SM-late"}
    signed_post(client, "/webhooks/twilio/status/", {**status, "MessageStatus": "delivered"})
    signed_post(client, "/webhooks/twilio/status/", {**status, "MessageStatus": "failed"})
    message.refresh_from_db()
    assert message.status == "delivered"
    assert not Message.objects.filter(fallback_for=message).exists()


def test_a_replayed_failure_callback_falls_back_once(logged, client):
    message = Message.objects.filter(channel="sms").first()
    Message.objects.filter(pk=message.pk).update(provider_id="SM-replayed")
    failure = {"MessageSid": "SM-replayed", "MessageStatus": "undelivered", "ErrorCode": "30003"}
    for _ in range(3):
        assert signed_post(client, "/webhooks/twilio/status/", failure).status_code == 204
    assert Message.objects.filter(fallback_for=message).count() == 1


def test_an_sms_ack_for_a_dismissed_incident_changes_nothing(logged, client, manager, dpo):
    workflow.transition(logged.pk, dpo, "dismiss", reason="A test, no real data.")
    signed_post(client, "/webhooks/twilio/sms/", {"From": manager.phone, "Body": "ACK"})
    assert not Acknowledgement.objects.exists()


def test_a_refused_sms_waiting_for_its_retry_shows_in_red_with_the_reason(
    logged, twilio, client, manager
):
    message = Message.objects.filter(channel="sms").first()
    Message.objects.filter(pk=message.pk).update(status="queued", attempts=0)
    twilio.replace(responses.POST, f"{API}/Messages.json", status=503, json={"code": 20500})
    send_message(message.pk)
    client.force_login(manager)
    page = client.get(f"/incidents/{logged.pk}/").content.decode()
    assert 'class="status queued retrying"' in page
    assert "Refused, trying again" in page and "Twilio 503" in page


def test_twilio_unreachable_is_a_temporary_failure_of_that_message_only(logged, twilio):
    import requests

    message = Message.objects.filter(channel="sms").first()
    Message.objects.filter(pk=message.pk).update(status="queued", attempts=0)
    twilio.replace(
        responses.POST, f"{API}/Messages.json", body=requests.ConnectTimeout("timed out")
    )
    assert send_message(message.pk) == "queued"
    message.refresh_from_db()
    assert "Twilio unreachable: ConnectTimeout" in message.error
    assert not message.possibly_twice  # never connected: Twilio cannot have it


def test_a_read_timeout_is_retried_and_marked_as_possibly_arriving_twice(logged, twilio):
    import requests

    message = Message.objects.filter(channel="sms").first()
    Message.objects.filter(pk=message.pk).update(status="queued", attempts=0)
    twilio.replace(responses.POST, f"{API}/Messages.json", body=requests.ReadTimeout("no answer"))
    assert send_message(message.pk) == "queued"
    message.refresh_from_db()
    assert message.possibly_twice and "Twilio unreachable: ReadTimeout" in message.error


def test_messages_share_one_twilio_client_until_the_credentials_change(twilio, settings):
    """A client per message opened a new HTTPS connection for every SMS and call; a new
    token (rotated in the settings) gets a new client at once."""
    from notifications.backends import backend_for

    first = backend_for("sms").client
    assert backend_for("call").client is first
    settings.TWILIO_AUTH_TOKEN = "rotated-token"
    rotated = backend_for("sms").client
    assert rotated is not first and rotated.password == "rotated-token"
