"""Signals from one source of truth (issue 23, "signals that lie"): the countdown, the overdue
count in the tab title, the dashboard's order and the overdue filter follow the open
obligations, not the state nor copies kept on the incident."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from incidents import workflow
from notifications.tasks import dispatch

pytestmark = pytest.mark.django_db


def test_everything_recorded_late_before_the_assessment_no_longer_counts_as_overdue(
    client, manager, security, controller
):
    aware = timezone.now() - timedelta(hours=30)
    done = workflow.log_incident(
        security, title="Filed and told, late", description="d", aware_at=aware,
        controllers=[controller],
    )  # fmt: skip
    for action, extra in [
        ("notify_gba", {"reference": "DBN-2026-900"}),
        ("notify_controller", {"how": "E-mail"}),
    ]:
        workflow.transition(done.pk, manager, action, delay_reason="Weekend.", **extra)
    waiting = workflow.log_incident(
        security, title="Still owed", description="d", aware_at=aware + timedelta(hours=1)
    )
    done.refresh_from_db()
    assert done.state == "detected"  # not assessed yet: the state lags, the obligations do not
    client.force_login(manager)
    page = client.get("/")
    assert page.context["overdue"] == 1
    assert [row.pk for row in page.context["page"]] == [waiting.pk, done.pk]
    html = page.content.decode()
    row = re.search(rf"{done.reference}.*?</tr>", html, re.S).group(0)
    part2 = done.obligations.get(kind="complete_gba")  # filed before the assessment
    assert 'class="clock overdue"' not in row
    assert f'data-deadline="{part2.deadline_at.isoformat()}"' in row
    overdue_only = client.get("/?overdue=on")
    assert [row.pk for row in overdue_only.context["page"]] == [waiting.pk]


def test_a_late_filing_is_never_shown_as_in_time(client, manager, incident_in):
    incident = incident_in("controller_notified", hours_ago=30)  # both recorded late
    client.force_login(manager)
    page = client.get(f"/incidents/{incident.pk}/").content.decode()
    assert "done, met 6 h 00 min late" in page and "in time" not in page
    punctual = incident_in("controller_notified", hours_ago=2)
    page = client.get(f"/incidents/{punctual.pk}/").content.decode()
    assert "done in time" in page


def test_the_clock_counts_to_the_earliest_open_obligation(client, manager, incident_in):
    incident = incident_in("gba_notified")  # filed; the controller is still to be told
    told = incident.obligations.get(kind="tell_controller")
    client.force_login(manager)
    page = client.get(f"/incidents/{incident.pk}/").content.decode()
    assert f'data-deadline="{told.deadline_at.isoformat()}"' in page


def test_next_alert_names_only_a_page_that_will_go_out(client, manager, incident_in):
    incident = incident_in("assessed")  # step 2 (aware + 4 h, until assessed) is moot now
    dispatch()  # the first alert (step 1, at awareness) goes out
    client.force_login(manager)
    row = next(r for r in client.get("/").context["page"] if r.pk == incident.pk)
    assert row.next_alert_at == incident.aware_at + timedelta(hours=12)  # step 3, GBA not filed
    page = client.get(f"/incidents/{incident.pk}/").content.decode()
    assert "Next: GBA not notified yet at" in page
    done = incident_in("controller_notified")
    dispatch()
    row = next(r for r in client.get("/").context["page"] if r.pk == done.pk)
    assert row.next_alert_at is None  # every step waits for something done
    assert "Next:" not in client.get(f"/incidents/{done.pk}/").content.decode()


def test_the_dashboard_of_mine_reads_the_same_queries_for_one_incident_or_twenty(
    client, manager, incident_in
):
    """ "Mine" (logged by me or paging me) and who acknowledged come with the page of rows:
    an EXISTS and subqueries, never a query per incident nor a join of every message."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(manager)

    def mine():
        with CaptureQueriesContext(connection) as queries:
            page = client.get("/?mine=on")
        return len(page.context["page"].object_list), len(queries)

    incident_in("assessed")
    dispatch()  # the first alerts page the manager
    mine()  # the session's first request writes it
    counted, one = mine()
    assert counted == 1
    for _ in range(19):
        incident_in("assessed")
    dispatch()
    assert mine() == (20, one)
