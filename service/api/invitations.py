"""Signing invitations: a link per signer, sent by e-mail or handed to the platform.

POST   /api/v1/documents/{id}/invitations        {} for every pending signer, or
                                                 {signers: [{iin, email?}]} → 201 each link
                                                 (shown once); e-mailed when an address is given
GET    /api/v1/documents/{id}/invitations        every invitation and its state (never a link)
DELETE /api/v1/documents/{id}/invitations/{iid}  the link stops working → 204
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from flask import Blueprint, Flask, Response, current_app, request

from service.api.body import json_body
from service.core.config import Settings
from service.core.db import Database
from service.core.errors import Problem, register_problem, single
from service.invitations.links import (
    InvitationRefused,
    Invitations,
    invitation_json,
    parse_invitees,
)
from service.invitations.reminders import Mailer, ReminderWorker, late_json, reminders_of
from service.registry.audit import canonical_json
from service.registry.issuing import DocumentNotFound
from service.registry.tokens import current_caller
from service.signatures.intake import Signatures

bp = Blueprint("invitations", __name__)


def invitations() -> Invitations:
    found: Invitations = current_app.extensions["qujat.invitations"]
    return found


def _json(body: Any, status: int = 200) -> Response:
    response = Response(canonical_json(body), status, mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response


def _not_found() -> Problem:
    return Problem(404, "not-found", "There is no such document.")


def sign_url(settings: Settings, token: str) -> str:
    return f"{settings.public_base_url}/sign/{token}"


@bp.post("/api/v1/documents/<uuid:document_id>/invitations")
def create(document_id: uuid.UUID) -> Response:
    payload = json_body() if request.get_data() else None
    invitees = parse_invitees(payload)
    settings: Settings = current_app.extensions["qujat.settings"]
    mailer: Mailer = current_app.extensions["qujat.invitation_mailer"]
    try:
        created = invitations().invite(current_caller(), document_id, invitees)
    except DocumentNotFound:
        raise _not_found() from None
    now = invitations().clock()
    answer = []
    for item in created:
        url = sign_url(settings, item.token)
        body = {**invitation_json(item.invitation, now), "name": item.name, "role": item.role,
                "url": url}
        if item.invitation.email:
            body["emailed"] = mailer.invitation(item.invitation, item.name, url)
        answer.append(body)
    return _json({"invitations": answer}, 201)


@bp.get("/api/v1/documents/<uuid:document_id>/invitations")
def listing(document_id: uuid.UUID) -> Response:
    try:
        rows = invitations().list(current_caller(), document_id)
    except DocumentNotFound:
        raise _not_found() from None
    now: dt.datetime = invitations().clock()
    return _json({"invitations": [invitation_json(row, now) for row in rows]})


@bp.delete("/api/v1/documents/<uuid:document_id>/invitations/<uuid:invitation_id>")
def revoke(document_id: uuid.UUID, invitation_id: uuid.UUID) -> Response:
    try:
        invitations().revoke(current_caller(), document_id, invitation_id)
    except DocumentNotFound:
        raise _not_found() from None
    return Response(status=204)


def install(app: Flask, signatures: Signatures) -> Invitations:
    settings: Settings = app.extensions["qujat.settings"]
    service = Invitations(
        app.extensions["qujat.database"], signatures, clock=app.extensions["qujat.clock"],
        lifetime=dt.timedelta(days=settings.invitation_days),
    )
    app.extensions["qujat.invitations"] = service
    app.extensions["qujat.invitation_mailer"] = Mailer.of(settings)
    database = app.extensions["qujat.database"]

    def late(document_id: uuid.UUID) -> list[dict[str, object]]:
        found = reminders_of(database, settings, service.clock)
        return late_json(found.late(document_id))

    app.extensions["qujat.late_signers"] = late
    if settings.mail_sender:
        # like the mail sender: its own engine, since `qujat serve` forks after this
        own = Database(settings.database_url)
        worker = ReminderWorker(lambda: reminders_of(own, settings, service.clock))
        worker.start()
        app.extensions["qujat.reminder_worker"] = worker
    app.register_blueprint(bp)
    register_problem(app, InvitationRefused, lambda error: single(
        error.status, error.code.replace("_", "-"), error.code, error.pointer, **error.params))
    return service
