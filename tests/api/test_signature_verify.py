"""POST /api/v1/signatures/verify: any CMS or NCALayer XML, for an authenticated platform."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from service import create_app
from service.core.config import Settings
from signing import combine_signatures
from signing.client import create_cms
from signing.pki import Person, TestPKI, init_test_pki
from tests.conftest import NOW, fixed_clock, new_token

DATA = Path(__file__).parents[1] / "signing" / "data"
URL = "/api/v1/signatures/verify"
PEOPLE = (
    Person("931002451325", "Тестов", "Тест", "Тестович"),
    Person("850314300003", "Иванов", "Иван", "Иванович"),
)
CONTENT = b"%PDF-1.7\n a protocol \n%%EOF\n"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPKI:
    return init_test_pki(tmp_path_factory.mktemp("pki"), PEOPLE, now=NOW)


@pytest.fixture
def settings(tmp_path: Path, database_url: str, pki: TestPKI) -> Settings:
    return Settings(
        data_dir=tmp_path,
        database_url=database_url,
        max_body_bytes=64 * 1024,
        trust_dir=pki.directory,
    )


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def errors(answer: Any) -> list[tuple[str, str]]:
    assert answer.mimetype == "application/problem+json"
    return [(e["pointer"], e["code"]) for e in answer.get_json()["errors"]]


def signature(pki: TestPKI, who: Person = PEOPLE[0], **options: Any) -> bytes:
    return create_cms(CONTENT, pki.credential(who.iin), signing_time=NOW, **options)


def test_a_valid_detached_signature(client: FlaskClient, pki: TestPKI) -> None:
    answer = client.post(URL, json={"cms": b64(signature(pki)), "content": b64(CONTENT)})

    assert answer.status_code == 200
    body = answer.get_json()
    assert body["format"] == "cms"
    assert body["result"] == "valid"
    (signer,) = body["signers"]
    assert signer["intact"] is True
    assert signer["iin"] == PEOPLE[0].iin
    assert signer["algorithm"] == "rsa-sha256"
    assert signer["judged_at"] == NOW.isoformat()


def test_a_combined_attached_signature_lists_every_signer(
    client: FlaskClient, pki: TestPKI
) -> None:
    attached = signature(pki, attach=True)
    answer = client.post(URL, json={"cms": b64(attached)})
    assert answer.get_json()["result"] == "valid"

    combined = combine_signatures([signature(pki), signature(pki, PEOPLE[1])])
    both = client.post(URL, json={"cms": b64(combined), "content": b64(CONTENT)}).get_json()
    assert sorted(s["iin"] for s in both["signers"]) == sorted(p.iin for p in PEOPLE)
    assert both["result"] == "valid"


def test_an_invalid_signature_is_still_a_200_answer(client: FlaskClient, pki: TestPKI) -> None:
    answer = client.post(URL, json={"cms": b64(signature(pki)), "content": b64(b"other")})

    assert answer.status_code == 200
    (signer,) = answer.get_json()["signers"]
    assert (signer["result"], signer["intact"], signer["codes"]) == (
        "invalid",
        False,
        ["digest_mismatch"],
    )


def test_real_ncalayer_xml(client: FlaskClient) -> None:
    xml = (DATA / "xml_mitwork_gost2015.xml").read_text("utf-8")

    body = client.post(URL, json={"xml": xml}).get_json()

    assert body["format"] == "xml"
    (signer,) = body["signers"]
    assert signer["algorithm"] == "gost2015-512"
    assert signer["intact"] is True
    assert signer["signed"] == "document"
    assert "untrusted" in signer["codes"]  # an NCA test CA, not in this trust folder


def test_an_xml_attack_is_answered_not_processed(client: FlaskClient) -> None:
    xxe = '<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>'

    body = client.post(URL, json={"xml": xxe}).get_json()

    assert body == {"format": "xml", "result": "invalid", "codes": ["xml_unsafe"], "signers": []}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"cms": "not base64!"}, [("/cms", "bad_format")]),
        ({"cms": "AAAA", "content": "%%%"}, [("/content", "bad_format")]),
        ({"cms": 42}, [("/cms", "type")]),
        ({"xml": ["<a/>"]}, [("/xml", "type")]),
        ({"xml": "plain text"}, [("/xml", "bad_format")]),
        ({"cms": "AAAA", "xml": "<a/>"}, [("", "either_field")]),
        ({}, [("", "either_field")]),
        ({"xml": "<a/>", "content": "AAAA"}, [("/content", "content_without_cms")]),
        ({"cms": "AAAA", "signature": "AAAA"}, [("/signature", "unknown_field")]),
        (["cms"], [("", "type")]),
    ],
)
def test_a_bad_request_names_its_field(
    client: FlaskClient, body: Any, expected: list[tuple[str, str]]
) -> None:
    answer = client.post(URL, json=body, headers={"Accept-Language": "ru"})

    assert answer.status_code == 422
    assert errors(answer) == expected
    assert answer.headers["Content-Language"] == "ru"


def test_a_body_over_the_limit_is_413(client: FlaskClient) -> None:
    answer = client.post(URL, json={"cms": "A" * 70_000})

    assert answer.status_code == 413
    assert answer.mimetype == "application/problem+json"


def test_a_token_is_required(anonymous_client: FlaskClient, pki: TestPKI) -> None:
    answer = anonymous_client.post(URL, json={"cms": b64(signature(pki))})

    assert answer.status_code == 401
    assert answer.mimetype == "application/problem+json"


def test_without_a_trust_folder_it_is_503(tmp_path: Path, database_url: str, pki: TestPKI) -> None:
    app = create_app(Settings(data_dir=tmp_path, database_url=database_url), clock=fixed_clock)
    try:
        client = app.test_client()
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {new_token(app, 'KRG')}"
        answer = client.post(URL, json={"cms": b64(signature(pki))})
    finally:
        app.extensions["qujat.database"].dispose()

    assert answer.status_code == 503
    assert errors(answer) == [("", "signing_unavailable")]
