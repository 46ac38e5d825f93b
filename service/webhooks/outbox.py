"""Webhooks: events queued with the transaction that caused them, POSTed, signed, retried.

Queueing. Every event qujat sends is already written to the audit trail by the transaction
that causes it (`created`/`issued`, `signed_by`, `protocol_signed`, `revoked`, `mail_sent`,
`batch_completed`, …). `on_audit`, an observer of `service.registry.audit`, turns such an
entry into one `webhook_deliveries` row per active endpoint of the same issuing body that
asked for the event, inside that transaction: the event and its deliveries exist together or
not at all, and an endpoint never hears of another body's documents.

Sending. `Webhooks.deliver_pending` (a process of `qujat serve`, or `qujat webhooks
deliver` once) claims one due delivery at a time in a short transaction that locks it (`FOR
UPDATE SKIP LOCKED` on PostgreSQL), sets `sending`, counts the attempt and takes a lease.
Outside any transaction it checks the URL again (service.webhooks.guard) and POSTs the JSON
with the Standard Webhooks headers; a second transaction records the outcome. 2xx:
`delivered`. Anything else (another status, a timeout, a refused connection, an address now
refused): `queued` again after a backoff (BACKOFF), `failed` after MAX_ATTEMPTS.

At least once, never lost. A delivery whose sender died (killed mid-POST) stays `sending`
until its lease runs out; then any sender claims it again. The receiver may so see one
delivery twice: the `webhook-id` header is the same on every attempt, for it to recognise a
repeat. Per document and endpoint, deliveries go out in the order of their events: one is
not sent while an earlier one of the same document is queued or sending (a failed one no
longer holds the others back). An explicit resend queues a failed (or delivered) delivery again.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import http.client
import json
import logging
import os
import secrets
import socket
import ssl
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import Session, aliased

from service.batches.models import Batch
from service.core.db import Database
from service.core.periodic import Periodic
from service.deadlines import rules as deadlines
from service.forms.decisions import Clock
from service.registry import audit
from service.registry.models import Document
from service.webhooks import guard
from service.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint

if TYPE_CHECKING:
    from service.core.config import Settings

log = logging.getLogger(__name__)

# the audit entry → the webhook event it is; `mail_failed` only when it is final
AUDIT_EVENTS = {
    "issued": "document.issued",
    "signed_by": "signature.added",
    "document_signed": "document.signed",
    "protocol_signed": "document.signed",
    "revoked": "document.revoked",
    "superseded": "document.superseded",
    "mail_sent": "mail.sent",
    "mail_failed": "mail.failed",
    "batch_completed": "batch.completed",
    "deadline_overdue": "deadline.overdue",
}
EVENTS = tuple(dict.fromkeys(AUDIT_EVENTS.values()))
# audit payload members that stay inside qujat
_PRIVATE = frozenset({"token_id", "attempt", "final", "retry_at"})

BACKOFF = tuple(dt.timedelta(seconds=s) for s in (5, 30, 120, 600, 1800, 3600, 7200, 18000))
MAX_ATTEMPTS = len(BACKOFF) + 1  # about nine hours of retries
MAX_PER_RUN = 500
MAX_ENDPOINTS = 20  # per issuing body
RESPONSE_KEPT = 500  # characters of a receiver's answer kept in the attempt log


def backoff(attempts: int) -> dt.timedelta:
    """The wait after the `attempts`-th failed attempt."""
    return BACKOFF[min(max(attempts, 1), len(BACKOFF)) - 1]


# --------------------------------------------------------------------------- signing


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode("ascii")


def signature(secret: str, delivery_id: str, timestamp: int, body: bytes) -> str:
    """The Standard Webhooks `webhook-signature`: HMAC-SHA256 of "{id}.{timestamp}.{body}"
    with the secret's bytes (base64 after `whsec_`), base64, after `v1,`."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{delivery_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


# --------------------------------------------------------------------------- queueing


def _organisation(session: Session, entry: audit.Appended, payload: dict[str, Any]) -> int | None:
    if entry.document_id is not None:
        return session.scalar(
            select(Document.organisation_id).where(Document.id == entry.document_id)
        )
    if entry.event == "batch_completed":
        return session.scalar(
            select(Batch.organisation_id).where(Batch.id == uuid.UUID(str(payload["batch"])))
        )
    return None


def on_audit(session: Session, entry: audit.Appended) -> None:
    """Queue the deliveries of the event an audit entry records (an audit observer)."""
    event = AUDIT_EVENTS.get(entry.event)
    if event is None:
        return
    payload: dict[str, Any] = json.loads(entry.payload)
    if entry.event == "mail_failed" and not payload.get("final"):
        return  # a retry is not news; the last failure is
    organisation_id = _organisation(session, entry, payload)
    if organisation_id is None:
        return
    endpoints = [
        e for e in session.scalars(
            select(WebhookEndpoint).where(
                WebhookEndpoint.organisation_id == organisation_id, WebhookEndpoint.active
            )
        ) if event in e.events
    ]
    if not endpoints:
        return
    data = {k: v for k, v in payload.items() if k not in _PRIVATE}
    if entry.event == "superseded":  # its `document_id` is the new document's
        data["superseded_by_id"] = data.pop("document_id")
    if entry.document_id is not None:
        document = session.get(Document, entry.document_id)
        assert document is not None
        data.update(document_id=str(document.id),
                    registration_number=document.registration_number,
                    form=document.form.value)
    body = {"type": event, "timestamp": entry.at.isoformat(), "data": data}
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    for endpoint in endpoints:
        session.add(WebhookDelivery(
            id=uuid.uuid4(), endpoint_id=endpoint.id, event=event,
            document_id=entry.document_id, sequence=entry.seq, payload_json=text,
            status=DeliveryStatus.QUEUED, attempts=0, attempt_log=[],
            next_attempt_at=entry.at, created_at=entry.at,
        ))


def install_observer() -> None:
    """Make every audit entry of this process queue its webhooks (idempotent)."""
    audit.observe(on_audit)


# --------------------------------------------------------------------------- endpoints


class InvalidEndpoint(ValueError):
    """A registration that cannot be stored; `pointer` names the field, `code` why."""

    def __init__(self, pointer: str, code: str, text: str, **params: object) -> None:
        self.pointer = pointer
        self.code = code
        self.params = params
        super().__init__(text)


class EndpointNotFound(LookupError):
    pass


class DeliveryNotFound(LookupError):
    pass


class ResendRefused(RuntimeError):
    """The delivery is still queued or being sent."""

    code = "webhook_still_pending"


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def endpoint_json(row: WebhookEndpoint) -> dict[str, Any]:
    return {"id": str(row.id), "url": row.url, "events": list(row.events),
            "active": row.active, "created_at": _iso(row.created_at)}


def delivery_json(row: WebhookDelivery) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "endpoint_id": str(row.endpoint_id),
        "event": row.event,
        "document_id": str(row.document_id) if row.document_id else None,
        "status": row.status.value,
        "attempts": row.attempts,
        "next_attempt_at": _iso(row.next_attempt_at),
        "last_status_code": row.last_status_code,
        "last_error": row.last_error,
        "created_at": _iso(row.created_at),
        "delivered_at": _iso(row.delivered_at),
        "payload": json.loads(row.payload_json),
        "attempt_log": list(row.attempt_log),
    }


# --------------------------------------------------------------------------- HTTP


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the address the guard checked, whatever the host name resolves to now."""

    def __init__(self, target: guard.Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self.address = target.address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, target: guard.Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout,
                         context=ssl.create_default_context())
        self.address = target.address

    def connect(self) -> None:
        sock = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(  # type: ignore[attr-defined]
            sock, server_hostname=self.host
        )


@dataclass(frozen=True, slots=True)
class Outcome:
    delivered: bool
    status_code: int | None = None
    error: str | None = None
    duration_ms: int = 0


def post(target: guard.Target, headers: dict[str, str], body: bytes, timeout: float) -> Outcome:
    """One POST; never raises. Redirects are not followed (a 3xx is a failure)."""
    started = time.monotonic()
    connection: http.client.HTTPConnection = (
        _PinnedHTTPSConnection(target, timeout) if target.scheme == "https"
        else _PinnedHTTPConnection(target, timeout)
    )

    def took() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        answer = response.read(RESPONSE_KEPT).decode("utf-8", "replace")
    except TimeoutError:
        return Outcome(False, None, f"no answer within {timeout:g} s", took())
    except (OSError, http.client.HTTPException) as error:
        return Outcome(False, None, f"{type(error).__name__}: {error}"[:RESPONSE_KEPT], took())
    finally:
        connection.close()
    if 200 <= response.status < 300:
        return Outcome(True, response.status, None, took())
    return Outcome(False, response.status, f"HTTP {response.status}: {answer}"[:RESPONSE_KEPT],
                   took())


# --------------------------------------------------------------------------- the service


@dataclass(frozen=True, slots=True)
class Claimed:
    id: uuid.UUID
    attempt: int
    url: str
    secret: str
    body: bytes


@dataclass(frozen=True, slots=True)
class DeliverReport:
    delivered: int = 0
    retrying: int = 0
    failed: int = 0


def _ready(now: dt.datetime) -> Any:
    earlier = aliased(WebhookDelivery)
    held_back = exists().where(
        earlier.endpoint_id == WebhookDelivery.endpoint_id,
        earlier.document_id == WebhookDelivery.document_id,
        earlier.sequence < WebhookDelivery.sequence,
        earlier.status.in_((DeliveryStatus.QUEUED, DeliveryStatus.SENDING)),
    )
    return (
        select(WebhookDelivery)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .where(
            WebhookEndpoint.active,
            or_(
                and_(WebhookDelivery.status == DeliveryStatus.QUEUED,
                     WebhookDelivery.next_attempt_at <= now),
                # its sender died mid-POST: at least once, so it goes again
                and_(WebhookDelivery.status == DeliveryStatus.SENDING,
                     WebhookDelivery.lease_until < now),
            ),
            ~held_back,
        )
    )


class Webhooks:
    """Endpoints, deliveries and their sender; every dependency by the constructor."""

    def __init__(
        self, database: Database, *, clock: Clock, allow_private: bool = False,
        timeout: float = 10.0,
    ) -> None:
        self.db = database
        self.clock = clock
        self.allow_private = allow_private
        self.timeout = timeout
        # longer than a POST can take: a live sender is never overtaken
        self.lease = dt.timedelta(seconds=2 * timeout + 5)

    # -- endpoints

    def register(self, organisation_id: int, url: str, events: list[str]
                 ) -> tuple[dict[str, Any], str]:
        """A new endpoint (its JSON) and its secret, which is never shown again."""
        try:
            guard.resolve(url, allow_private=self.allow_private)
        except guard.UnsafeUrl as error:
            raise InvalidEndpoint("/url", error.code, str(error), detail=str(error),
                                  limit=guard.MAX_URL_LENGTH) from None
        secret = new_secret()
        with self.db.write() as session:
            count = len(session.scalars(
                select(WebhookEndpoint.id).where(
                    WebhookEndpoint.organisation_id == organisation_id,
                    WebhookEndpoint.active,
                )
            ).all())
            if count >= MAX_ENDPOINTS:
                raise InvalidEndpoint("", "webhook_too_many", "too many endpoints",
                                      limit=MAX_ENDPOINTS)
            row = WebhookEndpoint(
                id=uuid.uuid4(), organisation_id=organisation_id, url=url,
                events=sorted(set(events), key=EVENTS.index), secret=secret, active=True,
                created_at=self.clock(),
            )
            session.add(row)
            session.flush()
            return endpoint_json(row), secret

    def endpoints(self, organisation_id: int) -> list[dict[str, Any]]:
        with self.db.read() as session:
            rows = session.scalars(
                select(WebhookEndpoint).where(WebhookEndpoint.organisation_id == organisation_id)
                .order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)
            )
            return [endpoint_json(row) for row in rows]

    def _endpoint(self, session: Session, organisation_id: int,
                  endpoint_id: uuid.UUID) -> WebhookEndpoint:
        row = session.get(WebhookEndpoint, endpoint_id)
        if row is None or row.organisation_id != organisation_id:
            raise EndpointNotFound(str(endpoint_id))
        return row

    def endpoint(self, organisation_id: int, endpoint_id: uuid.UUID) -> dict[str, Any]:
        with self.db.read() as session:
            return endpoint_json(self._endpoint(session, organisation_id, endpoint_id))

    def deactivate(self, organisation_id: int, endpoint_id: uuid.UUID) -> None:
        """No more deliveries to it; those queued stay, unsent, listed."""
        with self.db.write() as session:
            self._endpoint(session, organisation_id, endpoint_id).active = False

    def deliveries(self, organisation_id: int, endpoint_id: uuid.UUID,
                   limit: int = 100) -> list[dict[str, Any]]:
        """The endpoint's deliveries, newest first."""
        with self.db.read() as session:
            self._endpoint(session, organisation_id, endpoint_id)
            rows = session.scalars(
                select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id)
                .order_by(WebhookDelivery.sequence.desc(), WebhookDelivery.id).limit(limit)
            )
            return [delivery_json(row) for row in rows]

    def resend(self, organisation_id: int, endpoint_id: uuid.UUID,
               delivery_id: uuid.UUID) -> dict[str, Any]:
        """Queue a failed or delivered delivery again (same id, same body), due now."""
        with self.db.write() as session:
            self._endpoint(session, organisation_id, endpoint_id)
            row = session.get(WebhookDelivery, delivery_id, with_for_update=True)
            if row is None or row.endpoint_id != endpoint_id:
                raise DeliveryNotFound(str(delivery_id))
            if row.status in (DeliveryStatus.QUEUED, DeliveryStatus.SENDING):
                raise ResendRefused(str(delivery_id))
            row.status = DeliveryStatus.QUEUED
            row.attempts = 0
            row.next_attempt_at = self.clock()
            row.lease_until = None
            session.flush()
            return delivery_json(row)

    # -- sending

    def deliver_pending(self, limit: int = MAX_PER_RUN) -> DeliverReport:
        """Send every delivery due now (at most `limit`), one at a time."""
        self.notice_overdue()
        counts = {"delivered": 0, "retry": 0, "failed": 0}
        for _ in range(limit):
            claimed = self._claim()
            if claimed is None:
                break
            counts[self._record(claimed, self._attempt(claimed))] += 1
        return DeliverReport(counts["delivered"], counts["retry"], counts["failed"])

    def notice_overdue(self) -> int:
        """Record the deadlines that went overdue since the last pass (their audit entries
        queue `deadline.overdue`): an event nobody's request causes, so the sender looks."""
        with self.db.read() as session:
            if not deadlines.any_unnoticed_overdue(session, self.clock()):
                return 0
        with self.db.write() as session:
            return deadlines.record_overdue(session, self.clock)

    def _claim(self) -> Claimed | None:
        now = self.clock()
        with self.db.read() as session:  # the usual answer, without SQLite's write lock
            if session.scalar(select(exists(_ready(now).subquery()))) is not True:
                return None
        with self.db.write() as session:
            row = session.scalars(
                _ready(now).order_by(WebhookDelivery.sequence).limit(1)
                .with_for_update(skip_locked=True, of=WebhookDelivery)
            ).first()
            if row is None:
                return None
            endpoint = session.get(WebhookEndpoint, row.endpoint_id)
            assert endpoint is not None
            row.status = DeliveryStatus.SENDING
            row.attempts += 1
            row.lease_until = now + self.lease
            return Claimed(row.id, row.attempts, endpoint.url, endpoint.secret,
                           row.payload_json.encode("utf-8"))

    def _attempt(self, claimed: Claimed) -> Outcome:
        try:
            target = guard.resolve(claimed.url, allow_private=self.allow_private)
        except guard.UnsafeUrl as error:
            return Outcome(False, None, f"{error.code}: {error}")
        timestamp = int(self.clock().timestamp())
        headers = {
            "content-type": "application/json",
            "user-agent": "qujat-webhooks",
            "webhook-id": str(claimed.id),
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signature(claimed.secret, str(claimed.id), timestamp,
                                           claimed.body),
        }
        return post(target, headers, claimed.body, self.timeout)

    def _record(self, claimed: Claimed, outcome: Outcome) -> str:
        now = self.clock()
        with self.db.write() as session:
            row = session.get(WebhookDelivery, claimed.id, with_for_update=True)
            assert row is not None
            row.attempt_log = [*row.attempt_log, {
                "at": now.isoformat(), "status_code": outcome.status_code,
                "error": outcome.error, "duration_ms": outcome.duration_ms,
            }]
            if row.status != DeliveryStatus.SENDING or row.attempts != claimed.attempt:
                # another sender took it over after our lease ran out: theirs is the state
                return "delivered" if outcome.delivered else "retry"
            row.last_status_code = outcome.status_code
            row.last_error = outcome.error
            row.lease_until = None
            if outcome.delivered:
                row.status = DeliveryStatus.DELIVERED
                row.delivered_at = now
                return "delivered"
            if row.attempts >= MAX_ATTEMPTS:
                row.status = DeliveryStatus.FAILED
                return "failed"
            row.status = DeliveryStatus.QUEUED
            row.next_attempt_at = now + backoff(row.attempts)
            return "retry"


class WebhookWorker(Periodic):
    """Runs `deliver_pending` every `interval` seconds until stopped."""

    name = "qujat-webhooks"

    def __init__(self, webhooks: Webhooks, interval: float = 2.0) -> None:
        super().__init__(interval)
        self.webhooks = webhooks

    def step(self) -> None:
        report = self.webhooks.deliver_pending()
        if report != DeliverReport():
            log.info("webhooks: %s", report)


def run_sender_process(settings: Settings, parent_pid: int, interval: float = 2.0) -> None:
    """The sender of `qujat serve`, in a process of its own (started with `spawn`): a thread
    of the server's master would be copied mid-query into every worker the master forks,
    with whatever lock it held at that moment. It stops when its parent is gone."""
    from service.forms.decisions import system_clock

    install_observer()
    database = Database(settings.database_url)
    webhooks = Webhooks(database, clock=system_clock,
                        allow_private=settings.webhook_allow_private,
                        timeout=settings.webhook_timeout)
    try:
        worker = WebhookWorker(webhooks, interval)
        while os.getppid() == parent_pid:
            try:
                worker.step()
            except Exception:  # logged; the next pass comes all the same
                log.exception("webhook sender pass failed")
            time.sleep(interval)
    finally:
        database.dispose()
