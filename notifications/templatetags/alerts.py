"""{% alerts_at_a_glance incident as alerts %}: the incident page's answer at a glance. Here, in
notifications, because incidents never imports notifications (the page includes this app's
template, which loads this tag)."""

from django import template
from django.db.models import F

from ..escalation import next_pages, recipients
from ..models import Message

register = template.Library()


@register.simple_tag
def alerts_at_a_glance(incident):
    """Who was paged when and how, who acknowledged each step when and how, what comes next
    (when, to whom)."""
    acknowledged = {}
    for acknowledgement in incident.acknowledgements.select_related("user", "step").order_by("at"):
        acknowledged.setdefault(acknowledgement.step_id, []).append(acknowledgement)
    messages_sent = list(
        Message.objects.about(incident)
        .filter(controller=None)
        .distinct()
        .select_related("recipient", "firing__step", "firing__incident", "gathered_into")
        .prefetch_related("also_for__step", "also_for__incident")
        .order_by("recipient__username", "created_at", "id")
    )
    for message in messages_sent:
        listed = [message.firing, *message.also_for.all()] if message.firing else []
        # The firing that stands for this incident in the page, and the other incidents.
        message.here = next((f for f in listed if f.incident_id == incident.pk), None)
        others = sorted({f.incident.reference for f in listed if f.incident_id != incident.pk})
        # A storm's page lists hundreds: the first five, and how many more.
        message.with_others, message.others_more = others[:5], max(len(others) - 5, 0)
        message.acknowledged = acknowledged.get(message.here.step_id, []) if message.here else []
    upcoming = next_pages([incident.pk]).get(incident.pk)
    return {
        "messages_sent": messages_sent,
        "acknowledgements": [ack for acks in acknowledged.values() for ack in acks],
        "next_alert": upcoming,
        "next_alert_to": recipients(upcoming.step, upcoming.phase, upcoming.due_at)
        if upcoming
        else [],
    }


@register.simple_tag
def next_alerts(incidents):
    """{% next_alerts page.object_list %}: sets `next_alert_at` on each incident listed, from
    the pages that will really go out (a few queries for the whole page of the dashboard)."""
    ids = [incident.pk for incident in incidents]
    upcoming = next_pages(ids)
    digests = paged_in_digests(ids)
    for incident in incidents:
        firing = upcoming.get(incident.pk)
        incident.next_alert_at = firing.due_at if firing else None
        incident.in_digest = incident.pk in digests
    return ""


def paged_in_digests(incident_ids):
    """Those of these incidents named in a page (that went out) about several incidents: two
    queries for the dashboard's page."""
    went_out = Message.objects.exclude(status__in=Message.NOT_PAGES).exclude(firing=None)
    links = Message.also_for.through.objects.filter(message__in=went_out).exclude(
        firing__incident=F("message__firing__incident")
    )
    listed = set(
        links.filter(firing__incident__in=incident_ids).values_list("firing__incident", flat=True)
    )
    heads = set(
        links.filter(message__firing__incident__in=incident_ids).values_list(
            "message__firing__incident", flat=True
        )
    )
    return listed | heads
