"""Real servers and CLI subprocesses for the multi-process tests (and bench/post.py).

`QujatServer` runs `qujat serve` (gunicorn, 2+ workers) on a free 127.0.0.1 port in its own
process group, so that one SIGKILL takes the master and its workers down at once, as a
crashing machine would. `post_many` is the load client: a bounded thread pool of
`requests` sessions, every request with a timeout.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

QUJAT = str(Path(sys.executable).with_name("qujat"))
TIMEOUT = (5, 60)  # connect, read


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def qujat(
    *args: str, env: Mapping[str, str], check: bool = True
) -> subprocess.CompletedProcess[str]:
    """`qujat ARGS…` as a real subprocess, from an unrelated working directory."""
    return subprocess.run(
        [QUJAT, *args],
        env={**os.environ, **env},
        cwd="/",
        capture_output=True,
        text=True,
        timeout=300,
        check=check,
    )


def create_token(env: Mapping[str, str], organisation: str = "KRG") -> str:
    return qujat("token", "create", "--org", organisation, env=env).stdout.strip()


class QujatServer:
    def __init__(
        self, env: Mapping[str, str], log: Path, workers: int = 2, threads: int = 2
    ) -> None:
        self.env = dict(env)
        self.log = log
        self.workers = workers
        self.threads = threads
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 90) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [QUJAT, "serve", "--port", str(self.port), "--workers", str(self.workers),
                 "--threads", str(self.threads)],
                env={**os.environ, **self.env},
                cwd="/",
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"qujat serve exited: {self.log.read_text()[-3000:]}")
            with contextlib.suppress(requests.RequestException):
                if requests.get(self.url + "/healthz", timeout=1).ok:
                    return
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"qujat serve did not start: {self.log.read_text()[-3000:]}")

    def kill(self, sig: signal.Signals = signal.SIGKILL) -> None:
        """Signal the whole process group (master and workers) and reap it."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, sig)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)
        # workers may outlive a killed master for a moment: wait for the group to be empty
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.killpg(self.process.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        self.process = None

    def stop(self) -> None:
        self.kill(signal.SIGTERM)


@contextlib.contextmanager
def running(
    env: Mapping[str, str], log: Path, workers: int = 2, threads: int = 2
) -> Iterator[QujatServer]:
    server = QujatServer(env, log, workers, threads)
    server.start()
    try:
        yield server
    finally:
        server.kill()


@dataclass(frozen=True)
class Posted:
    decision_id: str
    status: int | None  # None: no answer (connection refused, reset, timed out)
    body: Any
    seconds: float


_local = threading.local()


def _session() -> requests.Session:
    session: requests.Session | None = getattr(_local, "session", None)
    if session is None:
        session = _local.session = requests.Session()
    return session


def post_document(
    url: str, token: str, body: Mapping[str, Any], key: str | None = None
) -> Posted:
    headers = {"Authorization": f"Bearer {token}"}
    if key is not None:
        headers["Idempotency-Key"] = key
    decision_id = body["decision"]["decision_id"]
    start = time.perf_counter()
    try:
        response = _session().post(
            url + "/api/v1/documents", json=body, headers=headers, timeout=TIMEOUT
        )
    except requests.RequestException:
        _local.session = None
        return Posted(decision_id, None, None, time.perf_counter() - start)
    elapsed = time.perf_counter() - start
    try:
        answer = response.json()
    except ValueError:
        answer = response.text
    return Posted(decision_id, response.status_code, answer, elapsed)


def post_many(
    url: str,
    token: str,
    bodies: Iterable[Mapping[str, Any]],
    *,
    threads: int = 16,
    keys: bool = False,
) -> list[Posted]:
    """Post every body from `threads` client threads; the answers in the bodies' order."""
    with ThreadPoolExecutor(threads) as pool:
        futures = [
            pool.submit(
                post_document, url, token, body,
                body["decision"]["decision_id"] if keys else None,
            )
            for body in bodies
        ]
        return [future.result(timeout=600) for future in futures]
