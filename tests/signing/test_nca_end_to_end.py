"""Material qujat did not make, end to end: a CMS that Kalkan signed with an NCA test GOST-512
key (NCANode's test resources) is judged against the national CA's test anchors that qujat
ships (`qujat trust init --test`) and the GOST CRL that CA published. Nothing here was made by
qujat's own signer, PKI or anchors code: the signer, the chain, the CRL and the bytes are the
CA's and Kalkan's."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

from signing.anchors import write_trust_folder
from signing.inspect import At, verify_any
from signing.trust import RevocationMode, RevocationPolicy, TrustAnchors

NCA = Path(__file__).parent / "data" / "nca"
SIGNED = (NCA.parent / "cms_ncanode_attached_gost_rsa.p7s").read_bytes()
GOST_SIGNER_IIN = "123456789012"
# a day after Kalkan signed (2022-09-27); a year the test CA's GOST CRL covers
SOME_DAY_IN_2022 = datetime(2022, 10, 1, tzinfo=UTC)


def trust_folder(tmp_path: Path, *, with_crl: bool) -> TrustAnchors:
    folder = tmp_path / "trust"
    write_trust_folder(folder, "test")
    (folder / "revocation.json").unlink()  # no downloads: the test CA's addresses are not here
    if with_crl:
        shutil.copyfile(NCA / "nca_gost2022_test.crl", folder / "nca_gost2022_test.crl")
    return TrustAnchors.from_folder(folder)


def gost_signer(
    trust: TrustAnchors, data: bytes, mode: RevocationMode
) -> tuple[bool, str, list[str]]:
    report = verify_any(
        data,
        trust=trust,
        at=At.signing_time(),
        revocation=RevocationPolicy(mode),
        clock=lambda: SOME_DAY_IN_2022,
    )
    [signer] = [s for s in report.to_json()["signers"] if s["iin"] == GOST_SIGNER_IIN]
    assert signer["algorithm"] == "gost2015-512"
    return signer["intact"], signer["result"], signer["codes"]


def test_kalkans_gost_signature_is_valid_under_the_shipped_test_anchors_and_the_cas_crl(
    tmp_path: Path,
) -> None:
    trust = trust_folder(tmp_path, with_crl=True)
    # the CA's own CRL is read, its GOST signature checked, and the signer is not on it
    assert len(trust.crls) == 1
    assert gost_signer(trust, SIGNED, RevocationMode.SOFT_FAIL) == (True, "valid", [])
    # "require" also wants the root's CRL for the intermediate, which has no public copy
    intact, result, codes = gost_signer(trust, SIGNED, RevocationMode.REQUIRE)
    assert (intact, result, codes) == (True, "indeterminate", ["revocation_unknown"])


def test_without_the_test_anchors_the_same_signature_is_intact_but_not_trusted(
    tmp_path: Path,
) -> None:
    # a folder with the national CA's RSA test CA only: the GOST chain has no anchor
    folder = tmp_path / "rsa-only"
    folder.mkdir()
    shutil.copyfile(
        Path(write_trust_folder(tmp_path / "all", "test")[0]).parent / "nca_rsa_test.cer",
        folder / "nca_rsa_test.cer",
    )
    intact, result, codes = gost_signer(
        TrustAnchors.from_folder(folder), SIGNED, RevocationMode.OFF
    )
    assert (intact, result) == (True, "invalid")
    assert codes == ["untrusted"]


def test_one_flipped_byte_in_the_gost_signature_value_breaks_it(tmp_path: Path) -> None:
    trust = trust_folder(tmp_path, with_crl=True)
    from asn1crypto import cms

    info = cms.ContentInfo.load(SIGNED)
    for signer_info in info["content"]["signer_infos"]:
        if signer_info["signature_algorithm"]["algorithm"].dotted.startswith("1.2.398."):
            value = bytearray(signer_info["signature"].native)
            value[10] ^= 0x01
            signer_info["signature"] = bytes(value)
    intact, result, codes = gost_signer(trust, info.dump(force=True), RevocationMode.SOFT_FAIL)
    assert (intact, result) == (False, "invalid")
    assert "bad_signature" in codes
