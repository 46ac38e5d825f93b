"""Deadlines and e-mail delivery over HTTP (the caller's own documents only).

GET  /api/v1/deadlines?status=due|overdue|late|met   the caller's deadlines (default: every
                                                    due, overdue and late one), soonest first
GET  /api/v1/documents/{id}/mail                    the document's e-mails and their states
POST /api/v1/documents/{id}/mail/resend             queue the extract's e-mail again → 202

`install` wires the feature into an app: the issue listeners (deadline, outbox), the outbox's
listener on the signatures service (an extract's e-mail leaves once it is signed), these
routes, and, when `settings.mail_sender` is on, the sender thread.
"""

from __future__ import annotations

import uuid

from flask import Blueprint, Flask, Response, current_app, jsonify, request

from service.core.errors import Problem, register_problem, single
from service.deadlines.rules import LIST_LIMIT, DeadlineListener, DeadlineStatus, list_deadlines
from service.deadlines.workdays import ALMATY
from service.mail.outbox import (
    DeliveryRefused,
    MailDocumentNotFound,
    MailListener,
    MailSender,
    MailWorker,
    NothingToResend,
    ResendRefused,
    sender_for,
)
from service.registry.tokens import current_caller
from service.signatures.intake import Signatures

bp = Blueprint("deadlines", __name__)


def _sender() -> MailSender:
    found: MailSender = current_app.extensions["qujat.mail"]
    return found


@bp.get("/api/v1/deadlines")
def deadlines() -> Response:
    raw = request.args.get("status")
    status = None
    if raw is not None:
        try:
            status = DeadlineStatus(raw)
        except ValueError:
            raise single(400, "bad-query", "enum", "/status",
                         allowed=", ".join(s.value for s in DeadlineStatus)) from None
    now = current_app.extensions["qujat.clock"]()
    sender = _sender()
    with sender.db.read() as session:
        found = list_deadlines(session, now, organisation_id=current_caller().organisation_id,
                               status=status, limit=LIST_LIMIT)
    # every time of the answer in Asia/Almaty, as the deadlines themselves
    response = jsonify(
        now=now.astimezone(ALMATY).isoformat(), deadlines=[d.as_json() for d in found]
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _not_found() -> Problem:
    return Problem(404, "not-found", "There is no such document.")


@bp.get("/api/v1/documents/<uuid:document_id>/mail")
def mail(document_id: uuid.UUID) -> Response:
    try:
        found = _sender().messages(document_id, current_caller().organisation_id)
    except MailDocumentNotFound:
        raise _not_found() from None
    response = jsonify(messages=[m.as_json() for m in found])
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/api/v1/documents/<uuid:document_id>/mail/resend")
def resend(document_id: uuid.UUID) -> Response:
    try:
        queued = _sender().resend(document_id, current_caller().organisation_id)
    except MailDocumentNotFound:
        raise _not_found() from None
    except (NothingToResend, ResendRefused) as error:
        raise single(409, error.code.replace("_", "-"), error.code) from None
    response = jsonify(queued.as_json())
    response.status_code = 202
    return response


def _refused(error: DeliveryRefused) -> Problem:
    return Problem(
        422, "invalid-decision", "The decision breaks its schema or the act's rules.",
        single(422, "", error.code, "/deliver_to", form=error.form.value).violations,
    )


def install(app: Flask) -> None:
    """Plug deadlines and e-mail delivery into an app made by create_app."""
    settings = app.extensions["qujat.settings"]
    clock = app.extensions["qujat.clock"]
    registry = app.extensions["qujat.registry"]
    signatures: Signatures = app.extensions["qujat.signatures"]  # installed before this
    registry.listeners.append(DeadlineListener(settings.working_hours))
    mail_listener = MailListener(clock)
    registry.listeners.append(mail_listener)
    signatures.listeners.append(mail_listener)
    app.extensions["qujat.mail"] = sender_for(
        settings, registry.store, clock, app.extensions["qujat.database"], signatures.trust
    )
    app.register_blueprint(bp)
    register_problem(app, DeliveryRefused, _refused)
    if settings.mail_sender:
        # its own engine: `qujat serve` forks its workers after this, and they must not
        # share this thread's connections
        worker = MailWorker(sender_for(settings, registry.store, clock, trust=signatures.trust))
        worker.start()
        app.extensions["qujat.mail_worker"] = worker
