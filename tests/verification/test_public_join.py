"""Nothing public can be joined to unmask the holder of a verify page.

The attacker of these tests knows every registration number (they are sequential, with
computable check digits) and downloads every published list. For each number they read the
verify page and its API answer as anyone can (no QR token, no surname) and keep the list
entries that agree with everything the answer shows: the pattern of a masked name, the
organisation, the category, any date. The guarantee (docs/verification-privacy.md): the entries
left are either the whole list (the answer adds nothing) or at least K of them.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from service.core.config import Settings
from tests.conftest import EXAMPLES

K = 5

# this module reads a few hundred public answers: a budget it stays within, so that none is a 429
RATE_LIMIT = "10000 per minute"


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(data_dir=tmp_path, database_url=database_url, max_body_bytes=1024 * 1024,
                    verify_rate_limit=RATE_LIMIT)


# --------------------------------------------------------------------------- the attacker


def _mask_pattern(shown: str) -> re.Pattern[str]:
    """A name as a verify page shows it, as a pattern over full names: a star is one hidden
    letter, "А." an initial, anything else itself."""
    parts = []
    for word in shown.split():
        if re.fullmatch(r"\w\.", word):
            parts.append(re.escape(word[0]) + r"\w*")
        else:
            parts.append("".join(r"\w" if c == "*" else re.escape(c) for c in word))
    return re.compile(r"\s+".join(parts), re.IGNORECASE)


def _dates_shown(document: dict[str, Any]) -> list[dt.date]:
    found = []
    for key in ("decision_date", "issue_date", "valid_until", "issued_at"):
        if document.get(key):
            found.append(dt.date.fromisoformat(document[key][:10]))
    if document.get("order"):
        found.append(dt.date.fromisoformat(document["order"]["date"]))
    return found


def agrees(answer: dict[str, Any], entry: dict[str, Any]) -> bool:
    """Whether a list entry may be the holder of the verify answer, by everything both show."""
    document = answer["document"]
    holder = document.get("holder") or {}
    if holder.get("name") and not _mask_pattern(holder["name"]).fullmatch(entry["name"]):
        return False
    for key in ("organisation", "category", "position"):
        if document.get(key) and entry.get(key) and document[key] != entry[key]:
            return False
    listed = [dt.date.fromisoformat(v) for k, v in entry.items() if "date" in k and v]
    shown = _dates_shown(document)
    if document.get("decision_date") and listed:
        return dt.date.fromisoformat(document["decision_date"]) in listed
    # an order and the certificate follow the decision within weeks
    return not (listed and shown and not any(
        dt.timedelta(0) <= s - d <= dt.timedelta(days=90) for s in shown for d in listed))


def candidates(answer: dict[str, Any], listing: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [entry for entry in listing if agrees(answer, entry)]


def assert_no_join_unmasks(
    client: FlaskClient, numbers: list[str], organisation: str = "KRG"
) -> int:
    """Tries the join for every number; the count of answers that named a person's document."""
    listing = client.get(f"/published/{organisation}.json").get_json()["entries"]
    # every published format says the same, so the JSON stands for all three
    assert _csv_rows(client, organisation) == [
        [e["name"], e["organisation"] or "", e["category_label"] or ""]
        + ([e["decision_date"]] if "decision_date" in e else []) for e in listing]
    assert len(listing) >= 1
    persons = 0
    for number in numbers:
        answer = client.get(f"/api/v1/verify/{number}").get_json()
        if answer["document"].get("holder") is None:
            continue  # a protocol: nobody's document
        persons += 1
        left = candidates(answer, listing)
        assert len(left) == len(listing) or len(left) >= K, (number, answer, left)
        page = client.get(f"/verify/{number}").get_data(as_text=True)
        for entry in listing:  # the page shows no more than its answer
            for value in (entry["name"], entry["organisation"], entry["category_label"]):
                assert not value or value not in page, (number, value)
        assert "*" not in _text_of(page)
    return persons


def _csv_rows(client: FlaskClient, organisation: str) -> list[list[str]]:
    text = client.get(f"/published/{organisation}.csv").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    return [[cell.removeprefix("'") for cell in row] for row in rows[1:]]


def _text_of(page: str) -> str:
    main = page.split("<main", 1)[-1]
    return re.sub(r"<[^>]+>", " ", main)


# --------------------------------------------------------------------------- the sessions


def test_no_example_document_is_unmasked_by_the_published_list(
    app: Flask, client: FlaskClient
) -> None:
    numbers = []
    for path in sorted(EXAMPLES.glob("*.json")):
        body = json.loads(path.read_text("utf-8"))
        if "form" not in body:
            continue  # commission.json is not a request
        response = client.post("/api/v1/documents", json=body)
        assert response.status_code == 201, (path.name, response.get_json())
        numbers.append(response.get_json()["registration_number"])
    assert len(numbers) == 14
    assert assert_no_join_unmasks(app.test_client(), numbers) == 10


# namesakes as a region has them: the same first letters, lengths and initials, one school
SURNAMES = ["Ахметова", "Ахметов", "Ахмедова", "Абенова", "Алиева", "Амирова", "Асанова",
            "Ахметжанова", "Байжанова", "Бекова"]
GIVEN = [("Айгүл", "Бекқызы"), ("Айгерім", "Болатқызы"), ("Асель", "Бақытқызы"),
         ("Дина", "Серікқызы")]


def test_a_session_of_namesakes_at_one_school_on_one_day_is_not_unmasked(
    app: Flask, client: FlaskClient, example: Any
) -> None:
    numbers = []
    categories = ["expert", "expert", "expert", "researcher", "master", "moderator"]
    for i in range(30):
        body = example("certificate", "kk")
        decision = body["decision"]
        decision["decision_id"] = f"namesakes-{i}"
        given, patronymic = GIVEN[i % len(GIVEN)]
        decision["holder"] = {"surname": SURNAMES[i % len(SURNAMES)], "given_name": given,
                              "patronymic": patronymic}
        decision["category"] = categories[i % len(categories)]
        response = client.post("/api/v1/documents", json=body)
        assert response.status_code == 201, response.get_json()
        numbers.append(response.get_json()["registration_number"])
    assert assert_no_join_unmasks(app.test_client(), numbers) == 30
