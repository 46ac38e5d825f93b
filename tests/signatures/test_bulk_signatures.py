"""Signing in bulk: GET /api/v1/signers/{iin}/pending and POST /api/v1/signatures.

A head of organisation signs every certificate of a session in one request; each item is
verified and stored on its own (one refused item refuses nothing else). Real CMS signatures
of the session's test PKI; every test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from service.core.config import Settings
from service.signatures.bulk import MAX_BULK_ITEMS
from service.verification.verifier import Status
from signing.client import create_cms
from tests.conftest import NOW
from tests.signatures.support import (
    HEAD,
    OUTSIDER,
    SECRETARY,
    SigningPKI,
    content_of,
    openssl_verify,
    signing_pki,
)
from tests.verification.test_verify import issue, revoke, verify

__all__ = ["signing_pki"]  # the session fixture, imported for pytest


@pytest.fixture
def settings(tmp_path: Path, database_url: str, signing_pki: SigningPKI) -> Settings:
    return Settings(
        data_dir=tmp_path,
        database_url=database_url,
        trust_dir=signing_pki.directory,
        verify_rate_limit="1000 per minute",
    )


def certificates(
    client: FlaskClient, example: Any, count: int, prefix: str = "bulk"
) -> list[dict[str, Any]]:
    return [issue(client, example, f"{prefix}-{i}") for i in range(count)]


def cms_for(pki: SigningPKI, iin: str, content: bytes) -> str:
    return base64.b64encode(create_cms(content, pki.key(iin), signing_time=NOW)).decode()


def pending(client: FlaskClient, iin: str, **params: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/signers/{iin}/pending", query_string=params)
    assert response.status_code == 200, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def test_a_head_signs_every_pending_certificate_in_one_request(
    client: FlaskClient,
    anonymous_client: FlaskClient,
    example: Any,
    signing_pki: SigningPKI,
    tmp_path: Path,
) -> None:
    issued = certificates(client, example, 6)
    listed = pending(client, HEAD, content="1")
    assert listed["count"] == 6
    assert listed["truncated"] is False
    assert [d["registration_number"] for d in listed["documents"]] == [
        r["registration_number"] for r in issued
    ]
    assert {d["role"] for d in listed["documents"]} == {"head_of_organisation"}
    assert pending(client, SECRETARY)["count"] == 0  # nothing of the secretary's here
    items = [
        {
            "document": d["id"] if i % 2 else d["registration_number"],
            "cms": cms_for(signing_pki, HEAD, base64.b64decode(d["content_base64"])),
        }
        for i, d in enumerate(listed["documents"])
    ]
    response = client.post("/api/v1/signatures", json={"signatures": items})
    assert response.status_code == 207, response.get_json()
    body = response.get_json()
    assert (body["accepted"], body["refused"]) == (6, 0)
    assert [r["index"] for r in body["results"]] == list(range(6))
    for result, receipt in zip(body["results"], issued, strict=True):
        assert result["outcome"] == "accepted"
        assert result["status"] == 201
        assert result["signing"]["status"] == "signed"
        assert result["signing"]["registration_number"] == receipt["registration_number"]
        assert verify(anonymous_client, receipt["registration_number"])["status"] == "valid"
    assert pending(client, HEAD)["count"] == 0
    # each signature stored is the one posted: the combined .p7s passes `openssl cms -verify`
    document_id = issued[0]["id"]
    (tmp_path / "doc.pdf").write_bytes(content_of(client, document_id))
    (tmp_path / "doc.p7s").write_bytes(client.get(f"/api/v1/documents/{document_id}.p7s").data)
    checked = openssl_verify(
        tmp_path / "doc.p7s", tmp_path / "doc.pdf", signing_pki.directory / "root.pem"
    )
    assert checked.returncode == 0, checked.stderr
    assert "Verification successful" in checked.stderr


def test_one_refused_item_refuses_nothing_else(
    client: FlaskClient, client_for: Any, example: Any, signing_pki: SigningPKI
) -> None:
    good, wrong_bytes, outsider, twice = certificates(client, example, 4, "mixed")
    other_body = client_for("AST")
    foreign = issue(other_body, example, "mixed-foreign")
    content = {r["id"]: content_of(client, r["id"]) for r in (good, wrong_bytes, outsider, twice)}
    items: list[Any] = [
        {"document": good["id"], "cms": cms_for(signing_pki, HEAD, content[good["id"]])},
        {"document": wrong_bytes["id"], "cms": cms_for(signing_pki, HEAD, b"other bytes")},
        {
            "document": outsider["id"],
            "cms": cms_for(signing_pki, OUTSIDER.iin, content[outsider["id"]]),
        },
        {
            "document": foreign["registration_number"],
            "cms": cms_for(signing_pki, HEAD, content[good["id"]]),
        },
        {"document": twice["id"], "cms": cms_for(signing_pki, HEAD, content[twice["id"]])},
        {"document": twice["id"], "cms": cms_for(signing_pki, HEAD, content[twice["id"]])},
        {"document": good["id"]},
        "not an object",
        {"document": "01-KRG-26-000001-00", "cms": "AAAA", "extra": 1},
    ]
    response = client.post(
        "/api/v1/signatures", json={"signatures": items}, headers={"Accept-Language": "ru"}
    )
    assert response.status_code == 207
    body = response.get_json()
    outcomes = [(r["outcome"], r["status"]) for r in body["results"]]
    assert outcomes == [
        ("accepted", 201),
        ("refused", 422),  # the signature is over other bytes
        ("refused", 422),  # not a signer of this document
        ("refused", 404),  # another body's document does not exist for the caller
        ("accepted", 201),
        ("refused", 409),  # already signed, by the item just before
        ("refused", 422),  # no cms
        ("refused", 422),  # not an object
        ("refused", 422),  # an unknown field
    ]
    assert (body["accepted"], body["refused"]) == (2, 7)
    results = body["results"]
    assert results[2]["problem"]["errors"][0]["code"] == "not_a_signer"
    assert results[3]["problem"]["errors"][0]["pointer"] == "/signatures/3/document"
    assert results[3]["problem"]["errors"][0]["code"] == "bulk_document_unknown"
    assert results[5]["problem"]["type"].endswith("/already-signed")
    assert results[6]["problem"]["errors"] == [
        {
            "pointer": "/signatures/6/cms",
            "code": "required",
            "reason": "Отсутствует обязательное поле «cms».",
        }
    ]
    assert results[7]["problem"]["errors"][0]["pointer"] == "/signatures/7"
    assert results[8]["problem"]["errors"][0]["pointer"] == "/signatures/8/extra"
    assert results[1]["problem"]["errors"][0]["pointer"].startswith("/signatures/1/")
    # what was refused stored nothing: the first certificate is signed, the second waits
    assert client.get(f"/api/v1/documents/{good['id']}/signing").get_json()["status"] == "signed"
    assert (
        client.get(f"/api/v1/documents/{wrong_bytes['id']}/signing").get_json()["status"]
        == "awaiting_signatures"
    )
    assert other_body.get(f"/api/v1/documents/{foreign['id']}/signing").get_json()["signed"] == []


def test_revoked_and_signed_documents_are_not_pending(
    client: FlaskClient, example: Any, signing_pki: SigningPKI
) -> None:
    kept, revoked, signed = certificates(client, example, 3, "pending")
    assert revoke(client, revoked).status_code == 201
    item = {
        "document": signed["id"],
        "cms": cms_for(signing_pki, HEAD, content_of(client, signed["id"])),
    }
    assert client.post("/api/v1/signatures", json={"signatures": [item]}).status_code == 207
    listed = pending(client, HEAD)
    assert [d["id"] for d in listed["documents"]] == [kept["id"]]
    assert "content_base64" not in listed["documents"][0]
    assert listed["documents"][0]["links"]["signing"] == f"/api/v1/documents/{kept['id']}/signing"


def test_bad_requests_are_refused_as_a_whole_with_the_field_named(
    client: FlaskClient, anonymous_client: FlaskClient
) -> None:
    def refused(body: Any, status: int, pointer: str, code: str) -> None:
        response = client.post("/api/v1/signatures", json=body)
        assert response.status_code == status, response.get_json()
        assert response.mimetype == "application/problem+json"
        assert [(e["pointer"], e["code"]) for e in response.get_json()["errors"]] == [
            (pointer, code)
        ]

    refused([], 422, "", "type")
    refused({}, 422, "/signatures", "required")
    refused({"signatures": {}}, 422, "/signatures", "type")
    refused({"signatures": []}, 422, "/signatures", "bulk_empty")
    refused(
        {"signatures": [{"document": "x", "cms": "AA"}] * (MAX_BULK_ITEMS + 1)},
        413,
        "/signatures",
        "bulk_too_many",
    )
    refused({"signatures": [], "more": 1}, 422, "/more", "unknown_field")
    for iin in ("12345", "931002451326", "93100245132x"):
        response = client.get(f"/api/v1/signers/{iin}/pending")
        assert response.status_code == 422
        assert response.get_json()["errors"][0]["pointer"] == "/iin"
    assert anonymous_client.get(f"/api/v1/signers/{HEAD}/pending").status_code == 401
    assert anonymous_client.post("/api/v1/signatures", json={"signatures": []}).status_code == 401


def test_the_bulk_routes_are_in_the_openapi_document(anonymous_client: FlaskClient) -> None:
    document = anonymous_client.get("/api/v1/openapi.json").get_json()
    assert "207" in document["paths"]["/api/v1/signatures"]["post"]["responses"]
    assert "/api/v1/signers/{iin}/pending" in document["paths"]
    statuses = document["components"]["schemas"]["VerificationStatus"]["enum"]
    assert statuses == [
        "valid",
        "awaiting_signatures",
        "revoked",
        "superseded",
        "expired",
        "not_issued",
        "mistyped",
    ]
    assert set(statuses) == {status.value for status in Status}
