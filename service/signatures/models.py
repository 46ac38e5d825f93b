"""Tables of signing: commissions, each document's signing state, who must sign, who signed."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import (
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

import service.registry.models  # noqa: F401 - the documents table its foreign keys refer to
from service.core.models import SHA256_HEX, Base


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
