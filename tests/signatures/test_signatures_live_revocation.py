"""Signature intake keeps revocation data current by itself: the trust folder holds only the CA
certificates, the CRLs come from the distribution points in the certificates, served on
127.0.0.1 (tests/signing/test_revocation_live.py covers the cases in the signing library)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from service.cli.signatures import example_people
from service.core.config import Settings
from signing.client import create_cms
from signing.pki import KeyPool, TestPKI, init_test_pki
from signing.revocation import LiveRevocation
from tests.conftest import EXAMPLES, NOW
from tests.signatures.support import (
    PRESENT,
    codes,
    content_of,
    create_commission,
    create_protocol,
    post_signature,
)
from tests.signing.publisher import Publisher


@pytest.fixture
def publisher(tmp_path: Path) -> Iterator[Publisher]:
    folder = tmp_path / "published"
    folder.mkdir()
    server = Publisher(folder)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def keys(pytestconfig: pytest.Config) -> KeyPool:
    """Made once for the module (kept in pytest's cache folder when there is one)."""
    cache = getattr(pytestconfig, "cache", None)
    return KeyPool(cache.mkdir("signing-test-keys") if cache is not None else None)


@pytest.fixture
def online(publisher: Publisher, keys: KeyPool) -> TestPKI:
    """The commission's keys from a CA whose certificates point at `publisher`."""
    people = example_people(EXAMPLES / "commission.json")
    return init_test_pki(publisher.folder, people, keys=keys, now=NOW, crl_url=publisher.url)


@pytest.fixture
def trust_dir(tmp_path: Path, online: TestPKI) -> Path:
    folder = tmp_path / "trust"
    folder.mkdir()
    for name in ("root.pem", "intermediate.pem"):  # no CRL: qujat fetches them
        (folder / name).write_bytes((online.directory / name).read_bytes())
    return folder


@pytest.fixture
def settings(tmp_path: Path, database_url: str, trust_dir: Path) -> Settings:
    return Settings(data_dir=tmp_path, database_url=database_url, trust_dir=trust_dir)


def test_intake_fetches_the_crls_and_sees_a_new_revocation(
    client: FlaskClient, online: TestPKI, trust_dir: Path
) -> None:
    protocol = create_protocol(client, create_commission(client))
    content = content_of(client, protocol["id"])
    first, second = PRESENT[0], PRESENT[1]

    accepted = post_signature(
        client, protocol["id"], create_cms(content, online.credential(first), signing_time=NOW)
    )

    assert accepted.status_code == 201, accepted.get_json()
    assert len(list(trust_dir.glob("fetched-*.crl"))) == 2  # the intermediate's and the root's

    stolen = online.issue(online.people[second].person, label=f"{second}-stolen")
    online.now = NOW + timedelta(minutes=1)  # a minute on, the CA publishes a new CRL
    online.revoke(stolen, at=NOW - timedelta(hours=1))  # and cron's refresh brings it
    refreshed = {
        r.url.rsplit("/", 1)[1]: r.outcome
        for r in LiveRevocation(trust_dir).refresh(NOW, force=True)
    }
    assert refreshed["intermediate.crl"] == "fetched"

    refused = post_signature(client, protocol["id"], create_cms(content, stolen, signing_time=NOW))
    assert refused.status_code == 422
    assert codes(refused) == ["signature_revoked"]


def test_intake_refuses_when_the_crl_server_is_down_and_nothing_is_cached(
    client: FlaskClient, online: TestPKI, publisher: Publisher
) -> None:
    protocol = create_protocol(client, create_commission(client))
    content = content_of(client, protocol["id"])
    publisher.stop()

    refused = post_signature(
        client, protocol["id"], create_cms(content, online.credential(PRESENT[0]), signing_time=NOW)
    )

    assert refused.status_code == 422
    assert codes(refused) == ["signature_revocation_unknown"]


def test_with_fetching_off_the_folder_is_used_as_it_is(
    client: FlaskClient,
    online: TestPKI,
    publisher: Publisher,
    trust_dir: Path,
    settings: Settings,
) -> None:
    from service import create_app
    from tests.conftest import fixed_clock, new_token

    assert Settings.from_env({"QUJAT_REVOCATION_FETCH": "off"}).revocation_fetch is False
    assert Settings.from_env({}).revocation_fetch is True
    protocol = create_protocol(client, create_commission(client))
    content = content_of(client, protocol["id"])
    offline = create_app(settings.replace(revocation_fetch=False), clock=fixed_clock)
    try:
        other = offline.test_client()
        other.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {new_token(offline, 'KRG')}"
        refused = post_signature(
            other,
            protocol["id"],
            create_cms(content, online.credential(PRESENT[0]), signing_time=NOW),
        )
    finally:
        offline.extensions["qujat.database"].dispose()

    assert refused.status_code == 422
    assert codes(refused) == ["signature_revocation_unknown"]
    assert publisher.requests == []
    assert list(trust_dir.glob("fetched-*.crl")) == []
