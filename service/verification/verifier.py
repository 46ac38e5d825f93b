"""Public verification: what a registration number, a QR code or an uploaded PDF proves.

A lookup answers with a `Verification`, never a boolean: one `Status` (valid, awaiting
signatures, revoked, superseded, expired, not issued, mistyped), when it was answered, the
public facts of the document, and the holder's
own facts (name, position, workplace, category, outcome, a revocation's reason) only when the
visitor proves they hold the document (its verification token, printed in the QR code, or its
exact bytes) or knows the holder's surname: `service.verification.privacy` says why.
The IIN is never read here: the public facts of a document are copied from its decision when
it is created (`PublicFactsListener`) into `document_facts`, which has no column for it, and
the lookup is one indexed query; their free text is shown through `privacy.public_text`.

Revocation (`Revocations.revoke`) is final: there is no un-revoke, a second one is refused, and
reinstating a decision takes a new document. Supersession is declared by the new document
(`supersedes` in its request envelope) and recorded by `SupersessionListener` inside the
transaction that numbers it, so the old document reads "superseded" as soon as the new one is
issued. Both are entries of the audit trail.

Signatures belong to the signatures capability. The lookup reads only whether a document
needs signatures and when it became signed (its `signing_states` row); who signed, and
whether each signature verifies, a `SignatureLedger` answers signer by signer. The app plugs
in `service.signatures.Ledger`, which reads them through the signatures service (its tables,
object store, trust folder and revocation policy); `NoSignatureLedger` stands in where there
is no such service. An uploaded .p7s (a member's own signature, or the combined file of a
protocol with every member's) is checked here with the signing library, signer by signer."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import json
import re
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, cast

from sqlalchemy import Connection, Table, bindparam, exists, insert, select
from sqlalchemy.orm import Session, aliased

from service.core.db import Database
from service.forms.decisions import (
    ALMATY,
    Acceptance,
    Certificate,
    Clock,
    Decision,
    Extract,
    HeadsExtract,
    HeadsProtocol,
    Person,
    Refusal,
    parse_decision,
)
from service.forms.decisions import Protocol as ProtocolDecision
from service.forms.vocabulary import Form
from service.registry import audit, seals
from service.registry.issuing import (
    DocumentNotFound,
    IssueRequest,
    MalformedRegistrationNumber,
    MistypedRegistrationNumber,
    Registry,
    parse_registration_number,
)
from service.registry.models import Document, DocumentStatus, Organisation
from service.registry.tokens import Caller
from service.signatures.models import SigningState
from service.verification.models import DocumentFacts, Revocation, Supersession
from service.verification.privacy import public_text, surname_matches

if TYPE_CHECKING:
    from signing import RevocationPolicy, TrustAnchors

# --------------------------------------------------------------------------- results


class Status(StrEnum):
    VALID = "valid"
    AWAITING_SIGNATURES = "awaiting_signatures"
    REVOKED = "revoked"
    SUPERSEDED = "superseded"
    EXPIRED = "expired"
    NOT_ISSUED = "not_issued"
    MISTYPED = "mistyped"


@dataclass(frozen=True, slots=True)
class Facts:
    """The public facts of a document (no IIN: there is no field for it)."""

    surname: str | None = None
    given_name: str | None = None
    patronymic: str | None = None
    position: str | None = None
    workplace: str | None = None
    category: str | None = None
    outcome: str | None = None
    grant: str | None = None
    decision_date: dt.date | None = None
    order_number: str | None = None
    order_date: dt.date | None = None
    issue_date: dt.date | None = None
    valid_until: dt.date | None = None

    @property
    def person(self) -> Person | None:
        if not self.surname or not self.given_name:
            return None
        return Person(self.surname, self.given_name, self.patronymic)


FACT_FIELDS = tuple(Facts.__dataclass_fields__)


# the facts about the holder rather than the document: withheld until disclosed
PERSON_FIELDS = ("surname", "given_name", "patronymic", "position", "workplace", "category",
                 "outcome", "grant")


def _publishable(facts: Facts) -> Facts:
    """`facts` with every IIN-like number blanked from their free text."""
    changes: dict[str, Any] = {
        name: public_text(value) for name in FACT_FIELDS
        if isinstance(value := getattr(facts, name), str)
    }
    return dataclasses.replace(facts, **changes)


#: the forms whose signatures are part of the document (the act's signature lines): without
#: every required signature (and, for a protocol, its quorum) such a document is never valid
SIGNED_FORMS = frozenset({Form.CERTIFICATE, Form.EXTRACT, Form.HEADS_EXTRACT, Form.PROTOCOL,
                          Form.HEADS_PROTOCOL})


def awaits_signatures(form: Form, required: bool, signed_at: dt.datetime | None) -> bool:
    """Whether a document still waits for signatures: a form of SIGNED_FORMS until it is
    signed (also when no signer could be recorded: then it never becomes valid); a notice
    (forms 6, 7) only when it names an authorised person who has not signed yet."""
    if form in SIGNED_FORMS:
        return not required or signed_at is None
    return required and signed_at is None


@dataclass(frozen=True, slots=True)
class RevocationInfo:
    revoked_at: dt.datetime
    reason: str | None  # None on a public answer that withholds the holder's facts
    act_number: str
    act_date: dt.date


@dataclass(frozen=True, slots=True)
class SignerCheck:
    """One signer's signature, re-verified: the name on the certificate (never the IIN)."""

    name: str
    role: str | None
    status: str  # valid / invalid / indeterminate / missing
    signed_at: dt.datetime | None = None
    reasons: tuple[str, ...] = ()  # failure codes of the signing library


@dataclass(frozen=True, slots=True)
class SignaturesOnRecord:
    checks: tuple[SignerCheck, ...]

    @property
    def verified(self) -> bool:
        """Every required signature is there and verifies."""
        return bool(self.checks) and all(c.status == "valid" for c in self.checks)


class SignatureLedger(Protocol):
    """The signatures recorded for documents: the seam where the signatures service plugs in
    (`service.signatures.Ledger`). Every required signer in the document's order, by name and
    role only: an IIN never crosses this seam."""

    def on_record(self, document_id: uuid.UUID) -> SignaturesOnRecord | None:
        """What the stored verification results say; None when none are required."""
        ...

    def reverify(self, document_id: uuid.UUID, content: bytes) -> SignaturesOnRecord | None:
        """Verify every stored signature again over `content`, signer by signer (without
        trust anchors each signed one is "indeterminate": "no_trust_anchors")."""
        ...


class NoSignatureLedger:
    """No signature service: documents have no signatures on record."""

    def on_record(self, document_id: uuid.UUID) -> SignaturesOnRecord | None:
        return None

    def reverify(self, document_id: uuid.UUID, content: bytes) -> SignaturesOnRecord | None:
        return None


@dataclass(frozen=True, slots=True)
class Verification:
    """The answer to "is this document real and does it still stand?"."""

    number: str  # as typed, normalised when it parsed
    status: Status
    form: Form | None = None
    issuing_body: str | None = None
    organisation_code: str | None = None
    issuing_body_kk: str | None = None  # the body's full name in Kazakh, when recorded
    issuing_body_ru: str | None = None  # and in Russian
    issued_at: dt.datetime | None = None
    facts: Facts = Facts()  # without the PERSON_FIELDS while `person_withheld`
    holder_name: str | None = None  # the full name once disclosed
    name_disclosed: bool = False
    person_withheld: bool = False  # a person's document whose holder is not disclosed
    revocation: RevocationInfo | None = None
    superseded_by: str | None = None
    supersedes: str | None = None
    signatures_required: bool = False
    signed_at: dt.datetime | None = None  # every required signature received (and verified)
    signatures: SignaturesOnRecord | None = None  # signer by signer, when asked for
    document_id: uuid.UUID | None = None
    answered_at: dt.datetime | None = None  # when this answer was computed (the app's clock)

    @property
    def found(self) -> bool:
        return self.status not in (Status.NOT_ISSUED, Status.MISTYPED)

    def issuing_body_in(self, language: str) -> str | None:
        """The issuing body's full name in `language`, else in the other one, else as
        recorded when it was created (its code when nothing else was given)."""
        kk, ru = self.issuing_body_kk, self.issuing_body_ru
        first, second = (ru, kk) if language == "ru" else (kk, ru)
        return first or second or self.issuing_body


@dataclass(frozen=True, slots=True)
class UploadedSignature:
    """An uploaded .p7s checked over the uploaded PDF: every signer in it, in the file's order
    (one for a member's own signature, every member for the combined .p7s of a protocol), by
    the name on the certificate (never the IIN; a certificate gives no role).

    `reasons` are about the file as a whole (malformed, too_large, signer_count,
    no_trust_anchors): then `signers` is empty. `status` is valid when every signer's is,
    invalid when the file or any signer's is, and indeterminate otherwise.
    """

    status: str  # valid / invalid / indeterminate
    signers: tuple[SignerCheck, ...] = ()
    reasons: tuple[str, ...] = ()

    @property
    def verified(self) -> bool:
        return self.status == "valid"


@dataclass(frozen=True, slots=True)
class UploadCheck:
    """What an uploaded PDF (and .p7s) proves."""

    sha256: str
    matches: bool  # exactly the registered bytes of `verification`'s document
    verification: Verification | None  # the matched document, or the one the PDF names
    claimed_number: str | None  # a number found in the text of a PDF that does not match
    signatures: SignaturesOnRecord | None  # stored signatures re-verified over these bytes
    uploaded_signature: UploadedSignature | None


# --------------------------------------------------------------------------- facts


def facts_of(decision: Decision) -> Facts:
    """The public facts of a decision, whatever its form (the IIN is left behind)."""
    if isinstance(decision, Certificate):
        holder = decision.holder
        return Facts(
            holder.surname, holder.given_name, holder.patronymic,
            position=decision.position,
            workplace=decision.organisation,
            category=decision.category.value,
            grant=decision.grant.value,
            decision_date=decision.commission_decision_date,
            order_number=decision.order.number,
            order_date=decision.order.date,
            issue_date=decision.issue_date,
            valid_until=decision.valid_until,
        )
    if isinstance(decision, Extract | HeadsExtract):
        person = decision.person
        category = decision.awarded_category or decision.declared_category
        return Facts(
            person.surname, person.given_name, person.patronymic,
            position=decision.position,
            workplace=decision.commission.name,
            category=category.value,
            outcome=decision.outcome.value,
            decision_date=decision.session.date,
        )
    if isinstance(decision, ProtocolDecision | HeadsProtocol):
        return Facts(workplace=decision.commission.name, decision_date=decision.session.date)
    if isinstance(decision, Acceptance | Refusal):
        applicant = decision.applicant
        return Facts(
            applicant.surname, applicant.given_name, applicant.patronymic,
            workplace=decision.provider,
            decision_date=decision.sent_at.astimezone(ALMATY).date(),
        )
    raise TypeError(f"not a decision: {type(decision).__name__}")


# --------------------------------------------------------------------------- listeners


class SupersessionRefused(ValueError):
    """A new document cannot supersede the one its envelope names; `code` says why."""

    def __init__(self, code: str, reference: str) -> None:
        self.code = code
        self.reference = reference
        super().__init__(f"cannot supersede {reference!r}: {code}")


class PublicFactsListener:
    """Records a new document's public facts in the transaction that numbers it."""

    def created(self, session: Session, document: Document, request: IssueRequest) -> None:
        # a plain INSERT, now (the registry has flushed the document row it refers to)
        values = {"document_id": document.id, **_fact_values(facts_of(request.decision))}
        session.execute(_ADD_FACTS, values)
        seals.seal_values(session, _FACTS, values)


class SupersessionListener:
    """Records `supersedes` from the envelope: the old document becomes superseded."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    def created(self, session: Session, document: Document, request: IssueRequest) -> None:
        reference = request.extras.get("supersedes")
        if reference is None:
            return
        old = _referenced_document(session, str(reference))
        if old is None:
            raise SupersessionRefused("supersedes_unknown", str(reference))
        if old.organisation_id != document.organisation_id:
            raise SupersessionRefused("supersedes_other_organisation", str(reference))
        if old.status != DocumentStatus.ISSUED:
            raise SupersessionRefused("supersedes_not_issued", str(reference))
        if old.form != document.form:
            raise SupersessionRefused("supersedes_other_form", str(reference))
        if session.get(Supersession, old.id) is not None:
            raise SupersessionRefused("supersedes_already_superseded", str(reference))
        document.supersedes_id = old.id
        session.add(Supersession(old_document_id=old.id, new_document_id=document.id,
                                 at=self.clock()))
        audit.append(
            session,
            "superseded",
            old,
            {"superseded_by": document.registration_number, "document_id": str(document.id)},
            self.clock,
        )


def _referenced_document(session: Session, reference: str) -> Document | None:
    """The document named by id or registration number, locked: two new documents racing to
    supersede it queue here, and the second sees the first's supersession."""
    query = select(Document).with_for_update()
    try:
        document_id = uuid.UUID(reference)
    except ValueError:
        try:
            number = str(parse_registration_number(reference))
        except ValueError:
            return None
        return session.scalars(query.where(Document.registration_number == number)).first()
    return session.scalars(query.where(Document.id == document_id)).first()


def install(registry: Registry) -> None:
    """Plug verification's listeners into a registry (every Registry that issues needs them)."""
    registry.listeners.append(PublicFactsListener())
    registry.listeners.append(SupersessionListener(registry.clock))


def _fact_values(facts: Facts) -> dict[str, Any]:
    return {name: getattr(facts, name) for name in FACT_FIELDS}


# --------------------------------------------------------------------------- lookup

_DOCUMENTS = cast(Table, Document.__table__)
_FACTS = cast(Table, DocumentFacts.__table__)
_ADD_FACTS = insert(_FACTS)
_ORGANISATIONS = cast(Table, Organisation.__table__)
_REVOCATIONS = cast(Table, Revocation.__table__)
_SIGNING = cast(Table, SigningState.__table__)
_SUPERSESSIONS = cast(Table, Supersession.__table__)
_NEWER = _DOCUMENTS.alias("newer")
_OLDER = _DOCUMENTS.alias("older")

# one query by the unique registration number: everything a verify page shows
_LOOKUP = (
    select(
        _DOCUMENTS.c.id,
        _DOCUMENTS.c.form,
        _DOCUMENTS.c.status,
        _DOCUMENTS.c.verify_token,
        _DOCUMENTS.c.issued_at,
        _DOCUMENTS.c.created_at,
        _ORGANISATIONS.c.code,
        _ORGANISATIONS.c.name,
        _ORGANISATIONS.c.name_kk,
        _ORGANISATIONS.c.name_ru,
        _FACTS.c.document_id.label("has_facts"),
        *(_FACTS.c[name] for name in FACT_FIELDS),
        _REVOCATIONS.c.revoked_at,
        _REVOCATIONS.c.reason,
        _REVOCATIONS.c.act_number,
        _REVOCATIONS.c.act_date,
        _NEWER.c.registration_number.label("newer_number"),
        _NEWER.c.status.label("newer_status"),
        _OLDER.c.registration_number.label("older_number"),
        _SIGNING.c.document_id.label("signing_required"),
        _SIGNING.c.signed_at.label("signed_at"),
    )
    .select_from(
        _DOCUMENTS.join(_ORGANISATIONS, _ORGANISATIONS.c.id == _DOCUMENTS.c.organisation_id)
        .outerjoin(_FACTS, _FACTS.c.document_id == _DOCUMENTS.c.id)
        .outerjoin(_REVOCATIONS, _REVOCATIONS.c.document_id == _DOCUMENTS.c.id)
        .outerjoin(_SUPERSESSIONS, _SUPERSESSIONS.c.old_document_id == _DOCUMENTS.c.id)
        .outerjoin(_NEWER, _NEWER.c.id == _SUPERSESSIONS.c.new_document_id)
        .outerjoin(_OLDER, _OLDER.c.id == _DOCUMENTS.c.supersedes_id)
        .outerjoin(_SIGNING, _SIGNING.c.document_id == _DOCUMENTS.c.id)
    )
)
_LOOKUP_BY_NUMBER = _LOOKUP.where(_DOCUMENTS.c.registration_number == bindparam("number"))


@dataclass(frozen=True, slots=True)
class Disclosure:
    """What the visitor offers to see the holder's full name."""

    token: str | None = None
    surname: str | None = None
    holds_document: bool = False  # uploaded its exact bytes: holds the QR code's token too


class Verifier:
    """Looks documents up for the public. Dependencies come in by the constructor."""

    def __init__(
        self, database: Database, *, clock: Clock, ledger: SignatureLedger | None = None
    ) -> None:
        self.db = database
        self.clock = clock
        self.ledger: SignatureLedger = ledger or NoSignatureLedger()
        # A lookup is one SELECT. On PostgreSQL it runs in autocommit (psycopg switches on the
        # client side): one round trip instead of BEGIN, SELECT, COMMIT; and as SQL compiled
        # once, which psycopg prepares (SQLAlchemy's per-call cache key of the seven joins
        # cost more than the query itself).
        # (SQLite keeps SQLAlchemy's typed execution: it stores datetimes as text.)
        self._compiled: str | None = None
        if database.dialect == "postgresql":
            self._compiled = str(_LOOKUP_BY_NUMBER.compile(dialect=database.engine.dialect))

    def verify(
        self, typed: str, disclosure: Disclosure = Disclosure(), *, signatures: bool = True
    ) -> Verification:
        """The verification of the number `typed` (forgiving case, spaces and dashes)."""
        try:
            number = str(parse_registration_number(typed))
        except MistypedRegistrationNumber:
            return Verification(typed.strip().upper()[:40], Status.MISTYPED,
                                answered_at=self.clock())
        except MalformedRegistrationNumber:
            return Verification(typed.strip()[:40], Status.MISTYPED, answered_at=self.clock())
        with self.db.engine.connect() as connection:
            if self._compiled is not None:
                connection.execution_options(isolation_level="AUTOCOMMIT")
                row = connection.exec_driver_sql(self._compiled, {"number": number}).one_or_none()
            else:
                row = connection.execute(_LOOKUP_BY_NUMBER, {"number": number}).one_or_none()
            if row is None or row.status != DocumentStatus.ISSUED:
                return Verification(number, Status.NOT_ISSUED, answered_at=self.clock())
            facts = self._facts(connection, row)
        return self._result(number, row, facts, disclosure, signatures)

    def by_pdf_sha256(self, sha256: str) -> str | None:
        """The registration number of the issued document with exactly these PDF bytes."""
        with self.db.read() as session:
            found: str | None = session.scalars(
                select(Document.registration_number).where(
                    Document.pdf_sha256 == sha256, Document.status == DocumentStatus.ISSUED
                )
            ).first()
            return found

    def check_upload(
        self,
        content: bytes,
        signature: bytes | None = None,
        *,
        signature_checker: UploadedSignatureChecker | None = None,
    ) -> UploadCheck:
        """Whether `content` is exactly a registered PDF; if not, which one it claims to be."""
        sha256 = hashlib.sha256(content).hexdigest()
        number = self.by_pdf_sha256(sha256)
        uploaded = None
        if signature is not None and signature_checker is not None:
            uploaded = signature_checker(signature, content)
        if number is not None:
            found = self.verify(number, Disclosure(holds_document=True), signatures=False)
            assert found.document_id is not None
            reverified = self.ledger.reverify(found.document_id, content)
            return UploadCheck(sha256, True, found, None, reverified, uploaded)
        claimed = next(iter(registration_numbers_in_pdf(content)), None)
        named = self.verify(claimed, signatures=False) if claimed else None
        return UploadCheck(sha256, False, named, claimed, None, uploaded)

    # -- helpers

    def _facts(self, connection: Connection, row: Any) -> Facts:
        if row.has_facts is not None:
            return _publishable(Facts(**{name: getattr(row, name) for name in FACT_FIELDS}))
        # issued by a registry without PublicFactsListener: read the stored decision
        request_json = connection.scalar(
            select(_DOCUMENTS.c.request_json).where(_DOCUMENTS.c.id == row.id)
        )
        stored = json.loads(request_json or "{}")
        created_at = row.created_at
        decision = parse_decision(Form(row.form), stored["decision"], clock=lambda: created_at)
        return _publishable(facts_of(decision))

    def _result(
        self, number: str, row: Any, facts: Facts, disclosure: Disclosure, signatures: bool
    ) -> Verification:
        revocation = None
        if row.revoked_at is not None:
            revocation = RevocationInfo(row.revoked_at, public_text(row.reason),
                                        public_text(row.act_number), row.act_date)
        superseded_by = row.newer_number if row.newer_status == DocumentStatus.ISSUED else None
        now = self.clock()
        today = now.astimezone(ALMATY).date()
        form = Form(row.form)
        required = row.signing_required is not None
        # revoked and superseded win over everything, and an expired document stays expired;
        # "valid" only once every required signature is in (a protocol: with its quorum)
        if revocation is not None:
            status = Status.REVOKED
        elif superseded_by is not None:
            status = Status.SUPERSEDED
        elif facts.valid_until is not None and facts.valid_until < today:
            status = Status.EXPIRED
        elif awaits_signatures(form, required, row.signed_at):
            status = Status.AWAITING_SIGNATURES
        else:
            status = Status.VALID
        person = facts.person
        disclosed = person is not None and (
            disclosure.holds_document
            or (disclosure.token is not None and hmac.compare_digest(
                disclosure.token.encode("utf-8"), row.verify_token.encode("utf-8")))
            or (disclosure.surname is not None and surname_matches(person, disclosure.surname))
        )
        ledger = self.ledger.on_record(row.id) if signatures and required else None
        result = Verification(
            number=number,
            status=status,
            form=form,
            issuing_body=row.name,
            organisation_code=row.code,
            issuing_body_kk=row.name_kk,
            issuing_body_ru=row.name_ru,
            issued_at=row.issued_at,
            facts=facts,
            revocation=revocation,
            superseded_by=superseded_by,
            supersedes=row.older_number,
            signatures_required=required,
            signed_at=row.signed_at,
            signatures=ledger,
            document_id=row.id,
            answered_at=now,
        )
        if person is None:
            return result
        if disclosed:
            return dataclasses.replace(result, holder_name=person.full_name, name_disclosed=True)
        return _withheld(result)


def _withheld(found: Verification) -> Verification:
    """The answer anyone gets by the number alone: the document without its holder."""
    revocation = found.revocation
    if revocation is not None:
        revocation = dataclasses.replace(revocation, reason=None)
    facts = dataclasses.replace(found.facts, **dict.fromkeys(PERSON_FIELDS))
    return dataclasses.replace(found, facts=facts, revocation=revocation, person_withheld=True)


# --------------------------------------------------------------------------- uploads

NUMBER_IN_TEXT = re.compile(r"\b[0-9]{2}-[A-Z]{2,8}-[0-9]{2}-[0-9]{6}-[0-9]{2}\b")
PDFTOTEXT_TIMEOUT_SECONDS = 10


def registration_numbers_in_pdf(content: bytes) -> list[str]:
    """Well-formed registration numbers printed in a PDF's text (pdftotext), first first.

    Only numbers whose check digits hold count, so a number that the modification itself
    garbled is not claimed. An unreadable PDF names none.
    """
    if not content.startswith(b"%PDF-"):
        return []
    with tempfile.TemporaryDirectory(prefix="qujat-upload-") as folder:
        path = Path(folder) / "upload.pdf"
        path.write_bytes(content)
        try:
            result = subprocess.run(
                ["pdftotext", "-q", "-enc", "UTF-8", str(path), "-"],
                capture_output=True,
                timeout=PDFTOTEXT_TIMEOUT_SECONDS,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            return []
    text = result.stdout.decode("utf-8", "replace").translate(_DASHES)
    found: list[str] = []
    for match in NUMBER_IN_TEXT.findall(text):
        try:
            number = str(parse_registration_number(match))
        except ValueError:
            continue
        if number not in found:
            found.append(number)
    return found


_DASHES = str.maketrans(dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2212", "-"))


# an IIN (or a BIN) in a certificate's common name: left out of a public answer, whatever the
# uploaded certificate says
_IDENTIFIER_IN_NAME = re.compile(r"(?:IIN|BIN)?[0-9]{12}")


def _public_name(common_name: str) -> str:
    return " ".join(_IDENTIFIER_IN_NAME.sub(" ", common_name).split())


class UploadedSignatureChecker(Protocol):
    def __call__(self, signature: bytes, content: bytes) -> UploadedSignature: ...


def uploaded_signature_checker(
    anchors: Callable[[], TrustAnchors | None], revocation: RevocationPolicy, clock: Clock
) -> UploadedSignatureChecker:
    """Checks a .p7s someone uploads with a PDF against the trust anchors and revocation policy
    signatures are accepted with (`anchors()`: None when there are none): every SignerInfo in
    it (a member's own signature, or the combined .p7s of a protocol that the service hands
    out), each by the signing library's checks over the uploaded bytes."""

    def check(signature: bytes, content: bytes) -> UploadedSignature:
        from signing import decode_base64_signature, verify_cms_signers

        trust = anchors()
        if trust is None:
            return UploadedSignature("indeterminate", reasons=("no_trust_anchors",))
        der = signature
        if not signature.startswith(b"\x30"):  # base64 or PEM, as NCALayer hands it out
            try:
                der = decode_base64_signature(signature)
            except ValueError:
                return UploadedSignature("invalid", reasons=("malformed",))
        report = verify_cms_signers(der, content, trust=trust, now=clock(), revocation=revocation)
        signers = []
        for signer in report.signers:
            name = _public_name(signer.signer.common_name) if signer.signer else ""
            signers.append(SignerCheck(name, None, signer.status.value, signer.signing_time,
                                       tuple(code.value for code in signer.codes)))
        return UploadedSignature(report.status.value, tuple(signers),
                                 tuple(code.value for code in report.codes))

    return check


# --------------------------------------------------------------------------- revocation


class NotIssued(Exception):
    """The document is numbered but not issued yet: there is nothing to revoke."""


class AlreadyRevoked(Exception):
    """A document is revoked once; reinstating a decision takes a new document."""

    def __init__(self, revocation: RevocationInfo) -> None:
        self.revocation = revocation
        super().__init__("the document is already revoked")


class ActBeforeIssue(ValueError):
    """The deciding act is dated before the document was issued."""


@dataclass(frozen=True, slots=True)
class RevocationOrder:
    """A validated request to revoke: why, and the act that decided it."""

    reason: str
    act_number: str
    act_date: dt.date


class Revocations:
    def __init__(self, database: Database, *, clock: Clock) -> None:
        self.db = database
        self.clock = clock

    def revoke(
        self, caller: Caller, document_id: uuid.UUID, order: RevocationOrder
    ) -> tuple[str, RevocationInfo]:
        """Revoke the caller's document; its registration number and the recorded revocation.

        Raises DocumentNotFound (also for another body's document), NotIssued, AlreadyRevoked,
        ActBeforeIssue.
        """
        with self.db.write() as session:
            row = session.get(Document, document_id, with_for_update=True)
            if row is None or row.organisation_id != caller.organisation_id:
                raise DocumentNotFound(str(document_id))
            existing = session.get(Revocation, document_id)
            if existing is not None:
                raise AlreadyRevoked(_revocation_info(existing))
            if row.status != DocumentStatus.ISSUED or row.issued_at is None:
                raise NotIssued(row.registration_number)
            if order.act_date < row.issued_at.astimezone(ALMATY).date():
                raise ActBeforeIssue(row.registration_number)
            revocation = Revocation(
                document_id=row.id,
                revoked_at=self.clock(),
                reason=order.reason,
                act_number=order.act_number,
                act_date=order.act_date,
                token_id=caller.token_id,
            )
            session.add(revocation)
            audit.append(
                session,
                "revoked",
                row,
                {
                    "reason": order.reason,
                    "act": {"number": order.act_number, "date": order.act_date.isoformat()},
                    "token_id": caller.token_id,
                },
                self.clock,
            )
            return row.registration_number, _revocation_info(revocation)


def _revocation_info(row: Revocation) -> RevocationInfo:
    return RevocationInfo(row.revoked_at, row.reason, row.act_number, row.act_date)


# --------------------------------------------------------------------------- published lists


@dataclass(frozen=True, slots=True)
class PublishedEntry:
    """One line of a published list: who, where, which category, in the language of the
    certificate. No registration number, no date and no order of issue (each would let the
    list be joined to the verify pages, which are reachable by number), and no IIN."""

    name: str
    workplace: str | None
    category: str | None
    language: str  # the certificate's: its row reads as the certificate does


@dataclass(frozen=True, slots=True)
class PublishedList:
    organisation_code: str
    organisation_name: str
    entries: Sequence[PublishedEntry]


class UnknownOrganisation(LookupError):
    pass


PUBLISHED_LIMIT = 50_000  # a region's five years of certificates fit with room to spare


def published_list(database: Database, organisation_code: str, today: dt.date) -> PublishedList:
    """The attested teachers of an attesting body (p. 20): its issued certificates that stand
    (not revoked, not superseded, not expired), in alphabetical order. Full names, as the act
    publishes them; never the IIN."""
    with database.read() as session:
        organisation = session.scalars(
            select(Organisation).where(Organisation.code == organisation_code)
        ).one_or_none()
        if organisation is None:
            raise UnknownOrganisation(organisation_code)
        newer = aliased(Document)
        rows = session.execute(
            select(DocumentFacts, Document.language)
            .select_from(Document)
            .join(DocumentFacts, DocumentFacts.document_id == Document.id)
            .where(
                Document.organisation_id == organisation.id,
                Document.form == Form.CERTIFICATE,
                Document.status == DocumentStatus.ISSUED,
                ~exists().where(Revocation.document_id == Document.id),
                ~exists().where(
                    Supersession.old_document_id == Document.id,
                    Supersession.new_document_id == newer.id,
                    newer.status == DocumentStatus.ISSUED,
                ),
                (DocumentFacts.valid_until.is_(None)) | (DocumentFacts.valid_until >= today),
            )
            .order_by(DocumentFacts.surname, DocumentFacts.given_name,
                      DocumentFacts.patronymic, DocumentFacts.workplace,
                      DocumentFacts.category)
            .limit(PUBLISHED_LIMIT)
        ).all()
        entries = [
            PublishedEntry(
                public_text(" ".join(p for p in (f.surname, f.given_name, f.patronymic) if p)),
                public_text(f.workplace) if f.workplace else None,
                f.category,
                language,
            )
            for f, language in rows
        ]
        return PublishedList(organisation.code, organisation.name, entries)
