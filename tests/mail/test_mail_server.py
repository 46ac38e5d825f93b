"""The sender thread inside a real `qujat serve` (gunicorn, 2 workers) and a real SMTP server:
an issued extract arrives once; with the SMTP server down the attempt is recorded for a
retry and the extract is listed as overdue."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import select

from service.core.db import Database
from service.mail.models import MailStatus, OutboxMessage
from tests.mail.mailbox import Mailbox
from tests.servers import create_token, qujat, running

pytestmark = pytest.mark.slow
Example = Callable[..., dict[str, Any]]
WAIT_SECONDS = 40  # the sender looks every 5 seconds


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox()
    box.start()
    yield box
    box.stop()


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def outbox(url: str) -> list[OutboxMessage]:
    database = Database(url)
    try:
        with database.read() as session:
            return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.created_at)))
    finally:
        database.dispose()


def test_serve_delivers_extracts_and_records_failures(
    cli_env: dict[str, str], example: Example, mailbox: Mailbox, tmp_path: Path
) -> None:
    env = {**cli_env, "QUJAT_SMTP_PORT": str(mailbox.port),
           "QUJAT_MAIL_FROM": "attestation@krg.example.kz"}
    token = create_token(env)
    headers = {"Authorization": f"Bearer {token}"}

    def post(decision_id: str) -> dict[str, Any]:
        body = example("extract", "kk")
        body["decision"]["decision_id"] = decision_id
        # nobody must sign it (no secretary's IIN): its e-mail leaves at once
        del body["decision"]["commission"]["secretary"]["iin"]
        body["deliver_to"] = f"{decision_id}@mektep.example.kz"
        response = requests.post(server.url + "/api/v1/documents", json=body,
                                 headers=headers, timeout=60)
        assert response.status_code == 201, response.text
        answer: dict[str, Any] = response.json()
        return answer

    with running(env, tmp_path / "server.log") as server:
        post("first")
        wait_until(lambda: len(mailbox.received) == 1, "the first extract")
        assert mailbox.received[0].rcpt_tos == ["first@mektep.example.kz"]

        mailbox.stop()
        second = post("second")
        url = cli_env["QUJAT_DATABASE_URL"]
        wait_until(lambda: outbox(url)[-1].attempts >= 1, "an attempt with SMTP down")
        last = outbox(url)[-1]
        assert last.status == MailStatus.QUEUED
        assert last.last_error is not None
        assert "cannot connect" in last.last_error

        overdue = requests.get(server.url + "/api/v1/deadlines?status=overdue",
                               headers=headers, timeout=30).json()["deadlines"]
        assert [d["document"]["id"] for d in overdue] == [second["id"]]
        late = requests.get(server.url + "/api/v1/deadlines?status=late",
                            headers=headers, timeout=30).json()["deadlines"]
        assert len(late) == 1  # the first was delivered, after its 3 working days

    assert len(mailbox.received) == 1
    assert [row.status for row in outbox(cli_env["QUJAT_DATABASE_URL"])] == [
        MailStatus.SENT, MailStatus.QUEUED
    ]
    assert qujat("audit", "verify", env=env).returncode == 0
