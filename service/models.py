"""The registry's tables as SQLAlchemy 2.0 typed models.

Alembic's migrations (service/migrations/versions) create exactly these tables; a test
compares the two. Timestamps are timezone-aware UTC everywhere (stored naive-UTC on SQLite,
`timestamptz` on PostgreSQL). JSON that is hashed (a document's request, an audit payload)
is stored as the exact canonical text that was hashed, never re-serialised by the database.
"""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from service.vocabulary import Form

SHA256_HEX = 64
GENESIS_HASH = "0" * SHA256_HEX


class UTCDateTime(TypeDecorator[dt.datetime]):
    """An aware datetime in, an aware UTC datetime out, on every backend."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored: give a timezone")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        assert isinstance(value, dt.datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class DocumentStatus(StrEnum):
    PENDING = "pending"  # numbered, bytes not yet recorded (a crash here is repaired)
    ISSUED = "issued"


class KeyState(StrEnum):
    IN_FLIGHT = "in_flight"
    DONE = "done"


def _enum(cls: type[StrEnum], name: str, length: int = 16) -> Enum:
    # VARCHAR plus a CHECK constraint: portable, and a new member is a small migration
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=length,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class Base(DeclarativeBase):
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )
    type_annotation_map: ClassVar[dict[Any, Any]] = {dt.datetime: UTCDateTime()}


class Organisation(Base):
    """An issuing body: its short code is part of every registration number it issues."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(8), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[dt.datetime]


class ApiToken(Base):
    """A platform's bearer token; only its SHA-256 is kept."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    name: Mapped[str | None] = mapped_column(String(100))
    token_sha256: Mapped[str] = mapped_column(String(SHA256_HEX), unique=True)
    created_at: Mapped[dt.datetime]
    revoked_at: Mapped[dt.datetime | None]

    organisation: Mapped[Organisation] = relationship(lazy="joined", innerjoin=True)


class Document(Base):
    """An issued (or, for an instant, numbered but not yet stored) document."""

    __tablename__ = "documents"
    __table_args__ = (
        UniqueConstraint("organisation_id", "decision_id", name="uq_documents_decision"),
        UniqueConstraint("series", "seq", name="uq_documents_series_seq"),
        Index("ix_documents_pending", "status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    form: Mapped[Form] = mapped_column(_enum(Form, "form"))
    language: Mapped[str] = mapped_column(String(2))
    decision_id: Mapped[str] = mapped_column(String(128))
    request_sha256: Mapped[str] = mapped_column(String(SHA256_HEX))
    request_json: Mapped[str] = mapped_column(Text)
    series: Mapped[str] = mapped_column(String(24))
    seq: Mapped[int] = mapped_column(Integer)
    registration_number: Mapped[str] = mapped_column(String(32), unique=True)
    verify_token: Mapped[str] = mapped_column(String(32))
    status: Mapped[DocumentStatus] = mapped_column(_enum(DocumentStatus, "document_status"))
    pdf_sha256: Mapped[str | None] = mapped_column(String(SHA256_HEX))
    docx_sha256: Mapped[str | None] = mapped_column(String(SHA256_HEX))
    supersedes_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("documents.id"))
    created_at: Mapped[dt.datetime]
    issued_at: Mapped[dt.datetime | None]


class SeriesCounter(Base):
    """The last number given in a series; its row lock makes numbering gapless."""

    __tablename__ = "series_counters"

    series: Mapped[str] = mapped_column(String(24), primary_key=True)
    last_value: Mapped[int] = mapped_column(Integer)


class AuditEntry(Base):
    """One link of the append-only, hash-chained audit trail (see service.audit)."""

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[dt.datetime]
    event: Mapped[str] = mapped_column(String(40))
    document_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("documents.id"), index=True)
    payload: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(SHA256_HEX))
    hash: Mapped[str] = mapped_column(String(SHA256_HEX))
    # the seals of the registry rows this entry's transaction wrote (see service.seals)
    rows: Mapped[str | None] = mapped_column(Text)


class AuditHead(Base):
    """The chain's single head row: how many entries and the last hash. Appends lock it; it
    also reveals entries cut from the end of the log."""

    __tablename__ = "audit_head"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    count: Mapped[int] = mapped_column(BigInteger)
    head_hash: Mapped[str] = mapped_column(String(SHA256_HEX))


class IdempotencyKey(Base):
    """An `Idempotency-Key` a platform sent, and the response it got."""

    __tablename__ = "idempotency_keys"

    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_sha256: Mapped[str] = mapped_column(String(SHA256_HEX))
    state: Mapped[KeyState] = mapped_column(_enum(KeyState, "key_state"))
    document_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("documents.id"))
    response_status: Mapped[int | None]
    response_media_type: Mapped[str | None] = mapped_column(String(64))
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime]
    claimed_at: Mapped[dt.datetime]


# --------------------------------------------------------------------------- public verification
# (issue 6: verify page, revocation, supersession, published lists)


class Revocation(Base):
    """A document revoked by a deciding act (an appeal, p. 26). One per document, never undone:
    reinstating a decision takes a new document."""

    __tablename__ = "revocations"

    document_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("documents.id"), primary_key=True
    )
    revoked_at: Mapped[dt.datetime]
    reason: Mapped[str] = mapped_column(Text)
    act_number: Mapped[str] = mapped_column(String(64))
    act_date: Mapped[dt.date]
    token_id: Mapped[int] = mapped_column(ForeignKey("api_tokens.id"))


class Supersession(Base):
    """`new_document_id` replaces `old_document_id` (declared by the new one when issued)."""

    __tablename__ = "supersessions"

    old_document_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("documents.id"), primary_key=True
    )
    new_document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("documents.id"), unique=True)
    at: Mapped[dt.datetime]


class DocumentFacts(Base):
    """What the public may learn about a document, copied from its decision when it is created
    (never the IIN): the verify page reads one row instead of parsing the stored request."""

    __tablename__ = "document_facts"

    document_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("documents.id"), primary_key=True
    )
    surname: Mapped[str | None] = mapped_column(String(200))
    given_name: Mapped[str | None] = mapped_column(String(200))
    patronymic: Mapped[str | None] = mapped_column(String(200))
    position: Mapped[str | None] = mapped_column(Text)
    workplace: Mapped[str | None] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(String(16))
    outcome: Mapped[str | None] = mapped_column(String(32))
    grant: Mapped[str | None] = mapped_column(String(16))
    decision_date: Mapped[dt.date | None]
    order_number: Mapped[str | None] = mapped_column(String(64))
    order_date: Mapped[dt.date | None]
    issue_date: Mapped[dt.date | None]
    valid_until: Mapped[dt.date | None]


# upload-to-verify finds a document by the hash of the bytes someone holds
Index("ix_documents_pdf_sha256", Document.pdf_sha256)


# --------------------------------------------------------------------------- per-member signatures
# (issue 5: commissions, who must sign each document, the signatures received)


class CommissionRecord(Base):
    """A validated commission (schemas/commission.v1.schema.json) of an issuing body, stored as
    the canonical JSON it was accepted as; the same JSON posted again is the same commission."""

    __tablename__ = "commissions"
    __table_args__ = (
        UniqueConstraint("organisation_id", "spec_sha256", name="uq_commissions_spec"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    spec_json: Mapped[str] = mapped_column(Text)
    spec_sha256: Mapped[str] = mapped_column(String(SHA256_HEX))
    members: Mapped[int] = mapped_column(Integer)
    term_end: Mapped[dt.date]
    created_at: Mapped[dt.datetime]


class SigningState(Base):
    """A document that needs signatures: its commission (for a protocol, whose size decides the
    quorum) and when the last required signature made it signed."""

    __tablename__ = "signing_states"

    document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("documents.id"), primary_key=True)
    commission_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("commissions.id"))
    members_total: Mapped[int | None]
    signed_at: Mapped[dt.datetime | None]


class SignatureRequirement(Base):
    """One person who must sign a document, in the order the document names them."""

    __tablename__ = "signature_requirements"

    document_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("signing_states.document_id"), primary_key=True
    )
    iin: Mapped[str] = mapped_column(String(12), primary_key=True)
    ordinal: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(24))
    name: Mapped[str] = mapped_column(String(320))


class SignatureRecord(Base):
    """An accepted signature: the CMS in the object store, what its verification found."""

    __tablename__ = "signatures"

    document_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("signing_states.document_id"), primary_key=True
    )
    iin: Mapped[str] = mapped_column(String(12), primary_key=True)
    cms_sha256: Mapped[str] = mapped_column(String(SHA256_HEX))
    certificate_serial: Mapped[str] = mapped_column(String(80))
    certificate_sha256: Mapped[str] = mapped_column(String(SHA256_HEX))
    signer_name: Mapped[str] = mapped_column(String(320))
    signing_time: Mapped[dt.datetime | None]
    accepted_at: Mapped[dt.datetime]
    report_json: Mapped[str] = mapped_column(Text)


# --------------------------------------------------------------------------- deadlines and mail
# (issue 8: working-day calendar overrides, each document's deadline, the e-mail outbox)


class CalendarOverride(Base):
    """A day the government's decree moved: `working` true makes a weekend day a working day,
    false makes a weekday a day off (see service.workdays)."""

    __tablename__ = "calendar_overrides"

    day: Mapped[dt.date] = mapped_column(primary_key=True)
    working: Mapped[bool]
    created_at: Mapped[dt.datetime]


class DeadlineKind(StrEnum):
    NOTICE = "notice"  # forms 6, 7: within 1 working day of the application (p. 23)
    DELIVERY = "delivery"  # extracts by e-mail: within 3 working days of the decision (p. 20)
    PUBLICATION = "publication"  # the list of the attested: 15 working days (p. 20)


class Deadline(Base):
    """A document's clock: the event that started it, when it is due, when it was met."""

    __tablename__ = "deadlines"
    __table_args__ = (Index("ix_deadlines_open", "organisation_id", "met_at", "due_at"),)

    document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("documents.id"), primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    kind: Mapped[DeadlineKind] = mapped_column(_enum(DeadlineKind, "deadline_kind"))
    start_event: Mapped[str] = mapped_column(String(32))
    starts_at: Mapped[dt.datetime]
    working_days: Mapped[int] = mapped_column(Integer)
    due_at: Mapped[dt.datetime]
    met_at: Mapped[dt.datetime | None]


class MailStatus(StrEnum):
    # its document still waits for a required signature: never picked up by a sender; the
    # transaction that records the last one makes it `queued` (see service.mail)
    AWAITING_SIGNATURES = "awaiting_signatures"
    QUEUED = "queued"  # waiting for its document's bytes, or for its next attempt
    SENDING = "sending"  # claimed; the SMTP transaction may have happened (see service.mail)
    SENT = "sent"
    FAILED = "failed"  # refused for good, out of attempts, or replaced by an explicit resend


class OutboxMessage(Base):
    """One e-mail of the transactional outbox; its id is also its Message-ID."""

    __tablename__ = "mail_outbox"
    __table_args__ = (
        UniqueConstraint("document_id", "sequence", name="uq_mail_outbox_document_sequence"),
        Index("ix_mail_outbox_ready", "status", "next_attempt_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("documents.id"))
    sequence: Mapped[int] = mapped_column(Integer)  # 1: the original, 2…: explicit resends
    recipient: Mapped[str] = mapped_column(String(254))
    status: Mapped[MailStatus] = mapped_column(_enum(MailStatus, "mail_status", length=24))
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[dt.datetime]
    lease_until: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime]
    sent_at: Mapped[dt.datetime | None]


# --------------------------------------------------------------------------- batches
# (issue 7: batch issuing for whole commission sessions)


class BatchItemState(StrEnum):
    QUEUED = "queued"  # waiting for a worker (or a message in the broker)
    RUNNING = "running"  # claimed by a worker until `lease_until`; expired → queued again
    DONE = "done"  # its document is issued (`document_id`)
    FAILED = "failed"  # invalid, or refused when issued (`problem`)


class Batch(Base):
    """A session's decisions submitted as one job; its counts are read from its items."""

    __tablename__ = "batches"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    token_id: Mapped[int] = mapped_column(ForeignKey("api_tokens.id"))
    total: Mapped[int] = mapped_column(Integer)
    body_sha256: Mapped[str] = mapped_column(String(SHA256_HEX))
    created_at: Mapped[dt.datetime]
    completed_at: Mapped[dt.datetime | None]


class BatchItem(Base):
    """One decision of a batch: its validated request, its state and lease, its outcome."""

    __tablename__ = "batch_items"
    __table_args__ = (
        UniqueConstraint("batch_id", "position", name="uq_batch_items_position"),
        Index("ix_batch_items_batch_state", "batch_id", "state"),
        Index("ix_batch_items_claimable", "state", "enqueued_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    batch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("batches.id"))
    position: Mapped[int] = mapped_column(Integer)
    decision_id: Mapped[str | None] = mapped_column(String(128))
    request_json: Mapped[str | None] = mapped_column(Text)  # canonical, as a single post's
    state: Mapped[BatchItemState] = mapped_column(_enum(BatchItemState, "batch_item_state"))
    attempts: Mapped[int] = mapped_column(Integer)
    enqueued_at: Mapped[dt.datetime]
    lease_until: Mapped[dt.datetime | None]
    document_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("documents.id"))
    problem: Mapped[str | None] = mapped_column(Text)  # canonical JSON of the problem details
    finished_at: Mapped[dt.datetime | None]
