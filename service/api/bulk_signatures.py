"""Signing in bulk (service.signatures.bulk).

GET  /api/v1/signers/{iin}/pending[?content=1]  the caller's documents that still wait for
     this person's signature, in registration order (at most MAX_PENDING; `truncated` says
     when there are more); with content=1, at most MAX_BULK_ITEMS of them, each with the
     frozen bytes to sign (base64), ready for one NCALayer call
POST /api/v1/signatures  {signatures: [{document, cms[, iin]}, …]} → 207: each item verified
     and stored on its own by the single-document intake, its outcome in `results` (the
     201 signing state, or the problem the single POST would have answered); at most
     MAX_BULK_ITEMS items, and the body within QUJAT_MAX_BODY_BYTES
"""

from __future__ import annotations

import base64
from typing import Any

from flask import Blueprint, Flask, Response, current_app, request

from service.api.body import json_body
from service.api.commissions import signatures
from service.api.signatures import status_json
from service.core.errors import (
    Problem,
    problem_body,
    problem_of,
    response_language,
    single,
)
from service.core.messages import MessageLanguage
from service.forms.decisions import Violation
from service.forms.identifiers import is_valid_iin
from service.registry.audit import canonical_json
from service.registry.issuing import DocumentNotFound, Registry
from service.registry.tokens import current_caller
from service.signatures.bulk import (
    MAX_BULK_ITEMS,
    BulkItem,
    BulkOutcome,
    pending,
    sign_many,
)

bp = Blueprint("bulk_signatures", __name__)

ITEM_FIELDS = ("document", "cms", "iin")


def _json(body: Any, status: int = 200) -> Response:
    response = Response(canonical_json(body), status, mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/api/v1/signers/<string:iin>/pending")
def signer_pending(iin: str) -> Response:
    if not (len(iin) == 12 and iin.isdigit() and is_valid_iin(iin)):
        raise single(422, "invalid-signer", "signer_iin", "/iin")
    with_content = request.args.get("content") == "1"
    caller = current_caller()
    service = signatures()
    found = (
        pending(service, caller, iin, limit=MAX_BULK_ITEMS)
        if with_content
        else pending(service, caller, iin)
    )
    registry: Registry = current_app.extensions["qujat.registry"]
    documents = []
    for document in found.documents:
        base = f"/api/v1/documents/{document.id}"
        entry: dict[str, Any] = {
            "id": str(document.id),
            "registration_number": document.registration_number,
            "form": document.form,
            "language": document.language,
            "role": document.role,
            "sha256": document.pdf_sha256,
            "issued_at": document.issued_at.isoformat() if document.issued_at else None,
            "links": {
                "pdf": base + ".pdf",
                "signing": base + "/signing",
                "signatures": base + "/signatures",
            },
        }
        if with_content:
            _, content = registry.pdf(caller, document.id)
            entry["content_base64"] = base64.b64encode(content).decode("ascii")
        documents.append(entry)
    return _json({"count": len(documents), "truncated": found.truncated, "documents": documents})


def _item(index: int, raw: object) -> tuple[BulkItem | None, list[Violation]]:
    """One item of the list, or what is wrong with it (pointers into the request body)."""
    at = f"/signatures/{index}"
    if not isinstance(raw, dict):
        return None, [Violation(at, "type", {"expected": "object"})]
    violations = [
        Violation(f"{at}/{k}", "unknown_field", {"field": k}) for k in raw if k not in ITEM_FIELDS
    ]
    for name, expected in (
        ("document", "string (document id or registration number)"),
        ("cms", "string (base64)"),
    ):
        value = raw.get(name)
        if value is None:
            violations.append(Violation(f"{at}/{name}", "required", {"field": name}))
        elif not isinstance(value, str) or not value:
            violations.append(Violation(f"{at}/{name}", "type", {"expected": expected}))
    iin = raw.get("iin")
    if iin is not None and not (isinstance(iin, str) and len(iin) == 12 and iin.isdigit()):
        violations.append(Violation(f"{at}/iin", "bad_format", {"expected": "12 digits"}))
    if violations:
        return None, violations
    return BulkItem(raw["document"], raw["cms"], iin), []


def _refused(
    index: int, reference: object, problem: Problem, language: MessageLanguage
) -> dict[str, Any]:
    return {
        "index": index,
        "document": reference if isinstance(reference, str) else None,
        "outcome": "refused",
        "status": problem.status,
        "problem": problem_body(problem, language),
    }


def _outcome(index: int, outcome: BulkOutcome, language: MessageLanguage) -> dict[str, Any]:
    if outcome.status is not None:
        return {
            "index": index,
            "document": outcome.item.document,
            "outcome": "accepted",
            "status": 201,
            "signing": status_json(outcome.status, with_content=False),
        }
    assert outcome.error is not None
    problem = problem_of(current_app, outcome.error)
    if isinstance(outcome.error, DocumentNotFound):  # the single routes answer it themselves
        problem = single(404, "not-found", "bulk_document_unknown", f"/signatures/{index}/document")
    elif problem is None:
        current_app.logger.error("bulk signature item %d failed", index, exc_info=outcome.error)
        problem = single(500, "internal", "bulk_item_failed", f"/signatures/{index}")
    else:
        problem = _pointed(problem, index)
    return _refused(index, outcome.item.document, problem, language)


def _pointed(problem: Problem, index: int) -> Problem:
    """The single request's problem with its pointers moved into this item of the list."""
    moved = [
        Violation(f"/signatures/{index}{v.pointer}", v.code, v.params) for v in problem.violations
    ]
    return Problem(problem.status, problem.slug, problem.detail, moved, extra=problem.extra)


@bp.post("/api/v1/signatures")
def sign_bulk() -> Response:
    payload = json_body()
    if not isinstance(payload, dict):
        raise Problem(
            422,
            "invalid-signature-request",
            "The body must be a JSON object.",
            [Violation("", "type", {"expected": "object"})],
        )
    unknown = [
        Violation(f"/{k}", "unknown_field", {"field": k}) for k in payload if k != "signatures"
    ]
    listed = payload.get("signatures")
    if listed is None:
        unknown.append(Violation("/signatures", "required", {"field": "signatures"}))
    elif not isinstance(listed, list):
        unknown.append(Violation("/signatures", "type", {"expected": "array"}))
    if unknown:
        raise Problem(
            422, "invalid-signature-request", "The bulk signature request is malformed.", unknown
        )
    assert isinstance(listed, list)
    if not listed:
        raise single(422, "invalid-signature-request", "bulk_empty", "/signatures")
    if len(listed) > MAX_BULK_ITEMS:
        raise single(413, "too-many-items", "bulk_too_many", "/signatures", limit=MAX_BULK_ITEMS)
    language = response_language()
    results: list[dict[str, Any] | None] = [None] * len(listed)
    good: list[tuple[int, BulkItem]] = []
    for index, raw in enumerate(listed):
        item, violations = _item(index, raw)
        if item is None:
            reference = raw.get("document") if isinstance(raw, dict) else None
            problem = Problem(
                422, "invalid-signature-request", "The signature request is malformed.", violations
            )
            results[index] = _refused(index, reference, problem, language)
        else:
            good.append((index, item))
    outcomes = sign_many(signatures(), current_caller(), [item for _, item in good])
    for (index, _), outcome in zip(good, outcomes, strict=True):
        results[index] = _outcome(index, outcome, language)
    accepted = sum(1 for r in results if r is not None and r["outcome"] == "accepted")
    return _json({"accepted": accepted, "refused": len(listed) - accepted, "results": results}, 207)


def install(app: Flask) -> None:
    """The bulk routes (after service.api.signatures.install, whose service they use)."""
    app.register_blueprint(bp)
