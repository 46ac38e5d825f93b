"""POST /api/v1/render: a stateless preview of a form (nothing is stored or numbered)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app

from service.api.body import json_body
from service.decisions import (
    Clock,
    InvalidDecision,
    Violation,
    parse_decision,
    schema_violations,
    system_clock,
)
from service.rendering import Renderer
from service.text import email_problem
from service.vocabulary import Form, Language

bp = Blueprint("render", __name__)

MEDIA_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


def parse_request(payload: Any, clock: Clock = system_clock) -> tuple[Form, Language, str, Any]:
    """The envelope `{form, language, format, decision}`: checked, then the decision parsed."""
    violations = schema_violations("request", payload)
    address = payload.get("deliver_to") if isinstance(payload, dict) else None
    if isinstance(address, str) and (problem := email_problem(address)) is not None:
        violations = [v for v in violations if v.pointer != "/deliver_to"]
        violations.append(Violation("/deliver_to", problem.code, problem.params))
    if violations:
        raise InvalidDecision(violations)
    form = Form(payload["form"])
    language: Language = payload["language"]
    decision = parse_decision(form, payload["decision"], clock=clock, base="/decision")
    return form, language, payload.get("format", "pdf"), decision


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
