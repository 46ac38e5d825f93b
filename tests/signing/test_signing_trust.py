"""TrustAnchors: loading a trust folder, and revocation data fetched from distribution points."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cms_tamper import gost_certificate
from conftest import TESTOV, Specials
from cryptography.hazmat.primitives import serialization

from signing import FailureCode, RevocationPolicy, TrustAnchors, verify_detached_cms
from signing.client import create_cms
from signing.pki import KeyPool, TestPKI, init_test_pki


def test_from_folder_sorts_roots_from_intermediates(pki: TestPKI, tmp_path: Path) -> None:
    root = pki.root.certificate
    intermediate = pki.intermediate.certificate
    (tmp_path / "bundle.pem").write_bytes(
        intermediate.public_bytes(serialization.Encoding.PEM)
        + root.public_bytes(serialization.Encoding.PEM)
    )
    (tmp_path / "root.cer").write_bytes(root.public_bytes(serialization.Encoding.DER))
    (tmp_path / "ca.crl").write_bytes((pki.directory / "intermediate.crl").read_bytes())
    (tmp_path / "notes.txt").write_text("ignored")
    (tmp_path / "keys").mkdir()

    trust = TrustAnchors.from_folder(tmp_path)

    assert len(trust.roots) == 2  # the same root twice: from the bundle and from root.cer
    assert {c.subject.native["common_name"] for c in trust.roots} == {"ТЕСТ КОРНЕВОЙ УЦ РК (RSA)"}
    assert [c.subject.native["common_name"] for c in trust.intermediates] == [
        "ТЕСТ ҰЛТТЫҚ КУӘЛАНДЫРУШЫ ОРТАЛЫҚ"
    ]
    assert len(trust.crls) == 1


def test_a_trust_store_needs_a_ca_certificate(pki: TestPKI, tmp_path: Path) -> None:
    (tmp_path / "intermediate.crl").write_bytes((pki.directory / "intermediate.crl").read_bytes())
    with pytest.raises(ValueError, match="trusted CA certificate"):
        TrustAnchors.from_folder(tmp_path)


def test_a_folder_holding_only_the_intermediate_trusts_what_it_issued(
    pki: TestPKI, specials: Specials, protocol_pdf: bytes, tmp_path: Path
) -> None:
    (tmp_path / "intermediate.pem").write_bytes(pki.intermediate_path.read_bytes())
    (tmp_path / "intermediate.crl").write_bytes((pki.directory / "intermediate.crl").read_bytes())

    trust = TrustAnchors.from_folder(tmp_path)

    assert [c.subject.native["common_name"] for c in trust.roots] == [
        "ТЕСТ ҰЛТТЫҚ КУӘЛАНДЫРУШЫ ОРТАЛЫҚ"
    ]
    good = create_cms(protocol_pdf, pki.credential(TESTOV.iin))
    report = verify_detached_cms(good, protocol_pdf, trust=trust)
    assert report.ok, report.failures
    assert report.revocation_checked  # the intermediate's own CRL, no root's needed
    revoked = create_cms(protocol_pdf, specials.revoked)
    assert verify_detached_cms(revoked, protocol_pdf, trust=trust).codes == (FailureCode.REVOKED,)
    stranger = create_cms(protocol_pdf, specials.untrusted_root)
    assert verify_detached_cms(stranger, protocol_pdf, trust=trust).codes == (
        FailureCode.UNTRUSTED,
    )


def test_with_the_root_present_the_intermediate_is_not_an_anchor(
    pki: TestPKI, tmp_path: Path
) -> None:
    """Then the root's CRL is checked for the intermediate, as before."""
    for name in ("root.pem", "intermediate.pem"):
        (tmp_path / name).write_bytes((pki.directory / name).read_bytes())
    trust = TrustAnchors.from_folder(tmp_path)
    assert len(trust.roots) == 1
    assert len(trust.intermediates) == 1


@pytest.fixture
def crl_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """An HTTP server on 127.0.0.1 publishing a folder, like crl.pki.gov.kz."""
    folder = tmp_path / "published"
    folder.mkdir()
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *args: None  # type: ignore[attr-defined]
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", folder
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_crls_fetched_from_distribution_points(
    crl_server: tuple[str, Path], key_pool: KeyPool, protocol_pdf: bytes
) -> None:
    url, folder = crl_server
    online = init_test_pki(folder, [TESTOV], keys=key_pool, crl_url=url)
    trust_without_crls = TrustAnchors(
        roots=TrustAnchors.from_folder(folder).roots,
        intermediates=TrustAnchors.from_folder(folder).intermediates,
    )
    fetch = RevocationPolicy(fetch=True, fetch_timeout_seconds=5)
    good = create_cms(protocol_pdf, online.credential(TESTOV.iin))

    offline = verify_detached_cms(good, protocol_pdf, trust=trust_without_crls)
    fetched = verify_detached_cms(good, protocol_pdf, trust=trust_without_crls, revocation=fetch)

    assert offline.codes == (FailureCode.REVOCATION_UNKNOWN,)
    assert fetched.ok, fetched.failures
    assert fetched.revocation_checked

    revoked = create_cms(protocol_pdf, online.issue_revoked(TESTOV))
    report = verify_detached_cms(revoked, protocol_pdf, trust=trust_without_crls, revocation=fetch)
    assert report.codes == (FailureCode.REVOKED,)


def test_gost_ca_certificates_in_the_folder_do_not_get_in_the_way(
    pki: TestPKI, protocol_pdf: bytes, tmp_path: Path
) -> None:
    """Real NCA bundles hold GOST CA certificates next to the RSA ones."""
    for name in ("root.pem", "intermediate.pem", "root.crl", "intermediate.crl"):
        (tmp_path / name).write_bytes((pki.directory / name).read_bytes())
    for oid in ("1.2.398.3.10.1.1.1.1", "1.2.643.7.1.1.1.1"):
        gost_root = gost_certificate(pki.root.certificate, pki.root, oid)
        (tmp_path / f"gost-{oid}.cer").write_bytes(
            gost_root.public_bytes(serialization.Encoding.DER)
        )

    trust = TrustAnchors.from_folder(tmp_path)

    assert len(trust.roots) == 3
    report = verify_detached_cms(
        create_cms(protocol_pdf, pki.credential(TESTOV.iin)), protocol_pdf, trust=trust
    )
    assert report.ok, report.failures


def test_unreadable_file_is_named(pki: TestPKI, tmp_path: Path) -> None:
    (tmp_path / "root.pem").write_bytes(pki.root_path.read_bytes())
    (tmp_path / "broken.crt").write_bytes(b"\x30\x03\x02\x01")
    with pytest.raises(ValueError, match=r"broken\.crt"):
        TrustAnchors.from_folder(tmp_path)
