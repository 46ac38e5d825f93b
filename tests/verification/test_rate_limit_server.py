"""The public rate limit means what it says: one budget per client for the whole machine, not
one per gunicorn worker. Checked against a real `qujat serve` with two workers, each request on
a new connection from several client threads, so that both workers answer."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from service.registry.issuing import RegistrationNumber
from service.web.shared_counters import SQLiteCounters, shared_storage_uri
from tests.servers import TIMEOUT, running

LIMIT = 40  # per hour: the window cannot end while the test runs, however slow the machine
EXTRA = 20
NUMBER = str(RegistrationNumber(1, "KRG", 26, 1))


def get(url: str) -> requests.Response:
    # no session: a new connection each time, so the workers share the requests
    return requests.get(url, timeout=TIMEOUT, headers={"Connection": "close"})


def test_two_workers_let_exactly_the_stated_number_through(tmp_path: Path) -> None:
    env = {"QUJAT_DATA_DIR": str(tmp_path / "data"), "QUJAT_DATABASE_URL": "",
           "QUJAT_VERIFY_RATE_LIMIT": f"{LIMIT} per hour", "QUJAT_MAIL_SENDER": "off"}
    with running(env, tmp_path / "serve.log", workers=2) as server:
        url = f"{server.url}/api/v1/verify/{NUMBER}"
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(get, [url] * (LIMIT + EXTRA)))
        assert Counter(a.status_code for a in answers) == {200: LIMIT, 429: EXTRA}
        refused = get(url)
        assert refused.status_code == 429
        assert refused.headers["Content-Type"].startswith("application/problem+json")
        # at most the window, rounded up to the next whole second by the limiter
        assert 0 < int(refused.headers["Retry-After"]) <= 3600 + 1
        # the limit is per client: the counters file names this one
        assert (tmp_path / "data" / "rate-limit.sqlite3").is_file()


def test_the_counters_are_shared_by_every_storage_on_the_file(tmp_path: Path) -> None:
    uri = shared_storage_uri(tmp_path)
    first, second = SQLiteCounters(uri), SQLiteCounters(uri)  # as two workers open it
    assert first.incr("client", 60) == 1
    assert second.incr("client", 60, amount=5) == 6
    assert first.get("client") == second.get("client") == 6
    assert second.get_expiry("client") > 0
    assert first.incr("other", 60) == 1
    # an expired window starts again at the next hit
    assert first.incr("short", 0) == 1
    assert second.incr("short", 0) == 1
    second.clear("client")
    assert first.get("client") == 0
    assert first.check()
    assert first.reset() == 2
