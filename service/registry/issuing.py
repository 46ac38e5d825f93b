"""The document registry: registration numbers, issuing, idempotent posting.

Registration numbers
--------------------
    AA-ORG-YY-NNNNNN-CC        e.g. 01-KRG-26-000042-42

    AA      the form's appendix in the act, two digits (01 certificate, 02 protocol,
            03 extract, 06 acceptance notice, 07 refusal, 12 heads' protocol, 13 heads' extract)
    ORG     the issuing body's code, 2 to 8 Latin capital letters
    YY      the year of registration in Kazakhstan's time
    NNNNNN  the document's place in its series (form × issuing body × year), from 000001
    CC      two check digits, ISO 7064 MOD 97-10 over "AAORGYYNNNNNN" with the letters
            read as numbers A=10 … Z=35 (as in an IBAN)

It reads over the phone in five groups, sorts by series and then by order of issue, and its
check digits catch every single mistyped character and every swap of two neighbours (a
letter for a letter and a digit for a digit change the value by less than 97 times a power
of ten; a letter for a digit, or a swap across a dash, breaks the pattern), so verification
can say "mistyped" rather than "not issued".

Numbers are gapless: a series' counter row is locked (UPDATE … RETURNING, which takes the row
lock `SELECT … FOR UPDATE` would) in the same transaction that inserts the document, and a
transaction that fails rolls the counter back with everything else. A database sequence
would leave a gap at every rollback.

Issuing
-------
1. the view authenticates the caller and parses the request (no database);
2. the `Idempotency-Key`, if any, is claimed: an in-flight row, unique per body and key;
3. transaction A opens with the platform's decision_id: if already issued, the same request
   gets the same document, a different one a DecisionConflict (nothing is written);
4. else, still in transaction A (short, under the counter's lock): next number, the document
   row in state `pending` with its number and verification token, audit "created";
5. outside any lock: render the PDF (deterministic: the same bytes every time), store them;
6. transaction B: the row's PDF hash and state `issued`, the idempotency key's answer,
   audit "issued".
A crash between A and B leaves a pending row holding its number; the next request for the
same decision, a GET of its PDF, `qujat registry repair` or `qujat serve` completes it with
the same bytes. So numbers are never lost and never given twice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
import secrets
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, cast

from sqlalchemy import Row, Table, bindparam, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.core.db import Database
from service.core.faults import NO_FAULTS, Faults
from service.forms.decisions import ALMATY, Clock, Decision, parse_decision
from service.forms.rendering import DocumentInfo, Renderer
from service.forms.vocabulary import Form, Language
from service.registry import audit, seals
from service.registry.models import (
    Document,
    DocumentStatus,
    IdempotencyKey,
    KeyState,
    SeriesCounter,
)
from service.registry.storage import ObjectStore, Reference
from service.registry.tokens import Caller

log = logging.getLogger(__name__)

# --------------------------------------------------------------------------- numbers

SEQ_DIGITS = 6
_NUMBER = re.compile(
    r"^(?P<appendix>[0-9]{2})-(?P<organisation>[A-Z]{2,8})-(?P<year>[0-9]{2})"
    r"-(?P<seq>[0-9]{6})-(?P<check>[0-9]{2})$"
)
_DASHES = str.maketrans(dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2212", "-"))


class MalformedRegistrationNumber(ValueError):
    """Not of the form AA-ORG-YY-NNNNNN-CC at all."""


class MistypedRegistrationNumber(ValueError):
    """The right form, but the check digits disagree: a character was mistyped."""


class SeriesExhausted(RuntimeError):
    def __init__(self, series: str) -> None:
        self.series = series
        super().__init__(f"series {series} has used all its {10**SEQ_DIGITS - 1} numbers")


def mod97_check_digits(body: str) -> str:
    """ISO 7064 MOD 97-10 check digits of `body` (digits and Latin capitals, A=10 … Z=35)."""
    numeric = "".join(str(int(char, 36)) for char in body)
    return f"{98 - int(numeric + '00') % 97:02d}"


@dataclass(frozen=True, slots=True)
class RegistrationNumber:
    appendix: int
    organisation: str
    year: int  # two digits
    seq: int

    @property
    def series(self) -> str:
        return series_key(self.appendix, self.organisation, self.year)

    @property
    def check(self) -> str:
        body = f"{self.appendix:02d}{self.organisation}{self.year:02d}{self.seq:0{SEQ_DIGITS}d}"
        return mod97_check_digits(body)

    def __str__(self) -> str:
        return f"{self.series}-{self.seq:0{SEQ_DIGITS}d}-{self.check}"


def series_key(appendix: int, organisation: str, year: int) -> str:
    return f"{appendix:02d}-{organisation}-{year % 100:02d}"


def parse_registration_number(text: str) -> RegistrationNumber:
    """The number in `text` (surrounding spaces, lower case and typographic dashes are
    forgiven); MalformedRegistrationNumber or MistypedRegistrationNumber otherwise."""
    normal = text.strip().upper().translate(_DASHES)
    match = _NUMBER.match(normal)
    if match is None:
        raise MalformedRegistrationNumber(f"not a registration number: {text[:40]!r}")
    number = RegistrationNumber(
        int(match["appendix"]), match["organisation"], int(match["year"]), int(match["seq"])
    )
    if number.check != match["check"]:
        raise MistypedRegistrationNumber(f"the check digits of {normal} do not match")
    return number


def check_registration_number(text: str) -> bool:
    """True if `text` is exactly a well-formed number with matching check digits."""
    if _NUMBER.match(text) is None:
        return False
    try:
        parse_registration_number(text)
    except ValueError:
        return False
    return True


# --------------------------------------------------------------------------- values


@dataclass(frozen=True, slots=True)
class IssueRequest:
    """A validated request to issue: the decision and the exact request it came in."""

    form: Form
    language: Language
    decision: Decision
    decision_id: str
    request_json: str  # canonical JSON of {form, language, decision[, extras]}
    request_sha256: str
    extras: Mapping[str, Any] = field(default_factory=dict)


#: envelope fields that matter only when issuing (see schemas/request.v1.schema.json)
ISSUE_EXTRAS = ("deliver_to", "protocol", "supersedes")


def issue_request(
    form: Form,
    language: Language,
    decision: Decision,
    decision_json: Mapping[str, Any],
    extras: Mapping[str, Any] | None = None,
) -> IssueRequest:
    """Bind a parsed decision to the canonical form of its request (what is hashed).

    `extras` (delivery address, cited protocol, superseded document) are part of the
    request: the same decision with another delivery address is a different request.
    """
    decision_id = decision.decision_id
    if decision_id is None:
        raise ValueError("an issued document needs the decision's decision_id")
    extras = {k: v for k, v in (extras or {}).items() if v is not None}
    envelope: dict[str, Any] = {
        "form": form.value,
        "language": language,
        "decision": dict(decision_json),
    }
    envelope.update(extras)
    text = audit.canonical_json(envelope)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return IssueRequest(form, language, decision, decision_id, text, digest, extras)


class IssueListener(Protocol):
    """A feature that acts when a document is created, inside transaction A.

    `created` runs under the series lock in the transaction that inserts the document row,
    so what it writes (signature requirements, an e-mail in the outbox, a supersession)
    commits or rolls back with the number itself. It must be quick: no rendering, no I/O
    outside the session. Raising aborts the issue with nothing stored.
    """

    def created(self, session: Session, document: Document, request: IssueRequest) -> None: ...


@dataclass(frozen=True, slots=True)
class DocumentView:
    """A snapshot of a document row, safe to use after its transaction."""

    id: uuid.UUID
    form: Form
    language: Language
    decision_id: str
    registration_number: str
    status: DocumentStatus
    request_sha256: str
    pdf_sha256: str | None
    docx_sha256: str | None
    supersedes_id: uuid.UUID | None
    created_at: dt.datetime
    issued_at: dt.datetime | None
    verify_url: str


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    seq: int
    at: dt.datetime
    event: str
    payload: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Issued:
    document: DocumentView
    created: bool  # this request (or its idempotency key) created the document
    answer: RecordedAnswer


@dataclass(frozen=True, slots=True)
class RecordedAnswer:
    """The answer an idempotency key replays, byte for byte."""

    status: int
    media_type: str
    body: bytes


class DocumentNotFound(LookupError):
    """No such document for this caller (another body's documents do not exist for it)."""


class DecisionConflict(Exception):
    """The decision_id was already issued from a different request."""

    def __init__(self, existing: DocumentView) -> None:
        self.existing = existing
        super().__init__(
            f"decision {existing.decision_id} was already issued as "
            f"{existing.registration_number} from a different request"
        )


class IdempotencyKeyReused(Exception):
    """The key was first used with a different request body."""


class IdempotencyKeyInFlight(Exception):
    """The first request with this key is still being processed."""


IDEMPOTENCY_LEASE = dt.timedelta(seconds=60)  # longer than gunicorn's worker timeout
IDEMPOTENCY_TTL = dt.timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class KeyClaim:
    organisation_id: int
    key: str
    claimed_at: dt.datetime


# --------------------------------------------------------------------------- statements
# Built once: every issue runs them, and a statement built afresh costs more to make (and to
# compute its cache key) than to execute. Plain tables, no ORM entities to load or track.

_DOCUMENTS = cast(Table, Document.__table__)
_COUNTERS = cast(Table, SeriesCounter.__table__)
#: the columns a DocumentView is made of
_VIEW_COLUMNS = tuple(
    _DOCUMENTS.c[name]
    for name in (
        "id", "form", "language", "decision_id", "registration_number", "status",
        "request_sha256", "pdf_sha256", "docx_sha256", "supersedes_id", "created_at",
        "issued_at", "verify_token",
    )
)
_FIND_DECISION = select(*_VIEW_COLUMNS).where(
    _DOCUMENTS.c.organisation_id == bindparam("organisation_id"),
    _DOCUMENTS.c.decision_id == bindparam("decision_id"),
)
# the pending document gets its bytes; no row if it is no longer pending (completed by a
# concurrent request, a GET of its PDF or a repair): the update's row lock, or BEGIN
# IMMEDIATE on SQLite, orders the two
_ISSUE_PENDING = (
    update(_DOCUMENTS)
    .where(
        _DOCUMENTS.c.id == bindparam("document_id"),
        _DOCUMENTS.c.status == DocumentStatus.PENDING,
    )
    .values(
        status=DocumentStatus.ISSUED,
        pdf_sha256=bindparam("new_pdf_sha256"),
        issued_at=bindparam("new_issued_at", type_=_DOCUMENTS.c.issued_at.type),
    )
    .returning(*_DOCUMENTS.c)  # the whole row: its new seal (see service.registry.seals)
)
# the counter row's lock is held until the commit (UPDATE … RETURNING)
_BUMP_COUNTER = (
    update(_COUNTERS)
    .where(_COUNTERS.c.series == bindparam("series_key"))
    .values(last_value=_COUNTERS.c.last_value + 1)
    .returning(_COUNTERS.c.last_value)
)


def receipt(document: DocumentView) -> dict[str, Any]:
    base = f"/api/v1/documents/{document.id}"
    return {
        "id": str(document.id),
        "registration_number": document.registration_number,
        "sha256": document.pdf_sha256,
        "links": {"pdf": base + ".pdf", "docx": base + ".docx", "verify": document.verify_url},
    }


def _answer(document: DocumentView, created: bool) -> RecordedAnswer:
    body = audit.canonical_json(receipt(document)).encode("utf-8")
    return RecordedAnswer(201 if created else 200, "application/json", body)


# --------------------------------------------------------------------------- the registry


class Registry:
    """Issues, stores and serves documents. Every dependency comes in by the constructor."""

    def __init__(
        self,
        database: Database,
        store: ObjectStore,
        renderer: Renderer,
        *,
        clock: Clock,
        public_base_url: str,
        faults: Faults = NO_FAULTS,
    ) -> None:
        self.db = database
        self.store = store
        self.renderer = renderer
        self.clock = clock
        self.public_base_url = public_base_url.rstrip("/")
        self.faults = faults
        self.listeners: list[IssueListener] = []
        # one render at a time per process: WeasyPrint's font objects are shared and not
        # known to be thread-safe; a threaded worker still overlaps fsyncs and queries
        self._render_lock = threading.Lock()

    # -- issuing

    def issue(
        self, caller: Caller, request: IssueRequest, idempotency_key: str | None = None
    ) -> Issued | RecordedAnswer:
        """Issue the document for `request`, or return what was already issued for it.

        With an idempotency key whose first request completed, returns that request's
        RecordedAnswer. Raises IdempotencyKeyReused, IdempotencyKeyInFlight, DecisionConflict.
        """
        claim = None
        if idempotency_key is not None:
            claimed = self._claim(caller, idempotency_key, request.request_sha256)
            if isinstance(claimed, RecordedAnswer):
                return claimed
            claim = claimed
        try:
            return self._issue(caller, request, claim)
        except BaseException:
            if claim is not None:
                self._release(claim)
            raise

    def _issue(self, caller: Caller, request: IssueRequest, claim: KeyClaim | None) -> Issued:
        try:
            existing, created = self._create(caller, request, claim)
        except IntegrityError:
            # the same decision_id committed by a concurrent request: use that one
            found = self._find_decision(caller, request.decision_id)
            if found is None:
                raise
            existing, created = found, False
        if existing.request_sha256 != request.request_sha256:
            raise DecisionConflict(existing)
        if created:
            self.faults.after_create(request.decision_id)
        return self._complete(
            existing, request.form, request.language, request.decision, claim, created
        )

    def _create(
        self, caller: Caller, request: IssueRequest, claim: KeyClaim | None
    ) -> tuple[DocumentView, bool]:
        """Transaction A: the document already made for the decision (False), or the number
        and the pending row, under the series counter's lock (True)."""
        with self.db.write() as session:
            # first, before the counter's lock: a replay writes nothing and locks no row (on
            # SQLite it still queues behind the writers, as every write transaction does)
            found = session.execute(
                _FIND_DECISION,
                {"organisation_id": caller.organisation_id, "decision_id": request.decision_id},
            ).one_or_none()
            if found is not None:
                return self._view(found), False
            now = self.clock()
            year = now.astimezone(ALMATY).year % 100
            series = series_key(request.form.appendix, caller.organisation_code, year)
            seq = _next_seq(session, series)
            number = RegistrationNumber(
                request.form.appendix, caller.organisation_code, year, seq
            )
            row = Document(
                id=uuid.uuid4(),
                organisation_id=caller.organisation_id,
                form=request.form,
                language=request.language,
                decision_id=request.decision_id,
                request_sha256=request.request_sha256,
                request_json=request.request_json,
                series=series,
                seq=seq,
                registration_number=str(number),
                verify_token=secrets.token_urlsafe(16),
                status=DocumentStatus.PENDING,
                created_at=now,
            )
            session.add(row)
            session.flush()
            if claim is not None:
                session.execute(
                    _key_row(update(IdempotencyKey), claim).values(document_id=row.id)
                )
            self.faults.inside_create(request.decision_id)
            for listener in self.listeners:
                listener.created(session, row, request)
            audit.append(
                session,
                "created",
                row,
                {
                    "registration_number": row.registration_number,
                    "form": request.form.value,
                    "language": request.language,
                    "decision_id": request.decision_id,
                    "request_sha256": request.request_sha256,
                    "organisation": caller.organisation_code,
                },
                self.clock,
            )
            return self._view(row), True

    def _complete(
        self,
        document: DocumentView,
        form: Form,
        language: Language,
        decision: Decision,
        claim: KeyClaim | None,
        created: bool,
    ) -> Issued:
        """Transaction B (after rendering outside any lock): record the bytes, answer."""
        if document.status == DocumentStatus.ISSUED:
            if claim is None:
                return Issued(document, created, _answer(document, created))
            with self.db.write() as session:
                return self._finish(session, document, claim, created)
        info = DocumentInfo(document.registration_number, document.verify_url)
        self.faults.before_render(document.decision_id)
        with self._render_lock:
            content = self.renderer.render_pdf(form, language, decision, info)
        sha256 = self.store.put(content)
        with self.db.write() as session:
            parameters = {
                "document_id": document.id,
                "new_pdf_sha256": sha256,
                "new_issued_at": self.clock(),
            }
            updated = session.execute(_ISSUE_PENDING, parameters).one_or_none()
            if updated is not None:  # it was pending: these are its bytes
                seals.seal_values(session, _DOCUMENTS, updated._mapping)
                view = self._view(updated)
                issued = self._finish(session, view, claim, created)
                audit.append_entry(
                    session, "issued", view.id, {"pdf_sha256": sha256}, self.clock
                )
                return issued
            row = session.get(Document, document.id, with_for_update=True)
            assert row is not None
            if row.pdf_sha256 != sha256:
                log.error("document %s rendered to different bytes: %s, stored %s",
                          row.registration_number, sha256, row.pdf_sha256)
            return self._finish(session, self._view(row), claim, created)

    def _finish(
        self, session: Session, document: DocumentView, claim: KeyClaim | None, created: bool
    ) -> Issued:
        """Record the answer for the keys waiting on this document (the creating request's,
        even if it died) and for this request's own key."""
        if created and claim is None:  # only a creating request links a key: none to record
            return Issued(document, created, _answer(document, created))
        keys = session.scalars(
            select(IdempotencyKey).where(
                IdempotencyKey.document_id == document.id,
                IdempotencyKey.state == KeyState.IN_FLIGHT,
            ).with_for_update()
        ).all()
        for key in keys:
            _record(key, _answer(document, created=True))
        if claim is not None and any(
            (k.organisation_id, k.key) == (claim.organisation_id, claim.key) for k in keys
        ):
            created = True
        answer = _answer(document, created)
        if claim is not None and not created:
            key_row = session.get(IdempotencyKey, (claim.organisation_id, claim.key),
                                  with_for_update=True)
            if key_row is not None and key_row.state == KeyState.IN_FLIGHT:
                _record(key_row, answer)
        return Issued(document, created, answer)

    # -- idempotency keys

    def _claim(self, caller: Caller, key: str, request_sha256: str) -> KeyClaim | RecordedAnswer:
        for attempt in range(2):
            try:
                return self._try_claim(caller, key, request_sha256)
            except IntegrityError:  # a concurrent first use of the same key won the insert
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def _try_claim(
        self, caller: Caller, key: str, request_sha256: str
    ) -> KeyClaim | RecordedAnswer:
        now = self.clock()
        claim = KeyClaim(caller.organisation_id, key, now)
        with self.db.write() as session:
            row = session.get(
                IdempotencyKey, (caller.organisation_id, key), with_for_update=True
            )
            if row is None:
                session.add(IdempotencyKey(
                    organisation_id=caller.organisation_id,
                    key=key,
                    request_sha256=request_sha256,
                    state=KeyState.IN_FLIGHT,
                    created_at=now,
                    claimed_at=now,
                ))
                session.flush()
                return claim
            if row.created_at < now - IDEMPOTENCY_TTL:  # expired: a new first use
                row.request_sha256 = request_sha256
                row.state = KeyState.IN_FLIGHT
                row.document_id = None
                row.response_status = row.response_media_type = row.response_body = None
                row.created_at = row.claimed_at = now
                return claim
            if row.request_sha256 != request_sha256:
                raise IdempotencyKeyReused(key)
            if row.state == KeyState.DONE:
                assert row.response_status is not None
                assert row.response_body is not None
                return RecordedAnswer(
                    row.response_status, row.response_media_type or "", row.response_body
                )
            if row.claimed_at > now - IDEMPOTENCY_LEASE:
                raise IdempotencyKeyInFlight(key)
            row.claimed_at = now  # its first request died: take over
            return claim

    def _release(self, claim: KeyClaim) -> None:
        """Forget a key whose request failed, so that a retry starts afresh."""
        try:
            with self.db.write() as session:
                session.execute(_key_row(delete(IdempotencyKey), claim))
        except Exception:  # the original error matters more; the lease frees the key anyway
            log.exception("could not release idempotency key %s", claim.key)

    # -- reading

    def document(self, caller: Caller, document_id: uuid.UUID) -> tuple[DocumentView,
                                                                          list[HistoryEntry]]:
        with self.db.read() as session:
            row = self._owned(session, caller, document_id)
            history = [
                HistoryEntry(e.seq, e.at, e.event, json.loads(e.payload))
                for e in audit.history(session, row.id)
            ]
            return self._view(row), history

    def pdf(self, caller: Caller, document_id: uuid.UUID) -> tuple[DocumentView, bytes]:
        with self.db.read() as session:
            row = self._owned(session, caller, document_id)
            view, request_json = self._view(row), row.request_json
        if view.pdf_sha256 is None:
            view = self._complete_stored(view, request_json)
        assert view.pdf_sha256 is not None
        return view, self.store.get(view.pdf_sha256)

    def laid_out_copy(self, caller: Caller, document_id: uuid.UUID) -> tuple[DocumentView, Any]:
        """The document's pages laid out again (rendering is deterministic: the issued text), the
        verify page's QR code on every one: the first part of a printable signed copy."""
        view, _ = self.pdf(caller, document_id)
        with self.db.read() as session:
            request_json = self._owned(session, caller, document_id).request_json
        form, language, decision = self._stored_decision(view, request_json)
        info = DocumentInfo(view.registration_number, view.verify_url)
        with self._render_lock:
            return view, self.renderer.layout(form, language, decision, info, stamp_qr=True)

    def docx(self, caller: Caller, document_id: uuid.UUID) -> tuple[DocumentView, bytes]:
        """The DOCX, rendered and stored on first request, the stored bytes afterwards."""
        with self.db.read() as session:
            row = self._owned(session, caller, document_id)
            view, request_json = self._view(row), row.request_json
        if view.status == DocumentStatus.PENDING:
            view = self._complete_stored(view, request_json)
        if view.docx_sha256 is not None:
            return view, self.store.get(view.docx_sha256)
        form, language, decision = self._stored_decision(view, request_json)
        info = DocumentInfo(view.registration_number, view.verify_url)
        with self._render_lock:
            content = self.renderer.render_docx(form, language, decision, info)
        sha256 = self.store.put(content)
        with self.db.write() as session:
            locked = session.get(Document, view.id, with_for_update=True)
            assert locked is not None
            row = locked
            if row.docx_sha256 is None:
                row.docx_sha256 = sha256
                audit.append(session, "docx_rendered", row, {"docx_sha256": sha256}, self.clock)
            view = self._view(row)
        assert view.docx_sha256 is not None
        if view.docx_sha256 == sha256:
            return view, content
        return view, self.store.get(view.docx_sha256)

    # -- maintenance

    def repair(self) -> list[DocumentView]:
        """Complete every pending document (crashed between its two transactions)."""
        with self.db.read() as session:
            rows = session.scalars(
                select(Document)
                .where(Document.status == DocumentStatus.PENDING)
                .order_by(Document.created_at)
            ).all()
            pending = [(self._view(row), row.request_json) for row in rows]
        return [self._complete_stored(view, text) for view, text in pending]

    # -- helpers

    def _complete_stored(self, view: DocumentView, request_json: str) -> DocumentView:
        form, language, decision = self._stored_decision(view, request_json)
        return self._complete(view, form, language, decision, None, False).document

    def _stored_decision(
        self, view: DocumentView, request_json: str
    ) -> tuple[Form, Language, Decision]:
        # parsed as of its creation: "not in the future" held then, and must hold now
        stored = json.loads(request_json)
        decision = parse_decision(view.form, stored["decision"], clock=lambda: view.created_at)
        return view.form, view.language, decision

    def _find_decision(self, caller: Caller, decision_id: str) -> DocumentView | None:
        with self.db.read() as session:
            row = session.execute(
                _FIND_DECISION,
                {"organisation_id": caller.organisation_id, "decision_id": decision_id},
            ).one_or_none()
            return None if row is None else self._view(row)

    @staticmethod
    def _owned(session: Session, caller: Caller, document_id: uuid.UUID) -> Document:
        row = session.get(Document, document_id)
        if row is None or row.organisation_id != caller.organisation_id:
            raise DocumentNotFound(str(document_id))
        return row

    def verify_url(self, registration_number: str, token: str) -> str:
        return f"{self.public_base_url}/verify/{registration_number}?t={token}"

    def _view(self, row: Document | Row[Any]) -> DocumentView:
        """The snapshot of a document: its ORM row, or a row of `_VIEW_COLUMNS`."""
        return DocumentView(
            id=row.id,
            form=row.form,
            language=row.language,  # type: ignore[arg-type]
            decision_id=row.decision_id,
            registration_number=row.registration_number,
            status=row.status,
            request_sha256=row.request_sha256,
            pdf_sha256=row.pdf_sha256,
            docx_sha256=row.docx_sha256,
            supersedes_id=row.supersedes_id,
            created_at=row.created_at,
            issued_at=row.issued_at,
            verify_url=self.verify_url(row.registration_number, row.verify_token),
        )


def references(database: Database) -> list[Reference]:
    """Every stored object a document refers to, in order of registration."""
    with database.read() as session:
        rows = session.execute(
            select(Document.id, Document.registration_number, Document.pdf_sha256,
                   Document.docx_sha256).order_by(Document.series, Document.seq)
        ).all()
    found = []
    for document_id, number, pdf, docx in rows:
        if pdf:
            found.append(Reference(pdf, str(document_id), number, "pdf"))
        if docx:
            found.append(Reference(docx, str(document_id), number, "docx"))
    return found


def _next_seq(session: Session, series: str) -> int:
    """The next number of `series`; holds the counter row's lock until the commit."""
    seq: int | None = session.execute(
        _BUMP_COUNTER, {"series_key": series}
    ).scalar_one_or_none()
    if seq is None:  # the series' first number: create its row; racing writers agree
        session.execute(_insert_counter(session.get_bind().dialect.name, series))
        seq = session.execute(_BUMP_COUNTER, {"series_key": series}).scalar_one()
    if seq >= 10**SEQ_DIGITS:
        raise SeriesExhausted(series)
    return seq


def _insert_counter(dialect: str, series: str) -> Any:
    if dialect == "postgresql":
        return postgresql.insert(SeriesCounter).values(series=series, last_value=0)\
            .on_conflict_do_nothing(index_elements=["series"])
    if dialect == "sqlite":
        return sqlite.insert(SeriesCounter).values(series=series, last_value=0)\
            .on_conflict_do_nothing(index_elements=["series"])
    return insert(SeriesCounter).values(series=series, last_value=0)


def _key_row(statement: Any, claim: KeyClaim) -> Any:
    """`statement` narrowed to the claim's key row, as long as the claim still holds it."""
    return statement.where(
        IdempotencyKey.organisation_id == claim.organisation_id,
        IdempotencyKey.key == claim.key,
        IdempotencyKey.state == KeyState.IN_FLIGHT,
        IdempotencyKey.claimed_at == claim.claimed_at,
    ).execution_options(synchronize_session=False)


def _record(key: IdempotencyKey, answer: RecordedAnswer) -> None:
    key.state = KeyState.DONE
    key.response_status = answer.status
    key.response_media_type = answer.media_type
    key.response_body = answer.body
