"""The registry under a real server: `qujat serve` (gunicorn, 2 worker processes) on a free
port, loaded by a pool of client threads, failing on purpose, killed with SIGKILL.

Whatever happens, numbers stay unique and gapless, every answered document is really
there (row, bytes, audit entries), and `qujat audit verify` and `qujat storage check`, run
as real subprocesses, pass. Failures are injected with QUJAT_TESTING_FAULTS (service.core.faults).
"""

from __future__ import annotations

import copy
import json
import random
import signal
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import func, select

from service.core.db import Database
from service.registry.audit import history
from service.registry.issuing import check_registration_number, parse_registration_number
from service.registry.models import Document
from service.registry.storage import FilesystemStore, sha256_hex
from tests.servers import Posted, QujatServer, create_token, post_many, qujat, running

pytestmark = pytest.mark.slow
Example = Callable[..., dict[str, Any]]


def bodies(example: Example, ids: list[str]) -> list[dict[str, Any]]:
    template = example("certificate", "kk")
    made = []
    for decision_id in ids:
        body = copy.deepcopy(template)
        body["decision"]["decision_id"] = decision_id
        made.append(body)
    return made


def documents(database_url: str) -> list[Document]:
    database = Database(database_url)
    try:
        with database.read() as session:
            return list(session.scalars(select(Document).order_by(Document.seq)))
    finally:
        database.dispose()


def assert_gapless(rows: list[Document]) -> None:
    assert len({r.registration_number for r in rows}) == len(rows)
    assert all(check_registration_number(r.registration_number) for r in rows)
    by_series: dict[str, list[int]] = {}
    for row in rows:
        by_series.setdefault(row.series, []).append(row.seq)
        assert parse_registration_number(row.registration_number).seq == row.seq
    for seqs in by_series.values():
        assert sorted(seqs) == list(range(1, len(seqs) + 1))


def assert_checks_pass(env: dict[str, str]) -> None:
    audit = qujat("audit", "verify", env=env, check=False)
    assert audit.returncode == 0, audit.stderr
    storage = qujat("storage", "check", env=env, check=False)
    assert storage.returncode == 0, storage.stderr


@pytest.fixture
def server_log(tmp_path: Path) -> Iterator[Path]:
    log = tmp_path / "server.log"
    yield log
    if log.exists():  # the access log is noise; keep only what went wrong
        errors = [line for line in log.read_text(errors="replace").splitlines()
                  if "Traceback" in line or "ERROR" in line or "CRITICAL" in line]
        if errors:
            print("\n".join(errors[:50]))


def test_a_thousand_concurrent_postings_get_a_thousand_consecutive_numbers(
    cli_env: dict[str, str], server_log: Path, example: Example
) -> None:
    token = create_token(cli_env)
    ids = [f"load-{i:04d}" for i in range(1000)]
    with running(cli_env, server_log, workers=2) as server:
        answers = post_many(server.url, token, bodies(example, ids), threads=16)
    assert [a.status for a in answers] == [201] * 1000, {a.status for a in answers}
    numbers = [a.body["registration_number"] for a in answers]
    assert len(set(numbers)) == 1000
    assert sorted(parse_registration_number(n).seq for n in numbers) == list(range(1, 1001))
    rows = documents(cli_env["QUJAT_DATABASE_URL"])
    assert len(rows) == 1000
    assert {r.status for r in rows} == {"issued"}
    assert_gapless(rows)
    assert_checks_pass(cli_env)


def test_failures_mid_way_leave_no_gaps(
    cli_env: dict[str, str], server_log: Path, example: Example
) -> None:
    # -fc: fails inside the numbering transaction (rolled back, no number taken)
    # -fr: fails after it, before rendering (number kept, document pending until repaired)
    env = {**cli_env, "QUJAT_TESTING_FAULTS": json.dumps(
        {"fail_create": "-fc$", "fail_render": "-fr$"}
    )}
    kinds = ["ok", "ok", "fc", "ok", "fr", "ok", "ok", "fc", "ok", "ok", "fr", "ok"]
    ids = [f"mixed-{i:04d}-{kinds[i % len(kinds)]}" for i in range(240)]
    token = create_token(cli_env)
    with running(env, server_log, workers=2) as server:
        answers = post_many(server.url, token, bodies(example, ids), threads=16, keys=True)
        status = {a.decision_id: a.status for a in answers}
        assert {status[i] for i in ids if i.endswith("-ok")} == {201}
        assert {status[i] for i in ids if not i.endswith("-ok")} == {500}
        # retried with the same idempotency keys: the same failures, still no new numbers
        failed = [i for i in ids if not i.endswith("-ok")]
        again = post_many(server.url, token, bodies(example, failed), threads=8, keys=True)
        assert {a.status for a in again} == {500}

    rows = documents(cli_env["QUJAT_DATABASE_URL"])
    by_id = {r.decision_id: r for r in rows}
    assert not [i for i in ids if i.endswith("-fc") and i in by_id]
    assert {by_id[i].status for i in ids if i.endswith("-fr")} == {"pending"}
    assert len(rows) == sum(1 for i in ids if not i.endswith("-fc"))
    assert_gapless(rows)

    repaired = qujat("registry", "repair", env=cli_env)
    assert f"{sum(1 for i in ids if i.endswith('-fr'))} pending document(s) completed" in (
        repaired.stdout
    )
    rows = documents(cli_env["QUJAT_DATABASE_URL"])
    assert {r.status for r in rows} == {"issued"}
    assert_gapless(rows)
    assert_checks_pass(cli_env)


def _document_count(database_url: str) -> int:
    database = Database(database_url)
    try:
        with database.read() as session:
            return session.scalar(select(func.count()).select_from(Document)) or 0
    finally:
        database.dispose()


def _burst_and_kill(
    server: QujatServer, token: str, batch: list[dict[str, Any]], database_url: str,
    after: int, delay: float,
) -> list[Posted]:
    """Post `batch` and SIGKILL the whole server `delay` seconds after `after` more documents
    exist: counted, not timed, so a slow or loaded machine still gets to issue some."""
    start = _document_count(database_url)

    def kill_when_due() -> None:
        deadline = time.monotonic() + 120
        while _document_count(database_url) < start + after and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(delay)
        server.kill(signal.SIGKILL)

    killer = threading.Thread(target=kill_when_due)
    killer.start()
    try:
        return post_many(server.url, token, batch, threads=12, keys=True)
    finally:
        killer.join()


def test_sigkill_during_a_burst_loses_nothing(
    cli_env: dict[str, str], server_log: Path, example: Example
) -> None:
    # 1 in 25 posts also ends its worker right after the number is committed
    env = {**cli_env, "QUJAT_TESTING_FAULTS": json.dumps({"exit_after_create": "-x$"})}
    ids = [f"crash-{i:04d}" + ("-x" if i % 25 == 7 else "") for i in range(200)]
    token = create_token(cli_env)
    answered: dict[str, Posted] = {}
    rng = random.Random(20261123)
    server = QujatServer(env, server_log, workers=2)
    for _ in range(4):
        server.start()  # upgrades nothing, completes whatever the last kill left pending
        waiting = [i for i in ids if i not in answered]
        burst = bodies(example, waiting[:60])
        for posted in _burst_and_kill(server, token, burst, cli_env["QUJAT_DATABASE_URL"],
                                      rng.randint(8, 20), rng.uniform(0, 0.3)):
            if posted.status in (200, 201):
                answered[posted.decision_id] = posted
            else:  # no answer, or 409 while a killed request's key is still leased
                assert posted.status in (None, 409, 500), posted
    assert len(answered) > 20, "the server never got to answer before being killed"

    # afterwards everything answered must be there as answered, and nothing else is lost
    server = QujatServer(cli_env, server_log, workers=2)  # no more faults
    server.start()
    try:
        rest = [i for i in ids if i not in answered]
        final = post_many(server.url, token, bodies(example, rest), threads=8)
        assert {p.status for p in final} <= {200, 201}, {p.status for p in final}
        answered.update((p.decision_id, p) for p in final)
    finally:
        server.kill(signal.SIGTERM)

    rows = documents(cli_env["QUJAT_DATABASE_URL"])
    assert len(rows) == len(ids)
    assert {r.status for r in rows} == {"issued"}
    assert_gapless(rows)
    store = FilesystemStore(Path(cli_env["QUJAT_DATA_DIR"]) / "objects")
    database = Database(cli_env["QUJAT_DATABASE_URL"])
    try:
        with database.read() as session:
            for row in rows:
                posted = answered[row.decision_id]
                assert posted.body["id"] == str(row.id)
                assert posted.body["registration_number"] == row.registration_number
                assert posted.body["sha256"] == row.pdf_sha256
                assert sha256_hex(store.get(row.pdf_sha256 or "")) == row.pdf_sha256
                events = [e.event for e in history(session, row.id)]
                assert events == ["created", "issued"], (row.registration_number, events)
    finally:
        database.dispose()
    assert_checks_pass(cli_env)


def test_serve_upgrades_an_empty_sqlite_database_by_itself(
    tmp_path: Path, server_log: Path, example: Example
) -> None:
    env = {"QUJAT_DATA_DIR": str(tmp_path / "new"), "QUJAT_DATABASE_URL": ""}
    server = QujatServer(env, server_log, workers=2)
    server.start()
    try:
        token = create_token(env)
        body = bodies(example, ["first"])[0]
        response = requests.post(server.url + "/api/v1/documents", json=body,
                                 headers={"Authorization": f"Bearer {token}"}, timeout=60)
        assert response.status_code == 201
        assert response.json()["registration_number"].startswith("01-KRG-")
    finally:
        server.kill(signal.SIGTERM)


def test_the_same_decision_posted_by_many_clients_at_once_is_one_document(
    cli_env: dict[str, str], server_log: Path, example: Example
) -> None:
    token = create_token(cli_env)
    body = bodies(example, ["contested"])[0]
    with running(cli_env, server_log, workers=2) as server, ThreadPoolExecutor(12) as pool:
        start = time.monotonic()
        answers = list(pool.map(
            lambda _: post_many(server.url, token, [body], threads=1)[0], range(24)
        ))
        assert time.monotonic() - start < 120
    assert {a.status for a in answers} <= {200, 201}
    assert sum(1 for a in answers if a.status == 201) == 1
    assert len({a.body["registration_number"] for a in answers}) == 1
    assert len(documents(cli_env["QUJAT_DATABASE_URL"])) == 1
