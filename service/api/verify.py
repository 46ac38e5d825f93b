"""The public verification API (no token: see service.registry.tokens's public prefixes).

GET  /api/v1/verify/{number}[?t=…&surname=…]  → 200 {status, document, revocation, …} for
     every number, including "not_issued" and "mistyped": the answer is the verification
POST /api/v1/verify/upload  multipart `pdf` [+ `p7s`] → {matches, sha256, document, …};
     413 over QUJAT_UPLOAD_MAX_BYTES, 400 without a PDF. A `p7s` may hold one signer or
     several (the combined .p7s of a protocol): `uploaded_signature` lists each in `signers`

Never an IIN; the holder's name, position, workplace, category, outcome and a revocation's
reason only when `t` is the document's token or `surname` matches (service.verification.privacy).
Rate limited per client with the public pages (429 + Retry-After).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, json, request

from service.core.config import Settings
from service.core.errors import register_problem, single
from service.forms.decisions import ALMATY
from service.forms.vocabulary import LANGUAGES
from service.signatures.intake import Signatures, SigningUnavailable
from service.verification.verifier import (
    Disclosure,
    Revocations,
    SignaturesOnRecord,
    SignerCheck,
    SupersessionRefused,
    UploadCheck,
    UploadedSignature,
    Verification,
    Verifier,
    uploaded_signature_checker,
)
from service.web.pages import (
    MAX_SURNAME_LENGTH,
    MAX_TOKEN_LENGTH,
    UploadRefused,
    category_label,
    check_upload,
    read_upload,
    verifier,
)
from service.web.pages import bp as pages_bp
from service.web.protection import protect_public
from signing import TrustAnchors

bp = Blueprint("verify_api", __name__)


def install(app: Flask, settings: Settings, verifier: Verifier, revocations: Revocations) -> None:
    """Register the public pages, their API, revocation, the rate limit and the security headers."""
    from service.api.revocations import bp as revocations_bp

    app.extensions["qujat.verifier"] = verifier
    app.extensions["qujat.revocations"] = revocations
    signatures: Signatures = app.extensions["qujat.signatures"]  # installed before this

    def anchors() -> TrustAnchors | None:
        """The signing service's trust anchors (cached, reloaded when a file changes)."""
        try:
            return signatures.trust.anchors()
        except SigningUnavailable:  # not set, gone, unreadable, or no root in it
            return None

    app.extensions["qujat.upload_signature_checker"] = uploaded_signature_checker(
        anchors, signatures.revocation, verifier.clock
    )
    protect_public(app, settings)

    register_problem(app, SupersessionRefused, lambda error: single(
        422, "invalid-supersession", error.code, "/supersedes"))

    app.register_blueprint(pages_bp)
    app.register_blueprint(bp)
    app.register_blueprint(revocations_bp)


def _signer(check: SignerCheck) -> dict[str, Any]:
    return {
        "name": check.name,
        "role": check.role,
        "status": check.status,
        "signed_at": check.signed_at.isoformat() if check.signed_at else None,
        "reasons": list(check.reasons),
    }


def _signatures(on_record: SignaturesOnRecord | None) -> dict[str, Any]:
    if on_record is None:
        return {"verified": None, "signers": []}
    return {"verified": on_record.verified, "signers": [_signer(c) for c in on_record.checks]}


def _summary(found: Verification) -> dict[str, Any]:
    """Whether the signatures on record verify: each was verified when it was accepted, so
    the document verifies once every required signature is in (`signed_at`)."""
    body: dict[str, Any] = {
        "required": found.signatures_required,
        "verified": found.signed_at is not None if found.signatures_required else None,
        "signed_at": _iso(found.signed_at),
    }
    if found.signatures is not None:
        body["signers"] = _signatures(found.signatures)["signers"]
    return body


def answered_at(found: Verification) -> str | None:
    """When the answer was computed, in Asia/Almaty time (the app's clock)."""
    if found.answered_at is None:
        return None
    return found.answered_at.astimezone(ALMATY).replace(microsecond=0).isoformat()


def verification_json(found: Verification) -> dict[str, Any]:
    body: dict[str, Any] = {
        "registration_number": found.number,
        "status": found.status.value,
        "answered_at": answered_at(found),
    }
    if not found.found or found.form is None:
        return body
    facts = found.facts
    body["document"] = {
        "form": found.form.value,
        "issuing_body": {
            "code": found.organisation_code,
            "name": found.issuing_body,
            "name_kk": found.issuing_body_kk,
            "name_ru": found.issuing_body_ru,
        },
        # a person's document by its number alone: the holder is there, but not shown
        "holder": (
            {"name": found.holder_name, "full_name_shown": found.name_disclosed}
            if found.holder_name or found.person_withheld else None
        ),
        "position": facts.position,
        "organisation": facts.workplace,
        "category": facts.category,
        "category_label": (
            {lang: category_label(facts.category, lang) for lang in LANGUAGES}
            if facts.category else None
        ),
        "grant": facts.grant,
        "outcome": facts.outcome,
        "decision_date": _iso(facts.decision_date),
        "order": (
            {"number": facts.order_number, "date": _iso(facts.order_date)}
            if facts.order_number else None
        ),
        "issue_date": _iso(facts.issue_date),
        "valid_until": _iso(facts.valid_until),
        "issued_at": _iso(found.issued_at),
    }
    body["revocation"] = (
        {
            "revoked_at": found.revocation.revoked_at.isoformat(),
            "reason": found.revocation.reason,
            "act": {
                "number": found.revocation.act_number,
                "date": found.revocation.act_date.isoformat(),
            },
        }
        if found.revocation else None
    )
    body["superseded_by"] = _link(found.superseded_by)
    body["supersedes"] = _link(found.supersedes)
    body["signatures"] = _summary(found)
    return body


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _link(number: str | None) -> dict[str, str] | None:
    if number is None:
        return None
    return {"registration_number": number, "verify": f"/verify/{number}"}


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status, mimetype="application/json")


@bp.get("/api/v1/verify/<string:number>")
def verify(number: str) -> Response:
    token = request.args.get("t")
    surname = request.args.get("surname")
    offered = Disclosure(
        token=token if token and len(token) <= MAX_TOKEN_LENGTH else None,
        surname=surname if surname and len(surname) <= MAX_SURNAME_LENGTH else None,
    )
    # one query, no signer list: the page and ?signers=1 list them one by one
    listed = request.args.get("signers") == "1"
    return _json(verification_json(verifier().verify(number, offered, signatures=listed)))


def upload_json(checked: UploadCheck) -> dict[str, Any]:
    return {
        "sha256": checked.sha256,
        "matches": checked.matches,
        "claimed_registration_number": checked.claimed_number,
        "verification": (
            verification_json(checked.verification) if checked.verification else None
        ),
        "signatures": _signatures(checked.signatures) if checked.matches else None,
        "uploaded_signature": (
            uploaded_signature_json(checked.uploaded_signature)
            if checked.uploaded_signature else None
        ),
    }


def uploaded_signature_json(uploaded: UploadedSignature) -> dict[str, Any]:
    """The uploaded .p7s: `status` for the file as a whole, `signers` one by one in the file's
    order (a list of one for a member's own signature, every member for a protocol's combined
    .p7s, empty when the file could not be checked at all, `reasons` then saying why).

    `name`, `role`, `signed_at` and `reasons` keep the answer of one signer as it was: with
    several, the names joined by ", ", no role, the latest signing time and every reason."""
    signers = [_signer(c) for c in uploaded.signers]
    reasons = list(uploaded.reasons)
    for check in uploaded.signers:
        reasons += [code for code in check.reasons if code not in reasons]
    times = [c.signed_at for c in uploaded.signers if c.signed_at is not None]
    only = uploaded.signers[0] if len(uploaded.signers) == 1 else None
    return {
        "status": uploaded.status,
        "verified": uploaded.verified,
        "name": ", ".join(c.name for c in uploaded.signers),
        "role": only.role if only is not None else None,
        "signed_at": max(times).isoformat() if times else None,
        "reasons": reasons,
        "signers": signers,
    }


@bp.post("/api/v1/verify/upload")
def upload() -> Response:
    try:
        content, signature = read_upload()
    except UploadRefused as refused:
        slug = refused.key.replace("_", "-")
        raise single(refused.status, slug, refused.key, f"/{refused.at}",
                     **refused.params) from None
    return _json(upload_json(check_upload(content, signature)))
