"""Hostile request bodies get a problem answer naming what is wrong, never a 500: lone
surrogates in keys and values on every JSON route, CR/LF in the verify redirect, and an
error answer that stays small however many errors a request holds."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from service.core.errors import MAX_LISTED_ERRORS
from tests.signatures.support import CHAIR, create_commission, protocol_body

Example = Callable[..., dict[str, Any]]
JSON = "application/json"
NDJSON = "application/x-ndjson"


def certificate(example: Example, decision_id: str = "krg-hostile-0001") -> dict[str, Any]:
    body = example("certificate", "kk")
    body["decision"]["decision_id"] = decision_id
    return body


def with_surrogate_value(body: dict[str, Any]) -> str:
    """`body` as JSON whose holder's surname is the escape of a lone surrogate."""
    body["decision"]["holder"]["surname"] = "@@"
    return json.dumps(body).replace('"@@"', '"\\ud800"')


def with_surrogate_key(body: dict[str, Any]) -> str:
    body["decision"]["holder"]["@@"] = "x"
    return json.dumps(body).replace('"@@"', '"\\udfff"')


def problem(response: Any) -> dict[str, Any]:
    assert response.status_code == 400, response.data[:300]
    assert response.mimetype == "application/problem+json"
    found: dict[str, Any] = json.loads(response.data)
    return found


@pytest.mark.parametrize("route", ["/api/v1/documents", "/api/v1/render"])
def test_lone_surrogate_in_a_value_or_key_is_a_400_naming_the_pointer(
    client: FlaskClient, example: Example, route: str
) -> None:
    value = problem(client.post(route, data=with_surrogate_value(certificate(example)),
                                content_type=JSON))
    assert value["errors"] == [{
        "pointer": "/decision/holder/surname", "code": "lone_surrogate",
        "reason": value["errors"][0]["reason"],
    }]
    key = problem(client.post(route, data=with_surrogate_key(certificate(example)),
                              content_type=JSON, headers={"Accept-Language": "kk"}))
    assert [(e["pointer"], e["code"]) for e in key["errors"]] == [
        ("/decision/holder", "lone_surrogate_key")
    ]


def test_lone_surrogate_in_a_batch_json_or_ndjson(client: FlaskClient, example: Example) -> None:
    good = json.dumps(certificate(example, "krg-hostile-0002"))
    bad = with_surrogate_value(certificate(example))
    array = problem(client.post("/api/v1/batches", data=f"[{good}, {bad}]", content_type=JSON))
    assert [(e["pointer"], e["code"]) for e in array["errors"]] == [
        ("/1/decision/holder/surname", "lone_surrogate")
    ]
    lines = problem(client.post("/api/v1/batches", data=f"{good}\n{bad}\n",
                                content_type=NDJSON))
    assert [(e["pointer"], e["code"]) for e in lines["errors"]] == [
        ("/1/decision/holder/surname", "lone_surrogate")
    ]
    key = problem(client.post("/api/v1/batches", data=with_surrogate_key(certificate(example)),
                              content_type=NDJSON))
    assert [(e["pointer"], e["code"]) for e in key["errors"]] == [
        ("/0/decision/holder", "lone_surrogate_key")
    ]
    assert client.get("/api/v1/batches/00000000-0000-0000-0000-000000000000").status_code == 404


def test_lone_surrogate_on_commissions_revocation_and_signatures(
    client: FlaskClient, example: Example
) -> None:
    commission = problem(client.post(
        "/api/v1/commissions", data='{"name": {"kk": "\\ud800", "ru": "x"}}', content_type=JSON
    ))
    assert [(e["pointer"], e["code"]) for e in commission["errors"]] == [
        ("/name/kk", "lone_surrogate")
    ]
    issued = client.post("/api/v1/documents", json=certificate(example))
    assert issued.status_code == 201
    base = f"/api/v1/documents/{issued.get_json()['id']}"
    revocation = problem(client.post(
        base + "/revocation",
        data='{"reason": "x\\udc00", "\\ud800": 1, "act": {"number": "1", "date": "2026-11-23"}}',
        content_type=JSON,
    ))
    assert {(e["pointer"], e["code"]) for e in revocation["errors"]} == {
        ("/reason", "lone_surrogate"), ("", "lone_surrogate_key")
    }
    signature = problem(client.post(base + "/signatures", data='{"cms": "\\ud800"}',
                                    content_type=JSON))
    assert [(e["pointer"], e["code"]) for e in signature["errors"]] == [("/cms", "lone_surrogate")]


def test_a_paired_surrogate_escape_is_an_ordinary_character(
    client: FlaskClient, example: Example
) -> None:
    """"\\ud83d\\ude00" is one character (an emoji), refused by the text rule, not as JSON."""
    body = certificate(example)
    body["decision"]["position"] = "@@"
    raw = json.dumps(body).replace('"@@"', '"\\ud83d\\ude00"')
    response = client.post("/api/v1/render", data=raw, content_type=JSON)
    assert response.status_code == 422
    assert [(e["pointer"], e["code"]) for e in response.get_json()["errors"]] == [
        ("/decision/position", "text_character_not_allowed")
    ]


@pytest.mark.parametrize("typed", ["01-KRG%0d%0aSet-Cookie:%20a=b", "X%0aLocation:%20evil"])
def test_verify_redirect_keeps_crlf_inside_the_number(
    anonymous_client: FlaskClient, typed: str
) -> None:
    response = anonymous_client.get(f"/verify?number={typed}")
    assert response.status_code == 303
    location = response.headers["Location"]
    assert "\r" not in location
    assert "\n" not in location
    assert location.startswith("/verify/")
    assert "Set-Cookie" not in response.headers
    assert "%0A" in location
    followed = anonymous_client.get(location)
    assert followed.status_code == 404  # not issued, said on an ordinary page


def test_verify_redirect_cannot_add_a_query(anonymous_client: FlaskClient) -> None:
    response = anonymous_client.get("/verify?number=01-KRG-26-000001-00%3Ft%3Dguess")
    assert response.headers["Location"] == "/verify/01-KRG-26-000001-00%3Ft%3Dguess"


def test_an_error_answer_lists_at_most_a_hundred_errors(client: FlaskClient) -> None:
    commission_id = create_commission(client)
    body = protocol_body(present=[CHAIR] * 40_000)
    raw = json.dumps(body)
    assert len(raw) > 600_000
    response = client.post(f"/api/v1/commissions/{commission_id}/protocols", data=raw,
                           content_type=JSON)
    assert response.status_code == 422
    answer = response.get_json()
    assert len(answer["errors"]) == MAX_LISTED_ERRORS
    assert answer["errors"][0]["pointer"] == "/present/1"
    assert answer["errors_omitted"] >= 40_000 - 1 - MAX_LISTED_ERRORS
    assert len(response.data) < 64 * 1024


def test_a_protocol_with_a_null_decision_id_is_refused(client: FlaskClient) -> None:
    """Found by the fuzzer: `"decision_id": null` passed as present, then failed issuing."""
    commission_id = create_commission(client)
    body = dict(protocol_body(), decision_id=None)
    response = client.post(f"/api/v1/commissions/{commission_id}/protocols", json=body)
    assert response.status_code == 422
    assert [(e["pointer"], e["code"]) for e in response.get_json()["errors"]] == [
        ("/decision_id", "required")
    ]
