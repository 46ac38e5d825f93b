"""POST /api/v1/documents and friends: numbering, files, idempotency, duplicates, tokens.

Every test runs on SQLite and on PostgreSQL (the `app` fixture is parametrised).
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from service.core.db import Database
from service.core.faults import Faults, InjectedFault
from service.registry.issuing import check_registration_number, parse_registration_number
from service.registry.models import AuditEntry, Document, IdempotencyKey

Example = Callable[..., dict[str, Any]]
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def certificate(example: Example, decision_id: str = "krg-2026-cert-0001") -> dict[str, Any]:
    body = example("certificate", "kk")
    body["decision"]["decision_id"] = decision_id
    return body


def post(client: FlaskClient, body: Any, key: str | None = None) -> Any:
    headers = {"Idempotency-Key": key} if key is not None else {}
    return client.post("/api/v1/documents", json=body, headers=headers)


def count(app: Flask, model: Any) -> int:
    database: Database = app.extensions["qujat.database"]
    with database.read() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def pdf_text(content: bytes, tmp_path: Path) -> str:
    path = tmp_path / "doc.pdf"
    path.write_bytes(content)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


def qr_codes(content: bytes, tmp_path: Path) -> list[str]:
    path = tmp_path / "doc.pdf"
    path.write_bytes(content)
    subprocess.run(["pdftoppm", "-r", "150", "-png", str(path), str(tmp_path / "page")],
                   check=True)
    found = []
    for page in sorted(tmp_path.glob("page*.png")):
        result = subprocess.run(["zbarimg", "--raw", "-q", str(page)], capture_output=True,
                                text=True)
        found += result.stdout.split()
    return found


# --------------------------------------------------------------------------- issuing


def test_issue_numbers_stores_and_serves(
    client: FlaskClient, example: Example, tmp_path: Path
) -> None:
    response = post(client, certificate(example))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert set(body) == {"id", "registration_number", "sha256", "links"}
    number = body["registration_number"]
    assert number.startswith("01-KRG-26-000001-")
    assert check_registration_number(number)
    assert response.headers["Location"] == f"/api/v1/documents/{body['id']}"
    links = body["links"]
    assert links["pdf"] == f"/api/v1/documents/{body['id']}.pdf"
    assert links["docx"] == f"/api/v1/documents/{body['id']}.docx"
    assert links["verify"].startswith(f"http://127.0.0.1:8000/verify/{number}?t=")
    assert len(links["verify"].split("?t=")[1]) >= 22  # 128 random bits

    pdf = client.get(links["pdf"])
    assert pdf.status_code == 200
    assert pdf.mimetype == "application/pdf"
    assert hashlib.sha256(pdf.data).hexdigest() == body["sha256"]
    assert pdf.headers["ETag"] == f'"{body["sha256"]}"'
    assert pdf.headers["Content-Disposition"] == f'attachment; filename="{number}.pdf"'
    assert number in pdf_text(pdf.data, tmp_path)
    assert qr_codes(pdf.data, tmp_path) == [links["verify"]]

    cached = client.get(links["pdf"], headers={"If-None-Match": pdf.headers["ETag"]})
    assert cached.status_code == 304


def test_record_and_history(client: FlaskClient, example: Example) -> None:
    issued = post(client, certificate(example)).get_json()
    record = client.get(f"/api/v1/documents/{issued['id']}").get_json()
    assert record["registration_number"] == issued["registration_number"]
    assert record["status"] == "issued"
    assert record["form"] == "certificate"
    assert record["language"] == "kk"
    assert record["decision_id"] == "krg-2026-cert-0001"
    assert record["sha256"] == issued["sha256"]
    assert record["docx_sha256"] is None
    assert record["links"] == issued["links"]
    assert [e["event"] for e in record["history"]] == ["created", "issued"]
    assert record["history"][1]["details"] == {"pdf_sha256": issued["sha256"]}
    assert "iin" not in json.dumps(record["history"])


def test_docx_is_rendered_once_then_served_from_storage(
    app: Flask, client: FlaskClient, example: Example
) -> None:
    issued = post(client, certificate(example)).get_json()
    first = client.get(issued["links"]["docx"])
    assert first.status_code == 200
    assert first.mimetype == DOCX
    assert first.data.startswith(b"PK")
    docx_sha = hashlib.sha256(first.data).hexdigest()
    assert first.headers["ETag"] == f'"{docx_sha}"'
    entries = count(app, AuditEntry)
    second = client.get(issued["links"]["docx"])
    assert second.data == first.data
    assert count(app, AuditEntry) == entries
    record = client.get(f"/api/v1/documents/{issued['id']}").get_json()
    assert record["docx_sha256"] == docx_sha
    assert [e["event"] for e in record["history"]] == ["created", "issued", "docx_rendered"]


def test_numbers_are_consecutive_per_series(client: FlaskClient, example: Example) -> None:
    numbers = [
        post(client, certificate(example, f"cert-{i}")).get_json()["registration_number"]
        for i in range(3)
    ]
    assert [parse_registration_number(n).seq for n in numbers] == [1, 2, 3]
    extract = example("extract", "ru")
    extract["decision"]["decision_id"] = "extract-1"
    other = post(client, extract).get_json()["registration_number"]
    assert other.startswith("03-KRG-26-000001-")


def test_every_form_can_be_issued(client: FlaskClient, example: Example) -> None:
    from service.forms.vocabulary import Form

    for form in Form:
        body = example(form.value, "ru")
        body["decision"]["decision_id"] = f"all-{form.value}"
        response = post(client, body)
        assert response.status_code == 201, (form, response.get_json())
        assert response.get_json()["registration_number"].startswith(
            f"{form.appendix:02d}-KRG-26-000001-"
        )


def test_the_year_is_kazakhstans_year_of_registration(
    settings: Any, example: Example
) -> None:
    import datetime as dt

    from service import create_app
    from tests.conftest import new_token

    # 20:00 UTC on 31 December is already 1 January in Asia/Almaty (UTC+5)
    app = create_app(settings, clock=lambda: dt.datetime(2026, 12, 31, 20, 0, tzinfo=dt.UTC))
    try:
        client = app.test_client()
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {new_token(app, 'KRG')}"
        number = post(client, certificate(example)).get_json()["registration_number"]
        assert number.startswith("01-KRG-27-000001-")
    finally:
        app.extensions["qujat.database"].dispose()


def test_decision_id_is_required(app: Flask, client: FlaskClient, example: Example) -> None:
    body = example("certificate", "kk")
    del body["decision"]["decision_id"]
    response = post(client, body)
    assert response.status_code == 422
    assert [(e["pointer"], e["code"]) for e in response.get_json()["errors"]] == [
        ("/decision/decision_id", "required")
    ]
    assert count(app, Document) == 0


def test_an_invalid_decision_takes_no_number(client: FlaskClient, example: Example) -> None:
    bad = certificate(example, "bad-1")
    bad["decision"]["holder"]["iin"] = "931002451324"
    assert post(client, bad).status_code == 422
    good = post(client, certificate(example, "good-1")).get_json()
    assert parse_registration_number(good["registration_number"]).seq == 1


# --------------------------------------------------------------------------- duplicates


def test_same_decision_again_returns_the_same_document(
    app: Flask, client: FlaskClient, example: Example
) -> None:
    first = post(client, certificate(example))
    again = post(client, certificate(example))
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.get_json() == first.get_json()
    assert count(app, Document) == 1


def test_same_decision_with_other_content_is_a_conflict(
    app: Flask, client: FlaskClient, example: Example
) -> None:
    first = post(client, certificate(example)).get_json()
    changed = certificate(example)
    changed["decision"]["position"] = "физика пәнінің мұғалімі"
    response = post(client, changed)
    assert response.status_code == 409
    problem = response.get_json()
    assert problem["type"].endswith("/decision-already-issued")
    assert problem["document"]["id"] == first["id"]
    assert problem["document"]["registration_number"] == first["registration_number"]
    assert count(app, Document) == 1


def test_key_order_and_spacing_do_not_change_the_request(
    client: FlaskClient, example: Example
) -> None:
    body = certificate(example)
    first = post(client, body)
    reordered = json.dumps(dict(reversed(list(body.items()))), indent=4, ensure_ascii=True)
    again = client.post("/api/v1/documents", data=reordered, content_type="application/json")
    assert again.status_code == 200
    assert again.get_json()["id"] == first.get_json()["id"]


def test_each_body_numbers_its_own_documents(
    client_for: Callable[[str], FlaskClient], example: Example
) -> None:
    krg = post(client_for("KRG"), certificate(example)).get_json()
    ast = post(client_for("AST"), certificate(example)).get_json()
    assert krg["id"] != ast["id"]
    assert krg["registration_number"].startswith("01-KRG-26-000001-")
    assert ast["registration_number"].startswith("01-AST-26-000001-")


# --------------------------------------------------------------------------- idempotency


def test_idempotency_key_replays_the_first_answer(
    app: Flask, client: FlaskClient, example: Example
) -> None:
    first = post(client, certificate(example), key="key-1")
    assert first.status_code == 201
    assert "Idempotent-Replayed" not in first.headers
    replay = post(client, certificate(example), key="key-1")
    assert replay.status_code == 201
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.data == first.data
    assert replay.mimetype == "application/json"
    assert count(app, Document) == 1
    quoted = post(client, certificate(example), key='"key-1"')  # the draft's sf-string form
    assert quoted.data == first.data


def test_idempotency_key_with_another_body_is_422(
    app: Flask, client: FlaskClient, example: Example
) -> None:
    post(client, certificate(example, "one"), key="key-2")
    response = post(client, certificate(example, "two"), key="key-2")
    assert response.status_code == 422
    assert response.get_json()["type"].endswith("/idempotency-key-reused")
    assert count(app, Document) == 1


def test_idempotency_keys_belong_to_one_body(
    client_for: Callable[[str], FlaskClient], example: Example
) -> None:
    krg = post(client_for("KRG"), certificate(example, "one"), key="shared")
    ast = post(client_for("AST"), certificate(example, "two"), key="shared")
    assert krg.status_code == ast.status_code == 201
    assert krg.get_json()["id"] != ast.get_json()["id"]


@pytest.mark.parametrize("key", ["", "two words", "x" * 256, '"unterminated'])
def test_malformed_idempotency_key_is_400(client: FlaskClient, example: Example, key: str) -> None:
    response = post(client, certificate(example), key=key)
    assert response.status_code == 400
    assert response.get_json()["type"].endswith("/bad-idempotency-key")


class HeldRender(Faults):
    """Holds the first render until the test lets it go."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()

    def before_render(self, decision_id: str) -> None:
        self.entered.set()
        assert self.release.wait(30)


def test_idempotency_key_in_flight_is_409(
    app: Flask, client: FlaskClient, example: Example
) -> None:
    held = HeldRender()
    app.extensions["qujat.registry"].faults = held
    body = certificate(example)
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(post, client, body, "key-3")
        assert held.entered.wait(30)
        duplicate = post(client, body, key="key-3")
        assert duplicate.status_code == 409
        assert duplicate.get_json()["type"].endswith("/idempotency-key-in-flight")
        assert duplicate.headers["Retry-After"] == "1"
        held.release.set()
        assert first.result(30).status_code == 201
    app.extensions["qujat.registry"].faults = Faults()
    replay = post(client, body, key="key-3")
    assert replay.status_code == 201
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.data == first.result().data


# --------------------------------------------------------------------------- failures


class FailingRender(Faults):
    def before_render(self, decision_id: str) -> None:
        raise InjectedFault(decision_id)


class FailingCreate(Faults):
    def inside_create(self, decision_id: str) -> None:
        raise InjectedFault(decision_id)


def test_a_failure_inside_the_numbering_transaction_leaves_no_trace(
    app: Flask, client: FlaskClient, example: Example
) -> None:
    app.extensions["qujat.registry"].faults = FailingCreate()
    response = post(client, certificate(example, "doomed"), key="key-4")
    assert response.status_code == 500
    assert response.get_json()["type"].endswith("/internal")
    assert count(app, Document) == count(app, AuditEntry) == count(app, IdempotencyKey) == 0
    app.extensions["qujat.registry"].faults = Faults()
    retry = post(client, certificate(example, "doomed"), key="key-4")
    assert retry.status_code == 201
    assert parse_registration_number(retry.get_json()["registration_number"]).seq == 1


def test_a_failed_render_is_completed_by_the_retry_with_the_same_number(
    app: Flask, client: FlaskClient, example: Example
) -> None:
    app.extensions["qujat.registry"].faults = FailingRender()
    assert post(client, certificate(example), key="key-5").status_code == 500
    database: Database = app.extensions["qujat.database"]
    with database.read() as session:
        pending = session.scalars(select(Document)).one()
        assert pending.status == "pending"
        assert pending.pdf_sha256 is None
    app.extensions["qujat.registry"].faults = Faults()
    retry = post(client, certificate(example), key="key-5")
    assert retry.status_code == 200
    assert retry.get_json()["registration_number"] == pending.registration_number
    record = client.get(f"/api/v1/documents/{pending.id}").get_json()
    assert record["status"] == "issued"
    assert [e["event"] for e in record["history"]] == ["created", "issued"]


def test_fetching_a_pending_document_completes_it(
    app: Flask, client: FlaskClient, example: Example
) -> None:
    app.extensions["qujat.registry"].faults = FailingRender()
    post(client, certificate(example))
    app.extensions["qujat.registry"].faults = Faults()
    database: Database = app.extensions["qujat.database"]
    with database.read() as session:
        document_id = session.scalars(select(Document.id)).one()
    record = client.get(f"/api/v1/documents/{document_id}").get_json()
    assert record["status"] == "pending"
    assert record["sha256"] is None
    pdf = client.get(f"/api/v1/documents/{document_id}.pdf")
    assert pdf.status_code == 200
    record = client.get(f"/api/v1/documents/{document_id}").get_json()
    assert record["status"] == "issued"
    assert record["sha256"] == hashlib.sha256(pdf.data).hexdigest()


class HoldFirstRender(Faults):
    """Holds the first render until the test lets it go; the others pass."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self._lock = threading.Lock()

    def before_render(self, decision_id: str) -> None:
        with self._lock:
            first = not self.entered.is_set()
            self.entered.set()
        if first:
            assert self.release.wait(30)


def test_a_document_completed_meanwhile_keeps_its_bytes_and_one_issued_entry(
    app: Flask, client: FlaskClient, example: Example
) -> None:
    """A retry that finds the document pending, renders, and meanwhile loses the race to a
    GET of its PDF: it answers with the document as the GET completed it, and the audit
    trail says "issued" once."""
    app.extensions["qujat.registry"].faults = FailingRender()
    body = certificate(example)
    assert post(client, body).status_code == 500
    database: Database = app.extensions["qujat.database"]
    with database.read() as session:
        document_id = session.scalars(select(Document.id)).one()
    held = HoldFirstRender()
    app.extensions["qujat.registry"].faults = held
    with ThreadPoolExecutor(1) as pool:
        retry = pool.submit(post, client, body)
        assert held.entered.wait(30)
        pdf = client.get(f"/api/v1/documents/{document_id}.pdf")
        assert pdf.status_code == 200
        held.release.set()
        answer = retry.result(30)
    assert answer.status_code == 200
    assert answer.get_json()["id"] == str(document_id)
    assert answer.get_json()["sha256"] == hashlib.sha256(pdf.data).hexdigest()
    record = client.get(f"/api/v1/documents/{document_id}").get_json()
    assert record["status"] == "issued"
    assert [e["event"] for e in record["history"]] == ["created", "issued"]


def test_concurrent_posts_of_one_decision_make_one_document(
    app: Flask, client_for: Callable[[str], FlaskClient], example: Example
) -> None:
    clients = [client_for("KRG") for _ in range(6)]
    body = certificate(example)
    with ThreadPoolExecutor(6) as pool:
        responses = list(pool.map(lambda c: post(c, body), clients))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * 5 + [201]
    assert len({r.get_json()["id"] for r in responses}) == 1
    assert count(app, Document) == 1


# --------------------------------------------------------------------------- tokens


def test_no_token_is_401(anonymous_client: FlaskClient, example: Example) -> None:
    for method, path in [
        ("post", "/api/v1/documents"),
        ("post", "/api/v1/render"),
        ("get", f"/api/v1/documents/{uuid.uuid4()}"),
        ("get", "/api/v1/no-such-route"),
    ]:
        response = getattr(anonymous_client, method)(path, json=certificate(example))
        assert response.status_code == 401, path
        assert response.mimetype == "application/problem+json"
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="qujat"'


@pytest.mark.parametrize(
    "header",
    ["Bearer qj_wrong", "Bearer not-even-ours", "Basic cXVqYXQ6cXVqYXQ=", "Bearer"],
)
def test_a_wrong_token_is_401(
    anonymous_client: FlaskClient, example: Example, header: str
) -> None:
    response = anonymous_client.post(
        "/api/v1/documents", json=certificate(example), headers={"Authorization": header}
    )
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith('Bearer realm="qujat"')


def test_a_revoked_token_is_401(app: Flask, client: FlaskClient, example: Example) -> None:
    from service.registry.models import ApiToken
    from tests.conftest import fixed_clock

    database: Database = app.extensions["qujat.database"]
    with database.write() as session:
        for token in session.scalars(select(ApiToken)):
            token.revoked_at = fixed_clock()
    response = post(client, certificate(example))
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_another_bodys_token_sees_nothing(
    client_for: Callable[[str], FlaskClient], example: Example
) -> None:
    issued = post(client_for("KRG"), certificate(example)).get_json()
    stranger = client_for("AST")
    for path in (
        f"/api/v1/documents/{issued['id']}",
        issued["links"]["pdf"],
        issued["links"]["docx"],
        f"/api/v1/documents/{uuid.uuid4()}",
    ):
        response = stranger.get(path)
        assert response.status_code == 404, path
        assert response.get_json()["type"].endswith("/not-found")


def test_public_routes_need_no_token(anonymous_client: FlaskClient) -> None:
    assert anonymous_client.get("/api/v1/openapi.json").status_code == 200
    assert anonymous_client.get("/healthz").status_code == 200


def test_openapi_describes_the_registry(anonymous_client: FlaskClient) -> None:
    document = anonymous_client.get("/api/v1/openapi.json").get_json()
    paths = document["paths"]
    assert set(paths["/api/v1/documents"]) == {"post"}
    assert "/api/v1/documents/{id}" in paths
    assert "/api/v1/documents/{id}.pdf" in paths
    assert "/api/v1/documents/{id}.docx" in paths
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert paths["/api/v1/openapi.json"]["get"]["security"] == []
