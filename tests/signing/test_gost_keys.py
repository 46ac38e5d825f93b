"""GOST keys: NCA's own, read from its PKCS#12 files, and the GOST test PKI's; CMS signed with
them as Kalkan signs (checked with the curve arithmetic of signing.gost, not with our verifier)."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from asn1crypto import cms, core, crl
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization

from signing import gost
from signing.client import Credential, create_cms, sign_detached
from signing.gostkey import GostPrivateKey, public_point_of
from signing.gostpki import (
    INTERMEDIATE_CRL_FILE,
    GostTestPKI,
    init_gost_test_pki,
)
from signing.pkcs12 import read_pkcs12
from tests.signing.conftest import AKHMETOVA, TESTOV

NCA = Path(__file__).parent / "data" / "nca"
NCA_GOST = sorted(NCA.glob("p12_GOST512_*.p12"))
NCA_PASSWORD = b"Qwerty12"
WHEN = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
OPENSSL = shutil.which("openssl")


def _verifies(signed: bytes, signature: bytes, certificate_der: bytes) -> bool:
    curve, point = public_point_of(certificate_der)
    r, s = gost.decode_signature(curve, signature)
    return gost.verify_digest(curve, point, gost.streebog512(signed), r, s)


@pytest.fixture(scope="module")
def gost_pki(tmp_path_factory: pytest.TempPathFactory) -> GostTestPKI:
    return init_gost_test_pki(tmp_path_factory.mktemp("gost-pki"), [TESTOV, AKHMETOVA], now=WHEN)


# --- NCA's keys ----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", NCA_GOST, ids=lambda p: p.name[:20])
def test_nca_key_matches_its_certificate(path: Path) -> None:
    """d·G = Q: the key read from NCA's file is the one its certificate certifies."""
    contents = read_pkcs12(path.read_bytes(), NCA_PASSWORD)
    key = GostPrivateKey.from_private_key_info(contents.private_key_info)
    curve, point = public_point_of(contents.certificate)
    assert key.curve.oid == curve.oid == "1.2.398.3.10.1.1.2.2.1"
    assert key.public_point() == point
    # and we write it back exactly as NCA does
    assert key.private_key_info() == contents.private_key_info
    tbs = asn1_x509.Certificate.load(contents.certificate)["tbs_certificate"]
    assert key.public_key_info() == tbs["subject_public_key_info"].dump()


def test_key_is_never_printed() -> None:
    key = GostPrivateKey.generate()
    assert str(key.d) not in repr(key)
    assert f"{key.d:x}" not in repr(key)


@pytest.mark.parametrize(
    ("der", "message"),
    [
        (b"\x30\x00", "not a GOST private key"),
        (b"nonsense", "not a GOST private key"),
    ],
)
def test_bad_private_keys(der: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        GostPrivateKey.from_private_key_info(der)


def test_cms_with_nca_key_is_kalkans_shape() -> None:
    """NCA's own key, read from NCA's own file, signs a detached CAdES-BES like Kalkan's."""
    p12 = NCA_GOST[0].read_bytes()
    content = b"%PDF-1.7 protocol"
    der = sign_detached(content, p12, NCA_PASSWORD, signing_time=WHEN)
    signed_data = cms.ContentInfo.load(der)["content"]
    signer = signed_data["signer_infos"][0]
    assert signed_data["digest_algorithms"][0].dump() == bytes.fromhex(
        "300c06082a830e030a0103030500"  # 1.2.398.3.10.1.3.3, NULL: as Kalkan writes it
    )
    assert signer["digest_algorithm"]["algorithm"].dotted == gost.KZ_GOST2015_512_DIGEST
    assert signer["signature_algorithm"].dump() == bytes.fromhex(
        "300e060a2a830e030a01010203020500"  # 1.2.398.3.10.1.1.2.3.2, NULL
    )
    attributes = {a["type"].native: a["values"][0] for a in signer["signed_attrs"]}
    assert set(attributes) == {
        "content_type",
        "signing_time",
        "message_digest",
        "signing_certificate_v2",
    }
    assert attributes["message_digest"].native == gost.streebog512(content)
    certificate = signed_data["certificates"][0].chosen.dump()
    ess = attributes["signing_certificate_v2"]["certs"][0]
    assert ess["cert_hash"].native == hashlib.sha256(certificate).digest()
    assert signed_data["encap_content_info"]["content"].native is None
    signed = _set_of(signer)
    assert _verifies(signed, signer["signature"].native, certificate)
    # one byte of the signature flipped: no longer a signature
    flipped = bytearray(signer["signature"].native)
    flipped[5] ^= 1
    assert not _verifies(signed, bytes(flipped), certificate)


def _set_of(signer: cms.SignerInfo) -> bytes:
    """The signed attributes as signed: re-tagged as SET OF (RFC 5652, 5.4)."""
    encoded: bytes = signer["signed_attrs"].dump()
    return b"\x31" + encoded[1:]


def test_nca_file_survives_our_writer() -> None:
    credential = Credential.from_pkcs12(NCA_GOST[1].read_bytes(), NCA_PASSWORD)
    assert isinstance(credential.private_key, GostPrivateKey)
    again = Credential.from_pkcs12(credential.to_pkcs12(b"123456"), b"123456")
    assert isinstance(again.private_key, GostPrivateKey)
    assert again.private_key.d == credential.private_key.d
    assert again.certificate == credential.certificate


# --- the GOST test PKI ---------------------------------------------------------------------------


def test_folder_holds_nca_shaped_files(gost_pki: GostTestPKI) -> None:
    names = {p.name for p in gost_pki.directory.iterdir()}
    assert names == {
        "root_gost.pem",
        "intermediate_gost.pem",
        "root_gost.crl",
        "intermediate_gost.crl",
        "people_gost.json",
        f"{TESTOV.iin}_gost_sign.p12",
        f"{TESTOV.iin}_gost_auth.p12",
        f"{AKHMETOVA.iin}_gost_sign.p12",
        f"{AKHMETOVA.iin}_gost_auth.p12",
    }
    index = json.loads((gost_pki.directory / "people_gost.json").read_text("utf-8"))
    assert index["algorithm"] == "gost2015-512"
    assert [p["iin"] for p in index["people"]] == [TESTOV.iin, AKHMETOVA.iin]


def test_chain_is_signed_in_gost(gost_pki: GostTestPKI) -> None:
    root = gost_pki.root.certificate
    intermediate = gost_pki.intermediate.certificate
    person = gost_pki.credential(TESTOV.iin).certificate.public_bytes(serialization.Encoding.DER)
    for child, parent in (
        (root.dump(), root.dump()),
        (intermediate.dump(), root.dump()),
        (person, intermediate.dump()),
    ):
        certificate = asn1_x509.Certificate.load(child)
        assert certificate["signature_algorithm"]["algorithm"].dotted == "1.2.398.3.10.1.1.2.3.2"
        tbs = certificate["tbs_certificate"].dump()
        assert _verifies(tbs, certificate["signature_value"].native, parent)
    assert intermediate.ca
    assert root.ca
    assert root.subject == root.issuer
    assert intermediate.subject.native["common_name"] == "ТЕСТ ҰКО (GOST)"


def test_person_certificates_are_ncas_profile(gost_pki: GostTestPKI) -> None:
    sign = asn1_x509.Certificate.load(
        gost_pki.credential(AKHMETOVA.iin).certificate.public_bytes(serialization.Encoding.DER)
    )
    auth = asn1_x509.Certificate.load(
        gost_pki.credential(AKHMETOVA.iin, "auth").certificate.public_bytes(
            serialization.Encoding.DER
        )
    )
    subject = sign.subject.native
    assert subject["serial_number"] == f"IIN{AKHMETOVA.iin}"
    assert subject["organizational_unit_name"] == f"BIN{AKHMETOVA.bin}"
    assert sign.key_usage_value.native == {"digital_signature", "non_repudiation", "key_agreement"}
    assert sign.extended_key_usage_value.native == ["email_protection", "1.2.398.3.3.4.1.2"]
    assert auth.key_usage_value.native == {"digital_signature", "key_encipherment"}
    assert auth.extended_key_usage_value.native == ["client_auth", "1.2.398.3.3.4.1.2"]
    policies = sign.certificate_policies_value.native
    assert policies[0]["policy_identifier"] == "1.2.398.3.3.2"
    individual = asn1_x509.Certificate.load(
        gost_pki.credential(TESTOV.iin).certificate.public_bytes(serialization.Encoding.DER)
    )
    assert individual.extended_key_usage_value.native == ["email_protection", "1.2.398.3.3.4.1.1"]
    assert "organizational_unit_name" not in individual.subject.native
    assert len(individual.serial_number.to_bytes(20, "big")) == 20


def test_p12_files_are_ncas_format(gost_pki: GostTestPKI) -> None:
    path = gost_pki.people[TESTOV.iin].sign_p12
    credential = Credential.from_pkcs12(path.read_bytes(), b"123456")
    assert isinstance(credential.private_key, GostPrivateKey)
    assert credential.certificate == gost_pki.credential(TESTOV.iin).certificate
    if OPENSSL is not None:
        info = subprocess.run(
            [
                OPENSSL,
                "pkcs12",
                "-info",
                "-legacy",
                "-nokeys",
                "-in",
                str(path),
                "-passin",
                "pass:123456",
            ],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        assert "Shrouded Keybag: pbeWithSHA1And3-KeyTripleDES-CBC, Iteration 1024" in info.stderr
        assert "PKCS7 Encrypted data: pbeWithSHA1And40BitRC2-CBC" in info.stderr
        assert f"serialNumber=IIN{TESTOV.iin}" in info.stdout.replace(" = ", "=")


def test_revoked_certificate_is_in_the_gost_crl(gost_pki: GostTestPKI) -> None:
    revoked = gost_pki.issue_revoked(TESTOV)
    data = (gost_pki.directory / INTERMEDIATE_CRL_FILE).read_bytes()
    certificate_list = crl.CertificateList.load(data)
    serials = [
        r["user_certificate"].native
        for r in certificate_list["tbs_cert_list"]["revoked_certificates"]
    ]
    assert revoked.certificate.serial_number in serials
    tbs = certificate_list["tbs_cert_list"].dump()
    intermediate = gost_pki.intermediate.certificate.dump()
    assert _verifies(tbs, certificate_list["signature"].native, intermediate)
    assert certificate_list["tbs_cert_list"]["next_update"].native > WHEN


def test_gost_cms_from_the_test_pki(gost_pki: GostTestPKI) -> None:
    credential = gost_pki.credential(TESTOV.iin)
    der = create_cms(b"abc", credential, signing_time=WHEN, include_chain=True)
    signed_data = cms.ContentInfo.load(der)["content"]
    assert len(signed_data["certificates"]) == 2
    signer = signed_data["signer_infos"][0]
    serial = signer["sid"].chosen["serial_number"].native
    (certificate,) = [
        c.chosen.dump() for c in signed_data["certificates"] if c.chosen.serial_number == serial
    ]
    assert _verifies(_set_of(signer), signer["signature"].native, certificate)
    assert isinstance(signer["signature"], core.OctetString)
    assert len(signer["signature"].native) == 128


def test_nca_key_signature_is_intact_for_our_verifier(gost_pki: GostTestPKI) -> None:
    """NCA's own key through our signing path and our verifier: intact; only untrusted here
    (this folder does not hold NCA's test CA)."""
    from signing import Status, TrustAnchors, verify_detached_cms

    der = sign_detached(b"abc", NCA_GOST[1].read_bytes(), NCA_PASSWORD, signing_time=WHEN)
    report = verify_detached_cms(
        der, b"abc", trust=TrustAnchors.from_folder(gost_pki.directory), now=WHEN
    )
    assert report.intact
    assert report.algorithm == "gost2015-512"
    assert report.status == Status.INVALID
    assert [f.code.value for f in report.failures] == ["untrusted"]
    tampered = verify_detached_cms(
        der, b"abd", trust=TrustAnchors.from_folder(gost_pki.directory), now=WHEN
    )
    assert not tampered.intact
