"""What Conitro owes, to whom, by when: obligations per controller, the state that summarises
them, the GBA policy, phased notification, and the escalation that stops when they are met."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.utils import timezone, translation

from incidents import workflow
from incidents.models import DeadlineRule, Obligation
from incidents.obligations import note_shown

pytestmark = pytest.mark.django_db


def full_relations(categories, controller):
    return {
        "data_categories": [categories[0]],
        "subject_categories": [categories[1]],
        "controllers": [controller],
    }


def owed(incident):
    return sorted(
        (o.kind, o.controller.name, o.status)
        for o in Obligation.objects.filter(incident=incident).select_related("controller")
    )


def test_logging_with_controllers_creates_what_is_owed_at_once(security, controller, second):
    incident = workflow.log_incident(
        security, title="Shop database exposed", description="…", controllers=[controller, second]
    )
    assert owed(incident) == [
        ("notify_gba", "Bakkerij Van Damme BV", "open"),
        ("notify_gba", "Librairie Lefèvre SRL", "open"),
        ("tell_controller", "Bakkerij Van Damme BV", "open"),
        ("tell_controller", "Librairie Lefèvre SRL", "open"),
    ]
    deadlines = {o.deadline_at for o in incident.obligations.all()}
    assert deadlines == {incident.aware_at + timedelta(hours=24)} == {incident.deadline_at}
    assert incident.events.filter(kind="obligations").count() == 1


def test_a_controller_that_notifies_the_gba_itself_is_only_told(security, controller):
    controller.gba_on_behalf = False
    controller.save()
    incident = workflow.log_incident(security, title="t", description="d", controllers=[controller])
    gba = incident.obligations.get(kind="notify_gba")
    assert gba.status == "not_required"
    assert "notifies the GBA itself" in note_shown(gba)


def test_the_desks_reasons_read_in_the_readers_language_and_another_reader_changes_nothing(
    security, manager, controller, second, make_user
):
    """A Dutch letter or register never carries the English of whoever assessed, and a French
    colleague editing the incident is no change of any obligation."""
    controller.gba_on_behalf = False
    controller.save()
    incident = workflow.log_incident(
        security, title="t", description="d", controllers=[controller, second]
    )
    gba = incident.obligations.get(kind="notify_gba", controller=controller)
    shown = {}
    for language in ("nl", "fr", "en"):
        with translation.override(language):
            shown[language] = note_shown(gba)
    assert shown["en"] == "The controller notifies the GBA itself (processing agreement)."
    assert len(set(shown.values())) == 3, shown  # each in its own language
    events = incident.events.count()
    french = make_user("security", "francoise", language="fr")
    with translation.override("fr"):
        workflow.update_facts(incident.pk, french, {"controllers": [controller, second]})
    assert incident.obligations.get(pk=gba.pk).note == gba.note
    assert incident.events.count() == events  # nothing changed, nothing recorded
    workflow.transition(incident.pk, manager, "dismiss", reason="Test data only.")
    dismissed = incident.obligations.get(kind="tell_controller", controller=second)
    with translation.override("nl"):
        # The reason is a person's words, as written, after the desk's "Dismissed:".
        assert note_shown(dismissed) == "Afgewezen: Test data only."
        assert note_shown(incident.obligations.get(pk=gba.pk)) == shown["nl"]


def test_the_controller_may_be_told_before_the_gba_and_the_state_follows(
    incident_in, manager, controller
):
    incident = incident_in("assessed")
    incident = workflow.transition(incident.pk, manager, "notify_controller", how="Phone call")
    assert incident.state == "assessed"  # the GBA is still owed
    assert incident.obligations.get(kind="tell_controller").status == "met"
    incident = workflow.transition(incident.pk, manager, "notify_gba", reference="DBN-2026-5")
    assert incident.state == "controller_notified"
    transitions = [(e.from_state, e.to_state) for e in incident.events.filter(kind="transition")]
    assert transitions[-2:] == [
        ("assessed", "gba_notified"),
        ("gba_notified", "controller_notified"),
    ]


def test_each_controller_has_its_own_gba_filing(incident_in, manager, controller, second):
    incident = incident_in("assessed")
    workflow.update_facts(incident.pk, manager, {"controllers": [controller, second]})
    incident = workflow.transition(
        incident.pk, manager, "notify_gba", reference="DBN-2026-1", controllers=[controller]
    )
    assert incident.state == "assessed"  # the second controller's filing is still owed
    first_filed = incident.obligations.get(kind="notify_gba", controller=controller).met_at
    # No controller named: every filing still open, and only those (the first one stays).
    incident = workflow.transition(incident.pk, manager, "notify_gba", reference="DBN-2026-2")
    assert incident.state == "gba_notified"
    assert incident.obligations.get(kind="notify_gba", controller=controller).met_at == first_filed
    references = dict(
        incident.obligations.filter(kind="notify_gba").values_list("controller__name", "reference")
    )
    assert references == {
        "Bakkerij Van Damme BV": "DBN-2026-1",
        "Librairie Lefèvre SRL": "DBN-2026-2",
    }
    assert incident.gba_filing.reference == "DBN-2026-1"  # the first filing


def test_nothing_left_to_record_is_refused_and_changes_nothing(incident_in, manager):
    incident = incident_in("gba_notified")
    version = incident.version
    with pytest.raises(workflow.TransitionRefused) as refused:
        workflow.transition(incident.pk, manager, "notify_gba", reference="DBN-2026-9")
    assert str(refused.value) == (
        f"{incident.reference} is GBA notified. No GBA notification is owed now: each one is "
        "filed, not required, or the controller notifies the GBA itself."
    )
    incident.refresh_from_db()
    assert incident.version == version


def test_before_any_controller_is_named_nothing_can_be_recorded(new_incident, manager):
    incident = new_incident()
    with pytest.raises(workflow.TransitionRefused) as refused:
        workflow.transition(incident.pk, manager, "notify_controller", how="Phone")
    assert str(refused.value) == (
        f"{incident.reference} is Detected. "
        "Name the affected controllers first: obligations are per controller."
    )


def test_a_controller_taken_off_is_withdrawn_never_deleted(
    incident_in, manager, controller, second
):
    incident = incident_in("assessed")
    workflow.update_facts(incident.pk, manager, {"controllers": [controller, second]})
    workflow.update_facts(incident.pk, manager, {"controllers": [controller]})
    assert ("tell_controller", "Librairie Lefèvre SRL", "withdrawn") in owed(incident)
    withdrawn = incident.events.filter(kind="obligations").latest("id")
    assert (withdrawn.actor, withdrawn.after["changed"]) == (
        manager,
        {
            "notify_gba:withdrawn": ["Librairie Lefèvre SRL"],
            "tell_controller:withdrawn": ["Librairie Lefèvre SRL"],
        },
    )
    workflow.update_facts(incident.pk, manager, {"controllers": [controller, second]})
    assert ("tell_controller", "Librairie Lefèvre SRL", "open") in owed(incident)
    assert incident.obligations.count() == 4


def test_a_new_controller_after_the_filing_reopens_the_summary(
    incident_in, manager, controller, second
):
    incident = incident_in("controller_notified")
    incident = workflow.update_facts(incident.pk, manager, {"controllers": [controller, second]})
    incident.refresh_from_db()
    assert incident.state == "assessed"
    back = incident.events.filter(kind="transition").latest("id")
    assert (back.to_state, back.actor) == ("assessed", manager)  # who named the controller


@override_settings(GBA_NOTIFICATION_POLICY="risk_based")
def test_risk_based_a_breach_without_risk_is_recorded_not_notified(
    incident_in, manager, assessment_values, categories, controller
):
    incident = incident_in("detected")
    values = {**assessment_values, "risk_level": "none", "risk_reasoning": "Encrypted, key safe."}
    relations = full_relations(categories, controller)
    incident = workflow.assess(incident.pk, manager, values, relations)
    gba = incident.obligations.get(kind="notify_gba")
    assert gba.status == "not_required" and "Encrypted, key safe." in gba.note
    assert incident.state == "gba_notified"
    incident = workflow.transition(incident.pk, manager, "notify_controller", how="E-mail")
    assert incident.state == "controller_notified"  # the controller is always told
    incident = workflow.transition(incident.pk, manager, "close")
    assert incident.state == "closed"
    # Reassessed as a risk: the GBA is owed again.
    other = incident_in("detected")
    workflow.assess(other.pk, manager, values, relations)
    # A new reasoning is the obligation's new reason, though it stays not required.
    reasoning = {**values, "risk_reasoning": "Encrypted with AES-256, key never left the HSM."}
    workflow.assess(other.pk, manager, reasoning, relations)
    gba = other.obligations.get(kind="notify_gba")
    assert gba.status == "not_required" and gba.note.endswith("key never left the HSM.")
    workflow.assess(other.pk, manager, {**values, "risk_level": "risk"}, relations)
    reopened = other.obligations.get(kind="notify_gba")
    assert (reopened.status, reopened.note) == ("open", "")  # no reason left over


def test_every_breach_policy_notifies_even_without_risk(
    incident_in, manager, assessment_values, categories, controller
):
    incident = incident_in("detected")
    values = {**assessment_values, "risk_level": "none", "risk_reasoning": "Encrypted."}
    relations = full_relations(categories, controller)
    incident = workflow.assess(incident.pk, manager, values, relations)
    assert incident.obligations.get(kind="notify_gba").status == "open"


def test_no_risk_needs_its_reasoning(
    incident_in, manager, assessment_values, categories, controller
):
    incident = incident_in("detected")
    with pytest.raises(ValidationError) as refused:
        workflow.assess(
            incident.pk,
            manager,
            {**assessment_values, "risk_level": "none"},
            {"data_categories": [categories[0]], "subject_categories": [categories[1]],
             "controllers": [controller]},
        )  # fmt: skip
    assert "risk_reasoning" in refused.value.message_dict


@pytest.fixture
def high_risk(incident_in, manager, assessment_values, categories, controller):
    """An assessed incident reassessed as high risk, for a controller that asked Conitro to
    inform its data subjects: (incident, relations, the moment before the reassessment)."""
    controller.subjects_informed_by_conitro = True
    controller.save()
    incident = incident_in("assessed")
    relations = full_relations(categories, controller)
    before = timezone.now()
    workflow.assess(incident.pk, manager, {**assessment_values, "risk_level": "high"}, relations)
    return incident, relations, before


def test_high_risk_owes_the_data_subjects_when_the_controller_asked(manager, high_risk):
    incident, _relations, before = high_risk
    subjects = incident.obligations.get(kind="inform_subjects")
    assert subjects.status == "open"
    assert (
        before + timedelta(hours=72) <= subjects.deadline_at <= timezone.now() + timedelta(hours=72)
    )
    workflow.transition(incident.pk, manager, "notify_gba", reference="DBN-2026-3")
    incident = workflow.transition(incident.pk, manager, "notify_controller", how="E-mail")
    assert incident.state == "controller_notified"
    with pytest.raises(ValidationError) as refused:
        workflow.transition(incident.pk, manager, "close")
    assert refused.value.messages == [
        "Obligations are still open: Inform the data subjects (Bakkerij Van Damme BV)."
    ]
    workflow.transition(incident.pk, manager, "inform_subjects", how="E-mail to each customer")
    assert workflow.transition(incident.pk, manager, "close").state == "closed"


def test_part_one_with_unknown_facts_owes_part_two_within_the_rule(
    incident_in, manager, assessment_values, categories, controller
):
    rule = DeadlineRule.objects.get(kind="complete_gba")
    rule.delay = timedelta(days=14)  # edited in the admin
    rule.save()
    incident = incident_in("detected")
    values = {**assessment_values, "subjects_count": None, "cause_origin": "unknown"}
    relations = full_relations(categories, controller)
    workflow.assess(incident.pk, manager, values, relations)
    incident = workflow.transition(incident.pk, manager, "notify_gba", reference="DBN-2026-8")
    part1 = incident.obligations.get(kind="notify_gba")
    part2 = incident.obligations.get(kind="complete_gba")
    assert part2.deadline_at == part1.met_at + timedelta(days=14)
    assert incident.state == "gba_notified"  # the controller is not told yet
    incident = workflow.transition(incident.pk, manager, "complete_gba")
    part2.refresh_from_db()
    assert (part2.status, part2.reference) == ("met", "DBN-2026-8")


def test_the_regime_table_sets_the_promise(security, controller):
    for kind in ("tell_controller", "notify_gba"):
        DeadlineRule.objects.filter(kind=kind).update(delay=timedelta(hours=12))
    incident = workflow.log_incident(security, title="t", description="d", controllers=[controller])
    assert incident.deadline_at == incident.aware_at + timedelta(hours=12)
    assert {o.deadline_at for o in incident.obligations.all()} == {incident.deadline_at}


def test_the_gba_filings_deadline_is_its_own_rule_in_the_table(security, controller):
    """An administrator shortens the GBA filing's clock alone: that obligation follows it,
    the controller's notice keeps its own."""
    DeadlineRule.objects.filter(kind="notify_gba").update(delay=timedelta(hours=12))
    incident = workflow.log_incident(security, title="t", description="d", controllers=[controller])
    deadlines = dict(incident.obligations.values_list("kind", "deadline_at"))
    assert deadlines == {
        "notify_gba": incident.aware_at + timedelta(hours=12),
        "tell_controller": incident.aware_at + timedelta(hours=24),
    }


def test_correcting_awareness_moves_the_open_deadlines(incident_in, manager):
    incident = incident_in("assessed")
    earlier = incident.aware_at - timedelta(hours=3)
    workflow.update_facts(incident.pk, manager, {"aware_at": earlier})
    assert {o.deadline_at for o in incident.obligations.all()} == {earlier + timedelta(hours=24)}


def test_dismissing_settles_what_was_open(incident_in, manager):
    incident = incident_in("assessed")
    workflow.transition(incident.pk, manager, "dismiss", reason="Test data only.")
    assert {o.status for o in incident.obligations.all()} == {"not_required"}
    assert all("Test data only." in o.note for o in incident.obligations.all())
    event = incident.events.filter(kind="obligations").latest("id")
    assert (event.actor, event.after) == (
        manager,
        {
            "created": {},
            "changed": {
                "notify_gba:not_required": ["Bakkerij Van Damme BV"],
                "tell_controller:not_required": ["Bakkerij Van Damme BV"],
            },
        },
    )


def test_a_late_filing_needs_its_reason_per_obligation(incident_in, manager):
    incident = incident_in("assessed", hours_ago=30)
    with pytest.raises(ValidationError) as refused:
        workflow.transition(incident.pk, manager, "notify_controller", how="Phone")
    assert "delay_reason" in refused.value.message_dict
    assert incident.obligations.get(kind="tell_controller").status == "open"
    workflow.transition(
        incident.pk, manager, "notify_controller", how="Phone", delay_reason="Weekend."
    )
    told = incident.obligations.get(kind="tell_controller")
    assert (told.status, told.delay_reason, told.met_by) == ("met", "Weekend.", manager)


def test_a_platform_breach_touches_every_controller_of_its_activity(security, controller, second):
    from incidents.models import ProcessingActivity

    shops = ProcessingActivity.objects.get(pk=1)
    controller.activities.add(shops)
    second.activities.add(shops)
    incident = workflow.log_incident(
        security, title="Platform down", description="…", activities=[shops]
    )
    assert set(incident.controllers.all()) == {controller, second}
    assert incident.obligations.filter(kind="tell_controller").count() == 2


def test_gba_combined_is_chosen_per_incident_and_recorded(new_incident, manager):
    incident = new_incident()
    workflow.update_facts(incident.pk, manager, {"gba_combined": True})
    incident.refresh_from_db()
    assert incident.gba_combined
    event = incident.events.get(field="gba_combined")
    assert (event.before, event.after, event.actor) == (False, True, manager)


def test_the_dpo_edits_the_regime_table_in_the_admin_and_it_is_audited(client, dpo, controller):
    from incidents.models import ReferenceChange

    dpo.is_staff = True  # as adduser --role dpo and seed_demo make the DPO
    dpo.save()
    client.force_login(dpo)
    rule = DeadlineRule.objects.get(kind="complete_gba")
    url = f"/admin/incidents/deadlinerule/{rule.pk}/change/"
    assert client.get(url).status_code == 200
    response = client.post(url, {"delay": "14 00:00:00", "basis": "GBA portal, checked 2026"})
    assert response.status_code == 302, response.content.decode()[:500]
    rule.refresh_from_db()
    assert rule.delay == timedelta(days=14)
    change = ReferenceChange.objects.get(model="incidents.DeadlineRule")
    assert change.actor == dpo and change.after["delay"] != change.before["delay"]
    assert client.get("/admin/incidents/obligation/").status_code == 200
    assert client.get("/admin/incidents/processingactivity/").status_code == 200


def test_what_a_recording_needs_is_said_field_by_field(incident_in, manager):
    incident = incident_in("assessed")

    def refusal(action, **arguments):
        with pytest.raises(ValidationError) as refused:
            workflow.transition(incident.pk, manager, action, **arguments)
        return refused.value.message_dict

    assert refusal("notify_gba", reference="12345") == {
        "reference": [
            "The GBA's reference starts with DBN, as shown after submitting part 1 in the GBA "
            "portal (you entered 12345)."
        ]
    }
    assert refusal("notify_gba", reference=" ")["reference"][0].endswith("(you entered nothing).")
    assert refusal("notify_controller", how="  ") == {
        "how": ["Say how it was done (e-mail, phone, letter)."]
    }
    assert {o.status for o in incident.obligations.all()} == {"open"}


def test_part_two_takes_a_dbn_reference_or_part_ones(
    incident_in, manager, assessment_values, categories, controller
):
    incident = incident_in("detected")
    relations = full_relations(categories, controller)
    workflow.assess(incident.pk, manager, {**assessment_values, "records_count": None}, relations)
    workflow.transition(incident.pk, manager, "notify_gba", reference="DBN-2026-21")
    with pytest.raises(ValidationError) as refused:
        workflow.transition(incident.pk, manager, "complete_gba", reference="PART2")
    assert refused.value.message_dict == {
        "reference": ["The GBA's reference starts with DBN (you entered PART2)."]
    }
    workflow.transition(incident.pk, manager, "complete_gba", reference="dbn-2026-22")
    assert incident.obligations.get(kind="complete_gba").reference == "DBN-2026-22"


def test_a_filing_with_everything_known_owes_no_part_two(incident_in, manager):
    incident = incident_in("assessed")  # counts, cause, consequences and end all known
    workflow.transition(incident.pk, manager, "notify_gba", reference="DBN-2026-23")
    assert not incident.obligations.filter(kind="complete_gba").exists()


def test_a_corrected_awareness_moves_only_what_is_still_open_and_counted_from_it(
    incident_in, manager, assessment_values, categories, controller
):
    incident = incident_in("detected")
    relations = full_relations(categories, controller)
    workflow.assess(incident.pk, manager, {**assessment_values, "records_count": None}, relations)
    workflow.transition(incident.pk, manager, "notify_gba", reference="DBN-2026-24")
    filed = incident.obligations.get(kind="notify_gba")
    part2 = incident.obligations.get(kind="complete_gba")
    earlier = incident.aware_at - timedelta(hours=2)
    workflow.update_facts(incident.pk, manager, {"aware_at": earlier})
    told = incident.obligations.get(kind="tell_controller")
    assert told.deadline_at == earlier + timedelta(hours=24)  # open, counted from awareness
    assert incident.obligations.get(pk=filed.pk).deadline_at == filed.deadline_at  # met
    assert incident.obligations.get(pk=part2.pk).deadline_at == part2.deadline_at  # from part 1


def test_the_letter_says_when_the_controllers_own_72_hours_end(incident_in, manager, controller):
    from incidents.obligations import controller_deadline

    incident = incident_in("assessed")
    workflow.transition(incident.pk, manager, "notify_controller", how="Phone call")
    told = incident.obligations.get(kind="tell_controller")
    assert controller_deadline(told.met_at) == told.met_at + timedelta(hours=72)
    assert controller_deadline(None) is None


def test_the_combined_notification_says_it_notifies_for_the_controllers_in_its_annex(
    client, dpo, incident_in, manager, controller, second
):
    from tests.test_documents import gba_text

    incident = incident_in("assessed")
    workflow.update_facts(incident.pk, manager, {"controllers": [controller, second]})
    client.force_login(dpo)
    text = gba_text(client, incident)
    assert "on behalf of the controllers listed in the annex" in text
    assert "Controllers 2 controllers: see the annex." in text
    assert "Annex: the controllers concerned" in text and "Librairie Lefèvre SRL" in text

    # One controller, filed combined all the same: the annex names it, and the text says so.
    workflow.update_facts(incident.pk, manager, {"controllers": [second], "gba_combined": True})
    text = gba_text(client, incident)
    assert "on behalf of the controllers listed in the annex" in text
    assert "named below" not in text
    assert "Controllers 1 controller: see the annex." in text
    assert "Annex: the controllers concerned" in text and "Librairie Lefèvre SRL" in text


@pytest.mark.parametrize(
    "unknown",
    [
        {"subjects_count": None},
        {"records_count": None},
        {"consequences": " "},
        {"cause_origin": "unknown"},
        {"cause_actor": "unknown"},
        {"cause_intent": "unknown"},
        "ended_at",
    ],
)
def test_each_fact_still_unknown_at_the_filing_owes_a_part_two(
    incident_in, manager, assessment_values, categories, controller, unknown
):
    """Art. 33(4): whichever fact is still unknown when part 1 is filed, part 2 is owed."""
    incident = incident_in("detected")
    if unknown == "ended_at":
        workflow.update_facts(incident.pk, manager, {"ended_at": None})
        unknown = {}
    values = {**assessment_values, **unknown}
    workflow.assess(incident.pk, manager, values, full_relations(categories, controller))
    workflow.transition(incident.pk, manager, "notify_gba", reference="DBN-2026-5")
    assert incident.obligations.filter(kind="complete_gba", status="open").count() == 1


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (
            {"enisa_dpc": 4, "enisa_dpc_adjustment": Decimal("0.5")},
            "enisa_dpc_adjustment",
            "With this adjustment the context score would be 4.5; it must stay within 1 and 4.",
        ),
        (
            {"confidentiality": False, "integrity": False, "availability": False},
            "__all__",
            "Tick at least one kind of breach: confidentiality, integrity or availability.",
        ),
        (
            {"risk_level": "none", "risk_reasoning": "  "},
            "risk_reasoning",
            "Say why the breach is unlikely to result in a risk: the register keeps the "
            "reasoning (GDPR art. 33(5)).",
        ),
    ],
)
def test_an_assessment_that_cannot_stand_is_refused_with_what_to_change(
    incident_in, manager, assessment_values, categories, controller, change, field, message
):
    incident = incident_in("detected")
    with pytest.raises(ValidationError) as refused:
        workflow.assess(
            incident.pk,
            manager,
            {**assessment_values, **change},
            full_relations(categories, controller),
        )
    assert refused.value.message_dict == {field: [message]}
    assert not Obligation.objects.filter(incident=incident).exists()  # nothing saved
    assert incident.events.filter(kind="assessed").count() == 0


def test_lowering_a_high_risk_says_why_the_data_subjects_are_no_longer_owed(
    manager, assessment_values, controller, high_risk
):
    incident, relations, _before = high_risk
    workflow.assess(incident.pk, manager, {**assessment_values, "risk_level": "risk"}, relations)
    subjects = incident.obligations.get(kind="inform_subjects")
    assert (subjects.status, note_shown(subjects)) == ("not_required", "No high risk assessed.")
    controller.subjects_informed_by_conitro = False
    controller.save()
    workflow.assess(incident.pk, manager, {**assessment_values, "risk_level": "high"}, relations)
    subjects.refresh_from_db()
    assert (subjects.status, note_shown(subjects)) == (
        "not_required",
        "The controller informs the data subjects itself.",
    )


def test_a_recording_in_time_keeps_no_reason_for_a_delay_and_a_time_is_checked_by_its_name(
    incident_in, manager
):
    incident = incident_in("assessed")
    workflow.transition(
        incident.pk, manager, "notify_gba", reference="DBN-2026-6", delay_reason="Not late."
    )
    filed = incident.obligations.get(kind="notify_gba")
    assert (filed.delay_reason, filed.how) == ("", "")
    with pytest.raises(ValidationError) as refused:
        workflow.transition(
            incident.pk,
            manager,
            "notify_controller",
            how="Phone call " + "x" * 300,
            notified_at=incident.aware_at - timedelta(minutes=1),
        )
    assert refused.value.message_dict == {
        "how": ["Ensure this value has at most 200 characters (it has 311)."]
    }
    with pytest.raises(ValidationError) as refused:
        workflow.transition(
            incident.pk,
            manager,
            "notify_controller",
            how="Phone call",
            notified_at=incident.aware_at - timedelta(minutes=1),
        )
    assert refused.value.message_dict == {
        "notified_at": ["A notification cannot come before Conitro became aware of the breach."]
    }
    assert incident.obligations.get(kind="tell_controller").status == "open"  # nothing written
    workflow.transition(incident.pk, manager, "notify_controller", how="Phone call " + "x" * 189)
    told = incident.obligations.get(kind="tell_controller")
    assert told.how == "Phone call " + "x" * 189  # 200 characters


def test_an_assessment_naming_an_activity_touches_its_controllers_and_is_signed(
    incident_in, manager, security, assessment_values, categories, controller, second
):
    """The assessment may add every controller of a processing activity to those named; a
    change of categories is recorded by name, and an assessment from a stale page is refused."""
    from incidents.models import DataCategory, ProcessingActivity

    shops = ProcessingActivity.objects.get(pk=1)
    second.activities.add(shops)
    incident = incident_in("detected")
    seen = incident.version
    relations = {**full_relations(categories, controller), "all_controllers_of": [shops]}
    workflow.assess(incident.pk, security, assessment_values, relations, seen)
    assert set(incident.controllers.all()) == {controller, second}
    assert {o.controller for o in incident.obligations.filter(kind="tell_controller")} == {
        controller,
        second,
    }
    events = incident.events.filter(kind__in=["assessed", "obligations", "transition"])
    assert {event.actor for event in events} == {security}
    with pytest.raises(workflow.IncidentChanged):
        workflow.assess(incident.pk, manager, assessment_values, relations, seen)
    extra = DataCategory.objects.create(name_en="Address", name_nl="Adres", name_fr="Adresse")
    changed = {**relations, "data_categories": [categories[0], extra]}
    workflow.assess(incident.pk, manager, assessment_values, changed)
    change = incident.events.filter(kind="assessed").latest("id")
    assert change.after == {"data_categories": ["Address", "E-mail"]}
    assert change.before == {"data_categories": ["E-mail"]}


def test_a_policy_other_than_the_two_known_ones_stops_the_desk(settings):
    from incidents.obligations import gba_policy

    settings.GBA_NOTIFICATION_POLICY = "sometimes"
    with pytest.raises(ValueError) as refused:
        gba_policy()
    assert str(refused.value) == "GBA_NOTIFICATION_POLICY must be every_breach or risk_based"
    settings.GBA_NOTIFICATION_POLICY = "risk_based"
    assert gba_policy() == "risk_based"


def test_a_gba_reference_too_short_to_be_the_portals_is_refused_and_nothing_recorded(
    incident_in, manager
):
    incident = incident_in("assessed")
    with pytest.raises(ValidationError) as refused:
        workflow.transition(incident.pk, manager, "notify_gba", reference="DBN-1")
    assert list(refused.value.message_dict) == ["reference"]
    assert incident.obligations.get(kind="notify_gba").status == "open"
    workflow.transition(incident.pk, manager, "notify_gba", reference="DBN-2026-1")
    assert incident.obligations.get(kind="notify_gba").reference == "DBN-2026-1"


def test_a_late_recording_names_the_first_deadline_it_missed(incident_in, manager, second):
    """Two controllers whose notices fell due at different moments (one named later, its
    clock moved in the admin: the stored deadlines are what counts), both missed: the refusal
    names the earlier one, the one that was missed first."""
    incident = incident_in("gba_notified", hours_ago=30)
    workflow.update_facts(
        incident.pk, manager, {"controllers": [*incident.controllers.all(), second]}
    )
    first, later = incident.obligations.filter(kind="tell_controller").order_by("controller")
    Obligation.objects.filter(pk=first.pk).update(deadline_at=timezone.now() - timedelta(hours=6))
    Obligation.objects.filter(pk=later.pk).update(deadline_at=timezone.now() - timedelta(hours=2))
    first.refresh_from_db()
    with pytest.raises(ValidationError) as refused:
        workflow.transition(incident.pk, manager, "notify_controller", how="Phone")
    shown = timezone.localtime(first.deadline_at).strftime("%d/%m/%Y %H:%M %Z")
    assert refused.value.message_dict == {
        "delay_reason": [
            f"This comes after its deadline of {shown}: give the reason for the delay (the "
            "report and the register keep it)."
        ]
    }


def test_a_delay_reason_longer_than_its_limit_is_refused_with_it_and_nothing_recorded(
    incident_in, manager
):
    incident = incident_in("assessed", hours_ago=30)
    with pytest.raises(ValidationError) as refused:
        workflow.transition(
            incident.pk, manager, "notify_gba", reference="DBN-2026-5", delay_reason="x" * 50_000
        )
    assert refused.value.message_dict["delay_reason"] == [
        "Ensure this value has at most 5000 characters (it has 50000)."
    ]
    assert incident.obligations.get(kind="notify_gba").status == "open"


def test_a_controller_that_files_itself_taken_off_has_its_not_required_filing_withdrawn(
    incident_in, manager, controller, second
):
    """Its GBA notification was not Conitro's to make (it files itself); taken off the incident,
    that decision is withdrawn too, so the register no longer gives a reason for a controller
    that is not affected."""
    second.gba_on_behalf = False
    second.save(update_fields=["gba_on_behalf"])
    incident = incident_in("assessed")
    workflow.update_facts(incident.pk, manager, {"controllers": [controller, second]})
    assert ("notify_gba", "Librairie Lefèvre SRL", "not_required") in owed(incident)
    workflow.update_facts(incident.pk, manager, {"controllers": [controller]})
    assert ("notify_gba", "Librairie Lefèvre SRL", "withdrawn") in owed(incident)
