"""Verify any signature (what NCANode's verify endpoints do), for an authenticated platform.

POST /api/v1/signatures/verify  {"cms": base64[, "content": base64]} or {"xml": string}
     → 200 {format, result, codes, signers: [...]} (signing.inspect.AnyReport.to_json): the
     answer is the verification, whatever it found. 422 names the field of a bad request,
     413 a body over QUJAT_MAX_BODY_BYTES (or a signature over the library's limit), 503
     without a trust folder. Judged now, with QUJAT_REVOCATION and QUJAT_TRUST_DIR.
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import datetime

from flask import Blueprint, Flask, Response, current_app, json

from service.api.body import json_body
from service.core.errors import Problem
from service.forms.decisions import Violation
from service.signatures.intake import Signatures
from signing import FailureCode
from signing.inspect import At, verify_any
from signing.verify import MAX_SIGNATURE_SIZE
from signing.xmldsig import MAX_XML_SIZE

bp = Blueprint("signature_verify", __name__)

_FIELDS = ("cms", "content", "xml")
_WHITESPACE = re.compile(r"\s+")


def install(app: Flask) -> None:
    app.register_blueprint(bp)


def _invalid(violations: list[Violation]) -> Problem:
    return Problem(
        422, "invalid-signature-request", "The verification request is malformed.", violations
    )


def _base64(value: object, field: str, violations: list[Violation]) -> bytes | None:
    if not isinstance(value, str):
        violations.append(Violation(f"/{field}", "type", {"expected": "string (base64)"}))
        return None
    try:
        return base64.b64decode(_WHITESPACE.sub("", value), validate=True)
    except (binascii.Error, ValueError):
        violations.append(Violation(f"/{field}", "bad_format", {"expected": "base64"}))
        return None


@bp.post("/api/v1/signatures/verify")
def verify_signature() -> Response:
    payload = json_body()
    if not isinstance(payload, dict):
        raise _invalid([Violation("", "type", {"expected": "object"})])
    violations = [
        Violation(f"/{key}", "unknown_field", {"field": key})
        for key in payload
        if key not in _FIELDS
    ]
    has_cms, has_xml = "cms" in payload, "xml" in payload
    if has_cms == has_xml:
        violations.append(Violation("", "either_field", {"first": "cms", "second": "xml"}))
    if "content" in payload and not has_cms:
        violations.append(Violation("/content", "content_without_cms"))
    data = content = None
    if has_cms and not has_xml:
        data = _base64(payload["cms"], "cms", violations)
        if "content" in payload:
            content = _base64(payload["content"], "content", violations)
    elif has_xml and not has_cms:
        xml = payload["xml"]
        if isinstance(xml, str):
            data = xml.encode("utf-8")
            if not data.lstrip(b"\xef\xbb\xbf").lstrip().startswith(b"<"):
                violations.append(Violation("/xml", "bad_format", {"expected": "an XML document"}))
        else:
            violations.append(Violation("/xml", "type", {"expected": "string (XML)"}))
    if violations or data is None:
        raise _invalid(violations)

    limit = MAX_XML_SIZE if has_xml else MAX_SIGNATURE_SIZE
    if len(data) > limit:
        raise Problem(
            413,
            "signature-too-large",
            f"The signature is {len(data)} bytes; at most {limit} are read.",
            [Violation("/xml" if has_xml else "/cms", "signature_too_large")],
        )
    signatures: Signatures = current_app.extensions["qujat.signatures"]
    trust = signatures.trust.anchors()  # SigningUnavailable → 503 signing_unavailable
    now: datetime = current_app.extensions["qujat.clock"]()
    report = verify_any(
        data, content, trust=trust, at=At.now(), revocation=signatures.revocation, clock=lambda: now
    )
    if FailureCode.TOO_LARGE in {f.code for f in report.failures}:
        raise Problem(
            413,
            "signature-too-large",
            "The signature is larger than allowed.",
            [Violation("/cms", "signature_too_large")],
        )
    response = Response(
        json.dumps(report.to_json(), ensure_ascii=False), 200, mimetype="application/json"
    )
    response.headers["Cache-Control"] = "no-store"
    return response
