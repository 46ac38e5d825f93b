"""What a real `qujat serve` answers before and around the application: requests gunicorn
refuses itself (a request line or headers over its limits), a body over the limit, and when it
says it is listening.

Raw sockets, so that every byte of the answer (status line, Connection header, body) is what a
client gets.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES
from tests.servers import QUJAT, QujatServer, create_token, free_port, qujat


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("serve-edges")
    return {"QUJAT_DATA_DIR": str(folder), "QUJAT_DATABASE_URL": f"sqlite:///{folder}/q.db",
            "QUJAT_MAIL_SENDER": "off"}


@pytest.fixture(scope="module")
def server(env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[QujatServer]:
    started = QujatServer(env, tmp_path_factory.mktemp("log") / "serve.log", workers=1)
    started.start()
    try:
        yield started
    finally:
        started.kill()


def exchange(server: QujatServer, request: bytes) -> tuple[str, dict[str, str], bytes, bool]:
    """Send `request`, read one answer: status line, headers, body, and whether the server
    then ended the connection (read until it does: an idle keep-alive ends too, later)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as connection:
        status, headers, body = answer(connection, request)
        try:
            closed = connection.recv(1) == b""
        except ConnectionResetError:
            closed = True
        return status, headers, body, closed


def answer(connection: socket.socket, request: bytes) -> tuple[str, dict[str, str], bytes]:
    # the server may answer and close before reading all of a large body
    with contextlib.suppress(OSError):
        connection.sendall(request)
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = connection.recv(65536)
        assert chunk, received
        received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    while len(body) < int(headers.get("content-length", "0")):
        chunk = connection.recv(65536)
        assert chunk
        body += chunk
    return status, headers, body


def assert_problem(headers: dict[str, str], body: bytes, status: int, code: str) -> None:
    assert headers["content-type"] == "application/problem+json"
    problem = json.loads(body)
    assert problem["status"] == status
    assert problem["type"].startswith("https://qujat.kz/problems/")
    assert problem["title"]
    assert [e["code"] for e in problem["errors"]] == [code]
    assert problem["errors"][0]["reason"]


def test_a_request_line_too_long_is_a_problem(server: QujatServer) -> None:
    path = "/api/v1/verify/" + "1" * 10_000
    status, headers, body, closed = exchange(
        server, f"GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
    assert status.startswith("HTTP/1.1 414 ")
    assert_problem(headers, body, 414, "uri_too_long")
    assert headers["connection"] == "close"
    assert closed


@pytest.mark.parametrize("headers_sent", [
    "X-Big: " + "a" * 10_000 + "\r\n",  # one field over its limit
    "".join(f"X-Many-{i}: 1\r\n" for i in range(200)),  # too many fields
])
def test_header_fields_too_large_are_a_problem(server: QujatServer, headers_sent: str) -> None:
    status, headers, body, closed = exchange(
        server, f"GET /healthz HTTP/1.1\r\nHost: localhost\r\n{headers_sent}\r\n".encode())
    assert status.startswith("HTTP/1.1 431 ")
    assert_problem(headers, body, 431, "headers_too_large")
    assert headers["connection"] == "close"
    assert closed


def test_a_malformed_request_is_a_problem(server: QujatServer) -> None:
    status, headers, body, _ = exchange(server, b"NOT HTTP AT ALL\r\n\r\n")
    assert status.startswith("HTTP/1.1 400 ")
    assert_problem(headers, body, 400, "bad_request")


@pytest.fixture(scope="module")
def token(env: dict[str, str], server: QujatServer) -> str:
    return create_token(env)


@pytest.mark.parametrize(("path", "authorised", "status", "code"), [
    ("/api/v1/render", True, 413, "too_large"),  # over QUJAT_MAX_BODY_BYTES (1 MiB)
    ("/api/v1/render", False, 401, "unauthorised"),  # refused before its body is read
])
def test_an_answer_that_leaves_the_body_unread_says_the_connection_closes(
    server: QujatServer, token: str, path: str, authorised: bool, status: int, code: str
) -> None:
    size = 2 * 1024 * 1024
    authorisation = f"Authorization: Bearer {token}\r\n" if authorised else ""
    request = (f"POST {path} HTTP/1.1\r\nHost: localhost\r\n{authorisation}"
               "Content-Type: application/json\r\n"
               f"Content-Length: {size}\r\n\r\n").encode() + b" " * size
    line, headers, body, closed = exchange(server, request)
    assert line.startswith(f"HTTP/1.1 {status} ")
    assert headers["content-type"] == "application/problem+json"
    if status == 413:
        assert_problem(headers, body, 413, code)
    assert headers.get("connection") == "close"
    assert closed


def test_an_answer_in_full_keeps_the_connection(server: QujatServer) -> None:
    request = b"GET /api/v1/openapi.json HTTP/1.1\r\nHost: localhost\r\n\r\n"
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as connection:
        for _ in range(2):
            status, headers, _ = answer(connection, request)
            assert status.startswith("HTTP/1.1 200 ")
            assert headers.get("connection", "keep-alive") != "close"


def test_api_errors_of_the_cli_are_in_the_chosen_language(
    server: QujatServer, env: dict[str, str], tmp_path: Path
) -> None:
    token = create_token(env)
    commission = json.loads((EXAMPLES / "commission.json").read_text("utf-8"))
    del commission["members"]
    bad = tmp_path / "commission.json"
    bad.write_text(json.dumps(commission, ensure_ascii=False), "utf-8")
    client = {**env, "QUJAT_URL": server.url, "QUJAT_TOKEN": token}
    refused = qujat("commission", "create", str(bad), "--messages", "ru", env=client,
                    check=False)
    assert refused.returncode == 1
    first = refused.stderr.splitlines()[0]
    assert first.startswith("Ошибка: HTTP 422: сервер отклонил запрос"), refused.stderr
    assert "members" in refused.stderr


# --------------------------------------------------------------------------- listening


def test_listening_is_said_once_the_port_is_bound(env: dict[str, str], tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [QUJAT, "serve", "--port", str(port), "--workers", "1"], env={**_os_env(), **env},
            cwd="/", stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while "qujat listening" not in log.read_text("utf-8", "replace"):
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        # said, so the port takes connections now (it may still be loading its worker)
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    finally:
        _stop(process)


def test_a_busy_port_is_never_said_to_be_listening(env: dict[str, str], tmp_path: Path) -> None:
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        process = subprocess.run(
            [QUJAT, "serve", "--port", str(port), "--workers", "1"], env={**_os_env(), **env},
            cwd="/", capture_output=True, text=True, timeout=120, check=False)
    assert process.returncode != 0
    assert "qujat listening" not in process.stdout + process.stderr
    assert "in use" in process.stdout + process.stderr


def _os_env() -> dict[str, str]:
    return dict(os.environ)


def _stop(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
