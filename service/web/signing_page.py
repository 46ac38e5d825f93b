"""The signing page behind an invitation link.

GET  /sign/{token}                 the document (type, number, commission, session, the
                                   signer's role), its pages as images, who signed and who
                                   not, and a button that signs with NCALayer (static/sign.js)
GET  /sign/{token}/document.pdf    the PDF itself; /sign/{token}/page-{n}.png one page as an
                                   image (poppler's pdftoppm), readable without any plugin
POST /sign/{token}                 {"cms": base64} from the page → the new state, or a
                                   problem+json saying why not, in the page's language

Kazakh by default, Russian with ?lang=ru or Accept-Language. The POST is safe against
cross-site requests: the token in the path is the only credential, and the body must be JSON
(a form post cannot send it without a CORS preflight, which is refused). The CSP allows
scripts, styles and images from this server only, and connections to this server and to
NCALayer (QUJAT_NCALAYER_URL, wss://127.0.0.1:13579/ by default). Each client has a budget
of requests (QUJAT_VERIFY_RATE_LIMIT, as the public verify pages).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Flask, Response, current_app, render_template, request

from service.core.config import Settings
from service.core.errors import Problem
from service.core.messages import message
from service.forms.vocabulary import FORM_NAMES, Language, signer_role_label
from service.invitations.links import Invitations, LinkUnusable, OpenedLink
from service.registry.audit import canonical_json
from service.signatures.intake import SignatureInvalid, SignatureRefused, SigningStatus
from service.web import texts
from service.web.pages import page_language

bp = Blueprint("signing_page", __name__)

MAX_TOKEN_LENGTH = 64
MAX_PAGES = 50
PAGE_DPI = 80


def invitations() -> Invitations:
    found: Invitations = current_app.extensions["qujat.invitations"]
    return found


def _opened(token: str) -> OpenedLink:
    if len(token) > MAX_TOKEN_LENGTH:
        raise LinkUnusable("unknown")
    return invitations().open(token)


def _switch_url(language: Language) -> str:
    return f"{request.path}?lang={'kk' if language == 'ru' else 'ru'}"


def _unusable(error: LinkUnusable, language: Language) -> Response:
    html = render_template(
        "public/sign_unusable.html", language=language, t=texts.TEXTS,
        switch_url=_switch_url(language), reason=error.reason,
    )
    return Response(html, 404 if error.reason == "unknown" else 410, mimetype="text/html")


def _session(opened: OpenedLink) -> dict[str, Any]:
    from service.registry.models import Document

    with current_app.extensions["qujat.database"].read() as session:
        row = session.get(Document, opened.invitation.document_id)
        assert row is not None
        envelope = json.loads(row.request_json)
    decision = envelope.get("decision", {})
    found: dict[str, Any] = decision.get("session") or {}
    return {"session": found, "commission": (decision.get("commission") or {}).get("name", "")}


@bp.get("/sign/<token>")
def page(token: str) -> Response:
    language = page_language()
    try:
        opened = _opened(token)
    except LinkUnusable as error:
        return _unusable(error, language)
    settings: Settings = current_app.extensions["qujat.settings"]
    status = opened.status
    document = status.document
    html = render_template(
        "public/sign.html", language=language, t=texts.TEXTS, switch_url=_switch_url(language),
        role=signer_role_label, form_name=FORM_NAMES[document.form][language],
        document=document, opened=opened, status=status, pages=_page_count(status.content),
        token=token, ncalayer_url=settings.ncalayer_url, **_session(opened),
    )
    return Response(html, mimetype="text/html")


@bp.get("/sign/<token>/document.pdf")
def pdf(token: str) -> Response:
    try:
        opened = _opened(token)
    except LinkUnusable:
        return Response(status=404)
    response = Response(opened.status.content, mimetype="application/pdf")
    response.headers["Content-Disposition"] = (
        f'inline; filename="{opened.status.document.registration_number}.pdf"')
    return response


@bp.get("/sign/<token>/page-<int:number>.png")
def page_image(token: str, number: int) -> Response:
    try:
        opened = _opened(token)
    except LinkUnusable:
        return Response(status=404)
    image = _page_png(opened.status.content, number)
    if image is None:
        return Response(status=404)
    return Response(image, mimetype="image/png")


@bp.post("/sign/<token>")
def sign(token: str) -> Response:
    language = page_language()
    if not request.is_json:
        raise Problem(415, "unsupported-media-type", "The body must be application/json.")
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict) or set(payload) != {"cms"}:
        return _refusal(422, "bad_request", language)
    cms = payload["cms"]
    if not isinstance(cms, str) or not cms:
        return _refusal(422, "bad_request", language)
    try:
        status = invitations().sign(token[:MAX_TOKEN_LENGTH + 1], cms)
    except LinkUnusable as error:
        return _refusal(404 if error.reason == "unknown" else 410,
                        f"link_{error.reason}", language)
    except SignatureInvalid as error:
        codes = [c.value for c in error.report.codes]
        return _answer(422, {"status": "refused", "codes": codes,
                             "message": " ".join(error.report.messages(language))})
    except SignatureRefused as error:
        return _answer(error.status, {"status": "refused", "codes": [error.code],
                                      "message": message(error.code, language, error.params)})
    return _answer(201, _state(status, language))


def _state(status: SigningStatus, language: Language) -> dict[str, Any]:
    done = status.status == "signed"
    return {
        "status": status.status,
        "message": texts.text("sign.done_all" if done else "sign.done", language),
        "signed": [s.name for s in status.signed],
        "missing": [s.name for s in status.missing],
    }


def _refusal(code: int, key: str, language: Language) -> Response:
    return _answer(code, {"status": "refused", "codes": [key],
                          "message": texts.text(f"sign.{key}", language)})


def _answer(code: int, body: dict[str, Any]) -> Response:
    response = Response(canonical_json(body), code, mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response


# --------------------------------------------------------------------------- pages as images


def _page_count(content: bytes) -> int:
    pdfinfo = shutil.which("pdfinfo")
    if pdfinfo is None:
        return 0
    result = subprocess.run([pdfinfo, "-"], input=content, capture_output=True, timeout=30,
                            check=False)
    for line in result.stdout.decode("utf-8", "replace").splitlines():
        if line.startswith("Pages:"):
            return min(int(line.split()[1]), MAX_PAGES)
    return 0


def _page_png(content: bytes, number: int) -> bytes | None:
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None or not 1 <= number <= MAX_PAGES:
        return None
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "document.pdf"
        source.write_bytes(content)
        target = Path(folder) / "page"
        subprocess.run([pdftoppm, "-png", "-r", str(PAGE_DPI), "-f", str(number), "-l",
                        str(number), "-singlefile", str(source), str(target)],
                       capture_output=True, timeout=60, check=False)
        image = target.with_suffix(".png")
        return image.read_bytes() if image.exists() else None


# --------------------------------------------------------------------------- wiring


def content_security_policy(ncalayer_url: str) -> str:
    parts = urlsplit(ncalayer_url)
    origin = f"{parts.scheme}://{parts.netloc}"
    return (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        f"connect-src 'self' {origin}; form-action 'none'; frame-ancestors 'none'; "
        "base-uri 'none'"
    )


@bp.after_request
def _headers(response: Response) -> Response:
    settings: Settings = current_app.extensions["qujat.settings"]
    response.headers["Content-Security-Policy"] = content_security_policy(settings.ncalayer_url)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


def install(app: Flask) -> None:
    """Register the page; each client's requests to it count against the public pages'
    budget (QUJAT_VERIFY_RATE_LIMIT) when their limiter is installed: rendering pages as
    images costs, and a link must not be guessed by brute force."""
    limiter = app.extensions.get("qujat.limiter")
    if limiter is not None:
        settings: Settings = app.extensions["qujat.settings"]
        limiter.limit(settings.verify_rate_limit)(bp)
    app.register_blueprint(bp)
