"""The audit trail: an append-only log whose entries are chained by SHA-256.

Entry n stores `hash = SHA-256(canonical [seq, at, event, document id, payload, prev_hash])`
with `prev_hash` the hash of entry n-1 (the genesis hash, 64 zeros, for the first); an entry
that seals registry rows (see service.registry.seals) has their seals in `rows`, appended to
that list before hashing (entries without seals hash as they always did). The `audit_head`
row keeps the count and the last hash: every append locks it (so appends are serial and the
chain never forks) and it reveals entries cut off the end of the log.

`verify` recomputes everything and names the first entry that does not fit: edited (its hash
no longer matches its content), deleted or inserted (a gap in the numbering, a `prev_hash`
that is not its predecessor's), reordered (a sequence number or hash moved to another row).
Then every sealed row is recomputed and compared with its latest seal in the chain: an
edited, deleted or inserted row of the documents, their facts, signatures and revocations is
named with its document. Whoever can rewrite the whole table *and* recompute every hash
defeats any self-contained chain; `verify` prints the head hash so it can be recorded
elsewhere and compared later.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from service.core.models import GENESIS_HASH
from service.forms.decisions import Clock
from service.registry import seals
from service.registry.models import AuditEntry, AuditHead, Document, DocumentStatus

# plain tables, not ORM entities: an append is on every write path and should cost little
_LOG = cast(Table, AuditEntry.__table__)
_HEAD = cast(Table, AuditHead.__table__)


class AuditChainMissing(RuntimeError):
    """The chain's head row is gone: the schema was not migrated or someone deleted it."""


def canonical_json(value: object) -> str:
    """One text per value: sorted keys, no spaces, UTF-8 kept as is."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def timestamp(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).isoformat(timespec="microseconds")


def entry_hash(
    seq: int,
    at: dt.datetime,
    event: str,
    document_id: uuid.UUID | None,
    payload: str,
    prev_hash: str,
    rows: str | None = None,
) -> str:
    fields: list[object] = [
        seq, timestamp(at), event, str(document_id) if document_id else None, payload, prev_hash
    ]
    if rows is not None:
        fields.append(rows)
    material = canonical_json(fields)
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Appended:
    """The entry an `append` wrote."""

    seq: int
    at: dt.datetime
    event: str
    document_id: uuid.UUID | None
    payload: str
    prev_hash: str
    hash: str
    rows: str | None = None


# built once: an append is on every write path (see `append_entry`)
_LOCK_HEAD = select(_HEAD.c.count, _HEAD.c.head_hash).where(_HEAD.c.id == 1).with_for_update()
_ADD_ENTRY = insert(_LOG)
_MOVE_HEAD = (
    update(_HEAD)
    .where(_HEAD.c.id == 1)
    .values(count=bindparam("new_count"), head_hash=bindparam("new_hash"))
)


def append(
    session: Session,
    event: str,
    document: Document | None,
    payload: Mapping[str, object],
    clock: Clock,
) -> Appended:
    """Append one entry inside the caller's write transaction, which it serialises with every
    other append until commit: call it last, just before the commit."""
    return append_entry(
        session, event, document.id if document is not None else None, payload, clock
    )


def append_entry(
    session: Session,
    event: str,
    document_id: uuid.UUID | None,
    payload: Mapping[str, object],
    clock: Clock,
) -> Appended:
    """`append` for a document known by its id (whose row need not be loaded). The entry
    seals every registry row the transaction wrote since its previous entry."""
    session.flush()  # the document row the entry points at must exist first
    rows = seals.take(session)
    head = session.execute(_LOCK_HEAD).one_or_none()
    if head is None:
        raise AuditChainMissing("the audit chain head is missing: run `qujat db upgrade`")
    count, prev_hash = head
    seq = count + 1
    # microseconds are what both databases keep; the hash must survive the round trip
    at = clock().astimezone(dt.UTC)
    text = canonical_json(dict(payload))
    digest = entry_hash(seq, at, event, document_id, text, prev_hash, rows)
    session.execute(
        _ADD_ENTRY,
        {
            "seq": seq,
            "at": at,
            "event": event,
            "document_id": document_id,
            "payload": text,
            "prev_hash": prev_hash,
            "hash": digest,
            "rows": rows,
        },
    )
    session.execute(_MOVE_HEAD, {"new_count": seq, "new_hash": digest})
    appended = Appended(seq, at, event, document_id, text, prev_hash, digest, rows)
    for observer in _observers:
        observer(session, appended)
    return appended


AuditObserver = Callable[[Session, Appended], None]
_observers: list[AuditObserver] = []


def observe(observer: AuditObserver) -> None:
    """Call `observer` with every entry appended from now on, inside the appending
    transaction (what it writes commits or rolls back with the entry): how another capability
    (webhooks) acts on the events the registry records without the registry knowing it."""
    if observer not in _observers:
        _observers.append(observer)


def history(session: Session, document_id: uuid.UUID) -> list[AuditEntry]:
    """A document's entries, oldest first."""
    return list(
        session.scalars(
            select(AuditEntry).where(AuditEntry.document_id == document_id).order_by(AuditEntry.seq)
        )
    )


# --------------------------------------------------------------------------- verification


@dataclass(frozen=True, slots=True)
class ChainBreak:
    """The first place where the log stops being the chain that was written."""

    seq: int | None  # None: not an entry of the log (the head, a document)
    reason: str


@dataclass(frozen=True, slots=True)
class ChainReport:
    entries: int
    head_hash: str
    breaks: tuple[ChainBreak, ...]
    rows_checked: int = 0  # sealed registry rows compared with their seals

    @property
    def intact(self) -> bool:
        return not self.breaks


_BATCH = 2000


def verify(session: Session) -> ChainReport:
    """Recompute the whole chain; report the first broken entry, then what the head and the
    documents table say that the log does not, then every sealed row that does not match its
    latest seal."""
    breaks: list[ChainBreak] = []
    expected_seq = 1
    prev_hash = GENESIS_HASH
    events: dict[uuid.UUID, set[str]] = {}
    latest: dict[tuple[str, str], seals.SealedAt] = {}
    rows = session.execute(select(AuditEntry).order_by(AuditEntry.seq).execution_options(
        yield_per=_BATCH
    )).scalars()
    for entry in rows:
        if entry.document_id is not None:
            events.setdefault(entry.document_id, set()).add(entry.event)
        for seal in seals.read_seals(entry.rows):
            latest[(seal.table, seal.key)] = seals.SealedAt(seal.digest, entry.seq)
        if breaks:
            continue
        if entry.seq != expected_seq:
            what = "missing (deleted)" if entry.seq > expected_seq else "out of order"
            breaks.append(ChainBreak(expected_seq, f"entry #{expected_seq} is {what}; "
                                     f"the next entry found is #{entry.seq}"))
            continue
        digest = entry_hash(
            entry.seq, entry.at, entry.event, entry.document_id, entry.payload, entry.prev_hash,
            entry.rows,
        )
        if digest != entry.hash:
            breaks.append(ChainBreak(entry.seq, f"entry #{entry.seq} ({entry.event}) does not "
                                     "match its hash: it was edited or moved"))
        elif entry.prev_hash != prev_hash:
            breaks.append(ChainBreak(entry.seq, f"entry #{entry.seq} ({entry.event}) does not "
                                     f"follow entry #{entry.seq - 1}: an entry before it was "
                                     "removed, inserted or replaced"))
        prev_hash = entry.hash
        expected_seq += 1
    count = expected_seq - 1
    head = session.get(AuditHead, 1)
    if head is None:
        breaks.append(ChainBreak(None, "the chain head row is missing"))
        head_hash = prev_hash
    else:
        head_hash = head.head_hash
        if not breaks and (head.count != count or head.head_hash != prev_hash):
            breaks.append(ChainBreak(
                min(count, head.count) + 1,
                f"the chain head records {head.count} entries ending in {head.head_hash[:12]}…, "
                f"the log has {count} ending in {prev_hash[:12]}…: entries were cut from its "
                "end or added behind the service's back",
            ))
    breaks.extend(_unaudited_documents(session, events))
    checked, problems = seals.check_rows(session, latest, lambda seq, table, key: _sealed_with(
        session, seq, table, key))
    breaks.extend(_row_breaks(session, problems))
    return ChainReport(count, head_hash, tuple(breaks), checked)


def _sealed_with(session: Session, seq: int, table: str, key: str) -> Mapping[str, str]:
    """The column fingerprints entry #seq sealed a row with."""
    rows = session.scalar(select(AuditEntry.rows).where(AuditEntry.seq == seq))
    for seal in seals.read_seals(rows):
        if (seal.table, seal.key) == (table, key):
            return seal.fingerprints
    return {}


_CHANGES = {
    "edited": "was edited",
    "inserted": "has no seal in the audit trail: inserted behind the service's back",
    "deleted": "was deleted",
}


def _row_breaks(session: Session, problems: list[seals.RowProblem]) -> list[ChainBreak]:
    """One line per row that does not match, naming its document by the number its `created`
    entry recorded (the number in the table may be the forgery)."""
    found = []
    for problem in problems:
        what = f"{problem.table} row {problem.key}"
        if problem.document_id is not None:
            what += f" of document {_document_name(session, problem.document_id)}"
        text = f"{what} {_CHANGES[problem.change]}"
        if problem.change == "edited":
            columns = ", ".join(problem.columns) or "a column"
            text += f": {columns} changed since entry #{problem.seq} sealed it"
        elif problem.change == "deleted":
            text += f" (entry #{problem.seq} sealed it)"
        elif problem.seq is not None:
            text += f" (entry #{problem.seq} recorded its deletion)"
        found.append(ChainBreak(problem.seq, text))
    return found


def _document_name(session: Session, document_id: str) -> str:
    try:
        key = uuid.UUID(document_id)
    except ValueError:
        return document_id
    created = session.scalar(
        select(AuditEntry.payload)
        .where(AuditEntry.document_id == key, AuditEntry.event == "created")
        .order_by(AuditEntry.seq).limit(1)
    )
    number = json.loads(created).get("registration_number") if created else None
    if number is None:
        number = session.scalar(
            select(Document.registration_number).where(Document.id == key)
        )
    return f"{number} ({document_id})" if number else f"({document_id}, not in the registry)"


def _unaudited_documents(
    session: Session, events: Mapping[uuid.UUID, set[str]]
) -> list[ChainBreak]:
    """Documents whose life is not in the log (its entries were deleted with a re-chain)."""
    found = []
    rows = session.execute(
        select(Document.id, Document.registration_number, Document.status)
    )
    for document_id, number, status in rows:
        seen = events.get(document_id, set())
        needed = {"created"} | ({"issued"} if status == DocumentStatus.ISSUED else set())
        missing = sorted(needed - seen)
        if missing:
            found.append(ChainBreak(None, f"document {number} ({document_id}) has no "
                                    f"{', '.join(missing)} entry in the log"))
    return found
