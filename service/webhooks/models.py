"""Webhook endpoints and their deliveries (a transactional outbox, as the e-mail's)."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

import service.registry.models  # noqa: F401 - the organisations table its foreign keys refer to
from service.core.models import Base, enum_column


class DeliveryStatus(StrEnum):
    QUEUED = "queued"  # waiting for its next attempt, or for an earlier one of its document
    SENDING = "sending"  # claimed; sent again by itself once its lease has run out
    DELIVERED = "delivered"  # the receiver answered 2xx
    FAILED = "failed"  # out of attempts; an explicit resend queues it again


class WebhookEndpoint(Base):
    """A URL of an issuing body's platform and the events it wants; `secret` signs them."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    events: Mapped[list[str]] = mapped_column(JSON)
    secret: Mapped[str] = mapped_column(String(100))  # whsec_<base64>, shown once
    active: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[dt.datetime]


class WebhookDelivery(Base):
    """One event for one endpoint; its id is the `webhook-id` header, the same on every
    attempt, so that a receiver can recognise a repeat."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_ready", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_order", "endpoint_id", "document_id", "sequence"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    endpoint_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("webhook_endpoints.id"))
    event: Mapped[str] = mapped_column(String(40))
    document_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("documents.id"))
    # the audit entry of the event: orders the deliveries of one document
    sequence: Mapped[int] = mapped_column(Integer)
    payload_json: Mapped[str] = mapped_column(Text)
    status: Mapped[DeliveryStatus] = mapped_column(
        enum_column(DeliveryStatus, "webhook_delivery_status")
    )
    attempts: Mapped[int] = mapped_column(Integer)
    # [{at, status_code, error, duration_ms}], oldest first
    attempt_log: Mapped[list[dict[str, object]]] = mapped_column(JSON)
    next_attempt_at: Mapped[dt.datetime]
    lease_until: Mapped[dt.datetime | None]
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime]
    delivered_at: Mapped[dt.datetime | None]
