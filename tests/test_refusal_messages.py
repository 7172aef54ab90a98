"""What a refusal says, in full: each message names the problem and what to do about it.
(Actionable errors are part of the product: a person at 3 a.m. must not have to guess.)"""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from incidents import workflow
from incidents.identifiers import validate_enterprise_number, validate_phone

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("number", "message"),
    [
        (
            "12345",
            "An enterprise number has 10 digits, like 0694.679.950 (you entered 12345).",
        ),
        (
            "2694679950",
            "An enterprise number starts with 0 or 1 (you entered 2694679950).",
        ),
        (
            "0431150351",
            "0431150351 is not a valid enterprise number: its check digits do not match. "
            "Check it in the KBO/BCE public search.",
        ),
    ],
)
def test_enterprise_number_messages(number, message):
    with pytest.raises(ValidationError) as refused:
        validate_enterprise_number(number)
    assert refused.value.messages == [message]


def test_a_number_starting_with_0_or_1_is_not_refused_for_its_first_digit():
    for number in ["0694679950", "1000000097"]:  # 1000000097: 97 - (10000000 mod 97) = 97
        try:
            validate_enterprise_number(number)
        except ValidationError as error:
            assert error.code != "enterprise_number_format"


@pytest.mark.parametrize("typed", ["0471 23 45 67", "+32 9 234 56 78", "0032 2 274 48 00"])
def test_a_belgian_or_international_number_passes(typed):
    validate_phone(typed)


def test_a_number_that_is_no_phone_says_how_to_type_one():
    with pytest.raises(ValidationError) as refused:
        validate_phone("0471 23")
    assert refused.value.messages == [
        "0471 23 is not a phone number we can call: use the international form, like "
        "+32471234567, or a Belgian number like 0471 23 45 67."
    ]


def test_a_state_refusal_names_the_incident_its_state_and_the_action(incident_in, manager):
    incident = incident_in("detected")
    with pytest.raises(workflow.TransitionRefused) as refused:
        workflow.transition(incident.pk, manager, "close")
    assert str(refused.value) == (
        f"{incident.reference} is Detected: it cannot be closed from that state."
    )
    assert (refused.value.incident.pk, refused.value.action) == (incident.pk, "close")


def test_a_closed_incident_says_it_cannot_be_changed(incident_in, manager):
    incident = incident_in("closed")
    with pytest.raises(workflow.TransitionRefused) as refused:
        workflow.update_facts(incident.pk, manager, {"title": "x"})
    assert (
        str(refused.value)
        == f"{incident.reference} is Closed: it cannot be changed from that state."
    )


def test_someone_elses_change_says_what_to_do(new_incident, manager):
    incident = new_incident()
    with pytest.raises(workflow.IncidentChanged) as refused:
        workflow.update_facts(incident.pk, manager, {"title": "x"}, expected_version=99)
    assert str(refused.value) == (
        f"{incident.reference} was changed by someone else while you were working on it "
        "(it is now Detected). Your change was not saved: reload, check, and try again."
    )


def test_a_person_without_the_role_is_told_who_may(new_incident, make_user):
    incident = new_incident()
    nobody = make_user("nobody")
    with pytest.raises(PermissionDenied) as refused:
        workflow.update_facts(incident.pk, nobody, {"title": "x"})
    assert str(refused.value) == "Your role may not change incidents."
    with pytest.raises(PermissionDenied) as refused:
        workflow.log_incident(nobody, title="t", description="d")
    assert str(refused.value) == "Your role may not log incidents."


def test_a_field_that_cannot_be_corrected_is_named(new_incident, manager):
    incident = new_incident()
    with pytest.raises(ValidationError) as refused:
        workflow.update_facts(incident.pk, manager, {"state": "closed", "title": "x"})
    assert refused.value.message_dict == {"state": ["This field cannot be changed."]}
    incident.refresh_from_db()
    assert incident.title != "x"


def test_correcting_awareness_records_the_old_and_new_times(new_incident, manager):
    incident = new_incident(hours_ago=3)
    earlier = incident.aware_at.replace(microsecond=0) - timedelta(hours=2)
    workflow.update_facts(incident.pk, manager, {"aware_at": earlier})
    event = incident.events.get(kind="aware_at_corrected")
    assert event.before["aware_at"] == workflow.as_json(incident.aware_at)
    assert event.after["aware_at"] == workflow.as_json(earlier)


def test_the_times_of_a_notification_are_checked_with_their_reasons(incident_in, manager):
    incident = incident_in("assessed", hours_ago=30)
    deadline = incident.deadline_at
    shown = timezone.localtime(deadline).strftime("%d/%m/%Y %H:%M %Z")

    def refusal(submitted_at, **extra):
        with pytest.raises(ValidationError) as refused:
            workflow.transition(
                incident.pk, manager, "notify_gba", reference="DBN-2026-1", **extra,
                submitted_at=submitted_at,
            )  # fmt: skip
        return refused.value.message_dict

    assert refusal(deadline + timedelta(seconds=1)) == {
        "delay_reason": [
            f"This comes after its deadline of {shown}: give the reason for the delay (the "
            "report and the register keep it)."
        ]
    }
    assert refusal(incident.aware_at - timedelta(seconds=1)) == {
        "submitted_at": ["A notification cannot come before Conitro became aware of the breach."]
    }
    future = timezone.now() + timedelta(hours=2)
    assert refusal(future, delay_reason="r") == {
        "submitted_at": [
            "This time cannot be in the future (you entered "
            f"{timezone.localtime(future):%d/%m/%Y %H:%M})."
        ]
    }
    # Exactly at the deadline is in time; exactly at awareness is allowed.
    workflow.transition(incident.pk, manager, "notify_gba", reference="DBN-2026-2",
                        submitted_at=deadline)  # fmt: skip
    other = incident_in("assessed", hours_ago=2)
    workflow.transition(other.pk, manager, "notify_gba", reference="DBN-2026-3",
                        submitted_at=other.aware_at)  # fmt: skip


def test_an_incomplete_assessment_names_what_is_missing(new_incident, security, assessment_values):
    incident = new_incident()
    with pytest.raises(ValidationError) as refused:
        workflow.assess(incident.pk, security, assessment_values, {})
    assert refused.value.messages == [
        "The assessment is not complete: categories of personal data, categories of data "
        "subjects, controllers affected."
    ]


def test_every_kind_of_breach_is_named(new_incident, security, assessment_values, categories):
    from incidents.models import Controller

    incident = new_incident()
    values = {**assessment_values, "integrity": True, "availability": True}
    controller = Controller.objects.create(
        name="C", enterprise_number="0694679950", address="A", contact_person="P",
        email="c@example.com", phone="+3292345678",
    )  # fmt: skip
    relations = {
        "data_categories": [categories[0]],
        "subject_categories": [categories[1]],
        "controllers": [controller],
    }
    incident = workflow.assess(incident.pk, security, values, relations)
    kinds = [str(kind) for kind in incident.assessment.breach_types()]
    assert kinds == ["confidentiality", "integrity", "availability"]


@pytest.mark.parametrize("character", ["\x00", "\x08", "\x0b", "\x0c", "\x0e", "\x1f", "\x7f"])
def test_free_text_with_a_control_character_says_to_retype_it(character):
    from incidents.models import validate_single_line, validate_text

    for validate in (validate_text, validate_single_line):
        with pytest.raises(ValidationError) as refused:
            validate(f"before{character}after")
        assert refused.value.messages == [
            "This text contains invisible control characters: retype or paste it as plain text."
        ]
    validate_text("line one\r\nline two\twith a tab")  # line breaks and tabs are text
    validate_text(None)


@pytest.mark.parametrize("line_break", ["\r", "\n", "\u2028", "\u2029", "\x85"])
def test_a_title_with_a_line_break_says_to_remove_it(line_break):
    from incidents.models import validate_single_line

    with pytest.raises(ValidationError) as refused:
        validate_single_line(f"first{line_break}second")
    assert refused.value.messages == ["A title is one line: remove the line breaks."]
    validate_single_line("one line, with\ta tab")
    validate_single_line(None)


def test_a_time_before_the_gdpr_names_the_time_entered():
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from incidents.models import validate_plausible_time

    brussels = ZoneInfo("Europe/Brussels")
    validate_plausible_time(datetime(2018, 5, 25, 0, 0, tzinfo=brussels))  # the day it applied
    with pytest.raises(ValidationError) as refused:
        validate_plausible_time(datetime(2018, 5, 24, 23, 59, 59, tzinfo=brussels))
    assert refused.value.messages == [
        "This time is before 25/05/2018, when the GDPR took effect: check the year "
        "(you entered 24/05/2018 23:59)."
    ]
    east = timezone.get_fixed_timezone(300)
    for typed, shown in [
        (datetime(2, 1, 1, tzinfo=east), "31/12/1 19:17"),
        (datetime(1, 1, 1, tzinfo=east), "0001-01-01 00:00:00+05:00"),  # no Brussels time then
    ]:
        with pytest.raises(ValidationError) as refused:
            validate_plausible_time(typed)
        assert refused.value.messages == [
            "This time is before 25/05/2018, when the GDPR took effect: check the year "
            f"(you entered {shown})."
        ]
    validate_plausible_time(None)


def test_a_time_in_the_future_is_allowed_one_minute_of_clock_skew():
    import time_machine

    from incidents.models import validate_not_in_future

    with time_machine.travel(timezone.now(), tick=False):
        validate_not_in_future(timezone.now() + timedelta(minutes=1))
        later = timezone.now() + timedelta(minutes=1, seconds=1)
        with pytest.raises(ValidationError) as refused:
            validate_not_in_future(later)
    assert refused.value.messages == [
        "This time cannot be in the future "
        f"(you entered {timezone.localtime(later):%d/%m/%Y %H:%M})."
    ]


def test_the_times_of_a_breach_must_follow_each_other(new_incident):
    incident = new_incident(hours_ago=5)
    incident.occurred_at = incident.aware_at
    incident.ended_at = incident.aware_at
    incident.clean()  # a breach found the moment it started and ended
    incident.occurred_at = incident.aware_at + timedelta(seconds=1)
    incident.ended_at = incident.aware_at
    with pytest.raises(ValidationError) as refused:
        incident.clean()
    assert refused.value.message_dict == {
        "occurred_at": [
            "The breach cannot start after Conitro became aware of it: check both times."
        ],
        "ended_at": ["The breach cannot end before it started: check both times."],
    }
    incident.occurred_at = None
    incident.clean()  # an unknown start is checked against nothing


def test_a_notification_on_a_closed_incident_names_what_cannot_be_recorded(incident_in, manager):
    incident = incident_in("closed")
    with pytest.raises(workflow.TransitionRefused) as refused:
        workflow.transition(incident.pk, manager, "notify_gba", reference="DBN-2026-9")
    assert str(refused.value) == (
        f"{incident.reference} is Closed: it cannot be recorded as notified to the GBA from "
        "that state."
    )
    assert refused.value.action == "notify_gba"
    done = incident_in("gba_notified")
    with pytest.raises(workflow.TransitionRefused) as refused:
        workflow.transition(done.pk, manager, "notify_gba", reference="DBN-2026-10")
    assert str(refused.value).startswith(f"{done.reference} is GBA notified. ")
    assert refused.value.action == "notify_gba"


def test_an_assessment_without_its_context_score_is_checked_for_the_rest_only():
    """A score left out is the form's error to report (a required field); the assessment's
    own checks must not trip over the missing half of the sum."""
    from incidents.models import Assessment

    for dpc, adjustment in [(2, None), (None, 0)]:
        Assessment(
            enisa_dpc=dpc, enisa_dpc_adjustment=adjustment, confidentiality=True, risk_level="risk"
        ).clean()


def test_a_person_without_the_role_for_an_action_is_told_who_may(incident_in, security):
    incident = incident_in("controller_notified")
    with pytest.raises(PermissionDenied) as refused:
        workflow.transition(incident.pk, security, "close")
    assert str(refused.value) == (
        "Your role may not do this: an incident can be closed by managers and the DPO."
    )
