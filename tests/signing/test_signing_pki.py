"""The test PKI: folder layout, NCA-like subjects and key purposes, CRLs, the PKCS#12 files."""

from __future__ import annotations

import json

from conftest import AKHMETOVA, PEOPLE, TESTOV, Specials
from cryptography import x509
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from signing.pki import TestPKI
from signing.trust import TrustAnchors


def test_folder_layout(pki: TestPKI) -> None:
    names = {p.name for p in pki.directory.iterdir()}
    expected = {"root.pem", "intermediate.pem", "root.crl", "intermediate.crl", "people.json"}
    for person in PEOPLE:
        expected |= {f"{person.iin}_sign.p12", f"{person.iin}_auth.p12"}
    assert names == expected


def test_people_index(pki: TestPKI) -> None:
    index = json.loads((pki.directory / "people.json").read_text("utf-8"))
    assert index["password"] == "123456"
    assert [p["iin"] for p in index["people"]] == [p.iin for p in PEOPLE]
    entry = index["people"][1]
    assert entry["common_name"] == "АХМЕТОВА АЙГҮЛ"
    assert entry["bin"] == AKHMETOVA.bin
    assert (pki.directory / entry["sign_p12"]).exists()
    sign_serial = pki.credential(AKHMETOVA.iin).certificate.serial_number
    assert int(entry["sign_serial"], 16) == sign_serial


def test_pkcs12_files_open_with_the_nca_test_password(pki: TestPKI) -> None:
    for role in ("sign", "auth"):
        path = pki.directory / f"{TESTOV.iin}_{role}.p12"
        loaded = pkcs12.load_pkcs12(path.read_bytes(), b"123456")
        assert loaded.key is not None
        assert loaded.cert is not None
        expected = pki.credential(TESTOV.iin, role).certificate  # type: ignore[arg-type]
        assert loaded.cert.certificate == expected
        assert [c.certificate for c in loaded.additional_certs] == [pki.intermediate.certificate]


def test_nca_like_subject(pki: TestPKI) -> None:
    subject = pki.credential(AKHMETOVA.iin).certificate.subject

    def value(oid: x509.ObjectIdentifier) -> str:
        return str(subject.get_attributes_for_oid(oid)[0].value)

    assert value(NameOID.COMMON_NAME) == "АХМЕТОВА АЙГҮЛ"
    assert value(NameOID.SURNAME) == "АХМЕТОВА"
    assert value(NameOID.GIVEN_NAME) == "СЕРІКҚЫЗЫ"
    assert value(NameOID.SERIAL_NUMBER) == "IIN990106300596"
    assert value(NameOID.COUNTRY_NAME) == "KZ"
    assert value(NameOID.ORGANIZATION_NAME) == "КММ «№1 мектеп-гимназия»"
    assert value(NameOID.ORGANIZATIONAL_UNIT_NAME) == "BIN040640000008"
    individual = pki.credential(TESTOV.iin).certificate.subject
    assert not individual.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)


def test_signing_and_authentication_keys_differ_in_purpose(pki: TestPKI) -> None:
    sign = pki.credential(TESTOV.iin, "sign").certificate
    auth = pki.credential(TESTOV.iin, "auth").certificate
    sign_usage = sign.extensions.get_extension_for_class(x509.KeyUsage).value
    auth_usage = auth.extensions.get_extension_for_class(x509.KeyUsage).value
    assert (sign_usage.digital_signature, sign_usage.content_commitment) == (True, True)
    assert (auth_usage.digital_signature, auth_usage.key_encipherment) == (True, True)
    assert not auth_usage.content_commitment
    assert list(sign.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == [
        ExtendedKeyUsageOID.EMAIL_PROTECTION
    ]
    assert list(auth.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == [
        ExtendedKeyUsageOID.CLIENT_AUTH
    ]
    assert sign.public_key() != auth.public_key()


def test_chain_and_crls(pki: TestPKI, specials: Specials, trust: TrustAnchors) -> None:
    root, intermediate = pki.root.certificate, pki.intermediate.certificate
    intermediate.verify_directly_issued_by(root)
    pki.credential(TESTOV.iin).certificate.verify_directly_issued_by(intermediate)
    crl = x509.load_der_x509_crl((pki.directory / "intermediate.crl").read_bytes())
    assert crl.is_signature_valid(pki.intermediate.private_key.public_key())
    revoked = specials.revoked.certificate.serial_number
    assert crl.get_revoked_certificate_by_serial_number(revoked) is not None
    assert len(trust.roots) == 1
    assert len(trust.intermediates) == 1
    assert len(trust.crls) == 2


def test_special_certificates(pki: TestPKI, specials: Specials) -> None:
    assert specials.expired.certificate.not_valid_after_utc < pki.now
    assert specials.not_yet_valid.certificate.not_valid_before_utc > pki.now
    assert specials.weak_key.certificate.public_key().key_size == 1024  # type: ignore[union-attr]
    self_signed = specials.self_signed.certificate
    assert self_signed.issuer == self_signed.subject
    untrusted = specials.untrusted_root.certificate
    assert untrusted.issuer == pki.root.certificate.subject
    assert specials.untrusted_root.chain[0] != pki.root.certificate
