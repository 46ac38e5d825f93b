"""Failure messages in three languages, IIN/BIN check digits, names read from certificates."""

from __future__ import annotations

import re

import pytest
from asn1crypto import x509 as asn1_x509
from conftest import AKHMETOVA
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

from signing import FailureCode, is_valid_iin
from signing.errors import LANGUAGES, Failure
from signing.identity import SignerIdentity, distinguished_name
from signing.pki import Person, TestPKI

CYRILLIC = re.compile(r"[А-Яа-яЁё]")
KAZAKH_LETTERS = re.compile(r"[ӘәҒғҚқҢңӨөҰұҮүҺһІі]")


@pytest.mark.parametrize("code", list(FailureCode))
def test_every_code_has_a_sentence_in_each_language(code: FailureCode) -> None:
    texts = {lang: code.message(lang) for lang in LANGUAGES}
    assert len(set(texts.values())) == len(LANGUAGES)
    for text in texts.values():
        assert text.endswith((".", "…")), text
        assert len(text) > 20
    assert CYRILLIC.search(texts["kk"])
    assert CYRILLIC.search(texts["ru"])
    assert not CYRILLIC.search(texts["en"])
    assert not KAZAKH_LETTERS.search(texts["ru"])


def test_kazakh_texts_are_kazakh() -> None:
    kazakh = sum(bool(KAZAKH_LETTERS.search(c.message("kk"))) for c in FailureCode)
    assert kazakh >= len(FailureCode) * 3 // 4


def test_failure_message_is_the_codes_message() -> None:
    failure = Failure(FailureCode.REVOKED, "CRL says so")
    assert failure.message("ru") == "Сертификат подписанта отозван."
    assert failure.message() == FailureCode.REVOKED.message("en")


def test_only_unknowable_outcomes_are_indeterminate() -> None:
    assert {c for c in FailureCode if c.indeterminate} == {
        FailureCode.REVOCATION_UNKNOWN,
        FailureCode.UNSUPPORTED_ALGORITHM,
        FailureCode.NO_CONTENT,
    }


@pytest.mark.parametrize("iin", ["931002451325", "990106300596", "850314300003", "040640000008"])
def test_valid_iins(iin: str) -> None:
    assert is_valid_iin(iin)


@pytest.mark.parametrize(
    "value", ["931002451326", "93100245132", "9310024513250", "93100245132a", "", " 931002451325"]
)
def test_invalid_iins(value: str) -> None:
    assert not is_valid_iin(value)


def test_person_requires_valid_identifiers() -> None:
    with pytest.raises(ValueError, match="IIN"):
        Person("931002451326", "Тестов", "Тест")
    with pytest.raises(ValueError, match="BIN"):
        Person("931002451325", "Тестов", "Тест", organization="ТОО", bin="040640000009")


def test_identity_read_from_an_nca_like_certificate(pki: TestPKI) -> None:
    certificate = pki.credential(AKHMETOVA.iin).certificate
    cert = asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))

    identity = SignerIdentity.from_certificate(cert)

    assert identity.common_name == "АХМЕТОВА АЙГҮЛ"
    assert (identity.iin, identity.bin) == (AKHMETOVA.iin, "040640000008")
    assert identity.not_before == certificate.not_valid_before_utc
    assert identity.not_after == certificate.not_valid_after_utc
    labels = {
        NameOID.GIVEN_NAME: "GN",
        NameOID.SERIAL_NUMBER: "SERIALNUMBER",
        NameOID.SURNAME: "SN",
    }
    assert distinguished_name(cert.subject) == certificate.subject.rfc4514_string(labels)
    assert "SERIALNUMBER=IIN990106300596" in distinguished_name(cert.subject)
    assert "certificate" not in repr(identity).split("certificate_sha256")[1]
