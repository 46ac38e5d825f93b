"""The life of a commission session: protocol → every member present and the secretary sign →
signed → extracts and certificates cite it → the combined .p7s passes the real openssl.

Every test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import hashlib
import subprocess
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from service.core.config import Settings
from service.core.db import Database
from service.registry.models import Document
from service.signatures.intake import Ledger
from service.signatures.models import SignatureRecord
from tests.signatures.support import (
    CHAIR,
    HEAD,
    PRESENT,
    SECRETARY,
    SigningPKI,
    codes,
    content_of,
    create_commission,
    create_protocol,
    openssl_verify,
    sign,
    signing_pki,
)

__all__ = ["signing_pki"]  # the session fixture, imported for pytest

Example = Callable[..., dict[str, Any]]


@pytest.fixture
def settings(tmp_path: Path, database_url: str, signing_pki: SigningPKI) -> Settings:
    return Settings(data_dir=tmp_path, database_url=database_url,
                    trust_dir=signing_pki.directory)


def count(app: Flask, model: Any) -> int:
    database: Database = app.extensions["qujat.database"]
    with database.read() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def citing(example: Example, form: str, protocol: str, decision_id: str) -> dict[str, Any]:
    body = example(form, "kk")
    body["decision"]["decision_id"] = decision_id
    body["protocol"] = protocol
    return body


def pdf_text(content: bytes, tmp_path: Path) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(content)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True,
                          capture_output=True, text=True, timeout=60).stdout


def test_the_life_of_a_session(
    app: Flask, client: FlaskClient, example: Example, signing_pki: SigningPKI, tmp_path: Path
) -> None:
    commission_id = create_commission(client)
    protocol = create_protocol(client, commission_id)
    protocol_id, number = protocol["id"], protocol["registration_number"]
    assert number.startswith("02-KRG-26-")

    state = client.get(f"/api/v1/documents/{protocol_id}/signing").get_json()
    content = content_of(client, protocol_id)
    assert state["status"] == "awaiting_signatures"
    assert hashlib.sha256(content).hexdigest() == state["sha256"] == protocol["sha256"]
    assert state["quorum"] == {"members_total": 7, "members_present": 6, "needed": 5,
                               "holds": True}
    roles = [m["role"] for m in state["missing"]]
    assert roles == ["chair", *["member"] * 5, "secretary"]
    assert state["missing"][0]["name"] == "Жұмабекова Гүлнар Серікқызы"
    assert "iin" not in str(state)

    # an extract citing the unsigned protocol is refused, naming who still has to sign
    documents = count(app, Document)
    refused = client.post("/api/v1/documents", json=citing(example, "extract", number, "x-1"))
    assert refused.status_code == 409
    assert codes(refused) == ["protocol_unsigned"]
    assert "Оспанова Әйгерім Қайратқызы" in refused.get_json()["errors"][0]["reason"]
    assert len(refused.get_json()["missing"]) == 7
    assert count(app, Document) == documents

    signers = [*PRESENT, SECRETARY]
    for i, iin in enumerate(signers):
        response = sign(client, protocol_id, signing_pki.key(iin))
        assert response.status_code == 201, response.get_json()
        body = response.get_json()
        assert len(body["signed"]) == i + 1
        expected = "signed" if i == len(signers) - 1 else "awaiting_signatures"
        assert body["status"] == expected
    assert body["missing"] == []
    assert body["signed_at"] is not None

    history = client.get(f"/api/v1/documents/{protocol_id}").get_json()["history"]
    events = [e["event"] for e in history]
    assert events.count("signed_by") == 7
    assert events[-1] == "protocol_signed"
    assert history[-1]["details"] == {"members_present": 6, "members_total": 7, "signers": 7}
    assert "iin" not in str(history)

    # now the documents that follow can be issued, each with its own single signer
    extract = client.post("/api/v1/documents",
                          json=citing(example, "extract", number.lower(), "x-1"))
    assert extract.status_code == 201, extract.get_json()
    certificate = client.post("/api/v1/documents",
                              json=citing(example, "certificate", protocol_id, "c-1"))
    assert certificate.status_code == 201, certificate.get_json()
    for issued, signer, role in ((extract, SECRETARY, "secretary"),
                                 (certificate, HEAD, "head_of_organisation")):
        document_id = issued.get_json()["id"]
        before = client.get(f"/api/v1/documents/{document_id}/signing").get_json()
        assert [m["role"] for m in before["missing"]] == [role]
        signed = sign(client, document_id, signing_pki.key(signer))
        assert signed.status_code == 201, signed.get_json()
        assert signed.get_json()["status"] == "signed"
        events = [e["event"] for e in
                  client.get(f"/api/v1/documents/{document_id}").get_json()["history"]]
        assert events[-2:] == ["signed_by", "document_signed"]

    # the combined signature: one SignerInfo per signer, accepted by openssl with the root only
    pdf = tmp_path / "protocol.pdf"
    pdf.write_bytes(client.get(f"/api/v1/documents/{protocol_id}.pdf").data)
    p7s_response = client.get(f"/api/v1/documents/{protocol_id}.p7s")
    assert p7s_response.status_code == 200
    assert p7s_response.mimetype == "application/pkcs7-signature"
    p7s = tmp_path / "protocol.p7s"
    p7s.write_bytes(p7s_response.data)
    result = openssl_verify(p7s, pdf, signing_pki.pki.root_path)
    assert result.returncode == 0, result.stderr
    assert "Verification successful" in result.stderr
    tampered = tmp_path / "tampered.pdf"
    tampered.write_bytes(pdf.read_bytes()[:-10] + b"0123456789")
    assert openssl_verify(p7s, tampered, signing_pki.pki.root_path).returncode != 0

    from asn1crypto import cms

    signed_data = cms.ContentInfo.load(p7s_response.data)["content"]
    assert len(signed_data["signer_infos"]) == 7

    report = client.get(f"/api/v1/documents/{protocol_id}/signature-report").get_json()
    assert report["status"] == "signed"
    assert [s["result"] for s in report["signers"]] == ["valid"] * 7
    assert report["signers"][0]["role"] == "chair"
    assert report["signers"][0]["certificate_subject"] == "ЖҰМАБЕКОВА ГҮЛНАР"
    chair_serial = f"{signing_pki.key(CHAIR).certificate.serial_number:x}"
    assert report["signers"][0]["certificate_serial"].lstrip("0") == chair_serial.lstrip("0")

    for language, title in (("kk", "Электрондық цифрлық қолтаңбаларды тексеру хаттамасы"),
                            ("ru", "Протокол проверки электронных цифровых подписей")):
        page = client.get(f"/api/v1/documents/{protocol_id}/signature-report.pdf"
                          f"?lang={language}")
        assert page.status_code == 200
        text = " ".join(pdf_text(page.data, tmp_path).split())
        assert title in text
        assert number in text
        assert "ЖҰМАБЕКОВА ГҮЛНАР" in text
        assert ("жарамды" if language == "kk" else "действительна") in text


    # what public verification reads (service.verification.verifier's SignatureLedger)
    ledger = Ledger(app.extensions["qujat.signatures"])
    on_record = ledger.on_record(uuid.UUID(protocol_id))
    assert on_record is not None
    assert on_record.verified
    assert [c.role for c in on_record.checks][:2] == ["chair", "member"]
    reverified = ledger.reverify(uuid.UUID(protocol_id), pdf.read_bytes())
    assert reverified is not None
    assert reverified.verified
    forged = ledger.reverify(uuid.UUID(protocol_id), tampered.read_bytes())
    assert forged is not None
    assert {c.status for c in forged.checks} == {"invalid"}
    assert "digest_mismatch" in forged.checks[0].reasons


def test_p7s_and_unsigned_protocol(client: FlaskClient, signing_pki: SigningPKI) -> None:
    protocol = create_protocol(client, create_commission(client))
    response = client.get(f"/api/v1/documents/{protocol['id']}.p7s")
    assert response.status_code == 409
    assert codes(response) == ["not_signed"]
    report = client.get(f"/api/v1/documents/{protocol['id']}/signature-report").get_json()
    assert report["status"] == "awaiting_signatures"
    assert {s["result"] for s in report["signers"]} == {"missing"}


def test_the_signature_report_names_the_form_in_its_language(
    client: FlaskClient, tmp_path: Path
) -> None:
    protocol = create_protocol(client, create_commission(client))
    for language, name, other in (
        ("ru", "Протокол заседания аттестационной комиссии", "хаттамасы"),
        ("kk", "Аттестаттау комиссиясы отырысының хаттамасы", "Протокол"),
    ):
        page = client.get(f"/api/v1/documents/{protocol['id']}/signature-report.pdf"
                          f"?lang={language}")
        assert page.status_code == 200
        text = " ".join(pdf_text(page.data, tmp_path).split())
        assert f"({name})" in text, text
        assert "(protocol)" not in text
        assert other not in text


def test_a_second_signature_by_the_same_member_is_409(
    app: Flask, client: FlaskClient, signing_pki: SigningPKI
) -> None:
    protocol = create_protocol(client, create_commission(client))
    assert sign(client, protocol["id"], signing_pki.key(CHAIR)).status_code == 201
    again = sign(client, protocol["id"], signing_pki.key(CHAIR))
    assert again.status_code == 409
    assert codes(again) == ["already_signed"]
    claimed = sign(client, protocol["id"], signing_pki.key(CHAIR), iin=CHAIR)
    assert claimed.status_code == 409
    assert count(app, SignatureRecord) == 1


def test_a_protocol_without_a_stored_commission_never_becomes_signed(
    client: FlaskClient, example: Example, signing_pki: SigningPKI
) -> None:
    body = example("protocol", "kk")
    issued = client.post("/api/v1/documents", json=body).get_json()
    state = client.get(f"/api/v1/documents/{issued['id']}/signing").get_json()
    assert state["quorum"] is None
    for member in state["missing"]:
        assert member["role"] in ("chair", "member", "secretary")
    iins = [CHAIR, *[m["iin"] for m in body["decision"]["commission"]["members"]],
            body["decision"]["commission"]["secretary"]["iin"]]
    for iin in iins:
        assert sign(client, issued["id"], signing_pki.key(iin)).status_code == 201
    state = client.get(f"/api/v1/documents/{issued['id']}/signing").get_json()
    assert state["status"] == "quorum_unknown"
    refused = client.post("/api/v1/documents",
                          json=citing(example, "extract", issued["id"], "x-2"))
    assert refused.status_code == 409
    assert codes(refused) == ["quorum_unknown"]


def test_citations_that_cannot_stand(
    client: FlaskClient, example: Example, signing_pki: SigningPKI
) -> None:
    unknown = client.post("/api/v1/documents",
                          json=citing(example, "extract", "02-KRG-26-000099-00", "x-3"))
    assert unknown.status_code == 422
    assert codes(unknown) == ["protocol_unknown"]
    body = example("certificate", "kk")
    body["decision"]["decision_id"] = "c-0"
    certificate = client.post("/api/v1/documents", json=body).get_json()
    not_a_protocol = client.post("/api/v1/documents",
                                 json=citing(example, "extract", certificate["id"], "x-4"))
    assert codes(not_a_protocol) == ["protocol_wrong_form"]

    protocol = create_protocol(client, create_commission(client))
    for iin in [*PRESENT, SECRETARY]:
        assert sign(client, protocol["id"], signing_pki.key(iin)).status_code == 201
    wrong_form = client.post("/api/v1/documents",
                             json=citing(example, "heads_extract", protocol["id"], "x-5"))
    assert codes(wrong_form) == ["protocol_wrong_form"]
    stranger = citing(example, "extract", protocol["id"], "x-6")
    stranger["decision"]["person"]["iin"] = "931002451325"
    refused = client.post("/api/v1/documents", json=stranger)
    assert refused.status_code == 422
    assert refused.get_json()["errors"][0]["pointer"] == "/decision/person"
    assert codes(refused) == ["protocol_person_missing"]


def test_another_body_cannot_see_or_sign(
    client: FlaskClient, client_for: Callable[[str], FlaskClient], signing_pki: SigningPKI
) -> None:
    commission_id = create_commission(client)
    protocol = create_protocol(client, commission_id)
    other = client_for("AST")
    assert other.get(f"/api/v1/commissions/{commission_id}").status_code == 404
    assert other.get(f"/api/v1/documents/{protocol['id']}/signing").status_code == 404
    content = content_of(client, protocol["id"])
    assert sign(other, protocol["id"], signing_pki.key(CHAIR), content).status_code == 404
    assert other.post(f"/api/v1/commissions/{commission_id}/protocols",
                      json={}).status_code == 404


def test_storage_keeps_and_checks_the_signatures(
    client: FlaskClient, signing_pki: SigningPKI, cli_env: dict[str, str], settings: Settings
) -> None:
    from click.testing import CliRunner

    from service.cli import main

    protocol = create_protocol(client, create_commission(client))
    assert sign(client, protocol["id"], signing_pki.key(CHAIR)).status_code == 201
    objects = sorted(p for p in settings.storage_dir.rglob("*") if p.is_file())
    runner = CliRunner()
    gc = runner.invoke(main, ["storage", "gc", "--grace-seconds", "0"], env=cli_env)
    assert gc.exit_code == 0, gc.output
    assert "removed 0 object(s)" in gc.output
    assert sorted(p for p in settings.storage_dir.rglob("*") if p.is_file()) == objects
    check = runner.invoke(main, ["storage", "check"], env=cli_env)
    assert check.exit_code == 0, check.output
    assert "2 object(s) checked, 0 problem(s)" in check.output  # the PDF and the signature
