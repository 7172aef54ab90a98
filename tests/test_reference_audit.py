"""Changes to reference data are in the audit trail, wherever they are made: who, when, what
before and what after (a password only as "changed")."""

import pytest

from incidents.models import Controller, DataCategory, ReferenceChange

pytestmark = pytest.mark.django_db


def test_renaming_a_category_in_the_admin_is_recorded(admin_client, admin_user):
    category = DataCategory.objects.create(name_nl="E-mail", name_fr="E-mail", name_en="E-mail")
    response = admin_client.post(
        f"/admin/incidents/datacategory/{category.pk}/change/",
        {"name_nl": "E-mailadres", "name_fr": "Adresse e-mail", "name_en": "E-mail", "position": 0},
    )
    assert response.status_code == 302
    change = ReferenceChange.objects.get(model="incidents.DataCategory")
    assert (change.actor, change.action, change.object_id) == (
        admin_user,
        "changed",
        str(category.pk),
    )
    assert change.before == {"name_nl": "E-mail", "name_fr": "E-mail"}
    assert change.after == {"name_nl": "E-mailadres", "name_fr": "Adresse e-mail"}


def test_deleting_a_category_in_the_admin_is_recorded(admin_client):
    category = DataCategory.objects.create(name_nl="Oud", name_fr="Ancien", name_en="Old")
    admin_client.post(f"/admin/incidents/datacategory/{category.pk}/delete/", {"post": "yes"})
    change = ReferenceChange.objects.get(action="deleted")
    assert change.before["name_en"] == "Old" and change.after is None
    assert change.object_id == str(category.pk)


def test_a_controller_changed_on_its_page_or_by_the_api_is_recorded(
    client, api, manager, controller
):
    client.force_login(manager)
    data = {
        "name": controller.name,
        "enterprise_number": controller.enterprise_number,
        "address": "Veldstraat 1, 9000 Gent",
        "contact_person": controller.contact_person,
        "email": controller.email,
        "phone": controller.phone,
        "language": controller.language,
        "gba_on_behalf": "on",
    }
    assert client.post(f"/controllers/{controller.pk}/", data).status_code == 302
    api("manager").patch(f"/api/controllers/{controller.pk}/", {"language": "fr"}, format="json")
    changes = list(ReferenceChange.objects.filter(model="incidents.Controller"))
    assert [(c.actor, c.before, c.after) for c in changes] == [
        (manager, {"address": "Kerkstraat 12, 9000 Gent"}, {"address": "Veldstraat 1, 9000 Gent"}),
        (manager, {"language": "nl"}, {"language": "fr"}),
    ]
    assert Controller.objects.get().language == "fr"


def test_a_changed_step_of_the_escalation_policy_is_recorded(admin_client):
    from notifications.models import EscalationPolicy

    policy = EscalationPolicy.objects.get()
    page = admin_client.get(f"/admin/notifications/escalationpolicy/{policy.pk}/change/")
    form = page.context["adminform"].form
    data = {"name": policy.name, "is_active": "on"}
    for formset in page.context["inline_admin_formsets"]:
        management = formset.formset.management_form
        data.update({management.add_prefix(k): v for k, v in management.initial.items()})
        for inline in formset.formset.forms:
            for name, field in inline.fields.items():
                value = inline.initial.get(name, field.initial)
                if value is None:
                    continue
                if name in ("roles", "people"):
                    data[inline.add_prefix(name)] = [getattr(v, "pk", v) for v in value]
                elif isinstance(value, bool):
                    if value:
                        data[inline.add_prefix(name)] = "on"
                else:
                    data[inline.add_prefix(name)] = getattr(value, "pk", value)
    first = page.context["inline_admin_formsets"][0].formset.forms[0]
    data[first.add_prefix("email")] = "on" if not first.initial["email"] else ""
    del form
    response = admin_client.post(f"/admin/notifications/escalationpolicy/{policy.pk}/change/", data)
    assert response.status_code == 302, response.context and response.context["errors"]
    change = ReferenceChange.objects.get(model="notifications.EscalationStep")
    assert set(change.after) == {"email"}


def test_a_password_changed_in_the_admin_is_recorded_without_the_hash(
    admin_client, admin_user, security
):
    since = last_change_id()
    admin_client.post(
        f"/admin/accounts/user/{security.pk}/password/",
        {"password1": "a-new-long-passphrase-42", "password2": "a-new-long-passphrase-42",
         "usable_password": "true"},
    )  # fmt: skip
    security.refresh_from_db()
    assert security.check_password("a-new-long-passphrase-42")
    assert people_changes(security, since) == [
        ("admin", {"password": "(changed)"}, {"password": "(changed)"})
    ]


def last_change_id():
    return ReferenceChange.objects.order_by("-id").values_list("id", flat=True).first() or 0


def people_changes(person, since):
    return list(
        ReferenceChange.objects.filter(
            model="accounts.User", object_id=str(person.pk), id__gt=since
        ).values_list("actor__username", "before", "after")
    )


def test_a_changed_phone_on_the_profile_page_is_recorded_with_who_did_it(
    client, manager, channels, django_capture_on_commit_callbacks
):
    import re

    from notifications.models import Message

    client.force_login(manager)
    since = last_change_id()
    response = client.post(
        "/account/", {"display_name": "Mia", "email": "mia@conitro.example", "language": "en"}
    )
    assert response.status_code == 302
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/account/phone/", {"pending_phone": "+32471999999"})
    code = re.search(r"\b(\d{6})\b", Message.objects.get(kind="phone_code").text).group(1)
    client.post("/account/phone/confirm/", {"code": code})
    assert people_changes(manager, since) == [
        (
            "manager",
            {"display_name": "Manager", "email": "manager@conitro.example"},
            {"display_name": "Mia", "email": "mia@conitro.example"},
        ),
        ("manager", {"pending_phone": ""}, {"pending_phone": "+32471999999"}),
        (
            "manager",
            {"phone": manager.phone, "pending_phone": "+32471999999"},
            {"phone": "+32471999999", "pending_phone": ""},
        ),
    ]


def test_a_password_changed_by_its_owner_is_recorded_without_the_hash(client, security):
    client.force_login(security)
    since = last_change_id()
    client.post(
        "/account/password/",
        {"old_password": "pw", "new_password1": "a-new-long-passphrase-42",
         "new_password2": "a-new-long-passphrase-42"},
    )  # fmt: skip
    assert people_changes(security, since) == [
        ("security", {"password": "(changed)"}, {"password": "(changed)"})
    ]


def test_a_group_given_to_a_person_in_the_admin_is_recorded(admin_client, admin_user, security):
    from django.contrib.auth.models import Group

    managers = Group.objects.get(name="manager")
    security.groups.add(managers)
    change = ReferenceChange.objects.filter(model="accounts.User").last()
    assert (change.before, change.after) == (
        {"groups": ["security"]},
        {"groups": ["manager", "security"]},
    )


def test_people_added_to_or_cleared_from_a_group_on_the_groups_side_are_recorded_each(
    security, manager, dpo
):
    """From a shell or a command, `group.user_set` changes each member's groups: each person's
    change is in the trail, as when it is made from their side."""
    from django.contrib.auth.models import Group

    managers = Group.objects.get(name="manager")
    since = last_change_id()
    managers.user_set.add(security, dpo)
    managers.user_set.clear()
    # No request, so no actor: a command's or the shell's change.
    assert people_changes(security, since) == [
        (None, {"groups": ["security"]}, {"groups": ["manager", "security"]}),
        (None, {"groups": ["manager", "security"]}, {"groups": ["security"]}),
    ]
    assert people_changes(dpo, since) == [
        (None, {"groups": ["dpo"]}, {"groups": ["dpo", "manager"]}),
        (None, {"groups": ["dpo", "manager"]}, {"groups": ["dpo"]}),
    ]
    assert people_changes(manager, since) == [(None, {"groups": ["manager"]}, {"groups": []})]


def test_a_permission_given_to_a_group_is_recorded():
    from django.contrib.auth.models import Group, Permission

    security = Group.objects.get(name="security")
    notify = Permission.objects.get(codename="notify_incident")
    security.permissions.add(notify)
    change = ReferenceChange.objects.filter(model="auth.Group").last()
    assert change.object_repr == "security"
    assert set(change.after["permissions"]) - set(change.before["permissions"]) == {str(notify)}


def test_a_new_api_token_is_recorded_by_its_first_characters_only(admin_client, security):
    from django.contrib.admin.models import LogEntry
    from rest_framework.authtoken.models import Token

    response = admin_client.post("/admin/authtoken/tokenproxy/add/", {"user": security.pk})
    assert response.status_code == 302
    token = Token.objects.get(user=security)
    change = ReferenceChange.objects.get(model="authtoken.Token")
    assert change.after == {"key": f"{token.key[:6]}…", "user": security.pk}
    assert change.object_repr == f"{token.key[:6]}… ({security})"
    everything = str(list(ReferenceChange.objects.values())) + str(list(LogEntry.objects.values()))
    assert token.key not in everything


def test_a_removed_second_factor_device_is_recorded(admin_client, admin_user, manager):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    since = last_change_id()
    device = TOTPDevice.objects.create(user=manager, name="phone", confirmed=True)
    device.delete()
    added, deleted = ReferenceChange.objects.filter(model="otp_totp.TOTPDevice", id__gt=since)
    assert (added.action, added.after) == ("added", {"confirmed": True, "name": "phone",
                                                       "user": manager.pk})  # fmt: skip
    assert (deleted.action, deleted.after) == ("deleted", None)


def test_a_login_is_no_change_of_access(client, security):
    from django.test import Client

    before = ReferenceChange.objects.count()
    Client().post("/login/", {"username": "security", "password": "pw"})
    assert ReferenceChange.objects.count() == before


def test_a_name_in_the_admin_is_one_line_of_text(admin_client):
    from incidents.models import DataCategory

    response = admin_client.post(
        "/admin/incidents/datacategory/add/",
        {"name_nl": "Naam\x1b[2J", "name_fr": "Nom", "name_en": "Name", "position": 0},
    )
    assert response.status_code == 200  # the form again, with the error
    assert list(response.context["adminform"].form.errors) == ["name_nl"]
    assert not DataCategory.objects.filter(name_fr="Nom").exists()
