from service.forms.decisions import Person
from service.verification.privacy import masked_name, short_name, surname_matches

AHMETOVA = Person("Ахметова", "Айгүл", "Бекқызы", iin="850314300003")


def test_masked_name() -> None:
    assert masked_name(AHMETOVA) == "А******* А. Б."


def test_masked_name_without_patronymic() -> None:
    assert masked_name(Person("Ізбасаров", "Іңкәр")) == "І******** І."


def test_short_name() -> None:
    assert short_name(AHMETOVA) == "Ахметова А. Б."


def test_no_form_of_the_name_contains_the_iin() -> None:
    assert "850314300003" not in masked_name(AHMETOVA) + short_name(AHMETOVA)


def test_surname_matching_ignores_case_and_spaces() -> None:
    assert surname_matches(AHMETOVA, "  ахметова ")
    assert surname_matches(Person("Фёдорова", "Анна"), "Федорова")
    assert not surname_matches(AHMETOVA, "Ахметов")
    assert not surname_matches(AHMETOVA, "")
