"""The loop stays open until everyone is current (issue 22): a change after a controller was
told owes it an update; a change after a GBA filing owes the GBA a follow-up; dismissing a
breach already filed owes the GBA its withdrawal. Closing waits for all of them."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from incidents import workflow
from incidents.models import Obligation, State

pytestmark = pytest.mark.django_db


def owed(incident, kind):
    return sorted(
        (o.controller.name, o.status, o.round)
        for o in incident.obligations.filter(kind=kind).select_related("controller")
    )


def test_a_change_after_the_notice_owes_each_told_controller_an_update(
    incident_in, manager, security, controller, second, assessment_values, time_machine
):
    incident = incident_in("controller_notified")  # filed for the bakery, the bakery told
    changed_at = timezone.now() + timedelta(minutes=5)
    time_machine.move_to(changed_at, tick=False)
    workflow.update_facts(incident.pk, manager, {"controllers": [controller, second]})
    values = {**assessment_values, "subjects_count": 2105}
    workflow.assess(incident.pk, security, values, {})
    assert owed(incident, "update_controller") == [("Bakkerij Van Damme BV", "open", 1)]
    assert owed(incident, "gba_follow_up") == [("Bakkerij Van Damme BV", "open", 1)]
    update = incident.obligations.get(kind="update_controller")
    assert update.deadline_at == changed_at + timedelta(hours=24)  # the regime table's
    # A second change before the update is sent goes into the same update.
    workflow.update_facts(incident.pk, manager, {"description": "Also the invoices."})
    assert owed(incident, "update_controller") == [("Bakkerij Van Damme BV", "open", 1)]
    workflow.transition(incident.pk, manager, "update_controller", how="E-mail")
    workflow.update_facts(incident.pk, manager, {"description": "And the addresses."})
    assert owed(incident, "update_controller") == [
        ("Bakkerij Van Damme BV", "met", 1),
        ("Bakkerij Van Damme BV", "open", 2),
    ]


def test_closing_waits_until_everyone_is_current(incident_in, manager, security):
    incident = incident_in("controller_notified")
    workflow.update_facts(incident.pk, manager, {"discovered_how": "A customer called."})
    with pytest.raises(ValidationError) as refusal:
        workflow.transition(incident.pk, manager, "close")
    assert refusal.value.messages == [
        "Obligations are still open: Update the controller (Bakkerij Van Damme BV); Send the "
        "GBA a follow-up (Bakkerij Van Damme BV)."
    ]
    workflow.transition(incident.pk, manager, "update_controller", how="E-mail")
    workflow.transition(incident.pk, manager, "gba_follow_up", reference="")
    follow_up = incident.obligations.get(kind="gba_follow_up")
    assert (follow_up.status, follow_up.reference) == ("met", "DBN-2026-1234")
    closed = workflow.transition(incident.pk, manager, "close")
    assert closed.state == State.CLOSED


def test_a_title_or_a_translation_owes_nobody_anything(incident_in, manager):
    incident = incident_in("controller_notified")
    workflow.update_facts(incident.pk, manager, {"title": "Phished admin"})
    workflow.translate(incident.pk, manager, "fr", {"description": "Mot de passe saisi."})
    assert owed(incident, "update_controller") == []
    assert owed(incident, "gba_follow_up") == []


def test_the_dbn_is_owed_to_a_controller_told_before_the_filing(incident_in, manager):
    incident = incident_in("assessed")
    workflow.transition(incident.pk, manager, "notify_controller", how="E-mail")
    assert owed(incident, "update_controller") == []
    workflow.transition(incident.pk, manager, "notify_gba", reference="DBN-2026-99")
    assert owed(incident, "update_controller") == [("Bakkerij Van Damme BV", "open", 1)]
    assert owed(incident, "gba_follow_up") == []  # the filing is no change to the GBA


def test_one_controller_s_own_figures_owe_only_that_controller(
    incident_in, manager, security, controller, second
):
    incident = incident_in("gba_notified")
    workflow.update_facts(incident.pk, manager, {"controllers": [controller, second]})
    workflow.transition(incident.pk, manager, "notify_controller", how="E-mail")  # both told
    workflow.update_affected(incident.pk, security, second.pk, {"subjects_count": 12})
    assert owed(incident, "update_controller") == [("Librairie Lefèvre SRL", "open", 1)]


def test_no_follow_up_while_part_two_will_carry_the_change(incident_in, manager):
    incident = incident_in("assessed")
    workflow.update_facts(incident.pk, manager, {"ended_at": None})
    workflow.transition(incident.pk, manager, "notify_gba", reference="DBN-2026-5")
    assert incident.obligations.get(kind="complete_gba").status == "open"
    workflow.update_facts(incident.pk, manager, {"description": "More is known."})
    assert owed(incident, "gba_follow_up") == []


def test_a_breach_filed_and_told_then_dismissed_owes_both_the_truth(incident_in, manager):
    incident = incident_in("controller_notified")
    dismissed = workflow.transition(
        incident.pk, manager, "dismiss", reason="The file held test data only."
    )
    assert dismissed.state == State.DISMISSED
    assert owed(incident, "gba_withdrawal") == [("Bakkerij Van Damme BV", "open", 1)]
    assert owed(incident, "update_controller") == [("Bakkerij Van Damme BV", "open", 1)]
    workflow.transition(incident.pk, manager, "update_controller", how="E-mail")
    assert owed(incident, "update_controller") == [("Bakkerij Van Damme BV", "met", 1)]


def test_a_partly_filed_breach_dismissed_owes_the_withdrawal_to_the_one_filed(
    incident_in, manager, controller, second, api
):
    incident = incident_in("assessed")
    workflow.update_facts(incident.pk, manager, {"controllers": [controller, second]})
    workflow.transition(
        incident.pk, manager, "notify_gba", reference="DBN-2026-32", controllers=[controller]
    )
    dismissed = workflow.transition(incident.pk, manager, "dismiss", reason="Test data only.")
    assert dismissed.state == State.DISMISSED
    assert owed(incident, "gba_withdrawal") == [("Bakkerij Van Damme BV", "open", 1)]
    assert owed(incident, "notify_gba") == [
        ("Bakkerij Van Damme BV", "met", 0),
        ("Librairie Lefèvre SRL", "not_required", 0),
    ]
    response = api("manager").post(
        f"/api/incidents/{incident.pk}/gba-withdrawal/", {}, format="json"
    )
    assert response.status_code == 200, response.json()
    withdrawal = incident.obligations.get(kind="gba_withdrawal")
    assert (withdrawal.status, withdrawal.reference) == (Obligation.Status.MET, "DBN-2026-32")
    again = api("manager").post(f"/api/incidents/{incident.pk}/gba-withdrawal/", {}, format="json")
    assert again.status_code == 409
    assert "No withdrawal is owed" in again.json()["detail"]


def test_what_a_dismissed_breach_still_owes_stays_on_the_dashboard(client, manager, incident_in):
    incident = incident_in("controller_notified")
    quiet = incident_in("dismissed")
    workflow.transition(incident.pk, manager, "dismiss", reason="Test data only.")
    client.force_login(manager)
    listed = [row.pk for row in client.get("/").context["page"]]
    assert listed == [incident.pk]  # the other dismissed one owes nothing
    workflow.transition(incident.pk, manager, "gba_withdrawal")
    workflow.transition(incident.pk, manager, "update_controller", how="E-mail")
    assert [row.pk for row in client.get("/").context["page"]] == []
    assert quiet.state == State.DISMISSED


def test_the_update_goes_out_as_a_supplement_listing_what_changed(
    api,
    client,
    dpo,
    incident_in,
    manager,
    security,
    assessment_values,
    django_capture_on_commit_callbacks,
    settings,
):
    """Told, then the risk became high and the count known: the controller gets a supplement
    letter and e-mail listing old → new, sent once; its update is met when the provider
    accepts it."""
    from django.core import mail

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    incident = incident_in("gba_notified")
    url = f"/api/incidents/{incident.pk}/controller-notices/"
    with django_capture_on_commit_callbacks(execute=True):
        assert api("dpo").post(url, {}, format="json").status_code == 202
    told = incident.obligations.get(kind="tell_controller")
    assert (told.status, told.delay_reason) == ("met", "")  # in time: no reason, none invented
    recorded = incident.events.get(kind="recorded", field="notify_controller")
    assert "delay_reason" not in recorded.after
    values = {**assessment_values, "risk_level": "high", "subjects_count": 1500}
    workflow.assess(incident.pk, security, values, {})
    with django_capture_on_commit_callbacks(execute=True):
        assert api("dpo").post(url, {}, format="json").status_code == 202
    update = incident.obligations.get(kind="update_controller")
    assert update.status == "met"
    assert update.how == "E-mail with the notice letter, accepted by the provider"
    first, second = mail.outbox
    assert first.reply_to == second.reply_to == ["info@conitro.be"]  # answers reach the DPO
    assert second.subject == (
        f"Aanvulling: inbreuk in verband met persoonsgegevens {incident.reference} — Conitro"
    )
    assert (
        "Wat sindsdien veranderde:\n\n- Risico: Risico voor de rechten en vrijheden van de "
        "betrokkenen → Hoog risico voor de rechten en vrijheden van de betrokkenen\n- Geschat "
        "aantal betrokkenen: 1.200 → 1.500\n"
    ) in second.body, second.body
    with django_capture_on_commit_callbacks(execute=True):
        api("dpo").post(url, {}, format="json")
    assert len(mail.outbox) == 2  # never twice
    client.force_login(dpo)
    letter = incident.messages.order_by("id").last().document
    import io

    from pypdf import PdfReader

    text = " ".join(
        "\n".join(
            p.extract_text() for p in PdfReader(io.BytesIO(bytes(letter.content))).pages
        ).split()
    )
    assert "Betreft: aanvulling op onze melding van" in text, text
    assert (
        "Wat er veranderde sinds onze vorige brief Risico Risico voor de rechten en vrijheden van "
        "de betrokkenen → Hoog risico voor de rechten en vrijheden van de betrokkenen Geschat "
        "aantal betrokkenen 1.200 → 1.500 Het datalek"
    ) in text, text
    assert "GBA-referentie DBN-2026-1234" in text


def test_a_dbn_reference_belongs_to_one_filing(api, incident_in, manager, controller, second):
    incident = incident_in("assessed")
    workflow.update_facts(incident.pk, manager, {"controllers": [controller, second]})
    url = f"/api/incidents/{incident.pk}/notify-gba/"
    both = api("manager").post(url, {"reference": "DBN-2026-70"}, format="json")
    assert both.status_code == 400
    assert both.json()["reference"] == [
        "DBN-2026-70 would be one filing for 2 controllers, but this incident's notification "
        "is not combined: record each controller's own reference, or make the notification "
        "combined first."
    ]
    one = {"reference": "DBN-2026-70", "controllers": [controller.pk]}
    assert api("manager").post(url, one, format="json").status_code == 200
    again = api("manager").post(
        url, {"reference": "dbn-2026-70", "controllers": [second.pk]}, format="json"
    )
    assert again.status_code == 400
    assert again.json()["reference"] == [
        "DBN-2026-70 is already the reference of the filing for Bakkerij Van Damme BV "
        f"({incident.reference}): each filing has its own."
    ]
    assert incident.obligations.get(kind="notify_gba", controller=second).status == "open"
    workflow.update_facts(incident.pk, manager, {"gba_combined": True})
    combined = api("manager").post(
        url, {"reference": "DBN-2026-70", "controllers": [second.pk]}, format="json"
    )
    assert combined.status_code == 200, combined.json()


def test_close_is_offered_only_once_nothing_is_owed_and_says_what_it_does(
    client, manager, incident_in
):
    incident = incident_in("controller_notified")
    workflow.update_facts(incident.pk, manager, {"description": "More is known."})
    client.force_login(manager)
    page = client.get(f"/incidents/{incident.pk}/")
    assert "close" not in page.context["actions"]  # an update and a follow-up are owed
    workflow.transition(incident.pk, manager, "update_controller", how="E-mail")
    workflow.transition(incident.pk, manager, "gba_follow_up")
    page = client.get(f"/incidents/{incident.pk}/")
    assert "close" in page.context["actions"]
    form = client.get(f"/incidents/{incident.pk}/close/").content.decode()
    assert '<button type="submit">Close the incident</button>' in form
    incident.refresh_from_db()
    done = client.post(
        f"/incidents/{incident.pk}/close/",
        {"version": incident.version, "confirm": "on"},
        follow=True,
    )
    assert "Closed: no more alerts; the register keeps it." in done.content.decode()


def test_a_controller_taken_off_and_named_again_is_owed_a_new_round(
    incident_in, manager, controller, second
):
    """Its withdrawn update keeps its round number: the next one is the round after it."""
    incident = incident_in("controller_notified")
    workflow.update_facts(incident.pk, manager, {"description": "Also the invoices."})
    workflow.update_facts(incident.pk, manager, {"controllers": [second]})
    workflow.update_facts(incident.pk, manager, {"controllers": [controller, second]})
    assert incident.obligations.get(kind="tell_controller", controller=controller).status == "met"
    workflow.update_facts(incident.pk, manager, {"description": "And the addresses."})
    assert owed(incident, "update_controller") == [
        ("Bakkerij Van Damme BV", "open", 2),
        ("Bakkerij Van Damme BV", "withdrawn", 1),
    ]


def test_a_dismissal_owes_the_withdrawal_only_for_filings_made_by_the_one_dismissing(
    incident_in, manager, controller, second
):
    """Told but not filed for (it files itself): nothing to withdraw with the GBA for it."""
    second.gba_on_behalf = False
    second.save()
    incident = incident_in("assessed")
    workflow.update_facts(incident.pk, manager, {"controllers": [controller, second]})
    workflow.transition(incident.pk, manager, "notify_controller", how="E-mail")
    workflow.transition(incident.pk, manager, "notify_gba", reference="DBN-2026-33")
    workflow.transition(incident.pk, manager, "dismiss", reason="Test data only.")
    assert owed(incident, "gba_withdrawal") == [("Bakkerij Van Damme BV", "open", 1)]
    event = incident.events.filter(kind="obligations").order_by("id").last()
    assert event.actor == manager
    assert event.after["created"] == {
        "update_controller:open": ["Bakkerij Van Damme BV", "Librairie Lefèvre SRL"]
    }
    withdrawal = incident.events.filter(
        kind="obligations", after__created__has_key="gba_withdrawal:open"
    )
    assert [e.actor for e in withdrawal] == [manager]


def test_a_supplement_lists_the_facts_changed_and_this_controllers_own_not_anothers(
    incident_in, manager, security, controller, second
):
    from incidents.documents.notice import notice_email

    controller.language = "en"
    controller.save()
    incident = incident_in("controller_notified")
    workflow.update_facts(incident.pk, manager, {"controllers": [controller, second]})
    workflow.update_facts(incident.pk, manager, {"description": "Also the invoices."})
    workflow.update_affected(incident.pk, security, controller.pk, {"subjects_count": 12})
    workflow.update_affected(incident.pk, security, second.pk, {"subjects_count": 99})
    subject, body = notice_email(incident, controller)
    assert subject == f"Supplement: personal data breach {incident.reference} — Conitro"
    assert body.split("What has changed since:\n\n")[1].split("\n\nAttached")[0] == (
        "- What happened: Password entered on a fake login page. → Also the invoices.\n"
        "- Approximate number of people: nothing → 12"
    )


def test_the_update_reaches_a_controller_who_is_also_owed_part_two(
    api,
    incident_in,
    manager,
    security,
    assessment_values,
    django_capture_on_commit_callbacks,
    settings,
):
    """Filed in part (the breach not over: part 2 owed to the GBA for this controller, due
    later than any update), told, then the facts changed: the controller still gets its
    supplement; what else is owed for it does not count as its update."""
    from django.core import mail

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    incident = incident_in("assessed")
    workflow.update_facts(incident.pk, manager, {"ended_at": None})
    workflow.transition(incident.pk, manager, "notify_gba", reference="DBN-2026-7")
    part_two = incident.obligations.get(kind="complete_gba")
    url = f"/api/incidents/{incident.pk}/controller-notices/"
    with django_capture_on_commit_callbacks(execute=True):
        assert api("dpo").post(url, {}, format="json").status_code == 202
    workflow.assess(incident.pk, security, {**assessment_values, "subjects_count": 1500}, {})
    update = incident.obligations.get(kind="update_controller")
    assert part_two.deadline_at > update.deadline_at and part_two.controller == update.controller
    with django_capture_on_commit_callbacks(execute=True):
        assert api("dpo").post(url, {}, format="json").status_code == 202
    first, supplement = mail.outbox
    assert supplement.subject.startswith("Aanvulling: ")
    update.refresh_from_db()
    assert update.status == "met"


def test_a_late_notice_keeps_the_reason_given_when_it_was_sent(
    api, incident_in, django_capture_on_commit_callbacks, settings
):
    """Sent after the deadline with its reason: once the provider accepts it, the controller's
    obligation is met late with that reason (the register prints it), never "no reason"."""
    import time_machine

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    incident = incident_in("gba_notified")
    told = incident.obligations.get(kind="tell_controller")
    url = f"/api/incidents/{incident.pk}/controller-notices/"
    late = time_machine.travel(told.deadline_at + timedelta(hours=2), tick=True)
    with late, django_capture_on_commit_callbacks(execute=True):
        sent = api("dpo").post(url, {"delay_reason": "The mail server was down."}, "json")
    assert sent.status_code == 202, sent.content
    told.refresh_from_db()
    assert (told.status, told.delay_reason) == ("met", "The mail server was down.")
