"""{{ step|step_name }}: an escalation step's name in the reader's language."""

from django import template
from django.utils import translation

register = template.Library()


@register.filter
def step_name(step):
    return step.name_in(translation.get_language()) or f"#{step.position}"
