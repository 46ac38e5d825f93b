"""Tables of deadlines: calendar overrides and each document's deadlines."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum

from sqlalchemy import (
    ForeignKey,
    Index,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

import service.registry.models  # noqa: F401 - the documents table its foreign keys refer to
from service.core.models import Base, enum_column


class CalendarOverride(Base):
    """A day the government's decree moved: `working` true makes a weekend day a working day,
    false makes a weekday a day off (see service.deadlines.workdays)."""

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
    kind: Mapped[DeadlineKind] = mapped_column(enum_column(DeadlineKind, "deadline_kind"))
    start_event: Mapped[str] = mapped_column(String(32))
    starts_at: Mapped[dt.datetime]
    working_days: Mapped[int] = mapped_column(Integer)
    due_at: Mapped[dt.datetime]
    met_at: Mapped[dt.datetime | None]
