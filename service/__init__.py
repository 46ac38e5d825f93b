"""qujat: turns teacher-attestation decisions into official, signed, verifiable documents.

Importing `service` stays cheap (no WeasyPrint, no database): the heavy parts load in
`create_app`, so the CLI and the pure modules start fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

    from service.core.config import Settings
    from service.core.faults import Faults
    from service.forms.decisions import Clock
    from service.forms.rendering import Renderer
    from service.registry.storage import ObjectStore

_renderer: Renderer | None = None


def shared_renderer() -> Renderer:
    """One Renderer per process: fonts, CSS and templates are loaded once and reused."""
    global _renderer
    if _renderer is None:
        from service.forms.rendering import Renderer

        _renderer = Renderer()
    return _renderer


def create_app(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    store: ObjectStore | None = None,
    faults: Faults | None = None,
) -> Flask:
    """The application factory.

    The database engine is created here but not connected: a server that forks workers
    after calling this (gunicorn with a preloaded app) must not share connections.
    The schema is not touched either: `qujat serve` and `qujat db upgrade` see to it.
    """
    from flask import Flask, Response, jsonify

    from service.api.documents import bp as documents_bp
    from service.api.openapi import build_openapi
    from service.api.render import bp as render_bp
    from service.core import errors
    from service.core.config import Settings
    from service.core.db import Database
    from service.core.faults import parse_faults
    from service.forms.decisions import system_clock
    from service.registry.issuing import Registry
    from service.registry.storage import open_store
    from service.registry.tokens import protect_api

    settings = settings or Settings.from_env()
    clock = clock or system_clock
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.extensions["qujat.settings"] = settings
    app.extensions["qujat.clock"] = clock
    app.extensions["qujat.renderer"] = shared_renderer()
    database = Database(settings.database_url)
    app.extensions["qujat.database"] = database
    app.extensions["qujat.registry"] = Registry(
        database,
        store or open_store(settings, database),
        app.extensions["qujat.renderer"],
        clock=clock,
        public_base_url=settings.public_base_url,
        faults=faults or parse_faults(settings.testing_faults),
    )
    errors.register(app)
    protect_api(app, database)
    app.register_blueprint(render_bp)
    app.register_blueprint(documents_bp)
    # per-member signatures: commissions, protocols, signing, .p7s, reports
    from service.api import signatures as signatures_api

    signatures_service = signatures_api.install(app)
    # verify any signature (CMS or NCALayer XML), with the same trust folder
    from service.api import signature_verify

    signature_verify.install(app)
    # signing in bulk: what a person must still sign, many signatures in one request
    from service.api import bulk_signatures

    bulk_signatures.install(app)
    # public verification: listeners, pages, API, rate limit, security headers; the
    # signatures on record come from the signatures service installed just above
    from service.api import verify as verify_api
    from service.signatures.intake import Ledger
    from service.verification import verifier as verification

    verification.install(app.extensions["qujat.registry"])
    verify_api.install(
        app,
        settings,
        verification.Verifier(database, clock=clock, ledger=Ledger(signatures_service)),
        verification.Revocations(database, clock=clock),
    )
    # signing invitations: links per signer, the signing page, reminders
    from service.api import invitations as invitations_api
    from service.web import signing_page

    invitations_api.install(app, signatures_service)
    signing_page.install(app)
    # deadlines in working days and e-mail delivery of extracts
    from service.api import deadlines

    deadlines.install(app)
    # batch issuing for whole sessions: routes, local dispatcher or Celery
    from service.api import batches as batches_api

    batches_api.install(app)
    # webhooks: deliveries queued with the audit entries of their events, their sender
    from service.api import webhooks as webhooks_api

    webhooks_api.install(app)
    openapi = build_openapi()

    @app.get("/api/v1/openapi.json")
    def openapi_document() -> Response:
        return jsonify(openapi)

    # /metrics, /healthz and /readyz, one log line per request
    from service import observability

    observability.install(app)
    return app
