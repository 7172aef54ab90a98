"""Logging in, through the real pages: lockout after wrong passwords (django-axes), a TOTP
second factor for managers and the DPO (django-otp), an idle timeout, throttled API tokens,
and password rules wherever a password is set."""

import os
from datetime import timedelta

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def log_in(client, username, password, address="192.0.2.10"):
    return client.post(
        "/login/",
        {"username": username, "password": password},
        REMOTE_ADDR=address,
        HTTP_ACCEPT_LANGUAGE="en",
    )


def code_for(device):
    """The code the person's authenticator app shows now (the clock may be travelled)."""
    value = totp(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{value:0{device.digits}d}"


def test_five_wrong_passwords_lock_the_name_from_that_address(security):
    client = Client()
    # Four wrong passwords show the form again; the fifth locks the name from that address.
    tries = [log_in(client, "security", "wrong").status_code for _ in range(5)]
    assert tries == [200, 200, 200, 200, 429]
    locked = log_in(client, "security", "pw")
    assert locked.status_code == 429
    assert b"wrong passwords" in locked.content
    assert client.get("/").status_code == 302  # not logged in
    # Someone else's address is not locked out by the guesser.
    assert log_in(Client(), "security", "pw", address="198.51.100.7").status_code == 302


def test_the_admin_login_is_locked_too(admin_user):
    client = Client()
    for _ in range(5):
        client.post(
            "/admin/login/", {"username": "admin", "password": "x"}, REMOTE_ADDR="192.0.2.9"
        )
    response = client.post(
        "/admin/login/", {"username": "admin", "password": "password"}, REMOTE_ADDR="192.0.2.9"
    )
    assert response.status_code == 429


def invitation_link(mailoutbox):
    import re

    return re.search(r"https?://\S+/account/two-factor/invitation/\S+/", mailoutbox[-1].body)[0]


def test_a_manager_sets_up_the_second_factor_through_the_invitation_sent_to_them(
    manager, mailoutbox
):
    client = Client()
    assert log_in(client, "manager", "pw").status_code == 302
    page = client.get("/")
    assert page.status_code == 302 and page["Location"].startswith("/account/two-factor/")
    offer = client.get(page["Location"])
    assert b"data:image/svg+xml" not in offer.content  # the password alone shows no key
    assert "m…@conitro.example" in offer.content.decode()
    assert not TOTPDevice.objects.filter(user=manager).exists()
    client.post("/account/two-factor/", {"invite": "1"})
    assert [mail.to for mail in mailoutbox] == [["manager@conitro.example"]]
    link = invitation_link(mailoutbox)
    assert client.get(link.split("breachdesk.example")[1])["Location"] == "/account/two-factor/"
    setup = client.get("/account/two-factor/")
    assert b"data:image/svg+xml" in setup.content  # the QR code of the new key
    device = TOTPDevice.objects.get(user=manager, confirmed=False)
    html = setup.content.decode()
    assert f'href="{device.config_url.replace("&", "&amp;")}"' in html  # the phone showing it
    key = device.config_url.split("secret=")[1].split("&")[0]
    assert f"<code>{' '.join(key[i : i + 4] for i in range(0, len(key), 4))}</code>" in html
    assert client.get("/register.csv").status_code == 302
    device = TOTPDevice.objects.get(user=manager, confirmed=False)
    assert client.post("/account/two-factor/", {"code": "000000"}).status_code == 400
    at_once = client.post("/account/two-factor/", {"code": code_for(device)})
    assert b"wait a few seconds" in at_once.content  # wrong codes slow the next try down
    with time_machine.travel(timezone.now() + timedelta(seconds=5), tick=False):
        response = client.post("/account/two-factor/", {"code": code_for(device), "next": "/"})
        # The recovery codes, shown once (tests/test_recovery.py), then on to where they went.
        assert response.status_code == 200 and "Your recovery codes" in response.content.decode()
        assert '<a class="button" href="/">' in response.content.decode()
        assert client.get("/").status_code == 200
    assert TOTPDevice.objects.get(user=manager).confirmed
    manager.refresh_from_db()
    assert manager.second_factor_invited_at is None  # spent


def test_an_invitation_opened_in_another_persons_session_enrols_nothing(manager, dpo, mailoutbox):
    from accounts.invitations import invite

    link = invite(manager).split("breachdesk.example")[1]
    intruder = Client()
    log_in(intruder, "dpo", "pw")
    assert intruder.get(link).status_code == 400
    assert b"data:image/svg+xml" not in intruder.get("/account/two-factor/").content


def test_an_invitation_works_once_and_a_newer_one_replaces_it(manager):
    from accounts.invitations import invite

    first = invite(manager).split("breachdesk.example")[1]
    second = invite(manager).split("breachdesk.example")[1]
    client = Client()
    log_in(client, "manager", "pw")
    assert client.get(first).status_code == 400
    assert client.get(second).status_code == 302
    device = TOTPDevice.objects.create(user=manager, confirmed=False, name="x")
    with time_machine.travel(timezone.now() + timedelta(seconds=5), tick=False):
        client.post("/account/two-factor/", {"code": code_for(device)})
    again = Client()
    log_in(again, "manager", "pw")
    assert again.get(second).status_code == 400


def test_an_invitation_older_than_a_day_is_refused(manager):
    from accounts.invitations import invite

    link = invite(manager).split("breachdesk.example")[1]
    with time_machine.travel(timezone.now() + timedelta(hours=25)):
        client = Client()
        log_in(client, "manager", "pw")
        assert client.get(link).status_code == 400


def test_asking_twice_within_minutes_sends_one_invitation(manager, mailoutbox):
    client = Client()
    log_in(client, "manager", "pw")
    client.post("/account/two-factor/", {"invite": "1"})
    again = client.post("/account/two-factor/", {"invite": "1"})
    assert len(mailoutbox) == 1
    assert b"a few minutes ago" in again.content


def test_an_administrator_hands_over_an_invitation(manager, capsys):
    call_command("invite_second_factor", "manager", "--print")
    link = capsys.readouterr().out.strip()
    client = Client()
    log_in(client, "manager", "pw")
    assert client.get(link.split("breachdesk.example")[1]).status_code == 302
    assert b"data:image/svg+xml" in client.get("/account/two-factor/").content


def test_the_next_login_asks_for_the_code_and_refuses_a_wrong_one(manager):
    device = TOTPDevice.objects.create(user=manager, name="phone", confirmed=True)
    client = Client()
    log_in(client, "manager", "pw")
    form = client.get("/account/two-factor/")
    assert b"data:image/svg+xml" not in form.content  # no new key: just the code
    wrong = client.post("/account/two-factor/", {"code": "12345x"})
    assert wrong.status_code == 400 and b"not right" in wrong.content
    assert client.get("/").status_code == 302
    later = timezone.now() + timedelta(seconds=60)
    with time_machine.travel(later, tick=False):
        client.post("/account/two-factor/", {"code": code_for(device)})
        assert client.get("/").status_code == 200


def test_security_staff_need_no_second_factor(security):
    client = Client()
    log_in(client, "security", "pw")
    assert client.get("/").status_code == 200


def test_a_redirect_after_the_code_stays_on_this_site(manager):
    device = TOTPDevice.objects.create(user=manager, name="phone", confirmed=True)
    client = Client()
    log_in(client, "manager", "pw")
    response = client.post(
        "/account/two-factor/", {"code": code_for(device), "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"


def test_a_session_ends_after_thirty_idle_minutes(security):
    client = Client()
    log_in(client, "security", "pw")
    assert client.get("/").status_code == 200
    with time_machine.travel(timezone.now() + timedelta(minutes=29)):
        assert client.get("/").status_code == 200  # a request extends it
    with time_machine.travel(timezone.now() + timedelta(minutes=29 + 31)):
        response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_the_api_takes_tokens_only_not_a_session(manager):
    client = Client()
    log_in(client, "manager", "pw")  # password only: the second factor is still owed
    assert client.get("/api/incidents/").status_code == 401


def test_wrong_api_tokens_are_throttled_even_before_the_right_one(security):
    token = Token.objects.create(user=security)
    client = APIClient(REMOTE_ADDR="203.0.113.5", HTTP_ACCEPT_LANGUAGE="en")
    for number in range(10):
        client.credentials(HTTP_AUTHORIZATION=f"Token wrong{number:036d}")
        assert client.get("/api/incidents/").status_code == 401
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    response = client.get("/api/incidents/")
    assert response.status_code == 429
    assert "Too many wrong API tokens" in response.json()["detail"]
    other = APIClient(REMOTE_ADDR="203.0.113.6")
    other.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert other.get("/api/incidents/").status_code == 200


@pytest.mark.parametrize("password", ["1", "password", "12345678901", "els-conitro"])
def test_adduser_refuses_a_weak_password(password):
    with pytest.raises(CommandError, match="too weak"):
        call_command(
            "adduser", "els", "--role", "dpo", "--email", "els@conitro.be",
            "--phone", "0471 23 45 67", "--password", password, "--name", "Els Conitro",
        )  # fmt: skip


def test_the_demo_code_command_gives_a_code_that_logs_in(manager, settings, capsys):
    settings.DEBUG = True
    client = Client()
    log_in(client, "manager", "pw")
    call_command("totp_code", "manager")  # development only: a key made without the app
    code = capsys.readouterr().out.strip()
    client.post("/account/two-factor/", {"code": code})
    assert client.get("/").status_code == 200


def test_the_demo_code_command_refuses_with_debug_off(manager, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="development only"):
        call_command("totp_code", "manager")


PROXY = "127.0.0.1"


def through_proxy(client, username, password, client_address, forwarded=None):
    """A login as the TLS proxy hands it on: from the proxy's address, with the client's
    appended to X-Forwarded-For (after whatever the client sent itself)."""
    chain = ", ".join([*(forwarded or []), client_address])
    return client.post(
        "/login/",
        {"username": username, "password": password},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=chain,
        HTTP_ACCEPT_LANGUAGE="en",
    )


@pytest.fixture
def behind_proxy(settings):
    settings.TRUSTED_PROXIES = frozenset({PROXY})


def test_behind_the_proxy_a_guesser_locks_out_only_their_own_address(behind_proxy, dpo):
    for _ in range(5):
        through_proxy(Client(), "dpo", "wrong", "198.51.100.66")
    assert through_proxy(Client(), "dpo", "pw", "198.51.100.66").status_code == 429
    # The DPO, through the same proxy from their own address, logs in.
    assert through_proxy(Client(), "dpo", "pw", "192.0.2.44").status_code == 302


def test_a_forged_forwarded_address_does_not_escape_the_lockout(behind_proxy, dpo):
    """What the client writes into X-Forwarded-For is left of the proxy's entry: ignored."""
    for number in range(5):
        through_proxy(Client(), "dpo", "wrong", "198.51.100.66", [f"10.9.9.{number}"])
    assert through_proxy(Client(), "dpo", "pw", "198.51.100.66", ["10.9.9.77"]).status_code == 429


def test_without_a_trusted_proxy_the_forwarded_header_is_ignored(security):
    """Talking to the server directly, a client cannot choose its address: its five wrong
    passwords lock its own (REMOTE_ADDR), whatever X-Forwarded-For says."""
    for number in range(5):
        Client().post(
            "/login/",
            {"username": "security", "password": "wrong"},
            REMOTE_ADDR="192.0.2.10",
            HTTP_X_FORWARDED_FOR=f"10.9.9.{number}",
        )
    assert log_in(Client(), "security", "pw", address="192.0.2.10").status_code == 429


def test_behind_the_proxy_wrong_tokens_slow_down_only_the_guesser(behind_proxy, security):
    token = Token.objects.create(user=security)
    guesser = APIClient(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.66")
    for number in range(10):
        guesser.credentials(HTTP_AUTHORIZATION=f"Token wrong{number:036d}")
        assert guesser.get("/api/incidents/").status_code == 401
    guesser.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert guesser.get("/api/incidents/").status_code == 429
    integration = APIClient(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="192.0.2.44")
    integration.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert integration.get("/api/incidents/").status_code == 200


@pytest.mark.skipif(bool(os.environ.get("REDIS_URL")), reason="the shared cache is Redis then")
def test_wrong_tokens_are_counted_in_the_database_every_web_process_shares(security):
    """Without Redis the counts are rows of the shared cache table, not one process's memory."""
    from django.core.cache import caches
    from django.db import connection

    client = APIClient(REMOTE_ADDR="203.0.113.5")
    client.credentials(HTTP_AUTHORIZATION="Token " + "wrong".ljust(40, "0"))
    client.get("/api/incidents/")
    assert caches["shared"].get("token-failures:203.0.113.5") == 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM breachdesk_shared_cache")
        assert cursor.fetchone()[0] >= 1


def test_the_admin_e_mails_invitations_to_the_chosen_people(admin_client, manager, mailoutbox):
    response = admin_client.post(
        "/admin/accounts/user/",
        {"action": "invite_to_second_factor", "_selected_action": [manager.pk]},
    )
    assert response.status_code == 302
    assert [mail.to for mail in mailoutbox] == [["manager@conitro.example"]]
    assert "/account/two-factor/invitation/" in mailoutbox[0].body


def test_the_dashboards_own_refresh_does_not_keep_a_session_alive(security):
    client = Client()
    log_in(client, "security", "pw")
    start = timezone.now()
    for minutes in range(5, 40, 5):  # an unattended tab, refreshing
        with time_machine.travel(start + timedelta(minutes=minutes)):
            client.get("/", HTTP_X_DASHBOARD_REFRESH="1")
    with time_machine.travel(start + timedelta(minutes=40)):
        response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_a_right_code_used_twice_is_called_used_not_wrong(manager):
    """A code counts once (django-otp refuses a replay); the person is told why (issue 23)."""
    device = TOTPDevice.objects.create(user=manager, name="phone", confirmed=True)
    with time_machine.travel(timezone.now() + timedelta(seconds=60), tick=False):
        first = Client()
        log_in(first, "manager", "pw")
        code = code_for(device)
        assert first.post("/account/two-factor/", {"code": code}).status_code == 302
        second = Client()
        log_in(second, "manager", "pw")
        replay = second.post("/account/two-factor/", {"code": code})
        assert replay.status_code == 400
        assert b"it was used already" in replay.content
        assert second.get("/").status_code == 302  # still not in


def test_a_lockout_holds_one_name_from_one_address_for_fifteen_minutes(security, dpo):
    """The guesser's address is locked for that name only (a colleague behind the same office
    address still logs in), and only for AXES_COOLOFF_TIME, not a day."""
    client = Client()
    for _ in range(5):
        log_in(client, "security", "wrong")
    assert log_in(client, "security", "pw").status_code == 429
    assert log_in(Client(), "dpo", "pw").status_code == 302  # same address, another name
    with time_machine.travel(timezone.now() + timedelta(minutes=14), tick=False):
        assert log_in(Client(), "security", "pw").status_code == 429
    # A try while locked counts from then (django-axes): 15 minutes after it, it is over.
    with time_machine.travel(timezone.now() + timedelta(minutes=14 + 16), tick=False):
        assert log_in(Client(), "security", "pw").status_code == 302


def test_before_the_code_nothing_but_the_code_page_opens(manager):
    """Between the password and the code: not the profile (where pages go), not the
    dashboard, only the second factor's page."""
    TOTPDevice.objects.create(user=manager, name="phone", confirmed=True)
    client = Client()
    log_in(client, "manager", "pw")
    for path in ("/account/", "/", "/register/"):
        response = client.get(path)
        assert (response.status_code, response["Location"].split("?")[0]) == (
            302,
            "/account/two-factor/",
        ), path


def test_security_staff_who_set_up_a_second_factor_are_asked_for_it(security):
    """Not required for their role, but once set up it protects their account like anyone's."""
    device = TOTPDevice.objects.create(user=security, name="phone", confirmed=True)
    client = Client()
    log_in(client, "security", "pw")
    assert client.get("/")["Location"].split("?")[0] == "/account/two-factor/"
    client.post("/account/two-factor/", {"code": code_for(device)})
    assert client.get("/").status_code == 200
