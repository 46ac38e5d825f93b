"""The events of an extract's life reach a real receiver, each queued by the transaction
that records it: issued, its secretary's signature (real CMS from the test PKI), signed,
its delivery deadline overdue (noticed by the sender's pass), its e-mail sent through a
real SMTP server (aiosmtpd). SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from service.batches.models import BatchItem, BatchItemState
from service.batches.queue import BatchSettings, BatchWorker
from service.cli import main
from service.core.config import Settings
from service.core.errors import problem_of
from service.mail.outbox import MailSender, SmtpSettings
from service.signatures.intake import Signatures
from service.webhooks.outbox import EVENTS, DeliverReport, Webhooks
from tests.conftest import NOW, fixed_clock
from tests.mail.mailbox import Mailbox, MovingClock
from tests.signatures.support import SECRETARY, SigningPKI, sign, signing_pki
from tests.webhooks.receiver import Receiver

__all__ = ["signing_pki"]  # the session fixture, imported for pytest

Example = Callable[..., dict[str, Any]]


@pytest.fixture
def settings(tmp_path: Path, database_url: str, signing_pki: SigningPKI) -> Settings:
    return Settings(data_dir=tmp_path, database_url=database_url, max_body_bytes=1024 * 1024,
                    trust_dir=signing_pki.directory, webhook_allow_private=True)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    box = Receiver()
    box.start()
    yield box
    box.stop()


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox()
    box.start()
    yield box
    box.stop()


def test_an_extracts_life_is_announced_event_by_event(
    app: Flask, client: FlaskClient, example: Example, receiver: Receiver, mailbox: Mailbox,
    signing_pki: SigningPKI,
) -> None:
    clock = MovingClock(NOW)
    hooks = Webhooks(app.extensions["qujat.database"], clock=clock, allow_private=True,
                     timeout=5)
    signatures: Signatures = app.extensions["qujat.signatures"]
    mail = MailSender(
        app.extensions["qujat.database"], app.extensions["qujat.registry"].store,
        SmtpSettings(host="127.0.0.1", port=mailbox.port, sender="a@krg.example.kz",
                     timeout=5),
        clock=clock, public_base_url="https://qujat.example.kz", trust=signatures.trust,
    )
    endpoint = client.post("/api/v1/webhooks", json={"url": receiver.url,
                                                     "events": list(EVENTS)}).get_json()
    body = example("extract", "kk")
    body["decision"]["decision_id"] = "krg-hook-extract"
    body["decision"]["commission"]["secretary"]["iin"] = SECRETARY
    body["deliver_to"] = "asel.kurmanova@mektep.example.kz"
    issued = client.post("/api/v1/documents", json=body).get_json()

    # issued; its deadline (3 working days from the session) is already past at NOW
    assert hooks.deliver_pending() == DeliverReport(delivered=2)
    assert hooks.deliver_pending() == DeliverReport()  # overdue is announced once
    signed = sign(client, issued["id"], signing_pki.key(SECRETARY))
    assert signed.status_code == 201, signed.get_json()
    assert mail.send_pending().sent == 1
    assert len(mailbox.received) == 1
    assert hooks.deliver_pending() == DeliverReport(delivered=3)

    bodies = [json.loads(r.body) for r in receiver.received]
    assert [b["type"] for b in bodies] == [
        "document.issued", "deadline.overdue", "signature.added", "document.signed",
        "mail.sent",
    ]
    assert {b["data"]["document_id"] for b in bodies} == {issued["id"]}
    assert bodies[1]["data"]["kind"] == "delivery"
    assert bodies[2]["data"]["role"]
    assert "iin" not in json.dumps(bodies[2]["data"])
    assert bodies[4]["data"]["outbox_id"]
    listed = client.get(f"/api/v1/webhooks/{endpoint['id']}/deliveries").get_json()
    assert {d["status"] for d in listed["deliveries"]} == {"delivered"}


def test_a_refused_email_is_announced_and_the_cli_delivers_it(
    app: Flask, client: FlaskClient, example: Example, receiver: Receiver, mailbox: Mailbox,
    cli_env: dict[str, str],
) -> None:
    signatures: Signatures = app.extensions["qujat.signatures"]
    mail = MailSender(
        app.extensions["qujat.database"], app.extensions["qujat.registry"].store,
        SmtpSettings(host="127.0.0.1", port=mailbox.port, sender="a@krg.example.kz",
                     timeout=5),
        clock=MovingClock(NOW), public_base_url="https://qujat.example.kz",
        trust=signatures.trust,
    )
    client.post("/api/v1/webhooks", json={"url": receiver.url,
                                          "events": ["mail.sent", "mail.failed"]})
    mailbox.reject.add("gone@mektep.example.kz")
    body = example("extract", "kk")
    body["decision"]["decision_id"] = "krg-hook-bounce"
    del body["decision"]["commission"]["secretary"]["iin"]  # nobody must sign: it leaves
    body["deliver_to"] = "gone@mektep.example.kz"
    issued = client.post("/api/v1/documents", json=body).get_json()
    assert mail.send_pending().failed == 1  # a 550: final

    result = CliRunner().invoke(
        main, ["webhooks", "deliver"],
        env={**cli_env, "QUJAT_WEBHOOK_ALLOW_PRIVATE": "on"},
    )
    assert result.exit_code == 0, result.output
    assert "delivered 1, will retry 0, failed 0" in result.output
    [received] = receiver.received
    payload = json.loads(received.body)
    assert payload["type"] == "mail.failed"
    assert payload["data"]["document_id"] == issued["id"]
    assert payload["data"]["error"].startswith("550")


def test_a_completed_batch_is_announced_to_its_own_body_only(
    app: Flask, client: FlaskClient, client_for: Callable[[str], FlaskClient],
    example: Example, receiver: Receiver,
) -> None:
    hooks = Webhooks(app.extensions["qujat.database"], clock=MovingClock(NOW),
                     allow_private=True, timeout=5)
    client.post("/api/v1/webhooks", json={"url": receiver.url, "events": ["batch.completed"]})
    client_for("AKM").post("/api/v1/webhooks", json={"url": receiver.url,
                                                     "events": ["batch.completed"]})
    good, bad = example("certificate", "kk"), example("certificate", "kk")
    good["decision"]["decision_id"] = "krg-hook-batch-1"
    bad["decision"]["decision_id"] = "krg-hook-batch-2"
    bad["decision"]["holder"]["iin"] = "850314422011"  # check digit wrong
    posted = client.post("/api/v1/batches", json=[good, bad]).get_json()
    assert hooks.deliver_pending() == DeliverReport()  # still running
    database = app.extensions["qujat.database"]
    worker = BatchWorker(database, app.extensions["qujat.registry"], BatchSettings(),
                         fixed_clock, lambda error: problem_of(app, error))
    with database.read() as session:
        [item] = session.scalars(select(BatchItem.id).where(
            BatchItem.state == BatchItemState.QUEUED)).all()
    worker.issue_item(item)
    assert hooks.deliver_pending() == DeliverReport(delivered=1)
    [received] = receiver.received
    payload = json.loads(received.body)
    assert payload["type"] == "batch.completed"
    assert payload["data"] == {"batch": posted["id"], "total": 2, "done": 1, "failed": 1}
