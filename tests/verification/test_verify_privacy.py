"""No IIN of any example decision appears in any public response, whatever the route.

Every answer looked at is the route's own, with the status it documents (the rate limit is
raised for this app, so that none of them is a 429 stand-in); the 429 answers are checked apart.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from service import create_app
from service.core.config import Settings
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


# this test looks at some two hundred public answers (an upload costs ten of the default
# 60 per minute): a budget it stays within, so that every answer is the page itself, not a 429
RATE_LIMIT = "10000 per minute"
UPLOAD_MAX_BYTES = 512 * 1024  # a larger upload shows the 413 page and problem


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(data_dir=tmp_path, database_url=database_url, max_body_bytes=1024 * 1024,
                    verify_rate_limit=RATE_LIMIT, upload_max_bytes=UPLOAD_MAX_BYTES)


@dataclass(frozen=True)
class Answer:
    where: str
    expected: int  # the status the route documents for this request
    status: int
    content: bytes  # headers and body
    shows: bytes = b""  # what the answer must say, to tell a rendered page from a stand-in


def public_responses(
    app: Flask, client: FlaskClient, receipts: list[dict[str, Any]]
) -> Iterator[Answer]:
    public = app.test_client()

    def answer(where: str, expected: int, response: Any, shows: bytes = b"") -> Answer:
        return Answer(where, expected, response.status_code, _all(response), shows)

    first = receipts[0]["registration_number"]
    mistyped = first[:-1] + ("0" if first[-1] != "0" else "1")
    simple = [
        ("/verify", 200), ("/verify?number=x", 303), ("/verify/upload", 200),
        ("/verify/upload?lang=ru", 200),
        # a number that is not (or not well) typed: the page says so, as a 404
        (f"/verify/{mistyped}", 404), ("/verify/nonsense", 404),
        ("/verify/01-KRG-26-999999-00", 404),
        # the API answers every number with its verification
        (f"/api/v1/verify/{mistyped}", 200), ("/api/v1/verify/nonsense", 200),
        ("/api/v1/verify/01-KRG-26-999999-00", 200),
        ("/published/KRG", 200), ("/published/KRG?lang=ru", 200), ("/published/KRG.csv", 200),
        ("/published/KRG.json", 200), ("/published/KRG.json?lang=ru", 200),
        ("/published/NOPE", 404), ("/published/NOPE.json", 404), ("/published/NOPE.csv", 404),
        ("/published/KRG.xml", 404), ("/verify/a/b", 404), ("/static/public.css", 200),
    ]
    for path, expected in simple:
        yield answer(path, expected, public.get(path))
    for receipt in receipts:
        number = receipt["registration_number"]
        token = urlsplit(receipt["links"]["verify"]).query
        for query in ("", "?lang=ru", f"?{token}", f"?{token}&lang=ru"):
            yield answer(f"/verify/{number}{query}", 200, public.get(f"/verify/{number}{query}"))
            path = f"/api/v1/verify/{number}{query}"
            yield answer(path, 200, public.get(path))
        for surname in ("Ахметова", "wrong"):
            yield answer(f"POST /verify/{number} ({surname})", 200,
                         public.post(f"/verify/{number}", data={"surname": surname}))
            path = f"/api/v1/verify/{number}?surname={surname}"
            yield answer(path, 200, public.get(path))
        content = client.get(receipt["links"]["pdf"]).get_data()
        for label, data in (("registered", content), ("changed", content + b"%x\n"),
                            ("cut", content[:100])):
            matches = b"true" if label == "registered" else b"false"
            for query in ("", "?lang=ru"):
                yield answer(f"POST /verify/upload{query} ({label})", 200, public.post(
                    f"/verify/upload{query}",
                    data={"pdf": (BytesIO(data), "a.pdf"),
                          "p7s": (BytesIO(b"not a signature"), "a.p7s")}),
                    b'data-matches="' + matches + b'"')
            yield answer(f"POST /api/v1/verify/upload ({label})", 200, public.post(
                "/api/v1/verify/upload", data={"pdf": (BytesIO(data), "a.pdf")}),
                b'"matches": ' + matches)
    yield answer("POST /api/v1/verify/upload (empty)", 400, public.post("/api/v1/verify/upload"))
    yield answer("POST /verify/upload (empty)", 400, public.post("/verify/upload"))
    # encoded in memory: the test client would spool a body this large to an unclosed file
    boundary, too_large = encode_multipart({"pdf": FileStorage(
        BytesIO(b"%PDF-1.7\n" + b"0" * UPLOAD_MAX_BYTES), "a.pdf", "pdf")})
    for path in ("/api/v1/verify/upload", "/verify/upload?lang=ru"):
        yield answer(f"POST {path} (too large)", 413, public.post(
            path, data=too_large, content_type=f"multipart/form-data; boundary={boundary}"))


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
    for seen in public_responses(app, client, receipts):
        assert seen.status == seen.expected, (seen.where, seen.status, seen.content[-300:])
        assert seen.shows in seen.content, (seen.where, seen.shows)
        leaked = pattern.search(seen.content)
        assert leaked is None, f"{seen.where} shows the IIN {leaked.group().decode()}"
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
