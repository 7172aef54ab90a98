"""{% alerts_at_a_glance incident as alerts %}: the incident page's answer at a glance. Here, in
notifications, because incidents never imports notifications (the page includes this app's
template, which loads this tag)."""

from django import template

from ..escalation import recipients

register = template.Library()


@register.simple_tag
def alerts_at_a_glance(incident):
    """Who was paged when and how, who acknowledged each step when and how, what comes next
    (when, to whom)."""
    acknowledged = {}
    for acknowledgement in incident.acknowledgements.select_related("user", "step").order_by("at"):
        acknowledged.setdefault(acknowledgement.step_id, []).append(acknowledgement)
    messages_sent = list(
        incident.messages.filter(controller=None)
        .select_related("recipient", "firing__step")
        .order_by("recipient__username", "created_at", "id")
    )
    for message in messages_sent:
        message.acknowledged = (
            acknowledged.get(message.firing.step_id, []) if message.firing else []
        )
    upcoming = None
    if incident.is_open:
        upcoming = (
            incident.firings.filter(fired_at=None).select_related("step").order_by("due_at").first()
        )
    return {
        "messages_sent": messages_sent,
        "acknowledgements": [ack for acks in acknowledged.values() for ack in acks],
        "next_alert": upcoming,
        "next_alert_to": recipients(upcoming.step, upcoming.phase, upcoming.due_at)
        if upcoming
        else [],
    }
