"""The audit trail: an append-only log whose entries are chained by SHA-256.

Entry n stores `hash = SHA-256(canonical [seq, at, event, document id, payload, prev_hash])`
with `prev_hash` the hash of entry n-1 (the genesis hash, 64 zeros, for the first). The
`audit_head` row keeps the count and the last hash: every append locks it (so appends are
serial and the chain never forks) and it reveals entries cut off the end of the log.

`verify` recomputes everything and names the first entry that does not fit: edited (its hash
no longer matches its content), deleted or inserted (a gap in the numbering, a `prev_hash`
that is not its predecessor's), reordered (a sequence number or hash moved to another row).
Whoever can rewrite the whole table *and* recompute every hash defeats any self-contained
chain; `verify` prints the head hash so it can be recorded elsewhere and compared later.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from service.core.models import GENESIS_HASH
from service.forms.decisions import Clock
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
) -> str:
    material = canonical_json(
        [seq, timestamp(at), event, str(document_id) if document_id else None, payload, prev_hash]
    )
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
    """`append` for a document known by its id (whose row need not be loaded)."""
    session.flush()  # the document row the entry points at must exist first
    head = session.execute(_LOCK_HEAD).one_or_none()
    if head is None:
        raise AuditChainMissing("the audit chain head is missing: run `qujat db upgrade`")
    count, prev_hash = head
    seq = count + 1
    # microseconds are what both databases keep; the hash must survive the round trip
    at = clock().astimezone(dt.UTC)
    text = canonical_json(dict(payload))
    digest = entry_hash(seq, at, event, document_id, text, prev_hash)
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
        },
    )
    session.execute(_MOVE_HEAD, {"new_count": seq, "new_hash": digest})
    return Appended(seq, at, event, document_id, text, prev_hash, digest)


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

    @property
    def intact(self) -> bool:
        return not self.breaks


_BATCH = 2000


def verify(session: Session) -> ChainReport:
    """Recompute the whole chain; report the first broken entry, then what the head and the
    documents table say that the log does not."""
    breaks: list[ChainBreak] = []
    expected_seq = 1
    prev_hash = GENESIS_HASH
    events: dict[uuid.UUID, set[str]] = {}
    rows = session.execute(select(AuditEntry).order_by(AuditEntry.seq).execution_options(
        yield_per=_BATCH
    )).scalars()
    for entry in rows:
        if entry.document_id is not None:
            events.setdefault(entry.document_id, set()).add(entry.event)
        if breaks:
            continue
        if entry.seq != expected_seq:
            what = "missing (deleted)" if entry.seq > expected_seq else "out of order"
            breaks.append(ChainBreak(expected_seq, f"entry #{expected_seq} is {what}; "
                                     f"the next entry found is #{entry.seq}"))
            continue
        digest = entry_hash(
            entry.seq, entry.at, entry.event, entry.document_id, entry.payload, entry.prev_hash
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
    return ChainReport(count, head_hash, tuple(breaks))


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
