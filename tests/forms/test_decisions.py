"""The act's rules on decisions, beyond what the JSON Schemas say."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from service.forms.decisions import (
    SCHEMA_DIR,
    Certificate,
    InvalidDecision,
    Protocol,
    _fast_validator,
    _validator,
    add_years,
    parse_decision,
)
from service.forms.vocabulary import Form

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)


def decision(form: str, language: str = "kk") -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EXAMPLES / f"{form}.{language}.json").read_text("utf-8"))
    return copy.deepcopy(loaded["decision"])


def violations(form: Form, payload: Any) -> list[tuple[str, str]]:
    with pytest.raises(InvalidDecision) as caught:
        parse_decision(form, payload, clock=lambda: NOW)
    return [(v.pointer, v.code) for v in caught.value.violations]


@pytest.mark.parametrize("form", list(Form))
@pytest.mark.parametrize("language", ["kk", "ru"])
def test_every_example_is_valid(form: Form, language: str) -> None:
    parse_decision(form, decision(form.value, language), clock=lambda: NOW)


def test_validity_is_computed_from_the_order_date() -> None:
    parsed = parse_decision(Form.CERTIFICATE, decision("certificate"), clock=lambda: NOW)
    assert isinstance(parsed, Certificate)
    assert parsed.valid_until == dt.date(2031, 8, 20)  # 5 years after the order of 2026-08-20


def test_first_heads_are_valid_three_years() -> None:
    payload = decision("certificate")
    payload["category"] = "head_2"
    parsed = parse_decision(Form.CERTIFICATE, payload, clock=lambda: NOW)
    assert isinstance(parsed, Certificate)
    assert parsed.valid_until == dt.date(2029, 8, 20)


def test_deputies_are_valid_five_years() -> None:
    payload = decision("certificate")
    payload["category"] = "deputy_1"
    parsed = parse_decision(Form.CERTIFICATE, payload, clock=lambda: NOW)
    assert isinstance(parsed, Certificate)
    assert parsed.valid_until == dt.date(2031, 8, 20)


def test_a_validity_that_contradicts_the_act_is_refused() -> None:
    payload = decision("certificate")
    payload["valid_until"] = "2030-08-20"
    assert violations(Form.CERTIFICATE, payload) == [("/valid_until", "validity_mismatch")]


def test_leap_day_plus_years() -> None:
    assert add_years(dt.date(2024, 2, 29), 5) == dt.date(2029, 2, 28)


def test_missing_field_names_the_pointer() -> None:
    payload = decision("certificate")
    del payload["holder"]["surname"]
    assert violations(Form.CERTIFICATE, payload) == [("/holder/surname", "required")]


def test_bad_iin_checksum() -> None:
    payload = decision("certificate")
    payload["holder"]["iin"] = "931002451324"
    assert violations(Form.CERTIFICATE, payload) == [("/holder/iin", "iin_checksum")]


def test_unknown_category() -> None:
    payload = decision("certificate")
    payload["category"] = "grandmaster"
    assert violations(Form.CERTIFICATE, payload) == [("/category", "enum")]


def test_unknown_field_is_refused() -> None:
    payload = decision("extract")
    payload["shoe_size"] = 42
    assert violations(Form.EXTRACT, payload) == [("/shoe_size", "unknown_field")]


def test_wrong_types() -> None:
    payload = decision("protocol")
    payload["rows"] = "everyone"
    payload["session"]["number"] = 5
    found = violations(Form.PROTOCOL, payload)
    assert ("/rows", "type") in found
    assert ("/session/number", "type") in found


@pytest.mark.parametrize("value", ["2026-02-30", "2026-13-01", "20260814", "14.08.2026"])
def test_dates_must_be_real(value: str) -> None:
    payload = decision("extract")
    payload["session"]["date"] = value
    assert violations(Form.EXTRACT, payload) == [("/session/date", "bad_date")]


def test_naive_datetimes_are_refused() -> None:
    payload = decision("acceptance")
    payload["sent_at"] = "2026-09-15T10:05:00"
    assert violations(Form.ACCEPTANCE, payload) == [("/sent_at", "bad_datetime")]


def test_future_dates_are_refused() -> None:
    payload = decision("certificate")
    payload["issue_date"] = "2026-11-24"  # NOW is 2026-11-23
    assert violations(Form.CERTIFICATE, payload) == [("/issue_date", "future_date")]


def test_order_cannot_precede_the_commission_decision() -> None:
    payload = decision("certificate")
    payload["order"]["date"] = "2026-08-13"
    assert ("/order/date", "date_order") in violations(Form.CERTIFICATE, payload)


def test_notice_cannot_be_sent_before_the_application() -> None:
    payload = decision("refusal")
    payload["sent_at"] = "2026-09-14T18:00:00+05:00"
    assert violations(Form.REFUSAL, payload) == [("/sent_at", "date_order")]


def test_outcome_contradicting_the_categories() -> None:
    payload = decision("protocol")
    payload["rows"][0]["awarded_category"] = "master"  # declared "expert", outcome corresponds
    assert violations(Form.PROTOCOL, payload) == [
        ("/rows/0/awarded_category", "awarded_must_equal_declared")
    ]


def test_does_not_correspond_needs_a_reason() -> None:
    payload = decision("protocol")
    del payload["rows"][2]["reason"]
    assert violations(Form.PROTOCOL, payload) == [("/rows/2/reason", "reason_required")]


def test_below_current_must_really_be_below() -> None:
    payload = decision("protocol")
    payload["rows"][4]["awarded_category"] = "researcher"
    assert violations(Form.PROTOCOL, payload) == [
        ("/rows/4/awarded_category", "awarded_must_be_below_current")
    ]


def test_corresponds_current_needs_a_higher_declared_category() -> None:
    payload = decision("protocol")
    payload["rows"][3]["declared_category"] = "moderator"
    assert violations(Form.PROTOCOL, payload) == [
        ("/rows/3/declared_category", "declared_not_above_current")
    ]


def test_intern_is_never_awarded() -> None:
    payload = decision("protocol")
    payload["rows"][0]["awarded_category"] = "intern"
    assert ("/rows/0/awarded_category", "enum") in violations(Form.PROTOCOL, payload)


def test_a_person_appears_once_per_protocol() -> None:
    payload = decision("protocol")
    payload["rows"].append(copy.deepcopy(payload["rows"][0]))
    assert violations(Form.PROTOCOL, payload) == [("/rows/6/person", "duplicate_person")]


def test_same_person_without_iin_is_matched_by_name() -> None:
    payload = decision("protocol")
    twin = copy.deepcopy(payload["rows"][1])
    for row in (payload["rows"][1], twin):
        del row["person"]["iin"]
    twin["person"]["surname"] = twin["person"]["surname"].upper()
    payload["rows"].append(twin)
    assert violations(Form.PROTOCOL, payload) == [("/rows/6/person", "duplicate_person")]


def test_heads_below_declared_stays_on_its_ladder() -> None:
    payload = decision("heads_protocol")
    payload["rows"][1]["awarded_category"] = "head_3"  # declared deputy_1
    assert violations(Form.HEADS_PROTOCOL, payload) == [
        ("/rows/1/awarded_category", "ladder_mismatch")
    ]


def test_heads_not_corresponding_get_no_category() -> None:
    payload = decision("heads_protocol")
    payload["rows"][2]["awarded_category"] = "deputy_3"
    assert violations(Form.HEADS_PROTOCOL, payload) == [
        ("/rows/2/awarded_category", "awarded_not_allowed")
    ]


def test_commission_member_listed_twice() -> None:
    payload = decision("protocol")
    payload["commission"]["members"].append(payload["commission"]["chair"])
    assert violations(Form.PROTOCOL, payload) == [("/commission/members/6", "duplicate_member")]


@pytest.mark.parametrize("text", ["", "   ", "line\nbreak", "nul\u0000"])
def test_names_must_be_printable_text(text: str) -> None:
    payload = decision("certificate")
    payload["holder"]["surname"] = text
    found = violations(Form.CERTIFICATE, payload)
    assert found
    assert all(pointer == "/holder/surname" for pointer, _ in found)


def test_protocol_tables_keep_the_platform_order() -> None:
    parsed = parse_decision(Form.PROTOCOL, decision("protocol"), clock=lambda: NOW)
    assert isinstance(parsed, Protocol)
    declared = parsed.table("corresponds_declared")
    assert [r.person.surname for r in declared] == ["Ахметова", "Серікбаев", "Ізбасаров"]


# --------------------------------------------------------------------------- the fast path

_SCHEMAS = sorted(p.name.split(".")[0] for p in SCHEMA_DIR.glob("*.v1.schema.json"))
_ODD_VALUES: list[Any] = [
    None, 7, "", "x" * 1001, "line\nbreak", "2024-02-30", "2026-08-20T10:00:00", "expert",
    "850314422010", [], {},
]


def _instances(name: str) -> list[Any]:
    """The schema's examples, and variants of them broken (or not) in every place."""
    if name == "common":
        return []
    if name == "commission":
        bases = [json.loads((EXAMPLES / "commission.json").read_text("utf-8"))]
    elif name == "request":
        bases = [json.loads(p.read_text("utf-8")) for p in sorted(EXAMPLES.glob("*.kk.json"))]
    else:
        bases = [decision(name)]
    found: list[Any] = []
    for base in bases:
        found.append(base)
        for path, parent, key in _places(base):
            for value in _ODD_VALUES:
                variant = copy.deepcopy(base)
                _at(variant, path)[key] = value
                found.append(variant)
            if isinstance(parent, dict):
                variant = copy.deepcopy(base)
                del _at(variant, path)[key]
                found.append(variant)
        for path, node in _nodes(base):
            if isinstance(node, dict):
                variant = copy.deepcopy(base)
                _at(variant, [*path, None])["unexpected"] = "x"
                found.append(variant)
    return found


def _nodes(node: Any, path: list[Any] | None = None) -> list[tuple[list[Any], Any]]:
    path = path or []
    found = [(path, node)]
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(
        node, list) else []
    for key, child in items:
        found += _nodes(child, [*path, key])
    return found


def _places(root: Any) -> list[tuple[list[Any], Any, Any]]:
    return [(path, _at(root, path), path[-1]) for path, _ in _nodes(root) if path]


def _at(root: Any, path: list[Any]) -> Any:
    """The container holding the last step of `path` (a trailing None: the node itself)."""
    node = root
    for step in path[:-1]:
        node = node[step]
    return node


@pytest.mark.parametrize("name", _SCHEMAS)
def test_inlined_schemas_judge_exactly_as_the_schemas(name: str) -> None:
    """`schema_violations` answers "valid" from the schema with its $refs inlined: it must
    accept exactly what the schema accepts (violations still come from the schema)."""
    fast = _fast_validator(name)
    assert fast is not None, f"{name}: its $refs could not be inlined"
    full = _validator(name)
    instances = _instances(name)
    assert name == "common" or len(instances) > 100
    verdicts = set()
    for instance in instances:
        expected = next(full.iter_errors(instance), None) is None
        assert fast.is_valid(instance) == expected, (name, instance)
        verdicts.add(expected)
    assert name == "common" or verdicts == {True, False}
