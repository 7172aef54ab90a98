"""The profile's "can we reach you" section: the number in use, a new one waiting for its
code, test pages to oneself and what became of them (notifications/reach.py)."""

from django import template
from django.utils.translation import gettext as _

from ..models import Channel
from ..reach import NewPhoneForm, recent_tests

register = template.Library()


@register.inclusion_tag("notifications/reach.html", takes_context=True)
def reach_section(context):
    person = context["request"].user
    return {
        "person": person,
        "tests": recent_tests(person),
        "form": NewPhoneForm(),
        "csrf_token": context.get("csrf_token"),
        "channels": [
            (Channel.SMS, _("Send me a test SMS")),
            (Channel.CALL, _("Call me")),
            (Channel.EMAIL, _("Send me a test e-mail")),
        ],
    }
