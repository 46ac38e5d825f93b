"""The OpenAPI 3.1 description of the API, built from the JSON Schemas in schemas/.

The schemas are the contract; this document bundles them (OpenAPI 3.1 speaks JSON Schema
2020-12) so that it stands alone: each file becomes a component named after it, each of its
`$defs` a component `<file>_<name>`, every reference a local `#/components/schemas/…` pointer,
and `$id`/`$schema` are dropped (an `$id` would move the base that local pointers resolve
against). Standard tools then resolve the document without fetching anything. A test proves
the bundled schemas accept and refuse exactly what the files do.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from service.forms.decisions import SCHEMA_DIR, SCHEMA_VERSION, schema_of
from service.forms.vocabulary import Form
from service.signatures.bulk import MAX_BULK_ITEMS

_PROBLEM = {
    "type": "object",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["pointer", "code", "reason"],
                "properties": {
                    "pointer": {"type": "string", "description": "RFC 6901 JSON pointer"},
                    "code": {"type": "string"},
                    "reason": {"type": "string"},
                },
            },
        },
    },
}


def _problems(*statuses: int) -> dict[str, Any]:
    ref = {"$ref": "#/components/schemas/Problem"}
    return {
        str(s): {
            "description": "Problem details (RFC 9457)",
            "content": {"application/problem+json": {"schema": ref}},
        }
        for s in statuses
    }


_COMPONENTS = "#/components/schemas/"
_FILE_SUFFIX = f".{SCHEMA_VERSION}.schema.json"


def _local_ref(ref: str, file: str) -> str:
    """`common.v1.schema.json#/$defs/text` (or `#/$defs/text` inside common) as the pointer
    to its bundled component."""
    target, _, fragment = ref.partition("#")
    name = target.removesuffix(_FILE_SUFFIX) if target else file
    if target and not target.endswith(_FILE_SUFFIX):
        raise ValueError(f"{file}: cannot bundle the reference {ref!r}")
    if not fragment:
        return _COMPONENTS + name
    if fragment.startswith("/$defs/") and fragment.count("/") == 2:
        return f"{_COMPONENTS}{name}_{fragment.removeprefix('/$defs/')}"
    raise ValueError(f"{file}: cannot bundle the reference {ref!r}")


def _localised(node: Any, file: str) -> Any:
    if isinstance(node, dict):
        return {
            key: _local_ref(value, file) if key == "$ref" else _localised(value, file)
            for key, value in node.items()
            if key not in ("$id", "$schema")
        }
    if isinstance(node, list):
        return [_localised(value, file) for value in node]
    return node


def bundled_schemas(names: Iterable[str] | None = None) -> dict[str, Any]:
    """The JSON Schemas of schemas/ as OpenAPI components with local references only."""
    if names is None:
        files = SCHEMA_DIR.glob("*" + _FILE_SUFFIX)
        names = sorted(path.name.removesuffix(_FILE_SUFFIX) for path in files)
    components: dict[str, Any] = {}
    for name in names:
        schema = _localised(schema_of(name), name)
        for key, definition in schema.pop("$defs", {}).items():
            components[f"{name}_{key}"] = definition
        if set(schema) - {"title", "description"}:  # common holds only definitions
            components[name] = schema
    return components


def render_request_schema() -> dict[str, Any]:
    """The request envelope with `decision` narrowed to the chosen form's schema."""
    envelope = bundled_schemas(["request"])["request"]
    branches = [
        {
            "properties": {
                "form": {"const": form.value},
                "decision": {"$ref": f"#/components/schemas/{form.value}"},
            }
        }
        for form in Form
    ]
    return {**envelope, "oneOf": branches}


def session_protocol_schema() -> dict[str, Any]:
    """The body of POST /api/v1/commissions/{id}/protocols: the session's own fields; the
    commission block comes from the stored commission. `rows` are the chosen form's."""
    common = _COMPONENTS + "common_"

    def branch(form: Form, required: bool) -> dict[str, Any]:
        return {
            "required": ["form"] if required else [],
            "properties": {
                "form": {"const": form.value},
                "rows": {"$ref": f"{_COMPONENTS}{form.value}/properties/rows"},
            },
        }

    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["language", "decision_id", "session", "present", "rows"],
        "properties": {
            "form": {"enum": [Form.PROTOCOL.value, Form.HEADS_PROTOCOL.value],
                     "default": Form.PROTOCOL.value},
            "language": {"enum": ["kk", "ru"]},
            "decision_id": {"$ref": common + "decision_id"},
            "session": {"$ref": common + "session"},
            "present": {"type": "array", "items": {"$ref": common + "iin"},
                        "description": "The IINs of the members present at the session"},
            "rows": {"type": "array"},
        },
        # form absent means a teachers' protocol; the branches exclude each other
        "oneOf": [branch(Form.HEADS_PROTOCOL, True), branch(Form.PROTOCOL, False)],
    }


def issue_request_schema() -> dict[str, Any]:
    """The render request with the decision's `decision_id` required, as issuing needs."""
    return {
        "allOf": [{"$ref": "#/components/schemas/RenderRequest"}],
        "properties": {"decision": {"required": ["decision_id"]}},
    }


_SHA256 = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
_LINKS = {
    "type": "object",
    "required": ["pdf", "docx", "verify"],
    "properties": {
        "pdf": {"type": "string", "format": "uri-reference"},
        "docx": {"type": "string", "format": "uri-reference"},
        "verify": {
            "type": "string",
            "format": "uri",
            "description": "The public verification URL, also printed as the QR code",
        },
    },
}
_RECEIPT = {
    "type": "object",
    "required": ["id", "registration_number", "sha256", "links"],
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "registration_number": {
            "type": "string",
            "pattern": "^[0-9]{2}-[A-Z]{2,8}-[0-9]{2}-[0-9]{6}-[0-9]{2}$",
            "description": "appendix-ORG-YY-sequence-check digits (ISO 7064 MOD 97-10)",
        },
        "sha256": {**_SHA256, "description": "SHA-256 of the PDF"},
        "links": {"$ref": "#/components/schemas/DocumentLinks"},
    },
}
_RECORD = {
    "type": "object",
    "required": [
        "id", "registration_number", "sha256", "links", "form", "language", "decision_id",
        "status", "docx_sha256", "created_at", "issued_at", "history",
    ],
    "properties": {
        **_RECEIPT["properties"],  # type: ignore[dict-item]
        "sha256": {"oneOf": [_SHA256, {"type": "null"}], "description": "SHA-256 of the PDF"},
        "form": {"enum": [form.value for form in Form]},
        "language": {"enum": ["kk", "ru"]},
        "decision_id": {"type": "string"},
        "status": {"enum": ["pending", "issued"]},
        "docx_sha256": {"oneOf": [_SHA256, {"type": "null"}]},
        "request_sha256": _SHA256,
        "supersedes": {"oneOf": [{"type": "string", "format": "uuid"}, {"type": "null"}]},
        "created_at": {"type": "string", "format": "date-time"},
        "issued_at": {"oneOf": [{"type": "string", "format": "date-time"}, {"type": "null"}]},
        "history": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["seq", "at", "event", "details"],
                "properties": {
                    "seq": {"type": "integer", "description": "Position in the audit trail"},
                    "at": {"type": "string", "format": "date-time"},
                    "event": {"type": "string"},
                    "details": {"type": "object"},
                },
            },
        },
    },
}
_IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    # the server's grammar (service.api.documents): an sf-string or a bare token
    "schema": {
        "type": "string",
        "pattern": '^(?:"[\\x20-\\x21\\x23-\\x5b\\x5d-\\x7e]{1,255}"|[\\x21\\x23-\\x7e]{1,255})$',
    },
    "description": "IETF httpapi Idempotency-Key (quoted or bare): a repeat gets the first "
    "answer; a different body under the key 422, while the first still runs 409",
}
_UUID = {"type": "string", "format": "uuid"}
_INSTANT = {"type": "string", "format": "date-time"}
_COUNT = {"type": "integer", "minimum": 0}
_REVOCATION = {
    "type": "object",
    "required": ["revoked_at", "reason", "act"],
    "properties": {
        "revoked_at": _INSTANT,
        "reason": {"type": ["string", "null"],
                   "description": "null in public verification answers: the reason is the "
                   "holder's, shown only with the QR token, the PDF or the typed surname"},
        "act": {"type": "object", "required": ["number", "date"], "properties": {
            "number": {"type": "string"}, "date": {"type": "string", "format": "date"}}},
    },
}
_BATCH_ACCEPTED = {
    "type": "object",
    "required": ["id", "total", "queued", "failed", "links"],
    "properties": {"id": _UUID, "total": _COUNT, "queued": _COUNT, "failed": _COUNT,
                   "links": {"type": "object", "required": ["self"]}},
}
_BATCH_STATUS = {
    "type": "object",
    "required": ["id", "state", "total", "done", "failed", "queued", "running", "created_at",
                 "completed_at", "links"],
    "properties": {
        "id": _UUID,
        "state": {"enum": ["running", "completed"]},
        **dict.fromkeys(("total", "done", "failed", "queued", "running"), _COUNT),
        "created_at": _INSTANT,
        "completed_at": {"oneOf": [_INSTANT, {"type": "null"}]},
        "items": {"type": "array", "items": {
            "type": "object",
            "required": ["index", "decision_id", "state", "attempts"],
            "properties": {
                "index": _COUNT,
                "decision_id": {"type": ["string", "null"]},
                "state": {"enum": ["queued", "running", "done", "failed"]},
                "attempts": _COUNT,
                "document": {"type": "object", "required": ["id", "registration_number",
                                                            "links"]},
                "problem": {"$ref": "#/components/schemas/Problem"},
            },
        }},
        "links": {"type": "object", "required": ["self"]},
    },
}
_SIGNER = {"type": "object", "required": ["name", "role"],
           "properties": {"name": {"type": "string"}, "role": {"type": "string"}}}
_SIGNING_STATUS = {
    "type": "object",
    "required": ["id", "registration_number", "form", "status", "sha256", "signed_at",
                 "quorum", "signed", "missing"],
    "properties": {
        "id": _UUID,
        "registration_number": {"type": "string"},
        "form": {"enum": [form.value for form in Form]},
        "status": {"enum": ["signed", "awaiting_signatures", "quorum_unknown"]},
        "sha256": {"type": ["string", "null"]},
        "signed_at": {"oneOf": [_INSTANT, {"type": "null"}]},
        "quorum": {"type": ["object", "null"]},
        "signed": {"type": "array", "items": _SIGNER},
        "missing": {"type": "array", "items": _SIGNER},
        "content_base64": {"type": "string", "contentEncoding": "base64",
                           "description": "The frozen PDF bytes to sign (GET only)"},
        "late": {"type": "array", "description": "GET only: invited signers who have not "
                 "signed after QUJAT_SIGNING_REMINDER_DAYS working days",
                 "items": {"type": "object",
                           "required": ["name", "role", "invited_at", "working_days",
                                        "reminders_sent"]}},
    },
}
_INVITATIONS = {
    "type": "object",
    "required": ["invitations"],
    "properties": {"invitations": {"type": "array", "items": {
        "type": "object",
        "required": ["id", "iin", "email", "state", "created_at", "expires_at", "reminders_sent"],
        "properties": {
            "id": _UUID,
            "iin": {"type": "string"},
            "email": {"type": ["string", "null"]},
            "state": {"enum": ["open", "used", "revoked", "expired"]},
            "created_at": _INSTANT,
            "expires_at": _INSTANT,
            "reminders_sent": {"type": "integer"},
            "url": {"type": "string", "description": "POST only: the link, shown once"},
            "emailed": {"type": "boolean", "description": "POST only, with an e-mail: sent"},
        },
    }}},
}
_COMMISSION_STORED = {
    "type": "object",
    "required": ["id", "created_at", "links"],
    "properties": {"id": _UUID, "created_at": _INSTANT,
                   "links": {"type": "object", "required": ["self", "protocols"]}},
    "description": "The stored commission: its fields as posted, with id, created_at, links",
}
_ID_PARAMETER = {
    "name": "id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "format": "uuid"},
}


def _json(ref: str, description: str, links: dict[str, Any] | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}},
    }
    if links:
        found["links"] = links
    return found


def _links(operation_ids: tuple[str, ...], source: str) -> dict[str, Any]:
    """OpenAPI links: the operations a response's id leads to (for clients and stateful tests)."""
    return {
        op_id[0].upper() + op_id[1:]: {"operationId": op_id, "parameters": {"id": source}}
        for op_id in operation_ids
    }


# what a document's id (in a receipt) leads to
_DOCUMENT_OPERATIONS = (
    "getDocument", "getDocumentPdf", "getDocumentDocx", "getSigning", "postSignature",
    "getDocumentP7s", "getSignatureReport", "getSignatureReportPdf", "listDocumentMail",
    "resendDocumentMail", "revokeDocument",
)


def _file(
    media_type: str,
    description: str,
    operation_id: str,
    statuses: tuple[int, ...] = (401, 404),
    parameters: tuple[dict[str, Any], ...] | list[dict[str, Any]] = (),
    cached: bool = False,
) -> dict[str, Any]:
    responses: dict[str, Any] = {
        "200": {
            "description": "The bytes" + ("; ETag is their SHA-256" if cached else ""),
            "content": {media_type: {"schema": {"type": "string", "format": "binary"}}},
        },
    }
    if cached:
        responses["304"] = {"description": "Not modified (If-None-Match)"}
    return {
        "get": {
            "summary": description,
            "operationId": operation_id,
            "parameters": [_ID_PARAMETER, *parameters],
            "responses": {**responses, **_problems(*statuses)},
        }
    }


def registry_paths() -> dict[str, Any]:
    """POST /api/v1/documents and the document's record and files."""
    receipt_links = _links(_DOCUMENT_OPERATIONS, "$response.body#/id")
    return {
        "/api/v1/documents": {
            "post": {
                "summary": "Issue a numbered document for a decision",
                "description": "The body is the render request; `decision.decision_id` is "
                "required and identifies the decision: posting it again returns the same "
                "document (200), or 409 if the content differs. With `Idempotency-Key` a "
                "repeated request gets the first answer again, byte for byte.",
                "operationId": "issueDocument",
                "parameters": [_IDEMPOTENCY_KEY],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {"$ref": "#/components/schemas/IssueRequest"}
                        }
                    },
                },
                "responses": {
                    "201": _json("DocumentReceipt", "Issued", receipt_links),
                    "200": _json("DocumentReceipt", "Already issued for this decision",
                                 receipt_links),
                    **_problems(400, 401, 409, 413, 415, 422),
                },
            }
        },
        "/api/v1/documents/{id}": {
            "get": {
                "summary": "A document's record and history",
                "operationId": "getDocument",
                "parameters": [_ID_PARAMETER],
                "responses": {
                    "200": _json("DocumentRecord", "The record"),
                    **_problems(401, 404),
                },
            }
        },
        "/api/v1/documents/{id}.pdf": _file(
            "application/pdf", "The document as PDF", "getDocumentPdf", cached=True),
        "/api/v1/documents/{id}.docx": _file(
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "The document as DOCX (rendered on first request, then stored)",
            "getDocumentDocx", cached=True,
        ),
    }


#: every value `status` takes in a verification, and what each means (the stable list
#: integrators switch on; docs/verification.md says what a verifier should do for each)
VERIFICATION_STATUSES: dict[str, str] = {
    "valid": "Issued, signed by everyone required (a protocol: with its quorum), not revoked, "
             "not superseded, not expired",
    "awaiting_signatures": "Issued, but not signed yet by everyone required: not valid yet",
    "revoked": "Revoked by a deciding act (`revocation`); final",
    "superseded": "Replaced by a newer document (`superseded_by`)",
    "expired": "Its validity term is over (`document.valid_until`)",
    "not_issued": "No document was issued with this number",
    "mistyped": "The number's check digits do not hold: it was mistyped",
}
_VERIFICATION_STATUS = {
    "type": "string",
    "enum": list(VERIFICATION_STATUSES),
    "description": "; ".join(f"`{k}`: {v}" for k, v in VERIFICATION_STATUSES.items()),
}
_ISSUING_BODY = {
    "type": "object",
    "required": ["code", "name", "name_kk", "name_ru"],
    "properties": {
        "code": {"type": "string"},
        "name": {"type": "string", "description": "As recorded when it was created"},
        "name_kk": {"type": ["string", "null"], "description": "Full name in Kazakh"},
        "name_ru": {"type": ["string", "null"], "description": "Full name in Russian"},
    },
}


def verification_paths() -> dict[str, Any]:
    """Public verification (no token) and revocation."""
    number = {"name": "number", "in": "path", "required": True, "schema": {"type": "string"},
              "description": "Registration number, e.g. 01-KRG-26-000042-42"}
    answer = {"description": "The verification: switch on `status` (VerificationStatus); "
              "`answered_at` is when it was computed, in Asia/Almaty time",
              "content": {"application/json": {
                  "schema": {"type": "object",
                             "required": ["registration_number", "status", "answered_at"],
                             "properties": {
                                 "registration_number": {"type": "string"},
                                 "status": {"$ref": _COMPONENTS + "VerificationStatus"},
                                 "answered_at": {"type": "string", "format": "date-time"},
                                 "document": {"type": "object", "properties": {
                                     "issuing_body": _ISSUING_BODY}},
                                 "revocation": {"oneOf": [_REVOCATION, {"type": "null"}]}}}}}}
    return {
        "/api/v1/verify/{number}": {
            "get": {
                "summary": "Verify a document by its registration number (public)",
                "operationId": "verifyDocument",
                "security": [],
                "parameters": [
                    number,
                    {"name": "t", "in": "query", "required": False,
                     "schema": {"type": "string"},
                     "description": "The verification token from the QR code: full name"},
                    {"name": "surname", "in": "query", "required": False,
                     "schema": {"type": "string"},
                     "description": "The holder's surname: full name if it matches"},
                    {"name": "signers", "in": "query", "required": False,
                     "schema": {"enum": ["1"]}, "description": "List the signers"},
                ],
                "responses": {"200": answer, **_problems(429)},
            }
        },
        "/api/v1/verify/upload": {
            "post": {
                "summary": "Is this PDF exactly a registered document? (public)",
                "operationId": "verifyUpload",
                "security": [],
                "requestBody": {"required": True, "content": {"multipart/form-data": {
                    "schema": {"type": "object", "required": ["pdf"],
                               "additionalProperties": False, "properties": {
                        "pdf": {"type": "string", "format": "binary", "minLength": 1},
                        "p7s": {"type": "string", "format": "binary"}}}}}},
                "responses": {
                    "200": {"description": "{sha256, matches, claimed_registration_number, "
                            "verification, signatures, uploaded_signature}; uploaded_signature "
                            "is {status, verified, name, role, signed_at, reasons, signers}, "
                            "`signers` one per signer of the .p7s (a member's own or a "
                            "protocol's combined one)"},
                    **_problems(400, 413, 429),
                },
            }
        },
        "/api/v1/documents/{id}/revocation": {
            "post": {
                "summary": "Revoke an issued document (final; reinstating takes a new one)",
                "operationId": "revokeDocument",
                "parameters": [_ID_PARAMETER],
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "additionalProperties": False,
                    "required": ["reason", "act"],
                    "properties": {
                        "reason": {"$ref": _COMPONENTS + "common_long_text"},
                        "act": {"type": "object", "additionalProperties": False,
                                "required": ["number", "date"], "properties": {
                                    "number": {"$ref": _COMPONENTS + "common_text",
                                               "maxLength": 64},
                                    "date": {"$ref": _COMPONENTS + "common_date",
                                             "description": "Not in the future, not before "
                                             "the document was issued"}}},
                    }}}}},
                "responses": {
                    "201": {"description": "Revoked: {registration_number, revocation}",
                            "content": {"application/json": {"schema": {
                                "type": "object",
                                "required": ["registration_number", "revocation"],
                                "properties": {"registration_number": {"type": "string"},
                                               "revocation": _REVOCATION}}}}},
                    **_problems(400, 401, 404, 409, 413, 415, 422),
                },
            }
        },
    }


def deadline_paths() -> dict[str, Any]:
    """Deadlines in working days and e-mail delivery of extracts."""
    plain = {"description": "JSON", "content": {"application/json": {"schema": {
        "type": "object"}}}}
    return {
        "/api/v1/deadlines": {
            "get": {
                "summary": "The caller's deadlines: due, overdue, late (default: all three)",
                "operationId": "listDeadlines",
                "parameters": [{
                    "name": "status", "in": "query", "required": False,
                    "schema": {"enum": ["due", "overdue", "late", "met"]},
                }],
                "responses": {"200": plain, **_problems(400, 401)},
            }
        },
        "/api/v1/documents/{id}/mail": {
            "get": {
                "summary": "The document's e-mails and their states",
                "operationId": "listDocumentMail",
                "parameters": [_ID_PARAMETER],
                "responses": {"200": plain, **_problems(401, 404)},
            }
        },
        "/api/v1/documents/{id}/mail/resend": {
            "post": {
                "summary": "Queue the extract's e-mail again (an explicit decision)",
                "operationId": "resendDocumentMail",
                "parameters": [_ID_PARAMETER],
                "responses": {"202": plain, **_problems(401, 404, 409)},
            }
        },
    }


def batch_paths() -> dict[str, Any]:
    """A whole session issued as one batch."""
    batch_id = {"name": "id", "in": "path", "required": True,
                "schema": {"type": "string", "format": "uuid"}}
    request = {"$ref": "#/components/schemas/IssueRequest"}
    return {
        "/api/v1/batches": {
            "post": {
                "summary": "Issue up to 5,000 decisions as one batch",
                "description": "A JSON array, or NDJSON (one request per line), of bodies of "
                "POST /api/v1/documents. Every item is validated at once: an invalid one is "
                "recorded as failed with the problem details a single post would get, the "
                "others are queued and issued by the workers, each exactly once (by "
                "decision_id).",
                "operationId": "submitBatch",
                "requestBody": {"required": True, "content": {
                    "application/json": {"schema": {"type": "array", "items": request,
                                                    "minItems": 1, "maxItems": 5000}},
                    "application/x-ndjson": {"schema": request},
                }},
                "responses": {
                    "202": {"description": "Accepted: {id, total, queued, failed, links}",
                            "content": {"application/json": {"schema": _BATCH_ACCEPTED}},
                            "links": _links(("getBatch",), "$response.body#/id")},
                    **_problems(400, 401, 413, 415, 422),
                },
            }
        },
        "/api/v1/batches/{id}": {
            "get": {
                "summary": "A batch's counts, and per item its document or its problem",
                "operationId": "getBatch",
                "parameters": [batch_id, {
                    "name": "items", "in": "query", "required": False,
                    "schema": {"enum": ["all", "failed", "none"], "default": "all"}}],
                "responses": {
                    "200": {"description": "{id, state, total, done, failed, queued, running, "
                            "items: [{index, decision_id, state, document | problem}]}",
                            "content": {"application/json": {"schema": _BATCH_STATUS}}},
                    **_problems(400, 401, 404),
                },
            }
        },
    }


def signature_paths() -> dict[str, Any]:
    """Commissions, protocols of their sessions, per-member signatures."""
    def body_of(schema: dict[str, Any]) -> dict[str, Any]:
        return {"content": {"application/json": {"schema": schema}}}
    commission = {"name": "id", "in": "path", "required": True,
                  "schema": {"type": "string", "format": "uuid"}}

    def operation(summary: str, op_id: str, ok: str, statuses: tuple[int, ...],
                  parameters: list[Any], body: Any = None,
                  also: dict[str, str] | None = None,
                  links: tuple[str, ...] = (),
                  answer: dict[str, Any] | None = None) -> dict[str, Any]:
        answers = {ok: summary, **(also or {})}
        obj = body_of(answer or {"type": "object"})
        followed = {"links": _links(links, "$response.body#/id")} if links else {}
        found: dict[str, Any] = {
            "summary": summary, "operationId": op_id, "parameters": parameters,
            "responses": {
                **{status: {"description": text, **obj, **followed}
                   for status, text in answers.items()},
                **_problems(*statuses),
            },
        }
        if body is not None:
            found["requestBody"] = {"required": True,
                                    "content": {"application/json": {"schema": body}}}
        return found

    return {
        "/api/v1/commissions": {"post": operation(
            "Store a commission (p. 15-18); the same one again answers 200", "createCommission",
            "201", (400, 401, 413, 415, 422), [],
            {"$ref": "#/components/schemas/commission"},
            also={"200": "The same commission was already stored: the stored one"},
            links=("getCommission", "createProtocol"), answer=_COMMISSION_STORED)},
        "/api/v1/commissions/{id}": {"get": operation(
            "A stored commission", "getCommission", "200", (401, 404), [commission],
            answer=_COMMISSION_STORED)},
        "/api/v1/commissions/{id}/protocols": {"post": operation(
            "Issue the protocol of a session: {form, language, decision_id, session, "
            "present: [IIN], rows}", "createProtocol", "201", (400, 401, 404, 409, 413, 415,
                                                              422), [commission, _IDEMPOTENCY_KEY],
            {"$ref": "#/components/schemas/SessionProtocolRequest"},
            also={"200": "Already issued for this decision: the same receipt"},
            links=_DOCUMENT_OPERATIONS, answer={"$ref": "#/components/schemas/DocumentReceipt"})},
        "/api/v1/documents/{id}/signing": {"get": operation(
            "The frozen bytes to sign (content_base64, sha256), signed and missing signers",
            "getSigning", "200", (401, 404), [_ID_PARAMETER],
            answer={**_SIGNING_STATUS,
                    "required": [*_SIGNING_STATUS["required"], "content_base64"]})},
        "/api/v1/documents/{id}/signatures": {"post": operation(
            "One signer's CMS SignedData (base64, detached or attached), as NCALayer returns "
            "it; each refusal has its own code", "postSignature", "201",
            (400, 401, 404, 409, 413, 415, 422, 503), [_ID_PARAMETER],
            {"type": "object", "additionalProperties": False, "required": ["cms"],
             "properties": {
                 "cms": {"type": "string", "contentEncoding": "base64",
                         "description": "CMS SignedData (DER), base64"},
                 "iin": {"type": "string", "pattern": "^[0-9]{12}$",
                         "description": "The signer's IIN, checked against the certificate"}}},
            answer=_SIGNING_STATUS)},
        "/api/v1/documents/{id}/invitations": {
            "post": operation(
                "A signing link per signer ({} or no body: every pending signer; or "
                "{signers: [{iin, email?}]}), e-mailed when an address is given; each link is "
                "shown once", "createInvitations", "201", (400, 401, 404, 409, 413, 415, 422),
                [_ID_PARAMETER],
                {"type": "object", "additionalProperties": False, "properties": {
                    "signers": {"type": "array", "minItems": 1, "maxItems": 100, "items": {
                        "type": "object", "additionalProperties": False, "required": ["iin"],
                        "properties": {
                            "iin": {"type": "string", "pattern": "^[0-9]{12}$"},
                            "email": {"type": "string", "format": "email"}}}}}},
                answer=_INVITATIONS),
            "get": operation(
                "Every invitation of the document and its state (open, used, revoked, "
                "expired); never a link", "listInvitations", "200", (401, 404), [_ID_PARAMETER],
                answer=_INVITATIONS),
        },
        "/api/v1/documents/{id}/invitations/{invitation_id}": {"delete": {
            "summary": "Revoke a signing link", "operationId": "revokeInvitation",
            "parameters": [_ID_PARAMETER, {**_ID_PARAMETER, "name": "invitation_id"}],
            "responses": {"204": {"description": "The link no longer works"},
                          **_problems(401, 404, 409)},
        }},
        "/api/v1/documents/{id}.p7s": _file(
            "application/pkcs7-signature",
            "Every signer's SignerInfo in one detached CMS (409 until signed)",
            "getDocumentP7s", statuses=(401, 404, 409)),
        "/api/v1/documents/{id}/signed-copy.pdf": _file(
            "application/pdf",
            "A printable signed copy: the document's pages, then a signature sheet (each signer "
            "checked now), the verify page's QR code on every page (409 until signed)",
            "getSignedCopyPdf", statuses=(400, 401, 404, 409, 503), parameters=[{
                "name": "lang", "in": "query", "required": False,
                "schema": {"enum": ["kk", "ru"]},
                "description": "The signature sheet's language (default: the document's)"}]),
        "/api/v1/documents/{id}.asics": _file(
            "application/vnd.etsi.asic-s+zip",
            "The PDF and that CMS as an ASiC-S container, ETSI EN 319 162-1 (409 until signed)",
            "getDocumentAsics", statuses=(401, 404, 409)),
        "/api/v1/documents/{id}/signature-report": {"get": operation(
            "Each signer's signature verified again now", "getSignatureReport", "200",
            (401, 404, 503), [_ID_PARAMETER])},
        "/api/v1/documents/{id}/signature-report.pdf": _file(
            "application/pdf", "The signature report as a page in Kazakh or Russian (?lang=)",
            "getSignatureReportPdf", statuses=(400, 401, 404, 503), parameters=[{
                "name": "lang", "in": "query", "required": False,
                "schema": {"enum": ["kk", "ru"]},
                "description": "The page's language (default: the document's)"}]),
    }


_ANY_SIGNER = {
    "type": "object",
    "required": ["intact", "result", "codes", "algorithm", "iin", "bin", "subject",
                 "signing_time", "judged_at", "certificate"],
    "properties": {
        "intact": {"type": "boolean",
                   "description": "The mathematics alone: digest and signature value"},
        "result": {"enum": ["valid", "invalid", "indeterminate"],
                   "description": "With the certificate path, validity, key usage and "
                   "revocation at judged_at"},
        "codes": {"type": "array", "items": {"type": "string"},
                  "description": "Why not valid: the signing library's failure codes"},
        "algorithm": {"type": "string",
                      "description": "rsa-sha256, ecdsa-sha256, gost2015-512, gost2015-256…"},
        "iin": {"type": ["string", "null"]},
        "bin": {"type": ["string", "null"]},
        "subject": {"type": ["string", "null"], "description": "RFC 4514"},
        "signing_time": {"oneOf": [_INSTANT, {"type": "null"}]},
        "judged_at": _INSTANT,
        "certificate": {"oneOf": [{"type": "null"}, {
            "type": "object", "required": ["serial", "issuer", "not_before", "not_after"],
            "properties": {"serial": {"type": "string"}, "issuer": {"type": "string"},
                           "not_before": _INSTANT, "not_after": _INSTANT}}]},
        "signed": {"type": "string",
                   "description": "XML only: what the signature covers (document or #id)"},
    },
}
_ANY_REPORT = {
    "type": "object",
    "required": ["format", "result", "codes", "signers"],
    "properties": {
        "format": {"enum": ["cms", "xml"]},
        "result": {"enum": ["valid", "invalid", "indeterminate"]},
        "codes": {"type": "array", "items": {"type": "string"},
                  "description": "About the file itself (unreadable, no signature)"},
        "signers": {"type": "array", "items": _ANY_SIGNER},
    },
}


def verify_any_paths() -> dict[str, Any]:
    """POST /api/v1/signatures/verify: any CMS, or XML signed by NCALayer."""
    # the server also takes white space inside base64 and ignores it; the document says less
    base64_text = {
        "type": "string", "contentEncoding": "base64", "minLength": 1,
        "pattern": "^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$",
    }
    body = {"oneOf": [
        {"type": "object", "additionalProperties": False, "required": ["cms"],
         "properties": {
             "cms": {**base64_text, "description": "CMS SignedData (DER), base64; attached "
                     "or detached, one signer or many"},
             "content": {**base64_text, "description": "The signed document of a "
                         "detached CMS"}}},
        {"type": "object", "additionalProperties": False, "required": ["xml"],
         "properties": {"xml": {"type": "string", "pattern": r"^[ \t\r\n]*<",
                                "description": "An XML document with enveloped XMLDSig "
                                "signatures, as NCALayer's signXml makes it"}}},
    ]}
    return {"/api/v1/signatures/verify": {"post": {
        "summary": "Verify any signature: CMS (base64) or NCALayer-signed XML",
        "description": "Every signature is judged now against the trust folder "
        "(QUJAT_TRUST_DIR) with QUJAT_REVOCATION. The answer is 200 whatever it finds.",
        "operationId": "verifyAnySignature",
        "requestBody": {"required": True, "content": {"application/json": {"schema": body}}},
        "responses": {
            "200": {"description": "The verification",
                    "content": {"application/json": {"schema": _ANY_REPORT}}},
            **_problems(400, 401, 413, 415, 422, 503),
        },
    }}}

def bulk_signing_schemas() -> dict[str, Any]:
    """The schemas of signing in bulk (service/api/bulk_signatures.py)."""
    item = {
        "type": "object", "additionalProperties": False, "required": ["document", "cms"],
        "properties": {
            "document": {"type": "string", "minLength": 1,
                         "description": "The document's id or registration number"},
            "cms": {"type": "string", "minLength": 1, "contentEncoding": "base64",
                    "description": "CMS SignedData (DER), base64, as NCALayer returns it"},
            "iin": {"type": "string", "pattern": "^[0-9]{12}$",
                    "description": "The signer's IIN, checked against the certificate"},
        },
    }
    result = {
        "type": "object", "required": ["index", "outcome", "status"],
        "properties": {
            "index": {"type": "integer", "minimum": 0},
            "document": {"type": ["string", "null"]},
            "outcome": {"enum": ["accepted", "refused"]},
            "status": {"type": "integer",
                       "description": "201, or the status the single POST would have had"},
            "signing": {"type": "object", "description": "The new signing state (accepted)"},
            "problem": {"$ref": _COMPONENTS + "Problem"},
        },
    }
    return {
        "BulkSignatureRequest": {
            "type": "object", "additionalProperties": False, "required": ["signatures"],
            "properties": {"signatures": {"type": "array", "minItems": 1,
                                          "maxItems": MAX_BULK_ITEMS, "items": item}},
        },
        "BulkSignatureResult": {
            "type": "object", "required": ["accepted", "refused", "results"],
            "properties": {
                "accepted": {"type": "integer", "minimum": 0},
                "refused": {"type": "integer", "minimum": 0},
                "results": {"type": "array", "items": result},
            },
        },
        "PendingSignatures": {
            "type": "object", "required": ["count", "truncated", "documents"],
            "properties": {
                "count": {"type": "integer", "minimum": 0},
                "truncated": {"type": "boolean"},
                "documents": {"type": "array", "items": {
                    "type": "object",
                    "required": ["id", "registration_number", "form", "role", "sha256"],
                    "properties": {
                        "id": {"type": "string", "format": "uuid"},
                        "registration_number": {"type": "string"},
                        "form": {"type": "string"},
                        "language": {"enum": ["kk", "ru"]},
                        "role": {"type": "string"},
                        "sha256": {"type": ["string", "null"]},
                        "issued_at": {"type": ["string", "null"], "format": "date-time"},
                        "links": {"type": "object"},
                        "content_base64": {"type": "string", "contentEncoding": "base64"},
                    },
                }},
            },
        },
    }


def bulk_signing_paths() -> dict[str, Any]:
    """What one person must still sign, and many signatures in one request."""
    return {
        "/api/v1/signers/{iin}/pending": {
            "get": {
                "summary": "The caller's documents that still wait for this person's signature",
                "operationId": "listPendingSignatures",
                "parameters": [
                    {"name": "iin", "in": "path", "required": True,
                     "schema": {"type": "string", "pattern": "^[0-9]{12}$"},
                     "description": "The signer's IIN (12 digits, valid check digit)"},
                    {"name": "content", "in": "query", "required": False,
                     "schema": {"enum": ["1"]},
                     "description": f"Add each document's bytes to sign (content_base64); "
                     f"then at most {MAX_BULK_ITEMS} documents"},
                ],
                "responses": {
                    "200": _json("PendingSignatures", "Pending documents, registration order"),
                    **_problems(401, 422),
                },
            }
        },
        "/api/v1/signatures": {
            "post": {
                "summary": "Several signatures at once, each verified and stored on its own",
                "description": "Each `{document, cms}` goes through the intake of POST "
                "/api/v1/documents/{id}/signatures: a refused item refuses nothing else. "
                "The answer is 207 with each item's outcome, in the order sent.",
                "operationId": "postSignatures",
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": {"$ref": _COMPONENTS + "BulkSignatureRequest"}}}},
                "responses": {
                    "207": _json("BulkSignatureResult", "Each item's outcome"),
                    **_problems(400, 401, 413, 415, 422),
                },
            }
        },
    }


def webhook_paths() -> dict[str, Any]:
    """A platform's webhook endpoints and their deliveries (see docs/webhooks.md)."""
    from service.webhooks.guard import MAX_URL_LENGTH
    from service.webhooks.outbox import EVENTS

    uuid_parameter = {"type": "string", "format": "uuid"}
    endpoint_id = {"name": "id", "in": "path", "required": True, "schema": uuid_parameter}
    delivery_id = {"name": "delivery_id", "in": "path", "required": True,
                   "schema": uuid_parameter}
    events = {"type": "array", "minItems": 1, "uniqueItems": True,
              "items": {"enum": list(EVENTS)}}
    endpoint: dict[str, Any] = {
        "type": "object",
        "required": ["id", "url", "events", "active", "created_at"],
        "properties": {
            "id": uuid_parameter, "url": {"type": "string"}, "events": events,
            "active": {"type": "boolean"},
            "created_at": {"type": "string", "format": "date-time"},
        },
    }
    delivery = {
        "type": "object",
        "required": ["id", "endpoint_id", "event", "status", "attempts", "payload",
                     "attempt_log"],
        "properties": {
            "id": {"type": "string", "format": "uuid",
                   "description": "The webhook-id header, the same on every attempt"},
            "endpoint_id": uuid_parameter,
            "event": {"enum": list(EVENTS)},
            "document_id": {"type": ["string", "null"], "format": "uuid"},
            "status": {"enum": ["queued", "sending", "delivered", "failed"]},
            "attempts": {"type": "integer"},
            "next_attempt_at": {"type": "string", "format": "date-time"},
            "last_status_code": {"type": ["integer", "null"]},
            "last_error": {"type": ["string", "null"]},
            "created_at": {"type": "string", "format": "date-time"},
            "delivered_at": {"type": ["string", "null"], "format": "date-time"},
            "payload": {"type": "object", "description": "The body POSTed: {type, "
                        "timestamp, data}"},
            "attempt_log": {"type": "array", "items": {"type": "object"}},
        },
    }

    def answer(description: str, schema: dict[str, Any]) -> dict[str, Any]:
        return {"description": description,
                "content": {"application/json": {"schema": schema}}}

    return {
        "/api/v1/webhooks": {
            "post": {
                "summary": "Register a webhook endpoint; its signing secret is shown once",
                "description": "Events are POSTed as JSON with the Standard Webhooks headers "
                "(webhook-id, webhook-timestamp, webhook-signature: v1,<base64 HMAC-SHA256 "
                "of id.timestamp.body>). A URL whose host resolves to a loopback, private or "
                "link-local address is refused.",
                "operationId": "registerWebhook",
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": {
                        "type": "object", "additionalProperties": False,
                        "required": ["url", "events"],
                        "properties": {
                            "url": {"type": "string", "format": "uri",
                                    "maxLength": MAX_URL_LENGTH},
                            "events": events,
                        },
                    }}}},
                "responses": {
                    "201": answer("The endpoint and `secret` (whsec_…), never shown again", {
                        **endpoint, "required": [*endpoint["required"], "secret"],
                        "properties": {**endpoint["properties"],
                                       "secret": {"type": "string", "pattern": "^whsec_"}},
                    }),
                    **_problems(400, 401, 413, 415, 422),
                },
            },
            "get": {
                "summary": "The caller's webhook endpoints (without their secrets)",
                "operationId": "listWebhooks",
                "responses": {
                    "200": answer("{webhooks: [...]}", {
                        "type": "object", "required": ["webhooks"],
                        "properties": {"webhooks": {"type": "array", "items": endpoint}}}),
                    **_problems(401),
                },
            },
        },
        "/api/v1/webhooks/{id}": {
            "get": {
                "summary": "One webhook endpoint",
                "operationId": "getWebhook",
                "parameters": [endpoint_id],
                "responses": {"200": answer("The endpoint", endpoint), **_problems(401, 404)},
            },
            "delete": {
                "summary": "Deactivate an endpoint: nothing more is delivered to it",
                "operationId": "deactivateWebhook",
                "parameters": [endpoint_id],
                "responses": {"204": {"description": "Deactivated"}, **_problems(401, 404)},
            },
        },
        "/api/v1/webhooks/{id}/deliveries": {
            "get": {
                "summary": "The endpoint's deliveries and their attempts, newest first",
                "operationId": "listWebhookDeliveries",
                "parameters": [endpoint_id],
                "responses": {
                    "200": answer("{deliveries: [...]}", {
                        "type": "object", "required": ["deliveries"],
                        "properties": {"deliveries": {"type": "array", "items": delivery}}}),
                    **_problems(401, 404),
                },
            }
        },
        "/api/v1/webhooks/{id}/deliveries/{delivery_id}/resend": {
            "post": {
                "summary": "Queue a failed (or delivered) delivery again, same webhook-id",
                "operationId": "resendWebhookDelivery",
                "parameters": [endpoint_id, delivery_id],
                "responses": {"202": answer("The delivery, queued", delivery),
                              **_problems(401, 404, 409)},
            }
        },
    }


def build_openapi() -> dict[str, Any]:
    schemas: dict[str, Any] = bundled_schemas()
    schemas["RenderRequest"] = render_request_schema()
    schemas["IssueRequest"] = issue_request_schema()
    schemas["SessionProtocolRequest"] = session_protocol_schema()
    schemas["Problem"] = _PROBLEM
    schemas["DocumentLinks"] = _LINKS
    schemas["DocumentReceipt"] = _RECEIPT
    schemas["DocumentRecord"] = _RECORD
    schemas["VerificationStatus"] = _VERIFICATION_STATUS
    schemas.update(bulk_signing_schemas())
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {
            "title": "qujat",
            "version": "1",
            "description": "Official, signed, verifiable teacher-attestation documents "
            "(appendix forms 1, 2, 3, 6, 7, 12, 13 of the Karaganda pilot act).",
        },
        "paths": {
            "/api/v1/render": {
                "post": {
                    "summary": "Render a form as PDF or DOCX (stateless preview)",
                    "operationId": "render",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/RenderRequest"}
                            }
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "The document",
                            "content": {
                                "application/pdf": {
                                    "schema": {"type": "string", "format": "binary"}
                                },
                                "application/vnd.openxmlformats-officedocument"
                                ".wordprocessingml.document": {
                                    "schema": {"type": "string", "format": "binary"}
                                },
                            },
                        },
                        **_problems(400, 401, 413, 415, 422),
                    },
                }
            },
            **registry_paths(),
            **signature_paths(),
            **verify_any_paths(),

            **bulk_signing_paths(),
            **verification_paths(),
            **deadline_paths(),
            **batch_paths(),
            **webhook_paths(),
            "/api/v1/openapi.json": {
                "get": {
                    "summary": "This document",
                    "operationId": "openapi",
                    "security": [],
                    "responses": {"200": {"description": "OpenAPI 3.1"}},
                }
            },
        },
        "security": [{"bearer": []}],
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A platform's token (`qujat token create --org ORG`)",
                }
            },
        },
    }
