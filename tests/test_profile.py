"""A person's own profile: their language everywhere, where they are paged, their password."""

import pytest


@pytest.mark.django_db
def test_a_person_chooses_their_language_and_every_page_follows(client, manager):
    client.force_login(manager)
    before = manager.phone
    page = client.post(
        "/account/",
        {
            "display_name": "Marie",
            "email": "marie@conitro.example",
            "phone": "+32 470 12 34 56",  # not a field of this form: a code proves a number
            "language": "fr",
        },
        follow=True,
    )
    manager.refresh_from_db()
    assert (manager.language, manager.phone, manager.display_name) == ("fr", before, "Marie")
    assert '<html lang="fr">' in page.content.decode()
    assert "Profil enregistré." in page.content.decode()
    assert '<html lang="fr">' in client.get("/", HTTP_ACCEPT_LANGUAGE="nl").content.decode()


@pytest.mark.django_db
def test_a_wrong_e_mail_address_is_refused_and_nothing_changes(client, manager):
    client.force_login(manager)
    page = client.post("/account/", {"display_name": "M", "email": "m@", "language": "en"})
    assert page.status_code == 200 and "email" in page.context["form"].errors
    assert "Nothing was saved" in page.content.decode()
    manager.refresh_from_db()
    assert (manager.display_name, manager.email) == ("Manager", "manager@conitro.example")


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
