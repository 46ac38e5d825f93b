"""The table of signing invitations: one link per signer of a document."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import ForeignKey, Index, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

import service.signatures.models  # noqa: F401 - the signing states its foreign key refers to
from service.core.models import SHA256_HEX, Base


class Invitation(Base):
    """A link that lets one signer (by IIN) sign one document. Only the SHA-256 of the link's
    token is kept; the token itself is shown once, to whoever created the invitation (and in
    the e-mail when the signer has an address)."""

    __tablename__ = "signing_invitations"
    __table_args__ = (Index("ix_signing_invitations_document", "document_id", "iin"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("signing_states.document_id"))
    iin: Mapped[str] = mapped_column(String(12))
    email: Mapped[str | None] = mapped_column(String(254))
    token_sha256: Mapped[str] = mapped_column(String(SHA256_HEX), unique=True)
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]
    revoked_at: Mapped[dt.datetime | None]
    used_at: Mapped[dt.datetime | None]  # the signer signed through it
    reminders_sent: Mapped[int] = mapped_column(Integer)
    last_reminded_at: Mapped[dt.datetime | None]
