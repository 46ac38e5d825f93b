"""Webhooks over HTTP (token-protected; a caller sees only its own issuing body's).

POST /api/v1/webhooks                        {"url": "https://…", "events": [...]} → 201, with
                                             `secret` (whsec_…), shown this once only
GET  /api/v1/webhooks                        the caller's endpoints (never their secrets)
GET  /api/v1/webhooks/{id}                   one endpoint
DELETE /api/v1/webhooks/{id}                 no more deliveries to it → 204
GET  /api/v1/webhooks/{id}/deliveries        its deliveries with their attempts, newest first
POST /api/v1/webhooks/{id}/deliveries/{delivery_id}/resend   queue a failed one again → 202

`install` wires the feature: the audit observer that queues deliveries, these routes and,
when `settings.webhook_sender` is on, the sender process.
"""

from __future__ import annotations

import multiprocessing
import os
import uuid
from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify

from service.api.body import json_body
from service.core.errors import Problem, register_problem, single
from service.forms.decisions import Violation
from service.registry.tokens import current_caller
from service.webhooks.outbox import (
    EVENTS,
    DeliveryNotFound,
    EndpointNotFound,
    InvalidEndpoint,
    ResendRefused,
    Webhooks,
    install_observer,
    run_sender_process,
)

bp = Blueprint("webhooks", __name__)


def _service() -> Webhooks:
    found: Webhooks = current_app.extensions["qujat.webhooks"]
    return found


def _invalid(violations: list[Violation]) -> Problem:
    return Problem(422, "invalid-webhook", "The webhook registration is not valid; "
                   "nothing was stored.", violations)


def _registration(body: Any) -> tuple[str, list[str]]:
    """The URL and events of a registration body, or a 422 naming every bad field."""
    if not isinstance(body, dict):
        raise _invalid([Violation("", "type", {"expected": "object"})])
    violations = [Violation(f"/{key}", "unknown_field", {"field": key})
                  for key in body if key not in ("url", "events")]
    url = body.get("url")
    if url is None:
        violations.append(Violation("/url", "required", {"field": "url"}))
    elif not isinstance(url, str):
        violations.append(Violation("/url", "type", {"expected": "string"}))
    events = body.get("events")
    if events is None:
        violations.append(Violation("/events", "required", {"field": "events"}))
    elif not isinstance(events, list) or not events:
        violations.append(Violation("/events", "type", {"expected": "a non-empty array"}))
    else:
        seen: set[str] = set()
        for i, event in enumerate(events):
            if event not in EVENTS:
                violations.append(Violation(f"/events/{i}", "enum",
                                            {"allowed": ", ".join(EVENTS)}))
            elif event in seen:
                violations.append(Violation(f"/events/{i}", "duplicate_item"))
            seen.add(str(event))
    if violations:
        raise _invalid(violations)
    assert isinstance(url, str)
    assert isinstance(events, list)
    return url, [str(e) for e in events]


@bp.post("/api/v1/webhooks")
def register() -> Response:
    url, events = _registration(json_body())
    endpoint, secret = _service().register(current_caller().organisation_id, url, events)
    response = jsonify({**endpoint, "secret": secret})
    response.status_code = 201
    response.headers["Location"] = f"/api/v1/webhooks/{endpoint['id']}"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/api/v1/webhooks")
def endpoints() -> Response:
    response = jsonify(webhooks=_service().endpoints(current_caller().organisation_id))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/api/v1/webhooks/<uuid:endpoint_id>")
def endpoint(endpoint_id: uuid.UUID) -> Response:
    return jsonify(_service().endpoint(current_caller().organisation_id, endpoint_id))


@bp.delete("/api/v1/webhooks/<uuid:endpoint_id>")
def deactivate(endpoint_id: uuid.UUID) -> Response:
    _service().deactivate(current_caller().organisation_id, endpoint_id)
    return Response(status=204)


@bp.get("/api/v1/webhooks/<uuid:endpoint_id>/deliveries")
def deliveries(endpoint_id: uuid.UUID) -> Response:
    found = _service().deliveries(current_caller().organisation_id, endpoint_id)
    response = jsonify(deliveries=found)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/api/v1/webhooks/<uuid:endpoint_id>/deliveries/<uuid:delivery_id>/resend")
def resend(endpoint_id: uuid.UUID, delivery_id: uuid.UUID) -> Response:
    queued = _service().resend(current_caller().organisation_id, endpoint_id, delivery_id)
    response = jsonify(queued)
    response.status_code = 202
    return response


def install(app: Flask) -> None:
    """Plug webhooks into an app made by create_app."""
    settings = app.extensions["qujat.settings"]
    clock = app.extensions["qujat.clock"]
    install_observer()
    app.extensions["qujat.webhooks"] = Webhooks(
        app.extensions["qujat.database"], clock=clock,
        allow_private=settings.webhook_allow_private, timeout=settings.webhook_timeout,
    )
    app.register_blueprint(bp)
    register_problem(app, InvalidEndpoint, lambda error: _invalid(
        [Violation(error.pointer, error.code, error.params)]
    ))
    register_problem(app, EndpointNotFound,
                     lambda _: single(404, "not-found", "not_found", ""))
    register_problem(app, DeliveryNotFound,
                     lambda _: single(404, "not-found", "not_found", ""))
    register_problem(app, ResendRefused,
                     lambda error: single(409, "webhook-still-pending", error.code))
    if settings.webhook_sender:
        # a process, not a thread: see run_sender_process
        context = multiprocessing.get_context("spawn")
        process = context.Process(target=run_sender_process, args=(settings, os.getpid()),
                                  name="qujat-webhooks", daemon=True)
        process.start()
        app.extensions["qujat.webhook_sender"] = process
