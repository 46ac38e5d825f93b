"""Public verification: statuses, names, revocation, supersession, upload, published lists.

Every test runs on SQLite and on PostgreSQL (the `app` fixture is parametrised).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from service import create_app
from service.core.config import Settings
from service.forms.decisions import ALMATY
from service.registry.issuing import RegistrationNumber, parse_registration_number
from tests.conftest import NOW

Example = Callable[..., dict[str, Any]]
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)


def issue(
    client: FlaskClient,
    example: Example,
    decision_id: str,
    form: str = "certificate",
    language: str = "kk",
    **envelope: Any,
) -> dict[str, Any]:
    body = example(form, language)
    body["decision"]["decision_id"] = decision_id
    body.update(envelope)
    response = client.post("/api/v1/documents", json=body)
    assert response.status_code == 201, response.get_json()
    answer: dict[str, Any] = response.get_json()
    return answer


def token_of(receipt: dict[str, Any]) -> str:
    return urlsplit(receipt["links"]["verify"]).query.removeprefix("t=")


def verify(client: FlaskClient, number: str, **params: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/verify/{number}", query_string=params)
    assert response.status_code == 200
    answer: dict[str, Any] = response.get_json()
    return answer


def revoke(client: FlaskClient, receipt: dict[str, Any], **changes: Any) -> Any:
    body = {"reason": "Апелляция комиссиясының шешімі", "act": {"number": "А-17",
                                                                 "date": "2026-11-23"}}
    body.update(changes)
    return client.post(f"/api/v1/documents/{receipt['id']}/revocation", json=body)


def unissued_number(number: str) -> str:
    parsed = parse_registration_number(number)
    return str(RegistrationNumber(parsed.appendix, parsed.organisation, parsed.year, 999_999))


def mistype(number: str) -> str:
    """The number with one digit of its sequence changed (the check digits then fail)."""
    digit = number[-4]
    return number[:-4] + ("1" if digit != "1" else "2") + number[-3:]


# --------------------------------------------------------------------------- statuses


def test_a_valid_certificate_shows_its_facts_and_withholds_its_holder(
    client: FlaskClient, anonymous_client: FlaskClient, example: Example
) -> None:
    receipt = issue(client, example, "v-1")
    answer = verify(anonymous_client, receipt["registration_number"])
    assert answer["status"] == "awaiting_signatures"  # valid once the head signs
    document = answer["document"]
    assert document["form"] == "certificate"
    assert document["holder"] == {"name": None, "full_name_shown": False}
    for withheld in ("position", "organisation", "category", "category_label", "grant"):
        assert document[withheld] is None, withheld
    assert document["issuing_body"]["code"] == "KRG"
    assert document["order"] == {"number": "153", "date": "2026-08-20"}
    assert document["decision_date"] == "2026-08-14"
    assert document["issue_date"] == "2026-08-25"
    assert document["valid_until"] == "2031-08-20"
    assert answer["revocation"] is None
    assert answer["superseded_by"] is None
    assert answer["signatures"]["verified"] in (None, False)  # the head has not signed
    disclosed = verify(anonymous_client, receipt["registration_number"], t=token_of(receipt))
    assert disclosed["document"]["category"] == "expert"
    assert disclosed["document"]["category_label"] == {
        "kk": "педагог-сарапшы", "ru": "педагог-эксперт"}
    assert disclosed["document"]["position"] == "математика пәнінің мұғалімі"


def test_not_issued_mistyped_and_malformed_numbers(
    client: FlaskClient, anonymous_client: FlaskClient, example: Example
) -> None:
    number = issue(client, example, "v-2")["registration_number"]
    assert verify(anonymous_client, unissued_number(number))["status"] == "not_issued"
    assert verify(anonymous_client, mistype(number)) == {
        "registration_number": mistype(number), "status": "mistyped",
        "answered_at": NOW.astimezone(ALMATY).isoformat()}
    assert verify(anonymous_client, "hello")["status"] == "mistyped"
    # forgiving: lower case and a typographic dash
    forgiven = verify(anonymous_client, number.lower().replace("-", "\u2013", 1))
    assert forgiven["registration_number"] == number
    assert forgiven["status"] == "awaiting_signatures"
    page = anonymous_client.get(f"/verify/{unissued_number(number)}")
    assert page.status_code == 404
    assert "Берілмеген" in page.get_data(as_text=True)


def test_a_certificate_past_its_validity_is_expired(
    client: FlaskClient, example: Example, settings: Settings
) -> None:
    number = issue(client, example, "v-3")["registration_number"]
    later = create_app(settings, clock=lambda: NOW.replace(year=2031) + dt.timedelta(days=300))
    try:
        answer = verify(later.test_client(), number)
    finally:
        later.extensions["qujat.database"].dispose()
    assert answer["status"] == "expired"


def test_pending_documents_are_not_issued(
    app: Flask, client: FlaskClient, example: Example
) -> None:
    from sqlalchemy import update

    from service.core.db import Database
    from service.registry.models import Document, DocumentStatus

    number = issue(client, example, "v-4")["registration_number"]
    database: Database = app.extensions["qujat.database"]
    # straight in the table: the service itself never writes a sealed row without its audit
    with database.engine.begin() as connection:
        connection.execute(update(Document).where(Document.registration_number == number)
                           .values(status=DocumentStatus.PENDING))
    assert verify(app.test_client(), number)["status"] == "not_issued"


# --------------------------------------------------------------------------- names


def test_full_name_with_the_token_or_the_surname_only(
    client: FlaskClient, anonymous_client: FlaskClient, example: Example
) -> None:
    receipt = issue(client, example, "v-5")
    number, token = receipt["registration_number"], token_of(receipt)
    full = "Ахметова Айгүл Бекқызы"
    assert verify(anonymous_client, number, t=token)["document"]["holder"] == {
        "name": full, "full_name_shown": True}
    assert verify(anonymous_client, number, t=token[:-1] + "x")["document"]["holder"][
        "name"] is None
    assert verify(anonymous_client, number, surname="АХМЕТОВА ")["document"]["holder"][
        "name"] == full
    assert verify(anonymous_client, number, surname="Ахметов")["document"]["holder"][
        "name"] is None
    page = anonymous_client.get(f"/verify/{number}").get_data(as_text=True)
    assert full not in page
    assert "А*" not in page
    assert "А. Б." not in page
    assert 'name="surname"' in page
    assert full in anonymous_client.get(f"/verify/{number}?t={token}").get_data(as_text=True)
    answered = anonymous_client.post(f"/verify/{number}", data={"surname": "ахметова"})
    assert full in answered.get_data(as_text=True)
    wrong = anonymous_client.post(f"/verify/{number}", data={"surname": "Иванова"})
    assert full not in wrong.get_data(as_text=True)
    assert 'id="surname-wrong"' in wrong.get_data(as_text=True)


# --------------------------------------------------------------------------- pages


def test_the_page_is_kazakh_by_default_and_russian_on_request(
    client: FlaskClient, anonymous_client: FlaskClient, example: Example
) -> None:
    number = issue(client, example, "v-6")["registration_number"]
    kazakh = anonymous_client.get(f"/verify/{number}").get_data(as_text=True)
    assert '<html lang="kk">' in kazakh
    assert "Жарамды" in kazakh
    assert "2031 жылғы 20 тамыз" in kazakh
    assert f'href="/verify/{number}?lang=ru"' in kazakh
    russian = anonymous_client.get(f"/verify/{number}?lang=ru").get_data(as_text=True)
    assert '<html lang="ru">' in russian
    assert "Действителен" in russian
    negotiated = anonymous_client.get(
        f"/verify/{number}", headers={"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.5"}
    ).get_data(as_text=True)
    assert "Действителен" in negotiated
    assert "Жарамды" in anonymous_client.get(
        f"/verify/{number}", headers={"Accept-Language": "en-US"}).get_data(as_text=True)


def test_the_number_form_redirects_to_the_verify_page(anonymous_client: FlaskClient) -> None:
    assert anonymous_client.get("/verify").status_code == 200
    response = anonymous_client.get("/verify?number=01-KRG-26-000001-00&lang=ru")
    assert response.status_code == 303
    assert response.headers["Location"] == "/verify/01-KRG-26-000001-00?lang=ru"


@pytest.mark.parametrize(
    "path", ["/verify", "/verify/01-KRG-26-000001-00", "/api/v1/verify/x", "/verify/upload",
             "/published/KRG", "/published/KRG.csv"]
)
def test_public_responses_carry_strict_headers(
    client: FlaskClient, anonymous_client: FlaskClient, path: str
) -> None:
    client.get("/api/v1/openapi.json")  # KRG exists once it has a token
    response = anonymous_client.get(path)
    assert response.status_code < 500
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Security-Policy"] == CSP
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    body = response.get_data(as_text=True)
    assert "http://" not in body.replace("http://127.0.0.1", "")
    assert "https://" not in body


def test_the_stylesheet_is_served_locally(anonymous_client: FlaskClient) -> None:
    response = anonymous_client.get("/static/public.css")
    assert response.status_code == 200
    assert response.mimetype == "text/css"
    response.close()


# --------------------------------------------------------------------------- rate limit


def test_the_rate_limit_answers_429_and_recovers(
    settings: Settings, example: Example
) -> None:
    limited = create_app(settings.replace(verify_rate_limit="3 per 2 seconds"),
                         clock=lambda: NOW)
    try:
        client = limited.test_client()
        for _ in range(3):
            assert client.get("/api/v1/verify/01-KRG-26-000001-00").status_code == 200
        refused = client.get("/api/v1/verify/01-KRG-26-000001-00")
        assert refused.status_code == 429
        assert refused.mimetype == "application/problem+json"
        assert refused.get_json()["status"] == 429
        retry_after = int(refused.headers["Retry-After"])
        assert 1 <= retry_after <= 3  # the window, rounded up to whole seconds
        page = client.get("/verify/01-KRG-26-000001-00?lang=ru")
        assert page.status_code == 429
        assert page.mimetype == "text/html"
        assert "Слишком много запросов" in page.get_data(as_text=True)
        assert page.headers["Retry-After"]
        # another client has its own budget; the API for platforms is not limited
        other = limited.test_client()
        other.environ_base["REMOTE_ADDR"] = "192.0.2.7"
        assert other.get("/api/v1/verify/01-KRG-26-000001-00").status_code == 200
        assert client.get("/api/v1/openapi.json").status_code == 200
        time.sleep(retry_after + 0.1)
        assert client.get("/api/v1/verify/01-KRG-26-000001-00").status_code == 200
    finally:
        limited.extensions["qujat.database"].dispose()


# --------------------------------------------------------------------------- revocation


def test_revocation_shows_at_once_and_is_final(
    client: FlaskClient, anonymous_client: FlaskClient, example: Example,
    client_for: Callable[[str], FlaskClient],
) -> None:
    receipt = issue(client, example, "v-7")
    number = receipt["registration_number"]
    response = revoke(client, receipt)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["registration_number"] == number
    answer = verify(anonymous_client, number)
    assert answer["status"] == "revoked"
    assert answer["revocation"]["reason"] is None  # the holder's own story: shown when disclosed
    assert answer["revocation"]["act"] == {"number": "А-17", "date": "2026-11-23"}
    page = anonymous_client.get(f"/verify/{number}?lang=ru").get_data(as_text=True)
    assert "Отозван" in page
    assert "Апелляция комиссиясының шешімі" not in page
    assert "«23» ноября 2026 года" in page
    token = token_of(receipt)
    assert verify(anonymous_client, number, t=token)["revocation"][
        "reason"] == "Апелляция комиссиясының шешімі"
    page = anonymous_client.get(f"/verify/{number}?lang=ru&t={token}").get_data(as_text=True)
    assert "Апелляция комиссиясының шешімі" in page
    again = revoke(client, receipt, reason="again")
    assert again.status_code == 409
    assert again.get_json()["errors"][0]["code"] == "already_revoked"
    history = client.get(f"/api/v1/documents/{receipt['id']}").get_json()["history"]
    assert [e["event"] for e in history] == ["created", "issued", "revoked"]
    assert history[-1]["details"]["act"] == {"number": "А-17", "date": "2026-11-23"}
    # another body cannot see it, let alone revoke it; nobody without a token can
    assert revoke(client_for("ABC"), receipt).status_code == 404
    assert revoke(anonymous_client, receipt).status_code == 401


def test_a_revocation_request_is_validated(client: FlaskClient, example: Example) -> None:
    receipt = issue(client, example, "v-8")
    response = revoke(client, receipt, reason=" ", act={"number": "1", "date": "2027-01-01"},
                      extra=1)
    assert response.status_code == 422
    pointers = {e["pointer"]: e["code"] for e in response.get_json()["errors"]}
    assert pointers == {"/reason": "bad_text", "/act/date": "future_date",
                        "/extra": "unknown_field"}
    early = revoke(client, receipt, act={"number": "1", "date": "2026-01-01"})
    assert early.status_code == 422
    assert early.get_json()["errors"][0]["code"] == "act_before_issue"


# --------------------------------------------------------------------------- supersession


def test_a_new_document_supersedes_the_old_one(
    client: FlaskClient, anonymous_client: FlaskClient, example: Example,
    client_for: Callable[[str], FlaskClient],
) -> None:
    old = issue(client, example, "v-9")
    new = issue(client, example, "v-9-appeal", supersedes=old["registration_number"])
    answer = verify(anonymous_client, old["registration_number"])
    assert answer["status"] == "superseded"
    assert answer["superseded_by"]["registration_number"] == new["registration_number"]
    newer = verify(anonymous_client, new["registration_number"])
    assert newer["status"] == "awaiting_signatures"  # the new one waits for its head
    assert newer["supersedes"]["registration_number"] == old["registration_number"]
    page = anonymous_client.get(f"/verify/{old['registration_number']}").get_data(as_text=True)
    assert "Ауыстырылған" in page
    assert f'href="/verify/{new["registration_number"]}"' in page
    history = client.get(f"/api/v1/documents/{old['id']}").get_json()["history"]
    assert history[-1]["event"] == "superseded"
    assert history[-1]["details"]["superseded_by"] == new["registration_number"]
    assert client.get(f"/api/v1/documents/{new['id']}").get_json()["supersedes"] == old["id"]

    twice = example("certificate", "kk")
    twice["decision"]["decision_id"] = "v-9-again"
    twice["supersedes"] = old["id"]
    refused = client.post("/api/v1/documents", json=twice)
    assert refused.status_code == 422
    assert refused.get_json()["errors"] == [{
        "pointer": "/supersedes", "code": "supersedes_already_superseded",
        "reason": "This document has already been superseded."}]
    foreign = client_for("ABC").post("/api/v1/documents", json={
        **twice, "supersedes": new["registration_number"]})
    assert foreign.status_code == 422
    assert foreign.get_json()["errors"][0]["code"] == "supersedes_other_organisation"
    unknown = client.post("/api/v1/documents", json={
        **twice, "supersedes": unissued_number(new["registration_number"])})
    assert unknown.get_json()["errors"][0]["code"] == "supersedes_unknown"
    # nothing of the refused requests was kept: the next number follows on
    after = issue(client, example, "v-9-next")
    assert after["registration_number"].split("-")[3] == "000003"


# --------------------------------------------------------------------------- upload


def _pdf(client: FlaskClient, receipt: dict[str, Any]) -> bytes:
    return client.get(receipt["links"]["pdf"]).get_data()


def test_upload_of_the_registered_pdf_matches_and_a_changed_byte_does_not(
    client: FlaskClient, anonymous_client: FlaskClient, example: Example
) -> None:
    from io import BytesIO

    receipt = issue(client, example, "v-10")
    content = _pdf(client, receipt)
    answer = anonymous_client.post(
        "/api/v1/verify/upload", data={"pdf": (BytesIO(content), "c.pdf")}
    ).get_json()
    assert answer["matches"] is True
    assert answer["verification"]["status"] == "awaiting_signatures"
    assert answer["verification"]["document"]["holder"]["name"] == "Ахметова Айгүл Бекқызы"
    # one byte of the content stream changed (past the header, before the trailer)
    middle = len(content) // 2
    changed = content[:middle] + bytes([content[middle] ^ 0x01]) + content[middle + 1:]
    answer = anonymous_client.post(
        "/api/v1/verify/upload", data={"pdf": (BytesIO(changed), "c.pdf")}
    ).get_json()
    assert answer["matches"] is False
    assert answer["signatures"] is None
    if answer["claimed_registration_number"] is not None:
        assert answer["claimed_registration_number"] == receipt["registration_number"]
        assert answer["verification"]["document"]["holder"]["name"] is None
    page = anonymous_client.post(
        "/verify/upload?lang=ru", data={"pdf": (BytesIO(changed), "c.pdf")},
    ).get_data(as_text=True)
    assert "Это не зарегистрированный документ" in page
    matched = anonymous_client.post(
        "/verify/upload", data={"pdf": (BytesIO(content), "c.pdf")}).get_data(as_text=True)
    assert 'data-matches="true"' in matched


def test_a_modified_pdf_names_the_document_it_claims_to_be(
    client: FlaskClient, anonymous_client: FlaskClient, example: Example
) -> None:
    from io import BytesIO

    receipt = issue(client, example, "v-11")
    content = _pdf(client, receipt)
    # an appended incremental update: every page still reads the same
    changed = content + b"\n% edited\n"
    answer = anonymous_client.post(
        "/api/v1/verify/upload", data={"pdf": (BytesIO(changed), "c.pdf")}
    ).get_json()
    assert answer["matches"] is False
    assert answer["claimed_registration_number"] == receipt["registration_number"]
    assert answer["verification"]["status"] == "awaiting_signatures"


def test_upload_limits_and_missing_files(settings: Settings) -> None:
    from io import BytesIO

    small = create_app(settings.replace(upload_max_bytes=1000), clock=lambda: NOW)
    try:
        client = small.test_client()
        too_big = client.post("/api/v1/verify/upload",
                              data={"pdf": (BytesIO(b"%PDF-" + b"x" * 2000), "a.pdf")})
        assert too_big.status_code == 413
        assert too_big.get_json()["errors"][0]["code"] == "too_large"
        page = client.post("/verify/upload",
                           data={"pdf": (BytesIO(b"%PDF-" + b"x" * 2000), "a.pdf")})
        assert page.status_code == 413
        assert "Файл тым үлкен" in page.get_data(as_text=True)
        missing = client.post("/api/v1/verify/upload", data={})
        assert missing.status_code == 400
        assert client.post("/verify/upload", data={}).status_code == 400
    finally:
        small.extensions["qujat.database"].dispose()


# --------------------------------------------------------------------------- published


def test_the_published_list_holds_standing_certificates_only(
    client: FlaskClient, anonymous_client: FlaskClient, example: Example
) -> None:
    kept = issue(client, example, "p-1")
    revoked = issue(client, example, "p-2", language="ru")
    assert revoke(client, revoked).status_code == 201
    issue(client, example, "p-3", form="extract")
    listing = anonymous_client.get("/published/KRG.json?lang=ru").get_json()
    assert listing["organisation"]["code"] == "KRG"
    assert listing["entries"] == [{
        "name": "Ахметова Айгүл Бекқызы",
        "organisation": example("certificate", "kk")["decision"]["organisation"],
        "category": "expert",
        "category_label": "педагог-сарапшы",  # as the (Kazakh) certificate says
        "language": "kk",
    }]
    csv_text = anonymous_client.get("/published/KRG.csv").get_data(as_text=True)
    assert csv_text.startswith("\ufeffname,organisation,category\r\n")
    assert "Ахметова Айгүл Бекқызы" in csv_text
    assert kept["registration_number"] not in csv_text
    html = anonymous_client.get("/published/KRG").get_data(as_text=True)
    assert "Аттестаттаудан өткен педагогтердің тізімі" in html
    assert "Ахметова Айгүл Бекқызы" in html
    assert anonymous_client.get("/published/NOPE").status_code == 404
    assert anonymous_client.get("/published/NOPE.json").status_code == 404
