"""The admin, where the DPO and the administrators keep the reference data: every page of every
model opens, listing, adding and changing, with its columns, filters, searches and inlines."""

import pytest
from django.contrib import admin
from django.urls import reverse

pytestmark = pytest.mark.django_db


OURS = {"incidents", "notifications", "accounts", "subjects", "auth", "otp_static", "otp_totp"}


def admin_pages():
    return [
        pytest.param(model, model_admin, id=f"{model._meta.app_label}.{model.__name__}")
        for model, model_admin in admin.site._registry.items()
        if model._meta.app_label in OURS
    ]


@pytest.mark.parametrize(("model", "model_admin"), admin_pages())
def test_every_admin_page_opens(admin_client, new_incident, model, model_admin):
    new_incident()  # rows in the incidents' tables: an incident, its events, its obligations
    name = f"admin:{model._meta.app_label}_{model._meta.model_name}"
    listing = admin_client.get(reverse(f"{name}_changelist"), {"q": "a"})
    assert listing.status_code == 200
    for column in model_admin.list_filter:
        if isinstance(column, str):
            assert column.split("__")[0] in listing.content.decode()
    adding = admin_client.get(reverse(f"{name}_add"))
    assert adding.status_code == (
        200 if model_admin.has_add_permission(adding.wsgi_request) else 403
    )
    first = model._default_manager.order_by("pk").first()
    if first is not None:
        changing = admin_client.get(reverse(f"{name}_change", args=[first.pk]))
        assert changing.status_code == 200
