"""Signing a document, member by member, and what a signed document gives.

GET  /api/v1/documents/{id}/signing            the frozen bytes to sign (base64), their SHA-256,
                                                who has signed and who still must
POST /api/v1/documents/{id}/signatures          {cms: base64 CMS SignedData[, iin]} as NCALayer
                                                returns it → 201 the new signing state; every
                                                refusal has its own code and stores nothing
GET  /api/v1/documents/{id}.p7s                 one detached CMS with every signer (signed only)
GET  /api/v1/documents/{id}.asics               the PDF and that CMS as an ASiC-S container
GET  /api/v1/documents/{id}/signature-report    each signer re-verified now (JSON)
GET  /api/v1/documents/{id}/signature-report.pdf  the same as a kk/ru page (?lang=kk|ru)
GET  /api/v1/documents/{id}/signed-copy.pdf     the document, then that report as a signature
                                                sheet, the verify QR code on every page
"""

from __future__ import annotations

import base64
import uuid
from typing import Any

from flask import Blueprint, Flask, Response, current_app, request

from service.api.body import json_body
from service.api.commissions import bp as commissions_bp
from service.api.commissions import signatures
from service.core.config import Settings
from service.core.errors import Problem, register_problem, single
from service.forms.decisions import Violation
from service.forms.vocabulary import Language
from service.registry.audit import canonical_json
from service.registry.issuing import DocumentNotFound, Registry
from service.registry.tokens import current_caller
from service.signatures.intake import (
    CitationRefused,
    CitedProtocolNotSigned,
    CommissionNotFound,
    NotSigned,
    SignatureInvalid,
    SignatureRefused,
    Signatures,
    SigningListener,
    SigningStatus,
    SigningUnavailable,
    TrustFolder,
    revocation_policy,
)
from service.signatures.report import ReportRenderer, quorum_json, report_json
from signing import FailureCode

bp = Blueprint("signatures", __name__)


def _signing_unavailable(error: SigningUnavailable) -> Problem:
    """503 naming the setting, and in `detail` what is wrong with it now (not set, missing,
    unreadable, no root CA)."""
    problem = single(503, "signing-unavailable", "signing_unavailable")
    problem.detail = f"{problem.detail} Now: {error}."
    return problem

_SLUGS = {
    "already_signed": "already-signed",
    "not_a_signer": "not-a-signer",
    "member_absent": "member-absent",
    "no_signers": "no-signers",
}


def _not_found() -> Problem:
    return Problem(404, "not-found", "There is no such document.")


def _json(body: Any, status: int = 200) -> Response:
    response = Response(canonical_json(body), status, mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response


def status_json(status: SigningStatus, *, with_content: bool) -> dict[str, Any]:
    document = status.document
    body: dict[str, Any] = {
        "id": str(document.id),
        "registration_number": document.registration_number,
        "form": document.form.value,
        "status": status.status,
        "sha256": document.pdf_sha256,
        "signed_at": status.signed_at.isoformat() if status.signed_at else None,
        "quorum": quorum_json(status.quorum),
        "signed": [
            {
                "name": s.name,
                "role": s.role,
                "certificate_serial": s.signature.certificate_serial,
                "signing_time": s.signature.signing_time.isoformat()
                if s.signature.signing_time else None,
                "accepted_at": s.signature.accepted_at.isoformat(),
            }
            for s in status.signed if s.signature is not None
        ],
        "missing": [{"name": s.name, "role": s.role} for s in status.missing],
    }
    if with_content:
        body["content_base64"] = base64.b64encode(status.content).decode("ascii")
    return body


@bp.get("/api/v1/documents/<uuid:document_id>/signing")
def signing(document_id: uuid.UUID) -> Response:
    try:
        status = signatures().status(current_caller(), document_id)
    except DocumentNotFound:
        raise _not_found() from None
    body = status_json(status, with_content=True)
    late = current_app.extensions.get("qujat.late_signers")
    if late is not None:  # signing invitations installed: who has not signed in time
        body["late"] = late(document_id)
    return _json(body)


@bp.post("/api/v1/documents/<uuid:document_id>/signatures")
def sign(document_id: uuid.UUID) -> Response:
    payload = json_body()
    violations = []
    if not isinstance(payload, dict):
        raise Problem(422, "invalid-signature-request", "The body must be a JSON object.",
                      [Violation("", "type", {"expected": "object"})])
    cms = payload.get("cms")
    if not isinstance(cms, str):
        code, params = ("required", {"field": "cms"}) if cms is None else (
            "type", {"expected": "string (base64)"})
        violations.append(Violation("/cms", code, params))
    iin = payload.get("iin")
    if iin is not None and not (isinstance(iin, str) and len(iin) == 12 and iin.isdigit()):
        violations.append(Violation("/iin", "bad_format", {"expected": "12 digits"}))
    violations += [Violation(f"/{k}", "unknown_field", {"field": k})
                   for k in payload if k not in ("cms", "iin")]
    if violations:
        raise Problem(422, "invalid-signature-request", "The signature request is malformed.",
                      violations)
    assert isinstance(cms, str)
    try:
        status = signatures().sign(current_caller(), document_id, cms, iin)
    except DocumentNotFound:
        raise _not_found() from None
    return _json(status_json(status, with_content=False), 201)


@bp.get("/api/v1/documents/<uuid:document_id>.p7s")
def p7s(document_id: uuid.UUID) -> Response:
    try:
        document, combined = signatures().combined(current_caller(), document_id)
    except DocumentNotFound:
        raise _not_found() from None
    response = Response(combined, mimetype="application/pkcs7-signature")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{document.registration_number}.p7s"'
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/api/v1/documents/<uuid:document_id>.asics")
def asics(document_id: uuid.UUID) -> Response:
    from service.signatures.container import asic_s

    caller = current_caller()
    try:
        document, combined = signatures().combined(caller, document_id)
        _, pdf = signatures().registry.pdf(caller, document_id)
    except DocumentNotFound:
        raise _not_found() from None
    number = document.registration_number
    when = document.issued_at or document.created_at
    response = Response(asic_s(f"{number}.pdf", pdf, combined, when),
                        mimetype="application/vnd.etsi.asic-s+zip")
    response.headers["Content-Disposition"] = f'attachment; filename="{number}.asics"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/api/v1/documents/<uuid:document_id>/signature-report")
def report(document_id: uuid.UUID) -> Response:
    try:
        found = signatures().report(current_caller(), document_id)
    except DocumentNotFound:
        raise _not_found() from None
    return _json(report_json(found))


def _page_language(default: str) -> Language:
    wanted = request.args.get("lang", default)
    if wanted not in ("kk", "ru"):
        raise Problem(400, "bad-language", "lang must be kk or ru.")
    return "kk" if wanted == "kk" else "ru"


@bp.get("/api/v1/documents/<uuid:document_id>/signed-copy.pdf")
def signed_copy(document_id: uuid.UUID) -> Response:
    try:
        found, pages = signatures().signed_copy(current_caller(), document_id)
    except DocumentNotFound:
        raise _not_found() from None
    language = _page_language(found.document.language)
    renderer: ReportRenderer = current_app.extensions["qujat.signature_reports"]
    content = renderer.signed_copy_pdf(pages, found, language, found.document.verify_url)
    response = Response(content, mimetype="application/pdf")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{found.document.registration_number}.signed-copy.{language}.pdf"'
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/api/v1/documents/<uuid:document_id>/signature-report.pdf")
def report_pdf(document_id: uuid.UUID) -> Response:
    try:
        found = signatures().report(current_caller(), document_id)
    except DocumentNotFound:
        raise _not_found() from None
    wanted = _page_language(found.document.language)
    renderer: ReportRenderer = current_app.extensions["qujat.signature_reports"]
    content = renderer.render_pdf(found, wanted)
    response = Response(content, mimetype="application/pdf")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{found.document.registration_number}.signatures.{wanted}.pdf"'
    )
    response.headers["Cache-Control"] = "no-store"
    return response


# --------------------------------------------------------------------------- wiring


def install(app: Flask) -> Signatures:
    """Plug per-member signatures into the app: the service, its registry listener, the
    routes and the mapping of its exceptions to problems. The service is returned (and kept in
    app.extensions["qujat.signatures"]) for what is built on it: public verification's
    ledger."""
    settings: Settings = app.extensions["qujat.settings"]
    registry: Registry = app.extensions["qujat.registry"]
    service = Signatures(
        app.extensions["qujat.database"],
        registry.store,
        registry,
        TrustFolder(settings.trust_dir, fetch=settings.revocation_fetch),
        clock=registry.clock,
        revocation=revocation_policy(settings.revocation_mode),
    )
    registry.listeners.append(SigningListener())
    app.extensions["qujat.signatures"] = service
    app.extensions["qujat.signature_reports"] = ReportRenderer()
    app.register_blueprint(commissions_bp)
    app.register_blueprint(bp)
    register_errors(app)
    return service


def _signature_invalid(error: SignatureInvalid) -> Problem:
    found = error.report
    too_large = FailureCode.TOO_LARGE in found.codes
    return Problem(
        413 if too_large else 422,
        "signature-too-large" if too_large else f"signature-{found.status.value}",
        "The signature is not accepted: " + " ".join(found.messages("en")),
        [Violation("/cms", f"signature_{code.value}") for code in found.codes],
        extra={"signature": {"status": found.status.value, "intact": found.intact,
                             "valid": found.valid, "trusted": found.trusted}},
    )


def _not_signed(error: NotSigned) -> Problem:
    missing = ", ".join(error.missing) or "—"
    if not error.quorum_known and not error.missing:
        problem = single(409, "quorum-unknown", "quorum_unknown", "/protocol",
                         number=error.registration_number)
    elif isinstance(error, CitedProtocolNotSigned):
        problem = single(409, "protocol-not-signed", "protocol_unsigned", "/protocol",
                         number=error.registration_number, missing=missing)
    else:
        problem = single(409, "not-signed", "not_signed", "", missing=missing)
    problem.extra["missing"] = list(error.missing)
    return problem


def register_errors(app: Flask) -> None:
    """This service's refusals as problems, for single requests and batch items alike."""
    register_problem(app, CommissionNotFound,
                     lambda _: single(404, "not-found", "commission_unknown"))
    register_problem(app, SigningUnavailable, _signing_unavailable)
    register_problem(app, SignatureRefused, lambda error: single(
        error.status, _SLUGS.get(error.code, error.code.replace("_", "-")), error.code,
        error.pointer, **error.params))
    register_problem(app, SignatureInvalid, _signature_invalid)
    register_problem(app, NotSigned, _not_signed)
    register_problem(app, CitationRefused,
                     lambda error: single(422, "invalid-citation", error.code, error.pointer))
