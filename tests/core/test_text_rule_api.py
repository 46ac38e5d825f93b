"""The text rule, the date window and the IIN check digit over HTTP: a decision, a revocation
and a commission refuse the same garbage with the same codes, and nothing is stored."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from service.core.db import Database
from service.registry.models import Document
from service.signatures.models import CommissionRecord
from tests.signatures.support import COMMISSION

Example = Callable[..., dict[str, Any]]


def count(app: Flask, model: Any) -> int:
    database: Database = app.extensions["qujat.database"]
    with database.read() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def errors(response: Any) -> list[tuple[str, str]]:
    assert response.status_code == 422, response.get_json()
    return [(e["pointer"], e["code"]) for e in response.get_json()["errors"]]


def test_a_zero_width_space_is_refused_by_issue_and_revocation_alike(
    app: Flask, client: FlaskClient, example: Example
) -> None:
    body = example("certificate", "kk")
    body["decision"]["decision_id"] = "krg-text-0001"
    blank = copy.deepcopy(body)
    blank["decision"]["holder"]["surname"] = "\u200b"
    assert errors(client.post("/api/v1/documents", json=blank)) == [
        ("/decision/holder/surname", "text_invisible")
    ]
    filler = copy.deepcopy(body)
    filler["decision"]["holder"]["given_name"] = "\u3164"
    assert errors(client.post("/api/v1/documents", json=filler)) == [
        ("/decision/holder/given_name", "text_invisible")
    ]
    ancient = copy.deepcopy(body)
    ancient["decision"]["issue_date"] = "0001-01-01"
    assert errors(client.post("/api/v1/documents", json=ancient)) == [
        ("/decision/issue_date", "date_out_of_range")
    ]
    assert count(app, Document) == 0
    issued = client.post("/api/v1/documents", json=body)
    assert issued.status_code == 201
    revocation = f"/api/v1/documents/{issued.get_json()['id']}/revocation"
    act = {"number": "А-17", "date": "2026-11-23"}
    assert errors(client.post(revocation, json={"reason": "\u200b", "act": act})) == [
        ("/reason", "text_invisible")
    ]
    assert errors(client.post(revocation, json={"reason": "Қате", "act": dict(
        act, number="17\u202e")})) == [("/act/number", "text_invisible")]
    assert errors(client.post(revocation, json={"reason": "Қате", "act": dict(
        act, date="0133-01-01")})) == [("/act/date", "date_out_of_range")]
    answer = client.post(revocation, json={"reason": "Қате", "act": act},
                         headers={"Accept-Language": "ru"})
    assert answer.status_code == 201


def test_a_commission_with_a_bad_iin_a_filler_name_or_the_year_77_is_refused(
    app: Flask, client: FlaskClient
) -> None:
    broken = copy.deepcopy(COMMISSION)
    iin = broken["members"][4]["iin"]
    broken["members"][4]["iin"] = iin[:11] + str((int(iin[11]) + 1) % 10)
    broken["members"][5]["surname"] = "\u3164"
    response = client.post("/api/v1/commissions", json=broken,
                           headers={"Accept-Language": "kk"})
    assert sorted(errors(response)) == [
        ("/members/4/iin", "iin_checksum"), ("/members/5/surname", "text_invisible")
    ]
    ancient = dict(copy.deepcopy(COMMISSION), term_end="0077-01-15")
    assert errors(client.post("/api/v1/commissions", json=ancient)) == [
        ("/term_end", "date_out_of_range")
    ]
    assert count(app, CommissionRecord) == 0
