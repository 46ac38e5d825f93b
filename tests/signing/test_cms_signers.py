"""verify_cms_signers: every SignerInfo of one SignedData (a combined .p7s), signer by signer."""

from __future__ import annotations

from asn1crypto import cms
from cms_tamper import edit
from conftest import AKHMETOVA, IVANOV, TESTOV, Specials

from signing import (
    MAX_SIGNERS,
    FailureCode,
    SignedDataReport,
    Status,
    TrustAnchors,
    combine_signatures,
    verify_cms_signers,
    verify_detached_cms,
)
from signing.client import create_cms
from signing.pki import TestPKI

MEMBERS = (TESTOV, AKHMETOVA, IVANOV)


def combined(pki: TestPKI, content: bytes, *extra: bytes) -> bytes:
    signatures = [create_cms(content, pki.credential(m.iin)) for m in MEMBERS]
    return combine_signatures(
        [*signatures, *extra], extra_certificates=[pki.intermediate_path.read_bytes()]
    )


def common_names(report: SignedDataReport) -> list[str]:
    return [s.signer.common_name if s.signer else "" for s in report.signers]


def test_every_signer_of_a_combined_p7s_is_verified(
    pki: TestPKI, trust: TrustAnchors, protocol_pdf: bytes
) -> None:
    report = verify_cms_signers(combined(pki, protocol_pdf), protocol_pdf, trust=trust)

    assert report.ok, report
    assert report.status is Status.VALID
    assert report.failures == ()
    # a SET OF in DER: the file keeps its signers in the order of their encodings
    assert sorted(common_names(report)) == sorted(m.common_name for m in MEMBERS)
    assert sorted(s.signer.iin for s in report.signers if s.signer) == sorted(
        m.iin for m in MEMBERS
    )
    for signer in report.signers:
        assert signer.ok, signer.failures
        assert signer.intact
        assert signer.valid
        assert signer.trusted
        assert signer.signing_time is not None


def test_a_changed_byte_makes_every_signer_invalid(
    pki: TestPKI, trust: TrustAnchors, protocol_pdf: bytes
) -> None:
    changed = bytearray(protocol_pdf)
    changed[len(changed) // 2] ^= 0x01

    report = verify_cms_signers(combined(pki, protocol_pdf), bytes(changed), trust=trust)

    assert report.status is Status.INVALID
    assert len(report.signers) == len(MEMBERS)
    for signer in report.signers:
        assert signer.codes == (FailureCode.DIGEST_MISMATCH,)
        assert signer.signer is not None  # still says who signed


def test_one_signer_is_a_report_of_one_as_verify_detached_cms_gives_it(
    pki: TestPKI, trust: TrustAnchors, protocol_pdf: bytes
) -> None:
    single = create_cms(protocol_pdf, pki.credential(AKHMETOVA.iin))

    report = verify_cms_signers(single, protocol_pdf, trust=trust)

    assert report.ok
    assert common_names(report) == [AKHMETOVA.common_name]
    alone = verify_detached_cms(single, protocol_pdf, trust=trust)
    assert report.signers[0].status is alone.status
    assert report.signers[0].signer == alone.signer


def test_one_bad_signer_among_good_ones(
    pki: TestPKI, trust: TrustAnchors, specials: Specials, protocol_pdf: bytes
) -> None:
    revoked = create_cms(protocol_pdf, specials.revoked)

    report = verify_cms_signers(combined(pki, protocol_pdf, revoked), protocol_pdf, trust=trust)

    assert report.status is Status.INVALID
    by_serial = {int(s.signer.serial_hex, 16): s for s in report.signers if s.signer}
    assert len(by_serial) == 4
    bad = by_serial.pop(specials.revoked.certificate.serial_number)
    assert bad.status is Status.INVALID
    assert FailureCode.REVOKED in bad.codes
    assert [s.status for s in by_serial.values()] == [Status.VALID] * 3
    # the single-signer check still refuses this file as a whole
    assert verify_detached_cms(combined(pki, protocol_pdf), protocol_pdf, trust=trust).codes == (
        FailureCode.SIGNER_COUNT,
    )


def test_unreadable_files_have_file_level_failures_and_no_signers(
    pki: TestPKI, trust: TrustAnchors, protocol_pdf: bytes
) -> None:
    for bad in (b"", b"garbage", b"\x30\x00"):
        report = verify_cms_signers(bad, protocol_pdf, trust=trust)
        assert report.signers == ()
        assert report.codes == (FailureCode.MALFORMED,)
        assert report.status is Status.INVALID

    big = combined(pki, protocol_pdf)
    report = verify_cms_signers(big, protocol_pdf, trust=trust, max_size=len(big) - 1)
    assert report.codes == (FailureCode.TOO_LARGE,)
    assert report.signers == ()


def test_no_signer_and_too_many_signers_are_refused(
    pki: TestPKI, trust: TrustAnchors, protocol_pdf: bytes
) -> None:
    def no_signers(signed_data: cms.SignedData) -> None:
        signed_data["signer_infos"] = cms.SignerInfos([])

    empty = edit(create_cms(protocol_pdf, pki.credential(TESTOV.iin)), no_signers)
    report = verify_cms_signers(empty, protocol_pdf, trust=trust)
    assert report.codes == (FailureCode.SIGNER_COUNT,)
    assert report.status is Status.INVALID
    assert report.signers == ()

    three = combined(pki, protocol_pdf)
    report = verify_cms_signers(three, protocol_pdf, trust=trust, max_signers=2)
    assert report.codes == (FailureCode.SIGNER_COUNT,)
    assert report.signers == ()
    assert MAX_SIGNERS >= 100  # a commission of 99 members and its secretary
