"""The default policy walked through with a frozen clock: who is paged, when, on which channel,
and what stops it. Messages land in the locmem outboxes."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.db import transaction

from incidents import workflow
from notifications.acknowledgements import acknowledge
from notifications.models import Acknowledgement, Firing, Message
from notifications.tasks import dispatch
from notifications.texts import is_gsm7

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def logged(clock, security, manager, dpo, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return workflow.log_incident(
            security, title="Klantendatabank gelekt", description="Dump op een forum."
        )


def sent(channel=None, since=None):
    messages = Message.objects.exclude(status="queued").order_by("id")
    if channel:
        messages = messages.filter(channel=channel)
    if since is not None:
        messages = messages.filter(id__gt=since)
    return [(m.recipient.username, m.channel) for m in messages]


def last_id():
    last = Message.objects.order_by("-id").first()
    return last.id if last else 0


def at(clock, offset):
    clock.move_to(T0 + offset)
    mark = last_id()
    dispatch()
    return sorted(sent(since=mark))


def test_the_first_alert_goes_to_security_and_managers_at_once(logged, channels):
    assert sorted(sent()) == [
        ("manager", "email"),
        ("manager", "sms"),
        ("security", "email"),
        ("security", "sms"),
    ]
    sms = channels[0]
    assert logged.reference in sms.text
    assert "25/11 10:00" not in sms.text  # the deadline, not the awareness time
    assert "26/11 10:00" in sms.text  # 09:00 UTC + 24 h, shown in Brussels (CET)
    assert "https://breachdesk.example/ack/" in sms.text
    assert is_gsm7(sms.text) and len(sms.text) <= 160
    assert {m.to[0] for m in mail.outbox} == {"security@conitro.example", "manager@conitro.example"}
    assert f"https://breachdesk.example/incidents/{logged.pk}/" in mail.outbox[0].body


def test_nothing_fires_early(logged, clock):
    assert at(clock, timedelta(hours=4) - timedelta(seconds=1)) == []


def test_the_whole_default_policy(logged, clock, manager, dpo):
    h = timedelta(hours=1)
    assert at(clock, 4 * h) == [("manager", "sms")]
    assert at(clock, 5 * h) == [("manager", "sms")]  # repeats every 60 min
    step2 = Firing.objects.filter(incident=logged, step__position=2).first().step
    Acknowledgement.objects.create(incident=logged, step=step2, user=manager, via="web")
    assert at(clock, 6 * h) == []  # acknowledged: the repeats stop
    assert at(clock, 12 * h) == [
        ("dpo", "email"),
        ("dpo", "sms"),
        ("manager", "email"),
        ("manager", "sms"),
    ]  # the clock goes on: the next step still comes
    assert at(clock, 13 * h) == [
        ("dpo", "email"),
        ("dpo", "sms"),
        ("manager", "email"),
        ("manager", "sms"),
    ]
    step3 = Firing.objects.filter(incident=logged, step__position=3).first().step
    Acknowledgement.objects.create(incident=logged, step=step3, user=dpo, via="sms")
    assert at(clock, 20 * h) == [("dpo", "sms"), ("manager", "sms")]  # deadline - 4 h
    assert at(clock, 20 * h + timedelta(minutes=15)) == [("dpo", "call"), ("manager", "call")]
    assert at(clock, 20 * h + timedelta(minutes=30)) == [("dpo", "sms"), ("manager", "sms")]
    overdue = at(clock, 24 * h)
    assert ("manager", "call") in overdue and ("dpo", "email") in overdue
    assert "OVERDUE" in Message.objects.filter(channel="sms").last().text


def test_reaching_the_state_stops_the_step(logged, clock, incident_in, manager, controller):
    from incidents.models import Incident

    clock.move_to(T0 + timedelta(hours=1))
    workflow.assess(
        logged.pk,
        manager,
        **assessment_of(Incident.objects.get(pk=incident_in("assessed").pk)),
    )
    at(clock, timedelta(hours=4))
    assert not Message.objects.filter(incident=logged, firing__step__position=2).exists()
    firing = Firing.objects.get(incident=logged, step__position=2)
    assert firing.outcome == "state_reached"


def assessment_of(other):
    values = {
        f.name: getattr(other.assessment, f.name)
        for f in other.assessment._meta.fields
        if f.name not in {"id", "incident", "assessed_by", "assessed_at"}
    }
    relations = {
        name: list(getattr(other.assessment, name).all())
        for name in ["data_categories", "subject_categories"]
    }
    relations["controllers"] = list(other.controllers.all())
    return {"values": values, "relations": relations}


def test_dismissing_stops_everything(logged, clock, manager):
    workflow.transition(logged.pk, manager, "dismiss", reason="Test data only.")
    for hours in [4, 12, 20, 24, 30]:
        assert at(clock, timedelta(hours=hours)) == []


def test_after_an_outage_each_missed_step_fires_once_late(logged, clock):
    # The cluster was down from 1 h to 8 h: step 2 was due at 4, 5, 6 and 7 h.
    assert at(clock, timedelta(hours=8)) == [("manager", "sms")]
    fired = Firing.objects.get(incident=logged, step__position=2, repetition=0)
    assert fired.late
    assert fired.lateness == timedelta(hours=4)
    following = Firing.objects.get(incident=logged, step__position=2, repetition=1)
    assert following.due_at == T0 + timedelta(hours=9)  # the next slot, not 5 h


def test_after_an_outage_the_next_repeat_comes_a_whole_interval_after_the_catch_up(logged, clock):
    # Back at 8:59 h: step 2 (every hour from 4 h) fires once, late; the next one not at 9 h.
    at(clock, timedelta(hours=8, minutes=59))
    following = Firing.objects.get(incident=logged, step__position=2, repetition=1)
    assert following.due_at == T0 + timedelta(hours=9, minutes=59)


def test_a_late_page_keeps_its_whole_acknowledgement_window_before_the_call(logged, clock):
    # Step 4 (deadline - 4 h = 20 h) calls if not acknowledged within 15 minutes.
    at(clock, timedelta(hours=20, minutes=10))
    call = Firing.objects.get(incident=logged, step__position=4, repetition=0, phase="call")
    assert call.due_at == T0 + timedelta(hours=20, minutes=25)


def test_dispatching_twice_sends_nothing_twice(logged, clock):
    clock.move_to(T0 + timedelta(hours=4))
    dispatch()
    dispatch()
    assert sent("sms") == [("security", "sms"), ("manager", "sms"), ("manager", "sms")]


def test_a_worker_killed_mid_send_is_resent_once(logged, clock, channels):
    clock.move_to(T0 + timedelta(hours=4))
    firing = Firing.objects.get(incident=logged, step__position=2)
    from notifications.escalation import fire_due

    fired = fire_due()  # fired, message created, then the worker died
    (message_id,) = fired.messages
    assert firing.pk in fired.claimed
    assert fire_due().claimed == []  # nobody fires it again
    Message.objects.filter(pk=message_id).update(status="sending", claimed_at=T0)
    clock.move_to(T0 + timedelta(hours=4, minutes=3))
    dispatch()
    message = Message.objects.get(pk=message_id)
    assert (message.status, message.attempts) == ("sent", 1)
    assert message.possibly_twice  # the incident page says it may have arrived twice
    assert [m.pk for m in channels].count(message_id) == 1


def test_correcting_awareness_moves_the_pending_steps(
    logged, clock, security, django_capture_on_commit_callbacks
):
    earlier = T0 - timedelta(hours=2)
    with django_capture_on_commit_callbacks(execute=True):
        workflow.update_facts(logged.pk, security, {"aware_at": earlier})
    firing = Firing.objects.get(incident=logged, step__position=2)
    assert firing.due_at == earlier + timedelta(hours=4)


def test_an_incident_logged_late_gets_the_most_urgent_step_not_a_burst(
    clock, security, manager, dpo, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        workflow.log_incident(
            security,
            title="Found late",
            description="d",
            aware_at=T0 - timedelta(hours=21),
        )
    steps = sorted(set(Firing.objects.values_list("step__position", flat=True)))
    assert steps == [1, 4, 5]
    assert ("manager", "sms") in sent()


def test_a_step_due_the_very_second_an_incident_is_logged_replaces_the_overdue_ones(
    clock, security, manager, dpo, django_capture_on_commit_callbacks
):
    """Logged 12 hours after awareness to the second: step 3 is due now, so step 2 (due four
    hours after awareness) is not paged as well."""
    with django_capture_on_commit_callbacks(execute=True):
        workflow.log_incident(
            security, title="Found late", description="d", aware_at=T0 - timedelta(hours=12)
        )
    steps = sorted(set(Firing.objects.values_list("step__position", flat=True)))
    assert steps == [1, 3, 4, 5]


def test_a_log_that_is_rolled_back_pages_nobody(
    clock, security, manager, channels, django_capture_on_commit_callbacks
):
    """The first alert waits for the commit: an incident that was never saved pages nobody."""
    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                workflow.log_incident(security, title="Rolled back", description="d")
                raise RuntimeError("the request failed after logging")
        except RuntimeError:
            pass
    assert channels == [] and mail.outbox == []
    assert not Message.objects.exists()


def step_of(incident, position):
    return Firing.objects.filter(incident=incident, step__position=position).first().step


def test_acknowledging_a_page_stops_its_follow_up_call(logged, clock, manager):
    h = timedelta(hours=1)
    assert ("manager", "sms") in at(clock, 20 * h)  # step 4 pages (steps 2 and 3 catch up)
    acknowledge(logged, step_of(logged, 4), manager, "sms")
    at(clock, 20 * h + timedelta(minutes=15))
    assert not Message.objects.filter(channel="call").exists()
    call = Firing.objects.get(incident=logged, step__position=4, repetition=0, phase="call")
    assert call.outcome == "acknowledged"


def test_an_acknowledgement_counts_for_its_own_incident_only(
    logged, clock, security, manager, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        other = workflow.log_incident(security, title="Another breach", description="d")
    at(clock, timedelta(hours=4))
    acknowledge(other, step_of(other, 2), manager, "web")
    assert at(clock, timedelta(hours=5)) == [("manager", "sms")]  # the first one still repeats
    assert Message.objects.filter(
        incident=logged, firing__step__position=2, firing__repetition=1
    ).exists()
    assert not Message.objects.filter(incident=other, firing__repetition=1).exists()


def test_a_firing_is_late_only_when_more_than_two_minutes_after_due(logged, clock):
    at(clock, timedelta(hours=4, minutes=2))
    assert not Firing.objects.get(incident=logged, step__position=2, repetition=0).late
    at(clock, timedelta(hours=12, minutes=2, seconds=1))
    assert Firing.objects.get(incident=logged, step__position=3, repetition=0).late


def pending_firings(incident):
    return {
        (f.step.position, f.repetition, f.phase): f.due_at
        for f in Firing.objects.filter(incident=incident, fired_at=None).select_related("step")
    }


def test_an_earlier_awareness_never_brings_a_repeat_or_a_call_forward(
    logged, clock, security, django_capture_on_commit_callbacks
):
    """What follows a page that went out (its call, its repeat) follows that page: moving the
    awareness back does not make them due at once."""
    with django_capture_on_commit_callbacks(execute=True):
        other = workflow.log_incident(security, title="Untouched", description="d")
    at(clock, timedelta(hours=4))
    at(clock, timedelta(hours=5))  # step 2 paged twice
    at(clock, timedelta(hours=20))  # step 4 paged: its call (15 min) and repeat (30 min) wait
    untouched = dict(Firing.objects.filter(incident=other).values_list("pk", "due_at"))
    fired = dict(
        Firing.objects.filter(incident=logged).exclude(fired_at=None).values_list("pk", "due_at")
    )
    before = pending_firings(logged)
    with django_capture_on_commit_callbacks(execute=True):
        workflow.update_facts(logged.pk, security, {"aware_at": T0 - timedelta(hours=1)})
    pending = pending_firings(logged)
    assert pending[(4, 0, "call")] == T0 + timedelta(hours=20, minutes=15)
    assert pending[(4, 1, "page")] == T0 + timedelta(hours=20, minutes=30)
    assert pending[(2, 3, "page")] == before[(2, 3, "page")]
    assert dict(Firing.objects.filter(incident=other).values_list("pk", "due_at")) == untouched
    assert (
        dict(Firing.objects.filter(pk__in=fired).values_list("pk", "due_at")) == fired
    )  # what fired stays as it was


def test_a_later_awareness_moves_repeats_and_calls_later_with_it(
    logged, clock, security, django_capture_on_commit_callbacks
):
    at(clock, timedelta(hours=4))
    at(clock, timedelta(hours=20))  # step 4 paged: its call (15 min) and repeat (30 min) wait
    later = T0 + timedelta(minutes=30)
    with django_capture_on_commit_callbacks(execute=True):
        workflow.update_facts(logged.pk, security, {"aware_at": later})
    pending = pending_firings(logged)
    new_deadline = later + timedelta(hours=24)
    assert pending[(4, 0, "call")] == new_deadline - timedelta(hours=4, minutes=-15)
    assert pending[(4, 1, "page")] == new_deadline - timedelta(hours=4, minutes=-30)


def test_correcting_the_awareness_back_and_forth_pages_nobody_more_often(
    logged, clock, security, django_capture_on_commit_callbacks
):
    """Ten corrections to and fro while step 2 repeats hourly: the same pages as without them."""
    at(clock, timedelta(hours=4))
    at(clock, timedelta(hours=4, minutes=1))  # step 2 paged; its repeat waits for 10:00
    mark = last_id()
    for n in range(10):
        clock.move_to(T0 + timedelta(hours=4, minutes=2 + n))
        aware = T0 - timedelta(hours=3) if n % 2 == 0 else T0
        with django_capture_on_commit_callbacks(execute=True):
            workflow.update_facts(logged.pk, security, {"aware_at": aware})
        dispatch()
    assert sent(since=mark) == []
    assert at(clock, timedelta(hours=5)) == [("manager", "sms")]  # the hourly repeat, on time


def test_a_send_in_progress_is_not_taken_over_and_a_sent_one_never_again(logged, clock, channels):
    clock.move_to(T0 + timedelta(minutes=10))
    first = Message.objects.filter(channel="sms").order_by("id")
    recent, old = first[0], first[1]
    Message.objects.filter(pk=recent.pk).update(
        status="sending", claimed_at=T0 + timedelta(minutes=9, seconds=30)
    )  # claimed 30 s ago: its worker is still at it
    channels.clear()
    dispatch()
    assert Message.objects.get(pk=recent.pk).status == "sending"
    assert Message.objects.get(pk=old.pk).status == "sent"
    assert channels == []


def test_a_send_that_keeps_hanging_fails_and_falls_back_to_a_call(logged, clock, channels):
    clock.move_to(T0 + timedelta(minutes=10))
    message = Message.objects.filter(channel="sms").first()
    Message.objects.filter(pk=message.pk).update(
        status="sending", claimed_at=T0, attempts=settings.MESSAGE_MAX_ATTEMPTS
    )
    dispatch()
    message.refresh_from_db()
    assert message.status == "failed" and "interrupted" in message.error
    assert Message.objects.get(fallback_for=message).channel == "call"


def test_a_person_without_an_e_mail_address_is_recorded_as_failed(
    clock, security, manager, django_capture_on_commit_callbacks
):
    manager.email = ""
    manager.save()
    with django_capture_on_commit_callbacks(execute=True):
        workflow.log_incident(security, title="t", description="d")
    email = Message.objects.get(recipient=manager, channel="email")
    assert email.status == "failed" and email.error == f"{manager} has no e-mail address"


def test_a_worker_that_starts_sends_what_fell_due_while_the_cluster_was_down(
    logged, clock, monkeypatch
):
    from django_q.conf import Conf
    from django_q.signals import post_spawn

    clock.move_to(T0 + timedelta(hours=4, minutes=10))  # step 2 fell due 10 minutes ago
    monkeypatch.setattr(Conf, "SYNC", False)
    post_spawn.send(sender="django_q", proc_name="Process-1")  # what a starting worker sends
    monkeypatch.setattr(Conf, "SYNC", True)
    clock.shift(1)  # the broker hands out tasks queued before now
    assert worker_runs_the_queue() == 1
    assert sent("sms")[-1] == ("manager", "sms")
    assert Firing.objects.get(incident=logged, step__position=2, repetition=0).late


def worker_runs_the_queue():
    """Run what a worker would take from the ORM broker, here and now."""
    from django_q.brokers import get_broker
    from django_q.tasks import _sync

    broker = get_broker()
    ran = 0
    while tasks := broker.dequeue():
        for task_id, package in tasks:
            _sync(package)
            broker.acknowledge(task_id)
            ran += 1
    return ran


def test_obligations_met_before_the_assessment_stop_the_deadline_steps(
    logged, clock, manager, controller
):
    """Everything owed is done (controller told, GBA filed) while the incident is not assessed
    yet: the steps that wait for it stop, although the state is still `detected`."""
    clock.move_to(T0 + timedelta(hours=1))
    workflow.update_facts(logged.pk, manager, {"controllers": [controller]})
    workflow.transition(logged.pk, manager, "notify_controller", how="Phone call with Els")
    workflow.transition(logged.pk, manager, "notify_gba", reference="DBN-2026-10")
    logged.refresh_from_db()
    assert logged.state == "detected"
    at(clock, timedelta(hours=12))
    at(clock, timedelta(hours=20))
    at(clock, timedelta(hours=24))
    for position in (3, 4, 5):
        firing = Firing.objects.get(incident=logged, step__position=position, repetition=0)
        assert firing.outcome == "state_reached", position
    assert not Message.objects.filter(incident=logged, firing__step__position__in=[3, 4, 5])


def test_a_controller_told_first_keeps_the_gba_step_paging(logged, clock, manager, controller):
    clock.move_to(T0 + timedelta(hours=1))
    workflow.update_facts(logged.pk, manager, {"controllers": [controller]})
    workflow.transition(logged.pk, manager, "notify_controller", how="Phone call with Els")
    at(clock, timedelta(hours=12))
    assert Message.objects.filter(incident=logged, firing__step__position=3).exists()


def paging_for(incident, position):
    """Messages that page for this step: as their own, or listed with another due with it."""
    from django.db.models import Q

    return Message.objects.filter(
        Q(firing__step__position=position) | Q(also_for__step__position=position),
        incident=incident,
    ).distinct()


def messages_of_step(incident, position):
    return sorted((m.recipient.username, m.channel) for m in paging_for(incident, position))


def test_part_two_of_the_gba_notification_pages_before_and_at_its_own_deadline(
    logged, clock, manager, controller
):
    assert not Firing.objects.filter(incident=logged, step__position__gte=6).exists()
    clock.move_to(T0 + timedelta(hours=1))
    workflow.update_facts(logged.pk, manager, {"controllers": [controller]})
    # Filed before the assessment: the facts are not all known, so part 2 is owed in 21 days.
    workflow.transition(logged.pk, manager, "notify_gba", reference="DBN-2026-21")
    part2 = logged.obligations.get(kind="complete_gba").deadline_at
    assert part2 == T0 + timedelta(hours=1, days=21)
    due = dict(
        Firing.objects.filter(incident=logged, step__position__in=[6, 7]).values_list(
            "step__position", "due_at"
        )
    )
    assert due == {6: part2 - timedelta(days=3), 7: part2}
    at(clock, timedelta(hours=1, days=18))
    everyone = [("dpo", "email"), ("dpo", "sms"), ("manager", "email"), ("manager", "sms")]
    assert messages_of_step(logged, 6) == everyone
    # Steps 2 and 5 repeat at the same hour mark: one page lists all three, part 2 first.
    sms = paging_for(logged, 6).filter(channel="sms").first().text
    assert sms.startswith("GBA part 2 not filed yet + OVERDUE: controller not notified + Not")
    assert "Deadline 16/12 11:00" in sms
    e_mail = paging_for(logged, 6).filter(channel="email").first().text
    assert "Complete the GBA notification (part 2) by: 16/12/2026 11:00" in e_mail
    clock.move_to(T0 + timedelta(days=19))
    workflow.transition(logged.pk, manager, "complete_gba")
    at(clock, timedelta(hours=1, days=21))
    assert messages_of_step(logged, 7) == []
    assert Firing.objects.get(incident=logged, step__position=7).outcome == "state_reached"


def test_the_data_subjects_step_counts_from_their_deadline_and_stops_when_informed(
    logged, clock, manager, controller, assessment_values, categories
):
    controller.subjects_informed_by_conitro = True
    controller.save()
    clock.move_to(T0 + timedelta(hours=2))
    workflow.assess(
        logged.pk,
        manager,
        {**assessment_values, "risk_level": "high"},
        {"data_categories": [categories[0]], "subject_categories": [categories[1]],
         "controllers": [controller]},
    )  # fmt: skip
    deadline = logged.obligations.get(kind="inform_subjects").deadline_at
    assert deadline == T0 + timedelta(hours=74)
    due = dict(
        Firing.objects.filter(incident=logged, step__position__in=[8, 9]).values_list(
            "step__position", "due_at"
        )
    )
    assert due == {8: deadline - timedelta(hours=12), 9: deadline}
    assert not Firing.objects.filter(incident=logged, step__position__in=[6, 7]).exists()
    at(clock, timedelta(hours=62))
    assert messages_of_step(logged, 8) == [
        ("dpo", "email"), ("dpo", "sms"), ("manager", "email"), ("manager", "sms")
    ]  # fmt: skip
    text = paging_for(logged, 8).filter(channel="sms").first().text
    assert "Data subjects not informed yet" in text
    workflow.transition(logged.pk, manager, "inform_subjects", how="E-mail to each customer")
    at(clock, timedelta(hours=74))
    assert messages_of_step(logged, 9) == []
    assert Firing.objects.get(incident=logged, step__position=9).outcome == "state_reached"


def test_a_step_for_an_obligation_must_say_which_and_count_from_it(default_policy):
    from django.core.exceptions import ValidationError

    from notifications.models import EscalationStep

    step = EscalationStep.objects.get(policy__name="Conitro 24 h", position=6)
    step.obligation = ""
    with pytest.raises(ValidationError) as refused:
        step.full_clean()
    assert "obligation" in refused.value.message_dict
    step.obligation, step.anchor = "complete_gba", "deadline"
    with pytest.raises(ValidationError) as refused:
        step.full_clean()
    assert "anchor" in refused.value.message_dict
    step.anchor, step.until_state = "obligation", "closed"
    with pytest.raises(ValidationError) as refused:
        step.full_clean()
    assert "until_state" in refused.value.message_dict


def test_steps_are_named_in_the_readers_language_on_the_incident_page(
    logged, client, make_user, manager
):
    client.force_login(manager)
    page = client.get(f"/incidents/{logged.pk}/").content.decode()
    assert '<td data-label="Step">New data breach</td>' in page and "#1</td>" not in page
    dutch = make_user("manager", "marleen", language="nl")
    client.force_login(dutch)
    page = client.get(f"/incidents/{logged.pk}/").content.decode()
    assert '<td data-label="Stap">Nieuw datalek</td>' in page


def test_at_the_deadline_the_overdue_step_replaces_the_repeats_of_the_4_hour_step(logged, clock):
    """Step 4 (deadline - 4 h, every 30 min) and step 5 (the deadline) wait for the same thing:
    at the deadline a person gets the OVERDUE page, not the 4-hour page as well."""
    h, m = timedelta(hours=1), timedelta(minutes=1)
    for offset in [20 * h + n * 30 * m for n in range(8)]:
        at(clock, offset)
    sent = Firing.objects.filter(incident=logged, step__position=4, outcome="sent", phase="page")
    assert sent.count() == 8
    at(clock, 24 * h)
    deadline_pages = Message.objects.filter(incident=logged, created_at=T0 + 24 * h)
    assert {m.firing.step.position for m in deadline_pages} >= {5}
    assert 4 not in {m.firing.step.position for m in deadline_pages}
    repeat = Firing.objects.get(incident=logged, step__position=4, repetition=8, phase="page")
    assert repeat.outcome == "superseded"
    at(clock, 24 * h + 30 * m)
    assert not Firing.objects.filter(incident=logged, step__position=4, fired_at=None).exists()


def test_a_later_step_firing_first_stops_the_earlier_ones_waiting_for_the_same(logged, clock):
    h = timedelta(hours=1)
    at(clock, 20 * h)  # step 4 pages; its call (15 min) and repeat (30 min) are planned
    Firing.objects.filter(incident=logged, step__position=5).update(due_at=T0 + 20 * h)
    at(clock, 20 * h + timedelta(minutes=1))
    pending = Firing.objects.filter(incident=logged, step__position=4, fired_at__gt=T0 + 20 * h)
    assert {f.outcome for f in pending} == {"superseded"} and pending.count() == 2


def test_steps_due_at_the_same_moment_make_one_page_per_person_and_channel(
    logged, clock, client, manager
):
    """At the deadline steps 2 and 3 repeat on the hour and step 5 fires: the manager gets one
    SMS, one e-mail and one call that name all three, and one acknowledgement covers them."""
    m = timedelta(minutes=1)
    for minutes in range(60, 24 * 60, 30):
        at(clock, minutes * m)
    at(clock, 24 * 60 * m)
    now = Message.objects.filter(
        incident=logged, recipient=manager, created_at=T0 + 24 * 60 * m, fallback_for=None
    )
    assert sorted(now.values_list("channel", flat=True)) == ["call", "email", "sms"]
    sms = now.get(channel="sms")
    assert sms.text.startswith(
        "OVERDUE: controller not notified + GBA not notified yet + Not assessed yet INC-"
    )
    assert sorted(sms.also_for.values_list("step__position", flat=True)) == [2, 3]
    assert sms.firing.step.position == 5
    e_mail = now.get(channel="email").text
    # Step 2 pages by SMS only: the e-mail names the two steps that e-mail.
    assert e_mail.startswith("OVERDUE: controller not notified + GBA not notified yet: INC-")
    token = sms.text.rsplit("/ack/", 1)[1].rstrip("/")
    client.post(f"/ack/{token}/")
    assert sorted(
        logged.acknowledgements.filter(user=manager).values_list("step__position", flat=True)
    ) == [2, 3, 5]


def test_correcting_awareness_moves_every_pending_step_past_one_whose_obligation_is_met(
    logged, clock, manager, controller
):
    clock.move_to(T0 + timedelta(hours=1))
    workflow.update_facts(logged.pk, manager, {"controllers": [controller]})
    workflow.transition(logged.pk, manager, "notify_gba", reference="DBN-2026-40")
    workflow.transition(logged.pk, manager, "complete_gba")  # steps 6 and 7 have nothing left
    at(clock, timedelta(hours=4))  # step 2 pages; its repeat is planned after steps 6 and 7
    repeat = Firing.objects.get(incident=logged, step__position=2, repetition=1)
    assert repeat.due_at == T0 + timedelta(hours=5)
    assert repeat.pk > Firing.objects.get(incident=logged, step__position=7).pk
    workflow.update_facts(logged.pk, manager, {"aware_at": T0 + timedelta(minutes=30)})
    repeat.refresh_from_db()
    assert repeat.due_at == T0 + timedelta(hours=5, minutes=30)


def test_a_step_due_within_a_minute_of_a_page_goes_out_with_it_not_seconds_later(
    logged, clock, manager
):
    """Step 3 (aware + 12 h, every hour) due 40 s after step 2's hourly repeat: one SMS at
    step 2's time names both; nothing fires early on its own, and 90 s apart stay apart."""
    h, s = timedelta(hours=1), timedelta(seconds=1)
    for hours in range(4, 12):
        at(clock, hours * h)
    step3 = Firing.objects.get(incident=logged, step__position=3, repetition=0)
    Firing.objects.filter(pk=step3.pk).update(due_at=T0 + 12 * h + 40 * s)
    at(clock, 12 * h - s)  # nothing due for this incident: nothing fires early
    assert not Firing.objects.get(pk=step3.pk).fired_at
    at(clock, 12 * h)
    sms = Message.objects.get(
        incident=logged, recipient=manager, channel="sms", created_at=T0 + 12 * h
    )
    assert sms.firing.step.position == 3 and [f.step.position for f in sms.also_for.all()] == [2]
    assert Firing.objects.get(pk=step3.pk).fired_at == T0 + 12 * h
    assert at(clock, 12 * h + 40 * s) == []  # not paged again 40 s later
    Firing.objects.filter(incident=logged, step__position=3, repetition=1).update(
        due_at=T0 + 13 * h + 90 * s
    )
    at(clock, 13 * h)  # step 2's repeat: alone
    assert Firing.objects.filter(incident=logged, step__position=3, repetition=1, fired_at=None)


def test_a_step_that_pages_stops_the_earlier_steps_of_its_own_incident_only(
    logged, clock, security, django_capture_on_commit_callbacks
):
    """Step 5 (the deadline, controller not notified) pages for two incidents logged together
    and stops the repeats of each one's step 4, which waits for the same thing. The repeats of
    step 4 of a third incident, logged 3 h 20 min later, go on."""
    h, m = timedelta(hours=1), timedelta(minutes=1)
    with django_capture_on_commit_callbacks(execute=True):
        twin = workflow.log_incident(security, title="Same minute", description="d")
    clock.move_to(T0 + 3 * h + 20 * m)
    with django_capture_on_commit_callbacks(execute=True):
        other = workflow.log_incident(security, title="Laptop gestolen", description="d")
    for moment in (4 * h, 12 * h, 16 * h, 20 * h, 23 * h + 20 * m, 23 * h + 50 * m):
        at(clock, moment)
    repeat = Firing.objects.get(
        incident=other, step__position=4, phase="page", due_at=T0 + 24 * h + 20 * m
    )
    at(clock, 24 * h)  # step 5 of the first incident and of its twin page
    for incident in (logged, twin):
        assert not Firing.objects.filter(incident=incident, step__position=4, fired_at=None)
    repeat.refresh_from_db()
    assert repeat.fired_at is None  # the second incident's repeat still waits for its time
    at(clock, 24 * h + 20 * m)
    repeat.refresh_from_db()
    assert repeat.outcome == "sent"


def test_a_controller_removed_again_leaves_the_gba_step_paging(
    logged, clock, manager, controller, categories, assessment_values
):
    """The assessment named a controller, then an edit removed it (its obligations are
    withdrawn, not met): the GBA is still not notified, so step 3 pages at 12 hours."""
    relations = {
        "data_categories": [categories[0]],
        "subject_categories": [categories[1]],
        "controllers": [controller],
    }
    workflow.assess(logged.pk, manager, assessment_values, relations)
    workflow.update_facts(logged.pk, manager, {"controllers": []})
    assert set(logged.obligations.values_list("status", flat=True)) == {"withdrawn"}
    logged.refresh_from_db()
    assert logged.state == "assessed"  # nothing owed is met: the state does not move on
    at(clock, timedelta(hours=4))
    assert at(clock, timedelta(hours=12)) == [("dpo", "email"), ("dpo", "sms")] + [
        ("manager", "email"),
        ("manager", "sms"),
    ]


def test_a_repeat_due_a_few_seconds_before_its_next_step_gives_way_to_it(logged, clock):
    """Step 4 repeats every 30 minutes; when step 5, which waits for the same thing, is due
    within the next minute, step 4's repeat is not sent: step 5 pages instead, at its own
    second (a deadline moment is never brought forward: "OVERDUE" before the deadline would
    be a lie)."""
    h, s = timedelta(hours=1), timedelta(seconds=1)
    for half_hours in range(40, 48):  # 20:00 … 23:30, and the follow-up call at 23:45
        at(clock, half_hours * h / 2)
    at(clock, 23.75 * h)
    Firing.objects.filter(incident=logged, step__position=5, repetition=0).update(
        due_at=T0 + 24 * h + 30 * s
    )
    at(clock, 24 * h)
    repeat = Firing.objects.get(incident=logged, step__position=4, phase="page", due_at=T0 + 24 * h)
    assert repeat.outcome == "superseded"
    overdue = Firing.objects.get(incident=logged, step__position=5, repetition=0)
    assert overdue.fired_at is None  # not 30 seconds early
    assert at(clock, 24 * h + 30 * s) == [
        ("dpo", "call"), ("dpo", "email"), ("dpo", "sms"),
        ("manager", "call"), ("manager", "email"), ("manager", "sms"),
    ]  # fmt: skip
    overdue.refresh_from_db()
    assert (overdue.outcome, overdue.fired_at) == ("sent", T0 + 24 * h + 30 * s)


def correction_queries(security, manager, controllers, django_capture_on_commit_callbacks):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with django_capture_on_commit_callbacks(execute=True):
        incident = workflow.log_incident(security, title="Platform", description="d")
    workflow.update_facts(incident.pk, manager, {"controllers": controllers})
    with CaptureQueriesContext(connection) as queries:
        workflow.update_facts(incident.pk, security, {"aware_at": T0 - timedelta(hours=2)})
    return len(queries)


def test_correcting_the_awareness_costs_the_same_queries_for_2_or_12_controllers(
    clock, security, manager, dpo, django_capture_on_commit_callbacks
):
    from incidents.models import Controller

    controllers = [
        Controller.objects.create(
            name=f"Klant {n}",
            enterprise_number=number,
            address="Straat 1, 9000 Gent",
            contact_person="X",
            email=f"klant{n}@example.com",
            phone="+3292345678",
        )
        for n, number in enumerate(VALID_KBO)
    ]
    few = correction_queries(security, manager, controllers[:2], django_capture_on_commit_callbacks)
    many = correction_queries(security, manager, controllers, django_capture_on_commit_callbacks)
    assert few == many


# Valid Belgian enterprise numbers (97 - number % 97 check digits).
VALID_KBO = [f"0{base:07d}{97 - base % 97:02d}" for base in range(4409663, 4409675)]


def test_a_dismissed_breach_still_pages_for_the_withdrawal_it_owes_the_gba(
    logged, clock, manager, controller
):
    clock.move_to(T0 + timedelta(hours=1))
    workflow.update_facts(logged.pk, manager, {"controllers": [controller]})
    workflow.transition(logged.pk, manager, "notify_gba", reference="DBN-2026-40")
    workflow.transition(logged.pk, manager, "dismiss", reason="Test data only.")
    deadline = logged.obligations.get(kind="gba_withdrawal").deadline_at
    assert deadline == T0 + timedelta(hours=73)
    at(clock, timedelta(hours=72, minutes=59, seconds=30))
    assert messages_of_step(logged, 12) == []  # "OVERDUE" never before the deadline
    at(clock, timedelta(hours=73))
    everyone = [("dpo", "email"), ("dpo", "sms"), ("manager", "email"), ("manager", "sms")]
    assert messages_of_step(logged, 12) == everyone
    sms = paging_for(logged, 12).filter(channel="sms").first().text
    assert sms.startswith("OVERDUE: GBA withdrawal"), sms
    workflow.transition(logged.pk, manager, "gba_withdrawal")
    at(clock, timedelta(hours=77))
    assert messages_of_step(logged, 12) == everyone  # no more once it is sent


def test_an_update_owed_again_pages_again_at_its_own_deadline(logged, clock, manager, controller):
    clock.move_to(T0 + timedelta(hours=1))
    workflow.update_facts(logged.pk, manager, {"controllers": [controller]})
    workflow.transition(logged.pk, manager, "notify_gba", reference="DBN-2026-41")
    workflow.transition(logged.pk, manager, "notify_controller", how="E-mail")
    clock.move_to(T0 + timedelta(hours=2))
    workflow.update_facts(logged.pk, manager, {"description": "Also the invoices."})
    clock.move_to(T0 + timedelta(hours=3))
    workflow.transition(logged.pk, manager, "update_controller", how="E-mail")  # round 1 met
    clock.move_to(T0 + timedelta(hours=5))
    workflow.update_facts(logged.pk, manager, {"description": "And the addresses."})
    at(clock, timedelta(hours=26))  # round 1's deadline: met, nobody paged
    assert messages_of_step(logged, 10) == []
    at(clock, timedelta(hours=28, minutes=50))
    assert messages_of_step(logged, 10) == []  # nothing early
    at(clock, timedelta(hours=29))  # round 2's deadline
    everyone = [("dpo", "email"), ("dpo", "sms"), ("manager", "email"), ("manager", "sms")]
    assert messages_of_step(logged, 10) == everyone


def test_a_round_paged_and_then_met_leaves_the_next_round_its_own_page(
    logged, clock, manager, controller
):
    clock.move_to(T0 + timedelta(hours=1))
    workflow.update_facts(logged.pk, manager, {"controllers": [controller]})
    workflow.transition(logged.pk, manager, "notify_gba", reference="DBN-2026-42")
    workflow.transition(logged.pk, manager, "notify_controller", how="E-mail")
    clock.move_to(T0 + timedelta(hours=2))
    workflow.update_facts(logged.pk, manager, {"description": "Also the invoices."})
    at(clock, timedelta(hours=26))  # round 1 overdue: paged
    assert len(messages_of_step(logged, 10)) == 4
    clock.move_to(T0 + timedelta(hours=27))
    workflow.transition(
        logged.pk, manager, "update_controller", how="E-mail", delay_reason="Weekend."
    )
    at(clock, timedelta(hours=30))  # the 4-hour repeat finds it met: nobody paged
    assert len(messages_of_step(logged, 10)) == 4
    clock.move_to(T0 + timedelta(hours=31))
    workflow.update_facts(logged.pk, manager, {"description": "And the addresses."})
    at(clock, timedelta(hours=54, minutes=50))
    assert len(messages_of_step(logged, 10)) == 4  # nothing early
    at(clock, timedelta(hours=55))  # round 2's own deadline
    assert len(messages_of_step(logged, 10)) == 8


def test_each_default_step_is_named_for_what_it_pages_about(default_policy):
    """The name is what a page and the incident page say: it must match the step's cause."""
    from notifications.models import EscalationStep

    steps = EscalationStep.objects.filter(policy__name="Conitro 24 h").order_by("position")
    assert [(s.position, s.until_state or s.obligation, s.name_en) for s in steps] == [
        (1, "", "New data breach"),
        (2, "assessed", "Not assessed yet"),
        (3, "gba_notified", "GBA not notified yet"),
        (4, "controller_notified", "Controller not notified yet"),
        (5, "controller_notified", "OVERDUE: controller not notified"),
        (6, "complete_gba", "GBA part 2 not filed yet"),
        (7, "complete_gba", "OVERDUE: GBA part 2"),
        (8, "inform_subjects", "Data subjects not informed yet"),
        (9, "inform_subjects", "OVERDUE: data subjects"),
        (10, "update_controller", "OVERDUE: controller update"),
        (11, "gba_follow_up", "OVERDUE: GBA follow-up"),
        (12, "gba_withdrawal", "OVERDUE: GBA withdrawal"),
        (13, "regime", "Report to the CCB (or another regime) due"),
        (14, "regime", "OVERDUE: report to the CCB (or another regime)"),
    ]
