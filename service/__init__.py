"""qujat: turns teacher-attestation decisions into official, signed, verifiable documents.

Importing `service` stays cheap (no WeasyPrint, no database): the heavy parts load in
`create_app`, so the CLI and the pure modules start fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

    from service.config import Settings
    from service.decisions import Clock
    from service.rendering import Renderer

_renderer: Renderer | None = None


def shared_renderer() -> Renderer:
    """One Renderer per process: fonts, CSS and templates are loaded once and reused."""
    global _renderer
    if _renderer is None:
        from service.rendering import Renderer

        _renderer = Renderer()
    return _renderer


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> Flask:
    """The application factory."""
    from flask import Flask, Response, jsonify

    from service import errors
    from service.api.render import bp as render_bp
    from service.config import Settings
    from service.decisions import system_clock
    from service.openapi import build_openapi

    settings = settings or Settings.from_env()
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.extensions["qujat.settings"] = settings
    app.extensions["qujat.clock"] = clock or system_clock
    app.extensions["qujat.renderer"] = shared_renderer()
    errors.register(app)
    app.register_blueprint(render_bp)
    openapi = build_openapi()

    @app.get("/api/v1/openapi.json")
    def openapi_document() -> Response:
        return jsonify(openapi)

    @app.get("/healthz")
    def health() -> Response:
        return jsonify(status="ok")

    return app
