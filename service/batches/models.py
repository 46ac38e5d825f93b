"""Tables of batches: a submitted batch and its items."""

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
from service.core.models import SHA256_HEX, Base, enum_column


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
    state: Mapped[BatchItemState] = mapped_column(enum_column(BatchItemState, "batch_item_state"))
    attempts: Mapped[int] = mapped_column(Integer)
    enqueued_at: Mapped[dt.datetime]
    lease_until: Mapped[dt.datetime | None]
    document_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("documents.id"))
    problem: Mapped[str | None] = mapped_column(Text)  # canonical JSON of the problem details
    finished_at: Mapped[dt.datetime | None]
