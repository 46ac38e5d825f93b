"""POST /api/v1/render: a stateless preview of a form (nothing is stored or numbered)."""

from __future__ import annotations

from flask import Blueprint, Response, current_app

from service.api.body import json_body
from service.forms.decisions import parse_request
from service.forms.rendering import Renderer

bp = Blueprint("render", __name__)

MEDIA_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


def renderer() -> Renderer:
    found: Renderer = current_app.extensions["qujat.renderer"]
    return found


@bp.post("/api/v1/render")
def render() -> Response:
    clock = current_app.extensions["qujat.clock"]
    form, language, fmt, decision = parse_request(json_body(), clock)
    if fmt == "docx":
        content = renderer().render_docx(form, language, decision)
    else:
        content = renderer().render_pdf(form, language, decision)
    response = Response(content, mimetype=MEDIA_TYPES[fmt])
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{form.value}.{language}.{fmt}"'
    )
    response.headers["Cache-Control"] = "no-store"
    return response
