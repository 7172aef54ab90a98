"""Can the desk reach you: a test SMS, call or e-mail to oneself with its status, and a new
mobile number used for pages only once the code sent to it was entered."""

import re
from datetime import timedelta

import pytest
import responses
import time_machine
from django.utils import timezone

from incidents import workflow
from notifications.models import Message

pytestmark = pytest.mark.django_db


@pytest.fixture
def logged_in(client, manager, channels, django_capture_on_commit_callbacks):
    client.force_login(manager)

    def post(path, data=None):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(path, data or {}, follow=True)

    return post


def said(page):
    return re.findall(r'<li class="(?:success|error)">([^<]*)</li>', page.content.decode())


def logged_in_page(page):
    """The profile as it is now (the messages are sent after the request that queued them)."""
    return page.client.get("/account/").content.decode()


def test_a_test_sms_call_and_e_mail_go_to_oneself_and_show_their_status(
    logged_in, manager, channels, mailoutbox
):
    for channel in ("sms", "call", "email"):
        page = logged_in(f"/account/test/{channel}/")
        assert said(page) == ["Test sent: its status shows below."]
    sms, call, email = Message.objects.filter(recipient=manager, kind="test").order_by("pk")
    assert [(m.channel, m.to, m.status) for m in (sms, call, email)] == [
        ("sms", manager.phone, "sent"),
        ("call", manager.phone, "sent"),
        ("email", manager.email, "sent"),
    ]
    assert sms.text == (
        "Test from the Conitro breach desk for Manager: alerts reach you here. Nothing else to do."
    )
    assert [m.to for m in channels] == [manager.phone, manager.phone]
    assert mailoutbox[0].subject == "Test from the breach desk"
    assert sms.incident is None and sms.firing is None
    profile = logged_in_page(page)
    assert profile.count('<span class="message-status sent">sent</span>') == 3


def test_one_test_per_channel_a_minute(logged_in, manager):
    logged_in("/account/test/sms/")
    page = logged_in("/account/test/sms/")
    assert said(page) == [
        "A test on this channel left less than a minute ago: see its status below."
    ]
    assert Message.objects.filter(recipient=manager, kind="test").count() == 1
    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        logged_in("/account/test/sms/")
    assert Message.objects.filter(recipient=manager, kind="test").count() == 2


def test_no_test_without_a_number_and_no_unknown_channel(logged_in, manager):
    type(manager).objects.filter(pk=manager.pk).update(phone="")
    assert said(logged_in("/account/test/call/")) == [
        "You have no mobile number: add one below first."
    ]
    assert said(logged_in("/account/test/fax/")) == ["Choose SMS, call or e-mail."]
    assert not Message.objects.filter(kind="test").exists()


def test_a_test_sms_refused_by_twilio_shows_why_and_calls_nobody(
    client, manager, settings, django_capture_on_commit_callbacks
):
    settings.SMS_BACKEND = "twilio"
    settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN = "AC" + "0" * 32, "token"
    settings.TWILIO_FROM_NUMBER = "+3228080000"
    client.force_login(manager)
    with responses.RequestsMock() as provider:
        provider.post(
            re.compile(r"https://api\.twilio\.com/.*/Messages\.json"),
            status=400,
            json={"code": 21211, "message": "Invalid 'To' Phone Number", "status": 400},
        )
        with django_capture_on_commit_callbacks(execute=True):
            page = client.post("/account/test/sms/", follow=True)
        (request,) = provider.calls
    assert "To=%2B324710000" in request.request.body
    (message,) = Message.objects.filter(recipient=manager)
    assert message.status == "failed" and "21211" in message.error
    assert "Invalid &#x27;To&#x27; Phone Number" in logged_in_page(page)


def test_a_new_number_takes_the_pages_only_once_its_code_is_entered(
    logged_in, manager, security, channels, django_capture_on_commit_callbacks
):
    old = manager.phone
    page = logged_in("/account/phone/", {"pending_phone": "0470 99 98 88"})
    assert said(page) == ["Code sent by SMS: enter it below."]
    (code_sms,) = Message.objects.filter(kind="phone_code")
    assert code_sms.to == "+32470999888" and code_sms.status == "sent"
    code = re.search(r"\b(\d{6})\b", code_sms.text).group(1)
    manager.refresh_from_db()
    assert (manager.phone, manager.pending_phone) == (old, "+32470999888")
    assert code not in manager.phone_code  # kept hashed
    assert "Code sent by SMS to +32470999888" in page.content.decode()

    # Meanwhile, pages go to the number in use.
    with django_capture_on_commit_callbacks(execute=True):
        first = workflow.log_incident(security, title="Voor", description="d")
    assert Message.objects.get(incident=first, recipient=manager, channel="sms").to == old

    wrong = "000000" if code != "000000" else "111111"
    page = logged_in("/account/phone/confirm/", {"code": wrong})
    assert said(page) == ["That code is not the one sent to +32470999888."]
    page = logged_in("/account/phone/confirm/", {"code": f" {code[:3]} {code[3:]} "})
    assert said(page) == ["Confirmed: alerts go to +32470999888 from now on."]
    manager.refresh_from_db()
    assert (manager.phone, manager.pending_phone, manager.phone_code) == ("+32470999888", "", "")
    assert said(logged_in("/account/phone/confirm/", {"code": code})) == [
        "No new number is waiting for a code."
    ]
    later = timezone.now() + timedelta(minutes=2)
    with time_machine.travel(later), django_capture_on_commit_callbacks(execute=True):
        second = workflow.log_incident(security, title="Na", description="d")
    assert Message.objects.get(incident=second, recipient=manager, channel="sms").to == (
        "+32470999888"
    )


def test_a_code_expires_and_allows_five_tries(logged_in, manager):
    before = manager.phone
    logged_in("/account/phone/", {"pending_phone": "+32470999888"})
    code = re.search(r"\b(\d{6})\b", Message.objects.get(kind="phone_code").text).group(1)
    wrong = "000000" if code != "000000" else "111111"
    for _try in range(5):
        logged_in("/account/phone/confirm/", {"code": wrong})
    assert said(logged_in("/account/phone/confirm/", {"code": code})) == [
        "Too many wrong codes: ask for a new one."
    ]
    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        logged_in("/account/phone/", {"pending_phone": "+32470999888"})
    code = re.search(
        r"\b(\d{6})\b", Message.objects.filter(kind="phone_code").latest("pk").text
    ).group(1)
    with time_machine.travel(timezone.now() + timedelta(minutes=12)):
        assert said(logged_in("/account/phone/confirm/", {"code": code})) == [
            "This code expired: ask for a new one."
        ]
    manager.refresh_from_db()
    assert manager.phone == before


def test_a_new_number_is_checked_and_codes_are_not_sent_in_a_flood(logged_in, manager):
    assert said(logged_in("/account/phone/", {"pending_phone": "12"})) == [
        "+3212 is not a phone number we can call: use the international form, like "
        "+32471234567, or a Belgian number like 0471 23 45 67."
    ]
    assert said(logged_in("/account/phone/", {"pending_phone": manager.phone})) == [
        "This is the number in use already."
    ]
    logged_in("/account/phone/", {"pending_phone": "+32470999888"})
    assert said(logged_in("/account/phone/", {"pending_phone": "+32470999777"})) == [
        "A code was sent less than a minute ago: wait for it, or try again soon."
    ]
    assert Message.objects.filter(kind="phone_code").count() == 1


def test_each_persons_tests_are_their_own_in_their_language_newest_first(
    logged_in, manager, make_user, channels
):
    from notifications import reach

    other = make_user("dpo", "nora", language="nl")
    reach.send_test(other, "sms")  # another person's test does not hold back the manager's
    assert Message.objects.get(recipient=other).text == (
        "Test van de datalekdesk van Conitro voor Dpo: alarmen bereiken u hier. "
        "U hoeft niets anders te doen."
    )
    type(manager).objects.filter(pk=manager.pk).update(email="")
    assert said(logged_in("/account/test/email/")) == [
        "You have no e-mail address: add one above first."
    ]
    logged_in("/account/test/sms/")
    logged_in("/account/phone/", {"pending_phone": "+32470999888"})
    assert [(m.kind, m.channel) for m in reach.recent_tests(manager)] == [
        ("phone_code", "sms"),
        ("test", "sms"),
    ]
