"""The verify answers tell the whole truth: "valid" only once every required signature is in.

An unsigned certificate, extract or protocol is "awaiting_signatures" (amber) on the page, in
GET /api/v1/verify/{number}, through the QR link and in the upload check; revoked and
superseded win over it; once signed, the page lists who signed, in what role and when. The
issuing body shows its full name in the page's language beside its code, and every answer
says when it was computed (Asia/Almaty, from the app's clock). Real CMS signatures of a test
PKI; every test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import re
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from service.core.config import Settings
from service.forms.decisions import ALMATY
from service.registry.tokens import organisation
from service.web import texts
from tests.conftest import NOW
from tests.signatures.support import (
    HEAD,
    PRESENT,
    SECRETARY,
    SigningPKI,
    content_of,
    create_commission,
    create_protocol,
    sign,
    signing_pki,
)
from tests.verification.test_verify import issue, revoke, token_of, verify
from tests.verification.test_verify_signatures import IIN_PATTERN

__all__ = ["signing_pki"]  # the session fixture, imported for pytest

ANSWERED_AT = NOW.astimezone(ALMATY).isoformat()  # 2026-11-23T17:00:00+05:00


@pytest.fixture
def settings(tmp_path: Path, database_url: str, signing_pki: SigningPKI) -> Settings:
    return Settings(
        data_dir=tmp_path,
        database_url=database_url,
        trust_dir=signing_pki.directory,
        verify_rate_limit="1000 per minute",
    )


def status_on_page(html: str) -> tuple[str, str]:
    found = re.search(
        r'<section class="status[^"]*" id="status" data-status="(\w+)">'
        r"\s*<h2>([^<]+)</h2>",
        html,
    )
    assert found is not None, html[:2000]
    return found[1], found[2]


def page(client: FlaskClient, path: str, language: str) -> str:
    response = client.get(path + ("&" if "?" in path else "?") + f"lang={language}")
    assert response.status_code == 200, response.status_code
    html: str = response.get_data(as_text=True)
    assert IIN_PATTERN.search(html) is None
    return html


def upload(client: FlaskClient, content: bytes, api: bool) -> Any:
    data = {"pdf": (BytesIO(content), "document.pdf")}
    return client.post("/api/v1/verify/upload" if api else "/verify/upload", data=data)


def test_an_unsigned_certificate_awaits_its_head_everywhere_then_turns_valid(
    client: FlaskClient, anonymous_client: FlaskClient, example: Any, signing_pki: SigningPKI
) -> None:
    receipt = issue(client, example, "truth-1")
    number = receipt["registration_number"]
    # the API, by number and with the QR code's token
    for params in ({}, {"t": token_of(receipt)}):
        answer = verify(anonymous_client, number, **params)
        assert answer["status"] == "awaiting_signatures"
        assert answer["answered_at"] == ANSWERED_AT
        assert answer["signatures"] == {"required": True, "verified": False, "signed_at": None}
    # the page and the QR route, in both languages: amber, never green
    for language in ("kk", "ru"):
        for path in (f"/verify/{number}", f"/verify/{number}?t={token_of(receipt)}"):
            html = page(anonymous_client, path, language)
            assert status_on_page(html) == (
                "awaiting_signatures",
                texts.text("status.awaiting_signatures", language),
            )
            assert 'data-status="valid"' not in html
            assert texts.text("signatures.awaiting", language) in html
            assert 'datetime="2026-11-23T17:00:00+05:00"' in html
            assert "(" + texts.text("almaty_time", language) + ")" in html
    # the upload check of the registered bytes
    content = content_of(client, receipt["id"])
    checked = upload(anonymous_client, content, api=True).get_json()
    assert checked["matches"] is True
    assert checked["verification"]["status"] == "awaiting_signatures"
    uploaded_page = upload(anonymous_client, content, api=False).get_data(as_text=True)
    assert status_on_page(uploaded_page)[0] == "awaiting_signatures"

    # the head signs with his own key: valid, and the page says who, in what role, when
    assert sign(client, receipt["id"], signing_pki.key(HEAD)).status_code == 201
    answer = verify(anonymous_client, number, signers="1")
    assert answer["status"] == "valid"
    assert answer["signatures"]["verified"] is True
    assert [(s["role"], s["status"], s["signed_at"]) for s in answer["signatures"]["signers"]] == [
        ("head_of_organisation", "valid", NOW.isoformat())
    ]
    head = answer["signatures"]["signers"][0]["name"]
    for language in ("kk", "ru"):
        html = page(anonymous_client, f"/verify/{number}", language)
        assert status_on_page(html) == ("valid", texts.text("status.valid", language))
        signer = re.search(
            r'<li class="signer" data-status="valid" '
            r'data-role="head_of_organisation">(.*?)</li>',
            html,
            re.S,
        )
        assert signer is not None, html
        line = " ".join(re.sub(r"<[^>]+>", " ", signer[1]).split())
        assert line.startswith(head)
        assert texts.text("signed_on", language) in line
        assert '<time datetime="2026-11-23T12:00:00+00:00">' in signer[1]
    assert (
        upload(anonymous_client, content, api=True).get_json()["verification"]["status"] == "valid"
    )


def test_revoked_and_superseded_keep_their_state_whatever_the_signatures(
    client: FlaskClient, anonymous_client: FlaskClient, example: Any, signing_pki: SigningPKI
) -> None:
    unsigned = issue(client, example, "truth-revoked-unsigned")
    signed = issue(client, example, "truth-revoked-signed")
    assert sign(client, signed["id"], signing_pki.key(HEAD)).status_code == 201
    for receipt in (unsigned, signed):
        assert revoke(client, receipt).status_code == 201
        assert verify(anonymous_client, receipt["registration_number"])["status"] == "revoked"
    old = issue(client, example, "truth-old")
    issue(client, example, "truth-new", supersedes=old["registration_number"])
    assert verify(anonymous_client, old["registration_number"])["status"] == "superseded"
    # a signature arriving on the superseded one does not bring it back
    assert sign(client, old["id"], signing_pki.key(HEAD)).status_code == 201
    assert verify(anonymous_client, old["registration_number"])["status"] == "superseded"
    for language in ("kk", "ru"):
        html = page(anonymous_client, f"/verify/{old['registration_number']}", language)
        assert status_on_page(html)[0] == "superseded"


def test_a_protocol_is_valid_only_with_every_signature_and_its_quorum(
    client: FlaskClient, anonymous_client: FlaskClient, signing_pki: SigningPKI
) -> None:
    protocol = create_protocol(client, create_commission(client))
    number = protocol["registration_number"]
    for iin in PRESENT:
        assert sign(client, protocol["id"], signing_pki.key(iin)).status_code == 201
        assert verify(anonymous_client, number)["status"] == "awaiting_signatures"
    assert sign(client, protocol["id"], signing_pki.key(SECRETARY)).status_code == 201
    assert verify(anonymous_client, number)["status"] == "valid"


def test_an_extract_awaits_its_secretary(
    client: FlaskClient, anonymous_client: FlaskClient, example: Any, signing_pki: SigningPKI
) -> None:
    extract = issue(client, example, "truth-extract", form="extract")
    assert (
        verify(anonymous_client, extract["registration_number"])["status"] == "awaiting_signatures"
    )
    assert sign(client, extract["id"], signing_pki.key(SECRETARY)).status_code == 201
    assert verify(anonymous_client, extract["registration_number"])["status"] == "valid"


def test_a_certificate_naming_no_signer_never_becomes_valid(
    client: FlaskClient, anonymous_client: FlaskClient, example: Any
) -> None:
    body = example("certificate", "kk")
    del body["decision"]["head_of_organisation"]["iin"]
    body["decision"]["decision_id"] = "truth-no-signer"
    response = client.post("/api/v1/documents", json=body)
    assert response.status_code == 201, response.get_json()
    number = response.get_json()["registration_number"]
    answer = verify(anonymous_client, number)
    assert answer["status"] == "awaiting_signatures"
    assert answer["signatures"]["required"] is False
    html = page(anonymous_client, f"/verify/{number}", "ru")
    assert texts.text("signatures.no_signer", "ru") in html


def test_notices_are_valid_without_a_signer_and_await_a_named_one(
    client: FlaskClient, anonymous_client: FlaskClient, example: Any
) -> None:
    """Forms 6 and 7 are letters to the applicant: without an authorised person named there
    is no signature to wait for; with one, the notice waits for it."""
    for form in ("acceptance", "refusal"):
        body = example(form, "kk")
        named = body["decision"].get("authorised_person")
        body["decision"].pop("authorised_person", None)
        body["decision"]["decision_id"] = f"truth-{form}-unnamed"
        response = client.post("/api/v1/documents", json=body)
        assert response.status_code == 201, response.get_json()
        assert (
            verify(anonymous_client, response.get_json()["registration_number"])["status"]
            == "valid"
        )
        if named is None or not named.get("iin"):
            continue
        with_signer = example(form, "kk")
        with_signer["decision"]["decision_id"] = f"truth-{form}-named"
        response = client.post("/api/v1/documents", json=with_signer)
        assert response.status_code == 201, response.get_json()
        assert (
            verify(anonymous_client, response.get_json()["registration_number"])["status"]
            == "awaiting_signatures"
        )


def test_the_issuing_body_shows_its_full_names_beside_its_code(
    app: Flask, client: FlaskClient, anonymous_client: FlaskClient, example: Any
) -> None:
    receipt = issue(client, example, "truth-names")
    number = receipt["registration_number"]
    before = verify(anonymous_client, number)["document"]["issuing_body"]
    assert before == {"code": "KRG", "name": "KRG", "name_kk": None, "name_ru": None}
    assert "<dd>KRG</dd>" in page(anonymous_client, f"/verify/{number}", "kk")
    kk = "Қарағанды облысының білім басқармасы"
    ru = "Управление образования Карагандинской области"
    with app.extensions["qujat.database"].write() as session:
        organisation(session, "KRG", None, lambda: NOW, name_kk=kk, name_ru=ru)
    after = verify(anonymous_client, number)["document"]["issuing_body"]
    assert after == {"code": "KRG", "name": "KRG", "name_kk": kk, "name_ru": ru}
    assert f"<dd>{kk} (KRG)</dd>" in page(anonymous_client, f"/verify/{number}", "kk")
    assert f"<dd>{ru} (KRG)</dd>" in page(anonymous_client, f"/verify/{number}", "ru")


def test_every_answer_says_when_it_was_computed(
    client: FlaskClient, anonymous_client: FlaskClient, example: Any
) -> None:
    number = issue(client, example, "truth-when")["registration_number"]
    for typed in (number, number[:-1] + ("1" if number[-1] != "1" else "2"), "hello"):
        assert verify(anonymous_client, typed)["answered_at"] == ANSWERED_AT
