from service.forms.decisions import Person
from service.verification.privacy import (
    IDENTIFIER_BLANKED,
    public_text,
    short_name,
    surname_matches,
)

AHMETOVA = Person("Ахметова", "Айгүл", "Бекқызы", iin="850314300003")


def test_short_name() -> None:
    assert short_name(AHMETOVA) == "Ахметова А. Б."


def test_no_form_of_the_name_contains_the_iin() -> None:
    assert "850314300003" not in short_name(AHMETOVA)


def test_surname_matching_ignores_case_and_spaces() -> None:
    assert surname_matches(AHMETOVA, "  ахметова ")
    assert surname_matches(Person("Фёдорова", "Анна"), "Федорова")
    assert not surname_matches(AHMETOVA, "Ахметов")
    assert not surname_matches(AHMETOVA, "")


def test_public_text_blanks_iin_like_numbers_however_written() -> None:
    for written in ("850314300003", "850314 300003", "8503-1430-0003", "8503.1430.0003",
                    "ИИН850314300003", "8503143000031234"):
        shown = public_text(f"жалоба ({written}), приказ № 17")
        assert "850314" not in shown, shown
        assert "0003" not in shown, shown
        assert IDENTIFIER_BLANKED in shown
        assert shown.endswith("приказ № 17")


def test_public_text_keeps_dates_and_act_numbers() -> None:
    text = "Решение апелляционной комиссии № 17 от 2026-11-23, протокол 153/2"
    assert public_text(text) == text
