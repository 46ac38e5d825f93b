"""Fixtures for the signing library: one test PKI per session, with every odd certificate the
tests need issued before the trust anchors (and so the CRLs) are loaded."""

from __future__ import annotations

import random
from dataclasses import dataclass

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID

from signing.client import Credential
from signing.pki import KeyPool, Person, TestPKI, init_test_pki
from signing.trust import TrustAnchors

TESTOV = Person("931002451325", "Тестов", "Тест", "Тестович")
AKHMETOVA = Person(
    "990106300596",
    "Ахметова",
    "Айгүл",
    "Серікқызы",
    organization="КММ «№1 мектеп-гимназия»",
    bin="040640000008",
)
IVANOV = Person("850314300003", "Иванов", "Иван", "Иванович")
PEOPLE = (TESTOV, AKHMETOVA, IVANOV)


@dataclass(frozen=True)
class Specials:
    """Certificates issued for refusal tests (all for TESTOV unless the name says otherwise)."""

    expired: Credential
    not_yet_valid: Credential
    revoked: Credential
    weak_key: Credential
    self_signed: Credential
    untrusted_root: Credential
    ecdsa_p256: Credential
    ecdsa_p521: Credential
    no_digital_signature: Credential
    sign_and_client_auth: Credential
    server_and_client_auth: Credential


@pytest.fixture(scope="session")
def key_pool(pytestconfig: pytest.Config) -> KeyPool:
    """RSA keys kept in pytest's cache folder, so that later runs skip key generation."""
    cache = getattr(pytestconfig, "cache", None)  # absent with -p no:cacheprovider
    return KeyPool(cache.mkdir("signing-test-keys") if cache is not None else None)


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory, key_pool: KeyPool) -> TestPKI:
    return init_test_pki(tmp_path_factory.mktemp("pki"), PEOPLE, keys=key_pool)


@pytest.fixture(scope="session")
def specials(pki: TestPKI) -> Specials:
    return Specials(
        expired=pki.issue_expired(TESTOV),
        not_yet_valid=pki.issue_not_yet_valid(TESTOV),
        revoked=pki.issue_revoked(TESTOV),
        weak_key=pki.issue_weak_key(TESTOV),
        self_signed=pki.issue_self_signed(TESTOV),
        untrusted_root=pki.issue_from_untrusted_root(TESTOV),
        ecdsa_p256=pki.issue(TESTOV, label="ec", ec_curve=ec.SECP256R1()),
        ecdsa_p521=pki.issue(TESTOV, label="ec", ec_curve=ec.SECP521R1()),
        no_digital_signature=pki.issue(
            TESTOV,
            label="testov-encipher-only",
            key_usage=_key_usage_encipherment_only(),
        ),
        sign_and_client_auth=pki.issue(
            TESTOV,
            extended_key_usage=[
                ExtendedKeyUsageOID.EMAIL_PROTECTION,
                ExtendedKeyUsageOID.CLIENT_AUTH,
            ],
        ),
        server_and_client_auth=pki.issue(
            TESTOV,
            extended_key_usage=[ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH],
        ),
    )


@pytest.fixture(scope="session")
def trust(pki: TestPKI, specials: Specials) -> TrustAnchors:
    """Loaded after `specials`, so that the CRL lists the revoked certificate."""
    assert specials.revoked is not None
    return TrustAnchors.from_folder(pki.directory)


@pytest.fixture(scope="session")
def protocol_pdf() -> bytes:
    """About 100 KB standing in for a rendered protocol."""
    return b"%PDF-1.7\n" + random.Random(20240620).randbytes(100_000) + b"\n%%EOF\n"


def _key_usage_encipherment_only() -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=False,
        content_commitment=False,
        key_encipherment=True,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )
