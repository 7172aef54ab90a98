"""What a page says, in the recipient's language.

SMS texts stay in the GSM-7 alphabet (one character that is not, like ë or €, would switch the
whole SMS to UCS-2 and cut it to 70 characters), and fit one SMS where they can: the title is
shortened, never the reference, the deadline or the acknowledgement link.
"""

import base64
import unicodedata

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _

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


def _mac(payload):
    # 96 bits of HMAC-SHA256: short enough for one SMS, far beyond guessing.
    digest = salted_hmac(ACK_SALT, payload, algorithm="sha256").digest()[:12]
    return base64.urlsafe_b64encode(digest).decode()


def ack_token(firing, user, now=None):
    """'firing.user.time.mac': a signed, expiring, 30-character token for the link."""
    issued = int((now or timezone.now()).timestamp())
    payload = f"{firing.pk}.{user.pk}.{signing.b62_encode(issued)}"
    return f"{payload}.{_mac(payload)}"


def read_ack_token(token, now=None):
    """(firing id, user id); raises signing.BadSignature, or SignatureExpired when too old."""
    payload, _dot, mac = token.rpartition(".")
    if not payload or not constant_time_compare(mac, _mac(payload)):
        raise signing.BadSignature("acknowledgement link not signed by us")
    firing_id, user_id, issued = payload.split(".")
    age = (now or timezone.now()).timestamp() - signing.b62_decode(issued)
    if age > settings.ACK_LINK_MAX_AGE.total_seconds():
        raise signing.SignatureExpired("acknowledgement link expired")
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


def deadline_of(firing):
    """The deadline the page is about: its obligation's, else Conitro's 24 hours."""
    return firing.step.deadline_for(firing.incident) or firing.incident.deadline_at


def deadline_text(firing, date_format="%d/%m %H:%M"):
    return timezone.localtime(deadline_of(firing)).strftime(date_format)


def headlines(firing, also=()):
    """What the page is about: its step's name, and those of the steps due with it."""
    names = []
    for step in [firing.step, *(other.step for other in also)]:
        if headline(step) not in names:
            names.append(headline(step))
    return names


def deadline_line(firing):
    time = deadline_text(firing, "%d/%m/%Y %H:%M")
    if firing.step.obligation:
        return _("%(obligation)s by: %(time)s") % {
            "obligation": firing.step.get_obligation_display(),
            "time": time,
        }
    return _("Deadline (GBA and controller): %(time)s") % {"time": time}


def sms_text(firing, user, also=()):
    with translation.override(user.language):
        heads = " + ".join(headlines(firing, also))
        head = to_gsm7(
            f"{heads} {firing.incident.reference}: "
            if not firing.late
            else f"{heads} ({_('late')}) {firing.incident.reference}: "
        )
        tail = to_gsm7(
            ". "
            + _("Deadline %(deadline)s. OK: %(link)s")
            % {"deadline": deadline_text(firing), "link": ack_link(firing, user)}
        )
        title = to_gsm7(firing.incident.title)
        room = SMS_LENGTH - len(head) - len(tail)
        if len(title) > room:
            title = title[: max(room - 2, 12)].rstrip() + ".."
        return head + title + tail


def email_subject_and_body(firing, user, also=()):
    incident = firing.incident
    with translation.override(user.language):
        heads = " + ".join(headlines(firing, also))
        subject = f"[{_('Breach desk')}] {heads} {incident.reference}: {incident.title}"
        deadlines = []
        for each in [firing, *also]:
            if deadline_line(each) not in deadlines:
                deadlines.append(deadline_line(each))
        lines = [
            f"{heads}: {incident.reference} {incident.title}",
            "",
            _("State: %(state)s") % {"state": incident.get_state_display()},
            _("Aware since: %(time)s")
            % {"time": timezone.localtime(incident.aware_at).strftime("%d/%m/%Y %H:%M")},
            *deadlines,
            "",
            _("Acknowledge (stops the repeats of this alert): %(link)s")
            % {"link": ack_link(firing, user)},
            _("The incident: %(link)s") % {"link": incident_link(incident)},
        ]
        return subject[:200], "\n".join(lines)


def call_script(firing, user, also=()):
    incident = firing.incident
    with translation.override(user.language):
        return _(
            "Breach desk of Conitro. %(headline)s. Incident %(reference)s: %(title)s. "
            "The deadline is %(deadline)s."
        ) % {
            "headline": ". ".join(headlines(firing, also)),
            "reference": " ".join(incident.reference.replace("INC-", "")),
            "title": incident.title,
            "deadline": deadline_text(firing),
        }


def voice_script(message, language):
    with translation.override(language):
        return message.text, _("Press 1 to acknowledge.")
