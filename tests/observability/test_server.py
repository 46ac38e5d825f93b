"""`qujat serve` as operators run it: two gunicorn workers whose metrics add up in one scrape,
JSON log lines with a request id and never an IIN, and `/readyz` following a real PostgreSQL
server of the test's own as it is stopped and started again."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.servers import create_token, free_port, qujat, running

pytestmark = pytest.mark.slow
IIN = "700101300342"
POSTGRES_BIN = sorted(Path("/usr/lib/postgresql").glob("*/bin"))


def requests_total(url: str, route: str) -> float:
    text = requests.get(url + "/metrics", timeout=30).text
    return sum(sample.value
               for family in text_string_to_metric_families(text)
               for sample in family.samples
               if sample.name == "qujat_http_requests_total"
               and sample.labels["route"] == route)


def test_two_workers_add_up_and_log_json_lines_without_identifiers(tmp_path: Path) -> None:
    env = {"QUJAT_DATA_DIR": str(tmp_path / "data"),
           "QUJAT_DATABASE_URL": f"sqlite:///{tmp_path / 'qujat.sqlite3'}",
           "QUJAT_LOG_FORMAT": "json"}
    qujat("db", "upgrade", env=env)
    token = create_token(env)
    log = tmp_path / "server.log"
    with running(env, log, workers=2, threads=1) as live:
        route = "/api/v1/signers/<string:iin>/pending"
        before = requests_total(live.url, route)
        with requests.Session() as http:
            for _ in range(40):  # new connections: both workers answer some of them
                http.close()
                answer = http.get(f"{live.url}/api/v1/signers/{IIN}/pending",
                                  headers={"Authorization": f"Bearer {token}",
                                           "X-Request-Id": "trace-42"}, timeout=30)
                assert answer.status_code == 200
                assert answer.headers["X-Request-Id"] == "trace-42"
        forged = requests.get(live.url + "/healthz", timeout=30,
                              headers={"X-Request-Id": "bad id\twith spaces"})
        assert forged.headers["X-Request-Id"] != "bad id\twith spaces"
        assert requests_total(live.url, route) == before + 40
    written = log.read_text("utf-8")
    assert IIN not in written
    assert token not in written
    lines = [json.loads(line) for line in written.splitlines() if line.startswith("{")]
    requests_logged = [line for line in lines if line["logger"] == "qujat.request"]
    traced = [line for line in requests_logged if line["request_id"] == "trace-42"]
    assert len(traced) == 40
    assert {line["route"] for line in traced} == {route}
    assert {line["status"] for line in traced} == {200}
    assert all(isinstance(line["duration_ms"], float) for line in traced)
    assert any(line["logger"].startswith("gunicorn") for line in lines)  # its lines are JSON


class PrivatePostgres:
    """A PostgreSQL server of this test's own (initdb, pg_ctl) that the test may stop."""

    def __init__(self) -> None:
        self.bin = POSTGRES_BIN[-1]
        # not under pytest's private temporary folder: the postgres user must reach it
        self.folder = folder = Path(tempfile.mkdtemp(prefix="qujat-test-pg-"))
        self.port = free_port()
        self._as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self._as_postgres:
            shutil.chown(folder, "postgres", "postgres")
        self._run("initdb", "-D", str(folder / "data"), "-A", "trust", "-U", "postgres")

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run([*self._as_postgres, str(self.bin / tool), *args], check=True,
                       capture_output=True, timeout=120)

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.folder / "data"), "-l", str(self.folder / "log"),
                  "-o", f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1",
                  "-w", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.folder / "data"), "-m", "fast", "-w", "stop")


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    if not POSTGRES_BIN or (shutil.which("runuser") is None and os.geteuid() == 0):
        message = "PostgreSQL's server programs (initdb, pg_ctl) are not installed"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{message}: CI must run this test", pytrace=False)
        pytest.skip(message)
    server = PrivatePostgres()
    try:
        server.start()
        yield server
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            server.stop()
        shutil.rmtree(server.folder, ignore_errors=True)


def wait_for_status(url: str, status: int, timeout: float = 60) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while True:
        answer = requests.get(url + "/readyz", timeout=30)
        if answer.status_code == status:
            found: dict[str, object] = answer.json()
            return found
        assert time.monotonic() < deadline, answer.text
        time.sleep(0.2)


def test_readyz_follows_postgresql_down_and_up(
    private_postgres: PrivatePostgres, tmp_path: Path
) -> None:
    from signing.pki import init_test_pki

    trust = tmp_path / "trust"
    init_test_pki(trust, [])
    env = {"QUJAT_DATA_DIR": str(tmp_path / "data"), "QUJAT_DATABASE_URL": private_postgres.url,
           "QUJAT_TRUST_DIR": str(trust), "QUJAT_LOG_FORMAT": "text"}
    qujat("db", "upgrade", env=env)
    with running(env, tmp_path / "server.log", workers=1) as live:
        ready = wait_for_status(live.url, 200)
        assert ready["status"] == "ready"
        private_postgres.stop()
        down = wait_for_status(live.url, 503)
        assert down["type"] == "https://qujat.kz/problems/not-ready"  # type: ignore[comparison-overlap]
        failing = {error["pointer"] for error in down["errors"]}  # type: ignore[attr-defined]
        assert "/checks/database" in failing
        assert "/checks/trust" not in failing
        assert requests.get(live.url + "/healthz", timeout=30).status_code == 200  # still up
        private_postgres.start()
        assert wait_for_status(live.url, 200)["status"] == "ready"
