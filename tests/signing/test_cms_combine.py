"""combine_signatures, and interoperability with the real `openssl cms` in both directions."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from asn1crypto import cms
from conftest import AKHMETOVA, IVANOV, TESTOV
from cryptography.hazmat.primitives import serialization

from signing import FailureCode, TrustAnchors, combine_signatures, verify_detached_cms
from signing.client import create_cms
from signing.pki import TestPKI

OPENSSL = shutil.which("openssl")
MEMBERS = (TESTOV, AKHMETOVA, IVANOV)


def openssl_verify(p7s: Path, content: Path, ca_file: Path) -> subprocess.CompletedProcess[str]:
    assert OPENSSL is not None, "openssl is required for the interoperability tests"
    return subprocess.run(
        [
            OPENSSL, "cms", "-verify", "-binary", "-inform", "DER",
            "-content", str(content), "-in", str(p7s), "-CAfile", str(ca_file),
            "-purpose", "any", "-out", "/dev/null",
        ],
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip


@pytest.fixture
def signed_protocol(pki: TestPKI, protocol_pdf: bytes, tmp_path: Path) -> tuple[Path, list[bytes]]:
    """protocol.pdf and each member's detached NCALayer-style signature (signer cert only)."""
    pdf = tmp_path / "protocol.pdf"
    pdf.write_bytes(protocol_pdf)
    return pdf, [create_cms(protocol_pdf, pki.credential(m.iin)) for m in MEMBERS]


def test_combined_p7s_passes_openssl_cms_verify(
    pki: TestPKI, signed_protocol: tuple[Path, list[bytes]], tmp_path: Path
) -> None:
    pdf, signatures = signed_protocol
    p7s = tmp_path / "protocol.p7s"
    p7s.write_bytes(
        combine_signatures(signatures, extra_certificates=[pki.intermediate_path.read_bytes()])
    )

    result = openssl_verify(p7s, pdf, pki.root_path)

    assert result.returncode == 0, result.stderr
    assert "Verification successful" in result.stderr


def test_combined_p7s_holds_every_signer_and_each_certificate_once(
    pki: TestPKI, signed_protocol: tuple[Path, list[bytes]]
) -> None:
    _, signatures = signed_protocol
    intermediate = pki.intermediate_path.read_bytes()
    combined = combine_signatures(
        [*signatures, signatures[0]], extra_certificates=[intermediate, intermediate]
    )

    signed_data = cms.ContentInfo.load(combined)["content"]
    assert len(signed_data["signer_infos"]) == len(MEMBERS)
    assert len(signed_data["certificates"]) == len(MEMBERS) + 1
    assert [a["algorithm"].native for a in signed_data["digest_algorithms"]] == ["sha256"]
    assert signed_data["encap_content_info"]["content"].native is None


def test_openssl_refuses_the_combined_p7s_over_changed_content(
    pki: TestPKI, signed_protocol: tuple[Path, list[bytes]], tmp_path: Path
) -> None:
    pdf, signatures = signed_protocol
    p7s = tmp_path / "protocol.p7s"
    p7s.write_bytes(
        combine_signatures(signatures, extra_certificates=[pki.intermediate_path.read_bytes()])
    )
    pdf.write_bytes(pdf.read_bytes() + b" ")

    assert openssl_verify(p7s, pdf, pki.root_path).returncode != 0


def test_attached_signatures_are_combined_detached(
    pki: TestPKI, protocol_pdf: bytes, tmp_path: Path
) -> None:
    signatures = [create_cms(protocol_pdf, pki.credential(m.iin), attach=True) for m in MEMBERS]
    p7s = tmp_path / "protocol.p7s"
    pdf = tmp_path / "protocol.pdf"
    p7s.write_bytes(
        combine_signatures(signatures, extra_certificates=[pki.intermediate_path.read_bytes()])
    )
    pdf.write_bytes(protocol_pdf)

    assert openssl_verify(p7s, pdf, pki.root_path).returncode == 0


def test_signatures_over_different_content_are_not_combined(
    pki: TestPKI, protocol_pdf: bytes
) -> None:
    first = create_cms(protocol_pdf, pki.credential(TESTOV.iin))
    second = create_cms(protocol_pdf + b"!", pki.credential(IVANOV.iin))
    with pytest.raises(ValueError, match="different content"):
        combine_signatures([first, second])


@pytest.mark.parametrize("bad", [b"", b"\x30\x00", b"garbage"])
def test_malformed_input_is_not_combined(pki: TestPKI, protocol_pdf: bytes, bad: bytes) -> None:
    good = create_cms(protocol_pdf, pki.credential(TESTOV.iin))
    with pytest.raises(ValueError, match="signature #2"):
        combine_signatures([good, bad])


def test_nothing_to_combine() -> None:
    with pytest.raises(ValueError, match="no signatures"):
        combine_signatures([])


def test_our_single_signature_passes_openssl(
    pki: TestPKI, protocol_pdf: bytes, tmp_path: Path
) -> None:
    pdf, p7s = tmp_path / "protocol.pdf", tmp_path / "one.p7s"
    pdf.write_bytes(protocol_pdf)
    p7s.write_bytes(create_cms(protocol_pdf, pki.credential(AKHMETOVA.iin), include_chain=True))

    result = openssl_verify(p7s, pdf, pki.root_path)

    assert result.returncode == 0, result.stderr


def test_openssl_made_signature_verifies(
    pki: TestPKI, trust: TrustAnchors, protocol_pdf: bytes, tmp_path: Path
) -> None:
    assert OPENSSL is not None
    credential = pki.credential(IVANOV.iin)
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    key.write_bytes(
        credential.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    cert.write_bytes(credential.certificate.public_bytes(serialization.Encoding.PEM))
    pdf, p7s = tmp_path / "protocol.pdf", tmp_path / "openssl.p7s"
    pdf.write_bytes(protocol_pdf)
    subprocess.run(
        [
            OPENSSL, "cms", "-sign", "-binary", "-outform", "DER", "-md", "sha256",
            "-in", str(pdf), "-signer", str(cert), "-inkey", str(key), "-out", str(p7s),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip

    report = verify_detached_cms(
        p7s.read_bytes(), protocol_pdf, trust=trust, expected_iin=IVANOV.iin
    )

    assert report.ok, report.failures
    tampered = verify_detached_cms(p7s.read_bytes(), protocol_pdf[:-1], trust=trust)
    assert tampered.codes == (FailureCode.DIGEST_MISMATCH,)
