"""POST /api/v1/commissions and the protocols of their sessions: the rules of p. 15-18 at the
API, every problem at once, nothing stored on failure."""

from __future__ import annotations

import copy
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from service.core.db import Database
from service.registry.models import Document
from service.signatures.models import CommissionRecord
from tests.signatures.support import (
    ABSENT,
    CHAIR,
    COMMISSION,
    MEMBERS,
    PRESENT,
    SECRETARY,
    codes,
    create_commission,
    protocol_body,
)


def count(app: Flask, model: Any) -> int:
    database: Database = app.extensions["qujat.database"]
    with database.read() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_store_and_read_a_commission(app: Flask, client: FlaskClient) -> None:
    created = client.post("/api/v1/commissions", json=COMMISSION)
    assert created.status_code == 201
    body = created.get_json()
    assert created.headers["Location"] == f"/api/v1/commissions/{body['id']}"
    assert body["term_end"] == "2027-01-15"
    assert len(body["members"]) == 7
    again = client.post("/api/v1/commissions", json=COMMISSION)
    assert again.status_code == 200
    assert again.get_json()["id"] == body["id"]
    shown = client.get(f"/api/v1/commissions/{body['id']}").get_json()
    assert shown == body
    assert count(app, CommissionRecord) == 1
    unknown = client.get("/api/v1/commissions/00000000-0000-0000-0000-000000000000")
    assert unknown.status_code == 404
    assert codes(unknown) == ["commission_unknown"]


def test_the_rules_of_a_commission(app: Flask, client: FlaskClient) -> None:
    broken = copy.deepcopy(COMMISSION)
    broken["members"] = [*broken["members"][:6], dict(broken["members"][0], chair=True)]
    broken["members"][6]["iin"] = SECRETARY
    broken["members"][6]["chair"] = True
    broken["term_end"] = "2027-06-01"
    response = client.post("/api/v1/commissions", json=broken, headers={"Accept-Language": "ru"})
    assert response.status_code == 422
    assert set(codes(response)) == {"chair_count", "secretary_is_member", "term_mismatch"}
    six = dict(COMMISSION, members=COMMISSION["members"][:6])
    assert codes(client.post("/api/v1/commissions", json=six)) == ["too_short"]
    assert count(app, CommissionRecord) == 0


def test_a_protocol_names_the_members_present(client: FlaskClient) -> None:
    commission_id = create_commission(client)
    response = client.post(f"/api/v1/commissions/{commission_id}/protocols",
                           json=protocol_body(language="ru"))
    assert response.status_code == 201, response.get_json()
    issued = response.get_json()
    assert response.headers["Link"] == f'</api/v1/documents/{issued["id"]}/signing>; rel="signing"'
    state = client.get(f"/api/v1/documents/{issued['id']}/signing").get_json()
    names = [m["name"] for m in state["missing"]]
    assert "Төлегенова Сәуле Жанатқызы" not in names
    assert len(names) == 7
    again = client.post(f"/api/v1/commissions/{commission_id}/protocols",
                        json=protocol_body(language="ru"))
    assert again.status_code == 200
    assert again.get_json()["id"] == issued["id"]


def test_a_session_breaking_the_rules_is_refused_whole(app: Flask, client: FlaskClient) -> None:
    commission_id = create_commission(client)
    url = f"/api/v1/commissions/{commission_id}/protocols"

    no_quorum = client.post(url, json=protocol_body(present=MEMBERS[:4]))
    assert no_quorum.status_code == 422
    assert codes(no_quorum) == ["no_quorum"]

    body = protocol_body(present=[*PRESENT[1:], "931002451325", ABSENT])
    body["session"]["date"] = "2027-02-01"
    body["rows"][0]["person"] = dict(COMMISSION["members"][3])
    del body["rows"][0]["person"]["position"]
    body["colour"] = "blue"
    refused = client.post(url, json=body)
    assert refused.status_code == 422
    found = {(e["pointer"], e["code"]) for e in refused.get_json()["errors"]}
    assert found == {
        ("/colour", "unknown_field"),
        ("/session/date", "future_date"),
        ("/present/5", "not_a_member"),
        ("/present", "chair_absent"),
    }

    body.pop("colour")
    body["session"]["date"] = "2026-08-14"
    refused = client.post(url, json=body)
    found = {(e["pointer"], e["code"]) for e in refused.get_json()["errors"]}
    assert found == {
        ("/present/5", "not_a_member"),
        ("/present", "chair_absent"),
        ("/rows/0/person", "member_attested"),
    }
    outside = protocol_body()
    outside["session"]["date"] = "2026-01-10"
    assert codes(client.post(url, json=outside)) == ["outside_term"]
    assert codes(client.post(url, json={"present": CHAIR})) == [
        "required", "required", "type"]
    assert count(app, Document) == 0
