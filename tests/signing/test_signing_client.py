"""sign_detached makes what NCALayer makes: CAdES-BES SignedData with the four signed attributes."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest
from asn1crypto import cms
from conftest import TESTOV
from cryptography.hazmat.primitives import serialization

from signing.client import Credential, sign_detached
from signing.pki import TestPKI


def test_detached_cades_bes_structure(pki: TestPKI) -> None:
    p12 = pki.people[TESTOV.iin].sign_p12.read_bytes()
    when = datetime(2026, 11, 23, 7, 30, tzinfo=UTC)

    der = sign_detached(b"protocol", p12, b"123456", signing_time=when)

    info = cms.ContentInfo.load(der)
    assert info["content_type"].native == "signed_data"
    signed_data = info["content"]
    assert signed_data["encap_content_info"]["content_type"].native == "data"
    assert signed_data["encap_content_info"]["content"].native is None
    assert len(signed_data["certificates"]) == 1
    signer_info = signed_data["signer_infos"][0]
    assert signer_info["sid"].name == "issuer_and_serial_number"
    assert signer_info["digest_algorithm"]["algorithm"].native == "sha256"
    assert signer_info["signature_algorithm"]["algorithm"].native == "sha256_rsa"
    attributes = {a["type"].native: a["values"][0] for a in signer_info["signed_attrs"]}
    assert set(attributes) == {
        "content_type",
        "signing_time",
        "message_digest",
        "signing_certificate_v2",
    }
    assert attributes["message_digest"].native == hashlib.sha256(b"protocol").digest()
    assert attributes["signing_time"].native == when
    ess = attributes["signing_certificate_v2"]["certs"][0]
    cert_der = pki.credential(TESTOV.iin).certificate.public_bytes(serialization.Encoding.DER)
    assert ess["cert_hash"].native == hashlib.sha256(cert_der).digest()


def test_signed_attributes_are_in_der_order(pki: TestPKI) -> None:
    der = sign_detached(b"x", pki.people[TESTOV.iin].sign_p12.read_bytes(), b"123456")
    signer_info = cms.ContentInfo.load(der)["content"]["signer_infos"][0]
    encodings = [a.dump() for a in signer_info["signed_attrs"]]
    assert encodings == sorted(encodings)


def test_attached_content(pki: TestPKI) -> None:
    der = sign_detached(
        b"abc", pki.people[TESTOV.iin].sign_p12.read_bytes(), b"123456", attach=True
    )
    content = cms.ContentInfo.load(der)["content"]["encap_content_info"]["content"]
    assert content.native == b"abc"


def test_wrong_password(pki: TestPKI) -> None:
    with pytest.raises(ValueError, match=r"(?i)password|decrypt|mac"):
        sign_detached(b"x", pki.people[TESTOV.iin].sign_p12.read_bytes(), b"654321")


def test_naive_signing_time_is_refused(pki: TestPKI) -> None:
    credential: Credential = pki.credential(TESTOV.iin)
    p12 = credential.to_pkcs12()
    with pytest.raises(ValueError, match="timezone-aware"):
        sign_detached(b"x", p12, b"123456", signing_time=datetime(2026, 1, 1))
