"""Two machines that share nothing but PostgreSQL and the broker.

Each "machine" is a `qujat serve` and a `qujat worker` with a data folder of its own and
`QUJAT_STORAGE=postgresql`, so documents travel through the database's `objects` table, not a
shared folder. A 500-item session goes to one server while single documents are posted to the
other; a worker and a server are killed with SIGKILL half-way. Every valid item ends with exactly
one document, the numbers are gapless, every document's PDF is served by both servers with the
hash it was registered with, and neither data folder holds a document file.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import select

from service.registry.models import Document
from tests.batches.test_batches_workers import (
    BROKERS,
    FAST,
    INVALID,
    check_failed_items,
    reachable,
    session_bodies,
    valid_ids,
    wait_for,
    workers,
)
from tests.registry.test_registry_server import assert_checks_pass, assert_gapless
from tests.servers import QujatServer, create_token, post_many

pytestmark = [pytest.mark.slow, pytest.mark.broker]
Example = Callable[..., dict[str, Any]]
SESSION = 500
SINGLES = 60


@pytest.fixture
def machines(cli_env: dict[str, str], tmp_path: Path) -> Iterator[dict[str, dict[str, str]]]:
    url = BROKERS["redis"]
    reachable(url)
    queue = f"qujat-test-{uuid.uuid4().hex[:12]}"
    shared = {**cli_env, **FAST, "QUJAT_STORAGE": "postgresql", "QUJAT_BATCH_EXECUTOR": "celery",
              "QUJAT_BROKER_URL": url, "QUJAT_BATCH_QUEUE": queue, "QUJAT_MAIL_SENDER": "off"}
    yield {name: {**shared, "QUJAT_DATA_DIR": str(tmp_path / f"machine-{name}")}
           for name in ("a", "b")}
    from kombu import Connection

    with Connection(url) as connection, contextlib.suppress(Exception):
        connection.default_channel.queue_delete(queue)


def _documents(database_url: str) -> list[Document]:
    from service.core.db import Database

    database = Database(database_url)
    try:
        with database.read() as session:
            return list(session.scalars(select(Document).order_by(Document.series, Document.seq)))
    finally:
        database.dispose()


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_two_machines_share_documents_through_postgresql_alone(
    machines: dict[str, dict[str, str]], example: Example, tmp_path: Path
) -> None:
    a, b = machines["a"], machines["b"]
    token = create_token(a)
    auth = {"Authorization": f"Bearer {token}"}
    server_a = QujatServer(a, tmp_path / "server-a.log")
    server_b = QujatServer(b, tmp_path / "server-b.log")
    bodies = session_bodies(example, SESSION, "machines")
    singles = []
    for i in range(SINGLES):
        body = example("certificate", "kk")
        body["decision"]["decision_id"] = f"single-{i:03d}"
        singles.append(body)
    try:
        server_a.start()
        server_b.start()
        with workers(a, tmp_path / "worker-a.log") as start_a, \
                workers(b, tmp_path / "worker-b.log") as start_b:
            worker_a = start_a()
            start_b()
            posted = requests.post(server_a.url + "/api/v1/batches", json=bodies, headers=auth,
                                   timeout=120)
            assert posted.status_code == 202, posted.text
            location = server_a.url + posted.headers["Location"]

            def status() -> dict[str, Any]:
                answer = requests.get(location + "?items=none", headers=auth, timeout=30)
                answer.raise_for_status()
                found: dict[str, Any] = answer.json()
                return found

            # single posts to machine b while the session runs; the first half before b dies
            first: list[Any] = []
            poster = threading.Thread(
                target=lambda: first.extend(post_many(server_b.url, token, singles[:30],
                                                      threads=4, keys=True)))
            poster.start()
            wait_for(status, lambda s: s["done"] >= SESSION // 5, timeout=600)
            worker_a.kill()  # SIGKILL mid-batch: its unacknowledged items come back
            poster.join(timeout=600)
            server_b.kill()  # SIGKILL, master and workers
            server_b.start()
            second = post_many(server_b.url, token, singles[30:], threads=4, keys=True)
            # anything that got no answer when b died is posted again (same key: same document)
            retried = post_many(server_b.url, token,
                                [s for s, p in zip(singles, first + second, strict=True)
                                 if p.status != 201], threads=4, keys=True)
            assert all(p.status in (200, 201) for p in retried), retried
            start_a()
            done = wait_for(status, lambda s: s["state"] == "completed", timeout=900)
        assert (done["done"], done["failed"]) == (SESSION - len(INVALID), len(INVALID))
        check_failed_items(requests.get(location, headers=auth, timeout=60).json())

        rows = _documents(a["QUJAT_DATABASE_URL"])
        expected = valid_ids(bodies) | {s["decision"]["decision_id"] for s in singles}
        assert sorted(r.decision_id for r in rows) == sorted(expected)  # exactly once each
        assert {r.status for r in rows} == {"issued"}
        assert_gapless(rows)
        # every PDF from both servers, byte for byte what was registered
        with requests.Session() as http:
            for row in rows:
                for server in (server_a, server_b):
                    pdf = http.get(f"{server.url}/api/v1/documents/{row.id}.pdf",
                                   headers=auth, timeout=60)
                    assert pdf.status_code == 200, (row.registration_number, pdf.text[:200])
                    assert hashlib.sha256(pdf.content).hexdigest() == row.pdf_sha256
    finally:
        server_a.kill()
        server_b.kill()
    for machine in (a, b):
        assert not (Path(machine["QUJAT_DATA_DIR"]) / "objects").exists()
        assert_checks_pass(machine)
