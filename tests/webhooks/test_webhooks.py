"""Webhooks against a real HTTP receiver: registration, signed deliveries, retries after
500s, timeouts and outages, order per document, isolation between issuing bodies, and
hostile registrations. Deliveries are queued by the API's own transactions; a `Webhooks`
sender with a clock the test moves sends them. Every test runs on SQLite and PostgreSQL.

The signatures are checked with the `standardwebhooks` package (the receiver's side).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from standardwebhooks.webhooks import Webhook

from service import create_app
from service.core.config import Settings
from service.core.db import Database
from service.webhooks import guard
from service.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from service.webhooks.outbox import BACKOFF, MAX_ATTEMPTS, DeliverReport, Outcome, Webhooks
from tests.conftest import NOW, fixed_clock
from tests.mail.mailbox import MovingClock
from tests.webhooks.receiver import Received, Receiver

Example = Callable[..., dict[str, Any]]
ALL_EVENTS = ["document.issued", "document.revoked", "document.superseded"]


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(data_dir=tmp_path, database_url=database_url,
                    max_body_bytes=64 * 1024, webhook_allow_private=True)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    box = Receiver()
    box.start()
    yield box
    box.stop()


@pytest.fixture
def clock() -> MovingClock:
    return MovingClock(NOW)


@pytest.fixture
def sender(app: Flask, clock: MovingClock) -> Webhooks:
    return Webhooks(app.extensions["qujat.database"], clock=clock, allow_private=True,
                    timeout=5)


def register(client: FlaskClient, url: str, events: list[str] | None = None) -> dict[str, Any]:
    response = client.post("/api/v1/webhooks", json={"url": url,
                                                     "events": events or ALL_EVENTS})
    assert response.status_code == 201, response.get_json()
    answer: dict[str, Any] = response.get_json()
    return answer


def issue(client: FlaskClient, example: Example, decision_id: str,
          **envelope: Any) -> dict[str, Any]:
    body = example("certificate", "kk")
    body["decision"]["decision_id"] = decision_id
    body.update(envelope)
    response = client.post("/api/v1/documents", json=body)
    assert response.status_code == 201, response.get_json()
    answer: dict[str, Any] = response.get_json()
    return answer


def revoke(client: FlaskClient, document: dict[str, Any]) -> None:
    response = client.post(f"/api/v1/documents/{document['id']}/revocation", json={
        "reason": "Апелляция комиссиясының шешімі",
        "act": {"number": "А-17", "date": NOW.date().isoformat()},
    })
    assert response.status_code == 201, response.get_json()


def deliveries(client: FlaskClient, endpoint: dict[str, Any]) -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/webhooks/{endpoint['id']}/deliveries")
    assert response.status_code == 200, response.get_json()
    found: list[dict[str, Any]] = response.get_json()["deliveries"]
    return found


def verified(received: Received, secret: str, at: dt.datetime | None = None) -> dict[str, Any]:
    """The body, once its signature is the one standardwebhooks computes for it (and its
    timestamp `at`, when given). The package's `verify` would also compare the timestamp
    with the real time, which the test clock is not."""
    stamp = dt.datetime.fromtimestamp(int(received.headers["webhook-timestamp"]), dt.UTC)
    if at is not None:
        assert stamp == at
    expected = Webhook(secret).sign(received.headers["webhook-id"], stamp,
                                    received.body.decode())
    assert received.headers["webhook-signature"] == expected
    assert received.headers["content-type"] == "application/json"
    body: dict[str, Any] = json.loads(received.body)
    return body


def count_rows(app: Flask, table: type[Any]) -> int:
    database: Database = app.extensions["qujat.database"]
    with database.read() as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


# --------------------------------------------------------------------------- delivery


def test_an_issued_document_is_posted_signed_to_the_endpoint(
    client: FlaskClient, example: Example, receiver: Receiver, sender: Webhooks
) -> None:
    endpoint = register(client, receiver.url)
    secret = endpoint["secret"]
    assert secret.startswith("whsec_")
    assert endpoint["events"] == ALL_EVENTS
    # the secret is shown once: never in a GET
    listed = client.get("/api/v1/webhooks").get_json()["webhooks"]
    assert listed == [{k: v for k, v in endpoint.items() if k != "secret"}]
    assert "secret" not in client.get(f"/api/v1/webhooks/{endpoint['id']}").get_json()

    issued = issue(client, example, "krg-hook-1")
    [queued] = deliveries(client, endpoint)
    assert (queued["event"], queued["status"], queued["attempts"]) == (
        "document.issued", "queued", 0)

    assert sender.deliver_pending() == DeliverReport(delivered=1)

    [received] = receiver.received
    assert received.headers["webhook-id"] == queued["id"]
    body = verified(received, secret, NOW)
    assert body["type"] == "document.issued"
    assert body["data"]["document_id"] == issued["id"]
    assert body["data"]["registration_number"] == issued["registration_number"]
    assert body["data"]["form"] == "certificate"
    [delivered] = deliveries(client, endpoint)
    assert (delivered["status"], delivered["attempts"], delivered["last_status_code"]) == (
        "delivered", 1, 200)
    assert delivered["delivered_at"] == NOW.isoformat()
    assert [a["status_code"] for a in delivered["attempt_log"]] == [200]
    assert sender.deliver_pending() == DeliverReport()  # never twice
    assert len(receiver.received) == 1


def test_a_500_is_retried_with_backoff_under_the_same_webhook_id(
    client: FlaskClient, example: Example, receiver: Receiver, sender: Webhooks,
    clock: MovingClock,
) -> None:
    endpoint = register(client, receiver.url)
    issue(client, example, "krg-hook-500")
    receiver.answers = [500, 503]

    assert sender.deliver_pending() == DeliverReport(retrying=1)
    [retrying] = deliveries(client, endpoint)
    assert retrying["status"] == "queued"
    assert retrying["last_status_code"] == 500
    assert retrying["next_attempt_at"] == (NOW + BACKOFF[0]).isoformat()
    assert sender.deliver_pending() == DeliverReport()  # not due yet
    clock.advance(seconds=BACKOFF[0].total_seconds())
    assert sender.deliver_pending() == DeliverReport(retrying=1)
    clock.advance(seconds=BACKOFF[1].total_seconds())
    assert sender.deliver_pending() == DeliverReport(delivered=1)

    assert len({r.headers["webhook-id"] for r in receiver.received}) == 1
    assert [r.body for r in receiver.received] == [receiver.received[0].body] * 3
    verified(receiver.received[2], endpoint["secret"], clock())
    [delivered] = deliveries(client, endpoint)
    assert [a["status_code"] for a in delivered["attempt_log"]] == [500, 503, 200]
    assert delivered["status"] == "delivered"


def test_a_receiver_that_does_not_answer_in_time_is_retried(
    app: Flask, client: FlaskClient, example: Example, receiver: Receiver, clock: MovingClock,
) -> None:
    sender = Webhooks(app.extensions["qujat.database"], clock=clock, allow_private=True,
                      timeout=0.5)
    endpoint = register(client, receiver.url)
    issue(client, example, "krg-hook-slow")
    receiver.answers = ["hold"]

    assert sender.deliver_pending() == DeliverReport(retrying=1)
    receiver.release()
    [retrying] = deliveries(client, endpoint)
    assert retrying["last_error"] == "no answer within 0.5 s"
    assert retrying["last_status_code"] is None
    clock.advance(seconds=BACKOFF[0].total_seconds())
    assert sender.deliver_pending() == DeliverReport(delivered=1)
    assert deliveries(client, endpoint)[0]["status"] == "delivered"


def test_a_receiver_down_for_a_while_gets_every_event_in_order_once_back(
    client: FlaskClient, example: Example, receiver: Receiver, sender: Webhooks,
    clock: MovingClock,
) -> None:
    endpoint = register(client, receiver.url)
    receiver.stop()
    first = issue(client, example, "krg-hook-down-1")
    second = issue(client, example, "krg-hook-down-2")
    revoke(client, first)
    for attempt in range(3):
        report = sender.deliver_pending()
        # the revocation waits behind its document's issue: only two are tried
        assert report == DeliverReport(retrying=2), attempt
        clock.advance(seconds=BACKOFF[attempt].total_seconds())
    for row in deliveries(client, endpoint):
        if row["event"] == "document.issued":
            assert "ConnectionRefusedError" in row["last_error"]
        else:
            assert row["attempts"] == 0

    receiver.start()
    assert sender.deliver_pending() == DeliverReport(delivered=3)
    events = [(b["type"], b["data"]["document_id"])
              for b in (verified(r, endpoint["secret"]) for r in receiver.received)]
    assert events.index(("document.issued", first["id"])) < events.index(
        ("document.revoked", first["id"]))
    assert sorted(events) == sorted([("document.issued", first["id"]),
                                     ("document.issued", second["id"]),
                                     ("document.revoked", first["id"])])


def test_a_later_event_of_a_document_waits_for_the_earlier_one(
    client: FlaskClient, example: Example, receiver: Receiver, sender: Webhooks,
    clock: MovingClock,
) -> None:
    endpoint = register(client, receiver.url)
    old = issue(client, example, "krg-hook-order")
    new = issue(client, example, "krg-hook-order-appeal", supersedes=old["id"])
    revoke(client, new)
    receiver.answers = [500]
    assert sender.deliver_pending() == DeliverReport(delivered=2, retrying=1)
    clock.advance(seconds=BACKOFF[0].total_seconds())
    assert sender.deliver_pending() == DeliverReport(delivered=2)
    per_document: dict[str, list[str]] = {}
    for received in receiver.received:
        body = verified(received, endpoint["secret"])
        if received.headers["webhook-id"] not in {
            r.headers["webhook-id"] for r in receiver.received[:receiver.received.index(received)]
        }:
            per_document.setdefault(body["data"]["document_id"], []).append(body["type"])
    assert per_document[old["id"]] == ["document.issued", "document.superseded"]
    assert per_document[new["id"]] == ["document.issued", "document.revoked"]
    superseded = next(json.loads(r.body) for r in receiver.received
                      if json.loads(r.body)["type"] == "document.superseded")
    assert superseded["data"]["superseded_by"] == new["registration_number"]
    assert superseded["data"]["superseded_by_id"] == new["id"]
    assert superseded["data"]["document_id"] == old["id"]


def test_out_of_attempts_it_fails_and_an_explicit_resend_delivers_it(
    client: FlaskClient, example: Example, receiver: Receiver, sender: Webhooks,
    clock: MovingClock,
) -> None:
    endpoint = register(client, receiver.url)
    issue(client, example, "krg-hook-fail")
    receiver.default = 500
    for attempt in range(1, MAX_ATTEMPTS + 1):
        report = sender.deliver_pending()
        assert report == (DeliverReport(failed=1) if attempt == MAX_ATTEMPTS
                          else DeliverReport(retrying=1))
        clock.advance(hours=12)
    [failed] = deliveries(client, endpoint)
    assert (failed["status"], failed["attempts"]) == ("failed", MAX_ATTEMPTS)
    assert len(failed["attempt_log"]) == MAX_ATTEMPTS
    assert sender.deliver_pending() == DeliverReport()

    receiver.default = 200
    resend = f"/api/v1/webhooks/{endpoint['id']}/deliveries/{failed['id']}/resend"
    response = client.post(resend)
    assert response.status_code == 202
    assert response.get_json()["status"] == "queued"
    again = client.post(resend)
    assert again.status_code == 409
    assert again.mimetype == "application/problem+json"
    assert again.get_json()["errors"][0]["code"] == "webhook_still_pending"
    assert sender.deliver_pending() == DeliverReport(delivered=1)
    [delivered] = deliveries(client, endpoint)
    assert delivered["id"] == failed["id"]
    assert delivered["status"] == "delivered"
    assert len(delivered["attempt_log"]) == MAX_ATTEMPTS + 1
    assert receiver.received[-1].headers["webhook-id"] == failed["id"]


def test_a_deactivated_endpoint_gets_nothing_more(
    client: FlaskClient, example: Example, receiver: Receiver, sender: Webhooks,
) -> None:
    endpoint = register(client, receiver.url)
    assert client.delete(f"/api/v1/webhooks/{endpoint['id']}").status_code == 204
    issue(client, example, "krg-hook-off")
    assert deliveries(client, endpoint) == []
    assert sender.deliver_pending() == DeliverReport()
    assert receiver.received == []


def test_only_the_issuing_bodys_own_endpoints_hear_of_its_documents(
    client: FlaskClient, client_for: Callable[[str], FlaskClient], example: Example,
    receiver: Receiver, sender: Webhooks,
) -> None:
    other = client_for("AKM")
    theirs = register(other, receiver.url)
    ours = register(client, receiver.url, ["document.revoked"])
    issued = issue(client, example, "krg-hook-iso")
    assert deliveries(other, theirs) == []
    assert deliveries(client, ours) == []  # it did not ask for document.issued
    revoke(client, issued)
    [revoked] = deliveries(client, ours)
    assert revoked["event"] == "document.revoked"
    assert sender.deliver_pending() == DeliverReport(delivered=1)
    assert len(receiver.received) == 1
    # another body's endpoint and deliveries are not found, let alone resent
    assert other.get(f"/api/v1/webhooks/{ours['id']}").status_code == 404
    assert other.get(f"/api/v1/webhooks/{ours['id']}/deliveries").status_code == 404
    assert other.post(f"/api/v1/webhooks/{ours['id']}/deliveries/{revoked['id']}/resend"
                      ).status_code == 404
    assert other.post(f"/api/v1/webhooks/{theirs['id']}/deliveries/{revoked['id']}/resend"
                      ).status_code == 404
    assert other.delete(f"/api/v1/webhooks/{ours['id']}").status_code == 404
    assert [w["id"] for w in other.get("/api/v1/webhooks").get_json()["webhooks"]] == [
        theirs["id"]]


# --------------------------------------------------------------------------- hostile input


@pytest.mark.parametrize(("body", "pointer", "code"), [
    ({"url": "ftp://example.kz/hook", "events": ["document.issued"]}, "/url", "url_scheme"),
    ({"url": "javascript:alert(1)", "events": ["document.issued"]}, "/url", "url_scheme"),
    ({"url": "file:///etc/passwd", "events": ["document.issued"]}, "/url", "url_scheme"),
    ({"url": "http://user:pw@127.0.0.1/", "events": ["document.issued"]}, "/url",
     "url_credentials"),
    ({"url": "http://127.0.0.1/" + "a" * 2000, "events": ["document.issued"]}, "/url",
     "url_too_long"),
    ({"url": "http://127.0.0.1:99999/", "events": ["document.issued"]}, "/url",
     "url_malformed"),
    ({"url": "http:///nohost", "events": ["document.issued"]}, "/url", "url_malformed"),
    ({"url": "http://127.0.0.1/a b", "events": ["document.issued"]}, "/url", "url_malformed"),
    ({"url": "http://no-such-host.invalid/", "events": ["document.issued"]}, "/url",
     "url_unresolvable"),
    ({"url": 17, "events": ["document.issued"]}, "/url", "type"),
    ({"events": ["document.issued"]}, "/url", "required"),
    ({"url": "http://127.0.0.1/"}, "/events", "required"),
    ({"url": "http://127.0.0.1/", "events": []}, "/events", "type"),
    ({"url": "http://127.0.0.1/", "events": "document.issued"}, "/events", "type"),
    ({"url": "http://127.0.0.1/", "events": ["document.exploded"]}, "/events/0", "enum"),
    ({"url": "http://127.0.0.1/", "events": ["mail.sent", "mail.sent"]}, "/events/1",
     "duplicate_item"),
    ({"url": "http://127.0.0.1/", "events": ["mail.sent"], "secret": "mine"}, "/secret",
     "unknown_field"),
    ([], "", "type"),
])
def test_a_bad_registration_is_refused_and_nothing_is_stored(
    app: Flask, client: FlaskClient, body: Any, pointer: str, code: str
) -> None:
    response = client.post("/api/v1/webhooks", json=body)
    assert response.status_code == 422, response.get_json()
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["title"] == "Invalid webhook"
    assert {"pointer": pointer, "code": code} in [
        {"pointer": e["pointer"], "code": e["code"]} for e in problem["errors"]]
    assert count_rows(app, WebhookEndpoint) == 0


@pytest.mark.parametrize(("data", "headers", "status"), [
    (b'{"url": "http://127.0.0.1/", "events": ["mail.sent"]', {}, 400),
    (b'{"url": "a", "url": "b", "events": ["mail.sent"]}', {}, 400),
    (b'\xff\xfe', {}, 400),
    (b'{"url": "http://127.0.0.1/", "events": ["' + b"x" * 70_000 + b'"]}', {}, 413),
    (b'url=http://127.0.0.1/', {"Content-Type": "application/x-www-form-urlencoded"}, 415),
])
def test_a_malformed_or_huge_body_is_refused_and_nothing_is_stored(
    app: Flask, client: FlaskClient, data: bytes, headers: dict[str, str], status: int
) -> None:
    response = client.post("/api/v1/webhooks", data=data,
                           headers={"Content-Type": "application/json", **headers})
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    assert count_rows(app, WebhookEndpoint) == 0


def test_without_the_setting_an_internal_address_is_refused_at_registration(
    settings: Settings,
) -> None:
    app = create_app(settings.replace(webhook_allow_private=False), clock=fixed_clock)
    try:
        from tests.conftest import new_token

        client = app.test_client()
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {new_token(app, 'KRG')}"
        for url in ("http://127.0.0.1:8000/", "http://localhost/", "http://10.1.2.3/",
                    "http://169.254.169.254/latest/meta-data/", "http://[::1]/",
                    "http://[::ffff:127.0.0.1]/", "http://100.64.0.1/", "http://0.0.0.0/",
                    "http://224.0.0.1/", "http://192.168.1.1/"):
            response = client.post("/api/v1/webhooks",
                                   json={"url": url, "events": ["document.issued"]})
            assert response.status_code == 422, url
            assert response.get_json()["errors"][0]["code"] == "url_private", url
        assert count_rows(app, WebhookEndpoint) == 0
    finally:
        app.extensions["qujat.database"].dispose()


def test_an_address_is_checked_again_before_every_delivery(
    app: Flask, client: FlaskClient, example: Example, receiver: Receiver, clock: MovingClock,
) -> None:
    register(client, receiver.url)  # allowed when it was registered
    issue(client, example, "krg-hook-dns")
    strict = Webhooks(app.extensions["qujat.database"], clock=clock, allow_private=False,
                      timeout=5)
    assert strict.deliver_pending() == DeliverReport(retrying=1)
    assert receiver.received == []
    database: Database = app.extensions["qujat.database"]
    with database.read() as session:
        [row] = session.scalars(select(WebhookDelivery)).all()
        assert row.status == DeliveryStatus.QUEUED
        assert row.last_error is not None
        assert row.last_error.startswith("url_private")


def test_the_guard_accepts_a_public_address_and_refuses_the_others() -> None:
    assert guard.resolve("https://8.8.8.8/hook", allow_private=False).address == "8.8.8.8"
    target = guard.resolve("http://127.0.0.1:8080/a?b=c", allow_private=True)
    assert (target.host, target.port, target.path) == ("127.0.0.1", 8080, "/a?b=c")
    with pytest.raises(guard.UnsafeUrl) as refused:
        guard.resolve("http://[fe80::1]/", allow_private=False)
    assert refused.value.code == "url_private"


def test_the_queue_lives_in_the_events_transaction(
    app: Flask, client: FlaskClient, example: Example, receiver: Receiver,
) -> None:
    register(client, receiver.url)
    body = example("certificate", "kk")
    body["decision"]["decision_id"] = "krg-hook-bad"
    body["decision"]["unknown"] = True  # refused: no document, no event, no delivery
    assert client.post("/api/v1/documents", json=body).status_code == 422
    assert count_rows(app, WebhookDelivery) == 0
    assert str(uuid.UUID(register(client, receiver.url)["id"]))


def test_a_sender_that_outlives_its_lease_does_not_undo_the_delivery(
    client: FlaskClient, example: Example, receiver: Receiver, sender: Webhooks,
    clock: MovingClock,
) -> None:
    endpoint = register(client, receiver.url)
    issue(client, example, "krg-hook-lease")
    stalled = sender._claim()  # a sender that claims it, then stalls past its lease
    assert stalled is not None
    assert sender.deliver_pending() == DeliverReport()  # within the lease: nobody else
    clock.advance(seconds=sender.lease.total_seconds() + 1)
    assert sender.deliver_pending() == DeliverReport(delivered=1)
    assert sender._record(stalled, Outcome(False, None, "stalled")) == "retry"
    [row] = deliveries(client, endpoint)
    assert (row["status"], row["attempts"], row["last_error"]) == ("delivered", 2, None)
    assert [a["error"] for a in row["attempt_log"]] == [None, "stalled"]
