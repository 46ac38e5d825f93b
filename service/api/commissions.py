"""Commissions and the protocols of their sessions.

POST /api/v1/commissions                      a commission (schemas/commission.v1.schema.json)
                                              → 201 {id, …}; the same commission again → 200
GET  /api/v1/commissions/{id}                 the stored commission
POST /api/v1/commissions/{id}/protocols       {form, language, decision_id, session, present,
                                              rows} → 201, the registry's receipt; the protocol
                                              names the commission, the members present and
                                              the secretary, who are then asked to sign it
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, Response, current_app

from service.api.body import json_body
from service.api.documents import idempotency_key
from service.core.errors import Problem
from service.registry.audit import canonical_json
from service.registry.issuing import (
    DecisionConflict,
    IdempotencyKeyInFlight,
    IdempotencyKeyReused,
    RecordedAnswer,
    receipt,
)
from service.registry.tokens import current_caller
from service.signatures.intake import CommissionView, Signatures

bp = Blueprint("commissions", __name__)


def signatures() -> Signatures:
    found: Signatures = current_app.extensions["qujat.signatures"]
    return found


def _commission_json(commission: CommissionView) -> dict[str, Any]:
    base = f"/api/v1/commissions/{commission.id}"
    return {
        "id": str(commission.id),
        **commission.spec,
        "created_at": commission.created_at.isoformat(),
        "links": {"self": base, "protocols": base + "/protocols"},
    }


def _json(body: Any, status: int = 200) -> Response:
    response = Response(canonical_json(body), status, mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/api/v1/commissions")
def create() -> Response:
    commission, created = signatures().create_commission(current_caller(), json_body())
    response = _json(_commission_json(commission), 201 if created else 200)
    response.headers["Location"] = f"/api/v1/commissions/{commission.id}"
    return response


@bp.get("/api/v1/commissions/<uuid:commission_id>")
def show(commission_id: uuid.UUID) -> Response:
    return _json(_commission_json(signatures().commission(current_caller(), commission_id)))


@bp.post("/api/v1/commissions/<uuid:commission_id>/protocols")
def create_protocol(commission_id: uuid.UUID) -> Response:
    key = idempotency_key()
    payload = json_body()
    try:
        outcome = signatures().create_protocol(current_caller(), commission_id, payload, key)
    except IdempotencyKeyReused:
        raise Problem(422, "idempotency-key-reused", "This Idempotency-Key was first used "
                      "with a different request body.") from None
    except IdempotencyKeyInFlight:
        raise Problem(409, "idempotency-key-in-flight",
                      "The first request with this Idempotency-Key is still being processed; "
                      "retry later.", headers={"Retry-After": "1"}) from None
    except DecisionConflict as conflict:
        existing = conflict.existing
        raise Problem(409, "decision-already-issued",
                      f"The decision {existing.decision_id} was already issued as "
                      f"{existing.registration_number} from a different request.",
                      extra={"document": receipt(existing)}) from None
    answer = outcome if isinstance(outcome, RecordedAnswer) else outcome.answer
    response = Response(answer.body, answer.status, mimetype=answer.media_type)
    response.headers["Cache-Control"] = "no-store"
    if isinstance(outcome, RecordedAnswer):
        response.headers["Idempotent-Replayed"] = "true"
    else:
        document_id = outcome.document.id
        response.headers["Location"] = f"/api/v1/documents/{document_id}"
        response.headers["Link"] = f'</api/v1/documents/{document_id}/signing>; rel="signing"'
    return response
