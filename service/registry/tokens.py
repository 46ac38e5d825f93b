"""Platforms' API tokens: `Authorization: Bearer qj_…`, one issuing body per token.

A token is shown once, when it is created; the database keeps only its SHA-256. Looking a
token up by its hash is the constant-time comparison: the index compares digests, and
learning how much of a digest matched says nothing about the token.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import cast

from flask import Flask, g, request
from sqlalchemy import Table, bindparam, select
from sqlalchemy.orm import Session

from service.core.db import Database
from service.core.errors import Problem
from service.forms.decisions import Clock
from service.registry.models import ApiToken, Organisation

TOKEN_PREFIX = "qj_"  # noqa: S105 - a prefix that makes leaked tokens easy to spot
# letters only: a digit or letter typed in the other's place must break the check digits
ORGANISATION_CODE = re.compile(r"^[A-Z]{2,8}$")
PUBLIC_API_PATHS = ("/api/v1/openapi.json",)
PUBLIC_API_PREFIXES = ("/api/v1/verify/",)


class InvalidOrganisationCode(ValueError):
    def __init__(self, code: str) -> None:
        self.code = code
        super().__init__(f"an organisation code is 2 to 8 Latin capital letters, not {code!r}")


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is calling: the issuing body behind the token."""

    organisation_id: int
    organisation_code: str
    token_id: int


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


MAX_ORGANISATION_NAME = 300


class InvalidOrganisationName(ValueError):
    """A full name that is blank or longer than the column holds; `field` says which."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        super().__init__(f"{field}: {reason}")


def _checked_name(field: str, value: str | None) -> str | None:
    if value is None:
        return None
    value = " ".join(value.split())
    if not value:
        raise InvalidOrganisationName(field, "the name is blank")
    if len(value) > MAX_ORGANISATION_NAME:
        raise InvalidOrganisationName(
            field, f"the name is {len(value)} characters long, at most {MAX_ORGANISATION_NAME}")
    return value


def organisation(
    session: Session, code: str, name: str | None, clock: Clock, *,
    name_kk: str | None = None, name_ru: str | None = None,
) -> Organisation:
    """The organisation with `code`, created (named `name`, or its code) if it is new; its
    Kazakh and Russian full names recorded when given (a new value replaces the old)."""
    if not ORGANISATION_CODE.match(code):
        raise InvalidOrganisationCode(code)
    name = _checked_name("name", name)
    name_kk = _checked_name("name_kk", name_kk)
    name_ru = _checked_name("name_ru", name_ru)
    found = session.scalars(select(Organisation).where(Organisation.code == code)).one_or_none()
    if found is None:
        found = Organisation(code=code, name=name or name_kk or name_ru or code,
                             created_at=clock())
        session.add(found)
    if name_kk is not None:
        found.name_kk = name_kk
    if name_ru is not None:
        found.name_ru = name_ru
    session.flush()
    return found


def create_token(
    session: Session, code: str, *, clock: Clock, organisation_name: str | None = None,
    token_name: str | None = None, name_kk: str | None = None, name_ru: str | None = None,
) -> tuple[str, ApiToken]:
    """A new token for the organisation `code` (created if needed, its full names recorded
    when given): the secret and its row."""
    org = organisation(session, code, organisation_name, clock, name_kk=name_kk,
                       name_ru=name_ru)
    token = new_token()
    row = ApiToken(
        organisation_id=org.id,
        name=token_name,
        token_sha256=token_digest(token),
        created_at=clock(),
    )
    session.add(row)
    session.flush()
    return token, row


_TOKENS = cast(Table, ApiToken.__table__)
_ORGANISATIONS = cast(Table, Organisation.__table__)
# built once: every API request runs it (plain columns, no ORM entities to load)
_CALLER_BY_DIGEST = (
    select(_TOKENS.c.organisation_id, _ORGANISATIONS.c.code, _TOKENS.c.id)
    .join(_ORGANISATIONS, _ORGANISATIONS.c.id == _TOKENS.c.organisation_id)
    .where(_TOKENS.c.token_sha256 == bindparam("digest"), _TOKENS.c.revoked_at.is_(None))
)


def authenticate(session: Session, token: str) -> Caller | None:
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    row = session.execute(_CALLER_BY_DIGEST, {"digest": token_digest(token)}).one_or_none()
    if row is None:
        return None
    organisation_id, code, token_id = row
    return Caller(organisation_id, code, token_id)


def _unauthorized(detail: str, error: str | None) -> Problem:
    challenge = 'Bearer realm="qujat"'
    if error:
        challenge += f', error="{error}"'
    return Problem(401, "unauthorized", detail, headers={"WWW-Authenticate": challenge})


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def current_caller() -> Caller:
    """The authenticated caller of this request (the API guard has set it)."""
    caller: Caller = g.qujat_caller
    return caller


def protect_api(app: Flask, database: Database) -> None:
    """Every /api/v1/ route needs a token, except the public ones."""

    @app.before_request
    def _require_token() -> None:
        path = request.path
        if not path.startswith("/api/v1/") or path in PUBLIC_API_PATHS:
            return
        if path.startswith(PUBLIC_API_PREFIXES):
            return
        token = bearer_token()
        if token is None:
            raise _unauthorized("This API needs an `Authorization: Bearer <token>` header.", None)
        with database.read() as session:
            caller = authenticate(session, token)
        if caller is None:
            raise _unauthorized("The token is unknown or revoked.", "invalid_token")
        g.qujat_caller = caller
