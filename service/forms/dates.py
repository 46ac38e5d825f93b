"""Dates the way Kazakh and Russian legal documents write them.

Kazakh: "2024 жылғы 20 маусым"; Russian: "«20» июня 2024 года". Month names come from Babel
(CLDR); Kazakh case endings follow vowel harmony, so a form can say "2024 жылғы 20
маусымдағы № 153 бұйрығымен" (attributive) or "2029 жылғы 20 маусымға дейін" (dative).
This is the only place that turns a date into words: templates call these as filters.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Literal

from babel.dates import get_month_names

from service.forms.vocabulary import Language

KazakhCase = Literal["nominative", "attributive", "dative"]

_BACK_VOWELS = frozenset("аоұыя")
_FRONT_VOWELS = frozenset("әөүіеэю")
_VOICELESS = frozenset("кқпстфхцчшщ")
# endings by case, then (front vowel harmony?, after a voiceless consonant?)
_ENDINGS: dict[KazakhCase, dict[tuple[bool, bool], str]] = {
    "nominative": {(False, False): "", (True, False): "", (False, True): "", (True, True): ""},
    "attributive": {
        (False, False): "дағы",
        (True, False): "дегі",
        (False, True): "тағы",
        (True, True): "тегі",
    },
    "dative": {(False, False): "ға", (True, False): "ге", (False, True): "қа", (True, True): "ке"},
}


@cache
def month_name(month: int, language: Language) -> str:
    """The month as it stands in a date: nominative in Kazakh, genitive in Russian."""
    return str(get_month_names("wide", context="format", locale=language)[month])


def kazakh_suffix(word: str, case: KazakhCase) -> str:
    """`word` with the case ending its last vowel and last letter call for."""
    front = next(
        (c in _FRONT_VOWELS for c in reversed(word) if c in _BACK_VOWELS | _FRONT_VOWELS), False
    )
    return word + _ENDINGS[case][(front, word[-1] in _VOICELESS)]


def legal_date(value: dt.date, language: Language, case: KazakhCase = "nominative") -> str:
    """A date in legal style; `case` declines the Kazakh month (Russian needs no change)."""
    if language == "kk":
        month = kazakh_suffix(month_name(value.month, "kk"), case)
        return f"{value.year} жылғы {value.day} {month}"
    return f"«{value.day:02d}» {month_name(value.month, 'ru')} {value.year} года"


def legal_datetime(value: dt.datetime, language: Language) -> str:
    """A date with the time of day (notices record when they were sent)."""
    return f"{legal_date(value.date(), language)}, {value:%H:%M}"


def notice_date(value: dt.date, language: Language) -> str:
    """The day a notice was sent, as forms 6 and 7 write it (no time of day): Kazakh
    "«15» қыркүйек 2026 жылы" for the form's "« __ » _____ 20 __ жылы жіберілді", Russian
    "«15» сентября 2026 года"."""
    if language == "kk":
        return f"«{value.day:02d}» {month_name(value.month, 'kk')} {value.year} жылы"
    return legal_date(value, language)
