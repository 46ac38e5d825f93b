"""The e-mail outbox."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum

from sqlalchemy import (
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

import service.registry.models  # noqa: F401 - the documents table its foreign keys refer to
from service.core.models import Base, enum_column


class MailStatus(StrEnum):
    # its document still waits for a required signature: never picked up by a sender; the
    # transaction that records the last one makes it `queued` (see service.mail.outbox)
    AWAITING_SIGNATURES = "awaiting_signatures"
    QUEUED = "queued"  # waiting for its document's bytes, or for its next attempt
    SENDING = "sending"  # claimed; the SMTP transaction may have happened (see service.mail.outbox)
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
    status: Mapped[MailStatus] = mapped_column(enum_column(MailStatus, "mail_status", length=24))
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[dt.datetime]
    lease_until: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime]
    sent_at: Mapped[dt.datetime | None]
