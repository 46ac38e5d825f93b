import pytest

from service.forms.identifiers import check_digit, is_valid_iin


@pytest.mark.parametrize("iin", ["931002451325", "990106300596", "850314300003"])
def test_valid_iins_from_the_domain_notes(iin: str) -> None:
    assert is_valid_iin(iin)


@pytest.mark.parametrize(
    "value",
    [
        "931002451324",
        "93100245132",
        "9310024513250",
        "93100245132a",
        "",
        "９３１００２４５１３２５",
    ],
)
def test_invalid_iins(value: str) -> None:
    assert not is_valid_iin(value)


def test_second_weighting_is_used_when_the_first_gives_ten() -> None:
    # weights 1..11 over these digits sum to 10 mod 11, so the second weighting decides
    first = "00000000010"
    assert sum((i + 1) * int(c) for i, c in enumerate(first)) % 11 == 10
    assert check_digit(first) == 1
