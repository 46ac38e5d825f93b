"""The national CA's certificates shipped with qujat, and CRLs the CA really published."""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from publisher import Publisher

from signing import TrustAnchors
from signing.anchors import CRL_URLS, anchors, check_index, write_trust_folder
from signing.revocation import LiveRevocation, verify_crl_signature

DATA = Path(__file__).parent / "data" / "nca"
# a moment when the test CA's published CRL was current (2022-03-29 … 2022-09-25)
WHEN_RSA_CRL_WAS_CURRENT = datetime(2022, 5, 1, tzinfo=UTC)


def shipped(file: str) -> x509.Certificate:
    [anchor] = [a for a in anchors() if a.file == file]
    return x509.load_der_x509_certificate(anchor.der())


def test_the_index_says_what_the_files_are() -> None:
    assert check_index() == []
    found = anchors()
    assert len({a.sha256 for a in found}) == len(found) == 8
    assert {a.generation for a in found} == {"production", "test"}
    assert {a.algorithm for a in found} == {"rsa", "gost"}
    for anchor in found:
        assert anchor.source["repo"]
        assert len(anchor.source["commit"]) == 40
        assert hashlib.sha256(anchor.der()).hexdigest() == anchor.sha256


def test_the_production_rsa_intermediate_is_signed_by_the_production_rsa_root() -> None:
    shipped("nca_rsa.cer").verify_directly_issued_by(shipped("root_rsa.cer"))


def test_a_real_nca_crl_checks_with_the_shipped_certificate(tmp_path: Path) -> None:
    crl = x509.load_der_x509_crl((DATA / "nca_rsa_test.crl").read_bytes())
    ca = shipped("nca_rsa_test.cer")

    assert verify_crl_signature(crl, ca)
    assert len(crl) == 126
    assert crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == 9
    # and openssl agrees
    pem = tmp_path / "ca.pem"
    pem.write_bytes(
        subprocess.run(
            ["openssl", "x509", "-inform", "DER"],
            input=ca.public_bytes(serialization.Encoding.DER),
            capture_output=True,
            check=True,
        ).stdout
    )
    checked = subprocess.run(
        [
            "openssl",
            "crl",
            "-inform",
            "DER",
            "-in",
            str(DATA / "nca_rsa_test.crl"),
            "-noout",
            "-CAfile",
            str(pem),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert "verify OK" in checked.stdout + checked.stderr


def test_one_flipped_byte_in_the_real_crl_fails_its_signature() -> None:
    der = bytearray((DATA / "nca_rsa_test.crl").read_bytes())
    der[-10] ^= 0x01  # inside the signature value
    crl = x509.load_der_x509_crl(bytes(der))
    assert not verify_crl_signature(crl, shipped("nca_rsa_test.cer"))
    assert not verify_crl_signature(
        x509.load_der_x509_crl((DATA / "nca_rsa_test.crl").read_bytes()), shipped("nca_rsa.cer")
    )


@pytest.fixture
def nca_mirror(tmp_path: Path) -> Iterator[Publisher]:
    """A local copy of test.pki.gov.kz/crl/ serving the CA's real CRLs."""
    folder = tmp_path / "crl"
    folder.mkdir()
    for crl in DATA.glob("*.crl"):
        (folder / crl.name).write_bytes(crl.read_bytes())
    server = Publisher(folder)
    try:
        yield server
    finally:
        server.stop()


def test_trust_init_test_generation_and_the_real_crl_fetched_and_cached(
    nca_mirror: Publisher, tmp_path: Path
) -> None:
    folder = tmp_path / "trust"
    written = write_trust_folder(folder, "test")

    assert {p.name for p in written} == {
        *(a.file for a in anchors("test")),
        "revocation.json",
    }
    assert json.loads((folder / "revocation.json").read_text())["crl_urls"] == CRL_URLS["test"]
    trust = TrustAnchors.from_folder(folder)
    # the RSA test CA's root has no public copy: its intermediate alone is the anchor
    assert "ҰКО 3.0 (RSA TEST)" in {c.subject.native["common_name"] for c in trust.roots}

    config = {
        "crl_urls": [
            f"{nca_mirror.url}{name}" for name in ("nca_rsa_test.crl", "nca_gost2022_test_2025.crl")
        ]
    }
    (folder / "revocation.json").write_text(json.dumps(config))
    results = {
        r.url.rsplit("/", 1)[1]: r for r in LiveRevocation(folder).refresh(WHEN_RSA_CRL_WAS_CURRENT)
    }

    rsa = results["nca_rsa_test.crl"]
    assert rsa.outcome == "fetched", rsa.reason
    assert rsa.next_update == datetime(2022, 9, 25, 4, 18, 29, tzinfo=UTC)
    assert rsa.file is not None
    assert (folder / rsa.file).read_bytes() == (DATA / "nca_rsa_test.crl").read_bytes()
    assert len(TrustAnchors.from_folder(folder).crls) == 1
    # the GOST CA's CRL (GOST-signed, checked with signing.gost) was not yet issued then
    gost = results["nca_gost2022_test_2025.crl"]
    assert gost.outcome == "failed"
    assert "is in the future" in gost.reason
    # when it was current, it is fetched, its GOST signature checked, and cached
    later = {
        r.url.rsplit("/", 1)[1]: r
        for r in LiveRevocation(folder).refresh(datetime(2025, 5, 1, tzinfo=UTC))
    }
    gost = later["nca_gost2022_test_2025.crl"]
    assert gost.outcome == "fetched", gost.reason
    assert gost.file is not None
    assert (folder / gost.file).read_bytes() == (DATA / "nca_gost2022_test_2025.crl").read_bytes()


def test_trust_init_adds_to_an_existing_configuration(tmp_path: Path) -> None:
    (tmp_path / "revocation.json").write_text(
        json.dumps({"crl_urls": ["http://crl.example/a.crl"]})
    )
    write_trust_folder(tmp_path, "production")
    urls = json.loads((tmp_path / "revocation.json").read_text())["crl_urls"]
    assert urls == ["http://crl.example/a.crl", *CRL_URLS["production"]]
    trust = TrustAnchors.from_folder(tmp_path)
    assert len(trust.roots) == 2  # the RSA and the GOST root
    assert len(trust.intermediates) == 2


def test_the_certificates_ship_with_the_package() -> None:
    """pyproject's package data names every file of signing/nca (a wheel without them would
    make `qujat trust init` fail on the first run)."""
    import fnmatch
    import tomllib

    root = Path(__file__).parents[2]
    patterns = tomllib.loads((root / "pyproject.toml").read_text("utf-8"))["tool"]["setuptools"][
        "package-data"
    ]["signing"]
    files = [p.name for p in (root / "signing" / "nca").iterdir()]
    assert files
    for name in files:
        assert any(fnmatch.fnmatch(f"nca/{name}", pattern) for pattern in patterns), name
