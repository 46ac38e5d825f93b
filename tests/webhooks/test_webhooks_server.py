"""A server killed in the middle of a delivery: `qujat serve` (its webhook thread) POSTs to
a real receiver that holds the request; the whole process group is killed with SIGKILL
before the answer is recorded. Restarted, the server sends the delivery again once its
lease has run out: delivered at least once, never lost, under the same `webhook-id`.
The signature is verified with `standardwebhooks` in full, real-time timestamp check
included (the server runs on the real clock)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import select
from standardwebhooks.webhooks import Webhook

from service.core.db import Database
from service.webhooks.models import DeliveryStatus, WebhookDelivery
from tests.servers import QujatServer, create_token
from tests.webhooks.receiver import Receiver

pytestmark = pytest.mark.slow

Example = Callable[..., dict[str, Any]]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    box = Receiver()
    box.start()
    yield box
    box.stop()


def statuses(database_url: str) -> list[tuple[DeliveryStatus, int]]:
    database = Database(database_url)
    try:
        with database.read() as session:
            return [(row.status, row.attempts) for row in session.scalars(
                select(WebhookDelivery))]
    finally:
        database.dispose()


def wait_until(check: Callable[[], bool], deadline: float = 120.0) -> None:
    end = time.monotonic() + deadline
    while not check():
        assert time.monotonic() < end, "gave up waiting"
        time.sleep(0.2)


def test_a_server_killed_mid_delivery_delivers_it_after_restart(
    cli_env: dict[str, str], tmp_path: Path, example: Example, receiver: Receiver
) -> None:
    env = {**cli_env, "QUJAT_WEBHOOK_ALLOW_PRIVATE": "on", "QUJAT_WEBHOOK_TIMEOUT": "5",
           "QUJAT_MAIL_SENDER": "off"}
    token = create_token(cli_env)
    headers = {"Authorization": f"Bearer {token}"}
    log = tmp_path / "server.log"
    receiver.answers = ["hold"]  # the first POST is never answered

    server = QujatServer(env, log, workers=1)
    server.start()
    try:
        registered = requests.post(f"{server.url}/api/v1/webhooks", headers=headers, json={
            "url": receiver.url, "events": ["document.issued"]}, timeout=30)
        assert registered.status_code == 201, registered.text
        secret = registered.json()["secret"]
        body = example("certificate", "kk")
        body["decision"]["decision_id"] = "krg-hook-kill"
        issued = requests.post(f"{server.url}/api/v1/documents", headers=headers, json=body,
                               timeout=60)
        assert issued.status_code == 201, issued.text
        receiver.wait_for(1)  # the POST is in the receiver's hands …
    finally:
        server.kill()  # … when the server dies
    assert statuses(cli_env["QUJAT_DATABASE_URL"]) == [(DeliveryStatus.SENDING, 1)]
    receiver.release()

    restarted = QujatServer(env, log, workers=1)
    restarted.start()
    try:
        wait_until(lambda: statuses(cli_env["QUJAT_DATABASE_URL"])[0][0]
                   == DeliveryStatus.DELIVERED)
    finally:
        restarted.kill()

    first, again = receiver.received[:2]
    assert first.headers["webhook-id"] == again.headers["webhook-id"]
    assert first.body == again.body
    for received in (first, again):
        payload = Webhook(secret).verify(received.body, received.headers)
        assert payload["type"] == "document.issued"
        assert payload["data"]["document_id"] == issued.json()["id"]
    assert statuses(cli_env["QUJAT_DATABASE_URL"]) == [(DeliveryStatus.DELIVERED, 2)]
