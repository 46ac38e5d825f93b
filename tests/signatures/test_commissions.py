"""Commission and session rules of p. 15-18."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from service.forms.decisions import InvalidDecision, Person
from service.signatures.commissions import (
    has_quorum,
    parse_commission,
    quorum_size,
    session_violations,
)

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "commission.json"
NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)


def commission() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(EXAMPLE.read_text("utf-8"))
    return copy.deepcopy(loaded)


def codes(payload: Any) -> list[tuple[str, str]]:
    with pytest.raises(InvalidDecision) as caught:
        parse_commission(payload, clock=lambda: NOW)
    return [(v.pointer, v.code) for v in caught.value.violations]


def test_example_commission_is_valid() -> None:
    spec = parse_commission(commission(), clock=lambda: NOW)
    assert len(spec.members) == 7
    assert spec.chair.person.surname == "Жұмабекова"
    assert spec.term_end == dt.date(2027, 1, 15)


def test_fewer_than_seven_members() -> None:
    payload = commission()
    payload["members"] = payload["members"][:5]
    assert codes(payload) == [("/members", "too_short")]


def test_even_number_of_members() -> None:
    payload = commission()
    extra = copy.deepcopy(payload["members"][1])
    extra["iin"] = "931002451325"
    payload["members"].append(extra)
    assert codes(payload) == [("/members", "members_even")]


@pytest.mark.parametrize("chairs", [0, 2])
def test_exactly_one_chair(chairs: int) -> None:
    payload = commission()
    for i, member in enumerate(payload["members"]):
        member["chair"] = i < chairs
    assert codes(payload) == [("/members", "chair_count")]


def test_secretary_is_not_a_member() -> None:
    payload = commission()
    payload["secretary"]["iin"] = payload["members"][3]["iin"]
    assert codes(payload) == [("/secretary/iin", "secretary_is_member")]


def test_a_member_listed_twice() -> None:
    payload = commission()
    payload["members"][6]["iin"] = payload["members"][5]["iin"]
    assert codes(payload) == [("/members/6/iin", "duplicate_member")]


def test_term_is_one_year() -> None:
    payload = commission()
    payload["term_end"] = "2027-06-01"
    assert codes(payload) == [("/term_end", "term_mismatch")]


def test_members_need_an_iin() -> None:
    payload = commission()
    del payload["members"][2]["iin"]
    assert codes(payload) == [("/members/2/iin", "required")]


@pytest.mark.parametrize(("total", "needed"), [(7, 5), (9, 6), (11, 8), (13, 9), (15, 10)])
def test_quorum_is_two_thirds(total: int, needed: int) -> None:
    assert quorum_size(total) == needed
    assert has_quorum(needed, total)
    assert not has_quorum(needed - 1, total)


def _session(
    present: list[str], attested: list[Person] | None = None, day: dt.date = dt.date(2026, 8, 14)
) -> list[tuple[str, str]]:
    spec = parse_commission(commission(), clock=lambda: NOW)
    people = [(f"/rows/{i}/person", p) for i, p in enumerate(attested or [])]
    return [(v.pointer, v.code) for v in session_violations(spec, day, present, people)]


def _iins() -> list[str]:
    return [m["iin"] for m in commission()["members"]]


def test_six_of_seven_is_a_valid_session() -> None:
    assert _session(_iins()[:6]) == []


def test_four_of_seven_has_no_quorum() -> None:
    assert _session(_iins()[:4]) == [("/present", "no_quorum")]


def test_chair_must_be_present() -> None:
    assert _session(_iins()[1:]) == [("/present", "chair_absent")]


def test_a_stranger_cannot_be_present() -> None:
    assert ("/present/6", "not_a_member") in _session([*_iins()[:6], "931002451325"])


def test_session_outside_the_term() -> None:
    assert _session(_iins(), day=dt.date(2027, 1, 15)) == [("/session/date", "outside_term")]


def test_members_are_not_attested_by_their_commission() -> None:
    member = commission()["members"][4]
    person = Person(member["surname"], member["given_name"], iin=member["iin"])
    assert _session(_iins(), [person]) == [("/rows/0/person", "member_attested")]
