"""Signing invitations: one link per signer, bound to that signer's IIN.

A platform creates them for a document that waits for signatures (all its pending signers,
or the ones it names, each optionally with an e-mail address). Each link carries a random
token (`secrets.token_urlsafe(32)`); only its SHA-256 is stored, so the database never holds
a usable link. A link expires (QUJAT_INVITATION_DAYS, 7 by default), can be revoked by the
platform, is superseded by a newer link for the same signer, and is used once its signer has
signed through it.

Signing through a link goes through the same intake as the API (`Signatures.sign`), with the
invitation's IIN as the expected signer: a CMS made with anyone else's key is refused
(`iin_mismatch`), and so is an authentication key (`auth_key`), before anything is stored.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.core.db import Database
from service.forms.decisions import Clock, InvalidDecision, Violation
from service.invitations.models import Invitation
from service.registry import audit
from service.registry.issuing import DocumentNotFound
from service.registry.models import Document, Organisation
from service.registry.tokens import Caller
from service.signatures.intake import Signatures, SigningStatus

MAX_SIGNERS = 100
_IIN = re.compile(r"\d{12}")
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{2,63}")


class InvitationRefused(Exception):
    """An invitation cannot be created or revoked; `code` is a message code."""

    def __init__(self, status: int, code: str, pointer: str = "", **params: object) -> None:
        self.status = status
        self.code = code
        self.pointer = pointer
        self.params = params
        super().__init__(f"invitation refused: {code}")


class LinkUnusable(LookupError):
    """The link cannot be used: `reason` is unknown, expired, revoked or used."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"signing link {reason}")


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Invitee:
    iin: str
    email: str | None


@dataclass(frozen=True, slots=True)
class Created:
    """A new invitation and its token, which exists nowhere else once this is returned."""

    invitation: Invitation
    token: str
    name: str
    role: str


@dataclass(frozen=True, slots=True)
class OpenedLink:
    """What the signing page shows: the invitation, its signer, the document's state."""

    invitation: Invitation
    signer_name: str
    signer_role: str
    status: SigningStatus
    organisation: Organisation


def parse_invitees(payload: object) -> list[Invitee] | None:
    """`{"signers": [{"iin": …, "email": …}, …]}`, or an empty body / `{}` for every pending
    signer (None). Every problem at once."""
    if payload is None:
        return None
    if not isinstance(payload, dict):
        raise InvalidDecision([Violation("", "type", {"expected": "object"})])
    violations = [Violation(f"/{k}", "unknown_field", {"field": k})
                  for k in payload if k != "signers"]
    signers = payload.get("signers")
    found: list[Invitee] = []
    if signers is None:
        if violations:
            raise InvalidDecision(violations)
        return None
    if not isinstance(signers, list) or not signers:
        violations.append(Violation("/signers", "type", {"expected": "non-empty array"}))
    elif len(signers) > MAX_SIGNERS:
        violations.append(Violation("/signers", "too_long", {"limit": MAX_SIGNERS}))
    else:
        seen: set[str] = set()
        for i, item in enumerate(signers):
            where = f"/signers/{i}"
            if not isinstance(item, dict):
                violations.append(Violation(where, "type", {"expected": "object"}))
                continue
            violations += [Violation(f"{where}/{k}", "unknown_field", {"field": k})
                           for k in item if k not in ("iin", "email")]
            iin, email = item.get("iin"), item.get("email")
            if not isinstance(iin, str) or not _IIN.fullmatch(iin):
                violations.append(Violation(f"{where}/iin", "bad_format",
                                            {"expected": "12 digits"}))
                continue
            if iin in seen:
                violations.append(Violation(f"{where}/iin", "duplicate_signer"))
            seen.add(iin)
            if email is not None and not (isinstance(email, str) and _EMAIL.fullmatch(email)):
                violations.append(Violation(f"{where}/email", "bad_format",
                                            {"expected": "an e-mail address"}))
                continue
            found.append(Invitee(iin, email))
    if violations:
        raise InvalidDecision(violations)
    return found


def reissue(invitation: Invitation, now: dt.datetime, lifetime: dt.timedelta) -> str:
    """A fresh token for `invitation` (a reminder carries a new link; the old one stops
    working), in the caller's transaction."""
    token = secrets.token_urlsafe(32)
    invitation.token_sha256 = token_digest(token)
    invitation.expires_at = now + lifetime
    return token


class Invitations:
    """Creating, revoking and opening signing links. Dependencies by the constructor."""

    def __init__(
        self,
        database: Database,
        signatures: Signatures,
        *,
        clock: Clock,
        lifetime: dt.timedelta,
    ) -> None:
        self.db = database
        self.signatures = signatures
        self.clock = clock
        self.lifetime = lifetime

    def invite(
        self, caller: Caller, document_id: uuid.UUID, invitees: Sequence[Invitee] | None
    ) -> list[Created]:
        """A new link for each named signer (or each one who has not signed yet). A signer's
        earlier open links are revoked: only the newest one works."""
        status = self.signatures.status(caller, document_id)
        if not status.signers:
            raise InvitationRefused(409, "no_signers")
        if status.signed_at is not None:
            raise InvitationRefused(409, "invitation_document_signed")
        pending = {s.iin: s for s in status.missing}
        required = {s.iin for s in status.signers}
        if invitees is None:
            invitees = [Invitee(iin, None) for iin in pending]
        for i, invitee in enumerate(invitees):
            if invitee.iin not in required:
                raise InvitationRefused(422, "not_a_signer", f"/signers/{i}/iin")
            if invitee.iin not in pending:
                raise InvitationRefused(409, "already_signed", f"/signers/{i}/iin")
        now = self.clock()
        created: list[Created] = []
        with self.db.write() as session:
            for invitee in invitees:
                self._supersede(session, document_id, invitee.iin, now)
                token = secrets.token_urlsafe(32)
                row = Invitation(
                    id=uuid.uuid4(), document_id=document_id, iin=invitee.iin,
                    email=invitee.email, token_sha256=token_digest(token), created_at=now,
                    expires_at=now + self.lifetime, revoked_at=None, used_at=None,
                    reminders_sent=0, last_reminded_at=None,
                )
                session.add(row)
                signer = pending[invitee.iin]
                created.append(Created(row, token, signer.name, signer.role))
            document = session.get(Document, document_id)
            audit.append(session, "signers_invited", document, {
                "invitations": [{"id": str(c.invitation.id), "role": c.role,
                                 "email": c.invitation.email is not None} for c in created],
            }, self.clock)
            session.flush()
            for c in created:
                session.expunge(c.invitation)
        return created

    @staticmethod
    def _supersede(session: Session, document_id: uuid.UUID, iin: str, now: dt.datetime) -> None:
        for old in session.scalars(select(Invitation).where(
            Invitation.document_id == document_id, Invitation.iin == iin,
            Invitation.revoked_at.is_(None), Invitation.used_at.is_(None),
        )):
            old.revoked_at = now

    def list(self, caller: Caller, document_id: uuid.UUID) -> list[Invitation]:
        self.signatures.status(caller, document_id)  # the caller's document, or not found
        with self.db.read() as session:
            rows = list(session.scalars(
                select(Invitation).where(Invitation.document_id == document_id)
                .order_by(Invitation.created_at, Invitation.iin)
            ))
            for row in rows:
                session.expunge(row)
            return rows

    def revoke(self, caller: Caller, document_id: uuid.UUID, invitation_id: uuid.UUID) -> None:
        self.signatures.status(caller, document_id)
        with self.db.write() as session:
            row = session.get(Invitation, invitation_id, with_for_update=True)
            if row is None or row.document_id != document_id:
                raise InvitationRefused(404, "invitation_unknown")
            if row.used_at is not None:
                raise InvitationRefused(409, "invitation_used")
            if row.revoked_at is None:
                row.revoked_at = self.clock()
                audit.append(session, "invitation_revoked", session.get(Document, document_id),
                              {"id": str(row.id)}, self.clock)

    # -- the signer's side

    def open(self, token: str) -> OpenedLink:
        """The link's invitation and its document's state, or LinkUnusable."""
        with self.db.read() as session:
            row = session.scalar(
                select(Invitation).where(Invitation.token_sha256 == token_digest(token))
            )
            if row is None:
                raise LinkUnusable("unknown")
            document = session.get(Document, row.document_id)
            assert document is not None
            organisation = session.get(Organisation, document.organisation_id)
            assert organisation is not None
            session.expunge(row)
            session.expunge(organisation)
        caller = Caller(organisation.id, organisation.code, 0)
        try:
            status = self.signatures.status(caller, row.document_id)
        except DocumentNotFound:  # pragma: no cover - the foreign key holds it
            raise LinkUnusable("unknown") from None
        signer = next((s for s in status.signers if s.iin == row.iin), None)
        if signer is None:
            raise LinkUnusable("unknown")
        if row.used_at is not None or signer.signature is not None:
            raise LinkUnusable("used")
        if row.revoked_at is not None:
            raise LinkUnusable("revoked")
        if self.clock() >= row.expires_at:
            raise LinkUnusable("expired")
        return OpenedLink(row, signer.name, signer.role, status, organisation)

    def sign(self, token: str, cms_base64: str) -> SigningStatus:
        """The invitation's signer signs: the same intake as the API, bound to the IIN."""
        opened = self.open(token)
        invitation = opened.invitation
        caller = Caller(opened.organisation.id, opened.organisation.code, 0)
        status = self.signatures.sign(caller, invitation.document_id, cms_base64,
                                      claimed_iin=invitation.iin)
        with self.db.write() as session:
            row = session.get(Invitation, invitation.id, with_for_update=True)
            assert row is not None
            row.used_at = self.clock()
        return status


def invitation_json(row: Invitation, now: dt.datetime) -> dict[str, Any]:
    state = ("used" if row.used_at else "revoked" if row.revoked_at
             else "expired" if now >= row.expires_at else "open")
    return {
        "id": str(row.id),
        "iin": row.iin,
        "email": row.email,
        "state": state,
        "created_at": row.created_at.isoformat(),
        "expires_at": row.expires_at.isoformat(),
        "reminders_sent": row.reminders_sent,
    }
