"""Live revocation against real servers on 127.0.0.1: a folder of CRLs published over HTTP, as
crl.pki.gov.kz does, and an OCSP responder answering real RFC 6960 requests, as
ocsp.pki.gov.kz does. Time is the test's: the PKI's `now` and the verification moment."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import IVANOV, TESTOV
from cryptography.hazmat.primitives import serialization
from publisher import Publisher

from signing import FailureCode, RevocationMode, RevocationPolicy, TrustAnchors
from signing import verify_detached_cms as verify
from signing.client import Credential, create_cms
from signing.pki import KeyPool, TestPKI, delta_file_name, init_test_pki
from signing.revocation import DownloadLimits, LiveRevocation

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
REQUIRE = RevocationPolicy()
SOFT_FAIL = RevocationPolicy(mode=RevocationMode.SOFT_FAIL)


@pytest.fixture
def publisher(tmp_path: Path) -> Iterator[Publisher]:
    folder = tmp_path / "published"
    folder.mkdir()
    server = Publisher(folder)
    try:
        yield server
    finally:
        server.stop()


def online_pki(
    publisher: Publisher,
    key_pool: KeyPool,
    *,
    ocsp: bool = False,
    ocsp_url: str | None = None,
    delta: bool = False,
) -> TestPKI:
    """A test PKI whose certificates point at `publisher` (CRL distribution points, and the
    OCSP responder, or `ocsp_url`, and delta CRLs when asked), its CRLs published there."""
    pki = init_test_pki(
        publisher.folder,
        [TESTOV, IVANOV],
        keys=key_pool,
        now=T0,
        crl_url=publisher.url,
        ocsp_url=ocsp_url or (f"{publisher.url}ocsp" if ocsp else None),
        delta_crls=delta,
    )
    publisher.ocsp = lambda request: pki.intermediate.ocsp_answer(request, pki.now)
    return pki


def trust_folder(
    pki: TestPKI, tmp_path: Path, *, crls: tuple[str, ...] = (), configure: bool = False
) -> Path:
    """A trust folder with the CA certificates (and the named CRL files) only; `configure`
    names the intermediate CA's CRL in revocation.json, as `qujat trust init` does for NCA's."""
    folder = tmp_path / "trust"
    folder.mkdir(exist_ok=True)
    for name in ("root.pem", "intermediate.pem", *crls):
        (folder / name).write_bytes((pki.directory / name).read_bytes())
    if configure:
        config = {"crl_urls": [pki.published_url("intermediate.crl")]}
        (folder / "revocation.json").write_text(json.dumps(config))
    return folder


def publish(pki: TestPKI, now: datetime, **options: object) -> None:
    """The intermediate CA's full CRL as of `now`, under its published name."""
    crl = pki.intermediate.crl(now, **options)  # type: ignore[arg-type]
    (pki.directory / "intermediate.crl").write_bytes(crl.public_bytes(serialization.Encoding.DER))


def check(
    pki: TestPKI,
    credential: Credential,
    folder: Path,
    live: LiveRevocation,
    at: datetime,
    policy: RevocationPolicy = REQUIRE,
) -> tuple[str, tuple[FailureCode, ...], bool]:
    """Verify a signature by `credential` at `at` against the folder as it is now."""
    content = b"%PDF-1.7 protocol"
    cms = create_cms(content, credential, signing_time=at)
    trust = TrustAnchors.from_folder(folder, live=live)
    report = verify(cms, content, trust=trust, now=at, revocation=policy)
    return report.status.value, report.codes, report.revocation_checked


def fetched_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob("fetched-*.crl"))


def test_crls_are_fetched_into_the_trust_folder_and_used_offline(
    publisher: Publisher, key_pool: KeyPool, tmp_path: Path
) -> None:
    pki = online_pki(publisher, key_pool)
    folder = trust_folder(pki, tmp_path)
    live = LiveRevocation(folder)
    good = pki.credential(TESTOV.iin)

    assert check(pki, good, folder, live, T0) == ("valid", (), True)
    assert len(fetched_files(folder)) == 2  # the intermediate's CRL and the root's
    state = json.loads((folder / "revocation-state.json").read_text())
    assert set(state) == {pki.published_url("root.crl"), pki.published_url("intermediate.crl")}

    publisher.stop()  # a new process, the CA unreachable: the cached CRLs still serve
    assert check(pki, good, folder, LiveRevocation(folder), T0 + timedelta(days=1)) == (
        "valid",
        (),
        True,
    )


def test_an_expired_crl_is_refreshed_on_use(
    publisher: Publisher, key_pool: KeyPool, tmp_path: Path
) -> None:
    pki = online_pki(publisher, key_pool)
    folder = trust_folder(pki, tmp_path)
    live = LiveRevocation(folder)
    good = pki.credential(TESTOV.iin)
    assert check(pki, good, folder, live, T0)[0] == "valid"

    later = T0 + timedelta(days=8)  # the CRLs of T0 expired a day ago
    pki.now = later
    pki.write_crls()
    assert check(pki, good, folder, live, later) == ("valid", (), True)

    [result] = [r for r in live.refresh(later) if r.url.endswith("intermediate.crl")]
    assert result.outcome == "current"
    assert result.next_update is not None
    assert result.next_update > later + timedelta(days=6)


def test_server_down_refuses_under_require_and_lets_through_under_soft_fail(
    publisher: Publisher, key_pool: KeyPool, tmp_path: Path
) -> None:
    pki = online_pki(publisher, key_pool)
    folder = trust_folder(pki, tmp_path)
    live = LiveRevocation(folder)
    good = pki.credential(TESTOV.iin)
    assert check(pki, good, folder, live, T0)[0] == "valid"

    publisher.stop()
    later = T0 + timedelta(days=8)
    status, codes, _ = check(pki, good, folder, live, later, REQUIRE)
    assert (status, codes) == ("indeterminate", (FailureCode.REVOCATION_UNKNOWN,))
    assert check(pki, good, folder, live, later, SOFT_FAIL) == ("valid", (), False)

    results = {r.url: r for r in live.refresh(later)}
    failed = results[pki.published_url("intermediate.crl")]
    assert failed.outcome == "failed"
    assert "cannot reach the server" in failed.reason


def test_a_revocation_in_the_next_crl_is_seen(
    publisher: Publisher, key_pool: KeyPool, tmp_path: Path
) -> None:
    pki = online_pki(publisher, key_pool)
    folder = trust_folder(pki, tmp_path)
    live = LiveRevocation(folder)
    victim = pki.issue(TESTOV, label=f"{TESTOV.iin}-stolen")
    assert check(pki, victim, folder, live, T0)[0] == "valid"

    pki.revoke(victim, at=T0 + timedelta(hours=1))
    pki.now = T0 + timedelta(days=1)
    pki.write_crls()
    # the cached CRL is good for six more days: cron's refresh fetches the new one now
    [result] = [r for r in live.refresh(pki.now, force=True) if "intermediate" in r.url]
    assert result.outcome == "fetched"
    status, codes, _ = check(pki, victim, folder, live, pki.now)
    assert (status, codes) == ("invalid", (FailureCode.REVOKED,))
    # the same again: the server has nothing newer (If-Modified-Since answered 304)
    [again] = [r for r in live.refresh(pki.now, force=True) if "intermediate" in r.url]
    assert again.outcome == "not_modified"


def test_a_delta_crl_adds_a_revocation(
    publisher: Publisher, key_pool: KeyPool, tmp_path: Path
) -> None:
    pki = online_pki(publisher, key_pool, delta=True)
    delta_url = pki.published_url(delta_file_name("intermediate.crl"))
    delta_path = pki.directory / delta_file_name("intermediate.crl")
    publish(pki, T0, number=100, freshest_url=delta_url)
    delta = pki.intermediate.delta_crl(T0, base_number=100, revoked={}, number=101)
    delta_path.write_bytes(delta.public_bytes(serialization.Encoding.DER))
    folder = trust_folder(pki, tmp_path)
    live = LiveRevocation(folder)
    victim = pki.issue(TESTOV, label=f"{TESTOV.iin}-stolen")
    assert check(pki, victim, folder, live, T0) == ("valid", (), True)
    assert [r.outcome for r in live.refresh(T0) if r.url == delta_url] == ["current"]

    # two hours on, the full CRL (7 days) still holds; the hourly delta lists the revocation
    later = T0 + timedelta(hours=2)
    delta = pki.intermediate.delta_crl(
        later,
        base_number=100,
        revoked={victim.certificate.serial_number: later - timedelta(minutes=30)},
        number=102,
    )
    delta_path.write_bytes(delta.public_bytes(serialization.Encoding.DER))
    status, codes, _ = check(pki, victim, folder, live, later)
    assert (status, codes) == ("invalid", (FailureCode.REVOKED,))
    assert check(pki, pki.credential(IVANOV.iin), folder, live, later) == ("valid", (), True)


def test_a_missing_delta_crl_leaves_revocation_unknown(
    publisher: Publisher, key_pool: KeyPool, tmp_path: Path
) -> None:
    """The full CRL says a delta CRL exists (Freshest CRL): without it nothing is certain."""
    pki = online_pki(publisher, key_pool, delta=True)
    publish(pki, T0, number=100, freshest_url=pki.published_url("intermediate-delta.crl"))
    folder = trust_folder(pki, tmp_path)
    status, codes, _ = check(pki, pki.credential(TESTOV.iin), folder, LiveRevocation(folder), T0)
    assert (status, codes) == ("indeterminate", (FailureCode.REVOCATION_UNKNOWN,))


@pytest.mark.parametrize("configured", [False, True], ids=["from-certificate", "configured"])
def test_ocsp_good_revoked_and_unknown(
    publisher: Publisher, key_pool: KeyPool, tmp_path: Path, configured: bool
) -> None:
    """Without a CRL of the issuing CA, OCSP answers: the responder the certificate names, or
    the one configured for its CA in revocation.json instead."""
    # configured: the certificates name a responder that is down, the folder another
    pki = online_pki(
        publisher, key_pool, ocsp=True, ocsp_url=("http://127.0.0.1:9/ocsp" if configured else None)
    )
    folder = trust_folder(pki, tmp_path, crls=("root.crl",))
    if configured:
        config = {"ca": {"intermediate.pem": {"ocsp_url": f"{publisher.url}ocsp"}}}
        (folder / "revocation.json").write_text(json.dumps(config))
    (publisher.folder / "intermediate.crl").unlink()  # no CRL to be had from the server
    live = LiveRevocation(folder)
    good = pki.issue(TESTOV, label=f"{TESTOV.iin}-ocsp-good")
    revoked = pki.issue(TESTOV, label=f"{TESTOV.iin}-ocsp-revoked")
    pki.intermediate.revoked[revoked.certificate.serial_number] = T0 - timedelta(hours=1)
    unknown = pki.issue(TESTOV, label=f"{TESTOV.iin}-ocsp-unknown")
    pki.intermediate.issued.discard(unknown.certificate.serial_number)

    assert check(pki, good, folder, live, T0) == ("valid", (), True)
    status, codes, _ = check(pki, revoked, folder, live, T0)
    assert (status, codes) == ("invalid", (FailureCode.REVOKED,))
    status, codes, _ = check(pki, unknown, folder, live, T0)
    assert (status, codes) == ("indeterminate", (FailureCode.REVOCATION_UNKNOWN,))
    assert sum(r == "POST /ocsp" for r in publisher.requests) == 3


def test_a_crl_with_a_bad_signature_is_not_cached(
    publisher: Publisher, key_pool: KeyPool, tmp_path: Path
) -> None:
    pki = online_pki(publisher, key_pool)
    publish(pki, T0, signing_key=key_pool.rsa("forger"))
    folder = trust_folder(pki, tmp_path, configure=True)
    live = LiveRevocation(folder)

    results = {r.url: r for r in live.refresh(T0)}

    forged = results[pki.published_url("intermediate.crl")]
    assert forged.outcome == "failed"
    assert "signature" in forged.reason
    assert results[pki.published_url("root.crl")].outcome == "fetched"
    assert len(fetched_files(folder)) == 1
    status, codes, _ = check(pki, pki.credential(TESTOV.iin), folder, live, T0)
    assert (status, codes) == ("indeterminate", (FailureCode.REVOCATION_UNKNOWN,))


def test_an_older_crl_never_replaces_a_newer_one(
    publisher: Publisher, key_pool: KeyPool, tmp_path: Path
) -> None:
    pki = online_pki(publisher, key_pool)
    publish(pki, T0, number=10)
    folder = trust_folder(pki, tmp_path, configure=True)
    live = LiveRevocation(folder)
    assert {r.outcome for r in live.refresh(T0)} == {"fetched"}
    cached = {name: (folder / name).read_bytes() for name in fetched_files(folder)}

    publish(pki, T0 + timedelta(hours=1), number=9)  # a stale mirror answers
    results = {r.url: r for r in live.refresh(T0 + timedelta(hours=1), force=True)}

    stale = results[pki.published_url("intermediate.crl")]
    assert stale.outcome == "failed"
    assert "older than the cached one" in stale.reason
    assert {name: (folder / name).read_bytes() for name in fetched_files(folder)} == cached


def test_downloads_have_a_size_limit(
    publisher: Publisher, key_pool: KeyPool, tmp_path: Path
) -> None:
    pki = online_pki(publisher, key_pool)
    folder = trust_folder(pki, tmp_path, configure=True)
    live = LiveRevocation(folder, DownloadLimits(max_crl_bytes=200))

    results = live.refresh(T0)

    assert {r.outcome for r in results} == {"failed"}
    assert all("too large" in r.reason for r in results)
    assert fetched_files(folder) == []


def test_a_failed_address_is_not_retried_on_every_signature(
    publisher: Publisher, key_pool: KeyPool, tmp_path: Path
) -> None:
    pki = online_pki(publisher, key_pool)
    folder = trust_folder(pki, tmp_path)
    (publisher.folder / "intermediate.crl").unlink()
    live = LiveRevocation(folder)
    good = pki.credential(TESTOV.iin)

    for _ in range(3):
        assert check(pki, good, folder, live, T0)[1] == (FailureCode.REVOCATION_UNKNOWN,)

    assert publisher.requests.count("GET /intermediate.crl") == 1


def test_addresses_in_a_certificate_nobody_vouches_for_are_not_fetched(
    publisher: Publisher, key_pool: KeyPool, tmp_path: Path
) -> None:
    """A certificate from a CA outside the trust folder names our server: nothing is asked."""
    pki = online_pki(publisher, key_pool)
    folder = tmp_path / "trust"
    folder.mkdir()
    other = init_test_pki(tmp_path / "other", [], keys=KeyPool(), now=T0)
    (folder / "root.pem").write_bytes(other.root_path.read_bytes())
    live = LiveRevocation(folder)

    status, codes, _ = check(pki, pki.credential(TESTOV.iin), folder, live, T0)

    assert (status, codes) == ("invalid", (FailureCode.UNTRUSTED,))
    assert publisher.requests == []
