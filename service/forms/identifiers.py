"""Kazakh identification numbers: IIN (people) and BIN (organisations).

Both are 12 digits whose last digit is a check digit: the first 11 digits weighted 1..11,
modulo 11; if that gives 10, weighted 3..11, 1, 2 and modulo 11 again; a second 10 means the
number cannot be valid.
"""

from __future__ import annotations

_FIRST_WEIGHTS = tuple(range(1, 12))
_SECOND_WEIGHTS = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)


def check_digit(first_eleven: str) -> int | None:
    """The check digit for 11 digits, or None when no digit can make them valid."""
    digits = [int(c) for c in first_eleven]
    value = sum(w * d for w, d in zip(_FIRST_WEIGHTS, digits, strict=True)) % 11
    if value == 10:
        value = sum(w * d for w, d in zip(_SECOND_WEIGHTS, digits, strict=True)) % 11
    return None if value == 10 else value


def is_valid_iin(value: str) -> bool:
    """True for 12 ASCII digits with a correct check digit (also right for a BIN)."""
    if len(value) != 12 or not value.isascii() or not value.isdigit():
        return False
    return check_digit(value[:11]) == int(value[11])
