"""Row seals in the audit trail: `audit_log.rows` holds the seals of the registry rows an
entry's transaction wrote (see service.registry.seals).

Rows written before this revision have no seal, so the upgrade seals each of them as it is now,
in `rows_sealed` entries appended to the chain (1,000 rows an entry; none on an empty database):
from then on an edit, deletion or insertion is seen, and `qujat audit verify` passes on the
upgraded database. What was changed before the upgrade cannot be told from this baseline; the
entries the rows' writes appended (created, issued, signed_by, revoked…) still say what the
service wrote then.

The sealing rules and the chain's hash are restated here as they are at this revision, so that
this migration means the same thing whatever the code becomes; a test checks it against the
code. Going down drops the column: entries that carried seals then no longer match their hash,
so a downgrade is for development databases only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROWS_A_ENTRY = 1000
_U, _S, _I, _T, _D = sa.Uuid, sa.Text, sa.BigInteger, sa.DateTime(timezone=True), sa.Date

#: the sealed tables as they are at this revision: name, key columns, columns and types
SEALED: tuple[tuple[str, tuple[str, ...], dict[str, Any]], ...] = (
    ("documents", ("id",), {
        "id": _U, "organisation_id": _I, "form": _S, "language": _S, "decision_id": _S,
        "request_sha256": _S, "request_json": _S, "series": _S, "seq": _I,
        "registration_number": _S, "verify_token": _S, "status": _S, "pdf_sha256": _S,
        "docx_sha256": _S, "supersedes_id": _U, "created_at": _T, "issued_at": _T,
    }),
    ("document_facts", ("document_id",), {
        "document_id": _U, "surname": _S, "given_name": _S, "patronymic": _S, "position": _S,
        "workplace": _S, "category": _S, "outcome": _S, "grant": _S, "decision_date": _D,
        "order_number": _S, "order_date": _D, "issue_date": _D, "valid_until": _D,
    }),
    ("signing_states", ("document_id",), {
        "document_id": _U, "commission_id": _U, "members_total": _I, "signed_at": _T,
    }),
    ("signature_requirements", ("document_id", "iin"), {
        "document_id": _U, "iin": _S, "ordinal": _I, "role": _S, "name": _S,
    }),
    ("signatures", ("document_id", "iin"), {
        "document_id": _U, "iin": _S, "cms_sha256": _S, "certificate_serial": _S,
        "certificate_sha256": _S, "signer_name": _S, "signing_time": _T, "accepted_at": _T,
        "report_json": _S,
    }),
    ("revocations", ("document_id",), {
        "document_id": _U, "revoked_at": _T, "reason": _S, "act_number": _S, "act_date": _D,
        "token_id": _I,
    }),
    ("supersessions", ("old_document_id",), {
        "old_document_id": _U, "new_document_id": _U, "at": _T,
    }),
    ("commissions", ("id",), {
        "id": _U, "organisation_id": _I, "spec_json": _S, "spec_sha256": _S, "members": _I,
        "term_end": _D, "created_at": _T,
    }),
)


def _json(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _value(value: object) -> object:
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, dt.datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
        return aware.astimezone(dt.UTC).isoformat(timespec="microseconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"no sealed form for a {type(value).__name__}")


def _fingerprint(name: str, value: object) -> str:
    kind = "b" if isinstance(value, bool) else "i" if isinstance(value, int) else "s"
    return hashlib.sha256(f"{name}\x00{kind}\x00{value}".encode()).hexdigest()[:8]


def _seal(table: str, key: Sequence[str], row: dict[str, object]) -> list[object]:
    content = {name: _value(value) for name, value in row.items() if value is not None}
    digest = hashlib.sha256(_json([table, content]).encode("utf-8")).hexdigest()
    fingerprints = {name: _fingerprint(name, value) for name, value in content.items()}
    return [table, "/".join(str(_value(row[name])) for name in key), digest, fingerprints]


def _seals(bind: sa.Connection) -> Iterator[list[object]]:
    for name, key, columns in SEALED:
        table = sa.Table(name, sa.MetaData(), *(sa.Column(c, t) for c, t in columns.items()))
        query = sa.select(table).order_by(*(table.c[k] for k in key))
        for row in bind.execute(query):
            yield _seal(name, key, dict(row._mapping))


def _entry_hash(seq: int, at: dt.datetime, payload: str, prev_hash: str, rows: str) -> str:
    fields = [seq, at.isoformat(timespec="microseconds"), "rows_sealed", None, payload,
              prev_hash, rows]
    return hashlib.sha256(_json(fields).encode("utf-8")).hexdigest()


def _append_baseline(bind: sa.Connection) -> None:
    log = sa.table(
        "audit_log", sa.column("seq", sa.BigInteger), sa.column("at", _T),
        sa.column("event", sa.String), sa.column("document_id", sa.Uuid),
        sa.column("payload", sa.Text), sa.column("prev_hash", sa.String),
        sa.column("hash", sa.String), sa.column("rows", sa.Text),
    )
    head = sa.table("audit_head", sa.column("id", sa.Integer), sa.column("count", sa.BigInteger),
                    sa.column("head_hash", sa.String))
    count, prev_hash = bind.execute(
        sa.select(head.c.count, head.c.head_hash).where(head.c.id == 1).with_for_update()
    ).one()
    at = dt.datetime.now(dt.UTC)
    batch: list[list[object]] = []

    def flush() -> None:
        nonlocal count, prev_hash
        seq = count + 1
        rows = _json(batch)
        payload = _json({"baseline": True, "rows": len(batch)})
        digest = _entry_hash(seq, at, payload, prev_hash, rows)
        bind.execute(sa.insert(log).values(seq=seq, at=at, event="rows_sealed", document_id=None,
                                           payload=payload, prev_hash=prev_hash, hash=digest,
                                           rows=rows))
        count, prev_hash = seq, digest
        batch.clear()

    for seal in _seals(bind):
        batch.append(seal)
        if len(batch) == ROWS_A_ENTRY:
            flush()
    if batch:
        flush()
    bind.execute(sa.update(head).where(head.c.id == 1).values(count=count, head_hash=prev_hash))


def upgrade() -> None:
    op.add_column("audit_log", sa.Column("rows", sa.Text(), nullable=True))
    _append_baseline(op.get_bind())


def downgrade() -> None:
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("rows")
