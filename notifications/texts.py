"""What a page says, in the recipient's language.

SMS texts stay in the GSM-7 alphabet (one character that is not, like ë or €, would switch the
whole SMS to UCS-2 and cut it to 70 characters), and fit one SMS where they can: the title is
shortened, never the reference, the deadline or the acknowledgement link.
"""

import unicodedata
from datetime import timedelta

from babel.dates import format_timedelta
from django.conf import settings
from django.core import signing
from django.db.models import Min
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from incidents.documents.base import brussels_time
from incidents.models import Obligation

from .models import Channel

GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
REPLACEMENTS = {
    "€": "EUR",
    "«": '"',
    "»": '"',
    "“": '"',
    "”": '"',
    "‘": "'",
    "’": "'",
    "–": "-",
    "—": "-",
    "…": "...",
    "ĳ": "ij",
    "Ĳ": "IJ",
}
SMS_LENGTH = 160
EMAIL_MAX_ITEMS = 50  # incidents described in one e-mail; the rest behind its link
ACK_SALT = "notifications.acknowledge"


def to_gsm7(text):
    """Replace every character outside GSM-7's basic set by its closest one."""
    result = []
    for char in text:
        if char in GSM7_BASIC:
            result.append(char)
        elif char in REPLACEMENTS:
            result.append(REPLACEMENTS[char])
        else:
            base = unicodedata.normalize("NFKD", char)[0]
            result.append(base if base in GSM7_BASIC else "?")
    return "".join(result)


def is_gsm7(text):
    return all(char in GSM7_BASIC for char in text)


class AckSigner(signing.TimestampSigner):
    """The acknowledgement link's token, 'firing.user.time.signature': Django's timestamped
    signer (SECRET_KEY_FALLBACKS included) with its HMAC-SHA256 cut to 96 bits, 16
    characters, so the link fits an SMS and is still far beyond guessing. `now`: the moment
    it is issued or read."""

    SIGNATURE_LENGTH = 16

    def __init__(self, now=None):
        super().__init__(salt=ACK_SALT, sep=".", algorithm="sha256")
        self.now = now or timezone.now()

    def signature(self, value, key=None):
        # Keyed with ACK_SALT alone (Django's own adds "signer"): the links sent before this
        # class kept working through the upgrade (tests/test_texts.py pins the format).
        signature = signing.base64_hmac(self.salt, value, key or self.key, algorithm="sha256")
        return signature[: self.SIGNATURE_LENGTH]

    def timestamp(self):
        return signing.b62_encode(int(self.now.timestamp()))

    def unsign(self, value, max_age=None):
        """The value; BadSignature when not ours or dated in the future, SignatureExpired
        past max_age."""
        value, issued = signing.Signer.unsign(self, value).rsplit(self.sep, 1)
        age = self.now.timestamp() - signing.b62_decode(issued)
        if max_age is not None and age > max_age.total_seconds():
            raise signing.SignatureExpired("acknowledgement link expired")
        if age < -settings.CLOCK_SKEW_TOLERANCE.total_seconds():
            raise signing.BadSignature("acknowledgement link dated in the future")
        return value


def ack_token(firing, user, now=None):
    """'firing.user.time.signature': a signed, expiring, 30-character token for the link."""
    return AckSigner(now).sign(f"{firing.pk}.{user.pk}")


def read_ack_token(token, now=None):
    """(firing id, user id); raises signing.BadSignature, or SignatureExpired when too old."""
    value = AckSigner(now).unsign(token, max_age=settings.ACK_LINK_MAX_AGE)
    firing_id, user_id = value.split(".")
    return int(firing_id), int(user_id)


def ack_link(firing, user):
    path = reverse("notifications:acknowledge", args=[ack_token(firing, user)])
    return settings.PUBLIC_BASE_URL.rstrip("/") + path


def incident_link(incident):
    path = reverse("incidents:detail", args=[incident.pk])
    return settings.PUBLIC_BASE_URL.rstrip("/") + path


def headline(step):
    """The step's name in the current language; for a step without one, what it is about."""
    name = step.name_in(translation.get_language())
    if name:
        return name
    if step.overdue:
        return _("OVERDUE")
    if step.obligation:
        return {
            "tell_controller": _("Controller not notified yet"),
            "notify_gba": _("GBA not notified yet"),
            "complete_gba": _("GBA part 2 not filed yet"),
            "inform_subjects": _("Data subjects not informed yet"),
        }[step.obligation]
    return {
        "": _("New data breach"),
        "assessed": _("Not assessed yet"),
        "gba_notified": _("GBA not notified yet"),
        "controller_notified": _("Controller not notified yet"),
        "closed": _("Not closed yet"),
    }[step.until_state]


def deadlines(firings):
    """firing id -> the deadline each page is about: its obligation's earliest open one, else
    Conitro's 24 hours (EscalationStep.deadline_for, for many
    firings in one query: a storm's page lists hundreds)."""
    kinds = {firing.step.obligation for firing in firings if firing.step.obligation}
    earliest = {}
    if kinds:
        open_ = Obligation.objects.filter(
            incident__in={firing.incident_id for firing in firings},
            kind__in=kinds,
            status=Obligation.Status.OPEN,
        )
        earliest = {
            (row["incident_id"], row["kind"]): row["first"]
            for row in open_.values("incident_id", "kind").annotate(first=Min("deadline_at"))
        }
    return {
        firing.pk: (
            earliest.get((firing.incident_id, firing.step.obligation))
            if firing.step.obligation
            else None
        )
        or firing.incident.deadline_at
        for firing in firings
    }


def short(moment):
    """26/11 10:00: a deadline in an SMS or a call, Brussels time."""
    return timezone.localtime(moment).strftime("%d/%m %H:%M")


def how_long(delta, spoken=False):
    """'in 40 sec.' / '12 minutes ago' in the current language (CLDR, through Babel), cut
    down to its unit, never rounded up: 3 h 59 min left is 'in 3 hr.', not 'in 4 hr.'."""
    seconds = abs(int(delta.total_seconds()))
    if not seconds:
        return _("just now")
    unit = 3600 if seconds >= 3600 else 60 if seconds >= 60 else 1
    cut = timedelta(seconds=seconds - seconds % unit)
    return format_timedelta(
        cut if delta.total_seconds() >= 0 else -cut,
        threshold=1.0,
        add_direction=True,
        format="long" if spoken else "short",
        locale=translation.get_language() or "en",
    )


def page_items(firing, also=()):
    """What a page is about, per incident, the most urgent first: the names of its steps due
    now, its deadlines and its links. A page lists one incident, or a few due for the same
    person within a minute (escalation.build_messages)."""
    items = {}
    # In urgency order whatever order `also` comes in (a fallback reads it from the database):
    # the same steps read the same in every incident of a digest.
    listed = [firing, *sorted(also, key=lambda other: other.urgency())]
    due_at = deadlines(listed)
    for each in listed:
        item = items.setdefault(
            each.incident_id,
            {
                "incident": each.incident,
                "firing": each,
                "due": due_at[each.pk],
                "names": [],
                "deadline_lines": [],
            },
        )
        line = deadline_line(each, due_at[each.pk])
        for key, value in (("names", headline(each.step)), ("deadline_lines", line)):
            if value not in item[key]:
                item[key].append(value)
    now = timezone.now()
    for item in items.values():
        first, incident, due = item["firing"], item["incident"], item["due"]
        item.update(
            # What is true when the text is written (and written again before a held page
            # or a retry goes out): "in 40 sec." before the deadline, "overdue since" after.
            overdue=due <= now,
            left=how_long(due - now),
            left_spoken=how_long(due - now, spoken=True),
            headline=" + ".join(item["names"]),
            spoken_headline=". ".join(item["names"]),
            spoken_reference=" ".join(incident.reference.replace("INC-", "")),
            late=first.late,
            deadline=short(due),
            aware_since=brussels_time(incident.aware_at),
            link=incident_link(incident),
        )
    return list(items.values())


def deadline_line(firing, due):
    time = f"{brussels_time(due)} ({how_long(due - timezone.now(), spoken=True)})"
    if firing.step.obligation:
        return _("%(obligation)s by: %(time)s") % {
            "obligation": firing.step.get_obligation_display(),
            "time": time,
        }
    return _("Deadline (GBA and controller): %(time)s") % {"time": time}


def by_headline(items):
    """A digest SMS names each kind of page once, with its incidents' references and the
    earliest of their deadlines: five references fit where five titles would not."""
    groups = {}
    for item in items:
        group = groups.setdefault(
            (item["headline"], item["late"]),
            {"headline": item["headline"], "late": item["late"], "references": [], "due": []},
        )
        group["references"].append(item["incident"].reference)
        group["due"].append(item["due"])
    now = timezone.now()
    for group in groups.values():
        group["deadline"] = short(min(group["due"]))
        group["overdue"] = min(group["due"]) <= now
        # "first deadline" only when the SMS would show different ones (to the minute)
        group["one_deadline"] = len({short(due) for due in group["due"]}) == 1
    return list(groups.values())


def rendered_on_one_line(template, context):
    return " ".join(render_to_string(f"notifications/page/{template}", context).split())


def sms_text(firing, user, also=(), link=None):
    """One SMS where it fits: the title is cut (never the reference, the deadline or the
    link); a page about several incidents lists their references without titles, the first
    PAGE_DIGEST_MAX_INCIDENTS of them, and "+N more" behind the link."""
    with translation.override(user.language):
        items, more = named(page_items(firing, also))
        context = {
            "items": items,
            "more": more,
            "groups": by_headline(items),
            "link": ack_link(link or firing, user),
        }
        title = " ".join(to_gsm7(firing.incident.title).split())
        text = to_gsm7(rendered_on_one_line("sms.txt", {**context, "title": title}))
        if len(text) > SMS_LENGTH and len(context["items"]) == 1:
            room = len(title) - (len(text) - SMS_LENGTH)
            title = title[: max(room - 2, 12)].rstrip() + ".."
            text = to_gsm7(rendered_on_one_line("sms.txt", {**context, "title": title}))
        return text


def email_subject_and_body(firing, user, also=(), link=None):
    with translation.override(user.language):
        items, more = named(page_items(firing, also), EMAIL_MAX_ITEMS)
        context = {"items": items, "more": more, "link": ack_link(link or firing, user)}
        subject = rendered_on_one_line("email_subject.txt", context)
        body = render_to_string("notifications/page/email.txt", context)
        return subject[:200], body.strip()


def call_script(firing, user, also=()):
    with translation.override(user.language):
        items, more = named(page_items(firing, also))
        return rendered_on_one_line("call.txt", {"items": items, "more": more})


def named(items, limit=None):
    """The items a page names (the most urgent first) and how many more it stands for."""
    limit = limit or settings.PAGE_DIGEST_MAX_INCIDENTS
    return items[:limit], max(len(items) - limit, 0)


def written_again(message):
    """A page's subject and text as they are true now (a retry goes out minutes later: "in 40
    sec." would be a lie by then): its firing, then what it lists, the link unchanged."""
    also = list(message.also_for.select_related("step", "incident"))
    user, firing = message.recipient, message.firing
    if message.channel == Channel.SMS:
        return "", sms_text(firing, user, also)
    if message.channel == Channel.CALL:
        return "", call_script(firing, user, also)
    return email_subject_and_body(firing, user, also)


def voice_script(message, language):
    with translation.override(language):
        if message.kind == message.Kind.TEST:
            return message.text, _("Press 1 to confirm that you heard this call.")
        return message.text, _("Press 1 to acknowledge.")
