"""Tables of public verification: revocations, supersessions, each document's public facts."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import (
    ForeignKey,
    Index,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from service.core.models import Base
from service.registry.models import Document


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
