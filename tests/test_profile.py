"""A person's own profile: their language everywhere, where they are paged, their password."""

import pytest

from notifications.models import Message


@pytest.mark.django_db
def test_a_person_chooses_their_language_and_every_page_follows(client, manager):
    client.force_login(manager)
    page = client.post(
        "/account/",
        {
            "display_name": "Marie",
            "email": "marie@conitro.example",
            "phone": "+32 470 12 34 56",
            "language": "fr",
        },
        follow=True,
    )
    manager.refresh_from_db()
    assert (manager.language, manager.phone, manager.display_name) == (
        "fr",
        "+32470123456",
        "Marie",
    )
    assert '<html lang="fr">' in page.content.decode()
    assert "Profil enregistré." in page.content.decode()
    assert '<html lang="fr">' in client.get("/", HTTP_ACCEPT_LANGUAGE="nl").content.decode()


@pytest.mark.django_db
def test_a_wrong_phone_number_is_refused_and_nothing_changes(client, manager):
    client.force_login(manager)
    before = manager.phone
    page = client.post(
        "/account/",
        {"display_name": "M", "email": "m@conitro.example", "phone": "12", "language": "en"},
    )
    assert page.status_code == 200 and "phone" in page.context["form"].errors
    assert "Nothing was saved" in page.content.decode()
    manager.refresh_from_db()
    assert manager.phone == before


@pytest.mark.django_db
def test_pages_go_to_the_number_in_the_profile(client, security, manager, channels):
    client.force_login(manager)
    client.post(
        "/account/",
        {
            "display_name": "M",
            "email": "m@conitro.example",
            "phone": "+32470999888",
            "language": "nl",
        },
    )
    from django.test import TestCase

    from incidents import workflow

    with TestCase.captureOnCommitCallbacks(execute=True):
        incident = workflow.log_incident(security, title="Phone test", description="d")
    sms = Message.objects.get(incident=incident, recipient=manager, channel="sms")
    assert sms.to == "+32470999888" and sms.text.startswith("Nieuw datalek")


@pytest.mark.django_db
def test_a_person_changes_their_password(client, security):
    client.force_login(security)
    page = client.post(
        "/account/password/",
        {"old_password": "pw", "new_password1": "Kl0k-van-24u!", "new_password2": "Kl0k-van-24u!"},
        follow=True,
    )
    assert page.redirect_chain[-1][0] == "/account/"
    security.refresh_from_db()
    assert security.check_password("Kl0k-van-24u!")
