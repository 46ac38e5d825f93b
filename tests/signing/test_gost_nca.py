"""GOST on real NCA material that qujat did not make (tests/signing/data/nca/README.md).

These tests fix the byte conventions of signing.gost: they hold on NCA's own signatures over CMS
signed attributes, certificates, CRLs and OCSP answers, and the other plausible layouts fail.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from asn1crypto import cms, crl, ocsp
from asn1crypto import x509 as asn1_x509

from signing import FailureCode, Status, gost, verify_cms_signers, verify_detached_cms
from signing.trust import RevocationMode, RevocationPolicy, TrustAnchors

DATA = Path(__file__).parent / "data" / "nca"
# The NCANode CMS files are kept once, beside the other public signatures (data/README.md).
CMS = {"attached": DATA.parent / "cms_ncanode_attached_gost_rsa.p7s",
       "detached": DATA.parent / "cms_ncanode_detached_gost_rsa.p7s"}
CONTENT = b"test123"
# After the GOST signer signed (2022-09-27), within its certificate and the CRL's validity.
NOW = datetime(2022, 9, 28, 12, 0, tzinfo=UTC)
NO_REVOCATION = RevocationPolicy(mode=RevocationMode.OFF)


def read(name: str) -> bytes:
    return (DATA / name).read_bytes()


def nca_ca() -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(read("nca_gost2022_test.cer"))


def only_ca_trust() -> TrustAnchors:
    """The real issuing CA as the anchor (its root is not among the public copies found)."""
    return TrustAnchors(roots=(nca_ca(),))


def gost_signer_info(der: bytes) -> tuple[cms.SignerInfo, asn1_x509.Certificate]:
    signed_data = cms.ContentInfo.load(der)["content"]
    signer_info = signed_data["signer_infos"][0]
    assert signer_info["signature_algorithm"]["algorithm"].dotted == gost.KZ_GOST2015_512_SIGNATURE
    cert = signed_data["certificates"][0].chosen
    return signer_info, cert


def flip(der: bytes, part: bytes, offset: int = 10) -> bytes:
    at = der.index(part) + offset
    assert der.count(part) == 1
    return der[:at] + bytes([der[at] ^ 0x01]) + der[at + 1 :]


@pytest.mark.parametrize("name", ["attached", "detached"])
def test_nca_gost_512_cades_signature_is_intact_and_its_value_verifies(name: str) -> None:
    report = verify_cms_signers(
        CMS[name].read_bytes(), CONTENT, trust=only_ca_trust(), now=NOW, revocation=NO_REVOCATION
    )
    gost_report, rsa_report = report.signers
    assert gost_report.algorithm == "gost2015-512"
    assert gost_report.intact
    assert gost_report.valid
    assert gost_report.signer is not None
    assert gost_report.signer.common_name == "ТЕСТТОВ ТЕСТТ"
    assert gost_report.signing_time is not None
    assert gost_report.signing_time.date().isoformat() == "2022-09-27"
    # the GOST signer's certificate chains to the real GOST CA: the whole answer is valid
    assert gost_report.trusted, gost_report.failures
    assert gost_report.status is Status.VALID
    # the RSA co-signer's own CA is not configured here: intact, valid, untrusted
    assert rsa_report.algorithm == "rsa-sha256"
    assert rsa_report.intact
    assert rsa_report.valid
    assert rsa_report.codes == (FailureCode.UNTRUSTED,)


def test_one_changed_byte_of_content_is_a_digest_mismatch() -> None:
    report = verify_cms_signers(
        CMS["detached"].read_bytes(),
        b"test124",
        trust=only_ca_trust(),
        now=NOW,
        revocation=NO_REVOCATION,
    )
    gost_report = report.signers[0]
    assert gost_report.codes == (FailureCode.DIGEST_MISMATCH,)
    assert not gost_report.intact
    assert gost_report.valid  # the signed attributes themselves are untouched
    assert report.status is Status.INVALID


def test_one_changed_byte_of_attached_content_is_a_content_mismatch() -> None:
    der = CMS["attached"].read_bytes()
    changed = der.replace(b"\x04\x07test123", b"\x04\x07test124")
    report = verify_cms_signers(
        changed, CONTENT, trust=only_ca_trust(), now=NOW, revocation=NO_REVOCATION
    )
    assert report.signers[0].codes == (FailureCode.CONTENT_MISMATCH,)


@pytest.mark.parametrize("offset", [0, 63, 64, 127])
def test_one_changed_byte_of_the_signature_value_is_a_bad_signature(offset: int) -> None:
    der = CMS["detached"].read_bytes()
    signer_info, _ = gost_signer_info(der)
    changed = flip(der, signer_info["signature"].native, offset)
    report = verify_cms_signers(
        changed, CONTENT, trust=only_ca_trust(), now=NOW, revocation=NO_REVOCATION
    )
    gost_report, rsa_report = report.signers
    assert gost_report.codes == (FailureCode.BAD_SIGNATURE,)
    assert gost_report.intact
    assert not gost_report.valid
    assert rsa_report.valid


def test_one_changed_byte_of_a_signed_attribute_is_a_bad_signature() -> None:
    der = CMS["detached"].read_bytes()
    signer_info, _ = gost_signer_info(der)
    time_attribute = next(
        a for a in signer_info["signed_attrs"] if a["type"].native == "signing_time"
    )
    encoded = time_attribute["values"][0].dump()  # UTCTime: tag, length, YYMMDDhhmmssZ
    changed = der.replace(encoded, encoded[:-2] + bytes([encoded[-2] ^ 0x01]) + b"Z", 1)
    assert changed != der
    report = verify_cms_signers(
        changed, CONTENT, trust=only_ca_trust(), now=NOW, revocation=NO_REVOCATION
    )
    assert report.signers[0].codes == (FailureCode.BAD_SIGNATURE,)


def test_the_byte_layout_is_nca_s_and_not_rfc_4491_s() -> None:
    signer_info, cert = gost_signer_info(CMS["attached"].read_bytes())
    curve, point = gost.spki_public_key(cert["tbs_certificate"]["subject_public_key_info"])
    assert curve.oid == "1.2.398.3.10.1.1.2.2.1"
    signed = cms.CMSAttributes(contents=signer_info["signed_attrs"].contents).dump()
    digest = gost.streebog512(signed)
    value: bytes = signer_info["signature"].native
    r, s = gost.decode_signature(curve, value)
    assert gost.verify_digest(curve, point, digest, r, s)
    assert gost.encode_signature(curve, r, s) == value
    assert gost.encode_signature_rfc4491(curve, r, s) == value[::-1]
    # the other readings fail: RFC 4491 (s ‖ r big-endian), r ‖ s big-endian, reversed digest
    s_be, r_be = int.from_bytes(value[:64], "big"), int.from_bytes(value[64:], "big")
    assert not gost.verify_digest(curve, point, digest, r_be, s_be)
    assert not gost.verify_digest(curve, point, digest, s_be, r_be)
    assert not gost.verify_digest(curve, point, digest[::-1], r, s)
    # and the key is little-endian: read big-endian, it is not on the curve
    raw = gost.encode_public_key(curve, point)[3:]
    with pytest.raises(ValueError, match="not on the curve"):
        curve.point(int.from_bytes(raw[:64], "big"), int.from_bytes(raw[64:], "big"))


def test_a_real_nca_gost_certificate_verifies_against_its_real_issuer() -> None:
    _, cert = gost_signer_info(CMS["attached"].read_bytes())
    issuer = nca_ca()
    assert cert.issuer == issuer.subject
    sig_oid = cert["signature_algorithm"]["algorithm"].dotted
    tbs = cert["tbs_certificate"].dump()
    assert gost.verify_signed_data(sig_oid, tbs, cert["signature_value"].native, issuer.public_key)
    # not by its own key, and not once a byte of the certificate changes
    assert not gost.verify_signed_data(
        sig_oid, tbs, cert["signature_value"].native, cert.public_key
    )
    changed = tbs[:-5] + bytes([tbs[-5] ^ 1]) + tbs[-4:]
    assert not gost.verify_signed_data(
        sig_oid, changed, cert["signature_value"].native, issuer.public_key
    )


def test_a_real_nca_gost_crl_verifies_against_its_issuer() -> None:
    revocation_list = crl.CertificateList.load(read("nca_gost2022_test.crl"))
    issuer = nca_ca()
    assert revocation_list.issuer == issuer.subject
    assert gost.verify_signed_data(
        revocation_list["signature_algorithm"]["algorithm"].dotted,
        revocation_list["tbs_cert_list"].dump(),
        revocation_list["signature"].native,
        issuer.public_key,
    )


@pytest.mark.parametrize("name", ["ocsp_individual_2015.der", "ocsp_ceo_2015.der"])
def test_real_nca_gost_ocsp_answers_verify_and_their_responder_is_the_ca_s(name: str) -> None:
    basic = ocsp.OCSPResponse.load(read(name))["response_bytes"]["response"].parsed
    responder = basic["certs"][0]
    sig_oid = basic["signature_algorithm"]["algorithm"].dotted
    assert gost.verify_signed_data(
        sig_oid, basic["tbs_response_data"].dump(), basic["signature"].native, responder.public_key
    )
    assert gost.verify_signed_data(
        responder["signature_algorithm"]["algorithm"].dotted,
        responder["tbs_certificate"].dump(),
        responder["signature_value"].native,
        nca_ca().public_key,
    )


def test_a_gost_34_310_2004_key_is_refused_as_unsupported_with_a_clear_message() -> None:
    old = asn1_x509.Certificate.load(read("gost2004_ceo_sign.cer"))
    with pytest.raises(
        gost.UnsupportedGost, match=r"GOST 34\.310-2004 key \(1\.2\.398\.3\.10\.1\.1\.1\.1\)"
    ):
        gost.spki_public_key(old["tbs_certificate"]["subject_public_key_info"])

    # a SignerInfo whose certificate is that one: unsupported_algorithm, indeterminate
    def to_old_signer(der: bytes) -> bytes:
        info = cms.ContentInfo.load(der)
        signed_data = info["content"]
        signed_data["certificates"] = cms.CertificateSet(
            [cms.CertificateChoices("certificate", old)]
        )
        signer_info = signed_data["signer_infos"][0]
        signer_info["sid"] = cms.SignerIdentifier(
            "issuer_and_serial_number",
            cms.IssuerAndSerialNumber({"issuer": old.issuer, "serial_number": old.serial_number}),
        )
        signer_info["signature_algorithm"] = {"algorithm": "1.2.398.3.10.1.1.1.2"}
        signed_data["signer_infos"] = cms.SignerInfos([signer_info])
        dumped: bytes = info.dump(force=True)
        return dumped

    report = verify_detached_cms(
        to_old_signer(CMS["detached"].read_bytes()),
        CONTENT,
        trust=only_ca_trust(),
        now=NOW,
        revocation=NO_REVOCATION,
    )
    assert report.codes == (FailureCode.UNSUPPORTED_ALGORITHM,)
    assert report.status is Status.INDETERMINATE
    assert "GOST 34.310-2004" in report.failures[0].detail


PROBE_WITHOUT_PROVIDER = """
import json, sys
from datetime import UTC, datetime
from pathlib import Path
from asn1crypto import x509
from signing import gost, verify_cms_signers
from signing.trust import RevocationMode, RevocationPolicy, TrustAnchors
data = Path(sys.argv[1])
ca = x509.Certificate.load((data / "nca_gost2022_test.cer").read_bytes())
report = verify_cms_signers(
    (data.parent / "cms_ncanode_detached_gost_rsa.p7s").read_bytes(), b"test123",
    trust=TrustAnchors(roots=(ca,)), now=datetime(2022, 9, 28, tzinfo=UTC),
    revocation=RevocationPolicy(mode=RevocationMode.OFF))
try:
    gost.streebog512(b"x")
    raised = ""
except gost.GostUnavailable as exc:
    raised = str(exc)
first = report.signers[0]
print(json.dumps({"available": gost.streebog_available(), "raised": raised,
                  "gost": [first.status, [str(f.code) for f in first.failures],
                           [f.detail for f in first.failures]],
                  "rsa_valid": report.signers[1].valid}))
"""


def test_without_the_gost_provider_gost_is_unsupported_naming_the_package_and_rsa_still_works() -> (
    None
):
    """OpenSSL looks for providers in OPENSSL_MODULES; pointed elsewhere, gostprov is missing."""
    env = {**os.environ, "OPENSSL_MODULES": str(DATA / "no-such-folder")}
    result = subprocess.run(
        [sys.executable, "-c", PROBE_WITHOUT_PROVIDER, str(DATA)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=120,
    )
    found = json.loads(result.stdout)
    assert found["available"] is False
    assert "libengine-gost-openssl" in found["raised"]
    status, failure_codes, details = found["gost"]
    assert status == "indeterminate"
    assert failure_codes == ["unsupported_algorithm"]
    assert "libengine-gost-openssl" in details[0]
    assert found["rsa_valid"] is True
