"""`/metrics` in the Prometheus text format: counters move with requests, renders and
signatures; gauges read from the database; only a token holder or the machine itself may read.

Parsed with prometheus_client's own text parser, as a Prometheus server would read it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from service.core.config import Settings
from tests.signatures.support import (
    CHAIR,
    OUTSIDER,
    SigningPKI,
    create_commission,
    create_protocol,
    sign,
    signing_pki,
)

__all__ = ["signing_pki"]  # the session fixture, imported for pytest

Example = Callable[..., dict[str, Any]]


@pytest.fixture
def settings(tmp_path: Path, database_url: str, signing_pki: SigningPKI) -> Settings:
    return Settings(data_dir=tmp_path, database_url=database_url,
                    trust_dir=signing_pki.directory, revocation_mode="soft-fail",
                    revocation_fetch=False, webhook_allow_private=True)


def scrape(client: FlaskClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    answer = client.get("/metrics")
    assert answer.status_code == 200, answer.data[:500]
    assert answer.mimetype == "text/plain"
    samples = {}
    for family in text_string_to_metric_families(answer.data.decode("utf-8")):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: dict[Any, float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_counters_and_gauges_move(
    client: FlaskClient, example: Example, signing_pki: SigningPKI
) -> None:
    hook = client.post("/api/v1/webhooks", json={"url": "http://127.0.0.1:9/hooks",
                                                 "events": ["document.issued"]})
    assert hook.status_code == 201, hook.get_json()
    before = scrape(client)
    posted = client.post("/api/v1/documents", json=example("certificate", "kk"))
    assert posted.status_code == 201
    protocol = create_protocol(client, create_commission(client))
    assert sign(client, protocol["id"], signing_pki.key(CHAIR)).status_code == 201
    refused = sign(client, protocol["id"], signing_pki.key(OUTSIDER.iin))
    assert refused.status_code == 422, refused.get_json()
    client.get("/api/v1/documents/00000000-0000-0000-0000-000000000000")
    after = scrape(client)

    route = "/api/v1/documents"
    assert value(after, "qujat_http_requests_total", route=route, method="POST",
                 status="201") == value(before, "qujat_http_requests_total", route=route,
                                        method="POST", status="201") + 1
    # the route is the URL rule: no document id, registration number or IIN in a label
    assert value(after, "qujat_http_requests_total", method="GET", status="404",
                 route="/api/v1/documents/<uuid:document_id>") >= 1
    assert not any("00000000-0000" in str(labels) for _, labels in after)
    assert value(after, "qujat_http_request_duration_seconds_count", route=route,
                 method="POST") >= 1
    for form in ("certificate", "protocol"):
        assert value(after, "qujat_render_duration_seconds_count", form=form, format="pdf") > \
            value(before, "qujat_render_duration_seconds_count", form=form, format="pdf")
    assert value(after, "qujat_signatures_total", outcome="accepted", code="ok") == \
        value(before, "qujat_signatures_total", outcome="accepted", code="ok") + 1
    assert value(after, "qujat_signatures_total", outcome="refused", code="not_a_signer") == \
        value(before, "qujat_signatures_total", outcome="refused", code="not_a_signer") + 1
    # read from this test's database at scrape time
    assert value(after, "qujat_documents", form="certificate", status="issued") == 1
    assert value(after, "qujat_documents", form="protocol", status="issued") == 1
    assert value(after, "qujat_database_up") == 1
    # two issued (the certificate, the protocol): one delivery each, none sent yet
    assert value(after, "qujat_outbox_messages", outbox="webhooks", state="queued") == 2
    crls = [labels for name, labels in after if name == "qujat_revocation_crl_age_seconds"]
    assert crls, "the test PKI's CRLs are in its trust folder"


def test_only_the_machine_itself_reads_without_a_token(app: Flask) -> None:
    remote = app.test_client()
    answer = remote.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert answer.status_code == 403
    assert answer.mimetype == "application/problem+json"
    assert answer.get_json()["errors"][0]["code"] == "metrics_forbidden"
    assert remote.get("/metrics", environ_base={"REMOTE_ADDR": "::1"}).status_code == 200


def test_with_a_token_every_scrape_must_send_it(settings: Settings) -> None:
    from service import create_app
    from tests.conftest import fixed_clock

    app = create_app(settings.replace(metrics_token="s3cret-scrape"), clock=fixed_clock)
    try:
        client = app.test_client()
        assert client.get("/metrics").status_code == 403  # loopback is not enough now
        assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code \
            == 403
        good = client.get("/metrics", headers={"Authorization": "Bearer s3cret-scrape"},
                          environ_base={"REMOTE_ADDR": "10.1.2.3"})
        assert good.status_code == 200
        assert b"qujat_http_requests_total" in good.data
    finally:
        app.extensions["qujat.database"].dispose()
