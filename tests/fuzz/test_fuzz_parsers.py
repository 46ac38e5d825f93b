"""The parsers behind every JSON route, fuzzed: only their documented refusals, never an
unexpected exception (which the service would answer with a 500)."""

from __future__ import annotations

import datetime as dt
import json
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from service.api.batches import _ndjson
from service.api.body import parse_json_bytes
from service.api.revocations import parse_revocation
from service.core.errors import Problem
from service.core.messages import MESSAGE_LANGUAGES, message
from service.core.text import TextKind, email_problem, text_problem
from service.forms.decisions import InvalidDecision, Violation, parse_decision
from service.forms.vocabulary import Form
from service.signatures.commissions import parse_commission
from tests.fuzz.strategies import HOSTILE_TEXT, JSON_VALUES, encoded, mutated

ROOT = Path(__file__).resolve().parents[2]
NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
EXAMPLES = {
    form: json.loads((ROOT / "examples" / f"{form.value}.kk.json").read_text("utf-8"))["decision"]
    for form in Form
}
COMMISSION = json.loads((ROOT / "examples" / "commission.json").read_text("utf-8"))
REVOCATION = {"reason": "Қате", "act": {"number": "А-17", "date": "2026-11-20"}}


def worded(violations: tuple[Violation, ...]) -> None:
    """Every refusal can be said in every language (a missing parameter would raise)."""
    assert violations
    for violation in violations:
        for language in MESSAGE_LANGUAGES:
            assert message(violation.code, language, dict(violation.params))


def clean(value: Any) -> None:
    """What the body reader gives: no lone surrogate anywhere, every string in NFC."""
    if isinstance(value, str):
        value.encode("utf-8")
        assert unicodedata.is_normalized("NFC", value)
    elif isinstance(value, list):
        for item in value:
            clean(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            clean(key)
            clean(item)


def outcome(call: Callable[[], Any]) -> tuple[Any, Problem | None]:
    """What `call` returns, or the Problem it raises; any other exception fails the test."""
    try:
        return call(), None
    except Problem as problem:
        return None, problem


def read(raw: bytes) -> Any:
    value, problem = outcome(lambda: parse_json_bytes(raw))
    if problem is not None:
        assert problem.status == 400
        worded(problem.violations)
        return None
    clean(value)
    return value


@given(st.binary(max_size=300))
def test_body_reader_takes_any_bytes(raw: bytes) -> None:
    read(raw)


@given(JSON_VALUES)
def test_body_reader_takes_any_json(value: Any) -> None:
    read(encoded(value))


@given(st.lists(st.binary(max_size=60) | JSON_VALUES.map(encoded), max_size=6))
def test_ndjson_takes_any_lines(lines: list[bytes]) -> None:
    items, problem = outcome(lambda: _ndjson(b"\n".join(lines)))
    if problem is not None:
        assert problem.status == 400
        worded(problem.violations)
    else:
        assert len(items) <= len(lines)


def decide(form: Form, payload: Any) -> None:
    try:
        parse_decision(form, payload, clock=lambda: NOW)
    except InvalidDecision as invalid:
        worded(invalid.violations)


@given(st.sampled_from(list(Form)), JSON_VALUES)
def test_decision_validator_takes_any_json(form: Form, payload: Any) -> None:
    decide(form, payload)


@given(st.sampled_from(list(Form)).flatmap(lambda f: st.tuples(st.just(f), mutated(EXAMPLES[f]))))
def test_decision_validator_takes_damaged_examples(case: tuple[Form, Any]) -> None:
    decide(*case)


@given(mutated(COMMISSION))
def test_commission_parser_takes_damaged_commissions(payload: Any) -> None:
    try:
        parse_commission(payload, clock=lambda: NOW)
    except InvalidDecision as invalid:
        worded(invalid.violations)


@given(mutated(REVOCATION) | JSON_VALUES)
def test_revocation_parser_takes_anything(payload: Any) -> None:
    _, problem = outcome(lambda: parse_revocation(payload, NOW.date()))
    if problem is not None:
        assert problem.status == 422
        worded(problem.violations)


@given(HOSTILE_TEXT, st.sampled_from(list(TextKind)))
def test_text_rule_answers_every_text(text: str, kind: TextKind) -> None:
    for found in (text_problem(text, kind), email_problem(text)):
        if found is not None:
            worded((Violation("", found.code, found.params),))
