"""Every change to people and their access goes into the append-only trail (ReferenceChange),
however it is made: the profile page, the password page, the admin, a command, the shell.

People decide where pages go (e-mail, phone) and who may do what (groups, permissions, API
tokens, second-factor devices), so their history is part of the audit trail. Model signals
catch every path; the actor is the person whose request made the change (ActorMiddleware), or
nobody for a command. Secrets never reach the trail: a password is "(changed)", a token shows
its first characters, a device's key is not read at all.
"""

import contextvars

from django.contrib.auth.models import Group, Permission
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save
from django.dispatch import receiver
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import Token

from incidents.models import ReferenceChange
from incidents.workflow import as_json

from .models import User

# What is recorded of each model (a login's last_login, a device's drift are not changes of
# access; a TOTP key is a secret).
AUDITED = {
    User: ["username", "display_name", "email", "phone", "pending_phone", "language", "is_active",
           "is_staff", "is_superuser", "password", "groups", "user_permissions",
           "second_factor_invited_at"],
    Group: ["name", "permissions"],
    Token: ["user", "key"],
    TOTPDevice: ["user", "name", "confirmed"],
    StaticDevice: ["user", "name", "confirmed"],  # its recovery codes are secrets
}  # fmt: skip
SHOWN_AS_CHANGED = {"password"}
TOKEN_PREFIX = 6

acting = contextvars.ContextVar("acting", default=None)


class ActorMiddleware:
    """Who is making the request's changes, for the signals below."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        token = acting.set(user if user is not None and user.is_authenticated else None)
        try:
            return self.get_response(request)
        finally:
            acting.reset(token)


def state(instance, names=None, created=False):
    """The audited fields (or only `names`) as stored now ({} for an object not saved yet). A
    row just created has no many-to-many relations yet: they are not read."""
    model = type(instance)._meta.concrete_model
    key = primary_key(instance)
    if key is None:
        return {}
    fields = [model._meta.get_field(name) for name in names or AUDITED[model]]
    fresh = None
    if any(not field.many_to_many for field in fields):
        fresh = model._default_manager.filter(pk=key).first()
        if fresh is None:
            return {}
    values = {}
    for field in fields:
        if field.many_to_many:
            related = field.related_model._default_manager
            rows = related.filter(**{field.related_query_name(): key})
            if field.related_model is Permission:  # a permission is named by its content type
                rows = rows.select_related("content_type")
            values[field.name] = [] if created else sorted(map(str, rows))
        else:
            values[field.name] = as_json(field.value_from_object(fresh))
    if model is Token:
        values["key"] = shown_key(values["key"])
    return values


def primary_key(instance):
    """The stored primary key (DRF's TokenProxy answers .pk with the user's id)."""
    return instance._meta.concrete_model._meta.pk.value_from_object(instance)


def shown_key(key):
    return f"{key[:TOKEN_PREFIX]}…" if key else ""


def describe(instance):
    if isinstance(instance, Token):
        return f"{shown_key(instance.key)} ({instance.user})"
    return str(instance)[:200]


def write(instance, before, after):
    changed = sorted(name for name in {*before, *after} if before.get(name) != after.get(name))
    if not changed:
        return None
    for name in SHOWN_AS_CHANGED & set(changed):
        before = {**before, name: "(changed)"} if before else before
        after = {**after, name: "(changed)"} if after else after
    if not after:
        action = ReferenceChange.Action.DELETED
    else:
        action = ReferenceChange.Action.CHANGED if before else ReferenceChange.Action.ADDED
    return ReferenceChange.objects.create(
        actor=acting.get(),
        model=instance._meta.concrete_model._meta.label,
        # A token's primary key is the token itself: its first characters only.
        object_id=shown_key(instance.key) if isinstance(instance, Token) else primary_key(instance),
        object_repr=describe(instance),
        action=action,
        before={name: before.get(name) for name in changed} if before else None,
        after={name: after.get(name) for name in changed} if after else None,
    )


def audited(sender):
    """People, groups, tokens (DRF's admin saves them as TokenProxy) and devices."""
    meta = getattr(sender, "_meta", None)
    return meta is not None and meta.concrete_model in AUDITED


def only_unaudited(sender, update_fields):
    fields = AUDITED[sender._meta.concrete_model]
    return update_fields is not None and not set(update_fields) & set(fields)


@receiver(pre_save)
def before_saving(sender, instance, update_fields=None, **kwargs):
    if audited(sender) and not only_unaudited(sender, update_fields):
        instance._access_before = state(instance)


@receiver(post_save)
def after_saving(sender, instance, created=False, update_fields=None, **kwargs):
    if audited(sender) and hasattr(instance, "_access_before"):
        write(instance, instance._access_before, state(instance, created=created))
        del instance._access_before


@receiver(pre_delete)
def before_deleting(sender, instance, **kwargs):
    if audited(sender):
        instance._access_before = state(instance)


@receiver(post_delete)
def after_deleting(sender, instance, **kwargs):
    if audited(sender) and hasattr(instance, "_access_before"):
        write(instance, instance._access_before, {})
        del instance._access_before


@receiver(m2m_changed)
def groups_or_permissions_changed(sender, instance, action, reverse, model, pk_set, **kwargs):
    """A person's groups or permissions, or a group's permissions, from either side: a group's
    members changed (`group.user_set.add(person)`) is each person's groups changed."""
    owner = model if reverse else type(instance)
    if not audited(owner) or action not in {*BEFORE, *AFTER}:
        return
    name = relation(owner, sender)
    if name is None:  # a relation the trail does not follow
        return
    if action in BEFORE:
        if not reverse:
            owners = [instance]
        else:  # the people (or groups) on the other side; pk_set None: a clear, all of them
            touched = {name: instance} if pk_set is None else {"pk__in": pk_set}
            owners = list(owner._default_manager.filter(**touched))
        for each in owners:
            each._access_before = state(each, [name])  # only this relation changes
        instance._access_owners = owners
        return
    for each in instance.__dict__.pop("_access_owners", []):
        write(each, each._access_before, state(each, [name]))
        del each._access_before


BEFORE = {"pre_add", "pre_remove", "pre_clear"}
AFTER = {"post_add", "post_remove", "post_clear"}


def relation(model, through):
    """The audited many-to-many field of `model` whose table is `through` (None: none is)."""
    return next(
        (
            name
            for name in AUDITED[model._meta.concrete_model]
            if model._meta.get_field(name).many_to_many
            and model._meta.get_field(name).remote_field.through is through
        ),
        None,
    )
