"""The OpenAPI 3.1 description of the API, built from the JSON Schemas in schemas/.

The schemas are the contract; this document embeds them unchanged (OpenAPI 3.1 speaks JSON
Schema 2020-12), so the two cannot drift apart. A test compares them.
"""

from __future__ import annotations

from typing import Any

from service.decisions import schema_of
from service.vocabulary import Form

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


def render_request_schema() -> dict[str, Any]:
    """The request envelope with `decision` narrowed to the chosen form's schema."""
    envelope = schema_of("request")
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


def build_openapi() -> dict[str, Any]:
    schemas: dict[str, Any] = {form.value: schema_of(form.value) for form in Form}
    schemas["common"] = schema_of("common")
    schemas["RenderRequest"] = render_request_schema()
    schemas["Problem"] = _PROBLEM
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
                        **_problems(400, 413, 415, 422),
                    },
                }
            },
        },
        "components": {"schemas": schemas},
    }
