"""verify_detached_cms: the happy paths and every refusal, each with its own failure code."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from cms_tamper import (
    gost_certificate,
    gost_signature,
    with_algorithms,
    with_certificates,
    with_sid_of,
    with_signing_time,
    without_certificates,
    without_signed_attributes,
)
from conftest import AKHMETOVA, IVANOV, TESTOV, Specials

from signing import (
    FailureCode,
    RevocationMode,
    RevocationPolicy,
    SignatureRejected,
    Status,
    TrustAnchors,
    combine_signatures,
    verify_base64_cms,
    verify_detached_cms,
    verify_signatures,
)
from signing.client import Credential, create_cms, sign_detached
from signing.pki import TestPKI

Code = FailureCode


def sign(content: bytes, credential: Credential, **options: object) -> bytes:
    return create_cms(content, credential, **options)  # type: ignore[arg-type]


def assert_refused(report: object, code: FailureCode) -> None:
    from signing import SignatureReport

    assert isinstance(report, SignatureReport)
    assert report.codes == (code,), report.failures
    assert not report.ok
    assert report.status is (Status.INDETERMINATE if code.indeterminate else Status.INVALID)


# --- accepted ------------------------------------------------------------------------------


def test_detached_signature_from_p12_is_valid(
    pki: TestPKI, trust: TrustAnchors, protocol_pdf: bytes
) -> None:
    p12 = pki.people[AKHMETOVA.iin].sign_p12.read_bytes()
    signed_at = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    cms_der = sign_detached(protocol_pdf, p12, b"123456", signing_time=signed_at)

    report = verify_detached_cms(cms_der, protocol_pdf, trust=trust, expected_iin=AKHMETOVA.iin)

    assert report.ok
    assert report.status is Status.VALID
    assert (report.intact, report.valid, report.trusted) == (True, True, True)
    assert report.failures == ()
    assert report.revocation_checked
    assert report.signing_time == signed_at
    signer = report.signer
    assert signer is not None
    assert signer.common_name == "АХМЕТОВА АЙГҮЛ"
    assert signer.iin == AKHMETOVA.iin
    assert signer.bin == "040640000008"
    assert signer.organization == "КММ «№1 мектеп-гимназия»"
    certificate = pki.people[AKHMETOVA.iin].sign.certificate
    assert int(signer.serial_hex, 16) == certificate.serial_number
    assert signer.issuer == "C=KZ,CN=ТЕСТ ҰЛТТЫҚ КУӘЛАНДЫРУШЫ ОРТАЛЫҚ"
    assert signer.non_repudiation
    report.raise_for_status()


def test_attached_signature_with_the_same_bytes_is_valid(
    pki: TestPKI, trust: TrustAnchors, protocol_pdf: bytes
) -> None:
    cms_der = sign(protocol_pdf, pki.credential(TESTOV.iin), attach=True)

    report = verify_detached_cms(cms_der, protocol_pdf, trust=trust, expected_iin=TESTOV.iin)

    assert report.ok, report.failures
    assert report.signer is not None
    assert report.signer.iin == TESTOV.iin
    assert report.signer.bin is None


@pytest.mark.parametrize(
    ("options", "credential_name"),
    [
        ({"digest_algorithm": "sha384"}, None),
        ({"digest_algorithm": "sha512", "rsa_padding": "pss"}, None),
        ({"rsa_padding": "pss"}, None),
        ({}, "ecdsa_p256"),
        ({"digest_algorithm": "sha384"}, "ecdsa_p256"),
        ({}, "sign_and_client_auth"),
    ],
)
def test_other_allowed_algorithms_and_key_purposes(
    pki: TestPKI,
    specials: Specials,
    trust: TrustAnchors,
    protocol_pdf: bytes,
    options: dict[str, object],
    credential_name: str | None,
) -> None:
    credential = (
        getattr(specials, credential_name) if credential_name else pki.credential(TESTOV.iin)
    )
    report = verify_detached_cms(
        sign(protocol_pdf, credential, **options), protocol_pdf, trust=trust
    )
    assert report.ok, report.failures


def test_base64_text_with_line_breaks_and_pem_armor(
    pki: TestPKI, trust: TrustAnchors, protocol_pdf: bytes
) -> None:
    encoded = base64.encodebytes(sign(protocol_pdf, pki.credential(TESTOV.iin))).decode()
    armored = f"-----BEGIN CMS-----\r\n{encoded}-----END CMS-----\n"

    assert verify_base64_cms(encoded, protocol_pdf, trust=trust).ok
    assert verify_base64_cms(armored, protocol_pdf, trust=trust).ok


def test_many_signatures_over_one_protocol(
    pki: TestPKI, trust: TrustAnchors, protocol_pdf: bytes
) -> None:
    members = (TESTOV, AKHMETOVA, IVANOV)
    signatures = [sign(protocol_pdf, pki.credential(m.iin)) for m in members]
    signatures[2] = sign(protocol_pdf, pki.credential(IVANOV.iin, "auth"))

    reports = verify_signatures(
        signatures, protocol_pdf, trust=trust, expected_iins=[m.iin for m in members]
    )

    assert [r.ok for r in reports] == [True, True, False]
    assert reports[2].codes == (Code.AUTH_KEY,)
    assert [r.signer.iin for r in reports if r.signer] == [m.iin for m in members]


# --- the document ------------------------------------------------------------------------


def test_one_flipped_byte_in_the_document(
    pki: TestPKI, trust: TrustAnchors, protocol_pdf: bytes
) -> None:
    cms_der = sign(protocol_pdf, pki.credential(TESTOV.iin))
    tampered = bytearray(protocol_pdf)
    tampered[len(tampered) // 2] ^= 0x01

    report = verify_detached_cms(cms_der, bytes(tampered), trust=trust)

    assert_refused(report, Code.DIGEST_MISMATCH)
    assert (report.intact, report.valid, report.trusted) == (False, True, True)
    assert report.signer is not None
    assert report.signer.iin == TESTOV.iin


def test_signature_over_other_bytes(pki: TestPKI, trust: TrustAnchors, protocol_pdf: bytes) -> None:
    cms_der = sign(b"another protocol", pki.credential(TESTOV.iin))
    report = verify_detached_cms(cms_der, protocol_pdf, trust=trust)
    assert_refused(report, Code.DIGEST_MISMATCH)
    assert not report.intact


def test_attached_content_differs_from_the_expected_document(
    pki: TestPKI, trust: TrustAnchors, protocol_pdf: bytes
) -> None:
    cms_der = sign(b"another protocol", pki.credential(TESTOV.iin), attach=True)
    report = verify_detached_cms(cms_der, protocol_pdf, trust=trust)
    assert_refused(report, Code.CONTENT_MISMATCH)
    assert (report.intact, report.valid) == (False, True)


def test_altered_signed_attribute(pki: TestPKI, trust: TrustAnchors, protocol_pdf: bytes) -> None:
    cms_der = sign(protocol_pdf, pki.credential(TESTOV.iin))
    backdated = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    tampered = with_signing_time(cms_der, backdated)

    report = verify_detached_cms(tampered, protocol_pdf, trust=trust)

    assert_refused(report, Code.BAD_SIGNATURE)
    assert (report.intact, report.valid, report.trusted) == (True, False, True)
    assert report.signing_time == backdated


def test_no_signed_attributes(pki: TestPKI, trust: TrustAnchors, protocol_pdf: bytes) -> None:
    cms_der = without_signed_attributes(protocol_pdf, pki.credential(TESTOV.iin))
    assert_refused(
        verify_detached_cms(cms_der, protocol_pdf, trust=trust), Code.MISSING_SIGNED_ATTRS
    )


# --- structure -----------------------------------------------------------------------------


def test_two_signer_infos(pki: TestPKI, trust: TrustAnchors, protocol_pdf: bytes) -> None:
    both = combine_signatures(
        [
            sign(protocol_pdf, pki.credential(TESTOV.iin)),
            sign(protocol_pdf, pki.credential(IVANOV.iin)),
        ]
    )
    report = verify_detached_cms(both, protocol_pdf, trust=trust)
    assert_refused(report, Code.SIGNER_COUNT)
    assert report.signer is None


def test_no_certificate(pki: TestPKI, trust: TrustAnchors, protocol_pdf: bytes) -> None:
    cms_der = without_certificates(sign(protocol_pdf, pki.credential(TESTOV.iin)))
    assert_refused(verify_detached_cms(cms_der, protocol_pdf, trust=trust), Code.NO_CERTIFICATE)


def test_certificate_not_matching_the_signer_identifier(
    pki: TestPKI, trust: TrustAnchors, protocol_pdf: bytes
) -> None:
    other = pki.credential(IVANOV.iin).certificate
    cms_der = with_certificates(sign(protocol_pdf, pki.credential(TESTOV.iin)), [other])
    assert_refused(verify_detached_cms(cms_der, protocol_pdf, trust=trust), Code.CERT_MISMATCH)


def test_certificate_swapped_together_with_the_signer_identifier(
    pki: TestPKI, trust: TrustAnchors, protocol_pdf: bytes
) -> None:
    """Claiming Ivanov signed what Testov signed: the ESS signingCertificateV2 gives it away."""
    other = pki.credential(IVANOV.iin).certificate
    cms_der = sign(protocol_pdf, pki.credential(TESTOV.iin))
    swapped = with_sid_of(with_certificates(cms_der, [other]), other)

    report = verify_detached_cms(swapped, protocol_pdf, trust=trust, expected_iin=IVANOV.iin)

    assert_refused(report, Code.CERT_MISMATCH)
    assert not report.valid


@pytest.mark.parametrize(
    "blob",
    [
        b"",
        b"not a signature at all",
        b"\x30\x03\x02\x01\x01",
        b"\x30\x82\xff\xff" + b"\x00" * 16,
    ],
    ids=["empty", "text", "integer-sequence", "huge-length"],
)
def test_garbage_der(trust: TrustAnchors, protocol_pdf: bytes, blob: bytes) -> None:
    assert_refused(verify_detached_cms(blob, protocol_pdf, trust=trust), Code.MALFORMED)


def test_truncated_der(pki: TestPKI, trust: TrustAnchors, protocol_pdf: bytes) -> None:
    cms_der = sign(protocol_pdf, pki.credential(TESTOV.iin))
    for cut in (len(cms_der) - 1, len(cms_der) // 2, 10):
        report = verify_detached_cms(cms_der[:cut], protocol_pdf, trust=trust)
        assert_refused(report, Code.MALFORMED)


def test_der_with_trailing_bytes(pki: TestPKI, trust: TrustAnchors, protocol_pdf: bytes) -> None:
    cms_der = sign(protocol_pdf, pki.credential(TESTOV.iin)) + b"\x00"
    assert_refused(verify_detached_cms(cms_der, protocol_pdf, trust=trust), Code.MALFORMED)


@pytest.mark.parametrize(
    "text",
    ["Zm9v!!!", "%%%", "MIIB" + "=" * 7, "   ", "SGVsbG8gd29ybGQ="],
    ids=["bad-chars", "symbols", "bad-padding", "blank", "base64-but-not-cms"],
)
def test_garbage_base64(trust: TrustAnchors, protocol_pdf: bytes, text: str) -> None:
    assert_refused(verify_base64_cms(text, protocol_pdf, trust=trust), Code.MALFORMED)


def test_ten_megabyte_blob(trust: TrustAnchors, protocol_pdf: bytes) -> None:
    blob = b"\x30\x84\x00\xa0\x00\x00" + bytes(10 * 1024 * 1024)
    assert_refused(verify_detached_cms(blob, protocol_pdf, trust=trust), Code.TOO_LARGE)
    text = base64.b64encode(blob)
    assert_refused(verify_base64_cms(text, protocol_pdf, trust=trust), Code.TOO_LARGE)


def test_size_limit_applies_to_the_decoded_bytes(
    pki: TestPKI, trust: TrustAnchors, protocol_pdf: bytes
) -> None:
    cms_der = sign(protocol_pdf, pki.credential(TESTOV.iin))
    text = base64.b64encode(cms_der)
    report = verify_base64_cms(text, protocol_pdf, trust=trust, max_size=len(cms_der) - 1)
    assert_refused(report, Code.TOO_LARGE)
    assert verify_base64_cms(text, protocol_pdf, trust=trust, max_size=len(cms_der)).ok


# --- algorithms ----------------------------------------------------------------------------


def test_sha1(pki: TestPKI, trust: TrustAnchors, protocol_pdf: bytes) -> None:
    cms_der = sign(protocol_pdf, pki.credential(TESTOV.iin), digest_algorithm="sha1")
    report = verify_detached_cms(cms_der, protocol_pdf, trust=trust)
    assert_refused(report, Code.WEAK_ALGORITHM)
    assert report.signer is not None


def test_rsa_1024(specials: Specials, trust: TrustAnchors, protocol_pdf: bytes) -> None:
    report = verify_detached_cms(sign(protocol_pdf, specials.weak_key), protocol_pdf, trust=trust)
    assert_refused(report, Code.WEAK_KEY)


def test_rsa_1024_with_sha1_reports_both(
    specials: Specials, trust: TrustAnchors, protocol_pdf: bytes
) -> None:
    cms_der = sign(protocol_pdf, specials.weak_key, digest_algorithm="sha1")
    report = verify_detached_cms(cms_der, protocol_pdf, trust=trust)
    assert set(report.codes) == {Code.WEAK_ALGORITHM, Code.WEAK_KEY}
    assert report.status is Status.INVALID


def test_curve_p521_is_not_supported(
    specials: Specials, trust: TrustAnchors, protocol_pdf: bytes
) -> None:
    report = verify_detached_cms(sign(protocol_pdf, specials.ecdsa_p521), protocol_pdf, trust=trust)
    assert_refused(report, Code.UNSUPPORTED_ALGORITHM)


@pytest.mark.parametrize(
    ("key_oid", "digest_oid", "signature_oid"),
    [
        # GOST 34.310-2004 key, GOST 34.311-95 digest (Kazakhstan, NCA GOST keys)
        ("1.2.398.3.10.1.1.1.1", "1.2.398.3.10.1.3.1", "1.2.398.3.10.1.1.1.2"),
        # GOST R 34.10-2012/2015 256-bit key, Streebog-256, its signature OID
        ("1.2.643.7.1.1.1.1", "1.2.643.7.1.1.2.2", "1.2.643.7.1.1.3.2"),
        # GOST R 34.10-2012/2015 512-bit key
        ("1.2.643.7.1.1.1.2", "1.2.643.7.1.1.2.3", "1.2.643.7.1.1.3.3"),
        # GOST R 34.10-2001
        ("1.2.643.2.2.19", "1.2.643.2.2.9", "1.2.643.2.2.3"),
    ],
)
def test_gost_signature_is_not_supported_yet(
    pki: TestPKI,
    trust: TrustAnchors,
    protocol_pdf: bytes,
    key_oid: str,
    digest_oid: str,
    signature_oid: str,
) -> None:
    certificate = gost_certificate(
        pki.credential(TESTOV.iin).certificate, pki.intermediate, key_oid
    )
    cms_der = gost_signature(
        hashlib.sha256(protocol_pdf).digest(), certificate, digest_oid, signature_oid
    )

    report = verify_detached_cms(cms_der, protocol_pdf, trust=trust, expected_iin=TESTOV.iin)

    assert_refused(report, Code.UNSUPPORTED_ALGORITHM)
    assert report.status is Status.INDETERMINATE
    assert "GOST" in report.failures[0].detail
    assert report.signer is not None
    assert report.signer.iin == TESTOV.iin
    assert "ГОСТ" in report.failures[0].message("ru")


def test_gost_algorithm_oids_on_an_rsa_signature(
    pki: TestPKI, trust: TrustAnchors, protocol_pdf: bytes
) -> None:
    cms_der = with_algorithms(
        sign(protocol_pdf, pki.credential(TESTOV.iin)), "1.2.398.3.10.1.3.1", "1.2.398.3.10.1.1.1.2"
    )
    assert_refused(
        verify_detached_cms(cms_der, protocol_pdf, trust=trust), Code.UNSUPPORTED_ALGORITHM
    )


@pytest.mark.parametrize(
    ("digest_oid", "signature_oid"),
    [
        ("1.2.3.4.5", "sha256_rsa"),  # unknown digest
        ("sha256", "1.2.3.4.5"),  # unknown signature algorithm
        ("sha256", "sha512_rsa"),  # signature hash differs from the digest algorithm
        ("sha256", "sha256_dsa"),  # DSA
    ],
)
def test_other_unknown_algorithms(
    pki: TestPKI,
    trust: TrustAnchors,
    protocol_pdf: bytes,
    digest_oid: str,
    signature_oid: str,
) -> None:
    cms_der = with_algorithms(
        sign(protocol_pdf, pki.credential(TESTOV.iin)), digest_oid, signature_oid
    )
    assert_refused(
        verify_detached_cms(cms_der, protocol_pdf, trust=trust), Code.UNSUPPORTED_ALGORITHM
    )


def test_md5_signature_algorithm_is_weak(
    pki: TestPKI, trust: TrustAnchors, protocol_pdf: bytes
) -> None:
    cms_der = with_algorithms(sign(protocol_pdf, pki.credential(TESTOV.iin)), "md5", "md5_rsa")
    assert_refused(verify_detached_cms(cms_der, protocol_pdf, trust=trust), Code.WEAK_ALGORITHM)


# --- the certificate -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("credential_name", "code"),
    [
        ("expired", Code.EXPIRED),
        ("not_yet_valid", Code.NOT_YET_VALID),
        ("revoked", Code.REVOKED),
        ("self_signed", Code.UNTRUSTED),
        ("untrusted_root", Code.UNTRUSTED),
        ("no_digital_signature", Code.KEY_USAGE),
        ("server_and_client_auth", Code.AUTH_KEY),
    ],
)
def test_refused_certificates(
    specials: Specials,
    trust: TrustAnchors,
    protocol_pdf: bytes,
    credential_name: str,
    code: FailureCode,
) -> None:
    credential: Credential = getattr(specials, credential_name)
    cms_der = sign(protocol_pdf, credential, include_chain=True)

    report = verify_detached_cms(cms_der, protocol_pdf, trust=trust, expected_iin=TESTOV.iin)

    assert_refused(report, code)
    assert (report.intact, report.valid) == (True, True)
    trust_codes = {Code.EXPIRED, Code.NOT_YET_VALID, Code.REVOKED, Code.UNTRUSTED}
    assert report.trusted is (code not in trust_codes)
    assert report.signer is not None
    assert report.signer.iin == TESTOV.iin


def test_authentication_key(pki: TestPKI, trust: TrustAnchors, protocol_pdf: bytes) -> None:
    p12 = pki.people[TESTOV.iin].auth_p12.read_bytes()
    cms_der = sign_detached(protocol_pdf, p12, b"123456")

    report = verify_detached_cms(cms_der, protocol_pdf, trust=trust, expected_iin=TESTOV.iin)

    assert_refused(report, Code.AUTH_KEY)
    assert report.trusted
    assert "AUTH_RSA" in report.failures[0].message("kk")
    assert "ключ для подписи" in report.failures[0].message("ru")


def test_signing_time_before_the_certificate_was_issued(
    pki: TestPKI, trust: TrustAnchors, protocol_pdf: bytes
) -> None:
    credential = pki.credential(TESTOV.iin)
    backdated = credential.certificate.not_valid_before_utc - timedelta(days=30)
    cms_der = sign(protocol_pdf, credential, signing_time=backdated)

    report = verify_detached_cms(cms_der, protocol_pdf, trust=trust)

    assert_refused(report, Code.NOT_YET_VALID)
    assert report.signing_time == backdated


def test_another_persons_iin(pki: TestPKI, trust: TrustAnchors, protocol_pdf: bytes) -> None:
    cms_der = sign(protocol_pdf, pki.credential(IVANOV.iin))
    report = verify_detached_cms(cms_der, protocol_pdf, trust=trust, expected_iin=TESTOV.iin)
    assert_refused(report, Code.IIN_MISMATCH)
    assert (report.intact, report.valid, report.trusted) == (True, True, True)


def test_certificate_without_iin(pki: TestPKI, trust: TrustAnchors, protocol_pdf: bytes) -> None:
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, "ТЕСТОВ ТЕСТ"),
            x509.NameAttribute(NameOID.COUNTRY_NAME, "KZ"),
        ]
    )
    credential = pki.issue(TESTOV, subject=subject)
    cms_der = sign(protocol_pdf, credential)

    report = verify_detached_cms(cms_der, protocol_pdf, trust=trust, expected_iin=TESTOV.iin)

    assert_refused(report, Code.NO_IIN)
    assert verify_detached_cms(cms_der, protocol_pdf, trust=trust).ok


def test_expected_iin_must_itself_be_valid(trust: TrustAnchors, protocol_pdf: bytes) -> None:
    with pytest.raises(ValueError, match="not a valid IIN"):
        verify_detached_cms(b"", protocol_pdf, trust=trust, expected_iin="123456789012")


# --- revocation ----------------------------------------------------------------------------


def test_revocation_required_but_no_crl(
    pki: TestPKI, trust: TrustAnchors, protocol_pdf: bytes
) -> None:
    without_crls = TrustAnchors(roots=trust.roots, intermediates=trust.intermediates)
    cms_der = sign(protocol_pdf, pki.credential(TESTOV.iin))

    report = verify_detached_cms(cms_der, protocol_pdf, trust=without_crls)

    assert_refused(report, Code.REVOCATION_UNKNOWN)
    assert report.status is Status.INDETERMINATE
    assert (report.intact, report.valid, report.trusted) == (True, True, False)
    assert not report.revocation_checked


def test_stale_crl_makes_the_result_indeterminate(
    pki: TestPKI, trust: TrustAnchors, protocol_pdf: bytes
) -> None:
    cms_der = sign(protocol_pdf, pki.credential(TESTOV.iin))
    assert verify_detached_cms(cms_der, protocol_pdf, trust=trust).ok
    next_week = datetime.now(UTC) + timedelta(days=8)

    report = verify_detached_cms(cms_der, protocol_pdf, trust=trust, now=next_week)

    assert_refused(report, Code.REVOCATION_UNKNOWN)


def test_soft_fail_and_off_accept_without_crl(
    pki: TestPKI, trust: TrustAnchors, protocol_pdf: bytes
) -> None:
    without_crls = TrustAnchors(roots=trust.roots, intermediates=trust.intermediates)
    cms_der = sign(protocol_pdf, pki.credential(TESTOV.iin))
    for mode in (RevocationMode.SOFT_FAIL, RevocationMode.OFF):
        report = verify_detached_cms(
            cms_der, protocol_pdf, trust=without_crls, revocation=RevocationPolicy(mode=mode)
        )
        assert report.ok, report.failures
        assert not report.revocation_checked


def test_soft_fail_still_refuses_a_listed_certificate(
    specials: Specials, trust: TrustAnchors, protocol_pdf: bytes
) -> None:
    cms_der = sign(protocol_pdf, specials.revoked)
    soft = RevocationPolicy(mode=RevocationMode.SOFT_FAIL)
    report = verify_detached_cms(cms_der, protocol_pdf, trust=trust, revocation=soft)
    assert_refused(report, Code.REVOKED)


def test_cached_validation_is_not_reused_after_the_certificate_expires(
    pki: TestPKI, trust: TrustAnchors, protocol_pdf: bytes
) -> None:
    credential = pki.credential(AKHMETOVA.iin)
    cms_der = sign(protocol_pdf, credential)
    off = RevocationPolicy(mode=RevocationMode.OFF)
    assert verify_detached_cms(cms_der, protocol_pdf, trust=trust, revocation=off).ok

    after_expiry = credential.certificate.not_valid_after_utc + timedelta(days=1)
    report = verify_detached_cms(
        cms_der, protocol_pdf, trust=trust, revocation=off, now=after_expiry
    )

    assert_refused(report, Code.EXPIRED)


# --- the report ----------------------------------------------------------------------------


def test_rejection_exception_carries_the_report(
    pki: TestPKI, trust: TrustAnchors, protocol_pdf: bytes
) -> None:
    cms_der = sign(protocol_pdf, pki.credential(IVANOV.iin))
    report = verify_detached_cms(cms_der, protocol_pdf, trust=trust, expected_iin=TESTOV.iin)

    with pytest.raises(SignatureRejected) as raised:
        report.raise_for_status()

    assert isinstance(raised.value, ValueError)
    assert raised.value.report is report
    assert "IIN" in str(raised.value)
    assert report.messages("kk") == [Code.IIN_MISMATCH.message("kk")]


def test_naive_now_is_refused(trust: TrustAnchors, protocol_pdf: bytes) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        verify_detached_cms(b"", protocol_pdf, trust=trust, now=datetime(2026, 1, 1))


def test_random_damage_never_raises(pki: TestPKI, trust: TrustAnchors, protocol_pdf: bytes) -> None:
    """Flip random bytes anywhere in the DER: every outcome is a report, never an exception."""
    import random

    from signing import SignatureReport

    cms_der = sign(protocol_pdf, pki.credential(TESTOV.iin))
    rng = random.Random(5652)
    accepted = 0
    for _ in range(150):
        damaged = bytearray(cms_der)
        for _ in range(rng.randint(1, 3)):
            damaged[rng.randrange(len(damaged))] = rng.randrange(256)
        report = verify_detached_cms(bytes(damaged), protocol_pdf, trust=trust)
        assert isinstance(report, SignatureReport)
        assert report.ok is (report.failures == ())
        accepted += report.ok
    # Only bytes outside what the signature and the CA signature cover may change unnoticed.
    assert accepted < 30


def test_decode_base64_signature(pki: TestPKI, protocol_pdf: bytes) -> None:
    from signing import decode_base64_signature

    cms_der = sign(protocol_pdf, pki.credential(TESTOV.iin))
    wrapped = base64.encodebytes(cms_der).decode()
    assert (
        decode_base64_signature(f"-----BEGIN PKCS7-----\n{wrapped}-----END PKCS7-----") == cms_der
    )
    with pytest.raises(ValueError, match="damaged"):
        decode_base64_signature("@@@")
    with pytest.raises(ValueError, match="larger than allowed"):
        decode_base64_signature(wrapped, max_size=100)
