"""The GOST counterpart of every refusal of the RSA path (test_signatures_refusals.py), with keys
of the GOST test PKI that `qujat pki init` makes (signing.gostpki): each refusal with its own
code, nothing stored; and the same session signed to the end with GOST keys.

"Weak" has no GOST 34.10-2015 counterpart: qujat accepts both its key sizes (512 bits, NCA's
keys since 2024, and 256 bits, as strong as the ECDSA P-256 the RSA path accepts). What NCA
has retired is the algorithm of 2004 (GOST 34.310-2004 with GOST 34.311-95, NCA's
``GOSTKNCA_…`` keys): refused as unsupported, like a GOST signature declaring SHA-1.

Every test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import cms
from cryptography import x509
from flask import Flask
from flask.testing import FlaskClient

from service.cli.signatures import example_people
from service.core.config import Settings
from signing import Status, TrustAnchors, combine_signatures, verify_cms_signers
from signing.client import Credential, create_cms
from signing.gostkey import GostPrivateKey
from signing.gostpki import GostTestPKI, init_gost_test_pki
from signing.pkcs12 import read_pkcs12
from tests.conftest import EXAMPLES, NOW
from tests.signatures.support import (
    ABSENT,
    OUTSIDER,
    PRESENT,
    SECRETARY,
    codes,
    content_of,
    create_commission,
    create_protocol,
    post_signature,
)
from tests.signatures.test_signatures_refusals import traces
from tests.signing.cms_tamper import (
    gost_signature,
    with_algorithms,
    with_certificates,
    with_signing_time,
    without_certificates,
)

MEMBER = PRESENT[1]
OTHER = PRESENT[2]
NCA_GOST2004 = (
    Path(__file__).parents[1]
    / "signing/data/nca/p12_GOSTKNCA_f8a422238209b6e753116431b69b09178f14e9d7.p12"
)


@dataclass(frozen=True)
class GostOdd:
    """GOST certificates of MEMBER that must be refused, and a 256-bit one that must not."""

    revoked: Credential
    expired: Credential
    not_yet_valid: Credential
    untrusted_root: Credential
    self_signed: Credential
    bits_256: Credential


@dataclass(frozen=True)
class GostSigningPKI:
    pki: GostTestPKI
    odd: GostOdd

    @property
    def directory(self) -> Path:
        return self.pki.directory

    def key(self, iin: str, role: str = "sign") -> Credential:
        return self.pki.credential(iin, "sign" if role == "sign" else "auth")


@pytest.fixture(scope="session")
def gost_signing_pki(tmp_path_factory: pytest.TempPathFactory) -> GostSigningPKI:
    people = [*example_people(EXAMPLES / "commission.json"), OUTSIDER]
    pki = init_gost_test_pki(tmp_path_factory.mktemp("gost-signing-pki"), people, now=NOW)
    member = pki.people[MEMBER].person
    odd = GostOdd(
        revoked=pki.issue_revoked(member),
        expired=pki.issue_expired(member),
        not_yet_valid=pki.issue_not_yet_valid(member),
        untrusted_root=pki.issue_from_untrusted_root(member),
        self_signed=pki.issue_self_signed(member),
        bits_256=pki.issue_256(member),
    )
    return GostSigningPKI(pki, odd)


@pytest.fixture
def settings(tmp_path: Path, database_url: str, gost_signing_pki: GostSigningPKI) -> Settings:
    return Settings(
        data_dir=tmp_path, database_url=database_url, trust_dir=gost_signing_pki.directory
    )


Case = Callable[[GostSigningPKI, bytes], tuple[bytes | str, str | None]]


def _flip(data: bytes, at: int | None = None) -> bytes:
    middle = len(data) // 2 if at is None else at
    return data[:middle] + bytes([data[middle] ^ 0x01]) + data[middle + 1 :]


def _sign(pki: GostSigningPKI, content: bytes, iin: str = MEMBER, **kwargs: Any) -> bytes:
    return create_cms(content, pki.key(iin), signing_time=NOW, **kwargs)


def _cms(credential: Credential, content: bytes) -> bytes:
    return create_cms(content, credential, signing_time=NOW)


def _signature_flipped(pki: GostSigningPKI, content: bytes) -> bytes:
    """One bit of the GOST signature value changed, everything else intact."""
    info = cms.ContentInfo.load(_sign(pki, content))
    signer_info = info["content"]["signer_infos"][0]
    signer_info["signature"] = _flip(signer_info["signature"].native, 7)
    dumped: bytes = info.dump(force=True)
    return dumped


def _gost2004(pki: GostSigningPKI, content: bytes) -> bytes:
    """NCA's retired algorithm: its own GOST 34.310-2004 test certificate (from the
    GOSTKNCA_… file) and signature algorithm, refused before any check of the value."""
    certificate = read_pkcs12(NCA_GOST2004.read_bytes(), "Qwerty12").certificate
    return gost_signature(
        hashlib.sha256(content).digest(),
        x509.load_der_x509_certificate(certificate),
        "1.2.398.3.10.1.3.1",
        "1.2.398.3.10.1.1.1.2",
    )


def _sha1_declared(pki: GostSigningPKI, content: bytes) -> bytes:
    """A GOST 34.10-2015 signature whose digest algorithm says SHA-1."""
    return with_algorithms(_sign(pki, content), "1.3.14.3.2.26", "1.2.398.3.10.1.1.2.3.2")


# name → (the posted signature and claimed IIN, status, codes): the RSA path's cases, in GOST
CASES: dict[str, tuple[Case, int, list[str]]] = {
    "one byte flipped": (
        lambda p, c: (_sign(p, _flip(c)), None),
        422,
        ["signature_digest_mismatch"],
    ),
    "other bytes": (
        lambda p, c: (_sign(p, b"%PDF-1.7 another protocol"), None),
        422,
        ["signature_digest_mismatch"],
    ),
    "other content attached": (
        lambda p, c: (_sign(p, b"other", attach=True), None),
        422,
        ["signature_content_mismatch"],
    ),
    "altered signed attribute": (
        lambda p, c: (with_signing_time(_sign(p, c), NOW + timedelta(minutes=1)), None),
        422,
        ["signature_bad_signature"],
    ),
    "GOST signature value altered": (
        lambda p, c: (_signature_flipped(p, c), None),
        422,
        ["signature_bad_signature"],
    ),
    "two signer infos": (
        lambda p, c: (combine_signatures([_sign(p, c), _sign(p, c, OTHER)]), None),
        422,
        ["signature_signer_count"],
    ),
    "no certificate": (
        lambda p, c: (without_certificates(_sign(p, c)), None),
        422,
        ["signature_no_certificate"],
    ),
    "certificate not matching": (
        lambda p, c: (with_certificates(_sign(p, c), [p.key(OTHER).certificate]), None),
        422,
        ["signature_cert_mismatch"],
    ),
    "expired": (lambda p, c: (_cms(p.odd.expired, c), None), 422, ["signature_expired"]),
    "not yet valid": (
        lambda p, c: (_cms(p.odd.not_yet_valid, c), None),
        422,
        ["signature_not_yet_valid"],
    ),
    "revoked (GOST-signed CRL)": (
        lambda p, c: (_cms(p.odd.revoked, c), None),
        422,
        ["signature_revoked"],
    ),
    "self-signed": (lambda p, c: (_cms(p.odd.self_signed, c), None), 422, ["signature_untrusted"]),
    "untrusted root": (
        lambda p, c: (_cms(p.odd.untrusted_root, c), None),
        422,
        ["signature_untrusted"],
    ),
    "authentication key": (
        lambda p, c: (_cms(p.key(MEMBER, "auth"), c), None),
        422,
        ["signature_auth_key"],
    ),
    "another person's IIN": (
        lambda p, c: (_sign(p, c, OTHER), MEMBER),
        422,
        ["signature_iin_mismatch"],
    ),
    "non-member": (lambda p, c: (_sign(p, c, OUTSIDER.iin), None), 422, ["not_a_signer"]),
    "non-member named": (
        lambda p, c: (_sign(p, c, OUTSIDER.iin), OUTSIDER.iin),
        422,
        ["not_a_signer"],
    ),
    "absent member": (lambda p, c: (_sign(p, c, ABSENT), None), 422, ["member_absent"]),
    "GOST 34.310-2004 (retired)": (
        lambda p, c: (_gost2004(p, c), None),
        422,
        ["signature_unsupported_algorithm"],
    ),
    "GOST with SHA-1": (
        lambda p, c: (_sha1_declared(p, c), None),
        422,
        ["signature_unsupported_algorithm"],
    ),
    "truncated DER": (lambda p, c: (_sign(p, c)[:300], None), 422, ["signature_malformed"]),
}


def test_each_gost_refusal_has_its_reason_and_stores_nothing(
    app: Flask, client: FlaskClient, settings: Settings, gost_signing_pki: GostSigningPKI
) -> None:
    protocol = create_protocol(client, create_commission(client))
    content = content_of(client, protocol["id"])
    before = traces(app, settings.storage_dir)
    for name, (make, status, expected) in CASES.items():
        posted, iin = make(gost_signing_pki, content)
        response = post_signature(client, protocol["id"], posted, iin)
        assert response.status_code == status, (name, response.get_json())
        assert response.mimetype == "application/problem+json", name
        assert codes(response) == expected, (name, response.get_json())
        assert traces(app, settings.storage_dir) == before, name
    state = client.get(f"/api/v1/documents/{protocol['id']}/signing").get_json()
    assert state["signed"] == []


def test_auth_key_reason_names_the_gost_file(
    client: FlaskClient, gost_signing_pki: GostSigningPKI
) -> None:
    protocol = create_protocol(client, create_commission(client))
    auth = _cms(gost_signing_pki.key(MEMBER, "auth"), content_of(client, protocol["id"]))
    reason = post_signature(client, protocol["id"], auth).get_json()["errors"][0]["reason"]
    assert "GOST512_" in reason


def test_a_256_bit_gost_key_is_accepted(
    client: FlaskClient, gost_signing_pki: GostSigningPKI
) -> None:
    """The documented decision: GOST 34.10-2015 256-bit is not "weak"."""
    credential = gost_signing_pki.odd.bits_256
    assert isinstance(credential.private_key, GostPrivateKey)
    assert credential.private_key.bits == 256
    protocol = create_protocol(client, create_commission(client))
    response = post_signature(
        client, protocol["id"], _cms(credential, content_of(client, protocol["id"]))
    )
    assert response.status_code == 201, response.get_json()


def test_a_session_signed_with_gost_keys(
    client: FlaskClient, gost_signing_pki: GostSigningPKI
) -> None:
    """The chair, five members and the secretary sign with GOST keys; the protocol is signed,
    its combined .p7s holds seven GOST signers, all valid; a second signature is 409."""
    protocol = create_protocol(client, create_commission(client))
    content = content_of(client, protocol["id"])
    for iin in [*PRESENT, SECRETARY]:
        response = post_signature(client, protocol["id"], _sign(gost_signing_pki, content, iin))
        assert response.status_code == 201, (iin, response.get_json())
    assert response.get_json()["status"] == "signed"
    again = post_signature(client, protocol["id"], _sign(gost_signing_pki, content, PRESENT[0]))
    assert again.status_code == 409
    assert codes(again) == ["already_signed"]
    p7s = client.get(f"/api/v1/documents/{protocol['id']}.p7s")
    assert p7s.status_code == 200
    trust = TrustAnchors.from_folder(gost_signing_pki.directory)
    report = verify_cms_signers(p7s.data, content, trust=trust, now=NOW)
    assert len(report.signers) == 7
    assert {s.status for s in report.signers} == {Status.VALID}
    assert {s.algorithm for s in report.signers} == {"gost2015-512"}
    signed = client.get(f"/api/v1/documents/{protocol['id']}/signature-report").get_json()
    assert signed["status"] == "signed"
    assert [s["result"] for s in signed["signers"]] == ["valid"] * 7
