"""Attestation commissions and their sessions: the rules of p. 15-18 of the act.

A commission has an odd number of members, at least seven, one of them elected chair; a
secretary who is not a member and does not vote; a term of one year from the order that
appointed it. A session is valid with at least two thirds of the members present, and nobody
attested by a commission may sit on it during its term.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from service.core.date_window import WINDOW, in_window
from service.forms.decisions import (
    Clock,
    InvalidDecision,
    Order,
    Person,
    Violation,
    add_years,
    iin_violations,
    not_in_future,
    schema_violations,
    system_clock,
    with_text_rule,
)

COMMISSION_LEVELS = ("organisation", "district", "region", "national")
MINIMUM_MEMBERS = 7


@dataclass(frozen=True, slots=True)
class Member:
    person: Person
    position: str
    chair: bool = False


@dataclass(frozen=True, slots=True)
class CommissionSpec:
    """A commission as appointed by its order, validated."""

    name_kk: str
    name_ru: str
    level: str
    order: Order
    term_end: dt.date
    members: tuple[Member, ...]
    secretary: Member

    @property
    def chair(self) -> Member:
        return next(m for m in self.members if m.chair)

    def name(self, language: str) -> str:
        return self.name_kk if language == "kk" else self.name_ru

    def in_term(self, day: dt.date) -> bool:
        return self.order.date <= day < self.term_end

    def member(self, iin: str) -> Member | None:
        return next((m for m in self.members if m.person.iin == iin), None)


def term_end(order_date: dt.date) -> dt.date:
    """The first day the commission no longer sits: one year after its order (p. 16)."""
    return add_years(order_date, 1)


def has_quorum(present: int, total: int) -> bool:
    """At least two thirds of the members present (p. 18), in integers: 3·present ≥ 2·total."""
    return 3 * present >= 2 * total


def quorum_size(total: int) -> int:
    """The fewest members that make a quorum."""
    return -(-2 * total // 3)


def _member(payload: dict[str, Any]) -> Member:
    person = Person(
        surname=payload["surname"],
        given_name=payload["given_name"],
        patronymic=payload.get("patronymic"),
        iin=payload["iin"],
    )
    return Member(person=person, position=payload["position"], chair=payload.get("chair", False))


def _commission_rules(spec: CommissionSpec, now: dt.datetime) -> Iterator[Violation]:
    count = len(spec.members)
    if count % 2 == 0:
        yield Violation("/members", "members_even", {"count": count})
    chairs = [i for i, m in enumerate(spec.members) if m.chair]
    if len(chairs) != 1:
        yield Violation("/members", "chair_count", {"count": len(chairs)})
    seen: dict[str, int] = {}
    for i, member in enumerate(spec.members):
        iin = member.person.iin or ""
        if iin in seen:
            yield Violation(f"/members/{i}/iin", "duplicate_member", {"first": seen[iin] + 1})
        seen.setdefault(iin, i)
    if spec.secretary.person.iin in seen:
        yield Violation("/secretary/iin", "secretary_is_member")
    yield from not_in_future(spec.order.date, now, "/order/date")


def parse_commission(payload: object, *, clock: Clock = system_clock) -> CommissionSpec:
    """A validated commission from its JSON (schemas/commission.v1.schema.json)."""
    violations = schema_violations("commission", payload)
    violations += iin_violations(payload)
    violations = with_text_rule(violations, payload)
    if violations:
        raise InvalidDecision(violations)
    assert isinstance(payload, dict)
    try:
        order = Order(payload["order"]["number"], dt.date.fromisoformat(payload["order"]["date"]))
        given_end = payload.get("term_end")
        end = dt.date.fromisoformat(given_end) if given_end else None
    except ValueError:
        raise InvalidDecision([Violation("/order/date", "bad_date")]) from None
    outside = [
        Violation(pointer, "date_out_of_range", WINDOW)
        for pointer, day in (("/order/date", order.date), ("/term_end", end))
        if day is not None and not in_window(day)
    ]
    if outside:
        raise InvalidDecision(outside)
    expected_end = term_end(order.date)
    spec = CommissionSpec(
        name_kk=payload["name"]["kk"],
        name_ru=payload["name"]["ru"],
        level=payload["level"],
        order=order,
        term_end=expected_end,
        members=tuple(_member(m) for m in payload["members"]),
        secretary=_member(payload["secretary"]),
    )
    violations = list(_commission_rules(spec, clock()))
    if end is not None and end != expected_end:
        violations.append(
            Violation("/term_end", "term_mismatch", {"expected": expected_end.isoformat()})
        )
    if violations:
        raise InvalidDecision(violations)
    return spec


def session_violations(
    spec: CommissionSpec,
    session_date: dt.date,
    present: Sequence[str],
    attested: Iterable[tuple[str, Person]],
) -> Iterator[Violation]:
    """What makes a session of `spec` invalid: who is present, quorum, term, conflicts.

    `present` are IINs of the members present (the secretary is always there and not counted);
    `attested` pairs each attested person with the pointer of their row.
    """
    if not spec.in_term(session_date):
        yield Violation(
            "/session/date",
            "outside_term",
            {"start": spec.order.date.isoformat(), "end": spec.term_end.isoformat()},
        )
    seen: set[str] = set()
    for i, iin in enumerate(present):
        if spec.member(iin) is None:
            yield Violation(f"/present/{i}", "not_a_member")
        elif iin in seen:
            yield Violation(f"/present/{i}", "duplicate_member", {"first": present.index(iin) + 1})
        seen.add(iin)
    if spec.chair.person.iin not in seen:
        yield Violation("/present", "chair_absent")
    total = len(spec.members)
    if not has_quorum(len(seen & {m.person.iin for m in spec.members}), total):
        yield Violation(
            "/present", "no_quorum", {"present": len(seen), "needed": quorum_size(total)}
        )
    insiders = {m.person.iin for m in spec.members} | {spec.secretary.person.iin}
    for pointer, person in attested:
        if person.iin in insiders:
            yield Violation(pointer, "member_attested")
