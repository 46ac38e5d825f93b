"""Real answers along one life of a document match what the OpenAPI document says of them:
a documented status, its content type and its schema (on SQLite and PostgreSQL). The
contract test (test_openapi_contract.py) explores at random; this walk is deterministic."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.conftest import NOW

Example = Callable[..., dict[str, Any]]
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


class Contract:
    def __init__(self, client: FlaskClient) -> None:
        self.document = client.get("/api/v1/openapi.json").get_json()
        self.checked: list[str] = []

    def check(self, path: str, method: str, response: TestResponse) -> Any:
        operation = self.document["paths"][path][method]
        status = str(response.status_code)
        assert status in operation["responses"], (method, path, status, response.data[:500])
        described = operation["responses"][status]
        media_type = response.mimetype
        assert media_type in described.get("content", {media_type: {}}), (path, media_type)
        schema = described.get("content", {}).get(media_type, {}).get("schema")
        body = response.get_json() if media_type.endswith("json") else None
        if schema is not None and body is not None:
            root = {**schema, "components": self.document["components"]}
            jsonschema.Draft202012Validator(
                root, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
            ).validate(body)
        self.checked.append(f"{method} {path} {status}")
        return body


def test_answers_along_a_documents_life_match_the_document(
    client: FlaskClient, example: Example
) -> None:
    contract = Contract(client)
    commission = json.loads((EXAMPLES / "commission.json").read_text("utf-8"))
    created = contract.check("/api/v1/commissions", "post",
                             client.post("/api/v1/commissions", json=commission))
    contract.check("/api/v1/commissions", "post",
                   client.post("/api/v1/commissions", json=commission))
    contract.check("/api/v1/commissions/{id}", "get",
                   client.get(f"/api/v1/commissions/{created['id']}"))

    body = example("certificate", "kk")
    receipt = contract.check("/api/v1/documents", "post",
                             client.post("/api/v1/documents", json=body))
    contract.check("/api/v1/documents", "post", client.post("/api/v1/documents", json=body))
    document = f"/api/v1/documents/{receipt['id']}"
    contract.check("/api/v1/documents/{id}", "get", client.get(document))
    contract.check("/api/v1/documents/{id}/signing", "get", client.get(document + "/signing"))
    contract.check("/api/v1/documents/{id}/signatures", "post",
                   client.post(document + "/signatures", json={"cms": "AAAA"}))
    contract.check("/api/v1/documents/{id}/mail", "get", client.get(document + "/mail"))
    contract.check("/api/v1/documents/{id}/revocation", "post",
                   client.post(document + "/revocation", data="{}"))
    revocation = {"reason": "Issued in error", "act": {"number": "17",
                                                      "date": NOW.date().isoformat()}}
    contract.check("/api/v1/documents/{id}/revocation", "post",
                   client.post(document + "/revocation", json=revocation))
    contract.check("/api/v1/verify/{number}", "get",
                   client.get(f"/api/v1/verify/{receipt['registration_number']}"))

    batch = [example("extract", "ru"), example("acceptance", "kk")]
    accepted = contract.check("/api/v1/batches", "post",
                              client.post("/api/v1/batches", json=batch))
    contract.check("/api/v1/batches/{id}", "get",
                   client.get(f"/api/v1/batches/{accepted['id']}"))
    contract.check("/api/v1/batches", "post", client.post("/api/v1/batches", json=[]))
    contract.check("/api/v1/deadlines", "get", client.get("/api/v1/deadlines"))
    assert len(contract.checked) == 16
