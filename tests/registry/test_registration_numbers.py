"""Registration numbers: format, ISO 7064 MOD 97-10 check digits, error detection."""

from __future__ import annotations

import string

import pytest

from service.forms.vocabulary import Form
from service.registry.issuing import (
    MalformedRegistrationNumber,
    MistypedRegistrationNumber,
    RegistrationNumber,
    check_registration_number,
    mod97_check_digits,
    parse_registration_number,
)

ALPHABET = string.digits + string.ascii_uppercase + "-"
VALID = [
    str(RegistrationNumber(1, "KRG", 26, 42)),
    str(RegistrationNumber(2, "KRG", 26, 1)),
    str(RegistrationNumber(13, "AST", 24, 999_999)),
    str(RegistrationNumber(7, "ALMOBL", 30, 120_345)),
    str(RegistrationNumber(12, "ZZ", 0, 90_909)),
]


def test_format_of_the_docstring_example() -> None:
    number = RegistrationNumber(Form.CERTIFICATE.appendix, "KRG", 26, 42)
    assert str(number) == "01-KRG-26-000042-42"
    assert number.series == "01-KRG-26"
    assert parse_registration_number("01-KRG-26-000042-42") == number


def test_mod97_is_the_iban_algorithm() -> None:
    # GB82 WEST 1234 5698 7654 32: the check digits of an IBAN, computed the same way
    assert mod97_check_digits("WEST12345698765432GB") == "82"


@pytest.mark.parametrize("number", VALID)
def test_valid_numbers_check(number: str) -> None:
    assert check_registration_number(number)


@pytest.mark.parametrize("number", VALID)
def test_every_single_substitution_is_detected(number: str) -> None:
    for i, original in enumerate(number):
        for replacement in ALPHABET:
            if replacement == original:
                continue
            typo = number[:i] + replacement + number[i + 1 :]
            assert not check_registration_number(typo), typo


@pytest.mark.parametrize("number", VALID)
def test_every_adjacent_transposition_is_detected(number: str) -> None:
    for i in range(len(number) - 1):
        if number[i] == number[i + 1]:
            continue
        swapped = number[:i] + number[i + 1] + number[i] + number[i + 2 :]
        assert not check_registration_number(swapped), swapped


def test_mistyped_and_malformed_are_told_apart() -> None:
    with pytest.raises(MistypedRegistrationNumber):
        parse_registration_number("01-KRG-26-000043-42")
    for text in ("", "01-KRG-26-42", "01-KR1-26-000042-42", "1-KRG-26-000042-42", "x" * 500):
        with pytest.raises(MalformedRegistrationNumber):
            parse_registration_number(text)


def test_parse_forgives_case_spaces_and_typographic_dashes() -> None:
    assert str(parse_registration_number(" 01\u2013krg\u201126-000042-42\n")) == (
        "01-KRG-26-000042-42"
    )
    assert not check_registration_number("01-krg-26-000042-42")  # the check is strict


def test_numbers_sort_by_series_then_order_of_issue() -> None:
    numbers = [str(RegistrationNumber(1, "KRG", 26, seq)) for seq in (10, 2, 300, 1)]
    assert sorted(numbers) == [str(RegistrationNumber(1, "KRG", 26, s)) for s in (1, 2, 10, 300)]
