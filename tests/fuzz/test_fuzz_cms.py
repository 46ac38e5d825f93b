"""The CMS/ASN.1 intake, fuzzed: whatever bytes or base64 text a caller sends as a
signature, the signing library answers with a report (a refusal with its failure code),
never an exception. The damaged inputs start from a real signature of the test PKI, so
they reach the ASN.1 parser, the certificate checks and the signature maths."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from signing import (
    SignatureReport,
    SignedDataReport,
    TrustAnchors,
    combine_signatures,
    verify_base64_cms,
    verify_cms_signers,
    verify_detached_cms,
)
from signing.client import create_cms
from signing.pki import TestPKI
from tests.conftest import NOW
from tests.fuzz.conftest import OTHER, SIGNER
from tests.fuzz.strategies import flipped

CONTENT = b"%PDF-1.7\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"


@pytest.fixture(scope="module")
def trust(fuzz_pki: TestPKI) -> TrustAnchors:
    return TrustAnchors.from_folder(fuzz_pki.directory)


@pytest.fixture(scope="module")
def signature(fuzz_pki: TestPKI) -> bytes:
    return create_cms(CONTENT, fuzz_pki.credential(SIGNER.iin), signing_time=NOW)


@pytest.fixture(scope="module")
def combined(fuzz_pki: TestPKI, signature: bytes) -> bytes:
    other = create_cms(CONTENT, fuzz_pki.credential(OTHER.iin), signing_time=NOW)
    return combine_signatures([signature, other])


def test_the_undamaged_signature_is_valid(trust: TrustAnchors, signature: bytes) -> None:
    assert verify_detached_cms(signature, CONTENT, trust=trust, now=NOW).ok


@given(data=st.data())
def test_damaged_der_gets_a_report(
    trust: TrustAnchors, signature: bytes, data: st.DataObject
) -> None:
    damaged = data.draw(flipped(signature))
    report = verify_detached_cms(damaged, CONTENT, trust=trust, now=NOW, expected_iin=SIGNER.iin)
    assert isinstance(report, SignatureReport)
    # a byte outside what is signed (the SignedData's own version, say) may change and
    # leave a valid signature: still the same signer over the same content
    if report.ok:
        assert report.signer is not None
        assert report.signer.iin == SIGNER.iin


@given(data=st.data())
def test_damaged_combined_file_gets_a_report_per_signer(
    trust: TrustAnchors, combined: bytes, data: st.DataObject
) -> None:
    report = verify_cms_signers(data.draw(flipped(combined)), CONTENT, trust=trust, now=NOW)
    assert isinstance(report, SignedDataReport)


@given(st.binary(max_size=400) | st.text(max_size=200))
def test_any_base64_text_or_bytes_gets_a_report(trust: TrustAnchors, text: bytes | str) -> None:
    report = verify_base64_cms(text, CONTENT, trust=trust, now=NOW)
    assert isinstance(report, SignatureReport)
    assert not report.ok


@given(data=st.data())
def test_damaged_signature_as_base64_gets_a_report(
    trust: TrustAnchors, signature: bytes, data: st.DataObject
) -> None:
    text = base64.b64encode(data.draw(flipped(signature))).decode("ascii")
    assert isinstance(verify_base64_cms(text, CONTENT, trust=trust, now=NOW), SignatureReport)


