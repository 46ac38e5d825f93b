"""Signing in bulk: everything one person must still sign, and many signatures in one request.

A head of organisation signs every certificate of a session, a secretary every extract:
dozens of documents at once. `pending` lists the documents of the caller's body that wait for
one person's signature (by IIN: the platform knows its signers); `sign_many` takes several
`{document, cms}` pairs and hands each to the single-document intake (`Signatures.sign`), so
each is verified and stored on its own, in its own transaction: one refused item refuses
nothing else, and an accepted item stays accepted whatever the others do.

A document is pending for a person when the person is one of its required signers, has not
signed it, and it is issued and still stands (not revoked, not superseded by an issued
document): a revoked certificate is not worth a signature.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import exists, select
from sqlalchemy.orm import aliased

from service.registry.issuing import DocumentNotFound, parse_registration_number
from service.registry.models import Document, DocumentStatus
from service.registry.tokens import Caller
from service.signatures.intake import Signatures, SigningStatus
from service.signatures.models import SignatureRecord, SignatureRequirement, SigningState
from service.verification.models import Revocation, Supersession

#: the most items one bulk request may carry (a session's certificates fit with room to spare)
MAX_BULK_ITEMS = 100
#: the most documents one pending list shows (`truncated` says when there are more)
MAX_PENDING = 500


@dataclass(frozen=True, slots=True)
class PendingDocument:
    """A document waiting for one person's signature, and in which role they sign it."""

    id: uuid.UUID
    registration_number: str
    form: str
    language: str
    pdf_sha256: str | None
    issued_at: dt.datetime | None
    role: str


@dataclass(frozen=True, slots=True)
class PendingList:
    documents: tuple[PendingDocument, ...]
    truncated: bool


def pending(
    signatures: Signatures, caller: Caller, iin: str, limit: int = MAX_PENDING
) -> PendingList:
    """The caller's documents that still wait for `iin`'s signature, in registration order."""
    newer = aliased(Document)
    query = (
        select(Document, SignatureRequirement.role)
        .join(SignatureRequirement, SignatureRequirement.document_id == Document.id)
        .join(SigningState, SigningState.document_id == Document.id)
        .where(
            Document.organisation_id == caller.organisation_id,
            Document.status == DocumentStatus.ISSUED,
            SignatureRequirement.iin == iin,
            SigningState.signed_at.is_(None),
            ~exists().where(SignatureRecord.document_id == Document.id, SignatureRecord.iin == iin),
            ~exists().where(Revocation.document_id == Document.id),
            ~exists().where(
                Supersession.old_document_id == Document.id,
                Supersession.new_document_id == newer.id,
                newer.status == DocumentStatus.ISSUED,
            ),
        )
        .order_by(Document.series, Document.seq)
        .limit(limit + 1)
    )
    with signatures.db.read() as session:
        rows = session.execute(query).all()
    documents = tuple(
        PendingDocument(
            d.id, d.registration_number, d.form, d.language, d.pdf_sha256, d.issued_at, role
        )
        for d, role in rows[:limit]
    )
    return PendingList(documents, len(rows) > limit)


@dataclass(frozen=True, slots=True)
class BulkItem:
    """One signature of a bulk request: the document (id or registration number), the CMS as
    NCALayer returns it (base64), and optionally the IIN the signer is expected to have."""

    document: str
    cms: str
    iin: str | None = None


@dataclass(frozen=True, slots=True)
class BulkOutcome:
    """What became of one item: the new signing state, or the exception that refused it."""

    item: BulkItem
    document_id: uuid.UUID | None
    status: SigningStatus | None = None
    error: Exception | None = None

    @property
    def accepted(self) -> bool:
        return self.status is not None


def resolve(signatures: Signatures, caller: Caller, reference: str) -> uuid.UUID:
    """The id of the caller's document named by id or registration number (DocumentNotFound
    otherwise: another body's documents do not exist for the caller)."""
    try:
        return uuid.UUID(reference)
    except ValueError:
        pass
    try:
        number = str(parse_registration_number(reference))
    except ValueError:
        raise DocumentNotFound(reference) from None
    with signatures.db.read() as session:
        found = session.execute(
            select(Document.id).where(
                Document.registration_number == number,
                Document.organisation_id == caller.organisation_id,
            )
        ).scalar_one_or_none()
    if found is None:
        raise DocumentNotFound(reference)
    return found


def sign_many(
    signatures: Signatures,
    caller: Caller,
    items: Sequence[BulkItem],
) -> list[BulkOutcome]:
    """Each item through the single-document intake, in order, each on its own: whatever
    refuses an item (a refusal of the intake, or an unexpected failure, which the caller
    logs) is that item's outcome, and the next item is tried all the same."""
    outcomes: list[BulkOutcome] = []
    for item in items:
        document_id: uuid.UUID | None = None
        try:
            document_id = resolve(signatures, caller, item.document)
            status = signatures.sign(caller, document_id, item.cms, item.iin)
        except Exception as error:
            outcomes.append(BulkOutcome(item, document_id, error=error))
            continue
        outcomes.append(BulkOutcome(item, document_id, status=status))
    return outcomes
