"""POST /api/v1/render: the stateless preview, and every way a caller can get it wrong."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from service.forms.vocabulary import Form

Example = Callable[..., dict[str, Any]]


def post(client: FlaskClient, body: Any, **kwargs: Any) -> Any:
    return client.post("/api/v1/render", json=body, **kwargs)


def pdf_text(content: bytes, tmp_path: Path) -> str:
    path = tmp_path / "doc.pdf"
    path.write_bytes(content)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


@pytest.mark.parametrize("form", list(Form))
@pytest.mark.parametrize("language", ["kk", "ru"])
@pytest.mark.parametrize("fmt", ["pdf", "docx"])
def test_every_form_renders(
    client: FlaskClient, example: Example, form: Form, language: str, fmt: str
) -> None:
    body = {**example(form.value, language), "format": fmt}
    response = post(client, body)
    assert response.status_code == 200, response.get_json()
    if fmt == "pdf":
        assert response.mimetype == "application/pdf"
        assert response.data.startswith(b"%PDF-")
    else:
        assert response.mimetype.endswith("wordprocessingml.document")
        assert response.data.startswith(b"PK")
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="{form.value}.{language}.{fmt}"'
    )


def test_problem_shape(client: FlaskClient, example: Example) -> None:
    body = example("certificate")
    del body["decision"]["holder"]["surname"]
    response = post(client, body)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["status"] == 422
    assert problem["type"].endswith("/invalid-decision")
    assert problem["errors"] == [
        {
            "pointer": "/decision/holder/surname",
            "code": "required",
            "reason": "The required field 'surname' is missing.",
        }
    ]


@pytest.mark.parametrize(
    ("language", "reason"),
    [
        ("kk", "ЖСН бақылау саны сәйкес келмейді."),
        ("ru", "Контрольный разряд ИИН не сходится."),
        ("en", "The IIN's check digit is wrong."),
    ],
)
def test_bad_iin_in_three_languages(
    client: FlaskClient, example: Example, language: str, reason: str
) -> None:
    body = example("certificate")
    body["decision"]["holder"]["iin"] = "931002451324"
    response = post(client, body, headers={"Accept-Language": language})
    assert response.status_code == 422
    assert response.headers["Content-Language"] == language
    assert response.get_json()["errors"] == [
        {"pointer": "/decision/holder/iin", "code": "iin_checksum", "reason": reason}
    ]


def test_unknown_category(client: FlaskClient, example: Example) -> None:
    body = example("certificate")
    body["decision"]["category"] = "grandmaster"
    errors = post(client, body).get_json()["errors"]
    assert [(e["pointer"], e["code"]) for e in errors] == [("/decision/category", "enum")]


def test_outcome_contradicting_categories(client: FlaskClient, example: Example) -> None:
    body = example("protocol")
    body["decision"]["rows"][1]["awarded_category"] = "teacher"
    errors = post(client, body).get_json()["errors"]
    assert [(e["pointer"], e["code"]) for e in errors] == [
        ("/decision/rows/1/awarded_category", "awarded_must_equal_declared")
    ]


def test_wrong_types(client: FlaskClient, example: Example) -> None:
    body = example("certificate")
    body["decision"]["order"] = "153"
    body["language"] = 7
    errors = post(client, body).get_json()["errors"]
    assert ("/language", "enum") in [(e["pointer"], e["code"]) for e in errors]


def test_unknown_form(client: FlaskClient, example: Example) -> None:
    body = example("certificate")
    body["form"] = "diploma"
    errors = post(client, body).get_json()["errors"]
    assert [(e["pointer"], e["code"]) for e in errors] == [("/form", "enum")]


def test_body_over_the_limit_is_413(client: FlaskClient, example: Example) -> None:
    body = example("certificate")
    body["decision"]["padding"] = "x" * (5 * 1024 * 1024)
    response = client.post("/api/v1/render", data=json.dumps(body), content_type="application/json")
    assert response.status_code == 413
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["errors"][0]["code"] == "too_large"


@pytest.mark.parametrize(
    "raw",
    [b"{not json", b"", b"\xff\xfe{}", b'{"form": NaN}', b'{"a": 1, "a": 2}', b"[" * 5000],
)
def test_non_json_is_400(client: FlaskClient, raw: bytes) -> None:
    response = client.post("/api/v1/render", data=raw, content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["errors"][0]["code"] == "malformed_json"


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_wrong_content_type_is_415(
    client: FlaskClient, example: Example, content_type: str | None
) -> None:
    data = json.dumps(example("certificate"))
    headers = {"Content-Type": content_type} if content_type else {}
    response = client.post("/api/v1/render", data=data, headers=headers)
    assert response.status_code == 415
    assert response.get_json()["errors"][0]["code"] == "unsupported_media_type"


def test_json_array_instead_of_object(client: FlaskClient) -> None:
    response = post(client, [1, 2, 3])
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["code"] == "type"


HOSTILE = "<script>alert(1)</script> & <w:p> \" ' ]]>"


def test_hostile_text_is_printed_as_text(
    client: FlaskClient, example: Example, tmp_path: Path
) -> None:
    """Markup is a name's no longer (the text rule refuses it), but a text may carry it."""
    body = example("certificate")
    body["decision"]["holder"]["surname"] = HOSTILE
    refused = post(client, body)
    assert refused.status_code == 422
    assert refused.get_json()["errors"][0]["pointer"] == "/decision/holder/surname"
    body = example("certificate")
    body["decision"]["organisation"] = HOSTILE
    response = post(client, body)
    assert response.status_code == 200
    text = " ".join(pdf_text(response.data, tmp_path).split())
    assert HOSTILE in text


def test_hostile_text_in_docx_stays_text(client: FlaskClient, example: Example) -> None:
    import io

    import docx

    body = {**example("certificate"), "format": "docx"}
    body["decision"]["organisation"] = HOSTILE
    response = post(client, body)
    assert response.status_code == 200
    document = docx.Document(io.BytesIO(response.data))
    text = "\n".join(p.text for p in document.paragraphs)
    assert HOSTILE in text


def test_same_decision_gives_the_same_bytes(client: FlaskClient, example: Example) -> None:
    body = example("protocol", "ru")
    assert post(client, body).data == post(client, body).data


def test_get_is_not_allowed(client: FlaskClient) -> None:
    response = client.get("/api/v1/render")
    assert response.status_code == 405
    assert response.mimetype == "application/problem+json"
