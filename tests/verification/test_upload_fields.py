"""The upload check refuses a form field it does not know, naming the fields it expects."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from service.core.config import Settings

PDF = b"%PDF-1.7\n%%EOF\n"


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    # a few uploads each (an upload counts ten of the default 60 per minute)
    return Settings(data_dir=tmp_path, database_url=database_url, max_body_bytes=1024 * 1024,
                    verify_rate_limit="1000 per minute")


# field name → content (bytes: a file, str: a text field); files are opened per test, so
# each database's run posts fresh streams
@pytest.mark.parametrize("spec", [
    {"file": PDF},  # the PDF under another name
    {"pdf": PDF, "signature": b"0"},  # a lost .p7s
    {"pdf": PDF, "lang": "ru"},  # a text field
])
def test_an_unknown_field_is_refused_by_the_api(
    anonymous_client: FlaskClient, spec: dict[str, bytes | str]
) -> None:
    fields: dict[str, object] = {
        name: (BytesIO(value), f"a.{name}") if isinstance(value, bytes) else value
        for name, value in spec.items()
    }
    unknown = next(name for name in fields if name not in ("pdf", "p7s"))
    response = anonymous_client.post("/api/v1/verify/upload", data=fields,
                                     headers={"Accept-Language": "ru"})
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    error = response.get_json()["errors"][0]
    assert error["code"] == "upload_unknown_field"
    assert error["pointer"] == f"/{unknown}"
    assert f"«{unknown}»" in error["reason"]
    assert "«pdf»" in error["reason"]
    assert "«p7s»" in error["reason"]


def test_an_unknown_field_is_refused_by_the_page(anonymous_client: FlaskClient) -> None:
    response = anonymous_client.post("/verify/upload?lang=ru",
                                     data={"file": (BytesIO(PDF), "a.pdf")})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "«file»" in page
    assert "«pdf»" in page


def test_the_expected_fields_are_still_taken(anonymous_client: FlaskClient) -> None:
    response = anonymous_client.post("/api/v1/verify/upload", data={
        "pdf": (BytesIO(PDF), "a.pdf"), "p7s": (BytesIO(b"not a signature"), "a.p7s")})
    assert response.status_code == 200
    assert response.get_json()["matches"] is False
