"""The countdown to a deadline, rendered by the server and then kept current by countdown.js."""

from django import template
from django.utils.html import format_html
from django.utils.translation import gettext as _

from incidents.deadlines import format_duration, time_left, urgency

register = template.Library()


@register.simple_tag
def countdown(incident, now):
    """The countdown to the earliest open obligation; once nothing is open, whether everything
    was done in time (from the obligations themselves, not from the state)."""
    deadline, met, late = incident.clock()
    if deadline is not None:
        return deadline_clock(deadline, now)
    if not met:
        return ""
    if late:
        return format_html(
            '<span class="clock late">{}</span>',
            _("done, met %(duration)s late") % {"duration": format_duration(late)},
        )
    return format_html('<span class="clock met">{}</span>', _("done in time"))


@register.simple_tag
def deadline_clock(deadline, now):
    """The countdown to one deadline (an open obligation's)."""
    remaining = time_left(deadline, now)
    level = urgency(remaining)
    text = format_duration(remaining)
    if level == "overdue":
        text = _("OVERDUE by %(duration)s") % {"duration": format_duration(-remaining)}
    return format_html(
        '<span class="clock {}" data-deadline="{}" data-overdue-label="{}">{}</span>',
        level,
        deadline.isoformat(),
        _("OVERDUE by"),
        text,
    )


@register.filter
def sentence(event):
    """An audit event as a sentence in the reader's language (incidents/timeline.py).

    Events are append-only, so a sentence never changes: it is cached per event and language,
    and the page loads the events without their JSON (a platform breach's event lists 5,000
    controllers); only a sentence not cached yet reads it."""
    from django.core.cache import cache
    from django.utils import translation

    from incidents.timeline import sentence as say

    key = f"timeline:{event.pk}:{translation.get_language()}"
    said = cache.get(key)
    if said is None:
        said = say(event)
        cache.set(key, said, timeout=None)
    return said
