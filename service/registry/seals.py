"""Row seals: the content of every row that makes a document what it is, chained into the audit
trail when it is written, so that an edit, a deletion or an insertion behind the service's back
is found by `qujat audit verify`.

Sealed tables: documents, document_facts, signing_states, signature_requirements, signatures,
revocations, supersessions and commissions (a protocol's quorum is counted from its
commission). A row's seal is

    [table, key, SHA-256 of canonical_json([table, {column: value}]), {column: fingerprint}]

with NULL columns left out (so a nullable column added later leaves older seals valid), values
in one text form (UTC ISO timestamps with microseconds, ISO dates, UUIDs with dashes, enum
values) and a fingerprint of 8 hex digits per column (`fingerprint`) that only serves to name
the column that changed (the 256-bit digest is what detects the change). A deleted row is
sealed with a digest of None.

Every write of a sealed table is sealed in its own transaction, by the next audit entry it
appends (`service.registry.audit.append_entry` carries the seals in the entry's `rows`,
hashed with the rest of the entry): - rows inserted through the ORM are sealed from the
values inserted (nobody else can see, let alone change, an uncommitted row); - rows updated
through the ORM are read back inside the transaction, under the row lock the update holds,
so the seal is what the row holds and not a possibly stale object; - rows written with Core
statements are sealed by the writer (`seal_values`), from the values it inserted or the row
an UPDATE … RETURNING returned. A transaction that writes a sealed table and appends no
audit entry afterwards is refused at commit (`UnsealedWrite`): the write would be
indistinguishable from tampering.

The latest seal of a row in the order of the chain is what the row must hold now: a later
legitimate change (a pending document issued, a protocol signed) writes a later entry.
`check_rows` recomputes every sealed row and compares.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, cast

from sqlalchemy import Table, and_, event, inspect, select
from sqlalchemy.orm import Session, UOWTransaction

from service.registry.models import Document
from service.signatures.models import (
    CommissionRecord,
    SignatureRecord,
    SignatureRequirement,
    SigningState,
)
from service.verification.models import DocumentFacts, Revocation, Supersession

SEALED_TABLES: tuple[Table, ...] = tuple(
    cast(Table, model.__table__)
    for model in (
        Document,
        DocumentFacts,
        SigningState,
        SignatureRequirement,
        SignatureRecord,
        Revocation,
        Supersession,
        CommissionRecord,
    )
)
_BY_NAME = {table.name: table for table in SEALED_TABLES}
#: the column that names a sealed row's document (commissions belong to no document)
DOCUMENT_COLUMN = {
    "documents": "id",
    "document_facts": "document_id",
    "signing_states": "document_id",
    "signature_requirements": "document_id",
    "signatures": "document_id",
    "revocations": "document_id",
    "supersessions": "old_document_id",
}
FINGERPRINT_HEX = 8
_PENDING = "qujat.seals"
_REREAD = object()  # an updated row: read back when its seal is taken


class UnsealedWrite(RuntimeError):
    """A transaction wrote a sealed table but appended no audit entry afterwards."""


# the text of service.registry.audit.canonical_json; one encoder made once (json.dumps with these
# options builds a new one at every call, which costs more than the hashing)
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _json(value: object) -> str:
    return _ENCODER.encode(value)


def canonical_value(value: object) -> object:
    """The one text form of a column value in a seal."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, dt.datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
        return aware.astimezone(dt.UTC).isoformat(timespec="microseconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    raise TypeError(f"no sealed form for a {type(value).__name__}")


@dataclass(frozen=True, slots=True)
class Seal:
    table: str
    key: str
    digest: str | None  # None: the row was deleted
    fingerprints: Mapping[str, str]

    def as_json(self) -> list[object]:
        return [self.table, self.key, self.digest, dict(self.fingerprints)]


def row_key(table: Table, values: Mapping[Any, Any]) -> str:
    """A row's primary key as text: its values in key order, joined by '/'."""
    return "/".join(str(canonical_value(values[c.name])) for c in table.primary_key.columns)


def seal_of(table: Table, values: Mapping[Any, Any]) -> Seal:
    """The seal of a row holding `values` (column name → value; absent means NULL)."""
    content = {
        column.name: canonical_value(values[column.name])
        for column in table.columns
        if values.get(column.name) is not None
    }
    digest = hashlib.sha256(_json([table.name, content]).encode("utf-8")).hexdigest()
    fingerprints = {name: fingerprint(name, value) for name, value in content.items()}
    return Seal(table.name, row_key(table, values), digest, fingerprints)


def fingerprint(name: str, value: object) -> str:
    """8 hex digits of SHA-256 over the column's name, its value's kind and its text: enough
    to point at the column that changed, cheap enough for every column of every write."""
    kind = "b" if isinstance(value, bool) else "i" if isinstance(value, int) else "s"
    material = f"{name}\x00{kind}\x00{value}".encode()
    return hashlib.sha256(material).hexdigest()[:FINGERPRINT_HEX]


# --------------------------------------------------------------------------- sealing writes


def _pending(session: Session) -> dict[tuple[str, str], Any]:
    found: dict[tuple[str, str], Any] = session.info.setdefault(_PENDING, {})
    return found


def seal_values(session: Session, table: Table, values: Mapping[Any, Any]) -> None:
    """Seal a row a Core statement wrote (all its columns, as the database now holds them)."""
    seal = seal_of(table, values)
    _pending(session)[(seal.table, seal.key)] = seal


def _object_values(instance: object) -> tuple[Table, dict[str, Any]] | None:
    state = inspect(instance)
    table = state.mapper.local_table
    if not isinstance(table, Table) or table.name not in _BY_NAME:
        return None
    values = {}
    for prop in state.mapper.column_attrs:
        loaded = state.dict.get(prop.key)
        values[prop.columns[0].name] = loaded
    return table, values


@event.listens_for(Session, "after_flush")
def _capture(session: Session, _flush: UOWTransaction) -> None:
    """Note every sealed row the flush wrote (the lists still hold the flush's objects)."""
    pending = _pending(session)
    for instance in session.new:
        found = _object_values(instance)
        if found is not None:
            seal = seal_of(*found)
            pending[(seal.table, seal.key)] = seal
    for instance in session.dirty:
        found = _object_values(instance)
        if found is not None and session.is_modified(instance, include_collections=False):
            table, values = found
            pending[(table.name, row_key(table, values))] = _REREAD
    for instance in session.deleted:
        found = _object_values(instance)
        if found is not None:
            table, values = found
            key = row_key(table, values)
            pending[(table.name, key)] = Seal(table.name, key, None, {})


@event.listens_for(Session, "before_commit")
def _refuse_unsealed(session: Session) -> None:
    session.flush()
    if session.info.get(_PENDING):
        unsealed = ", ".join(f"{t} {k}" for t, k in session.info[_PENDING])
        session.info.pop(_PENDING)
        raise UnsealedWrite(f"sealed rows written without an audit entry: {unsealed}")


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_PENDING, None)


def take(session: Session) -> str | None:
    """The seals of the rows this transaction wrote since the last call, as the canonical JSON
    of an audit entry's `rows` (None when there are none); updated rows are read back now."""
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return None
    seals = []
    for (name, key), seal in pending.items():
        if seal is _REREAD:
            seal = _read_back(session, _BY_NAME[name], key)
        seals.append(seal.as_json())
    return _json(seals)


def _key_condition(table: Table, key: str) -> Any:
    columns = list(table.primary_key.columns)
    parts = key.split("/")
    return and_(*(column == _typed(column, part) for column, part in zip(columns, parts,
                                                                         strict=True)))


def _typed(column: Any, text: str) -> object:
    python_type = column.type.python_type
    if python_type is uuid.UUID:
        return uuid.UUID(text)
    if python_type is int:
        return int(text)
    return text


def _read_back(session: Session, table: Table, key: str) -> Seal:
    row = session.execute(select(table).where(_key_condition(table, key))).one_or_none()
    if row is None:
        return Seal(table.name, key, None, {})
    return seal_of(table, row._mapping)


# --------------------------------------------------------------------------- checking


@dataclass(frozen=True, slots=True)
class SealedAt:
    """A row's latest seal in the chain, and the entry that carries it."""

    digest: str | None
    seq: int


def read_seals(rows: str | None) -> Iterator[Seal]:
    """The seals an audit entry carries."""
    if rows is None:
        return
    for table, key, digest, fingerprints in json.loads(rows):
        yield Seal(table, key, digest, fingerprints)


@dataclass(frozen=True, slots=True)
class RowProblem:
    """A sealed row that is not what the chain says it is."""

    table: str
    key: str
    document_id: str | None
    change: str  # "edited", "inserted" (no seal in the chain), "deleted"
    seq: int | None  # the entry holding the row's latest seal
    columns: tuple[str, ...] = ()  # for an edit: the columns whose fingerprint differs


_BATCH = 2000


def check_rows(
    session: Session, latest: dict[tuple[str, str], SealedAt], fingerprints: Any
) -> tuple[int, list[RowProblem]]:
    """Compare every sealed row with its latest seal in the chain (`latest`, which this
    consumes). `fingerprints(seq, table, key)` gives the fingerprints an entry sealed a row with.
    Returns how many rows were checked and what does not match."""
    problems: list[RowProblem] = []
    checked = 0
    for table in SEALED_TABLES:
        document_column = DOCUMENT_COLUMN.get(table.name)
        rows = session.execute(select(table).execution_options(yield_per=_BATCH))
        for row in rows:
            checked += 1
            values = row._mapping
            seal = seal_of(table, values)
            document_id = (str(values[document_column]) if document_column is not None
                           else None)
            expected = latest.pop((table.name, seal.key), None)
            if expected is None or expected.digest is None:
                problems.append(RowProblem(table.name, seal.key, document_id, "inserted",
                                           None if expected is None else expected.seq))
            elif expected.digest != seal.digest:
                sealed: Mapping[str, str] = fingerprints(expected.seq, table.name, seal.key)
                changed = tuple(sorted(
                    name for name in {*sealed, *seal.fingerprints}
                    if sealed.get(name) != seal.fingerprints.get(name)
                ))
                problems.append(RowProblem(table.name, seal.key, document_id, "edited",
                                           expected.seq, changed))
    for (name, key), expected in latest.items():
        if expected.digest is None:
            continue  # deleted by the service, and gone: as sealed
        document_column = DOCUMENT_COLUMN.get(name)
        document_id = key.split("/")[0] if document_column is not None else None
        problems.append(RowProblem(name, key, document_id, "deleted", expected.seq))
    return checked, problems
