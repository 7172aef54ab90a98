"""The dashboard's search: every word in any order, closed and dismissed incidents too, the
controllers' names and enterprise numbers; and "mine" without joining every message."""

import pytest

from incidents import workflow
from incidents.models import Incident

pytestmark = pytest.mark.django_db


def found(client, words, **extra):
    page = client.get("/", {"q": words, **extra})
    return sorted(row.reference for row in page.context["page"])


def test_every_word_in_any_order_open_or_closed_and_by_controller(
    client, manager, security, incident_in, new_incident
):
    closed = incident_in("closed")  # "Admin account phished", controller Bakkerij Van Damme
    Incident.objects.filter(pk=closed.pk).update(title="Laptop stolen from a car")
    bike = workflow.log_incident(
        security, title="Bicycle courier lost a USB stick", description="d"
    )
    client.force_login(manager)
    assert found(client, "car laptop") == [closed.reference]
    assert found(client, "laptop bicycle") == []
    assert found(client, "damme") == [closed.reference]  # its controller's name
    assert found(client, "0440966354") == [closed.reference]  # its controller's KBO number
    assert found(client, "usb COURIER") == [bike.reference]
    assert found(client, bike.reference) == [bike.reference]
    assert found(client, "laptop", state="closed") == [closed.reference]
    assert closed.reference not in {row.reference for row in client.get("/").context["page"]}


def test_mine_lists_incidents_that_paged_me_alone_or_in_a_digest(
    client, manager, dpo, security, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = workflow.log_incident(security, title="Eerste", description="d")
        second = workflow.log_incident(security, title="Tweede", description="d")
    client.force_login(dpo)  # step 1 pages security and the managers, not the DPO
    assert sorted(r.reference for r in client.get("/", {"mine": "on"}).context["page"]) == []
    client.force_login(manager)
    # The second incident's page was held and goes out within a later one: still "mine".
    mine = client.get("/", {"mine": "on"}).context["page"]
    assert sorted(r.reference for r in mine) == [first.reference, second.reference]
