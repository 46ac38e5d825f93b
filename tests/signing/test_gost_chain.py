"""Certificate paths signed with GOST 34.10-2015: certificates, CRLs, refusals.

A chain built here (tests/signing/gost_pki.py) and the real NCA test chain
(tests/signing/data/nca) are validated by pyhanko-certvalidator with signing.gost_pkix.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asn1crypto import cms
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
        (NCA.parent / "cms_ncanode_attached_gost_rsa.p7s").read_bytes(),
        b"test123",
        trust=TrustAnchors(roots=(ca,)),
        now=datetime(2022, 9, 28, 12, 0, tzinfo=UTC),
        revocation=RevocationPolicy(mode=RevocationMode.OFF),
    )
    assert report.signers[0].status is Status.VALID, report.signers[0].failures
    # the same signer after its certificate expired (2023-07-28): expired
    later = verify_cms_signers(
        (NCA.parent / "cms_ncanode_attached_gost_rsa.p7s").read_bytes(),
        b"test123",
        trust=TrustAnchors(roots=(ca,)),
        now=datetime(2023, 9, 1, tzinfo=UTC),
        revocation=RevocationPolicy(mode=RevocationMode.OFF),
    )
    assert FailureCode.EXPIRED in later.signers[0].codes


def test_a_gost_256_signature_under_the_512_bit_ca_is_valid(pki: GostPKI) -> None:
    credential = pki.credential(IIN, "ТЕСТОВ ТЕСТ", curve=gost_pki.CURVE_256)
    report = verify_detached_cms(
        sign_cms(CONTENT, credential, SIGNED_AT), CONTENT, trust=trust_of(pki), now=NOW
    )
    assert report.status is Status.VALID, report.failures
    assert report.algorithm == "gost2015-256"


def test_a_512_bit_signature_claimed_for_a_256_bit_key_is_a_mismatch(pki: GostPKI) -> None:
    small = pki.credential(IIN, "ТЕСТОВ ТЕСТ", curve=gost_pki.CURVE_256)
    large = pki.credential(IIN, "ТЕСТОВ ТЕСТ")
    # the 512-bit signer's CMS, with the 256-bit certificate put in its place
    der = with_signer_certificate(sign_cms(CONTENT, large, SIGNED_AT), small.certificate)
    report = verify_detached_cms(der, CONTENT, trust=trust_of(pki), now=NOW)
    assert report.codes == (FailureCode.CERT_MISMATCH,)
    assert "512-bit signature, 256-bit key" in report.failures[0].detail


def test_a_gost_root_is_recognised_by_its_own_signature(pki: GostPKI) -> None:
    sorted_trust = trust_of(pki)
    assert [c.dump() for c in sorted_trust.roots] == [pki.root.der]
    assert [c.dump() for c in sorted_trust.intermediates] == [pki.ca.der]
    # same name as issuer and subject, signed by another key: not a root
    fake = gost_pki.issue(
        pki.root.certificate.subject,
        pki.root.d,
        issuer=GostCA(pki.root.certificate, pki.root.d + 1),
        serial=9,
        not_before=NOW - timedelta(days=1),
        not_after=NOW + timedelta(days=30),
        ca=True,
    )
    loaded = TrustAnchors.from_certificates([pki.root.der, fake.dump()])
    assert [c.dump() for c in loaded.roots] == [pki.root.der]


def with_signer_certificate(der: bytes, certificate: asn1_x509.Certificate) -> bytes:
    info = cms.ContentInfo.load(der)
    signed_data = info["content"]
    signed_data["certificates"] = cms.CertificateSet(
        [cms.CertificateChoices("certificate", certificate)]
    )
    signer_info = signed_data["signer_infos"][0]
    signer_info["sid"] = cms.SignerIdentifier(
        "issuer_and_serial_number",
        cms.IssuerAndSerialNumber(
            {"issuer": certificate.issuer, "serial_number": certificate.serial_number}
        ),
    )
    dumped: bytes = info.dump(force=True)
    return dumped


def test_algorithms_that_do_not_fit_the_key_or_each_other_are_refused(pki: GostPKI) -> None:
    gost_credential = pki.credential(IIN, "ТЕСТОВ ТЕСТ")
    # NCA's RSA signer (tests/signing/data/nca) alone, its certificate replaced by a GOST one
    info = cms.ContentInfo.load((NCA.parent / "cms_ncanode_detached_gost_rsa.p7s").read_bytes())
    info["content"]["signer_infos"] = cms.SignerInfos([info["content"]["signer_infos"][1]])
    rsa_der = with_signer_certificate(info.dump(force=True), gost_credential.certificate)
    report = verify_detached_cms(rsa_der, b"test123", trust=trust_of(pki), now=NOW)
    assert report.codes == (FailureCode.CERT_MISMATCH,)
    assert report.failures[0].detail == "signature 1.2.840.113549.1.1.11 with a GOST key"
    # a GOST-512 signature declaring the Streebog-256 digest: an unsupported combination
    info = cms.ContentInfo.load(sign_cms(CONTENT, gost_credential, SIGNED_AT))
    info["content"]["signer_infos"][0]["digest_algorithm"] = {"algorithm": "1.2.398.3.10.1.3.2"}
    report = verify_detached_cms(info.dump(force=True), CONTENT, trust=trust_of(pki), now=NOW)
    assert report.codes == (FailureCode.UNSUPPORTED_ALGORITHM,)
    assert "with digest 1.2.398.3.10.1.3.2" in report.failures[0].detail
