"""The registry's tables: issuing bodies and their tokens, documents, number series,
the audit chain and idempotency keys."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.core.models import SHA256_HEX, Base, enum_column
from service.forms.vocabulary import Form


class DocumentStatus(StrEnum):
    PENDING = "pending"  # numbered, bytes not yet recorded (a crash here is repaired)
    ISSUED = "issued"


class KeyState(StrEnum):
    IN_FLIGHT = "in_flight"
    DONE = "done"


class Organisation(Base):
    """An issuing body: its short code is part of every registration number it issues."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(8), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    # the full name in each language, shown beside the code on public pages (revision 0008)
    name_kk: Mapped[str | None] = mapped_column(String(300))
    name_ru: Mapped[str | None] = mapped_column(String(300))
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
    form: Mapped[Form] = mapped_column(enum_column(Form, "form"))
    language: Mapped[str] = mapped_column(String(2))
    decision_id: Mapped[str] = mapped_column(String(128))
    request_sha256: Mapped[str] = mapped_column(String(SHA256_HEX))
    request_json: Mapped[str] = mapped_column(Text)
    series: Mapped[str] = mapped_column(String(24))
    seq: Mapped[int] = mapped_column(Integer)
    registration_number: Mapped[str] = mapped_column(String(32), unique=True)
    verify_token: Mapped[str] = mapped_column(String(32))
    status: Mapped[DocumentStatus] = mapped_column(enum_column(DocumentStatus, "document_status"))
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
    """One link of the append-only, hash-chained audit trail (see service.registry.audit)."""

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[dt.datetime]
    event: Mapped[str] = mapped_column(String(40))
    document_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("documents.id"), index=True)
    payload: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(SHA256_HEX))
    hash: Mapped[str] = mapped_column(String(SHA256_HEX))
    # the seals of the registry rows this entry's transaction wrote (see service.registry.seals)
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
    state: Mapped[KeyState] = mapped_column(enum_column(KeyState, "key_state"))
    document_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("documents.id"))
    response_status: Mapped[int | None]
    response_media_type: Mapped[str | None] = mapped_column(String(64))
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime]
    claimed_at: Mapped[dt.datetime]


class ObjectRecord(Base):
    """A content-addressed object kept in the database (`QUJAT_STORAGE=postgresql`, see
    service.registry.storage.DatabaseStore): written once, its key the SHA-256 of `content`."""

    __tablename__ = "objects"

    sha256: Mapped[str] = mapped_column(String(SHA256_HEX), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    # the last time these bytes were stored: garbage collection spares young objects
    stored_at: Mapped[dt.datetime]
