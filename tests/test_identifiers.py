"""Belgian enterprise numbers (mod-97) and phone numbers (E.164, Belgian by default)."""

import pytest
from django.core.exceptions import ValidationError

from incidents.identifiers import (
    format_enterprise_number,
    format_phone,
    normalize_enterprise_number,
    normalize_phone,
    validate_enterprise_number,
    validate_phone,
)


@pytest.mark.parametrize(
    "number", ["0694679950", "0440966354", "0831797467", "0694.679.950", "BE 0440.966.354"]
)
def test_valid_enterprise_numbers(number):
    validate_enterprise_number(number)


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("0431150351", "enterprise_number_checksum"),
        ("0694679951", "enterprise_number_checksum"),
        ("069467995", "enterprise_number_checksum"),
        ("12345", "enterprise_number_format"),
        ("2694679950", "enterprise_number_format"),
        ("06946799AB", "enterprise_number_format"),
    ],
)
def test_invalid_enterprise_numbers(number, code):
    with pytest.raises(ValidationError) as error:
        validate_enterprise_number(number)
    assert error.value.code == code
    assert number in error.value.messages[0]


def test_enterprise_number_is_normalised_and_formatted():
    assert normalize_enterprise_number("BE 0694.679.950") == "0694679950"
    assert normalize_enterprise_number("694679950") == "0694679950"
    assert format_enterprise_number("0694679950") == "0694.679.950"


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("0471 23 45 67", "+32471234567"),
        ("+32 471 23 45 67", "+32471234567"),
        ("0032471234567", "+32471234567"),
        ("+33 6 12 34 56 78", "+33612345678"),
        ("02/274.48.00", "+3222744800"),
    ],
)
def test_phone_numbers_are_normalised_to_e164(typed, stored):
    assert normalize_phone(typed) == stored
    validate_phone(typed)


@pytest.mark.parametrize("typed", ["12", "+32", "abc", "+0471234567", "", None, "０471234567"])
def test_invalid_phone_numbers(typed):
    with pytest.raises(ValidationError) as refused:
        validate_phone(typed)
    assert refused.value.code == "phone_format"
    assert refused.value.messages == [
        f"{typed} is not a phone number we can call: use the international form, like "
        "+32471234567, or a Belgian number like 0471 23 45 67."
    ]


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("+3292345678", "+32 9 234 56 78"),
        ("+32471234567", "+32 471 23 45 67"),
        ("+33612345678", "+33 6 12 34 56 78"),
        ("ext. 12", "ext. 12"),  # not a number: as given
        ("", ""),
        (None, ""),
    ],
)
def test_phone_numbers_are_printed_as_people_read_them(stored, shown):
    assert format_phone(stored) == shown


def test_no_phone_number_stays_no_phone_number():
    from incidents.identifiers import normalize_phone

    assert normalize_phone(None) == "" and normalize_phone("") == "" and normalize_phone("  ") == ""
