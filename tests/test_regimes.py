"""Regimes as data: NIS2's reports to the CCB are seeded and off until an incident is marked
significant; then each report is an obligation with its deadline, its pages and a one-page
summary; the final report is owed a month after the notification; an administrator adds
another regime (a contract's own clock) as data."""

import io
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from pypdf import PdfReader

from incidents import workflow
from incidents.models import Obligation, Regime, RegimeRule
from notifications.models import Firing
from tests.test_merging import as_posted

pytestmark = pytest.mark.django_db


@pytest.fixture
def nis2():
    return Regime.objects.get(code="nis2-be")


def owed(incident):
    return sorted(
        (str(o.rule), o.status, o.deadline_at - incident.aware_at)
        for o in incident.obligations.filter(kind=Obligation.Kind.REGIME).select_related("rule")
    )


def test_nis2_is_seeded_and_off_until_an_incident_is_significant(new_incident, nis2):
    assert [(str(r), r.anchor, r.delay) for r in nis2.rules.order_by("position")] == [
        ("Early warning", "aware", timedelta(hours=24)),
        ("Incident notification", "aware", timedelta(hours=72)),
        ("Final report", "after", timedelta(days=30)),
        ("Intermediate report", "request", timedelta(0)),  # by the time the CCB gives
    ]
    assert owed(new_incident()) == []


def test_marked_significant_the_ccb_is_owed_an_early_warning_and_a_notification(
    client, manager, new_incident, nis2, default_policy
):
    incident = new_incident()
    client.force_login(manager)
    data = as_posted(client.get(f"/incidents/{incident.pk}/edit/"))
    data["regimes"] = [str(nis2.pk)]
    assert client.post(f"/incidents/{incident.pk}/edit/", data).status_code == 302
    assert owed(incident) == [
        ("Early warning", "open", timedelta(hours=24)),
        ("Incident notification", "open", timedelta(hours=72)),
    ]
    assert {o.controller.is_conitro for o in incident.obligations.filter(kind="regime")} == {True}
    # The pages follow: 4 hours before the early warning is due, and at its deadline.
    steps = set(
        Firing.objects.filter(incident=incident, step__obligation="regime").values_list(
            "step__position", flat=True
        )
    )
    assert steps == {13, 14}
    page = client.get(f"/incidents/{incident.pk}/").text
    assert "Report under another regime: Early warning" in page
    assert "Record the report" in page


def test_the_notification_made_owes_the_final_report_a_month_later(manager, new_incident, nis2):
    incident = new_incident(hours_ago=2)
    workflow.update_facts(incident.pk, manager, {"regimes": [nis2]})
    notification = nis2.rules.get(name_en="Incident notification")
    workflow.report_under_regime(incident.pk, manager, notification.pk, reference="CCB-77")
    met = incident.obligations.get(rule=notification)
    assert met.status == "met" and met.reference == "CCB-77"
    final = incident.obligations.get(rule__name_en="Final report")
    assert final.deadline_at == met.met_at + timedelta(days=30)
    with pytest.raises(ValidationError) as again:
        workflow.report_under_regime(incident.pk, manager, notification.pk)
    assert again.value.messages == [
        "This report is not owed now: it was recorded already, or its regime is off."
    ]


def test_a_late_report_needs_its_reason_and_security_staff_cannot_record_one(
    manager, security, new_incident, nis2
):
    incident = new_incident(hours_ago=30)
    workflow.update_facts(incident.pk, manager, {"regimes": [nis2]})
    warning = nis2.rules.get(name_en="Early warning")
    with pytest.raises(PermissionDenied):
        workflow.report_under_regime(incident.pk, security, warning.pk)
    with pytest.raises(ValidationError) as refused:
        workflow.report_under_regime(incident.pk, manager, warning.pk)
    assert list(refused.value.message_dict) == ["delay_reason"]
    workflow.report_under_regime(incident.pk, manager, warning.pk, delay_reason="Weekend.")
    assert incident.obligations.get(rule=warning).delay_reason == "Weekend."


def test_switched_off_its_open_reports_are_withdrawn(manager, new_incident, nis2):
    incident = new_incident()
    workflow.update_facts(incident.pk, manager, {"regimes": [nis2]})
    workflow.update_facts(incident.pk, manager, {"regimes": []})
    assert [status for _name, status, _delay in owed(incident)] == ["withdrawn", "withdrawn"]
    assert incident.events.filter(kind="changed", field="regimes").count() == 2


def test_the_summary_for_the_ccb_in_three_languages(client, manager, incident_in, nis2, settings):
    settings.ORGANISATION = {**settings.ORGANISATION, "dpo_name": "Jan Peeters"}
    incident = incident_in("assessed")
    workflow.update_facts(incident.pk, manager, {"regimes": [nis2]})
    warning = nis2.rules.get(name_en="Early warning")
    client.force_login(manager)
    texts = {}
    for language in ("nl", "fr", "en"):
        response = client.get(
            f"/incidents/{incident.pk}/regimes/{warning.pk}/summary.pdf?lang={language}"
        )
        assert response.status_code == 200
        reader = PdfReader(io.BytesIO(response.content))
        assert len(reader.pages) == 1
        texts[language] = " ".join(reader.pages[0].extract_text().split())
    assert texts["nl"].startswith("Vroegtijdige waarschuwing")
    assert texts["fr"].startswith("Alerte précoce")
    assert "Early warning" in texts["en"] and "art. 23(4)(a) NIS2" in texts["en"]
    assert "Phishing of customers." in texts["en"]
    assert "Contact Jan Peeters — info@conitro.be" in texts["en"]  # whom the CCB calls back
    assert incident.events.filter(kind="downloaded").count() == 3


def test_an_administrator_adds_a_contracts_own_clock_as_data(manager, new_incident):
    contract = Regime.objects.create(
        code="bank-sla", name_en="Bank's contract", authority="Bank security desk"
    )
    RegimeRule.objects.create(
        regime=contract, name_en="Tell the bank", anchor="aware", delay=timedelta(hours=4)
    )
    incident = new_incident()
    workflow.update_facts(incident.pk, manager, {"regimes": [contract]})
    assert owed(incident) == [("Tell the bank", "open", timedelta(hours=4))]


def test_correcting_a_fact_on_the_page_keeps_the_awareness_to_the_second(
    client, manager, new_incident
):
    """The form shows times to the minute; an incident logged through the API at 10:02:37
    keeps its second when someone corrects its title, and so do its deadlines."""
    incident = new_incident()
    aware = incident.aware_at.replace(second=37, microsecond=0)
    type(incident).objects.filter(pk=incident.pk).update(aware_at=aware)
    client.force_login(manager)
    data = as_posted(client.get(f"/incidents/{incident.pk}/edit/"))
    data["title"] = "A better title"
    assert client.post(f"/incidents/{incident.pk}/edit/", data).status_code == 302
    incident.refresh_from_db()
    assert incident.title == "A better title" and incident.aware_at == aware
    assert not incident.events.filter(kind="aware_at_corrected").exists()


def test_the_api_switches_nis2_on_and_records_its_reports(api, new_incident, nis2):
    incident = new_incident()
    manager = api("manager")
    switched = manager.patch(
        f"/api/incidents/{incident.pk}/", {"regimes": [nis2.pk]}, format="json"
    )
    assert switched.status_code == 200, switched.content[:300]
    shown = manager.get(f"/api/incidents/{incident.pk}/").json()
    assert shown["regimes"] == [nis2.pk]
    reports = {o["rule_name"]: o for o in shown["obligations"] if o["kind"] == "regime"}
    assert sorted(reports) == ["Early warning", "Incident notification"]
    warning = reports["Early warning"]["rule"]
    refused = api("security").post(
        f"/api/incidents/{incident.pk}/regimes/{warning}/report/", {}, format="json"
    )
    assert refused.status_code == 403
    made = manager.post(
        f"/api/incidents/{incident.pk}/regimes/{warning}/report/",
        {"reference": "SOW-2026-1", "how": "Safeonweb@work"},
        format="json",
    )
    assert made.status_code == 200, made.content[:300]
    met = next(o for o in made.json()["obligations"] if o["rule"] == warning)
    assert (met["status"], met["reference"], met["how"]) == ("met", "SOW-2026-1", "Safeonweb@work")


def test_the_ccb_asks_for_an_intermediate_report_and_it_is_owed_by_the_time_it_gave(
    client, api, manager, new_incident, nis2
):
    from django.utils import timezone

    incident = new_incident()
    workflow.update_facts(incident.pk, manager, {"regimes": [nis2]})
    intermediate = nis2.rules.get(name_en="Intermediate report")
    assert intermediate.anchor == "request"
    assert not incident.obligations.filter(rule=intermediate).exists()  # not on its own
    client.force_login(manager)
    page = client.get(f"/incidents/{incident.pk}/").text
    assert "may ask for: Intermediate report." in page
    due = (timezone.now() + timedelta(days=3)).replace(second=0, microsecond=0)
    form = client.get(f"/incidents/{incident.pk}/regimes/{intermediate.pk}/request/")
    asked = client.post(
        f"/incidents/{incident.pk}/regimes/{intermediate.pk}/request/",
        {
            "version": form.context["form"].initial["version"],
            "due_at": timezone.localtime(due).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert asked.status_code == 302
    owed_now = incident.obligations.get(rule=intermediate)
    assert (owed_now.status, owed_now.deadline_at, owed_now.round) == ("open", due, 0)
    # Asked again while it is owed: refused; once made, a second request is a new round.
    manager_api = api("manager")
    url = f"/api/incidents/{incident.pk}/regimes/{intermediate.pk}/request/"
    again = manager_api.post(url, {"due_at": due.isoformat()}, format="json")
    assert again.status_code == 400
    workflow.report_under_regime(incident.pk, manager, intermediate.pk)
    second = manager_api.post(url, {"due_at": (due + timedelta(days=7)).isoformat()}, format="json")
    assert second.status_code == 200, second.content[:300]
    assert list(incident.obligations.filter(rule=intermediate).values_list("round", "status")) == [
        (0, "met"),
        (1, "open"),
    ]
