"""Page texts: the recipient's language, GSM-7 only, one SMS where it can."""

import re
from datetime import UTC, datetime

import pytest
import time_machine
from django.core import signing
from django.utils import timezone, translation

from incidents import workflow
from notifications.escalation import build_message
from notifications.models import EscalationStep, Firing, Message
from notifications.texts import SMS_LENGTH, ack_token, is_gsm7, read_ack_token, to_gsm7

pytestmark = pytest.mark.django_db


def test_to_gsm7_keeps_what_gsm7_has_and_replaces_the_rest():
    assert to_gsm7("é è à ù Ç") == "é è à ù Ç"
    assert to_gsm7("ë ç ô ĳ € « »") == 'e c o ij EUR " "'
    assert is_gsm7(to_gsm7("Ça coûte 5 € — « oui »"))


@pytest.fixture
def firing(security):
    with time_machine.travel(datetime(2026, 7, 1, 8, 0, tzinfo=UTC), tick=False):
        incident = workflow.log_incident(
            security,
            title="Réinitialisation ëlke wachtwoord € — een heel lange titel die niet past "
            "in één sms",
            description="d",
        )
        # The plan made with the incident holds step 2's first firing.
        return Firing.objects.get(
            incident=incident, step=EscalationStep.objects.get(position=2), repetition=0
        )


@pytest.mark.parametrize(
    ("language", "words"),
    [("nl", "Nog niet beoordeeld"), ("fr", "Pas encore évaluée"), ("en", "Not assessed yet")],
)
def test_the_sms_is_in_the_recipients_language_and_fits_one_sms(firing, manager, language, words):
    manager.language = language
    sms = build_message(firing, manager, "sms").text
    assert words in sms
    assert firing.incident.reference in sms
    assert "02/07 10:00" in sms  # 08:00 UTC + 24 h in Brussels summer time
    assert is_gsm7(sms)
    assert len(sms) <= SMS_LENGTH


def test_french_pages_put_a_space_before_the_colon_and_dutch_ones_do_not(firing, manager, frozen):
    """French typography, in GSM-7: the no-break space of the translation becomes a space."""
    link = build_message(firing, manager, "sms").text.rsplit(" ", 1)[1]
    manager.language = "fr"
    sms = build_message(firing, manager, "sms").text
    # The title is cut to fit one SMS (how much depends on the link's length).
    assert re.fullmatch(
        rf"Pas encore évaluée INC-2026-0001 : Réinitialisation \S.*\.\. Échéance 02/07 10:00 "
        rf"\(dans 23 h\)\. "
        rf"OK : {re.escape(link)}",
        sms,
    ), sms
    assert build_message(firing, manager, "email").text.startswith(
        "Pas encore évaluée\u00a0: INC-2026-0001 Réinitialisation ëlke wachtwoord € — "
    )
    manager.language = "nl"
    assert build_message(firing, manager, "sms").text.startswith(
        "Nog niet beoordeeld INC-2026-0001: Réinitialisation"
    )


def test_the_email_names_the_deadline_in_brussels_time(firing, dpo):
    dpo.language = "fr"
    message = build_message(firing, dpo, "email")
    assert "02/07/2026 10:00" in message.text
    assert "Accuser réception" in message.text
    assert firing.incident.reference in message.subject


def test_a_person_without_a_phone_is_recorded_as_failed_not_skipped(firing, manager):
    manager.phone = ""
    message = build_message(firing, manager, "sms")
    assert message.status == "failed" and "no phone" in message.error


def test_ack_tokens_are_signed_and_expire(firing, manager, settings):
    token = ack_token(firing, manager)
    assert read_ack_token(token) == (firing.pk, manager.pk)
    with pytest.raises(signing.BadSignature):
        read_ack_token(token[:-2] + "xx")
    with pytest.raises(signing.BadSignature):
        read_ack_token(f"{firing.pk + 1}.{manager.pk}." + token.split(".", 2)[2])
    later = datetime(2030, 1, 1, tzinfo=UTC)
    with pytest.raises(signing.SignatureExpired):
        read_ack_token(token, now=later)


def test_the_ack_link_page_then_one_tap(client, firing, manager):
    url = f"/ack/{ack_token(firing, manager)}/"
    page = client.get(url)
    assert page.status_code == 200 and b"<form" in page.content
    assert not firing.incident.acknowledgements.exists()  # a link preview acknowledges nothing
    client.post(url)
    acknowledgement = firing.incident.acknowledgements.get()
    assert (acknowledgement.user, acknowledgement.via) == (manager, "link")
    assert firing.incident.events.filter(kind="acknowledged", actor=manager).exists()
    # Opened again (or by a colleague's link): it says so, and offers no button (issue 23).
    again = client.get(url).content.decode()
    assert "<form" not in again
    assert "Already acknowledged: nothing left to press here." in again
    assert "Already acknowledged by" in again


def test_a_bad_or_expired_link_says_what_to_do(client, firing, manager):
    assert client.get("/ack/1.2.3.forged/").status_code == 400
    token = ack_token(firing, manager, now=datetime(2020, 1, 1, tzinfo=UTC))
    response = client.get(f"/ack/{token}/")
    assert response.status_code == 410
    assert b"ACK" in response.content


def test_the_link_of_a_person_who_left_acknowledges_nothing(client, firing, manager):
    """Someone who left (deactivated) keeps the SMS on their phone: its link must not stop
    the escalation for the colleagues still on call."""
    url = f"/ack/{ack_token(firing, manager)}/"
    manager.is_active = False
    manager.save(update_fields=["is_active"])
    assert client.post(url).status_code == 404
    assert not firing.incident.acknowledgements.exists()


def test_acknowledging_from_the_incident_page(client, firing, manager):
    build_message(firing, manager, "sms").save()
    client.force_login(manager)
    client.post(f"/incidents/{firing.incident.pk}/acknowledge/")
    acknowledgement = firing.incident.acknowledgements.get()
    assert (acknowledgement.step, acknowledgement.via) == (firing.step, "web")


def test_a_dismissed_incident_cannot_be_acknowledged_any_way(client, firing, manager, dpo):
    workflow.transition(firing.incident.pk, dpo, "dismiss", reason="A test, no real data.")
    url = f"/ack/{ack_token(firing, manager)}/"
    page = client.post(url, HTTP_ACCEPT_LANGUAGE="en")
    assert b"nothing to acknowledge" in page.content and b"<form" not in page.content
    build_message(firing, manager, "sms").save()
    client.force_login(manager)
    client.post(f"/incidents/{firing.incident.pk}/acknowledge/")
    assert not firing.incident.acknowledgements.exists()
    assert not firing.incident.events.filter(kind="acknowledged").exists()


def test_the_first_acknowledgement_per_person_and_step_goes_into_the_timeline(
    firing, manager, dpo, security
):
    from notifications.acknowledgements import acknowledge

    incident, step = firing.incident, firing.step
    acknowledge(incident, step, manager, "link")
    acknowledge(incident, step, manager, "sms")  # the same person again: no second line
    acknowledge(incident, step, dpo, "call")  # someone else: a line of their own
    other_step = EscalationStep.objects.get(position=3)
    acknowledge(incident, other_step, manager, "web")  # another step: a line too
    events = incident.events.filter(kind="acknowledged").order_by("id")
    assert [(e.actor, e.after["step"], e.after["via"], e.note) for e in events] == [
        (manager, 2, "link", "link"),
        (dpo, 2, "call", "key press during the call"),
        (manager, 3, "web", "incident page"),
    ]
    assert events[0].after["names"] == {
        "nl": "Nog niet beoordeeld", "fr": "Pas encore évaluée", "en": "Not assessed yet"
    }  # fmt: skip
    from incidents.timeline import sentence

    with translation.override("fr"):
        assert sentence(events[2]).startswith("Alerte confirmée\u00a0: APD pas encore notifiée.")
    assert incident.acknowledgements.count() == 3  # the same person again: no second record
    second = workflow.log_incident(security, title="Another", description="d")
    acknowledge(second, step, manager, "link")  # the same step of another incident
    assert second.events.filter(kind="acknowledged", actor=manager).count() == 1


def test_the_call_reads_the_reference_digit_by_digit_and_the_deadline_in_brussels_time(
    firing, manager, frozen
):
    manager.language = "en"
    script = build_message(firing, manager, "call").text
    assert script == (
        "Breach desk of Conitro. Not assessed yet. Incident 2 0 2 6 - 0 0 0 1: "
        f"{firing.incident.title}. The deadline is 02/07 10:00, in 23 hours."
    )
    manager.language = "nl"
    assert build_message(firing, manager, "call").text.startswith("Datalekdesk van Conitro.")


def titled(firing, title):
    """The firing, its incident retitled."""
    type(firing.incident).objects.filter(pk=firing.incident.pk).update(title=title)
    firing.refresh_from_db()
    return firing


def sms_with_title(firing, manager, title):
    return build_message(titled(firing, title), manager, "sms").text


@pytest.fixture
def frozen():
    """The link in a message carries its issue time: freeze it to compare whole texts."""
    with time_machine.travel(datetime(2026, 7, 1, 9, 0, tzinfo=UTC), tick=False):
        yield


def test_the_sms_in_full_with_its_title_cut_to_fit_one_sms(firing, manager, frozen):
    manager.language = "en"
    sms = build_message(firing, manager, "sms").text
    link = f"https://breachdesk.example/ack/{ack_token(firing, manager)}/"
    head = f"Not assessed yet {firing.incident.reference}: "
    tail = f". Deadline 02/07 10:00 (in 23 hr.). OK: {link}"
    assert sms.startswith(head) and sms.endswith(tail)
    title = sms[len(head) : -len(tail)]
    # Cut to fill the SMS: all 160 characters, or 159 when the cut fell after a space.
    assert title.endswith("..") and SMS_LENGTH - 1 <= len(sms) <= SMS_LENGTH
    assert to_gsm7(firing.incident.title).startswith(title[:-2])


def test_a_short_title_is_not_cut_and_a_late_page_says_so(firing, manager):
    manager.language = "en"
    titled(firing, "Laptop stolen").late = True
    sms = build_message(firing, manager, "sms").text
    assert sms.startswith(f"Not assessed yet (late) {firing.incident.reference}: Laptop stolen. ")


def test_the_email_in_full(firing, manager, settings, frozen):
    settings.PUBLIC_BASE_URL = "https://breachdesk.example/"  # a trailing slash is not doubled
    manager.language = "en"
    message = build_message(firing, manager, "email")
    incident = firing.incident
    assert message.subject == f"[Breach desk] Not assessed yet {incident.reference}: " + (
        incident.title
    )
    assert message.text == "\n".join(
        [
            f"Not assessed yet: {incident.reference} {incident.title}",
            "",
            "State: Detected",
            "Aware since: 01/07/2026 10:00 CEST",
            "Deadline (GBA and controller): 02/07/2026 10:00 CEST (in 23 hours)",
            "",
            "Acknowledge (stops the repeats of this alert): "
            f"https://breachdesk.example/ack/{ack_token(firing, manager)}/",
            f"The incident: https://breachdesk.example/incidents/{incident.pk}/",
        ]
    )


def test_a_character_without_a_gsm7_look_alike_becomes_a_question_mark():
    assert to_gsm7("Ωx✓") == "Ωx?"


def test_a_long_title_cuts_the_email_subject_to_what_the_record_holds(firing, manager):
    """Message.subject holds 200 characters (PostgreSQL refuses more): the subject is cut."""
    longest = type(firing.incident)._meta.get_field("title").max_length
    titled(firing, ("Lek " * longest)[:longest])
    message = build_message(firing, manager, "email")
    assert len(message.subject) == Message._meta.get_field("subject").max_length == 200
    assert message.text.startswith(f"Not assessed yet: {firing.incident.reference} Lek Lek")


@pytest.mark.parametrize(
    ("fields", "english", "dutch"),
    [
        ({"overdue": True, "obligation": "notify_gba"}, "OVERDUE", "TE LAAT"),
        ({"obligation": "tell_controller"}, "Controller not notified yet", None),
        ({"obligation": "notify_gba"}, "GBA not notified yet", None),
        ({"obligation": "complete_gba"}, "GBA part 2 not filed yet", None),
        ({"obligation": "inform_subjects"}, "Data subjects not informed yet", None),
        ({"until_state": ""}, "New data breach", None),
        ({"until_state": "assessed"}, "Not assessed yet", None),
        ({"until_state": "gba_notified"}, "GBA not notified yet", None),
        ({"until_state": "controller_notified"}, "Controller not notified yet", None),
        ({"until_state": "closed"}, "Not closed yet", None),
    ],
)
def test_a_step_without_a_name_is_headed_by_what_it_waits_for(fields, english, dutch):
    """A policy's step may be left unnamed: its page then says what is still to be done."""
    from notifications.texts import headline

    step = EscalationStep(**{"until_state": "", "obligation": "", **fields})
    with translation.override("en"):
        assert headline(step) == english
    with translation.override("nl"):
        shown = headline(step)
    assert shown != english and shown.strip()
    if dutch:
        assert shown == dutch


def test_the_acknowledgement_link_format_is_pinned(settings):
    """Links already sent in SMS must keep working after an upgrade: the same firing, person,
    time and secret always give this token (a changed salt, hash or length would break them)."""
    from types import SimpleNamespace

    settings.SECRET_KEY = "known-answer-secret-key-for-the-ack-token-format-0123456789"
    issued = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    token = ack_token(SimpleNamespace(pk=7), SimpleNamespace(pk=3), now=issued)
    assert token == "7.3.1xW8rA.qKDgm5yNm6C3bPEM"
    assert read_ack_token(token, now=issued) == (7, 3)


def test_a_link_sent_before_the_secret_key_was_rotated_still_acknowledges(settings):
    """Rotating SECRET_KEY (the old one kept in SECRET_KEY_FALLBACKS, as Django advises) does
    not break the links already in people's SMS; without the old key they are refused."""
    from types import SimpleNamespace

    settings.SECRET_KEY = "the-old-secret-key-" + "o" * 40
    token = ack_token(SimpleNamespace(pk=7), SimpleNamespace(pk=3))
    settings.SECRET_KEY = "the-new-secret-key-" + "n" * 40
    with pytest.raises(signing.BadSignature):
        read_ack_token(token)
    settings.SECRET_KEY_FALLBACKS = ["the-old-secret-key-" + "o" * 40]
    assert read_ack_token(token) == (7, 3)


def test_a_page_about_an_obligation_names_it_and_its_own_deadline(incident_in, manager):
    """Part 2 of the GBA notification is owed (the end of the breach was unknown at the
    filing): its step's e-mail names that obligation and its deadline, not the 24 hours."""
    incident = incident_in("assessed")
    workflow.update_facts(incident.pk, manager, {"ended_at": None})
    workflow.transition(incident.pk, manager, "notify_gba", reference="DBN-2026-9")
    part2 = incident.obligations.get(kind="complete_gba")
    firing = Firing.objects.filter(incident=incident, step__obligation="complete_gba").first()
    text = build_message(firing, manager, "email").text
    deadline = timezone.localtime(part2.deadline_at)
    line = f"{part2.get_kind_display()} by: {deadline:%d/%m/%Y %H:%M %Z} (in 3 weeks)"
    assert line in text.splitlines()
    assert "Deadline (GBA and controller)" not in text


def test_a_title_is_cut_only_when_the_sms_would_not_fit_and_then_to_fill_it(
    firing, manager, frozen
):
    manager.language = "en"
    around = sms_with_title(firing, manager, "T").split("T", 1)
    head, tail = around[0], around[1]
    room = SMS_LENGTH - len(head) - len(tail)  # what the title may take in one SMS
    assert sms_with_title(firing, manager, "A" * room) == f"{head}{'A' * room}{tail}"
    assert len(f"{head}{'A' * room}{tail}") == SMS_LENGTH  # fits exactly: not cut
    cut = sms_with_title(firing, manager, "A" * (room + 1))
    assert cut == f"{head}{'A' * (room - 2)}..{tail}" and len(cut) == SMS_LENGTH
    # A cut that falls just after a space drops the space, not a letter.
    spaced = sms_with_title(firing, manager, "A" * (room - 3) + " " + "B" * 10)
    assert spaced == f"{head}{'A' * (room - 3)}..{tail}"


def test_a_title_keeps_twelve_characters_however_long_the_link(firing, manager, settings, frozen):
    manager.language = "en"
    settings.PUBLIC_BASE_URL = "https://" + "breachdesk." * 10 + "example"
    sms = sms_with_title(firing, manager, "Klantendatabank gelekt bij de bakker")
    assert f"{firing.incident.reference}: Klantendatab... Deadline" in sms


def test_an_ack_token_dated_in_the_future_is_refused(firing, manager):
    token = ack_token(firing, manager, now=datetime(2036, 1, 1, tzinfo=UTC))
    with pytest.raises(signing.BadSignature) as refused:
        read_ack_token(token)
    assert str(refused.value) == "acknowledgement link dated in the future"


def test_a_replayed_acknowledgement_adds_no_second_record(client, firing, manager):
    url = f"/ack/{ack_token(firing, manager)}/"
    client.post(url)
    client.post(url)
    assert firing.incident.acknowledgements.count() == 1


@pytest.mark.parametrize(
    ("after", "sms", "call"),
    [
        (
            "2026-07-02T07:59:20Z",
            "Deadline 02/07 10:00 (in 40 sec.).",
            "is 02/07 10:00, in 40 seconds.",
        ),
        ("2026-07-02T07:00:00Z", "Deadline 02/07 10:00 (in 1 hr.).", "is 02/07 10:00, in 1 hour."),
        ("2026-07-02T06:00:01Z", "Deadline 02/07 10:00 (in 1 hr.).", "is 02/07 10:00, in 1 hour."),
        ("2026-07-02T08:00:00Z", "Overdue since 02/07 10:00.", "was 02/07 10:00, just now."),
        ("2026-07-02T08:06:30Z", "Overdue since 02/07 10:00.", "was 02/07 10:00, 6 minutes ago."),
    ],
)
def test_a_page_says_what_is_true_when_it_is_written(firing, manager, after, sms, call):
    """Never rounded up: 1 h 59 min 59 s left is "in 1 hr."; at the deadline it is overdue."""
    manager.language = "en"
    with time_machine.travel(datetime.fromisoformat(after), tick=False):
        assert f" {sms} OK: " in build_message(firing, manager, "sms").text
        assert build_message(firing, manager, "call").text.endswith(f"The deadline {call}")
