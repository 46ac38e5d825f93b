"""Every route that reads a body from the outside, fuzzed through the Flask test client:
any JSON, damaged examples, raw bytes, NDJSON, hostile query strings, damaged PDFs and
.p7s files for the upload check. The property: never a 500, and every refusal of the API
is problem+json."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from signing.client import create_cms
from signing.pki import TestPKI
from tests.conftest import NOW
from tests.fuzz.conftest import SIGNER
from tests.fuzz.strategies import HOSTILE_TEXT, JSON_VALUES, encoded, flipped, mutated

ROOT = Path(__file__).resolve().parents[2]
CERTIFICATE = json.loads((ROOT / "examples" / "certificate.kk.json").read_text("utf-8"))
COMMISSION = json.loads((ROOT / "examples" / "commission.json").read_text("utf-8"))
PROTOCOL = json.loads((ROOT / "examples" / "protocol.kk.json").read_text("utf-8"))
SESSION = {
    "form": "protocol", "language": "kk", "decision_id": "fuzz-session",
    "session": PROTOCOL["decision"]["session"],
    "present": [m["iin"] for m in COMMISSION["members"][:6]],
    "rows": PROTOCOL["decision"]["rows"],
}
REVOCATION = {"reason": "Қате", "act": {"number": "А-17", "date": "2026-11-23"}}
# issuing renders a PDF (a fraction of a second): fewer examples than the cheap routes
RENDERING = settings(
    max_examples=max(5, settings.default.max_examples // 5),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.fixture(scope="module")
def client(fuzz_app: Flask, fuzz_token: str) -> FlaskClient:
    client = fuzz_app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {fuzz_token}"
    return client


@pytest.fixture(scope="module")
def document(client: FlaskClient) -> dict[str, Any]:
    body = json.loads(json.dumps(CERTIFICATE))
    body["decision"]["decision_id"] = "fuzz-certificate"
    response = client.post("/api/v1/documents", json=body)
    assert response.status_code in (200, 201), response.get_json()
    found: dict[str, Any] = response.get_json()
    return found


@pytest.fixture(scope="module")
def commission(client: FlaskClient) -> str:
    response = client.post("/api/v1/commissions", json=COMMISSION)
    assert response.status_code in (200, 201), response.get_json()
    return str(response.get_json()["id"])


def answered(response: Any, problem_json: bool = True) -> None:
    assert response.status_code < 500, response.data[:500]
    if problem_json and response.status_code >= 400:
        assert response.mimetype == "application/problem+json", response.data[:200]


def post(client: FlaskClient, route: str, raw: bytes, mimetype: str = "application/json") -> Any:
    return client.post(route, data=raw, content_type=mimetype)


@given(st.sampled_from(["/api/v1/documents", "/api/v1/render", "/api/v1/commissions",
                        "/api/v1/batches"]),
       JSON_VALUES.map(encoded) | st.binary(max_size=200))
def test_json_routes_take_any_body(client: FlaskClient, route: str, raw: bytes) -> None:
    answered(post(client, route, raw))


@RENDERING
@given(mutated(CERTIFICATE))
def test_issuing_takes_damaged_requests(client: FlaskClient, body: Any) -> None:
    if isinstance(body, dict) and isinstance(body.get("decision"), dict):
        body["decision"].setdefault("decision_id", "fuzz-issue")
    answered(post(client, "/api/v1/documents", encoded(body)))


@given(mutated(COMMISSION))
def test_commissions_take_damaged_commissions(client: FlaskClient, body: Any) -> None:
    answered(post(client, "/api/v1/commissions", encoded(body)))


@RENDERING
@given(mutated(SESSION))
def test_protocols_take_damaged_sessions(
    client: FlaskClient, commission: str, body: Any
) -> None:
    answered(post(client, f"/api/v1/commissions/{commission}/protocols", encoded(body)))


@given(st.lists(JSON_VALUES.map(encoded) | st.binary(max_size=40) | mutated(CERTIFICATE).map(
    encoded), min_size=1, max_size=4))
def test_batches_take_any_ndjson(client: FlaskClient, lines: list[bytes]) -> None:
    answered(post(client, "/api/v1/batches", b"\n".join(lines), "application/x-ndjson"))


@given(mutated(REVOCATION) | JSON_VALUES)
def test_revocation_takes_anything(
    client: FlaskClient, document: dict[str, Any], body: Any
) -> None:
    if body == REVOCATION:  # the one valid body would revoke the shared document
        return
    answered(post(client, f"/api/v1/documents/{document['id']}/revocation", encoded(body)))


@given(st.fixed_dictionaries({"cms": st.text(max_size=80) | st.binary(max_size=80).map(
    lambda b: base64.b64encode(b).decode())}, optional={"iin": HOSTILE_TEXT})
       | JSON_VALUES)
def test_signature_intake_takes_anything(
    client: FlaskClient, document: dict[str, Any], body: Any
) -> None:
    answered(post(client, f"/api/v1/documents/{document['id']}/signatures", encoded(body)))


@given(HOSTILE_TEXT, st.sampled_from(["kk", "ru", "\r\n", ""]))
def test_verify_pages_take_any_number(fuzz_app: Flask, number: str, lang: str) -> None:
    client = fuzz_app.test_client()
    # percent-encoded by hand: a lone surrogate goes out as the (invalid UTF-8) bytes a
    # hostile client can send, which the test client's own encoder would refuse to make
    typed = quote(number.encode("utf-8", "surrogatepass"), safe="")
    answered(client.get(f"/verify?number={typed}&lang={quote(lang)}"), problem_json=False)
    answered(client.get(f"/api/v1/verify/x?t={typed}&surname={typed}"))


# --------------------------------------------------------------------------- the upload check


@pytest.fixture(scope="module")
def stored_pdf(client: FlaskClient, document: dict[str, Any]) -> bytes:
    response = client.get(f"/api/v1/documents/{document['id']}.pdf")
    assert response.status_code == 200
    return bytes(response.data)


@pytest.fixture(scope="module")
def stored_p7s(fuzz_pki: TestPKI, stored_pdf: bytes) -> bytes:
    return create_cms(stored_pdf, fuzz_pki.credential(SIGNER.iin), signing_time=NOW)


@given(data=st.data())
def test_upload_check_takes_damaged_pdfs_and_signatures(
    fuzz_app: Flask, stored_pdf: bytes, stored_p7s: bytes, data: st.DataObject
) -> None:
    pdf = data.draw(flipped(stored_pdf) | st.binary(max_size=200), label="pdf")
    p7s = data.draw(st.none() | flipped(stored_p7s) | st.binary(max_size=200), label="p7s")
    route = data.draw(st.sampled_from(["/api/v1/verify/upload", "/verify/upload"]))
    form: dict[str, Any] = {"pdf": (io.BytesIO(pdf), "document.pdf")}
    if p7s is not None:
        form["p7s"] = (io.BytesIO(p7s), "document.p7s")
    response = fuzz_app.test_client().post(route, data=form, content_type="multipart/form-data")
    answered(response, problem_json=route.startswith("/api/"))
