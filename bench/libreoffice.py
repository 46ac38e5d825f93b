"""LibreOffice kept warm, the way integrators run it (unoserver, Gotenberg): one long-running
`soffice --headless --accept=socket,…` per core, each driven over UNO by its own `unoserver`,
and every conversion handed to a free instance over XML-RPC. No LibreOffice start-up is paid
per document; only the conversion itself.

`scripts/setup --bench` installs LibreOffice Writer and python3-uno from Debian and unoserver
(PyPI) into `.venv-unoserver`, a virtual environment of the system Python that sees Debian's
`uno` module (unoserver must run in the Python LibreOffice was built for).

Used by bench/render.py (one instance, one document at a time) and bench/post.py (one
instance per core behind the same HTTP front as qujat).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import subprocess
import time
import xmlrpc.client
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
UNOSERVER = ROOT / ".venv-unoserver" / "bin" / "unoserver"


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def available() -> str | None:
    """Why warm LibreOffice cannot run here, or None when it can."""
    if not UNOSERVER.exists():
        return f"{UNOSERVER.relative_to(ROOT)} is missing: run scripts/setup --bench"
    if not Path("/usr/bin/soffice").exists():
        return "LibreOffice is not installed: run scripts/setup --bench"
    return None


class WarmLibreOffice:
    """`instances` unoservers, each with its own LibreOffice profile, started once and warmed
    with one conversion (Writer's first document loads its libraries)."""

    def __init__(self, work: Path, instances: int) -> None:
        self.work = work
        self.instances = instances
        self.urls: list[str] = []
        self._processes: list[subprocess.Popen[bytes]] = []

    def __enter__(self) -> WarmLibreOffice:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def start(self, warm_up: bytes | None = None, timeout: float = 180) -> None:
        reason = available()
        if reason:
            raise SystemExit(reason)
        self.work.mkdir(parents=True, exist_ok=True)
        for i in range(self.instances):
            port, uno_port = free_port(), free_port()
            log = (self.work / f"unoserver-{i}.log").open("ab")
            self._processes.append(
                subprocess.Popen(
                    [
                        str(UNOSERVER),
                        "--port",
                        str(port),
                        "--uno-port",
                        str(uno_port),
                        "--user-installation",
                        str(self.work / f"libreoffice-profile-{i}"),
                        "--conversion-timeout",
                        "600",
                    ],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
            log.close()
            self.urls.append(f"http://127.0.0.1:{port}")
        deadline = time.monotonic() + timeout
        for url, process in zip(self.urls, self._processes, strict=True):
            while True:
                try:
                    xmlrpc.client.ServerProxy(url, allow_none=True).info()
                    break
                except (OSError, xmlrpc.client.Error):
                    if process.poll() is not None or time.monotonic() > deadline:
                        self.stop()
                        raise SystemExit(f"unoserver did not start; see {self.work}") from None
                    time.sleep(0.5)
            if warm_up is not None:
                convert_at(url, warm_up)

    def stop(self) -> None:
        for process in self._processes:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)  # unoserver and its soffice
        for process in self._processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self._processes.clear()


def convert_at(url: str, docx: bytes) -> bytes:
    """DOCX bytes → PDF bytes by the unoserver at `url` (one conversion at a time there)."""
    proxy = xmlrpc.client.ServerProxy(url, allow_none=True)
    result = proxy.convert(None, xmlrpc.client.Binary(docx), None, "pdf", None, [], False)
    data: bytes = result.data
    return data


@contextlib.contextmanager
def free_instance(urls: list[str], locks: Path) -> Iterator[str]:
    """One of `urls` that no other process is converting with (a lock file each, so the
    workers of one server share the pool); waits for the first one if all are busy."""
    locks.mkdir(parents=True, exist_ok=True)
    files = [(locks / f"instance-{i}.lock").open("a") for i in range(len(urls))]
    try:
        start = os.getpid() % len(urls)
        order = [(start + i) % len(urls) for i in range(len(urls))]
        for i in order:
            try:
                fcntl.flock(files[i], fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue
            yield urls[i]
            return
        fcntl.flock(files[start], fcntl.LOCK_EX)
        yield urls[start]
    finally:
        for file in files:
            file.close()  # closing releases the lock
