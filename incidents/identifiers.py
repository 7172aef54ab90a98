"""Belgian enterprise numbers (KBO/BCE) and phone numbers: normalise, then check.

Plain functions on strings, so the rules are tested without a database. Each raises
django's ValidationError with a message a person can act on.
"""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

_SEPARATORS = re.compile(r"[\s.\-/()]")
E164 = re.compile(r"^\+[1-9]\d{7,14}$")


def normalize_enterprise_number(value):
    """'BE 0694.679.950', '0694 679 950' and the old nine-digit '694679950' -> '0694679950'."""
    digits = _SEPARATORS.sub("", str(value or "")).upper().removeprefix("BE")
    if len(digits) == 9 and digits.isdigit():
        digits = "0" + digits
    return digits


def validate_enterprise_number(value):
    digits = normalize_enterprise_number(value)
    if len(digits) != 10 or not digits.isdigit():
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


def normalize_phone(value, default_country_code="32"):
    """'0471 23 45 67' -> '+32471234567'; '0032 471…' and '+32 471…' -> '+32471…'.

    A number without an international prefix is Belgian by default.
    """
    number = _SEPARATORS.sub("", str(value or ""))
    if number.startswith("00"):
        return "+" + number[2:]
    if number.startswith("0"):
        return f"+{default_country_code}{number[1:]}"
    return number


def validate_phone(value):
    if not E164.match(normalize_phone(value)):
        raise ValidationError(
            _(
                "%(value)s is not a phone number we can call: use the international form, "
                "like +32471234567, or a Belgian number like 0471 23 45 67."
            )
            % {"value": value},
            code="phone_format",
        )
