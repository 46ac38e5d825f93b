"""`deliver_to` is checked when the document is issued: an address qujat cannot send to (a
control character, a space, no @, too long, non-ASCII: qujat does not send SMTPUTF8) is
refused with 422 and nothing is stored, instead of failing 24 times over a day."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from service.core.db import Database
from service.mail.models import OutboxMessage
from service.registry.models import Document

Example = Callable[..., dict[str, Any]]

REFUSED = [
    ("teacher@mektep.example.kz\r\nBcc: all@example.kz", "bad_email"),
    ("teacher\x7f@mektep.example.kz", "bad_email"),
    ("teacher\x85@mektep.example.kz", "email_not_ascii"),
    ("asel kurmanova@mektep.example.kz", "bad_email"),
    ("teacher.mektep.example.kz", "bad_email"),
    ("teacher@localhost", "bad_email"),
    ("teacher@mektep.local", "bad_email"),
    ('"asel kurmanova"@mektep.example.kz', "bad_email"),
    ("Asel <teacher@mektep.example.kz>", "bad_email"),
    ("teacher@[127.0.0.1]", "bad_email"),
    ("a" * 65 + "@mektep.example.kz", "bad_email"),
    ("teacher@" + "a" * 240 + ".kz", "bad_email"),
    ("әсел@mektep.example.kz", "email_not_ascii"),
    ("teacher@мектеп.kz", "email_not_ascii"),
    ("teacher@mektep.example.kz\u200b", "email_not_ascii"),
]


def extract(example: Example, address: str) -> dict[str, Any]:
    body = example("extract", "kk")
    body["decision"]["decision_id"] = "krg-extract-address"
    del body["decision"]["commission"]["secretary"]["iin"]
    body["deliver_to"] = address
    return body


def stored(app: Flask, model: Any) -> int:
    database: Database = app.extensions["qujat.database"]
    with database.read() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


@pytest.mark.parametrize(("address", "code"), REFUSED)
def test_an_address_qujat_cannot_send_to_is_refused_at_issue_time(
    app: Flask, client: FlaskClient, example: Example, address: str, code: str
) -> None:
    response = client.post("/api/v1/documents", json=extract(example, address),
                           headers={"Accept-Language": "kk"})
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert [(e["pointer"], e["code"]) for e in response.get_json()["errors"]] == [
        ("/deliver_to", code)
    ]
    assert stored(app, Document) == 0
    assert stored(app, OutboxMessage) == 0


def test_an_ordinary_address_is_queued(
    app: Flask, client: FlaskClient, example: Example
) -> None:
    address = "asel.kurmanova+attestation@mektep.example.kz"
    response = client.post("/api/v1/documents", json=extract(example, address))
    assert response.status_code == 201, response.get_json()
    assert stored(app, OutboxMessage) == 1


def test_a_batch_item_with_a_bad_address_fails_at_submission(
    client: FlaskClient, example: Example
) -> None:
    response = client.post("/api/v1/batches", json=[extract(example, "әсел@mektep.example.kz")])
    assert response.status_code == 202
    assert response.get_json()["failed"] == 1
    status = client.get(response.headers["Location"] + "?items=failed").get_json()
    [item] = status["items"]
    assert [(e["pointer"], e["code"]) for e in item["problem"]["errors"]] == [
        ("/deliver_to", "email_not_ascii")
    ]
