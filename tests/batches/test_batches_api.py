"""Batches in one process: the API's validation and answers, and the task body
(`BatchWorker.issue_item`) driven by hand, so that duplicate deliveries, expired leases and
crashes between the registry's transactions happen exactly where the test wants them.

Real processes, brokers and the local pool are in test_batches_workers.py. Every test here
runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from service import create_app
from service.api.batches import BatchService
from service.batches.models import Batch, BatchItem, BatchItemState
from service.batches.queue import BatchSettings, BatchWorker, Outcome, requeue_expired
from service.core.config import Settings
from service.core.db import Database
from service.core.errors import problem_of
from service.core.faults import Faults, InjectedFault
from service.registry.audit import verify
from service.registry.models import AuditEntry, Document
from tests.conftest import NOW, fixed_clock

Example = Callable[..., dict[str, Any]]


class Clock:
    """A clock the test moves forward."""

    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> dt.datetime:
        return self.now


def certificates(example: Example, count: int, prefix: str = "b") -> list[dict[str, Any]]:
    made = []
    for i in range(count):
        body = example("certificate", "kk" if i % 2 else "ru")
        body["decision"]["decision_id"] = f"{prefix}-{i:04d}"
        made.append(body)
    return made


def worker(app: Flask, settings: BatchSettings | None = None, clock: Any = None) -> BatchWorker:
    return BatchWorker(
        app.extensions["qujat.database"], app.extensions["qujat.registry"],
        settings or BatchSettings(), clock or fixed_clock, lambda error: problem_of(app, error),
    )


def queued_ids(database: Database) -> list[Any]:
    with database.read() as session:
        return list(session.scalars(
            select(BatchItem.id).where(BatchItem.state == BatchItemState.QUEUED)
            .order_by(BatchItem.position)
        ))


def run_all(app: Flask, **kwargs: Any) -> list[Outcome]:
    run = worker(app, **kwargs)
    return [run.issue_item(i) for i in queued_ids(app.extensions["qujat.database"])]


def count(database: Database, model: Any) -> int:
    with database.read() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def events(database: Database) -> list[str]:
    with database.read() as session:
        return list(session.scalars(select(AuditEntry.event).order_by(AuditEntry.seq)))


# --------------------------------------------------------------------------- submitting


def test_a_batch_is_validated_item_by_item_and_issued(
    app: Flask, client: FlaskClient, example: Example
) -> None:
    bodies = certificates(example, 8)
    bodies[2]["decision"]["holder"]["iin"] = "850314422011"  # check digit wrong
    del bodies[5]["decision"]["decision_id"]
    posted = client.post("/api/v1/batches", json=bodies)
    assert posted.status_code == 202
    answer = posted.get_json()
    assert (answer["total"], answer["queued"], answer["failed"]) == (8, 6, 2)
    assert posted.headers["Location"] == answer["links"]["self"]

    status = client.get(answer["links"]["self"]).get_json()
    assert (status["state"], status["done"], status["queued"], status["failed"]) == (
        "running", 0, 6, 2)
    failed = {item["index"]: item for item in status["items"] if item["state"] == "failed"}
    assert set(failed) == {2, 5}
    problem = failed[2]["problem"]
    assert problem["type"].endswith("/invalid-decision")
    assert problem["status"] == 422
    assert [(e["pointer"], e["code"]) for e in problem["errors"]] == [
        ("/decision/holder/iin", "iin_checksum")]
    assert failed[2]["decision_id"] == "b-0002"
    assert [(e["pointer"], e["code"]) for e in failed[5]["problem"]["errors"]] == [
        ("/decision/decision_id", "required")]
    # the same problem a single post of that body gets
    single = client.post("/api/v1/documents", json=bodies[2]).get_json()
    assert single["errors"] == problem["errors"]
    russian = client.get(answer["links"]["self"] + "?items=failed",
                         headers={"Accept-Language": "ru"}).get_json()
    assert [i["index"] for i in russian["items"]] == [2, 5]
    assert russian["items"][0]["problem"]["errors"][0]["reason"] == (
        "Контрольный разряд ИИН не сходится.")

    assert run_all(app) == [Outcome.DONE] * 6
    status = client.get(answer["links"]["self"]).get_json()
    assert (status["state"], status["done"], status["failed"], status["queued"]) == (
        "completed", 6, 2, 0)
    assert status["completed_at"] is not None
    numbers = sorted(i["document"]["registration_number"] for i in status["items"]
                     if i["state"] == "done")
    assert [int(n.split("-")[3]) for n in numbers] == list(range(1, 7))
    document = next(i["document"] for i in status["items"] if i["state"] == "done")
    assert client.get(document["links"]["pdf"]).data.startswith(b"%PDF")
    database: Database = app.extensions["qujat.database"]
    assert count(database, Document) == 6
    log = events(database)
    assert log[0] == "batch_submitted"
    assert log[-1] == "batch_completed"
    with database.read() as session:
        assert verify(session).intact


def test_ndjson_lines_are_the_items(
    app: Flask, client: FlaskClient, example: Example
) -> None:
    bodies = certificates(example, 3, "nd")
    bodies[1]["decision"]["category"] = "intern"
    text = "\n".join(json.dumps(b, ensure_ascii=False) for b in bodies) + "\n\n"
    posted = client.post("/api/v1/batches", data=text.encode(),
                         content_type="application/x-ndjson")
    assert posted.status_code == 202
    assert (posted.get_json()["queued"], posted.get_json()["failed"]) == (2, 1)
    status = client.get(posted.headers["Location"] + "?items=failed").get_json()
    assert [i["index"] for i in status["items"]] == [1]
    assert status["items"][0]["problem"]["errors"][0]["pointer"] == "/decision/category"
    assert "items" not in client.get(posted.headers["Location"] + "?items=none").get_json()


def test_a_duplicate_decision_in_a_batch_fails_the_later_item(
    client: FlaskClient, example: Example
) -> None:
    bodies = certificates(example, 3, "dup")
    bodies[2]["decision"]["decision_id"] = "dup-0000"
    posted = client.post("/api/v1/batches", json=bodies).get_json()
    status = client.get(posted["links"]["self"] + "?items=failed").get_json()
    (item,) = status["items"]
    assert item["index"] == 2
    assert item["problem"]["errors"][0]["code"] == "batch_duplicate_decision"
    assert "item 0" in item["problem"]["errors"][0]["reason"]


@pytest.mark.parametrize(
    ("data", "content_type", "status", "code", "pointer"),
    [
        (b"[]", "text/plain", 415, "batch_media_type", ""),
        (b"[{", "application/json", 400, "malformed_json", ""),
        (b'{"a": 1}\n{"b": ', "application/x-ndjson", 400, "malformed_json", "/1"),
        (b'{"form": "certificate"}', "application/json", 422, "batch_not_a_list", ""),
        (b"[]", "application/json", 422, "batch_empty", ""),
        (b"\n\n", "application/x-ndjson", 422, "batch_empty", ""),
        (b"[1, 2, 3, 4]", "application/json", 413, "batch_too_many", ""),
        (b"[" + b"1," * 400 + b"1]", "application/json", 413, "too_large", ""),
    ],
)
def test_a_bad_body_is_refused_whole_and_nothing_is_stored(
    app: Flask, client: FlaskClient, data: bytes, content_type: str, status: int, code: str,
    pointer: str,
) -> None:
    small = BatchSettings(max_items=3, max_body_bytes=500)
    app.extensions["qujat.batches"] = BatchService(
        app.extensions["qujat.database"], app.extensions["qujat.settings"], small
    )
    response = client.post("/api/v1/batches", data=data, content_type=content_type,
                           headers={"Accept-Language": "kk"})
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    (error,) = response.get_json()["errors"]
    assert (error["code"], error["pointer"]) == (code, pointer)
    assert response.headers["Content-Language"] == "kk"
    database: Database = app.extensions["qujat.database"]
    assert count(database, Batch) == count(database, BatchItem) == 0
    assert events(database) == []


def test_a_batch_needs_a_token_and_belongs_to_its_organisation(
    client: FlaskClient, client_for: Callable[[str], FlaskClient],
    anonymous_client: FlaskClient, example: Example,
) -> None:
    assert anonymous_client.post("/api/v1/batches", json=certificates(example, 1)
                                 ).status_code == 401
    location = client.post("/api/v1/batches", json=certificates(example, 1)).headers["Location"]
    assert client.get(location).status_code == 200
    other = client_for("ABC").get(location)
    assert other.status_code == 404
    assert client.get(location + "?items=some").status_code == 400


# --------------------------------------------------------------------------- the task body


def test_an_item_delivered_again_is_issued_once(
    app: Flask, client: FlaskClient, example: Example
) -> None:
    client.post("/api/v1/batches", json=certificates(example, 2, "again"))
    database: Database = app.extensions["qujat.database"]
    first, second = queued_ids(database)
    run = worker(app)
    assert run.issue_item(first) == Outcome.DONE
    assert run.issue_item(first) == Outcome.SKIPPED  # the broker delivered it twice
    assert run.issue_item(second) == Outcome.DONE
    assert count(database, Document) == 2


def test_a_worker_that_died_holding_an_item_loses_it_when_its_lease_expires(
    app: Flask, client: FlaskClient, example: Example
) -> None:
    client.post("/api/v1/batches", json=certificates(example, 1, "lease"))
    database: Database = app.extensions["qujat.database"]
    (item_id,) = queued_ids(database)
    clock = Clock()
    settings = BatchSettings(lease_seconds=30)
    dead = worker(app, settings, clock)
    assert dead._claim(item_id) is not None  # claimed, then the worker was SIGKILLed
    other = worker(app, settings, clock)
    assert other.issue_item(item_id) == Outcome.SKIPPED  # still leased
    assert requeue_expired(database, clock) == []
    clock.now += dt.timedelta(seconds=31)
    assert requeue_expired(database, clock) == [item_id]
    assert other.issue_item(item_id) == Outcome.DONE
    with database.read() as session:
        item = session.get(BatchItem, item_id)
        assert item is not None
        assert (item.state, item.attempts) == (BatchItemState.DONE, 2)
    assert "batch_items_requeued" in events(database)


class FailRender(Faults):
    """The worker crashes after the number was taken, before the PDF was stored."""

    def before_render(self, decision_id: str) -> None:
        raise InjectedFault(decision_id)


def test_a_crash_after_numbering_is_finished_with_the_same_number(
    app: Flask, client: FlaskClient, example: Example, settings: Settings
) -> None:
    client.post("/api/v1/batches", json=certificates(example, 1, "crash"))
    database: Database = app.extensions["qujat.database"]
    (item_id,) = queued_ids(database)
    crashing = create_app(settings, clock=fixed_clock, faults=FailRender())
    try:
        assert worker(crashing).issue_item(item_id) == Outcome.RETRY
    finally:
        crashing.extensions["qujat.database"].dispose()
    with database.read() as session:
        (pending,) = session.scalars(select(Document)).all()
        number = pending.registration_number
    assert run_all(app) == [Outcome.DONE]
    with database.read() as session:
        (issued,) = session.scalars(select(Document)).all()
        assert (issued.registration_number, issued.status.value) == (number, "issued")
        item = session.get(BatchItem, item_id)
        assert item is not None
        assert (item.document_id, item.attempts) == (issued.id, 2)


def test_an_item_failing_every_attempt_is_reported_failed(
    app: Flask, client: FlaskClient, example: Example, settings: Settings
) -> None:
    location = client.post("/api/v1/batches", json=certificates(example, 1, "doomed")
                           ).headers["Location"]
    database: Database = app.extensions["qujat.database"]
    (item_id,) = queued_ids(database)
    crashing = create_app(settings, clock=fixed_clock, faults=FailRender())
    try:
        run = worker(crashing, BatchSettings(max_attempts=2))
        assert [run.issue_item(item_id) for _ in range(2)] == [Outcome.RETRY, Outcome.FAILED]
    finally:
        crashing.extensions["qujat.database"].dispose()
    status = client.get(location).get_json()
    assert (status["state"], status["failed"]) == ("completed", 1)
    assert status["items"][0]["problem"]["errors"][0]["code"] == "batch_attempts_exhausted"


def test_a_decision_issued_before_with_other_content_fails_its_item_with_409(
    app: Flask, client: FlaskClient, example: Example
) -> None:
    (body,) = certificates(example, 1, "conflict")
    first = client.post("/api/v1/documents", json=body).get_json()
    same, changed = certificates(example, 2, "conflict")
    changed["decision"]["decision_id"] = "conflict-0000"
    changed["decision"]["position"] = "химия пәнінің мұғалімі"
    location = client.post("/api/v1/batches", json=[same]).headers["Location"]
    conflicting = client.post("/api/v1/batches", json=[changed]).headers["Location"]
    assert sorted(run_all(app)) == [Outcome.DONE, Outcome.FAILED]
    assert client.get(location).get_json()["items"][0]["document"]["id"] == first["id"]
    item = client.get(conflicting).get_json()["items"][0]
    assert item["problem"]["status"] == 409
    assert item["problem"]["document"]["registration_number"] == first["registration_number"]
    assert count(app.extensions["qujat.database"], Document) == 1


def test_a_refusal_at_issue_time_fails_its_item_with_the_single_post_answer(
    app: Flask, client: FlaskClient, example: Example
) -> None:
    """Valid on arrival, refused when numbered (a listener's rule): the item fails at once,
    with the problem details a single post gets, burns no number and is not retried."""
    bodies = certificates(example, 3, "refused")
    bodies[0]["supersedes"] = "01-KRG-26-999999-00"  # no such document
    bodies[1]["protocol"] = "02-KRG-26-999999-00"  # no such protocol to cite
    posted = client.post("/api/v1/batches", json=bodies).get_json()
    assert posted["queued"] == 3
    assert run_all(app) == [Outcome.FAILED, Outcome.FAILED, Outcome.DONE]
    status = client.get(posted["links"]["self"]).get_json()
    assert (status["state"], status["done"], status["failed"]) == ("completed", 1, 2)
    items = {item["index"]: item for item in status["items"]}
    for index in (0, 1):
        body = {**bodies[index]}
        body["decision"] = {**body["decision"], "decision_id": f"single-{index}"}
        single = client.post("/api/v1/documents", json=body)
        problem = items[index]["problem"]
        assert items[index]["attempts"] == 1
        assert problem["status"] == single.status_code < 500
        assert problem["type"] == single.get_json()["type"]
        assert problem["errors"] == single.get_json()["errors"]
    assert items[0]["problem"]["errors"][0]["pointer"] == "/supersedes"
    assert items[1]["problem"]["errors"][0]["pointer"] == "/protocol"
    numbers = [items[2]["document"]["registration_number"]]
    assert [int(n.split("-")[3]) for n in numbers] == [1]  # no number burned by the refusals
