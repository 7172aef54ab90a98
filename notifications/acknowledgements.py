"""Someone says "I'm on it": by the link in the SMS or e-mail, an SMS reply or a key press.

Acknowledging a step stops its repeats (and its follow-up call) for everyone; it does not stop
the clock: the next step still comes if the incident has not moved on.
"""

import re

from django.db import transaction
from django.db.models.functions import Coalesce

from incident_manager import languages
from incidents.models import Incident, IncidentEvent

from .models import Acknowledgement, Channel, Firing, Message

ACK_REPLY = re.compile(r"^\s*ACK(?:\s+(INC-\d{4}-\d{4,}))?\s*[.!]*\s*$", re.IGNORECASE)


def acknowledge(incident, step, user, via):
    """Record it once per person and step (a replayed link, a second tap or a repeated reply
    finds the first), and put it in the timeline.

    None when the incident is closed or dismissed: nothing is left to acknowledge, and the
    timeline of a finished incident gets no new "I'm on it".
    """
    with transaction.atomic():
        incident = Incident.objects.select_for_update().get(pk=incident.pk)
        if not incident.is_open:
            return None
        earlier = Acknowledgement.objects.filter(incident=incident, step=step, user=user).first()
        if earlier is not None:
            return earlier
        acknowledgement = Acknowledgement.objects.create(
            incident=incident, step=step, user=user, via=via
        )
        IncidentEvent.objects.create(
            incident=incident,
            actor=user,
            kind=IncidentEvent.Kind.ACKNOWLEDGED,
            after={
                "step": step.position,
                "via": via,
                "names": {language: step.name_in(language) for language in languages.CODES},
            },
            note=str(Acknowledgement.Via(via).label),
        )
    return acknowledgement


def parse_reply(body):
    """'ACK' -> (True, None); 'ack INC-2026-0042' -> (True, 'INC-2026-0042'); else (False, None)."""
    match = ACK_REPLY.match(body or "")
    if not match:
        return False, None
    return True, match.group(1).upper() if match.group(1) else None


def acknowledge_reply(phone, body):
    """An SMS reply: 'ACK' acknowledges the person's latest page (every incident it lists),
    'ACK INC-2026-0042' that incident's part of their latest page about it. Returns the
    acknowledgements made, [] when it cannot be matched or nothing is open."""
    is_ack, reference = parse_reply(body)
    if not is_ack:
        return []
    messages = (
        Message.objects.filter(
            channel=Channel.SMS, to=phone, firing__isnull=False, recipient__isnull=False
        )
        .exclude(status__in=Message.NOT_PAGES)  # held back: the person never saw it
        .select_related("firing__step", "incident", "recipient")
    )
    incident = None
    if reference:
        incident = Incident.objects.filter(reference=reference).first()
        if incident is None:
            return []
        messages = messages.about(incident)
    message = messages.order_by(Coalesce("released_at", "created_at").desc(), "-id").first()
    if message is None:
        return []
    return acknowledge_page(message.firing, message.recipient, Acknowledgement.Via.SMS, incident)


def page_firings(firing, user):
    """What one page to this person stood for: its firing, then the firings listed with it
    (due with it, of the same incident or, in a digest, of others)."""
    merged = Firing.objects.filter(merged_into__firing=firing, merged_into__recipient=user)
    merged = merged.select_related("step", "incident")
    return [firing, *merged.order_by("-step__position", "due_at", "pk")]  # Firing.urgency


def acknowledge_page(firing, user, via, incident=None):
    """Acknowledge what one page stood for: each step of each incident it lists (or of
    `incident` only). Returns the acknowledgements made; [] when every incident is closed."""
    pairs = []
    for each in page_firings(firing, user):
        pair = (each.incident, each.step)
        if (incident is None or each.incident_id == incident.pk) and pair not in pairs:
            pairs.append(pair)
    made = [acknowledge(each_incident, step, user, via) for each_incident, step in pairs]
    return [acknowledgement for acknowledgement in made if acknowledgement is not None]
