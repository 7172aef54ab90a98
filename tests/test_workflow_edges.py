"""The workflow's less travelled paths, each as a person meets it: who the controllers were
before a change, texts given in another language, a letter that bounced, part 2's reference,
what a refusal says when nothing is owed, and an edited regime table with a corrected
awareness."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from incidents import workflow
from incidents.models import DeadlineRule, Incident, IncidentEvent, Obligation

pytestmark = pytest.mark.django_db


def changes_of(incident, field):
    return list(
        IncidentEvent.objects.filter(incident=incident, kind="changed", field=field)
        .order_by("id")
        .values_list("before", "after")
    )


def test_the_trail_says_which_controllers_were_affected_before_and_after(
    incident_in, manager, controller, second
):
    incident = incident_in("assessed")
    workflow.update_facts(incident.pk, manager, {"controllers": [controller, second]})
    workflow.update_facts(incident.pk, manager, {"controllers": [controller, second]})  # same
    workflow.update_facts(incident.pk, manager, {"controllers": [second]})
    trail = IncidentEvent.objects.filter(incident=incident, kind="changed", field="controllers")
    assert {event.actor for event in trail} == {manager}
    assert changes_of(incident, "controllers")[-2:] == [
        (["Bakkerij Van Damme BV"], ["Bakkerij Van Damme BV", "Librairie Lefèvre SRL"]),
        (["Bakkerij Van Damme BV", "Librairie Lefèvre SRL"], ["Librairie Lefèvre SRL"]),
    ]


def test_texts_in_another_language_are_kept_audited_and_removable(incident_in, manager):
    incident = incident_in("assessed")
    version = incident.version
    workflow.translate(
        incident.pk, manager, "fr", {"title": " Fuite ", "consequences": "Hameçonnage."}
    )
    incident.refresh_from_db()
    assert incident.translations == {"fr": {"title": "Fuite"}}
    assert incident.assessment.translations == {"fr": {"consequences": "Hameçonnage."}}
    assert changes_of(incident, "translations.fr") == [
        ({}, {"title": "Fuite"}),
        ({}, {"consequences": "Hameçonnage."}),
    ]
    workflow.translate(incident.pk, manager, "fr", {"title": "Fuite"})  # unchanged: no event
    assert len(changes_of(incident, "translations.fr")) == 2
    # The incident's text unchanged, the assessment's changed: that one is still saved.
    workflow.translate(incident.pk, manager, "fr", {"title": "Fuite", "consequences": "Vol."})
    incident.refresh_from_db()
    assert incident.assessment.translations == {"fr": {"consequences": "Vol."}}
    workflow.translate(incident.pk, manager, "en", {"title": "Leak"})  # English too
    workflow.translate(incident.pk, manager, "fr", {"title": ""})  # removed
    incident.refresh_from_db()
    assert incident.translations == {"fr": {}, "en": {"title": "Leak"}}
    assert changes_of(incident, "translations.fr")[-1] == ({"title": "Fuite"}, {})
    assert incident.version > version
    texts = incident.events.filter(field__startswith="translations.")
    assert {event.actor for event in texts} == {manager} and texts.count() == 5
    with pytest.raises(workflow.IncidentChanged):  # from a page older than these changes
        workflow.translate(incident.pk, manager, "fr", {"title": "Fuite"}, version)
    assert Incident.objects.get(pk=incident.pk).translations["fr"] == {}


def test_a_translation_is_refused_with_its_reason_and_changes_nothing(
    incident_in, manager, security, make_user
):
    incident = incident_in("assessed")
    with pytest.raises(ValidationError) as refused:
        workflow.translate(incident.pk, manager, "de", {"title": "Datenleck"})
    assert refused.value.message_dict == {"language": ["Texts are given in nl, fr or en."]}
    with pytest.raises(ValidationError) as refused:
        workflow.translate(incident.pk, manager, "fr", {"title": "Fuite\x00"})
    assert list(refused.value.message_dict) == ["title"]
    nobody = make_user("nobody", "nobody")
    with pytest.raises(PermissionDenied) as refused:
        workflow.translate(incident.pk, nobody, "fr", {"title": "Fuite"})
    assert str(refused.value) == "Your role may not change incidents."
    closed = incident_in("closed")
    with pytest.raises(workflow.TransitionRefused) as refused:
        workflow.translate(closed.pk, manager, "fr", {"title": "Fuite"})
    assert str(refused.value) == (
        f"{closed.reference} is Closed: it cannot be changed from that state."
    )
    incident.refresh_from_db()
    assert not incident.translations
    assert not changes_of(incident, "translations.fr")


def test_a_bounced_letter_opens_the_obligation_again_with_its_reason(incident_in, manager):
    incident = incident_in("controller_notified")
    told = incident.obligations.get(kind="tell_controller")
    assert workflow.reopen_obligation(incident.pk, told.pk, "Mailbox full.") is not None
    told.refresh_from_db()
    assert (told.status, told.met_at, told.met_by, told.how, told.note) == (
        "open", None, None, "", "Mailbox full."
    )  # fmt: skip
    event = IncidentEvent.objects.filter(incident=incident, kind="obligations").last()
    assert event.note == "Mailbox full."
    assert event.after["changed"] == {"tell_controller:open": ["Bakkerij Van Damme BV"]}
    incident.refresh_from_db()
    assert incident.state == "gba_notified"
    # Open already: nothing to reopen.
    assert workflow.reopen_obligation(incident.pk, told.pk, "Again.") is None
    told.refresh_from_db()
    assert told.note == "Mailbox full."


def test_a_closed_incident_is_not_reopened_by_a_late_bounce(incident_in):
    incident = incident_in("closed")
    told = incident.obligations.get(kind="tell_controller")
    assert workflow.reopen_obligation(incident.pk, told.pk, "Bounced.") is None
    told.refresh_from_db()
    assert told.status == "met"


def test_part_two_without_a_reference_takes_each_controllers_part_one(
    incident_in, manager, assessment_values, categories, controller, second
):
    # The controllers are to be told sooner than the GBA: their obligations come first by
    # deadline, and must not lend their (empty) reference to part 2.
    DeadlineRule.objects.filter(kind="tell_controller").update(delay=timedelta(hours=12))
    incident = incident_in("detected")
    relations = {
        "data_categories": [categories[0]],
        "subject_categories": [categories[1]],
        "controllers": [controller, second],
    }
    workflow.assess(incident.pk, manager, {**assessment_values, "records_count": None}, relations)
    workflow.transition(
        incident.pk, manager, "notify_gba", reference="DBN-2026-31", controllers=[controller]
    )
    workflow.transition(
        incident.pk, manager, "notify_gba", reference="DBN-2026-32", controllers=[second]
    )
    workflow.transition(incident.pk, manager, "complete_gba")
    completed = dict(
        incident.obligations.filter(kind="complete_gba").values_list(
            "controller__name", "reference"
        )
    )
    assert completed == {
        "Bakkerij Van Damme BV": "DBN-2026-31",
        "Librairie Lefèvre SRL": "DBN-2026-32",
    }


@pytest.mark.parametrize(
    ("action", "arguments", "message"),
    [
        ("notify_controller", {"how": "E-mail"},
         "Every affected controller has been told already."),
        ("complete_gba", {}, "No GBA notification waits to be completed: part 2 is owed only "
         "after a part 1 filed with facts still unknown."),
        ("inform_subjects", {"how": "E-mail"}, "Conitro does not owe the data subjects a "
         "communication for this incident."),
    ],
)  # fmt: skip
def test_a_recording_with_nothing_owed_says_why(incident_in, manager, action, arguments, message):
    incident = incident_in("controller_notified")
    with pytest.raises(workflow.TransitionRefused) as refused:
        workflow.transition(incident.pk, manager, action, **arguments)
    assert str(refused.value) == f"{incident.reference} is Controller notified. {message}"


def test_an_edited_regime_table_holds_when_awareness_is_corrected(incident_in, manager):
    DeadlineRule.objects.filter(kind="tell_controller").update(delay=timedelta(hours=12))
    DeadlineRule.objects.filter(kind="notify_gba").update(delay=timedelta(hours=20))
    incident = incident_in("assessed")
    earlier = incident.aware_at - timedelta(hours=1)
    workflow.update_facts(incident.pk, manager, {"aware_at": earlier})
    deadlines = dict(incident.obligations.values_list("kind", "deadline_at"))
    assert deadlines == {
        "tell_controller": earlier + timedelta(hours=12),
        "notify_gba": earlier + timedelta(hours=20),
    }
    incident.refresh_from_db()
    assert incident.deadline_at == earlier + timedelta(hours=12)
    assert Obligation.objects.filter(incident=incident, status="open").count() == 2


def test_the_same_assessment_typed_again_is_no_change(incident_in, manager, assessment_values):
    """0.5 and 0.50 are one ENISA value: re-assessing with what is stored records nothing."""
    incident = incident_in("assessed")
    relations = {
        "data_categories": list(incident.assessment.data_categories.all()),
        "subject_categories": list(incident.assessment.subject_categories.all()),
        "controllers": list(incident.controllers.all()),
    }
    events = incident.events.filter(kind="assessed").count()
    values = {**assessment_values, "enisa_confidentiality": Decimal("0.5")}
    workflow.assess(incident.pk, manager, values, relations)
    assert incident.events.filter(kind="assessed").count() == events
    workflow.assess(incident.pk, manager, {**values, "records_count": 3401}, relations)
    change = incident.events.filter(kind="assessed").latest("id")
    assert (change.before, change.after) == ({"records_count": 3400}, {"records_count": 3401})


def test_a_late_controller_notification_keeps_when_how_and_why_on_the_incident_and_its_event(
    incident_in, manager
):
    incident = incident_in("gba_notified", hours_ago=30)
    told_at = timezone.now() - timedelta(hours=2)  # after the deadline (6 hours ago)
    incident = workflow.transition(
        incident.pk,
        manager,
        "notify_controller",
        how="Phone call to Els Van Damme",
        notified_at=told_at,
        delay_reason="The controller's DPO was unreachable.",
    )
    told = incident.last_controller_notice
    assert (told.met_at, told.delay_reason) == (told_at, "The controller's DPO was unreachable.")
    event = incident.events.get(kind="recorded", field="notify_controller")
    assert event.actor == manager
    assert event.after == {
        "how": "Phone call to Els Van Damme",
        "delay_reason": "The controller's DPO was unreachable.",
        "at": told_at.isoformat(),
        "controllers": ["Bakkerij Van Damme BV"],
    }


@pytest.mark.parametrize("action", ["assess", "fly"])
def test_an_action_that_is_no_transition_is_a_programming_error(incident_in, manager, action):
    incident = incident_in("detected")
    with pytest.raises(ValueError, match=f"unknown action '{action}'"):
        workflow.transition(incident.pk, manager, action)


def test_every_event_of_a_walk_through_the_workflow_names_who_caused_it(
    incident_in,
    new_incident,
    manager,
    security,
    settings,
    assessment_values,
    controller,
    categories,
):
    """Logged, assessed with the end unknown (so part 2 is owed at the filing), filed, told,
    completed, closed: every event, the state changes and obligations that follow included,
    is signed by the person whose action caused it."""
    incident = incident_in("assessed")
    workflow.update_facts(incident.pk, manager, {"ended_at": None})
    workflow.transition(incident.pk, manager, "notify_gba", reference="DBN-2026-5")
    workflow.transition(incident.pk, manager, "notify_controller", how="E-mail")
    workflow.update_facts(incident.pk, manager, {"ended_at": incident.aware_at})
    workflow.transition(incident.pk, manager, "complete_gba")
    # The end became known after the controller was told: it is owed that too.
    workflow.transition(incident.pk, manager, "update_controller", how="E-mail")
    workflow.transition(incident.pk, manager, "close")
    events = list(incident.events.order_by("id"))
    kinds = {event.kind for event in events}
    assert {"created", "assessed", "recorded", "obligations", "transition"} <= kinds
    assert [event for event in events if event.actor is None] == []
    assert {event.actor for event in events} == {security, manager}
    # An assessment that settles the GBA filing (no risk, risk-based policy) moves the state:
    # that move is the assessor's too.
    settings.GBA_NOTIFICATION_POLICY = "risk_based"
    quiet = new_incident()
    values = {**assessment_values, "risk_level": "none", "risk_reasoning": "Encrypted."}
    relations = {
        "data_categories": [categories[0]],
        "subject_categories": [categories[1]],
        "controllers": [controller],
    }
    workflow.assess(quiet.pk, security, values, relations)
    moved = quiet.events.get(kind="transition", to_state="gba_notified")
    assert moved.actor == security


def test_a_breach_of_integrity_alone_is_a_breach(
    new_incident, security, assessment_values, categories, controller
):
    incident = new_incident()
    values = {
        **assessment_values,
        "confidentiality": False,
        "enisa_confidentiality": Decimal(0),
        "integrity": True,
    }
    relations = {
        "data_categories": [categories[0]],
        "subject_categories": [categories[1]],
        "controllers": [controller],
    }
    workflow.assess(incident.pk, security, values, relations)
    assert incident.assessment.integrity and not incident.assessment.confidentiality


def test_a_category_reads_in_the_active_language(categories):
    from django.utils import translation

    category = categories[0]
    category.name_nl, category.name_fr, category.name_en = "E-mailadres", "Adresse e-mail", "E-mail"
    for language, name in [("nl", "E-mailadres"), ("fr", "Adresse e-mail"), ("en", "E-mail")]:
        with translation.override(language):
            assert str(category) == name


def test_a_version_is_a_short_whole_number_in_ascii_digits_or_not_given():
    assert workflow.parse_version(None) is None and workflow.parse_version("") is None
    assert workflow.parse_version("7") == 7 and workflow.parse_version(7) == 7
    assert workflow.parse_version("9" * 9) == 10**9 - 1
    for wrong in ["1" * 10, "٣", "3.0", "-1", "seven"]:
        with pytest.raises(ValidationError) as refused:
            workflow.parse_version(wrong)
        assert refused.value.message_dict == {
            "version": ["The version is the whole number the incident page or the API gave you."]
        }


def test_closing_with_obligations_open_names_each_one(incident_in, manager, controller, second):
    """Filed and told, but part 2 of the GBA notification (the end was not known at the
    filing) is owed for each controller: closing names each one."""
    incident = incident_in("assessed")
    workflow.update_facts(
        incident.pk,
        manager,
        {"ended_at": None, "controllers": [controller, second], "gba_combined": True},
    )
    workflow.transition(incident.pk, manager, "notify_gba", reference="DBN-2026-3")
    workflow.transition(incident.pk, manager, "notify_controller", how="E-mail")
    with pytest.raises(ValidationError) as refused:
        workflow.transition(incident.pk, manager, "close")
    assert refused.value.messages == [
        "Obligations are still open: Complete the GBA notification (part 2) (Bakkerij Van Damme "
        "BV); Complete the GBA notification (part 2) (Librairie Lefèvre SRL)."
    ]


def test_the_clock_wakes_for_a_message_waiting_to_be_tried_again(incident_in):
    from notifications.escalation import next_wake_up
    from notifications.models import Firing, Message

    incident = incident_in("detected")
    Firing.objects.update(fired_at=timezone.now())  # all fired but one, due in an hour
    next_firing = timezone.now() + timedelta(hours=1)
    Firing.objects.filter(pk=Firing.objects.first().pk).update(fired_at=None, due_at=next_firing)
    soon = timezone.now() + timedelta(seconds=30)
    message = Message.objects.create(
        incident=incident, channel="sms", to="+32471000099", text="x", status="failed"
    )
    Message.objects.filter(pk=message.pk).update(next_attempt_at=soon)
    assert next_wake_up() == next_firing  # a failed message is not tried again
    Message.objects.filter(pk=message.pk).update(status="queued")
    assert next_wake_up() == soon < next_firing
