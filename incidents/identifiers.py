"""Belgian enterprise numbers (KBO/BCE) and phone numbers: normalise, then check.

Plain functions on strings, so the rules are tested without a database. Each raises
django's ValidationError with a message a person can act on.
"""

import re

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

_SEPARATORS = re.compile(r"[\s.\-/()]")


def normalize_enterprise_number(value):
    """'BE 0694.679.950', '0694 679 950' and the old nine-digit '694679950' -> '0694679950'."""
    digits = _SEPARATORS.sub("", str(value or "")).upper().removeprefix("BE")
    if len(digits) == 9 and digits.isascii() and digits.isdigit():
        digits = "0" + digits
    return digits


def validate_enterprise_number(value):
    digits = normalize_enterprise_number(value)
    if len(digits) != 10 or not (digits.isascii() and digits.isdigit()):
        raise ValidationError(
            _("An enterprise number has 10 digits, like 0694.679.950 (you entered %(value)s).")
            % {"value": value},
            code="enterprise_number_format",
        )
    if digits[0] not in "01":
        raise ValidationError(
            _("An enterprise number starts with 0 or 1 (you entered %(value)s).")
            % {"value": value},
            code="enterprise_number_format",
        )
    if int(digits[8:]) != 97 - int(digits[:8]) % 97:
        raise ValidationError(
            _(
                "%(value)s is not a valid enterprise number: its check digits do not match. "
                "Check it in the KBO/BCE public search."
            )
            % {"value": value},
            code="enterprise_number_checksum",
        )


def format_enterprise_number(digits):
    """'0694679950' -> '0694.679.950', as the KBO shows it."""
    if len(digits) != 10:
        return digits
    return f"{digits[:4]}.{digits[4:7]}.{digits[7:]}"


def normalize_phone(value, default_region="BE"):
    """'0471 23 45 67' -> '+32471234567'; '0032 471…' and '+32 471…' -> '+32471…'.

    A number without an international prefix is Belgian by default. Parsing is Google's
    libphonenumber (the `phonenumbers` package); what it cannot parse is returned as typed,
    for validate_phone to refuse with a message.
    """
    typed = str(value or "").strip()
    if not typed.isascii():
        return typed
    try:
        number = phonenumbers.parse(typed, default_region)
    except phonenumbers.NumberParseException:
        return typed
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def validate_phone(value):
    """A number that exists in its country's numbering plan, typed in ASCII digits (lookalike
    digits from other scripts would pass a plain \\d or isdigit() check)."""
    typed = str(value or "").strip()
    valid = False
    if typed.isascii():
        try:
            valid = phonenumbers.is_valid_number(phonenumbers.parse(typed, "BE"))
        except phonenumbers.NumberParseException:
            valid = False
    if not valid:
        raise ValidationError(
            _(
                "%(value)s is not a phone number we can call: use the international form, "
                "like +32471234567, or a Belgian number like 0471 23 45 67."
            )
            % {"value": value},
            code="phone_format",
        )


def format_phone(e164):
    """'+3292345678' -> '+32 9 234 56 78', as people read it; what is not a number as given."""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
