"""Batches over HTTP: a whole session's decisions in one request.

POST /api/v1/batches          a JSON array, or NDJSON (application/x-ndjson, one request per
                              line), of up to QUJAT_BATCH_MAX_ITEMS bodies of POST
                              /api/v1/documents → 202 {id, total, queued, failed, links}
GET  /api/v1/batches/{id}     total / done / failed / queued / running, and per item its
                              state, its document's links or its problem details;
                              ?items=failed or ?items=none to keep the answer short

The body is refused whole (nothing stored) when it is not JSON or NDJSON, too large, not a
list, empty or longer than the limit. Otherwise every item is validated at once: an invalid
item is stored `failed` with the problem details a single post would get, the others queued.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from typing import Any

from flask import Blueprint, Flask, Response, current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

from service.api.body import parse_json_bytes
from service.batches.models import BatchItemState
from service.batches.queue import (
    BatchNotFound,
    BatchSettings,
    BatchStatus,
    ItemSelection,
    ItemStatus,
    LocalDispatcher,
    batch_status,
    body_digest,
    prepare_items,
    submit,
)
from service.core.config import Settings
from service.core.db import Database
from service.core.errors import (
    Problem,
    problem_body,
    response_language,
    single,
)
from service.core.messages import MessageLanguage
from service.forms.decisions import Violation
from service.registry.audit import canonical_json
from service.registry.issuing import Registry
from service.registry.tokens import current_caller

log = logging.getLogger(__name__)
bp = Blueprint("batches", __name__)

JSON = "application/json"
NDJSON = "application/x-ndjson"
SELECTIONS: tuple[ItemSelection, ...] = ("all", "failed", "none")


class BatchService:
    """The executor side of batches in this application: dispatches what a POST queued."""

    def __init__(
        self, database: Database, core: Settings, settings: BatchSettings
    ) -> None:
        self.settings = settings
        self.dispatcher: LocalDispatcher | None = None
        if settings.executor == "local":
            self.dispatcher = LocalDispatcher(database, core, settings)
        else:
            from service.batches.tasks import configure

            configure(core, settings)

    def dispatch(self, item_ids: Iterable[uuid.UUID]) -> None:
        ids = list(item_ids)
        if not ids:
            return
        if self.dispatcher is not None:
            self.dispatcher.wake()  # the leading dispatcher polls; this one may be it
            return
        from service.batches.tasks import send_items

        try:
            send_items(ids)
        except Exception:  # stored and queued: the workers' reconciler sends them later
            log.exception("broker unreachable: %d batch item(s) stay queued", len(ids))


def install(app: Flask, settings: BatchSettings | None = None) -> None:
    """Register the routes; under gunicorn (`qujat serve`) the local dispatcher starts with
    the first request a worker serves, never in tests or CLI commands that build the app."""
    app.extensions["qujat.batches"] = BatchService(
        app.extensions["qujat.database"],
        app.extensions["qujat.settings"],
        settings or BatchSettings.from_env(),
    )
    app.register_blueprint(bp)

    @app.before_request
    def _start_dispatcher() -> None:
        dispatcher = batch_service().dispatcher
        if dispatcher is None or dispatcher.running:
            return
        if request.environ.get("SERVER_SOFTWARE", "").startswith("gunicorn/"):
            dispatcher.start()


def batch_service() -> BatchService:
    found: BatchService = current_app.extensions["qujat.batches"]
    return found


# --------------------------------------------------------------------------- reading the body


def read_items(settings: BatchSettings) -> tuple[list[Any], bytes]:
    """The submitted items and the raw body, or a problem for the whole body."""
    mimetype = request.mimetype
    if mimetype not in (JSON, NDJSON):
        raise single(415, "unsupported-media-type", "batch_media_type")
    limit = settings.max_body_bytes
    request.max_content_length = limit  # this route's own limit, not the single post's
    if request.content_length is not None and request.content_length > limit:
        raise single(413, "too-large", "too_large", "", limit=limit)
    try:
        raw = request.get_data(cache=True)
    except RequestEntityTooLarge:  # a chunked body without Content-Length
        raise single(413, "too-large", "too_large", "", limit=limit) from None
    if mimetype == JSON:
        items = parse_json_bytes(raw)
        if not isinstance(items, list):
            raise single(422, "invalid-batch", "batch_not_a_list")
    else:
        items = _ndjson(raw)
    if not items:
        raise single(422, "invalid-batch", "batch_empty")
    if len(items) > settings.max_items:
        raise single(413, "too-many-items", "batch_too_many", "", limit=settings.max_items)
    return items, raw


def _ndjson(raw: bytes) -> list[Any]:
    items: list[Any] = []
    for number, line in enumerate(raw.split(b"\n"), start=1):
        if not line.strip():
            continue
        try:
            items.append(parse_json_bytes(line))
        except Problem as problem:
            raise Problem(
                400,
                "malformed-json",
                f"line {number}: {problem.detail}",
                [Violation(f"/{len(items)}{v.pointer}", v.code, v.params)
                 for v in problem.violations],
            ) from None
    return items


# --------------------------------------------------------------------------- routes


@bp.post("/api/v1/batches")
def submit_batch() -> Response:
    caller = current_caller()
    batches = batch_service()
    payloads, raw = read_items(batches.settings)
    clock = current_app.extensions["qujat.clock"]
    prepared = prepare_items(payloads, clock)
    submitted = submit(
        current_app.extensions["qujat.database"], caller, prepared, body_digest(raw), clock
    )
    batches.dispatch(submitted.queued)
    location = f"/api/v1/batches/{submitted.batch_id}"
    body = {
        "id": str(submitted.batch_id),
        "total": submitted.total,
        "queued": len(submitted.queued),
        "failed": submitted.failed,
        "links": {"self": location},
    }
    response = Response(canonical_json(body), 202, mimetype="application/json")
    response.headers["Location"] = location
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/api/v1/batches/<uuid:batch_id>")
def show_batch(batch_id: uuid.UUID) -> Response:
    selection = request.args.get("items", "all")
    if selection not in SELECTIONS:
        raise single(400, "bad-parameter", "enum", "", allowed=", ".join(SELECTIONS))
    try:
        status = batch_status(
            current_app.extensions["qujat.database"], current_caller().organisation_id,
            batch_id, selection,
        )
    except BatchNotFound:
        raise Problem(404, "not-found", "There is no such batch.") from None
    body = status_body(status, current_app.extensions["qujat.registry"], response_language())
    if selection == "none":
        del body["items"]
    response = Response(canonical_json(body), 200, mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response


def status_body(
    status: BatchStatus, registry: Registry, language: MessageLanguage
) -> dict[str, Any]:
    unfinished = status.count(BatchItemState.QUEUED) + status.count(BatchItemState.RUNNING)
    return {
        "id": str(status.id),
        "state": "running" if unfinished else "completed",
        "total": status.total,
        "done": status.count(BatchItemState.DONE),
        "failed": status.count(BatchItemState.FAILED),
        "queued": status.count(BatchItemState.QUEUED),
        "running": status.count(BatchItemState.RUNNING),
        "created_at": status.created_at.isoformat(),
        "completed_at": status.completed_at.isoformat() if status.completed_at else None,
        "items": [_item(item, registry, language) for item in status.items],
        "links": {"self": f"/api/v1/batches/{status.id}"},
    }


def _item(item: ItemStatus, registry: Registry, language: MessageLanguage) -> dict[str, Any]:
    body: dict[str, Any] = {
        "index": item.position,
        "decision_id": item.decision_id,
        "state": item.state.value,
        "attempts": item.attempts,
    }
    if item.document is not None:
        base = f"/api/v1/documents/{item.document.id}"
        body["document"] = {
            "id": str(item.document.id),
            "registration_number": item.document.registration_number,
            "links": {
                "pdf": base + ".pdf",
                "docx": base + ".docx",
                "verify": registry.verify_url(
                    item.document.registration_number, item.document.verify_token
                ),
            },
        }
    if item.problem is not None:
        body["problem"] = problem_body(item.problem, language)
    return body
