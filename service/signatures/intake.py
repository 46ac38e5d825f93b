"""Per-member digital signatures: commissions, who must sign, signature intake, quorum, outputs.

Who signs what (p. 23 and the forms' signature lines):

    protocol, heads_protocol   the chair, every member present, the secretary
    extract, heads_extract     the commission's secretary
    certificate                the head of the organisation
    acceptance, refusal        the provider's authorised person

`SigningListener` records these people (by IIN, in the order the document names them) in the
transaction that numbers the document, so a document never exists without its signers. The
PDF bytes are then frozen: the registry stores them content-addressed and never re-renders an
issued document, so every signature is over the same bytes.

A signature arrives as NCALayer returns it: base64 CMS SignedData, detached or with the content
attached. It is verified with the signing library against the frozen bytes, the trust folder
(QUJAT_TRUST_DIR: CA certificates and CRLs) and, when the caller names the signer, that IIN;
revocation must be known unless QUJAT_REVOCATION says otherwise. Any failure refuses it with
the library's reasons and stores nothing. An accepted signature is kept in the object store
(the CMS) and the database (what its verification found), with an audit entry "signed_by".
A protocol becomes signed when everyone required has signed and the members present are at
least two thirds of its commission (p. 18): a protocol issued without a stored commission
collects signatures but never becomes signed, since its quorum cannot be checked. Extracts and
certificates that cite a protocol (`protocol` in the request envelope) are refused until it is.

For a signed document: a combined detached CMS (.p7s) with every SignerInfo and the
intermediate CA certificates, which `openssl cms -verify` accepts with the root alone, and a
signature report re-verifying each signature now.

When a document becomes signed, the `SignedListener`s in `Signatures.listeners` run inside the
transaction that records its last required signature (the e-mail outbox releases the
extract's e-mail there). This module knows nothing of them: features register themselves.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import threading
import typing
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.core.db import Database
from service.forms.decisions import (
    Acceptance,
    Certificate,
    Clock,
    Decision,
    Extract,
    HeadRow,
    HeadsExtract,
    HeadsProtocol,
    InvalidDecision,
    Person,
    Protocol,
    Refusal,
    TeacherRow,
    Violation,
    parse_decision,
)
from service.forms.vocabulary import Form, Language
from service.observability import metrics
from service.registry import audit
from service.registry.issuing import (
    DocumentView,
    Issued,
    IssueRequest,
    RecordedAnswer,
    Registry,
    issue_request,
    parse_registration_number,
)
from service.registry.models import Document
from service.registry.storage import ObjectStore, Reference
from service.registry.tokens import Caller
from service.signatures.commissions import CommissionSpec, has_quorum, parse_commission, quorum_size
from service.signatures.commissions import session_violations as commission_session_violations
from service.signatures.models import (
    CommissionRecord,
    SignatureRecord,
    SignatureRequirement,
    SigningState,
)
from service.verification.verifier import SignaturesOnRecord, SignerCheck
from signing import (
    Failure,
    FailureCode,
    RevocationMode,
    RevocationPolicy,
    SignatureReport,
    Status,
    TrustAnchors,
    combine_signatures,
    decode_base64_signature,
    verify_base64_cms,
    verify_signatures,
)
from signing.revocation import LiveRevocation
from signing.trust import CERTIFICATE_SUFFIXES, CRL_SUFFIX

PROTOCOL_FORMS = frozenset({Form.PROTOCOL, Form.HEADS_PROTOCOL})
#: the protocols each citing form may be based on
CITABLE = {
    Form.EXTRACT: frozenset({Form.PROTOCOL}),
    Form.HEADS_EXTRACT: frozenset({Form.HEADS_PROTOCOL}),
    Form.CERTIFICATE: PROTOCOL_FORMS,
}
MEMBER_ROLES = frozenset({"chair", "member"})

# --------------------------------------------------------------------------- errors


class CommissionNotFound(LookupError):
    """No such commission for this caller (another body's commissions do not exist for it)."""


class SigningUnavailable(RuntimeError):
    """No trust folder is configured: nothing can be verified, so nothing is accepted."""


class SignatureRefused(Exception):
    """The signature is not accepted for a reason of the service (not of the CMS itself):
    `code` is a message code, `status` the HTTP status it deserves."""

    def __init__(self, status: int, code: str, pointer: str = "/cms", **params: object) -> None:
        self.status = status
        self.code = code
        self.pointer = pointer
        self.params = params
        super().__init__(f"signature refused: {code}")


class SignatureInvalid(ValueError):
    """The CMS failed verification; `report` says which checks and why."""

    def __init__(self, report: SignatureReport) -> None:
        self.report = report
        super().__init__("signature refused: " + ", ".join(c.value for c in report.codes))


class NotSigned(Exception):
    """The document still waits for signatures (or, for a protocol, cannot prove its quorum)."""

    def __init__(self, registration_number: str, missing: Sequence[str], quorum_known: bool):
        self.registration_number = registration_number
        self.missing = tuple(missing)
        self.quorum_known = quorum_known
        super().__init__(f"{registration_number} is not signed; missing: {', '.join(missing)}")


class CitedProtocolNotSigned(NotSigned):
    """An extract or certificate cites a protocol that is not signed yet."""


class CitationRefused(ValueError):
    """A document cannot be based on the protocol its envelope names; `code` says why."""

    def __init__(self, code: str, pointer: str, reference: str) -> None:
        self.code = code
        self.pointer = pointer
        self.reference = reference
        super().__init__(f"cannot cite protocol {reference!r}: {code}")


# --------------------------------------------------------------------------- who signs


@dataclass(frozen=True, slots=True)
class Signer:
    iin: str
    role: str
    name: str


def _signer(person: Person | None, role: str) -> Iterator[Signer]:
    if person is not None and person.iin:
        yield Signer(person.iin, role, person.full_name)


def required_signers(decision: Decision) -> list[Signer]:
    """Who must sign `decision`'s document, in the order it names them (each person once)."""
    found: list[Signer] = []
    match decision:
        case Protocol() | HeadsProtocol():
            commission = decision.commission
            found += _signer(commission.chair, "chair")
            for member in commission.members:
                found += _signer(member, "member")
            found += _signer(commission.secretary, "secretary")
        case Extract() | HeadsExtract():
            found += _signer(decision.commission.secretary, "secretary")
        case Certificate():
            found += _signer(decision.head_of_organisation, "head_of_organisation")
        case Acceptance() | Refusal():
            found += _signer(decision.authorised_person, "authorised_person")
    unique: dict[str, Signer] = {}
    for signer in found:
        unique.setdefault(signer.iin, signer)
    return list(unique.values())


def _cited_person(decision: Decision) -> tuple[str, Person] | None:
    if isinstance(decision, Extract | HeadsExtract):
        return "/decision/person", decision.person
    if isinstance(decision, Certificate):
        return "/decision/holder", decision.holder
    return None


class SigningListener:
    """Inside the transaction that numbers a document: refuse it if the protocol it cites is
    not signed, and record who must sign it."""

    def created(self, session: Session, document: Document, request: IssueRequest) -> None:
        reference = request.extras.get("protocol")
        if reference is not None and request.form in CITABLE:
            _check_citation(session, document, request, str(reference))
        signers = required_signers(request.decision)
        if not signers:
            return
        commission_id: uuid.UUID | None = None
        members_total: int | None = None
        stored = request.extras.get("commission")
        if stored is not None and request.form in PROTOCOL_FORMS:
            commission = session.get(CommissionRecord, uuid.UUID(str(stored)))
            if commission is None or commission.organisation_id != document.organisation_id:
                raise CommissionNotFound(str(stored))
            commission_id, members_total = commission.id, commission.members
        session.add(SigningState(
            document_id=document.id, commission_id=commission_id, members_total=members_total
        ))
        session.flush()
        session.add_all(
            SignatureRequirement(
                document_id=document.id, iin=s.iin, ordinal=i, role=s.role, name=s.name
            )
            for i, s in enumerate(signers)
        )


def _check_citation(
    session: Session, document: Document, request: IssueRequest, reference: str
) -> None:
    protocol = _referenced(session, reference, document.organisation_id)
    if protocol is None:
        raise CitationRefused("protocol_unknown", "/protocol", reference)
    if protocol.form not in CITABLE[request.form]:
        raise CitationRefused("protocol_wrong_form", "/protocol", reference)
    state = session.get(SigningState, protocol.id)
    if state is None or state.signed_at is None:
        missing = [r.name for r in _requirements(session, protocol.id)
                   if session.get(SignatureRecord, (protocol.id, r.iin)) is None]
        raise CitedProtocolNotSigned(protocol.registration_number, missing,
                                     state is not None and state.members_total is not None)
    cited = _cited_person(request.decision)
    if cited is not None and cited[1].iin:
        rows = json.loads(protocol.request_json)["decision"]["rows"]
        if cited[1].iin not in {row["person"].get("iin") for row in rows}:
            raise CitationRefused("protocol_person_missing", cited[0], reference)


def _referenced(session: Session, reference: str, organisation_id: int) -> Document | None:
    """The caller's document named by id or registration number."""
    try:
        document_id = uuid.UUID(reference)
    except ValueError:
        try:
            number = str(parse_registration_number(reference))
        except ValueError:
            return None
        query = select(Document).where(Document.registration_number == number)
    else:
        query = select(Document).where(Document.id == document_id)
    found = session.scalars(query).first()
    if found is None or found.organisation_id != organisation_id:
        return None
    return found


def _requirements(session: Session, document_id: uuid.UUID) -> list[SignatureRequirement]:
    return list(session.scalars(
        select(SignatureRequirement)
        .where(SignatureRequirement.document_id == document_id)
        .order_by(SignatureRequirement.ordinal)
    ))


# --------------------------------------------------------------------------- trust


class TrustFolder:
    """The trust anchors of a folder, reloaded when one of its files changes (a new CRL), so
    that a running service follows the CA without a restart and keeps its path cache between.
    With `fetch`, CRLs that are missing or due are downloaded into the folder while signatures
    are checked, and OCSP is asked (signing.revocation; QUJAT_REVOCATION_FETCH)."""

    def __init__(self, folder: Path | None, *, fetch: bool = True) -> None:
        self.folder = folder
        self.live = LiveRevocation(folder) if folder is not None and fetch else None
        self._lock = threading.Lock()
        self._loaded: tuple[tuple[tuple[str, int, int], ...], TrustAnchors] | None = None

    def anchors(self) -> TrustAnchors:
        """The folder's anchors; SigningUnavailable when it is not set, gone, unreadable or
        holds no root CA (nothing can be verified then)."""
        if self.folder is None:
            raise SigningUnavailable("QUJAT_TRUST_DIR is not set")
        stamp = self._stamp(self.folder)
        with self._lock:
            if self._loaded is None or self._loaded[0] != stamp:
                try:
                    anchors = TrustAnchors.from_folder(self.folder, live=self.live)
                except (OSError, ValueError) as error:  # unreadable, or no root CA in it
                    raise SigningUnavailable(
                        f"the trust folder {self.folder} cannot be used: {error}"
                    ) from error
                self._loaded = (stamp, anchors)
            return self._loaded[1]

    @staticmethod
    def _stamp(folder: Path) -> tuple[tuple[str, int, int], ...]:
        suffixes = (*CERTIFICATE_SUFFIXES, CRL_SUFFIX)
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except FileNotFoundError:
            raise SigningUnavailable(f"the trust folder {folder} does not exist") from None
        except OSError as error:
            raise SigningUnavailable(f"the trust folder {folder} cannot be read: {error}") from None
        return tuple(
            (e.name, e.stat().st_mtime_ns, e.stat().st_size)
            for e in entries
            if e.is_file() and Path(e.name).suffix.lower() in suffixes
        )


def revocation_policy(mode: str) -> RevocationPolicy:
    """QUJAT_REVOCATION: require (default), soft-fail or off."""
    try:
        return RevocationPolicy(mode=RevocationMode(mode))
    except ValueError:
        allowed = ", ".join(m.value for m in RevocationMode)
        raise ValueError(f"QUJAT_REVOCATION must be one of {allowed}, got {mode!r}") from None


# --------------------------------------------------------------------------- once signed


class SignedListener(typing.Protocol):
    """A feature that acts when a document becomes signed (its last required signature
    accepted and, for a protocol, its quorum held), inside the transaction that records that
    signature: what it writes commits or rolls back with the signature. It must be quick (no
    I/O outside the session); raising refuses the signature with nothing stored."""

    def signed(self, session: Session, document: Document) -> None: ...


def awaiting_signatures(session: Session, document_id: uuid.UUID) -> bool:
    """Whether the document needs signatures and is not signed yet. Its signing state is
    locked (PostgreSQL), so that a concurrent last signature is either seen or waits: what
    the caller writes is then seen by that signature's listeners."""
    state = session.get(SigningState, document_id, with_for_update=True)
    return state is not None and state.signed_at is None


def signed_cms(session: Session, document_id: uuid.UUID) -> tuple[str, ...] | None:
    """The stored CMS (SHA-256 in the object store) of each signer of a signed document, in
    the document's order of signers; None when it is not signed or needs no signatures.
    `combine_stored` over these is the document's .p7s."""
    state = session.get(SigningState, document_id)
    if state is None or state.signed_at is None:
        return None
    return tuple(session.scalars(
        select(SignatureRecord.cms_sha256)
        .join(SignatureRequirement,
              (SignatureRequirement.document_id == SignatureRecord.document_id)
              & (SignatureRequirement.iin == SignatureRecord.iin))
        .where(SignatureRecord.document_id == document_id)
        .order_by(SignatureRequirement.ordinal)
    ))


def combine_stored(store: ObjectStore, trust: TrustFolder, cms_sha256: Sequence[str]) -> bytes:
    """The detached .p7s of GET /api/v1/documents/{id}.p7s: the stored signatures (in the
    document's order of signers) as one CMS, with the trust folder's intermediate CAs so that
    `openssl cms -verify` needs the root alone (none when no trust folder is configured)."""
    signatures = [store.get(digest) for digest in cms_sha256]
    try:
        intermediates = [c.dump() for c in trust.anchors().intermediates]
    except SigningUnavailable:
        intermediates = []
    return combine_signatures(signatures, extra_certificates=intermediates)


# --------------------------------------------------------------------------- values


@dataclass(frozen=True, slots=True)
class CommissionView:
    id: uuid.UUID
    spec: Mapping[str, Any]
    members: int
    term_end: dt.date
    created_at: dt.datetime


@dataclass(frozen=True, slots=True)
class SignerState:
    name: str
    role: str
    iin: str
    signature: SignatureRecord | None


@dataclass(frozen=True, slots=True)
class Quorum:
    members_total: int
    members_present: int

    @property
    def needed(self) -> int:
        return quorum_size(self.members_total)

    @property
    def holds(self) -> bool:
        return has_quorum(self.members_present, self.members_total)


@dataclass(frozen=True, slots=True)
class SigningStatus:
    document: DocumentView
    content: bytes
    signers: tuple[SignerState, ...]
    quorum: Quorum | None  # None: not a protocol, or a protocol without a stored commission
    signed_at: dt.datetime | None

    @property
    def signed(self) -> tuple[SignerState, ...]:
        return tuple(s for s in self.signers if s.signature is not None)

    @property
    def missing(self) -> tuple[SignerState, ...]:
        return tuple(s for s in self.signers if s.signature is None)

    @property
    def status(self) -> str:
        if self.signed_at is not None:
            return "signed"
        if not self.missing and self.quorum is None:
            return "quorum_unknown"
        return "awaiting_signatures"


@dataclass(frozen=True, slots=True)
class SignerResult:
    """One line of the signature report."""

    name: str
    role: str
    signed: bool
    certificate_serial: str | None = None
    certificate_subject: str | None = None
    certificate_issuer: str | None = None
    signing_time: dt.datetime | None = None
    accepted_at: dt.datetime | None = None
    status: str = "missing"  # valid / invalid / indeterminate (checked now) or missing
    failures: tuple[FailureCode, ...] = ()


@dataclass(frozen=True, slots=True)
class SignatureReportView:
    document: DocumentView
    status: str
    signed_at: dt.datetime | None
    checked_at: dt.datetime
    quorum: Quorum | None
    signers: tuple[SignerResult, ...]


# --------------------------------------------------------------------------- protocols


_PROTOCOL_FIELDS = ("form", "language", "decision_id", "session", "present", "rows")


def protocol_decision(
    spec: CommissionSpec, payload: object, *, clock: Clock
) -> tuple[Form, Language, Decision, dict[str, Any]]:
    """A session's protocol from the stored commission: the commission block (its name in the
    language, the chair, the members present in the commission's order, the secretary) built
    here; session, rows and decision_id from `payload`. Every violation at once."""
    if not isinstance(payload, dict):
        raise InvalidDecision([Violation("", "type", {"expected": "object"})])
    violations = [
        Violation(f"/{key}", "unknown_field", {"field": key})
        for key in payload if key not in _PROTOCOL_FIELDS
    ]
    form_name = payload.get("form", Form.PROTOCOL.value)
    if form_name not in (Form.PROTOCOL.value, Form.HEADS_PROTOCOL.value):
        violations.append(Violation("/form", "enum", {"allowed": "protocol, heads_protocol"}))
    if "language" not in payload:
        violations.append(Violation("/language", "required", {"field": "language"}))
    elif payload["language"] not in ("kk", "ru"):
        violations.append(Violation("/language", "enum", {"allowed": "kk, ru"}))
    if payload.get("decision_id") is None:  # absent or null: an issued protocol needs one
        violations.append(Violation("/decision_id", "required", {"field": "decision_id"}))
    present = payload.get("present")
    if present is None:
        violations.append(Violation("/present", "required", {"field": "present"}))
        present = []
    elif not isinstance(present, list) or not all(isinstance(p, str) for p in present):
        violations.append(Violation("/present", "type", {"expected": "array of IINs"}))
        present = []
    if any(v.pointer in ("/form", "/language", "/present") for v in violations):
        raise InvalidDecision(violations)  # the protocol cannot even be put together
    form = Form(form_name)
    language: Language = "kk" if payload["language"] == "kk" else "ru"
    here = set(present)
    members = [m for m in spec.members if not m.chair and m.person.iin in here]
    decision_json: dict[str, Any] = {
        "decision_id": payload.get("decision_id"),
        "commission": {
            "name": spec.name(language),
            "chair": _person_json(spec.chair.person),
            "members": [_person_json(m.person) for m in members],
            "secretary": _person_json(spec.secretary.person),
        },
        "session": payload.get("session"),
        "rows": payload.get("rows"),
    }
    if decision_json["decision_id"] is None:
        del decision_json["decision_id"]
    try:
        decision = parse_decision(form, decision_json, clock=clock)
    except InvalidDecision as invalid:
        # The commission block is built here, so a problem in it comes from `present` (no
        # member left): say that, with the other problems of the session's own fields.
        presence = commission_session_violations(spec, spec.order.date, present, [])
        violations += [v for v in presence if v.pointer.startswith("/present")]
        violations += [v for v in invalid.violations if not v.pointer.startswith("/commission")]
        raise InvalidDecision(violations or invalid.violations) from None
    assert isinstance(decision, Protocol | HeadsProtocol)
    rows: Sequence[TeacherRow | HeadRow] = decision.rows
    attested = [(f"/rows/{i}/person", row.person) for i, row in enumerate(rows)]
    violations += commission_session_violations(spec, decision.session.date, present, attested)
    if violations:
        raise InvalidDecision(violations)
    return form, language, decision, decision_json


def _person_json(person: Person) -> dict[str, str]:
    found = {"surname": person.surname, "given_name": person.given_name}
    if person.patronymic:
        found["patronymic"] = person.patronymic
    if person.iin:
        found["iin"] = person.iin
    return found


# --------------------------------------------------------------------------- the service


class Signatures:
    """Commissions, protocols, signature intake and outputs. Dependencies by the constructor."""

    def __init__(
        self,
        database: Database,
        store: ObjectStore,
        registry: Registry,
        trust: TrustFolder,
        *,
        clock: Clock,
        revocation: RevocationPolicy,
    ) -> None:
        self.db = database
        self.store = store
        self.registry = registry
        self.trust = trust
        self.clock = clock
        self.revocation = revocation
        self.listeners: list[SignedListener] = []

    # -- commissions

    def create_commission(self, caller: Caller, payload: object) -> tuple[CommissionView, bool]:
        """Store a validated commission; the same commission again is the stored one (False)."""
        spec = parse_commission(payload, clock=self.clock)
        assert isinstance(payload, dict)
        stored = {**payload, "term_end": spec.term_end.isoformat()}
        text = audit.canonical_json(stored)
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        for attempt in range(2):
            existing = self._commission_by_digest(caller, digest)
            if existing is not None:
                return existing, False
            try:
                with self.db.write() as session:
                    row = CommissionRecord(
                        id=uuid.uuid4(),
                        organisation_id=caller.organisation_id,
                        spec_json=text,
                        spec_sha256=digest,
                        members=len(spec.members),
                        term_end=spec.term_end,
                        created_at=self.clock(),
                    )
                    session.add(row)
                    audit.append(session, "commission_created", None, {
                        "commission_id": str(row.id),
                        "organisation": caller.organisation_code,
                        "order": {"number": spec.order.number,
                                  "date": spec.order.date.isoformat()},
                        "members": len(spec.members),
                        "spec_sha256": digest,
                    }, self.clock)
                    return _commission_view(row), True
            except IntegrityError:  # the same commission posted concurrently
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def commission(self, caller: Caller, commission_id: uuid.UUID) -> CommissionView:
        with self.db.read() as session:
            return _commission_view(self._owned_commission(session, caller, commission_id))

    def create_protocol(
        self,
        caller: Caller,
        commission_id: uuid.UUID,
        payload: object,
        idempotency_key: str | None = None,
    ) -> Issued | RecordedAnswer:
        """Issue the protocol of a session of the caller's commission (see protocol_decision)."""
        with self.db.read() as session:
            row = self._owned_commission(session, caller, commission_id)
            spec = parse_commission(json.loads(row.spec_json), clock=lambda: row.created_at)
        form, language, decision, decision_json = protocol_decision(
            spec, payload, clock=self.clock
        )
        request = issue_request(
            form, language, decision, decision_json, {"commission": str(commission_id)}
        )
        return self.registry.issue(caller, request, idempotency_key)

    # -- signing

    def status(self, caller: Caller, document_id: uuid.UUID) -> SigningStatus:
        document, content = self.registry.pdf(caller, document_id)
        with self.db.read() as session:
            return self._status(session, document, content)

    def sign(
        self,
        caller: Caller,
        document_id: uuid.UUID,
        cms_base64: str,
        claimed_iin: str | None = None,
    ) -> SigningStatus:
        """Accept one person's signature, or raise SignatureInvalid / SignatureRefused /
        SigningUnavailable with nothing stored."""
        try:
            status = self._sign(caller, document_id, cms_base64, claimed_iin)
        except SignatureRefused as refused:
            metrics.signature_refused(refused.code)
            raise
        except SignatureInvalid as invalid:
            metrics.signature_refused(*(code.value for code in invalid.report.codes))
            raise
        metrics.signature_accepted()
        return status

    def _sign(
        self, caller: Caller, document_id: uuid.UUID, cms_base64: str, claimed_iin: str | None
    ) -> SigningStatus:
        document, content = self.registry.pdf(caller, document_id)
        with self.db.read() as session:
            before = self._status(session, document, content)
            absent = self._absent_members(session, document.id)
        if not before.signers:
            raise SignatureRefused(409, "no_signers")
        if claimed_iin is not None:
            self._expect_signer(before, absent, claimed_iin, pointer="/iin")
        trust = self.trust.anchors()
        report = verify_base64_cms(
            cms_base64, content, trust=trust, expected_iin=claimed_iin, now=self.clock(),
            revocation=self.revocation,
        )
        if not report.ok:
            raise SignatureInvalid(report)
        assert report.signer is not None
        iin = report.signer.iin
        if iin is None:
            raise SignatureInvalid(_with_failure(report, FailureCode.NO_IIN))
        signer = self._expect_signer(before, absent, iin)
        cms_der = decode_base64_signature(cms_base64)
        cms_sha256 = self.store.put(cms_der)  # before the commit that refers to it
        try:
            with self.db.write() as session:
                state = session.get(SigningState, document.id, with_for_update=True)
                assert state is not None
                if session.get(SignatureRecord, (document.id, iin)) is not None:
                    raise SignatureRefused(409, "already_signed")
                self._record(session, document, signer, report, cms_sha256)
                return self._complete(session, document, content, state)
        except IntegrityError:  # the same person's signature committed concurrently
            raise SignatureRefused(409, "already_signed") from None

    @staticmethod
    def _expect_signer(
        status: SigningStatus, absent: frozenset[str], iin: str, pointer: str = "/cms"
    ) -> SignerState:
        signer = next((s for s in status.signers if s.iin == iin), None)
        if signer is None:
            code = "member_absent" if iin in absent else "not_a_signer"
            raise SignatureRefused(422, code, pointer)
        if signer.signature is not None:
            raise SignatureRefused(409, "already_signed", pointer)
        return signer

    def _record(
        self,
        session: Session,
        document: DocumentView,
        signer: SignerState,
        report: SignatureReport,
        cms_sha256: str,
    ) -> None:
        identity = report.signer
        assert identity is not None
        now = self.clock()
        session.add(SignatureRecord(
            document_id=document.id,
            iin=signer.iin,
            cms_sha256=cms_sha256,
            certificate_serial=identity.serial_hex,
            certificate_sha256=identity.certificate_sha256,
            signer_name=identity.common_name,
            signing_time=report.signing_time,
            accepted_at=now,
            report_json=audit.canonical_json(_report_json(report, now)),
        ))
        row = session.get(Document, document.id)
        audit.append(session, "signed_by", row, {
            "name": signer.name,
            "role": signer.role,
            "certificate_serial": identity.serial_hex,
            "signing_time": report.signing_time.isoformat() if report.signing_time else None,
            "cms_sha256": cms_sha256,
            "revocation_checked": report.revocation_checked,
        }, self.clock)

    def _complete(
        self, session: Session, document: DocumentView, content: bytes, state: SigningState
    ) -> SigningStatus:
        """Mark the document signed once everyone has signed and the quorum holds."""
        status = self._status(session, document, content)
        if status.missing or state.signed_at is not None:
            return status
        if document.form in PROTOCOL_FORMS and (status.quorum is None or not status.quorum.holds):
            return status
        state.signed_at = self.clock()
        row = session.get(Document, document.id)
        payload: dict[str, object] = {"signers": len(status.signers)}
        if status.quorum is not None:
            payload.update(members_total=status.quorum.members_total,
                           members_present=status.quorum.members_present)
        event = "protocol_signed" if document.form in PROTOCOL_FORMS else "document_signed"
        audit.append(session, event, row, payload, self.clock)
        assert row is not None
        for listener in self.listeners:  # e.g. the outbox releases the extract's e-mail
            listener.signed(session, row)
        return self._status(session, document, content)

    def _status(self, session: Session, document: DocumentView, content: bytes) -> SigningStatus:
        state = session.get(SigningState, document.id)
        if state is None:
            return SigningStatus(document, content, (), None, None)
        signatures = {
            s.iin: s for s in session.scalars(
                select(SignatureRecord).where(SignatureRecord.document_id == document.id)
            )
        }
        signers = tuple(
            SignerState(r.name, r.role, r.iin, signatures.get(r.iin))
            for r in _requirements(session, document.id)
        )
        quorum = None
        if state.members_total is not None:
            present = sum(1 for s in signers if s.role in MEMBER_ROLES)
            quorum = Quorum(state.members_total, present)
        return SigningStatus(document, content, signers, quorum, state.signed_at)

    def _absent_members(self, session: Session, document_id: uuid.UUID) -> frozenset[str]:
        """IINs of the commission's members (and secretary) who do not sign this document."""
        state = session.get(SigningState, document_id)
        if state is None or state.commission_id is None:
            return frozenset()
        commission = session.get(CommissionRecord, state.commission_id)
        assert commission is not None
        spec = json.loads(commission.spec_json)
        return frozenset(m["iin"] for m in spec["members"])

    # -- outputs

    def combined(self, caller: Caller, document_id: uuid.UUID) -> tuple[DocumentView, bytes]:
        """The detached .p7s holding every signer's SignerInfo and the intermediate CAs
        (`combine_stored` over `signed_cms`, as the e-mail of a signed extract attaches it)."""
        status = self.status(caller, document_id)
        if status.signed_at is None:
            raise NotSigned(status.document.registration_number,
                            [s.name for s in status.missing],
                            status.quorum is not None or status.document.form not in
                            PROTOCOL_FORMS)
        with self.db.read() as session:
            stored = signed_cms(session, document_id)
        assert stored is not None  # signed stays signed
        return status.document, combine_stored(self.store, self.trust, stored)

    def signed_copy(
        self, caller: Caller, document_id: uuid.UUID
    ) -> tuple[SignatureReportView, Any]:
        """What a printable signed copy is made of: the report (every signature checked now)
        and the document's pages with the verify page's QR code (Registry.laid_out_copy).
        Only for a document that is signed (NotSigned otherwise)."""
        found = self.report(caller, document_id)
        if found.signed_at is None:
            self.combined(caller, document_id)  # raises NotSigned, naming who is missing
        _, pages = self.registry.laid_out_copy(caller, document_id)
        return found, pages

    def report(self, caller: Caller, document_id: uuid.UUID) -> SignatureReportView:
        """Each required signer with their signature re-verified now over the frozen bytes."""
        status = self.status(caller, document_id)
        now = self.clock()
        signed = status.signed
        reports: dict[str, SignatureReport] = {}
        if signed:
            trust = self.trust.anchors()
            checked = verify_signatures(
                [self.store.get(s.signature.cms_sha256) for s in signed
                 if s.signature is not None],
                status.content,
                trust=trust,
                expected_iins=[s.iin for s in signed],
                now=now,
                revocation=self.revocation,
            )
            reports = {s.iin: r for s, r in zip(signed, checked, strict=True)}
        lines = []
        for signer in status.signers:
            record = signer.signature
            if record is None:
                lines.append(SignerResult(signer.name, signer.role, signed=False))
                continue
            result = reports[signer.iin]
            lines.append(SignerResult(
                signer.name,
                signer.role,
                signed=True,
                certificate_serial=record.certificate_serial,
                certificate_subject=record.signer_name,
                certificate_issuer=result.signer.issuer if result.signer else None,
                signing_time=record.signing_time,
                accepted_at=record.accepted_at,
                status=result.status.value,
                failures=result.codes,
            ))
        return SignatureReportView(
            status.document, status.status, status.signed_at, now, status.quorum, tuple(lines)
        )

    # -- helpers

    def _commission_by_digest(self, caller: Caller, digest: str) -> CommissionView | None:
        with self.db.read() as session:
            row = session.scalars(select(CommissionRecord).where(
                CommissionRecord.organisation_id == caller.organisation_id,
                CommissionRecord.spec_sha256 == digest,
            )).one_or_none()
            return None if row is None else _commission_view(row)

    @staticmethod
    def _owned_commission(
        session: Session, caller: Caller, commission_id: uuid.UUID
    ) -> CommissionRecord:
        row = session.get(CommissionRecord, commission_id)
        if row is None or row.organisation_id != caller.organisation_id:
            raise CommissionNotFound(str(commission_id))
        return row


def _commission_view(row: CommissionRecord) -> CommissionView:
    return CommissionView(row.id, json.loads(row.spec_json), row.members, row.term_end,
                          row.created_at)


def _report_json(report: SignatureReport, verified_at: dt.datetime) -> dict[str, Any]:
    signer = report.signer
    return {
        "status": report.status.value,
        "intact": report.intact,
        "valid": report.valid,
        "trusted": report.trusted,
        "revocation_checked": report.revocation_checked,
        "signing_time": report.signing_time.isoformat() if report.signing_time else None,
        "verified_at": verified_at.isoformat(),
        "certificate": None if signer is None else {
            "subject": signer.common_name,
            "serial": signer.serial_hex,
            "issuer": signer.issuer,
            "not_before": signer.not_before.isoformat(),
            "not_after": signer.not_after.isoformat(),
            "sha256": signer.certificate_sha256,
        },
    }


def _with_failure(report: SignatureReport, code: FailureCode) -> SignatureReport:
    return replace(report, status=Status.INVALID, failures=(*report.failures, Failure(code)))


class Ledger:
    """The signatures on record, for public verification: service.verification.verifier's
    SignatureLedger, read through this service (its tables, object store, trust folder and
    revocation policy). Every required signer in the document's order, by name and role: the
    IIN only pairs a requirement with its signature here and never leaves this class."""

    def __init__(self, signatures: Signatures) -> None:
        self.signatures = signatures

    def on_record(self, document_id: uuid.UUID) -> SignaturesOnRecord | None:
        """What each signature's verification found when it was accepted (None when the
        document needs no signatures)."""
        signers = self._signers(document_id)
        if signers is None:
            return None
        return SignaturesOnRecord(tuple(
            SignerCheck(s.name, s.role, "missing") if s.signature is None else SignerCheck(
                s.name, s.role, json.loads(s.signature.report_json)["status"],
                s.signature.signing_time)
            for s in signers
        ))

    def reverify(self, document_id: uuid.UUID, content: bytes) -> SignaturesOnRecord | None:
        """Every stored signature verified again, now, over `content` (None when the document
        needs no signatures). Without trust anchors (QUJAT_TRUST_DIR unset or gone) each
        signed one is "indeterminate" with the reason "no_trust_anchors": a public page must
        answer, not fail."""
        signers = self._signers(document_id)
        if signers is None:
            return None
        service = self.signatures
        signed = [s for s in signers if s.signature is not None]
        checks: dict[str, SignerCheck] = {}
        if signed:
            try:
                trust = service.trust.anchors()
            except SigningUnavailable:
                checks = {s.iin: SignerCheck(s.name, s.role, "indeterminate",
                                             s.signature.signing_time, ("no_trust_anchors",))
                          for s in signed if s.signature is not None}
            else:
                reports = verify_signatures(
                    [service.store.get(s.signature.cms_sha256) for s in signed
                     if s.signature is not None],
                    content, trust=trust, expected_iins=[s.iin for s in signed],
                    now=service.clock(), revocation=service.revocation,
                )
                checks = {s.iin: SignerCheck(s.name, s.role, r.status.value, r.signing_time,
                                             tuple(c.value for c in r.codes))
                          for s, r in zip(signed, reports, strict=True)}
        return SignaturesOnRecord(tuple(
            checks.get(s.iin) or SignerCheck(s.name, s.role, "missing") for s in signers
        ))

    def _signers(self, document_id: uuid.UUID) -> list[SignerState] | None:
        """The required signers with their signatures: one query (a verify page runs it)."""
        with self.signatures.db.read() as session:
            rows = session.execute(
                select(SignatureRequirement, SignatureRecord)
                .outerjoin(SignatureRecord,
                           (SignatureRecord.document_id == SignatureRequirement.document_id)
                           & (SignatureRecord.iin == SignatureRequirement.iin))
                .where(SignatureRequirement.document_id == document_id)
                .order_by(SignatureRequirement.ordinal)
            ).all()
            # SigningListener records a signing state with at least one requirement, or none
            if not rows:
                return None
            return [SignerState(r.name, r.role, r.iin, signature) for r, signature in rows]


def signature_references(database: Database) -> list[Reference]:
    """Every stored signature (CMS) with its document: `qujat storage check` re-hashes them and
    `qujat storage gc` must never take them for orphans."""
    with database.read() as session:
        rows = session.execute(
            select(SignatureRecord.cms_sha256, Document.id, Document.registration_number)
            .join(Document, Document.id == SignatureRecord.document_id)
            .order_by(Document.series, Document.seq, SignatureRecord.accepted_at)
        ).all()
    return [Reference(sha256, str(document_id), number, "signature")
            for sha256, document_id, number in rows]
