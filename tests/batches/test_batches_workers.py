"""Batches run by real processes: the local executor inside `qujat serve`, and `qujat worker`
(Celery) on the machine's Redis and RabbitMQ, killed with SIGKILL half-way.

Whatever is killed, every valid item ends with exactly one document, the numbers of the
session are gapless, invalid items are reported per item, and `qujat audit verify` and
`qujat storage check` pass. A broker that cannot be reached skips its tests with the reason,
and fails them when CI=true.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from service.api.batches import BatchService
from service.batches.models import BatchItem, BatchItemState
from service.batches.queue import BatchSettings
from service.core.db import Database
from service.registry.models import Document
from tests.registry.test_registry_server import assert_checks_pass, assert_gapless
from tests.servers import QUJAT, create_token, free_port, running

pytestmark = pytest.mark.slow
Example = Callable[..., dict[str, Any]]
BROKERS = {
    "redis": os.environ.get("QUJAT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"),
    "rabbitmq": os.environ.get(
        "QUJAT_TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672//"
    ),
}
# short leases, so that a killed worker's items come back within seconds
FAST = {
    "QUJAT_BATCH_LEASE_SECONDS": "4",
    "QUJAT_BATCH_RECONCILE_SECONDS": "1",
    "QUJAT_BATCH_PROCESSES": "2",
}
INVALID = {3: "iin", 77: "intern", 150: "no-id"}
RABBITMQ_SERVER = "/usr/lib/rabbitmq/bin/rabbitmq-server"


def session_bodies(example: Example, count: int, prefix: str) -> list[dict[str, Any]]:
    """`count` certificates and extracts with distinct ids; the items of INVALID are wrong."""
    assert count > max(INVALID), "every invalid position must be in the session"
    bodies = []
    for i in range(count):
        form = "certificate" if i % 3 else "extract"
        body = example(form, "kk" if i % 2 else "ru")
        body["decision"]["decision_id"] = f"{prefix}-{i:04d}"
        wrong = INVALID.get(i)
        holder = "holder" if form == "certificate" else "person"
        if wrong == "iin":
            body["decision"][holder]["iin"] = "850314422011"
        elif wrong == "intern":
            body["decision"]["awarded_category" if form == "extract" else "category"] = "intern"
        elif wrong == "no-id":
            del body["decision"]["decision_id"]
        bodies.append(body)
    return bodies


def valid_ids(bodies: list[dict[str, Any]]) -> set[str]:
    return {b["decision"]["decision_id"] for i, b in enumerate(bodies) if i not in INVALID}


def wait_for(status: Callable[[], dict[str, Any]], done: Callable[[dict[str, Any]], bool],
             timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        current = status()
        if done(current):
            return current
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s: {current}")
        time.sleep(0.2)


def assert_exactly_once(
    database_url: str, env: dict[str, str], batch_id: str, expected: set[str]
) -> None:
    database = Database(database_url)
    try:
        with database.read() as session:
            rows = list(session.scalars(select(Document).order_by(Document.series, Document.seq)))
            items = list(session.scalars(
                select(BatchItem).where(BatchItem.batch_id == uuid.UUID(batch_id))
            ))
    finally:
        database.dispose()
    assert sorted(r.decision_id for r in rows) == sorted(expected)  # one document each
    assert {r.status for r in rows} == {"issued"}
    assert_gapless(rows)
    done = [i for i in items if i.state == BatchItemState.DONE]
    assert {i.decision_id for i in done} == expected
    assert len({i.document_id for i in done}) == len(done) == len(expected)
    failed = sorted(i.position for i in items if i.state == BatchItemState.FAILED)
    assert failed == sorted(INVALID)
    assert_checks_pass(env)


def check_failed_items(status: dict[str, Any]) -> None:
    failed = {i["index"]: i["problem"] for i in status["items"] if i["state"] == "failed"}
    assert set(failed) == set(INVALID)
    assert failed[3]["errors"][0]["code"] == "iin_checksum"
    assert failed[77]["errors"][0]["pointer"] in ("/decision/category",
                                                  "/decision/awarded_category")
    assert failed[150]["errors"][0]["pointer"] == "/decision/decision_id"


# --------------------------------------------------------------------------- processes


def children(pid: int) -> list[int]:
    """Every descendant of `pid` (from /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                stat = (entry / "stat").read_text()
                parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        kids = [p for p, pp in parents.items() if pp == parent]
        found += kids
        frontier += kids
    return found


def pool_processes(pid: int) -> list[int]:
    found = []
    for child in children(pid):
        with contextlib.suppress(OSError):
            if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes():
                found.append(child)
    return found


class Worker:
    """`qujat worker` as a real process group."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                [QUJAT, "worker", "--concurrency", "2", "--loglevel", "WARNING"],
                env={**os.environ, **env}, cwd="/", stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)


@contextlib.contextmanager
def workers(env: dict[str, str], log: Path) -> Iterator[Callable[[], Worker]]:
    started: list[Worker] = []

    def start() -> Worker:
        started.append(Worker(env, log))
        return started[-1]

    try:
        yield start
    finally:
        for worker in started:
            worker.kill()


def reachable(url: str) -> None:
    parts = urlsplit(url)
    try:
        socket.create_connection((parts.hostname, parts.port), timeout=2).close()
    except OSError as error:
        message = f"broker {url} is unreachable ({error})"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{message}: CI must run the broker tests", pytrace=False)
        pytest.skip(f"{message}; start Redis and RabbitMQ (scripts/setup installs them)")


@pytest.fixture(params=sorted(BROKERS))
def celery_env(
    request: pytest.FixtureRequest, cli_env: dict[str, str], app: Flask
) -> Iterator[dict[str, str]]:
    """A broker, a queue of this test's own, and the app submitting to it."""
    url = BROKERS[request.param]
    reachable(url)
    queue = f"qujat-test-{uuid.uuid4().hex[:12]}"
    env = {**cli_env, **FAST, "QUJAT_BATCH_EXECUTOR": "celery", "QUJAT_BROKER_URL": url,
           "QUJAT_BATCH_QUEUE": queue}
    settings = BatchSettings.from_env(env)
    app.extensions["qujat.batches"] = BatchService(
        app.extensions["qujat.database"], app.extensions["qujat.settings"], settings
    )
    yield env
    from kombu import Connection

    with Connection(url) as connection, contextlib.suppress(Exception):
        connection.default_channel.queue_delete(queue)


@pytest.fixture
def worker_log(tmp_path: Path) -> Iterator[Path]:
    log = tmp_path / "worker.log"
    yield log
    if log.exists():
        tail = log.read_text(errors="replace")[-4000:]
        if "Traceback" in tail:
            print(tail)


# --------------------------------------------------------------------------- local executor


def http_status(url: str, token: str, location: str) -> Callable[[], dict[str, Any]]:
    def get() -> dict[str, Any]:
        answer = requests.get(url + location, headers={"Authorization": f"Bearer {token}"},
                              timeout=30)
        answer.raise_for_status()
        result: dict[str, Any] = answer.json()
        return result

    return get


# the default set-up: local executor and SQLite, nothing else installed (PostgreSQL runs
# under the Celery tests below, and both databases under test_batches_api.py)
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_local_executor_issues_a_session_inside_qujat_serve(
    cli_env: dict[str, str], tmp_path: Path, example: Example
) -> None:
    env = {**cli_env, **FAST}
    token = create_token(env)
    bodies = session_bodies(example, 200, "local")
    session = tmp_path / "session.ndjson"
    # a blank first line: skipped by the server, still counted in the line numbers shown
    session.write_text("\n" + "".join(json.dumps(b, ensure_ascii=False) + "\n" for b in bodies))
    with running(env, tmp_path / "server.log") as server:
        submitted = subprocess.run(
            [QUJAT, "batch", "submit", str(session), "--url", server.url, "--token", token,
             "--poll", "0.2", "--messages", "ru"],
            env={**os.environ, **env}, cwd="/", capture_output=True, text=True, timeout=900,
        )
        assert submitted.returncode == 1, submitted.stderr  # 1: some items failed
        batch_id = submitted.stdout.split()[1].rstrip(":")
        get = http_status(server.url, token, f"/api/v1/batches/{batch_id}")
        status = get()
    assert "200 item(s), 197 issued, 3 failed, 0 unfinished" in submitted.stdout
    assert "#3 (line 5) local-0003" in submitted.stdout
    assert "/decision/person/iin: Контрольный разряд ИИН не сходится. [iin_checksum]" in (
        submitted.stdout)
    assert "200/200" in submitted.stderr  # the progress bar's last state
    assert (status["state"], status["done"], status["failed"], status["running"]) == (
        "completed", 197, 3, 0)
    check_failed_items(status)
    assert_exactly_once(env["QUJAT_DATABASE_URL"], env, batch_id, valid_ids(bodies))


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_local_executor_survives_a_killed_pool_process_and_a_killed_server(
    cli_env: dict[str, str], tmp_path: Path, example: Example
) -> None:
    env = {**cli_env, **FAST}
    token = create_token(env)
    bodies = session_bodies(example, 240, "crash")
    log = tmp_path / "server.log"
    with running(env, log) as server:
        posted = requests.post(server.url + "/api/v1/batches", json=bodies,
                               headers={"Authorization": f"Bearer {token}"}, timeout=60)
        get = http_status(server.url, token, posted.headers["Location"])
        wait_for(get, lambda s: s["done"] >= 30, timeout=300)
        assert server.process is not None
        (victim, *_) = pool_processes(server.process.pid)
        os.kill(victim, signal.SIGKILL)  # one render process dies mid-item
        wait_for(get, lambda s: s["done"] >= 110, timeout=300)
        server.kill()  # then the whole server, master, workers and pool, at once
    with running(env, log) as server:
        get = http_status(server.url, token, posted.headers["Location"])
        status = wait_for(get, lambda s: s["state"] == "completed", timeout=600)
    assert (status["done"], status["failed"]) == (237, 3)
    assert_exactly_once(env["QUJAT_DATABASE_URL"], env, posted.json()["id"], valid_ids(bodies))


# --------------------------------------------------------------------------- celery


@pytest.mark.broker
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_celery_workers_issue_a_session(
    celery_env: dict[str, str], client: FlaskClient, example: Example, worker_log: Path
) -> None:
    bodies = session_bodies(example, 300, "celery")
    posted = client.post("/api/v1/batches", json=bodies)
    assert posted.status_code == 202
    location = posted.headers["Location"]
    with workers(celery_env, worker_log) as start:
        start()
        status = wait_for(lambda: client.get(location).get_json(),
                          lambda s: s["state"] == "completed", timeout=600)
    assert (status["done"], status["failed"], status["queued"]) == (297, 3, 0)
    check_failed_items(status)
    assert_exactly_once(celery_env["QUJAT_DATABASE_URL"], celery_env,
                        posted.get_json()["id"], valid_ids(bodies))


@pytest.mark.broker
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_celery_worker_killed_mid_batch_leaves_every_item_issued_once(
    celery_env: dict[str, str], client: FlaskClient, example: Example, worker_log: Path
) -> None:
    bodies = session_bodies(example, 240, "killed")
    posted = client.post("/api/v1/batches", json=bodies)
    location = posted.headers["Location"]
    with workers(celery_env, worker_log) as start:
        first = start()
        wait_for(lambda: client.get(location + "?items=none").get_json(),
                 lambda s: s["done"] >= 80, timeout=300)
        first.kill()  # SIGKILL, main process and pool: its messages are unacknowledged
        killed = client.get(location + "?items=none").get_json()
        assert killed["state"] == "running"
        start()
        status = wait_for(lambda: client.get(location).get_json(),
                          lambda s: s["state"] == "completed", timeout=600)
    assert (status["done"], status["failed"]) == (237, 3)
    assert_exactly_once(celery_env["QUJAT_DATABASE_URL"], celery_env,
                        posted.get_json()["id"], valid_ids(bodies))


# --------------------------------------------------------------------------- broker restarts


class PrivateBroker:
    """A Redis or RabbitMQ server of this test's own, on free ports, that the test may kill.

    The machine's own brokers are shared; this one can be SIGKILLed and started again on the
    same port. Redis keeps nothing on disk (its queue dies with it, as with the machine's own
    Redis); RabbitMQ keeps its durable queue in its data folder across the restart.
    """

    def __init__(self, kind: str, folder: Path) -> None:
        self.kind = kind
        self.folder = folder
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.node = f"qujat-test-{uuid.uuid4().hex[:8]}@localhost"
        self.folder.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        if self.kind == "redis":
            return f"redis://127.0.0.1:{self.port}/0"
        return f"amqp://guest:guest@127.0.0.1:{self.port}//"

    def command(self) -> tuple[list[str], dict[str, str]]:
        if self.kind == "redis":
            return [shutil.which("redis-server") or "redis-server", "--port", str(self.port),
                    "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                    "--dir", str(self.folder)], {}
        config = self.folder / "rabbitmq.conf"
        config.write_text(f"listeners.tcp.1 = 127.0.0.1:{self.port}\n")
        plugins = self.folder / "enabled_plugins"
        plugins.write_text("[].\n")
        # the server script itself, not Debian's wrapper that re-runs it through `su` in a
        # session of its own (out of reach of the test's SIGKILL)
        return [RABBITMQ_SERVER], {
            "HOME": str(self.folder),  # its own Erlang cookie
            "RABBITMQ_CONFIG_FILE": str(config),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(plugins),
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_DIST_PORT": str(free_port()),
            "RABBITMQ_MNESIA_BASE": str(self.folder / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.folder / "log"),
            "RABBITMQ_PID_FILE": str(self.folder / "pid"),
        }

    def start(self, timeout: float = 90) -> None:
        argv, extra = self.command()
        with (self.folder / "broker.log").open("ab") as log:
            self.process = subprocess.Popen(
                argv, env={**os.environ, **extra}, cwd=self.folder, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"{self.kind} exited: {self.log_tail()}")
            with contextlib.suppress(OSError):
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            time.sleep(0.3)
        raise AssertionError(f"{self.kind} did not start in {timeout} s: {self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL to the broker's whole process group (RabbitMQ's beam and its helpers)."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        self.process = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # the port is free again once the listener is gone
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
            except OSError:
                return
            time.sleep(0.2)

    def log_tail(self) -> str:
        return (self.folder / "broker.log").read_text(errors="replace")[-2000:]


@pytest.fixture(params=["redis", "rabbitmq"])
def private_broker(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[PrivateBroker]:
    kind = request.param
    program = "redis-server" if kind == "redis" else "rabbitmq-server"
    if not Path(RABBITMQ_SERVER if kind == "rabbitmq" else shutil.which(program) or "").is_file():
        message = f"{program} is not installed: cannot restart a broker of the test's own"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{message}; CI must run the broker-restart test", pytrace=False)
        pytest.skip(message)
    broker = PrivateBroker(kind, tmp_path / kind)
    try:
        broker.start()
        yield broker
    finally:
        broker.kill()


@pytest.mark.broker
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_broker_killed_and_restarted_mid_batch_does_not_lose_it(
    private_broker: PrivateBroker, cli_env: dict[str, str], app: Flask, client: FlaskClient,
    example: Example, worker_log: Path,
) -> None:
    env = {**cli_env, **FAST, "QUJAT_BATCH_EXECUTOR": "celery",
           "QUJAT_BROKER_URL": private_broker.url}
    # QUJAT_BATCH_RESEND_SECONDS stays 900: the reconciler sees the empty broker queue and
    # sends the lost messages again after one lease
    app.extensions["qujat.batches"] = BatchService(
        app.extensions["qujat.database"], app.extensions["qujat.settings"],
        BatchSettings.from_env(env),
    )
    bodies = session_bodies(example, 200, f"restart-{private_broker.kind}")
    posted = client.post("/api/v1/batches", json=bodies)
    assert posted.status_code == 202
    location = posted.headers["Location"]
    with workers(env, worker_log) as start:
        start()
        wait_for(lambda: client.get(location + "?items=none").get_json(),
                 lambda s: s["done"] >= 40, timeout=300)
        private_broker.kill()  # every unstarted message of the batch is in the dead broker
        during = client.get(location + "?items=none").get_json()
        assert during["state"] == "running"
        time.sleep(3)
        private_broker.start()  # Redis comes back empty, RabbitMQ with its durable queue
        status = wait_for(lambda: client.get(location).get_json(),
                          lambda s: s["state"] == "completed", timeout=600)
    assert (status["done"], status["failed"]) == (197, 3)
    check_failed_items(status)
    assert_exactly_once(env["QUJAT_DATABASE_URL"], env, posted.get_json()["id"],
                        valid_ids(bodies))
