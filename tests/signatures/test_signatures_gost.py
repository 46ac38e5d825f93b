"""A protocol signed by a mix of GOST 34.10-2015 (512-bit, as NCALayer signs with NCA's keys)
and RSA members: intake, the upload check, the combined .p7s and the signature report treat
both alike. `openssl cms -verify` checks the RSA signers (it knows no Kazakh GOST OIDs); the
signing library checks them all.

Every test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import shutil
import uuid
from datetime import timedelta
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import cms
from flask import Flask
from flask.testing import FlaskClient

from service.core.config import Settings
from service.signatures.intake import Ledger
from signing import Status, TrustAnchors, verify_cms_signers
from signing.client import create_cms
from tests.conftest import NOW
from tests.signatures.support import (
    PRESENT,
    SECRETARY,
    SigningPKI,
    codes,
    content_of,
    create_commission,
    create_protocol,
    openssl_verify,
    post_signature,
    signing_pki,
)
from tests.signing.gost_pki import GostCredential, GostPKI, sign_cms

__all__ = ["signing_pki"]  # the session fixture, imported for pytest

# the chair, one member and the secretary hold GOST keys; the other four RSA keys
GOST_SIGNERS = (PRESENT[0], PRESENT[2], SECRETARY)
SIGNED_AT = NOW - timedelta(minutes=5)


@pytest.fixture(scope="module")
def gost_pki() -> GostPKI:
    return GostPKI.create(NOW)


@pytest.fixture(scope="module")
def gost_keys(gost_pki: GostPKI, signing_pki: SigningPKI) -> dict[str, GostCredential]:
    people = signing_pki.pki.people
    return {iin: gost_pki.credential(iin, people[iin].person.common_name) for iin in GOST_SIGNERS}


@pytest.fixture
def trust_dir(tmp_path: Path, signing_pki: SigningPKI, gost_pki: GostPKI) -> Path:
    """The RSA test PKI's trust folder plus the GOST root, CA and their CRLs."""
    folder = tmp_path / "trust"
    shutil.copytree(signing_pki.directory, folder)
    (folder / "gost-root.cer").write_bytes(gost_pki.root.der)
    (folder / "gost-ca.cer").write_bytes(gost_pki.ca.der)
    root_crl, ca_crl = gost_pki.crls()
    (folder / "gost-root.crl").write_bytes(root_crl)
    (folder / "gost-ca.crl").write_bytes(ca_crl)
    return folder


@pytest.fixture
def settings(tmp_path: Path, database_url: str, trust_dir: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        trust_dir=trust_dir,
        verify_rate_limit="1000 per minute",
    )


def sign_as(
    client: FlaskClient,
    document_id: str,
    iin: str,
    signing_pki: SigningPKI,
    gost_keys: dict[str, GostCredential],
    content: bytes,
) -> Any:
    if iin in gost_keys:
        der = sign_cms(content, gost_keys[iin], SIGNED_AT)
    else:
        der = create_cms(content, signing_pki.key(iin), signing_time=SIGNED_AT)
    return post_signature(client, document_id, der)


def rsa_only(p7s: bytes) -> bytes:
    """The combined SignedData with its RSA SignerInfos alone (what openssl can check)."""
    info = cms.ContentInfo.load(p7s)
    signed_data = info["content"]
    kept = [
        si
        for si in signed_data["signer_infos"]
        if si["digest_algorithm"]["algorithm"].native == "sha256"
    ]
    signed_data["signer_infos"] = cms.SignerInfos(kept)
    signed_data["digest_algorithms"] = cms.DigestAlgorithms(
        [d for d in signed_data["digest_algorithms"] if d["algorithm"].native == "sha256"]
    )
    dumped: bytes = info.dump(force=True)
    return dumped


def test_a_protocol_signed_by_gost_and_rsa_members(
    app: Flask,
    client: FlaskClient,
    anonymous_client: FlaskClient,
    signing_pki: SigningPKI,
    gost_keys: dict[str, GostCredential],
    trust_dir: Path,
    tmp_path: Path,
) -> None:
    protocol = create_protocol(client, create_commission(client))
    protocol_id = protocol["id"]
    content = content_of(client, protocol_id)

    signers = [*PRESENT, SECRETARY]
    for i, iin in enumerate(signers):
        response = sign_as(client, protocol_id, iin, signing_pki, gost_keys, content)
        assert response.status_code == 201, (iin, response.get_json())
        expected = "signed" if i == len(signers) - 1 else "awaiting_signatures"
        assert response.get_json()["status"] == expected

    # the signature report: every signer valid, GOST ones named by their certificates
    report = client.get(f"/api/v1/documents/{protocol_id}/signature-report").get_json()
    assert report["status"] == "signed"
    assert [s["result"] for s in report["signers"]] == ["valid"] * 7
    assert report["signers"][0]["certificate_subject"] == "ЖҰМАБЕКОВА ГҮЛНАР"
    chair_serial = f"{gost_keys[PRESENT[0]].certificate.serial_number:x}"
    assert report["signers"][0]["certificate_serial"].lstrip("0") == chair_serial

    # the combined .p7s: all seven verify with the library, the RSA four with openssl
    pdf = tmp_path / "protocol.pdf"
    pdf.write_bytes(client.get(f"/api/v1/documents/{protocol_id}.pdf").data)
    assert pdf.read_bytes() == content
    p7s = client.get(f"/api/v1/documents/{protocol_id}.p7s").data
    anchors = TrustAnchors.from_folder(trust_dir)
    combined = verify_cms_signers(p7s, content, trust=anchors, now=NOW)
    assert combined.status is Status.VALID, [r.failures for r in combined.signers]
    algorithms = [r.algorithm for r in combined.signers]
    assert algorithms.count("gost2015-512") == 3
    assert algorithms.count("rsa-sha256") == 4
    assert all(r.revocation_checked for r in combined.signers)
    rsa_p7s = tmp_path / "rsa.p7s"
    rsa_p7s.write_bytes(rsa_only(p7s))
    result = openssl_verify(rsa_p7s, pdf, signing_pki.pki.root_path)
    assert result.returncode == 0, result.stderr
    assert "Verification successful" in result.stderr
    changed = bytearray(content)
    changed[len(changed) // 2] ^= 0x01
    forged = verify_cms_signers(p7s, bytes(changed), trust=anchors, now=NOW)
    assert {r.codes for r in forged.signers} == {("digest_mismatch",)}
    tampered = tmp_path / "tampered.pdf"
    tampered.write_bytes(bytes(changed))
    assert openssl_verify(rsa_p7s, tampered, signing_pki.pki.root_path).returncode != 0

    # public verification re-checks the stored signatures against uploaded bytes
    ledger = Ledger(app.extensions["qujat.signatures"])
    reverified = ledger.reverify(uuid.UUID(protocol_id), content)
    assert reverified is not None
    assert reverified.verified
    assert {c.status for c in reverified.checks} == {"valid"}
    forged_check = ledger.reverify(uuid.UUID(protocol_id), bytes(changed))
    assert forged_check is not None
    assert {c.status for c in forged_check.checks} == {"invalid"}

    # the upload check with the combined .p7s names all seven signers as valid
    answer = anonymous_client.post(
        "/api/v1/verify/upload",
        data={
            "pdf": (BytesIO(content), "protocol.pdf"),
            "p7s": (BytesIO(p7s), "protocol.p7s"),
        },
    )
    assert answer.status_code == 200, answer.get_json()
    uploaded = answer.get_json()["uploaded_signature"]
    assert uploaded["status"] == "valid"
    assert [s["status"] for s in uploaded["signers"]] == ["valid"] * 7


def test_gost_refusals_at_intake(
    client: FlaskClient,
    signing_pki: SigningPKI,
    gost_pki: GostPKI,
    gost_keys: dict[str, GostCredential],
) -> None:
    protocol = create_protocol(client, create_commission(client))
    protocol_id = protocol["id"]
    content = content_of(client, protocol_id)
    chair = PRESENT[0]
    name = signing_pki.pki.people[chair].person.common_name
    cases = {
        "other bytes": (
            sign_cms(b"%PDF-1.7 other", gost_keys[chair], SIGNED_AT),
            None,
            "signature_digest_mismatch",
        ),
        "authentication key": (
            sign_cms(content, gost_pki.credential(chair, name, auth=True), SIGNED_AT),
            None,
            "signature_auth_key",
        ),
        "expired": (
            sign_cms(
                content,
                gost_pki.credential(
                    chair,
                    name,
                    not_before=NOW - timedelta(days=400),
                    not_after=NOW - timedelta(days=1),
                ),
                SIGNED_AT,
            ),
            None,
            "signature_expired",
        ),
        "untrusted root": (
            sign_cms(content, GostPKI.create(NOW, "OTHER").credential(chair, name), SIGNED_AT),
            None,
            "signature_untrusted",
        ),
        "another person's IIN": (
            sign_cms(content, gost_keys[chair], SIGNED_AT),
            PRESENT[1],
            "signature_iin_mismatch",
        ),
    }
    for label, (der, iin, code) in cases.items():
        response = post_signature(client, protocol_id, der, iin)
        assert response.status_code == 422, (label, response.get_json())
        assert codes(response) == [code], (label, response.get_json())
    accepted = post_signature(client, protocol_id, sign_cms(content, gost_keys[chair], SIGNED_AT))
    assert accepted.status_code == 201, accepted.get_json()
