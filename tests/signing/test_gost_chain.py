"""Certificate paths signed with GOST 34.10-2015: certificates, CRLs, refusals.

A chain built here (tests/signing/gost_pki.py) and the real NCA test chain
(tests/signing/data/nca) are validated by pyhanko-certvalidator with signing.gost_pkix.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asn1crypto import x509 as asn1_x509

from signing import FailureCode, Status, verify_cms_signers, verify_detached_cms
from signing.trust import RevocationMode, RevocationPolicy, TrustAnchors
from tests.signing import gost_pki
from tests.signing.gost_pki import GostCA, GostPKI, sign_cms

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SIGNED_AT = NOW - timedelta(minutes=10)
CONTENT = b"%PDF-1.7 protocol bytes"
IIN = "931002451325"
NCA = Path(__file__).parent / "data" / "nca"


@pytest.fixture(scope="module")
def pki() -> GostPKI:
    return GostPKI.create(NOW)


def trust_of(pki: GostPKI, crls: list[bytes] | None = None) -> TrustAnchors:
    return TrustAnchors.from_certificates(
        [pki.root.der, pki.ca.der], pki.crls() if crls is None else crls
    )


def test_a_gost_signature_on_a_gost_chain_with_gost_crls_is_valid(pki: GostPKI) -> None:
    credential = pki.credential(IIN, "ТЕСТОВ ТЕСТ")
    report = verify_detached_cms(
        sign_cms(CONTENT, credential, SIGNED_AT),
        CONTENT,
        trust=trust_of(pki),
        now=NOW,
        expected_iin=IIN,
    )
    assert report.status is Status.VALID, report.failures
    assert report.trusted
    assert report.revocation_checked
    assert report.algorithm == "gost2015-512"


def test_a_certificate_listed_in_the_gost_crl_is_revoked(pki: GostPKI) -> None:
    credential = pki.credential(IIN, "ТЕСТОВ ТЕСТ")
    local = GostPKI(pki.root, GostCA(pki.ca.certificate, pki.ca.d, list(pki.ca.revoked)), NOW)
    local.revoke(credential, NOW - timedelta(days=1))
    report = verify_detached_cms(
        sign_cms(CONTENT, credential, SIGNED_AT), CONTENT, trust=trust_of(local), now=NOW
    )
    assert report.codes == (FailureCode.REVOKED,)
    assert report.intact
    assert report.valid


def test_an_expired_gost_certificate_is_expired(pki: GostPKI) -> None:
    credential = pki.credential(
        IIN, "ТЕСТОВ ТЕСТ", not_before=NOW - timedelta(days=400), not_after=NOW - timedelta(days=2)
    )
    report = verify_detached_cms(
        sign_cms(CONTENT, credential, SIGNED_AT), CONTENT, trust=trust_of(pki), now=NOW
    )
    assert FailureCode.EXPIRED in report.codes


def test_a_gost_chain_to_another_root_is_untrusted(pki: GostPKI) -> None:
    stranger = GostPKI.create(NOW, name="OTHER GOST")
    credential = stranger.credential(IIN, "ТЕСТОВ ТЕСТ")
    report = verify_detached_cms(
        sign_cms(CONTENT, credential, SIGNED_AT), CONTENT, trust=trust_of(pki), now=NOW
    )
    assert report.codes == (FailureCode.UNTRUSTED,)


def test_a_certificate_whose_gost_signature_is_forged_is_untrusted(pki: GostPKI) -> None:
    """Same issuer name and key identifier, signed with another key: the path must not hold."""
    impostor = GostCA(pki.ca.certificate, pki.ca.d + 1)
    forged = gost_pki.issue(
        asn1_x509.Name.build({"common_name": "ТЕСТОВ ТЕСТ", "serial_number": f"IIN{IIN}"}),
        12345,
        issuer=impostor,
        serial=77,
        not_before=NOW - timedelta(days=1),
        not_after=NOW + timedelta(days=30),
    )
    credential = gost_pki.GostCredential(forged, 12345)
    report = verify_detached_cms(
        sign_cms(CONTENT, credential, SIGNED_AT), CONTENT, trust=trust_of(pki), now=NOW
    )
    assert report.intact
    assert report.valid  # the CMS itself is fine; its certificate is not
    assert report.codes == (FailureCode.UNTRUSTED,)
    assert "signature" in report.failures[0].detail.lower()


def test_a_crl_with_a_forged_gost_signature_gives_no_revocation_answer(pki: GostPKI) -> None:
    credential = pki.credential(IIN, "ТЕСТОВ ТЕСТ")
    this, after = NOW - timedelta(hours=1), NOW + timedelta(days=7)
    forged_crl = GostCA(pki.ca.certificate, pki.ca.d + 1).crl(this, after)
    crls = [pki.root.crl(this, after), forged_crl]
    report = verify_detached_cms(
        sign_cms(CONTENT, credential, SIGNED_AT), CONTENT, trust=trust_of(pki, crls), now=NOW
    )
    assert report.codes == (FailureCode.REVOCATION_UNKNOWN,)
    assert report.status is Status.INDETERMINATE


def test_a_gost_authentication_key_is_refused_as_such(pki: GostPKI) -> None:
    credential = pki.credential(IIN, "ТЕСТОВ ТЕСТ", auth=True)
    report = verify_detached_cms(
        sign_cms(CONTENT, credential, SIGNED_AT), CONTENT, trust=trust_of(pki), now=NOW
    )
    assert FailureCode.AUTH_KEY in report.codes


def test_another_iin_and_other_bytes_are_refused(pki: GostPKI) -> None:
    credential = pki.credential(IIN, "ТЕСТОВ ТЕСТ")
    der = sign_cms(CONTENT, credential, SIGNED_AT)
    other_iin = verify_detached_cms(
        der, CONTENT, trust=trust_of(pki), now=NOW, expected_iin="990106300596"
    )
    assert other_iin.codes == (FailureCode.IIN_MISMATCH,)
    other_bytes = verify_detached_cms(der, CONTENT + b" ", trust=trust_of(pki), now=NOW)
    assert other_bytes.codes == (FailureCode.DIGEST_MISMATCH,)


def test_the_real_nca_gost_chain_validates_through_pyhanko() -> None:
    """The real signer's certificate, path-validated by pyhanko against the real issuing CA
    (GOST signature on the certificate checked by signing.gost_pkix). The test root above that
    CA is not among the public copies found, so the CA is the anchor here; pyhanko cannot
    validate a CRL issuer whose anchor is not self-signed, hence revocation off (the real CRL's
    GOST signature is checked in test_gost_nca.py)."""
    ca = asn1_x509.Certificate.load((NCA / "nca_gost2022_test.cer").read_bytes())
    report = verify_cms_signers(
        (NCA / "cms_gost512_rsa_attached.p7s").read_bytes(),
        b"test123",
        trust=TrustAnchors(roots=(ca,)),
        now=datetime(2022, 9, 28, 12, 0, tzinfo=UTC),
        revocation=RevocationPolicy(mode=RevocationMode.OFF),
    )
    assert report.signers[0].status is Status.VALID, report.signers[0].failures
    # the same signer after its certificate expired (2023-07-28): expired
    later = verify_cms_signers(
        (NCA / "cms_gost512_rsa_attached.p7s").read_bytes(),
        b"test123",
        trust=TrustAnchors(roots=(ca,)),
        now=datetime(2023, 9, 1, tzinfo=UTC),
        revocation=RevocationPolicy(mode=RevocationMode.OFF),
    )
    assert FailureCode.EXPIRED in later.signers[0].codes
