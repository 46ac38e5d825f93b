"""No IIN of any example decision appears in any public response, whatever the route."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from io import BytesIO
from typing import Any
from urllib.parse import urlsplit

from flask import Flask
from flask.testing import FlaskClient

from service import create_app
from service.config import Settings
from tests.conftest import EXAMPLES, NOW


def example_iins() -> set[str]:
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "iin" and isinstance(value, str):
                    found.add(value)
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    for path in EXAMPLES.glob("*.json"):
        walk(json.loads(path.read_text("utf-8")))
    return found


def public_responses(
    app: Flask, client: FlaskClient, receipts: list[dict[str, Any]]
) -> Iterator[tuple[str, bytes]]:
    public = app.test_client()
    first = receipts[0]["registration_number"]
    mistyped = first[:-1] + ("0" if first[-1] != "0" else "1")
    simple = ["/verify", "/verify?number=x", "/verify/upload", "/verify/upload?lang=ru",
              f"/verify/{mistyped}", "/verify/nonsense", "/verify/01-KRG-26-999999-00",
              f"/api/v1/verify/{mistyped}", "/api/v1/verify/nonsense",
              "/published/KRG", "/published/KRG?lang=ru", "/published/KRG.csv",
              "/published/KRG.json", "/published/NOPE", "/published/NOPE.json",
              "/published/KRG.xml", "/verify/a/b", "/static/public.css"]
    for path in simple:
        yield path, _all(public.get(path))
    for receipt in receipts:
        number = receipt["registration_number"]
        token = urlsplit(receipt["links"]["verify"]).query
        for query in ("", "?lang=ru", f"?{token}", f"?{token}&lang=ru"):
            yield f"/verify/{number}{query}", _all(public.get(f"/verify/{number}{query}"))
            path = f"/api/v1/verify/{number}{query}"
            yield path, _all(public.get(path))
        for surname in ("Ахметова", "wrong"):
            yield f"POST /verify/{number}", _all(
                public.post(f"/verify/{number}", data={"surname": surname}))
        content = client.get(receipt["links"]["pdf"]).get_data()
        for data in (content, content + b"%x\n", content[:100]):
            yield "POST /verify/upload", _all(public.post(
                "/verify/upload", data={"pdf": (BytesIO(data), "a.pdf"),
                                        "p7s": (BytesIO(b"not a signature"), "a.p7s")}))
            yield "POST /api/v1/verify/upload", _all(public.post(
                "/api/v1/verify/upload", data={"pdf": (BytesIO(data), "a.pdf")}))
    yield "POST /api/v1/verify/upload (empty)", _all(public.post("/api/v1/verify/upload"))


def _all(response: Any) -> bytes:
    headers = "\n".join(f"{k}: {v}" for k, v in response.headers.items()).encode()
    content: bytes = headers + b"\n" + response.get_data()
    response.close()
    return content


def test_no_example_iin_in_any_public_response(
    app: Flask, client: FlaskClient, settings: Settings
) -> None:
    iins = example_iins()
    assert len(iins) > 20
    receipts = []
    for path in sorted(EXAMPLES.glob("*.json")):
        body = json.loads(path.read_text("utf-8"))
        if "form" not in body:
            continue  # commission.json is not a request
        response = client.post("/api/v1/documents", json=body)
        assert response.status_code == 201, (path.name, response.get_json())
        receipts.append(response.get_json())
    assert len(receipts) == 14
    revoked = receipts[1]
    assert client.post(f"/api/v1/documents/{revoked['id']}/revocation", json={
        "reason": "appeal", "act": {"number": "1", "date": "2026-11-23"}}).status_code == 201
    pattern = re.compile("|".join(sorted(iins)).encode())
    checked = 0
    for where, content in public_responses(app, client, receipts):
        leaked = pattern.search(content)
        assert leaked is None, f"{where} shows the IIN {leaked.group().decode()}"
        checked += 1
    # the 429 page and problem too
    limited = create_app(settings.replace(verify_rate_limit="1 per minute"), clock=lambda: NOW)
    try:
        public = limited.test_client()
        number = receipts[0]["registration_number"]
        public.get(f"/verify/{number}")
        for path in (f"/verify/{number}", f"/api/v1/verify/{number}"):
            response = public.get(path)
            assert response.status_code == 429
            assert pattern.search(_all(response)) is None
    finally:
        limited.extensions["qujat.database"].dispose()
    assert checked > 200
