"""Revoking an issued document (token-protected, the caller's own documents only).

POST /api/v1/documents/{id}/revocation  {"reason": "…", "act": {"number": "…", "date": "…"}}
     → 201 {registration_number, revocation}; 404 for an unknown or another body's document;
     409 when it is already revoked (a revocation is final: reinstating takes a new document)
     or not issued yet; 422 for a bad body.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from flask import Blueprint, Response, current_app, json

from service.api.body import json_body
from service.core.date_window import WINDOW, in_window
from service.core.errors import Problem, single
from service.core.text import text_problem
from service.forms.decisions import ALMATY, Violation
from service.registry.issuing import DocumentNotFound
from service.registry.tokens import current_caller
from service.verification.verifier import (
    ActBeforeIssue,
    AlreadyRevoked,
    NotIssued,
    RevocationOrder,
    Revocations,
)

bp = Blueprint("revocations", __name__)

MAX_REASON = 1000
MAX_ACT_NUMBER = 64


def _text(value: Any, pointer: str, limit: int, violations: list[Violation]) -> str:
    field = pointer.rsplit("/", 1)[-1]
    if value is None:
        violations.append(Violation(pointer, "required", {"field": field}))
        return ""
    if not isinstance(value, str):
        violations.append(Violation(pointer, "type", {"expected": "string"}))
        return ""
    problem = text_problem(value)
    if not value.strip():  # blank: what the decision schemas call bad_text
        violations.append(Violation(pointer, "bad_text"))
    elif problem is not None:
        violations.append(Violation(pointer, problem.code, problem.params))
    elif len(value) > limit:
        violations.append(Violation(pointer, "too_long", {"limit": limit}))
    return value


def _date(value: Any) -> dt.date | None:
    if not isinstance(value, str) or len(value) != 10:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def parse_revocation(payload: Any, today: dt.date) -> RevocationOrder:
    """The body as a RevocationOrder, or every problem with it at once (422)."""
    if not isinstance(payload, dict):
        raise _invalid([Violation("", "type", {"expected": "object"})])
    violations: list[Violation] = [
        Violation(f"/{name}", "unknown_field", {"field": name})
        for name in payload if name not in ("reason", "act")
    ]
    reason = _text(payload.get("reason"), "/reason", MAX_REASON, violations)
    act = payload.get("act")
    act_number, act_date = "", today
    if not isinstance(act, dict):
        code = "required" if act is None else "type"
        violations.append(Violation("/act", code, {"field": "act", "expected": "object"}))
    else:
        violations += [
            Violation(f"/act/{name}", "unknown_field", {"field": name})
            for name in act if name not in ("number", "date")
        ]
        act_number = _text(act.get("number"), "/act/number", MAX_ACT_NUMBER, violations)
        parsed = _date(act.get("date"))
        if parsed is None:
            violations.append(Violation("/act/date", "bad_date"))
        elif parsed > today:
            violations.append(Violation("/act/date", "future_date"))
        elif not in_window(parsed):
            violations.append(Violation("/act/date", "date_out_of_range", WINDOW))
        else:
            act_date = parsed
    if violations:
        raise _invalid(violations)
    return RevocationOrder(reason, act_number, act_date)


def _invalid(violations: list[Violation]) -> Problem:
    return Problem(422, "invalid-revocation", "The revocation request is invalid.", violations)


@bp.post("/api/v1/documents/<uuid:document_id>/revocation")
def revoke(document_id: uuid.UUID) -> Response:
    caller = current_caller()
    revocations: Revocations = current_app.extensions["qujat.revocations"]
    today = revocations.clock().astimezone(ALMATY).date()
    order = parse_revocation(json_body(), today)
    try:
        number, revocation = revocations.revoke(caller, document_id, order)
    except DocumentNotFound:
        raise Problem(404, "not-found", "There is no such document.") from None
    except AlreadyRevoked:
        raise single(409, "already-revoked", "already_revoked") from None
    except NotIssued:
        raise single(409, "not-issued", "revocation_not_issued") from None
    except ActBeforeIssue:
        raise single(422, "invalid-revocation", "act_before_issue", "/act/date") from None
    body = {
        "registration_number": number,
        "revocation": {
            "revoked_at": revocation.revoked_at.isoformat(),
            "reason": revocation.reason,
            "act": {"number": revocation.act_number, "date": revocation.act_date.isoformat()},
        },
    }
    response = Response(json.dumps(body, ensure_ascii=False), 201, mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response
