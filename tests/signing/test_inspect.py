"""verify_any over CMS: DER, PEM, base64; attached, detached with and without the document;
one signer or a combined .p7s; real NCA test signatures; the moment of judgement."""

from __future__ import annotations

import base64
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import AKHMETOVA, IVANOV, TESTOV, Specials

from signing import FailureCode, Status, TrustAnchors, combine_signatures
from signing.client import create_cms
from signing.inspect import At, cms_algorithm, decode_cms, verify_any
from signing.pki import TestPKI
from signing.trust import RevocationMode, RevocationPolicy

DATA = Path(__file__).parent / "data"
OFF = RevocationPolicy(RevocationMode.OFF)
NCA_CONTENT = b"test123"  # what the NCANode tests signed


def pem(der: bytes) -> bytes:
    body = base64.encodebytes(der)
    return b"-----BEGIN CMS-----\n" + body + b"-----END CMS-----\n"


@pytest.mark.parametrize("shape", ["der", "pem", "base64", "base64 lines"])
def test_every_shape_of_one_detached_signature(
    pki: TestPKI, trust: TrustAnchors, protocol_pdf: bytes, shape: str
) -> None:
    der = create_cms(protocol_pdf, pki.credential(TESTOV.iin))
    data = {
        "der": der,
        "pem": pem(der),
        "base64": base64.b64encode(der),
        "base64 lines": base64.encodebytes(der),
    }[shape]

    report = verify_any(data, protocol_pdf, trust=trust)

    assert report.format == "cms"
    assert report.ok, report
    (signer,) = report.signers
    assert signer.intact
    assert signer.algorithm == "rsa-sha256"
    assert signer.signer is not None
    assert signer.signer.iin == TESTOV.iin
    body = signer.to_json()
    assert body["result"] == "valid"
    assert body["codes"] == []
    assert body["certificate"]["serial"] == signer.signer.serial_hex


def test_attached_needs_no_content_and_a_wrong_one_is_named(
    pki: TestPKI, trust: TrustAnchors, protocol_pdf: bytes
) -> None:
    der = create_cms(protocol_pdf, pki.credential(TESTOV.iin), attach=True)

    assert verify_any(der, trust=trust).ok
    (signer,) = verify_any(der, b"other bytes", trust=trust).signers
    assert signer.codes == (FailureCode.CONTENT_MISMATCH,)


def test_detached_without_its_document_is_indeterminate(
    pki: TestPKI, trust: TrustAnchors, protocol_pdf: bytes
) -> None:
    der = create_cms(protocol_pdf, pki.credential(TESTOV.iin))

    report = verify_any(der, trust=trust)

    (signer,) = report.signers
    assert report.status is Status.INDETERMINATE
    assert not signer.intact
    assert signer.codes == (FailureCode.NO_CONTENT,)


def test_detached_with_other_bytes_fails_its_digest(
    pki: TestPKI, trust: TrustAnchors, protocol_pdf: bytes
) -> None:
    der = create_cms(protocol_pdf, pki.credential(TESTOV.iin))

    (signer,) = verify_any(der, protocol_pdf + b" ", trust=trust).signers

    assert not signer.intact
    assert signer.codes == (FailureCode.DIGEST_MISMATCH,)


def test_a_combined_p7s_reports_each_signer(
    pki: TestPKI, trust: TrustAnchors, specials: Specials, protocol_pdf: bytes
) -> None:
    signatures = [create_cms(protocol_pdf, pki.credential(m.iin)) for m in (TESTOV, AKHMETOVA)]
    signatures.append(create_cms(protocol_pdf, specials.revoked))
    combined = combine_signatures(signatures)

    report = verify_any(combined, protocol_pdf, trust=trust)

    assert report.status is Status.INVALID
    by_serial = {s.signer.serial_hex: s for s in report.signers if s.signer}
    assert len(by_serial) == 3
    revoked_serial = f"{specials.revoked.certificate.serial_number:x}"
    for serial, signer in by_serial.items():
        assert signer.intact
        if serial.lstrip("0") == revoked_serial:
            assert signer.codes == (FailureCode.REVOKED,)
        else:
            assert signer.status is Status.VALID
    assert {s.signer.iin for s in report.signers if s.signer} == {TESTOV.iin, AKHMETOVA.iin}


def test_signing_time_and_a_fixed_moment(
    pki: TestPKI, trust: TrustAnchors, specials: Specials, protocol_pdf: bytes
) -> None:
    """The expired certificate signed while it was valid: judged now it is expired, at its
    signing time (or any moment in its validity) it is not."""
    certificate = specials.expired.certificate
    during = certificate.not_valid_before_utc + timedelta(hours=1)
    der = create_cms(protocol_pdf, specials.expired, signing_time=during)

    now = verify_any(der, protocol_pdf, trust=trust, revocation=OFF)
    at_signing = verify_any(der, protocol_pdf, trust=trust, revocation=OFF, at=At.signing_time())
    at_moment = verify_any(
        der, protocol_pdf, trust=trust, revocation=OFF, at=At.parse(during.isoformat())
    )

    assert FailureCode.EXPIRED in now.signers[0].codes
    assert at_signing.signers[0].judged_at == during
    assert at_signing.ok, at_signing.signers[0].failures
    assert at_moment.ok, at_moment.signers[0].failures


@pytest.mark.parametrize("text", ["tomorrow", "2026-13-01", ""])
def test_a_moment_that_is_not_one_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="ISO-8601"):
        At.parse(text)


def test_a_date_without_an_offset_is_utc() -> None:
    at = At.parse("2024-06-20")
    assert at.instant is not None
    assert at.instant.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"not a signature at all",
        b"\x30\x03\x02\x01",
        b"-----BEGIN CMS-----\n!!\n-----END CMS-----\n",
    ],
)
def test_garbage_is_malformed(trust: TrustAnchors, data: bytes) -> None:
    report = verify_any(data, trust=trust)

    assert report.format == "cms"
    assert report.signers == ()
    assert report.status is Status.INVALID
    assert [f.code for f in report.failures] == [FailureCode.MALFORMED]


def test_a_too_large_file_is_refused(trust: TrustAnchors) -> None:
    report = verify_any(b"A" * (5 * 1024 * 1024), trust=trust)

    assert [f.code for f in report.failures] == [FailureCode.TOO_LARGE]


# ------------------------------------------------------------------------ real NCA signatures


def test_real_ncanode_rsa_cms_is_intact(trust: TrustAnchors) -> None:
    report = verify_any(
        (DATA / "cms_ncanode_attached_rsa.p7s").read_bytes(), trust=trust, revocation=OFF
    )

    (signer,) = report.signers
    assert signer.intact
    assert signer.algorithm == "rsa-sha256"
    assert signer.signer is not None
    assert signer.signer.iin == "123456789011"
    assert signer.codes == (FailureCode.UNTRUSTED,)  # an NCA test CA, not qujat's


def test_real_ncanode_rsa_cms_with_a_flipped_byte_fails(trust: TrustAnchors) -> None:
    der = bytearray((DATA / "cms_ncanode_attached_rsa.p7s").read_bytes())
    der[-10] ^= 0x01  # inside the signature value, the last field of the file

    (signer,) = verify_any(bytes(der), trust=trust, revocation=OFF).signers

    assert not signer.intact
    assert FailureCode.BAD_SIGNATURE in signer.codes


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("cms_ncanode_attached_gost_rsa.p7s", None),
        ("cms_ncanode_detached_gost_rsa.p7s", NCA_CONTENT),
    ],
)
def test_real_ncanode_two_signer_cms_names_both_algorithms(
    trust: TrustAnchors, name: str, content: bytes | None
) -> None:
    report = verify_any((DATA / name).read_bytes(), content, trust=trust, revocation=OFF)

    assert sorted(s.algorithm for s in report.signers) == ["gost2015-512", "rsa-sha256"]
    for signer in report.signers:
        assert signer.intact, signer.failures
        assert signer.codes == (FailureCode.UNTRUSTED,)  # NCA test CAs, not qujat's


def test_real_ncanode_gost_cms_over_other_bytes_fails(trust: TrustAnchors) -> None:
    data = (DATA / "cms_ncanode_detached_gost_rsa.p7s").read_bytes()

    report = verify_any(data, b"test124", trust=trust, revocation=OFF)

    for signer in report.signers:
        assert not signer.intact
        assert FailureCode.DIGEST_MISMATCH in signer.codes


def test_real_base64_cms_with_a_timestamp_is_read(trust: TrustAnchors) -> None:
    report = verify_any(
        (DATA / "cms_mitwork_gost2015_tsp.b64").read_bytes(), trust=trust, revocation=OFF
    )

    (signer,) = report.signers
    assert signer.algorithm == "gost2015-512"
    assert signer.intact, signer.failures  # attached: the content is in the file
    assert signer.signer is not None
    assert signer.signer.bin == "123456789021"


def test_decode_cms_passes_der_through(pki: TestPKI, protocol_pdf: bytes) -> None:
    der = create_cms(protocol_pdf, pki.credential(IVANOV.iin))

    assert decode_cms(der) == der
    assert decode_cms(pem(der)) == der


def test_algorithm_names(pki: TestPKI, specials: Specials, protocol_pdf: bytes) -> None:
    from asn1crypto import cms

    def name(der: bytes) -> str:
        info = cms.ContentInfo.load(der)["content"]["signer_infos"][0]
        return cms_algorithm(info)

    credential = pki.credential(TESTOV.iin)
    assert name(create_cms(protocol_pdf, credential, digest_algorithm="sha512")) == "rsa-sha512"
    assert name(create_cms(protocol_pdf, credential, rsa_padding="pss")) == "rsa-pss-sha256"
    assert name(create_cms(protocol_pdf, specials.ecdsa_p256)) == "ecdsa-sha256"
