"""The registry's API: issue a numbered document, read its record, fetch its files.

POST /api/v1/documents            {form, language, decision} → 201 {id, registration_number,
                                  sha256, links}; the same decision again → 200, same body
GET  /api/v1/documents/{id}       its record and history
GET  /api/v1/documents/{id}.pdf   the stored bytes (ETag = SHA-256)
GET  /api/v1/documents/{id}.docx  rendered and stored on first request

`Idempotency-Key` (IETF httpapi draft): a repeated key with the same body replays the first
answer byte for byte (`Idempotent-Replayed: true`); a different body is 422; while the first
request runs, 409.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from flask import Blueprint, Response, current_app, request

from service.api.body import json_body
from service.api.render import MEDIA_TYPES
from service.core.errors import Problem
from service.forms.decisions import InvalidDecision, Violation, parse_request
from service.registry.audit import canonical_json
from service.registry.issuing import (
    ISSUE_EXTRAS,
    DecisionConflict,
    DocumentNotFound,
    DocumentView,
    IdempotencyKeyInFlight,
    IdempotencyKeyReused,
    RecordedAnswer,
    Registry,
    issue_request,
    receipt,
)
from service.registry.tokens import current_caller

bp = Blueprint("documents", __name__)

# an sf-string (RFC 8941) as the draft says, or the bare token most clients send
_KEY = re.compile(
    r'^(?:"(?P<quoted>[\x20-\x21\x23-\x5b\x5d-\x7e]{1,255})"|(?P<bare>[\x21\x23-\x7e]{1,255}))$'
)


def registry() -> Registry:
    found: Registry = current_app.extensions["qujat.registry"]
    return found


def idempotency_key() -> str | None:
    raw = request.headers.get("Idempotency-Key")
    if raw is None:
        return None
    match = _KEY.match(raw.strip())
    if match is None:
        raise Problem(
            400,
            "bad-idempotency-key",
            "Idempotency-Key must be 1 to 255 printable ASCII characters, "
            'optionally in double quotes.',
        )
    return match["quoted"] or match["bare"]


def _answer_response(answer: RecordedAnswer) -> Response:
    response = Response(answer.body, answer.status, mimetype=answer.media_type)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/api/v1/documents")
def issue() -> Response:
    caller = current_caller()
    key = idempotency_key()
    payload = json_body()
    form, language, _, decision = parse_request(payload, registry().clock)
    if decision.decision_id is None:
        raise InvalidDecision(
            [Violation("/decision/decision_id", "required", {"field": "decision_id"})]
        )
    extras = {name: payload.get(name) for name in ISSUE_EXTRAS}
    request_ = issue_request(form, language, decision, payload["decision"], extras)
    try:
        outcome = registry().issue(caller, request_, key)
    except IdempotencyKeyReused:
        raise Problem(
            422,
            "idempotency-key-reused",
            "This Idempotency-Key was first used with a different request body.",
        ) from None
    except IdempotencyKeyInFlight:
        raise Problem(
            409,
            "idempotency-key-in-flight",
            "The first request with this Idempotency-Key is still being processed; "
            "retry later.",
            headers={"Retry-After": "1"},
        ) from None
    except DecisionConflict as conflict:
        existing = conflict.existing
        raise Problem(
            409,
            "decision-already-issued",
            f"The decision {existing.decision_id} was already issued as "
            f"{existing.registration_number} from a different request.",
            extra={"document": receipt(existing)},
        ) from None
    if isinstance(outcome, RecordedAnswer):
        response = _answer_response(outcome)
        response.headers["Idempotent-Replayed"] = "true"
        return response
    response = _answer_response(outcome.answer)
    response.headers["Location"] = f"/api/v1/documents/{outcome.document.id}"
    return response


def _record(document: DocumentView) -> dict[str, Any]:
    return {
        **receipt(document),
        "form": document.form.value,
        "language": document.language,
        "decision_id": document.decision_id,
        "status": document.status.value,
        "docx_sha256": document.docx_sha256,
        "request_sha256": document.request_sha256,
        "supersedes": str(document.supersedes_id) if document.supersedes_id else None,
        "created_at": document.created_at.isoformat(),
        "issued_at": document.issued_at.isoformat() if document.issued_at else None,
    }


def _not_found() -> Problem:
    return Problem(404, "not-found", "There is no such document.")


@bp.get("/api/v1/documents/<uuid:document_id>")
def show(document_id: uuid.UUID) -> Response:
    try:
        document, history = registry().document(current_caller(), document_id)
    except DocumentNotFound:
        raise _not_found() from None
    body = _record(document)
    body["history"] = [
        {"seq": e.seq, "at": e.at.isoformat(), "event": e.event, "details": dict(e.payload)}
        for e in history
    ]
    response = Response(canonical_json(body), 200, mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response


def _file(document_id: uuid.UUID, fmt: str) -> Response:
    fetch = registry().pdf if fmt == "pdf" else registry().docx
    try:
        document, content = fetch(current_caller(), document_id)
    except DocumentNotFound:
        raise _not_found() from None
    sha256 = document.pdf_sha256 if fmt == "pdf" else document.docx_sha256
    assert sha256 is not None
    response = Response(content, mimetype=MEDIA_TYPES[fmt])
    response.set_etag(sha256)
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{document.registration_number}.{fmt}"'
    )
    # the bytes of a document never change; its status is in the record, not the file
    response.headers["Cache-Control"] = "private, max-age=31536000, immutable"
    response.make_conditional(request)
    return response


@bp.get("/api/v1/documents/<uuid:document_id>.pdf")
def pdf(document_id: uuid.UUID) -> Response:
    return _file(document_id, "pdf")


@bp.get("/api/v1/documents/<uuid:document_id>.docx")
def docx(document_id: uuid.UUID) -> Response:
    return _file(document_id, "docx")
