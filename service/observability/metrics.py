"""Prometheus metrics, in the text format at `/metrics`.

Counters and histograms that processes keep (requests, render time, signatures) live in this
module; under `qujat serve` every gunicorn worker writes them to `PROMETHEUS_MULTIPROC_DIR`
(prometheus_client's multi-process mode, set by `qujat serve` before anything imports the
library), and a scrape of any worker adds up all of them. What the database knows — documents
by form, batch items and outbox messages by state — and the age of the revocation data are read
at scrape time, so they agree across processes and machines.

Labels never carry a path, a registration number, an IIN or a token: a request's route is its
URL rule (`/api/v1/documents/<uuid:document_id>`), and an unmatched path is `<unmatched>`.

Access: with `QUJAT_METRICS_TOKEN` set, a scrape must send it as a bearer token; without it,
only a client on the loopback interface is answered (behind a proxy on the same machine, set
the token).
"""

from __future__ import annotations

import datetime as dt
import hmac
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from flask import Flask, Response

    from service.core.config import Settings
    from service.core.db import Database

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)

REQUESTS = Counter(
    "qujat_http_requests", "HTTP requests answered, by route, method and status",
    ["route", "method", "status"],
)
LATENCY = Histogram(
    "qujat_http_request_duration_seconds", "Time to answer an HTTP request, by route",
    ["route", "method"], buckets=_LATENCY_BUCKETS,
)
RENDER_SECONDS = Histogram(
    "qujat_render_duration_seconds", "Time to render a document, by form and format",
    ["form", "format"], buckets=_LATENCY_BUCKETS,
)
SIGNATURES = Counter(
    "qujat_signatures", "Signatures received, by outcome (accepted, refused) and code",
    ["outcome", "code"],
)


def signature_accepted() -> None:
    SIGNATURES.labels("accepted", "ok").inc()


def signature_refused(*codes: str) -> None:
    for code in codes or ("unknown",):
        SIGNATURES.labels("refused", code).inc()


# --------------------------------------------------------------------------- read at scrape time


class DatabaseCollector(Collector):
    """Gauges read from the database (and the trust folder) when scraped."""

    def __init__(self, database: Database, settings: Settings) -> None:
        self.database = database
        self.settings = settings

    def collect(self) -> Iterator[Any]:
        from sqlalchemy import func, select

        from service.batches.models import BatchItem
        from service.mail.models import OutboxMessage
        from service.registry.models import Document
        from service.webhooks.models import WebhookDelivery

        documents = GaugeMetricFamily(
            "qujat_documents", "Documents in the registry, by form and status",
            labels=["form", "status"])
        items = GaugeMetricFamily(
            "qujat_batch_items", "Batch items, by state", labels=["state"])
        outbox = GaugeMetricFamily(
            "qujat_outbox_messages", "Outbox messages, by outbox and state",
            labels=["outbox", "state"])
        up = GaugeMetricFamily("qujat_database_up", "1 when the database answered this scrape")
        try:
            with self.database.read() as session:
                for form, status, count in session.execute(
                    select(Document.form, Document.status, func.count())
                    .group_by(Document.form, Document.status)
                ):
                    documents.add_metric([_value(form), _value(status)], count)
                for state, count in session.execute(
                    select(BatchItem.state, func.count()).group_by(BatchItem.state)
                ):
                    items.add_metric([_value(state)], count)
                for mail_status, count in session.execute(
                    select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
                ):
                    outbox.add_metric(["mail", _value(mail_status)], count)
                for delivery_status, count in session.execute(
                    select(WebhookDelivery.status, func.count())
                    .group_by(WebhookDelivery.status)
                ):
                    outbox.add_metric(["webhooks", _value(delivery_status)], count)
        except Exception:  # the scrape still answers, and says the database did not
            up.add_metric([], 0)
            yield up
        else:
            up.add_metric([], 1)
            yield from (up, documents, items, outbox)
        yield from revocation_age(self.settings.trust_dir)


def _value(member: Any) -> str:
    return str(getattr(member, "value", member))


def revocation_age(folder: Path | None) -> Iterator[GaugeMetricFamily]:
    """Per CRL of the trust folder: seconds since it was issued and until its next update
    (negative once it is overdue)."""
    from cryptography import x509

    age = GaugeMetricFamily(
        "qujat_revocation_crl_age_seconds", "Seconds since the CRL was issued",
        labels=["file"])
    left = GaugeMetricFamily(
        "qujat_revocation_crl_next_update_seconds",
        "Seconds until the CRL's next update (negative: overdue)", labels=["file"])
    now = dt.datetime.now(dt.UTC)
    for path in sorted(folder.glob("*.crl")) if folder is not None and folder.is_dir() else ():
        try:
            data = path.read_bytes()
            crl = (x509.load_pem_x509_crl(data) if data.startswith(b"-----")
                   else x509.load_der_x509_crl(data))
        except (OSError, ValueError):
            continue
        age.add_metric([path.name], (now - crl.last_update_utc).total_seconds())
        if crl.next_update_utc is not None:
            left.add_metric([path.name], (crl.next_update_utc - now).total_seconds())
    yield age
    yield left


# --------------------------------------------------------------------------- the route


def _registry(app: Flask) -> CollectorRegistry:
    registry = CollectorRegistry()
    if os.environ.get(MULTIPROCESS_ENV):
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:  # one process (a test's app, `flask run`): this process's own metrics
        for metric in (REQUESTS, LATENCY, RENDER_SECONDS, SIGNATURES):
            registry.register(metric)
    registry.register(DatabaseCollector(app.extensions["qujat.database"],
                                        app.extensions["qujat.settings"]))
    return registry


def allowed(token: str, authorization: str | None, remote_addr: str | None) -> bool:
    if token:
        scheme, _, given = (authorization or "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(given.strip(), token)
    return remote_addr in ("127.0.0.1", "::1")


def install(app: Flask) -> None:
    from flask import Response, g, request

    from service.core.errors import single

    token = app.extensions["qujat.settings"].metrics_token

    @app.before_request
    def _started() -> None:
        g.qujat_started = time.perf_counter()

    @app.after_request
    def _count(response: Response) -> Response:
        started = g.get("qujat_started")
        if started is not None:
            route = request.url_rule.rule if request.url_rule is not None else "<unmatched>"
            REQUESTS.labels(route, request.method, str(response.status_code)).inc()
            LATENCY.labels(route, request.method).observe(time.perf_counter() - started)
        return response

    @app.get("/metrics")
    def metrics() -> Response:
        if not allowed(token, request.headers.get("Authorization"), request.remote_addr):
            raise single(403, "forbidden", "metrics_forbidden")
        return Response(generate_latest(_registry(app)), mimetype=CONTENT_TYPE_LATEST)
