"""Decisions: JSON from a platform → validated, frozen value objects (the edge of the domain).

Two layers of checks. The JSON Schema of the form (schemas/<form>.v1.schema.json) fixes the
shape; the rules of the act then check what a schema cannot say: the awarded category agrees
with the outcome and the declared and current categories, the validity is the act's, dates
are real and not in the future, nobody appears twice in a protocol. Every problem becomes a
`Violation` with a JSON pointer, so the caller learns which field and why, all at once.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import types
import typing
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import jsonschema
from referencing import Registry, Resource
from referencing.exceptions import Unresolvable

from service.core.date_window import WINDOW, in_window
from service.core.text import TextKind, email_problem, text_problem
from service.forms.identifiers import is_valid_iin
from service.forms.vocabulary import (
    AttestationKind,
    Category,
    Form,
    Grant,
    HeadCategory,
    HeadOutcome,
    Language,
    TeacherCategory,
    TeacherOutcome,
    parse_category,
)

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schemas"
SCHEMA_VERSION = "v1"
ALMATY = ZoneInfo("Asia/Almaty")

Clock = Callable[[], dt.datetime]


def system_clock() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# --------------------------------------------------------------------------- violations


@dataclass(frozen=True, slots=True)
class Violation:
    """One problem with a request: where (an RFC 6901 pointer), what (a code), and details."""

    pointer: str
    code: str
    params: Mapping[str, object] = field(default_factory=dict)


class InvalidDecision(ValueError):
    """A decision that breaks its schema or the act's rules; carries every violation found."""

    def __init__(self, violations: Iterable[Violation]) -> None:
        self.violations = tuple(violations)
        super().__init__("; ".join(f"{v.pointer or '/'}: {v.code}" for v in self.violations))


# --------------------------------------------------------------------------- value objects


@dataclass(frozen=True, slots=True)
class Person:
    surname: str
    given_name: str
    patronymic: str | None = None
    iin: str | None = None

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.surname, self.given_name, self.patronymic) if p)

    @property
    def identity(self) -> str:
        """What makes two rows the same person: the IIN, or else the name, case-folded."""
        return self.iin or " ".join(self.full_name.casefold().split())


@dataclass(frozen=True, slots=True)
class Order:
    number: str
    date: dt.date


@dataclass(frozen=True, slots=True)
class Session:
    date: dt.date
    number: str


@dataclass(frozen=True, slots=True)
class Commission:
    name: str
    chair: Person
    members: tuple[Person, ...]
    secretary: Person


@dataclass(frozen=True, slots=True)
class ExtractCommission:
    name: str
    secretary: Person


@dataclass(frozen=True, slots=True)
class Certificate:
    holder: Person
    position: str
    organisation: str
    commission_decision_date: dt.date
    order: Order
    category: Category
    grant: Grant
    head_of_organisation: Person
    issue_date: dt.date
    valid_until: dt.date | None = None
    decision_id: str | None = None


@dataclass(frozen=True, slots=True)
class TeacherRow:
    person: Person
    position: str
    attestation: AttestationKind
    declared_category: TeacherCategory
    outcome: TeacherOutcome
    current_category: TeacherCategory | None = None
    awarded_category: TeacherCategory | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Protocol:
    commission: Commission
    session: Session
    rows: tuple[TeacherRow, ...]
    decision_id: str | None = None

    def table(self, outcome: str) -> tuple[TeacherRow, ...]:
        """The rows of one of the form's four tables, in the platform's order."""
        return tuple(r for r in self.rows if r.outcome == outcome)


@dataclass(frozen=True, slots=True)
class Extract:
    commission: ExtractCommission
    session: Session
    person: Person
    declared_category: TeacherCategory
    outcome: TeacherOutcome
    position: str | None = None
    current_category: TeacherCategory | None = None
    awarded_category: TeacherCategory | None = None
    reason: str | None = None
    decision_id: str | None = None


@dataclass(frozen=True, slots=True)
class Acceptance:
    applicant: Person
    sent_at: dt.datetime
    application_received_at: dt.datetime | None = None
    provider: str | None = None
    authorised_person: Person | None = None
    decision_id: str | None = None


@dataclass(frozen=True, slots=True)
class Refusal:
    applicant: Person
    sent_at: dt.datetime
    missing_documents: tuple[str, ...]
    application_received_at: dt.datetime | None = None
    grounds: str | None = None
    provider: str | None = None
    authorised_person: Person | None = None
    decision_id: str | None = None


@dataclass(frozen=True, slots=True)
class HeadRow:
    person: Person
    position: str
    declared_category: HeadCategory
    outcome: HeadOutcome
    current_category: HeadCategory | None = None
    awarded_category: HeadCategory | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class HeadsProtocol:
    commission: Commission
    session: Session
    rows: tuple[HeadRow, ...]
    decision_id: str | None = None

    def table(self, *outcomes: str) -> tuple[HeadRow, ...]:
        return tuple(r for r in self.rows if r.outcome in outcomes)


@dataclass(frozen=True, slots=True)
class HeadsExtract:
    commission: ExtractCommission
    session: Session
    person: Person
    declared_category: HeadCategory
    outcome: HeadOutcome
    position: str | None = None
    current_category: HeadCategory | None = None
    awarded_category: HeadCategory | None = None
    reason: str | None = None
    decision_id: str | None = None


Decision = Certificate | Protocol | Extract | Acceptance | Refusal | HeadsProtocol | HeadsExtract

DECISION_TYPES: dict[Form, type[Any]] = {
    Form.CERTIFICATE: Certificate,
    Form.PROTOCOL: Protocol,
    Form.EXTRACT: Extract,
    Form.ACCEPTANCE: Acceptance,
    Form.REFUSAL: Refusal,
    Form.HEADS_PROTOCOL: HeadsProtocol,
    Form.HEADS_EXTRACT: HeadsExtract,
}


# --------------------------------------------------------------------------- schemas


@cache
def _registry() -> Registry[Any]:
    resources = []
    for path in sorted(SCHEMA_DIR.glob(f"*.{SCHEMA_VERSION}.schema.json")):
        contents = json.loads(path.read_text(encoding="utf-8"))
        resources.append((contents["$id"], Resource.from_contents(contents)))
    return Registry().with_resources(resources)


def schema_of(name: str) -> dict[str, Any]:
    """The JSON Schema document `schemas/<name>.v1.schema.json`."""
    path = SCHEMA_DIR / f"{name}.{SCHEMA_VERSION}.schema.json"
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


@cache
def _validator(name: str) -> jsonschema.protocols.Validator:
    schema = schema_of(name)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, registry=_registry(), format_checker=cls.FORMAT_CHECKER)


# keywords whose values are subschemas (JSON Schema 2020-12); the rest hold data
_SUBSCHEMA = frozenset({
    "items", "additionalProperties", "not", "if", "then", "else", "contains", "propertyNames",
    "unevaluatedItems", "unevaluatedProperties",
})
_SUBSCHEMA_LISTS = frozenset({"allOf", "anyOf", "oneOf", "prefixItems"})
_SUBSCHEMA_MAPS = frozenset({"properties", "patternProperties", "dependentSchemas"})
_MAX_INLINE_DEPTH = 64


def _inlined(schema: Any, resolver: Any, depth: int = 0) -> Any:
    """`schema` with every `$ref` replaced by the subschema it refers to: `{"$ref": r}` by
    the target itself, `{"$ref": r, ...}` by `{..., "allOf": [target]}` (what `$ref` means
    in 2020-12). `$defs` go: nothing refers to them any more. `resolver` is a referencing
    Resolver at the base URI of `schema`."""
    if depth > _MAX_INLINE_DEPTH:
        raise RecursionError("a recursive $ref cannot be inlined")
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in ("$ref", "$defs"):
            continue
        if key in _SUBSCHEMA:
            out[key] = _inlined(value, resolver, depth + 1)
        elif key in _SUBSCHEMA_LISTS:
            out[key] = [_inlined(item, resolver, depth + 1) for item in value]
        elif key in _SUBSCHEMA_MAPS:
            out[key] = {k: _inlined(v, resolver, depth + 1) for k, v in value.items()}
        else:
            out[key] = value
    if "$ref" in schema:
        resolved = resolver.lookup(schema["$ref"])
        target = _inlined(resolved.contents, resolved.resolver, depth + 1)
        if not out:
            return target
        out["allOf"] = [*out.get("allOf", []), target]
    return out


@cache
def _fast_validator(name: str) -> jsonschema.protocols.Validator | None:
    """The schema `name` with its references inlined, to answer "valid?" quickly: following
    a `$ref` (URL joins, JSON pointers) is half the cost of validating a decision. None if
    the schema cannot be inlined (then the full validator answers)."""
    validator = _validator(name)
    cls, schema = type(validator), validator.schema
    if not isinstance(schema, Mapping):
        return None
    try:
        inlined = _inlined(schema, _registry().resolver(str(schema["$id"])))
    except (RecursionError, Unresolvable, LookupError, TypeError, AttributeError):
        return None
    if '"$ref"' in json.dumps(inlined):  # a reference somewhere the walk does not know
        return None
    cls.check_schema(inlined)
    return cls(inlined, format_checker=cls.FORMAT_CHECKER)


def _schema_violation(error: jsonschema.ValidationError, base: str) -> Violation:
    pointer = base + "".join(f"/{_escape(p)}" for p in error.absolute_path)
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    expected: Any = error.validator_value
    match error.validator:
        case "required":
            missing = str(error.message).split("'")[1]
            return Violation(f"{pointer}/{_escape(missing)}", "required", {"field": missing})
        case "additionalProperties":
            instance: Any = error.instance
            extra = sorted(set(instance) - set(schema.get("properties", {})))
            name = extra[0] if extra else "?"
            return Violation(f"{pointer}/{_escape(name)}", "unknown_field", {"field": name})
        case "type":
            return Violation(pointer, "type", {"expected": expected})
        case "enum":
            return Violation(pointer, "enum", {"allowed": ", ".join(map(str, expected))})
        case "anyOf" | "oneOf":
            allowed = [v for sub in expected for v in _enum_of(sub)]
            if allowed:
                return Violation(pointer, "enum", {"allowed": ", ".join(allowed)})
            return Violation(pointer, "invalid")
        case "minLength" | "minItems":
            return Violation(pointer, "too_short", {"limit": expected})
        case "maxLength" | "maxItems":
            return Violation(pointer, "too_long", {"limit": expected})
        case "pattern" | "format":
            fmt = schema.get("format")
            if fmt == "date":
                return Violation(pointer, "bad_date")
            if fmt == "date-time":
                return Violation(pointer, "bad_datetime")
            if schema.get("pattern") == "^[0-9]{12}$":
                return Violation(pointer, "bad_format", {"expected": "12 digits"})
            return Violation(pointer, "bad_text")
    return Violation(pointer, "invalid")


def _enum_of(subschema: Mapping[str, Any]) -> list[str]:
    if "enum" in subschema:
        return [str(v) for v in subschema["enum"]]
    if "$ref" in subschema:
        resolved = (
            _registry().resolver().lookup("https://qujat.kz/schemas/" + subschema["$ref"]).contents
        )
        return _enum_of(resolved)
    return []


def _escape(part: object) -> str:
    return str(part).replace("~", "~0").replace("/", "~1")


def schema_violations(name: str, instance: object, base: str = "") -> list[Violation]:
    """Every violation of `schemas/<name>.v1.schema.json`, pointers prefixed with `base`."""
    fast = _fast_validator(name)
    if fast is not None and fast.is_valid(instance):  # type: ignore[arg-type]
        return []  # the same answer, sooner: the errors are only worth finding if any
    found = _validator(name).iter_errors(instance)  # type: ignore[arg-type]
    errors = sorted(found, key=lambda e: list(map(str, e.path)))
    unique: dict[tuple[str, str], Violation] = {}
    for error in errors:  # a bad date breaks both "pattern" and "format": say it once
        violation = _schema_violation(error, base)
        unique.setdefault((violation.pointer, violation.code), violation)
    return list(unique.values())


# --------------------------------------------------------------------------- conversion

_T = TypeVar("_T")


@cache
def _field_types(kind: type[Any]) -> dict[str, Any]:
    """A dataclass's resolved field annotations (resolving them is slow: once per class)."""
    return typing.get_type_hints(kind)


def _convert(kind: Any, value: Any) -> Any:
    """A schema-valid JSON value as an instance of the annotated type `kind`."""
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return None
        options = [a for a in typing.get_args(kind) if a is not type(None)]
        if set(options) == {TeacherCategory, HeadCategory}:
            return parse_category(value)
        return _convert(options[0], value)
    if origin is tuple:
        (item,) = {a for a in typing.get_args(kind) if a is not Ellipsis}
        return tuple(_convert(item, v) for v in value)
    if dataclasses.is_dataclass(kind):
        hints = _field_types(kind)  # type: ignore[arg-type]
        return kind(**{k: _convert(hints[k], v) for k, v in value.items()})  # type: ignore[operator]
    if kind is dt.date:
        return dt.date.fromisoformat(value)
    if kind is dt.datetime:
        return dt.datetime.fromisoformat(value)
    return kind(value)


def _parse_dates(instance: Any, base: str) -> Iterator[Violation]:
    """Schema patterns let 2024-02-30 through when no format checker is present: check here."""
    for pointer, value, kind in _walk_temporal(instance, base):
        try:
            parsed = (dt.date if kind == "date" else dt.datetime).fromisoformat(value)
        except ValueError:
            yield Violation(pointer, "bad_date" if kind == "date" else "bad_datetime")
            continue
        if isinstance(parsed, dt.datetime) and parsed.tzinfo is None:
            yield Violation(pointer, "bad_datetime")
        elif not in_window(parsed):
            yield Violation(pointer, "date_out_of_range", WINDOW)


_TEMPORAL_KEYS = {
    "date": "date",
    "commission_decision_date": "date",
    "issue_date": "date",
    "valid_until": "date",
    "sent_at": "datetime",
    "application_received_at": "datetime",
}


def _walk_temporal(node: Any, pointer: str) -> Iterator[tuple[str, str, str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            here = f"{pointer}/{_escape(key)}"
            if key in _TEMPORAL_KEYS and isinstance(value, str):
                yield here, value, _TEMPORAL_KEYS[key]
            else:
                yield from _walk_temporal(value, here)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk_temporal(value, f"{pointer}/{i}")


def iin_violations(node: Any, pointer: str = "") -> Iterator[Violation]:
    """Every `iin` of 12 digits in `node` whose check digit is wrong."""
    if isinstance(node, dict):
        for key, value in node.items():
            here = f"{pointer}/{_escape(key)}"
            if key == "iin" and isinstance(value, str) and len(value) == 12 and value.isdigit():
                if not is_valid_iin(value):
                    yield Violation(here, "iin_checksum")
            else:
                yield from iin_violations(value, here)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from iin_violations(value, f"{pointer}/{i}")


#: the fields that hold a person's name; every other string is a text (service/text.py)
NAME_FIELDS = frozenset({"surname", "given_name", "patronymic"})


def text_violations(node: Any, pointer: str = "") -> Iterator[Violation]:
    """Every string in `node` that breaks the text rule: names by the rule for names,
    everything else (organisations, positions, reasons, numbers, and the enums, dates and
    identifiers, which pass it) by the rule for texts."""
    if isinstance(node, dict):
        for key, value in node.items():
            here = f"{pointer}/{_escape(key)}"
            if isinstance(value, str):
                kind = TextKind.NAME if key in NAME_FIELDS else TextKind.TEXT
                problem = text_problem(value, kind)
                if problem is not None:
                    yield Violation(here, problem.code, problem.params)
            else:
                yield from text_violations(value, here)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            here = f"{pointer}/{i}"
            if isinstance(value, str):
                problem = text_problem(value)
                if problem is not None:
                    yield Violation(here, problem.code, problem.params)
            else:
                yield from text_violations(value, here)


def with_text_rule(violations: list[Violation], payload: Any, base: str = "") -> list[Violation]:
    """`violations` and the text rule's: where the text rule says why a text is refused, the
    schema's vaguer `bad_text` for the same field goes."""
    texts = list(text_violations(payload, base))
    refused = {v.pointer for v in texts}
    kept = [v for v in violations if not (v.code == "bad_text" and v.pointer in refused)]
    return kept + texts


# --------------------------------------------------------------------------- the act's rules


def add_years(start: dt.date, years: int) -> dt.date:
    """The same day `years` later; 29 February becomes 28 February in a common year."""
    try:
        return start.replace(year=start.year + years)
    except ValueError:
        return start.replace(year=start.year + years, day=28)


def validity_years(category: Category) -> int:
    """3 years for first heads, 5 for everyone else (p. 3, p. 43)."""
    return 3 if isinstance(category, HeadCategory) and category.is_first_head else 5


def _teacher_outcome_rules(row: TeacherRow | Extract, at: str) -> Iterator[Violation]:
    current, declared, awarded = row.current_category, row.declared_category, row.awarded_category
    match row.outcome:
        case TeacherOutcome.CORRESPONDS_DECLARED:
            if awarded is None:
                yield Violation(f"{at}/awarded_category", "awarded_required")
            elif awarded != declared:
                yield Violation(f"{at}/awarded_category", "awarded_must_equal_declared")
            if current is not None and declared.rank < current.rank:
                yield Violation(f"{at}/declared_category", "declared_below_current")
        case TeacherOutcome.NOT_CORRESPONDS_DECLARED:
            if not row.reason:
                yield Violation(f"{at}/reason", "reason_required")
            if awarded is not None and awarded != current:
                code = "awarded_must_equal_current" if current else "awarded_not_allowed"
                yield Violation(f"{at}/awarded_category", code)
        case TeacherOutcome.CORRESPONDS_CURRENT:
            if current is None:
                yield Violation(f"{at}/current_category", "current_required")
            else:
                if awarded is not None and awarded != current:
                    yield Violation(f"{at}/awarded_category", "awarded_must_equal_current")
                if declared.rank <= current.rank:
                    yield Violation(f"{at}/declared_category", "declared_not_above_current")
        case TeacherOutcome.CORRESPONDS_BELOW_CURRENT:
            if current is None:
                yield Violation(f"{at}/current_category", "current_required")
            elif awarded is None:
                yield Violation(f"{at}/awarded_category", "awarded_required")
            elif awarded.rank >= current.rank:
                yield Violation(f"{at}/awarded_category", "awarded_must_be_below_current")


def _head_outcome_rules(row: HeadRow | HeadsExtract, at: str) -> Iterator[Violation]:
    current, declared, awarded = row.current_category, row.declared_category, row.awarded_category
    match row.outcome:
        case HeadOutcome.CORRESPONDS_DECLARED:
            if awarded is None:
                yield Violation(f"{at}/awarded_category", "awarded_required")
            elif awarded != declared:
                yield Violation(f"{at}/awarded_category", "awarded_must_equal_declared")
        case HeadOutcome.CORRESPONDS_CURRENT:
            if current is None:
                yield Violation(f"{at}/current_category", "current_required")
            elif awarded is not None and awarded != current:
                yield Violation(f"{at}/awarded_category", "awarded_must_equal_current")
        case HeadOutcome.CORRESPONDS_BELOW_DECLARED:
            if awarded is None:
                yield Violation(f"{at}/awarded_category", "awarded_required")
            elif not awarded.same_ladder(declared):
                yield Violation(f"{at}/awarded_category", "ladder_mismatch")
            elif awarded.rank >= declared.rank:
                yield Violation(f"{at}/awarded_category", "awarded_must_be_below_declared")
        case HeadOutcome.NOT_CORRESPONDS:
            if not row.reason:
                yield Violation(f"{at}/reason", "reason_required")
            if awarded is not None:
                yield Violation(f"{at}/awarded_category", "awarded_not_allowed")


def not_in_future(value: dt.date | dt.datetime, now: dt.datetime, at: str) -> Iterator[Violation]:
    late = value > now if isinstance(value, dt.datetime) else value > now.astimezone(ALMATY).date()
    if late:
        yield Violation(at, "future_date")


def _not_before(value: dt.date, earliest: dt.date, at: str, other: str) -> Iterator[Violation]:
    if value < earliest:
        yield Violation(at, "date_order", {"other": other})


def _unique_people(
    people: Sequence[Person], at: Callable[[int], str], code: str
) -> Iterator[Violation]:
    first_seen: dict[str, int] = {}
    for i, person in enumerate(people):
        key = person.identity
        if key in first_seen:
            yield Violation(at(i), code, {"first": first_seen[key] + 1})
        else:
            first_seen[key] = i


def _commission_rules(commission: Commission, at: str) -> Iterator[Violation]:
    everyone = (commission.chair, *commission.members, commission.secretary)
    names = ["chair", *(f"members/{i}" for i in range(len(commission.members))), "secretary"]
    yield from _unique_people(everyone, lambda i: f"{at}/{names[i]}", "duplicate_member")


def rule_violations(decision: Decision, now: dt.datetime, base: str = "") -> Iterator[Violation]:
    """What the act forbids that the schema cannot express."""
    match decision:
        case Certificate():
            d = decision
            yield from not_in_future(
                d.commission_decision_date, now, f"{base}/commission_decision_date"
            )
            yield from not_in_future(d.order.date, now, f"{base}/order/date")
            yield from not_in_future(d.issue_date, now, f"{base}/issue_date")
            yield from _not_before(
                d.order.date,
                d.commission_decision_date,
                f"{base}/order/date",
                "commission_decision_date",
            )
            yield from _not_before(d.issue_date, d.order.date, f"{base}/issue_date", "order/date")
            expected = add_years(d.order.date, validity_years(d.category))
            if d.valid_until is not None and d.valid_until != expected:
                yield Violation(
                    f"{base}/valid_until", "validity_mismatch", {"expected": expected.isoformat()}
                )
        case Protocol() | HeadsProtocol():
            yield from not_in_future(decision.session.date, now, f"{base}/session/date")
            yield from _commission_rules(decision.commission, f"{base}/commission")
            yield from _unique_people(
                [r.person for r in decision.rows],
                lambda i: f"{base}/rows/{i}/person",
                "duplicate_person",
            )
            for i, row in enumerate(decision.rows):
                if isinstance(row, TeacherRow):
                    yield from _teacher_outcome_rules(row, f"{base}/rows/{i}")
                elif isinstance(row, HeadRow):
                    yield from _head_outcome_rules(row, f"{base}/rows/{i}")
        case Extract():
            yield from not_in_future(decision.session.date, now, f"{base}/session/date")
            yield from _teacher_outcome_rules(decision, base)
        case HeadsExtract():
            yield from not_in_future(decision.session.date, now, f"{base}/session/date")
            yield from _head_outcome_rules(decision, base)
        case Acceptance() | Refusal():
            yield from not_in_future(decision.sent_at, now, f"{base}/sent_at")
            received = decision.application_received_at
            if received is not None:
                yield from not_in_future(received, now, f"{base}/application_received_at")
                if decision.sent_at < received:
                    yield Violation(
                        f"{base}/sent_at", "date_order", {"other": "application_received_at"}
                    )


def complete(decision: Decision) -> Decision:
    """The decision with what the act lets us compute filled in (the certificate's validity)."""
    if isinstance(decision, Certificate) and decision.valid_until is None:
        until = add_years(decision.order.date, validity_years(decision.category))
        return dataclasses.replace(decision, valid_until=until)
    return decision


def parse_decision(
    form: Form, payload: object, *, clock: Clock = system_clock, base: str = ""
) -> Decision:
    """Validate `payload` for `form` and return the frozen decision, or raise InvalidDecision."""
    violations = schema_violations(form.value, payload, base)
    violations += iin_violations(payload, base)
    violations = with_text_rule(violations, payload, base)
    if not violations:
        violations += _parse_dates(payload, base)
    if violations:
        raise InvalidDecision(violations)
    decision: Decision = _convert(DECISION_TYPES[form], payload)
    broken = list(rule_violations(decision, clock(), base))
    if broken:
        raise InvalidDecision(broken)
    return complete(decision)


def parse_request(
    payload: Any, clock: Clock = system_clock
) -> tuple[Form, Language, str, Decision]:
    """The envelope `{form, language, format, decision}`: checked, then the decision parsed."""
    violations = schema_violations("request", payload)
    address = payload.get("deliver_to") if isinstance(payload, dict) else None
    if isinstance(address, str) and (problem := email_problem(address)) is not None:
        violations = [v for v in violations if v.pointer != "/deliver_to"]
        violations.append(Violation("/deliver_to", problem.code, problem.params))
    if violations:
        raise InvalidDecision(violations)
    form = Form(payload["form"])
    language: Language = payload["language"]
    decision = parse_decision(form, payload["decision"], clock=clock, base="/decision")
    return form, language, payload.get("format", "pdf"), decision
