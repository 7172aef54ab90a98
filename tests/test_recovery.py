"""A lost or new phone: recovery codes (django-otp's static tokens) shown once at enrolment and
on demand, a recovery code standing in for the TOTP code once, moving the second factor to a
new phone, and an administrator's reset, in the audit trail."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from incidents.models import ReferenceChange
from tests.test_login_security import code_for, invitation_link, log_in

pytestmark = pytest.mark.django_db


def codes_on(page):
    return [
        code.replace(" ", "") for code in re.findall(r"<li><code>([a-z2-7 ]+)</code></li>", page)
    ]


def enrolled(manager, mailoutbox):
    """A manager who set up the second factor through an invitation: the client and the
    recovery codes shown when it was confirmed."""
    client = Client()
    log_in(client, "manager", "pw")
    client.post("/account/two-factor/", {"invite": "1"})
    client.get(invitation_link(mailoutbox).split("breachdesk.example")[1])
    client.get("/account/two-factor/")
    device = TOTPDevice.objects.get(user=manager, confirmed=False)
    shown = client.post("/account/two-factor/", {"code": code_for(device), "next": "/"})
    return client, shown


def test_setting_up_the_second_factor_shows_ten_recovery_codes_once(manager, mailoutbox):
    client, shown = enrolled(manager, mailoutbox)
    page = shown.content.decode()
    assert shown.status_code == 200 and "shown only this once" in page
    codes = codes_on(page)
    assert len(codes) == len(set(codes)) == 10 and all(len(code) == 8 for code in codes)
    assert sorted(
        StaticToken.objects.filter(device__user=manager).values_list("token", flat=True)
    ) == sorted(codes)
    assert '<a class="button" href="/">' in page
    assert client.get("/").status_code == 200  # logged in with the new device
    assert "10 recovery codes left." in client.get("/account/").content.decode()


def test_a_recovery_code_logs_in_once_instead_of_the_lost_phone(manager, mailoutbox):
    _client, shown = enrolled(manager, mailoutbox)
    code = codes_on(shown.content.decode())[3]
    lost = Client()
    log_in(lost, "manager", "pw")
    form = lost.get("/account/two-factor/").content.decode()
    assert "Lost your phone? Use a recovery code" in form
    wrong = lost.post("/account/two-factor/", {"recovery": "aaaa aaaa"})
    assert (
        wrong.status_code == 400 and "not right, or it was used already" in wrong.content.decode()
    )
    with time_machine.travel(timezone.now() + timedelta(seconds=5)):
        used = lost.post(
            "/account/two-factor/",
            {"recovery": f" {code[:4].upper()} {code[4:]} ", "next": "/"},
            follow=True,
        )
    assert used.redirect_chain[-1][0] == "/" and used.status_code == 200
    assert "Recovery code used: 9 left." in used.content.decode()

    again = Client()
    log_in(again, "manager", "pw")
    with time_machine.travel(timezone.now() + timedelta(seconds=30)):
        refused = again.post("/account/two-factor/", {"recovery": code})
    assert refused.status_code == 400
    assert again.get("/").status_code == 302


def test_new_recovery_codes_replace_the_old_ones(client, manager):
    client.force_login(manager)
    first = codes_on(client.post("/account/two-factor/recovery-codes/").content.decode())
    second = codes_on(client.post("/account/two-factor/recovery-codes/").content.decode())
    assert len(first) == len(second) == 10 and not set(first) & set(second)
    assert StaticDevice.objects.filter(user=manager).count() == 1
    assert set(
        StaticToken.objects.filter(device__user=manager).values_list("token", flat=True)
    ) == set(second)
    assert client.get("/account/two-factor/recovery-codes/")["Location"] == "/account/"


def test_the_second_factor_moves_to_a_new_phone(client, manager):
    client.force_login(manager)
    old = TOTPDevice.objects.get(user=manager, confirmed=True)
    page = client.get("/account/two-factor/new-phone/").content.decode()
    assert "Your old phone stops working then." in page and "data:image/svg+xml" in page
    new = TOTPDevice.objects.get(user=manager, confirmed=False)
    assert client.post("/account/two-factor/new-phone/", {"code": "000000"}).status_code == 400
    with time_machine.travel(timezone.now() + timedelta(seconds=5)):
        moved = client.post("/account/two-factor/new-phone/", {"code": code_for(new)}, follow=True)
    assert "Your second factor is now on the new phone." in moved.content.decode()
    assert list(TOTPDevice.objects.filter(user=manager).values_list("pk", "confirmed")) == [
        (new.pk, True)
    ]
    assert not TOTPDevice.objects.filter(pk=old.pk).exists()


def test_moving_needs_a_session_that_passed_the_second_factor(manager):
    TOTPDevice.objects.create(user=manager, name="phone", confirmed=True)
    client = Client()
    log_in(client, "manager", "pw")
    response = client.get("/account/two-factor/new-phone/")
    assert response.status_code == 302 and response["Location"].startswith("/account/two-factor/")
    assert not TOTPDevice.objects.filter(user=manager, confirmed=False).exists()


def test_an_administrator_resets_a_lost_phone_in_the_audit_trail(
    admin_client, admin_user, manager, mailoutbox
):
    TOTPDevice.objects.create(user=manager, name="phone", confirmed=True)
    from accounts.second_factor import new_recovery_codes

    new_recovery_codes(manager)
    since = ReferenceChange.objects.order_by("-pk").values_list("pk", flat=True).first()
    response = admin_client.post(
        "/admin/accounts/user/",
        {"action": "reset_second_factor", "_selected_action": [manager.pk]},
    )
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=manager).exists()
    assert not StaticDevice.objects.filter(user=manager).exists()
    removed = ReferenceChange.objects.filter(pk__gt=since, action="deleted").values_list(
        "model", "actor__username"
    )
    assert sorted(removed) == [
        ("otp_static.StaticDevice", admin_user.username),
        ("otp_totp.TOTPDevice", admin_user.username),
    ]
    assert [mail.to for mail in mailoutbox] == [["manager@conitro.example"]]
