"""The audit trail read as sentences, in the reader's language and Brussels time: the same text
on the incident page and in the incident report. The events themselves stay as they were
written (append-only JSON); this only says them.
"""

from datetime import datetime

from django.utils import timezone, translation
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from incident_manager import languages

from .models import Assessment, Incident, IncidentEvent, Obligation, State

Kind = IncidentEvent.Kind
ACTIONS = {
    "notify_gba": Obligation.Kind.NOTIFY_GBA,
    "complete_gba": Obligation.Kind.COMPLETE_GBA,
    "notify_controller": Obligation.Kind.TELL_CONTROLLER,
    "inform_subjects": Obligation.Kind.INFORM_SUBJECTS,
    "update_controller": Obligation.Kind.UPDATE_CONTROLLER,
    "gba_follow_up": Obligation.Kind.GBA_FOLLOW_UP,
    "gba_withdrawal": Obligation.Kind.GBA_WITHDRAWAL,
}


def when(value):
    """A stored time (ISO text in UTC or a datetime) in Brussels, with its zone."""
    if isinstance(value, str):
        value = parse_datetime(value)
    if not isinstance(value, datetime):
        return ""
    shown = timezone.localtime(value)
    return f"{shown:%d/%m/%Y %H:%M} {shown.tzname()}"


def field_label(name):
    for model in (Incident, Assessment):
        try:
            return str(model._meta.get_field(name).verbose_name)
        except Exception:  # noqa: BLE001, S112 - not a field of this model
            continue
    return name.replace("_", " ")


def state(value):
    return str(State(value).label) if value in State.values else value


def value_text(name, value):
    if value in (None, "", []):
        return _("nothing")
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, list):
        return "; ".join(str(item) for item in value)
    if isinstance(value, int):
        from .documents.base import number

        return number(value)  # 1.500 in Dutch, 1 500 in French
    if isinstance(value, str) and parse_datetime(value) is not None and "T" in value:
        return when(value)
    try:
        choices = dict(Assessment._meta.get_field(name).flatchoices)
    except Exception:  # noqa: BLE001 - not an assessment field
        choices = {}
    return str(choices.get(value, value))  # "High risk …", not "high"


def sentence(event):
    """One event as a sentence, in the active language (one function per kind of event)."""
    after = event.after if isinstance(event.after, dict) else {}
    before = event.before if isinstance(event.before, dict) else {}
    said = SENTENCES.get(event.kind)
    return said(event, before, after) if said else event.get_kind_display()


def created(event, before, after):
    return _("Logged, aware since %(aware)s.") % {"aware": when(after.get("aware_at"))}


def transition(event, before, after):
    text = _("State: %(before)s → %(after)s.") % {
        "before": state(event.from_state) or "—",
        "after": state(event.to_state),
    }
    if after.get("reason"):
        text += " " + _("Reason: %(reason)s") % {"reason": after["reason"]}
    return text


def merged(event, before, after):
    return _("%(duplicate)s was merged into this incident as its duplicate.") % {
        "duplicate": after.get("duplicate", "?")
    }


def aware_at_corrected(event, before, after):
    return _(
        "Awareness time corrected from %(before)s to %(after)s; deadline now %(deadline)s."
    ) % {
        "before": when(before.get("aware_at")),
        "after": when(after.get("aware_at")),
        "deadline": when(after.get("deadline_at")),
    }


def changed(event, before, after):
    """A field changed; translations and a controller's own facts are said their own way."""
    if event.field == "translations.stale":
        return _(
            "Translations out of date since their original changed, to be given again: %(texts)s."
        ) % {
            "texts": "; ".join(
                f"{language}: {', '.join(sorted(field_label(name) for name in texts))}"
                for language, texts in sorted(before.items())
            )
        }
    if event.field.startswith("translations."):
        language = event.field.partition(".")[2]
        return _("Texts given in %(language)s: %(fields)s.") % {
            "language": languages.names().get(language, language),
            "fields": ", ".join(sorted(field_label(name) for name in after)) or _("none"),
        }
    if event.field == "affected_controller":
        changes = [
            _("%(field)s “%(before)s” → “%(after)s”")
            % {
                "field": field_label(name),
                "before": value_text(name, before.get(name)),
                "after": value_text(name, value),
            }
            for name, value in sorted(after.items())
            if name not in {"controller", "controller_id"}
        ]
        return _("Facts of %(controller)s: %(changes)s.") % {
            "controller": after.get("controller", "?"),
            "changes": "; ".join(changes),
        }
    return _("%(field)s changed from “%(before)s” to “%(after)s”.") % {
        "field": field_label(event.field).capitalize(),
        "before": value_text(event.field, event.before),
        "after": value_text(event.field, event.after),
    }


def assessed(event, before, after):
    fields = ", ".join(sorted(field_label(name) for name in after))
    return _("Assessment saved: %(fields)s.") % {"fields": fields}


def with_delay_reason(text, after):
    if after.get("delay_reason"):
        text += " " + _("Reason for the delay: %(reason)s") % {"reason": after["delay_reason"]}
    return text


def recorded(event, before, after):
    kind = Obligation.Kind(ACTIONS.get(event.field, event.field)).label
    text = _("Recorded: %(what)s, for %(controllers)s") % {
        "what": kind,
        "controllers": "; ".join(after.get("controllers", [])) or "—",
    }
    details = [
        after.get("reference", ""),
        when(after.get("at")) if after.get("at") else "",
        after.get("how", ""),
    ]
    text += "".join(f" — {d}" for d in details if d) + "."
    return with_delay_reason(text, after)


def obligations_changed(event, before, after):
    parts = []
    for group in ("created", "changed"):
        for key, names in sorted((after.get(group) or {}).items()):
            kind, _colon, status = key.partition(":")
            parts.append(
                ngettext(
                    "%(what)s — %(status)s: %(count)s controller (%(names)s)",
                    "%(what)s — %(status)s: %(count)s controllers (%(names)s)",
                    len(names),
                )
                % {
                    "what": Obligation.Kind(kind).label,
                    "status": Obligation.Status(status).label,
                    "count": len(names),
                    "names": shorten(names),
                }
            )
    return _("Obligations: %(list)s.") % {"list": "; ".join(parts)}


def acknowledged(event, before, after):
    name = (after.get("names") or {}).get(translation.get_language() or "en")
    text = _("Alert acknowledged: %(step)s.") % {"step": name} if name else _("Alert acknowledged.")
    return text + (f" {event.note}" if event.note else "")


def downloaded(event, before, after):
    return _("Downloaded: %(document)s (%(language)s, version %(version)s).") % {
        "document": document_name(after.get("document", "")),
        "language": after.get("language", ""),
        "version": after.get("version", ""),
    }


def notice_sent(event, before, after):
    sent = after.get("controllers", {})
    text = ngettext(
        "Notice sent to %(count)s controller: %(names)s.",
        "Notices sent to %(count)s controllers: %(names)s.",
        len(sent),
    ) % {
        "count": len(sent),
        "names": shorten([f"{name} ({details.get('to', '')})" for name, details in sent.items()]),
    }
    return with_delay_reason(text, after)


SENTENCES = {
    Kind.CREATED: created,
    Kind.TRANSITION: transition,
    Kind.MERGED: merged,
    Kind.AWARE_AT_CORRECTED: aware_at_corrected,
    Kind.CHANGED: changed,
    Kind.ASSESSED: assessed,
    Kind.RECORDED: recorded,
    Kind.OBLIGATIONS: obligations_changed,
    Kind.ACKNOWLEDGED: acknowledged,
    Kind.DOCUMENT_DOWNLOADED: downloaded,
    Kind.NOTICE_SENT: notice_sent,
}


def shorten(names, limit=5):
    if len(names) <= limit:
        return ", ".join(names)
    return ", ".join(names[:limit]) + " " + _("and %(count)s more") % {"count": len(names) - limit}


def document_name(kind):
    from .models import Document

    return str(Document.Kind(kind).label) if kind in Document.Kind.values else kind
