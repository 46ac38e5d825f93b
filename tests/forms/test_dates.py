import datetime as dt

import pytest

from service.forms.dates import kazakh_suffix, legal_date


def test_kazakh_legal_date() -> None:
    assert legal_date(dt.date(2024, 6, 20), "kk") == "2024 жылғы 20 маусым"


def test_russian_legal_date() -> None:
    assert legal_date(dt.date(2024, 6, 20), "ru") == "«20» июня 2024 года"
    assert legal_date(dt.date(2024, 3, 1), "ru") == "«01» марта 2024 года"


@pytest.mark.parametrize(
    ("month", "attributive", "dative"),
    [
        ("маусым", "маусымдағы", "маусымға"),
        ("сәуір", "сәуірдегі", "сәуірге"),
        ("шілде", "шілдедегі", "шілдеге"),
        ("қыркүйек", "қыркүйектегі", "қыркүйекке"),
        ("желтоқсан", "желтоқсандағы", "желтоқсанға"),
        ("қараша", "қарашадағы", "қарашаға"),
    ],
)
def test_kazakh_case_endings_follow_vowel_harmony(
    month: str, attributive: str, dative: str
) -> None:
    assert kazakh_suffix(month, "attributive") == attributive
    assert kazakh_suffix(month, "dative") == dative


def test_every_month_has_a_babel_name_in_both_languages() -> None:
    kk = {legal_date(dt.date(2025, m, 1), "kk").split()[-1] for m in range(1, 13)}
    ru = {legal_date(dt.date(2025, m, 1), "ru").split()[1] for m in range(1, 13)}
    assert len(kk) == len(ru) == 12
