"""Signing invitations over HTTP: links per signer, the page behind a link, signing through it
with real CMS signatures of the test PKI, every refusal, e-mail to a real SMTP server, and
reminders to late signers on the working-day calendar.

Every test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from service import create_app
from service.cli import main
from service.core.config import Settings
from service.core.db import Database
from service.deadlines.workdays import WorkingCalendar
from service.invitations.models import Invitation
from service.invitations.reminders import Mailer, Reminders
from service.signatures.models import SignatureRecord
from signing.client import create_cms
from tests.conftest import NOW, fixed_clock
from tests.mail.mailbox import Mailbox, MovingClock
from tests.signatures.support import (
    CHAIR,
    OUTSIDER,
    PRESENT,
    SECRETARY,
    SigningPKI,
    create_commission,
    create_protocol,
    signing_pki,
)

__all__ = ["signing_pki"]  # the session fixture, imported for pytest

SIGNERS = [*PRESENT, SECRETARY]


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox()
    box.start()
    yield box
    box.stop()


@pytest.fixture
def settings(tmp_path: Path, database_url: str, signing_pki: SigningPKI,
             mailbox: Mailbox) -> Settings:
    return Settings(data_dir=tmp_path, database_url=database_url, max_body_bytes=1024 * 1024,
                    trust_dir=signing_pki.directory, smtp_port=mailbox.port,
                    public_base_url="https://qujat.example.kz")


@pytest.fixture
def protocol(client: FlaskClient) -> dict[str, Any]:
    return create_protocol(client, create_commission(client))


def invite(client: FlaskClient, document_id: str, body: Any = None) -> Any:
    if body is None:
        return client.post(f"/api/v1/documents/{document_id}/invitations")
    return client.post(f"/api/v1/documents/{document_id}/invitations", json=body)


def token_of(link: dict[str, Any]) -> str:
    url: str = link["url"]
    assert url.startswith("https://qujat.example.kz/sign/")
    return url.rsplit("/", 1)[1]


def links_by_iin(client: FlaskClient, document_id: str, body: Any = None) -> dict[str, str]:
    response = invite(client, document_id, body)
    assert response.status_code == 201, response.get_json()
    return {item["iin"]: token_of(item) for item in response.get_json()["invitations"]}


def cms_for(client: FlaskClient, token: str, credential: Any) -> str:
    content = client.get(f"/sign/{token}/document.pdf").data
    return base64.b64encode(create_cms(content, credential, signing_time=NOW)).decode("ascii")


def sign_through(client: FlaskClient, token: str, cms: str, language: str = "kk") -> Any:
    return client.post(f"/sign/{token}?lang={language}", json={"cms": cms})


def count(app: Flask, model: Any) -> int:
    database: Database = app.extensions["qujat.database"]
    with database.read() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_every_pending_signer_gets_a_link_stored_only_as_its_hash(
    app: Flask, client: FlaskClient, protocol: dict[str, Any]
) -> None:
    response = invite(client, protocol["id"])
    assert response.status_code == 201, response.get_json()
    links = response.get_json()["invitations"]
    assert [link["iin"] for link in links] == SIGNERS
    assert {link["state"] for link in links} == {"open"}
    assert links[0]["role"] == "chair"
    expires = dt.datetime.fromisoformat(links[0]["expires_at"])
    assert expires == NOW + dt.timedelta(days=7)
    database: Database = app.extensions["qujat.database"]
    with database.read() as session:
        stored = {row.token_sha256 for row in session.scalars(select(Invitation))}
    tokens = [token_of(link) for link in links]
    assert len(set(tokens)) == len(tokens)
    assert stored == {hashlib.sha256(t.encode()).hexdigest() for t in tokens}
    listing = client.get(f"/api/v1/documents/{protocol['id']}/invitations").get_json()
    assert all("url" not in item for item in listing["invitations"])


def test_the_page_shows_the_document_and_its_signers_in_both_languages(
    client: FlaskClient, anonymous_client: FlaskClient, protocol: dict[str, Any]
) -> None:
    token = links_by_iin(client, protocol["id"])[PRESENT[1]]
    kk = anonymous_client.get(f"/sign/{token}")
    assert kk.status_code == 200
    html = kk.get_data(as_text=True)
    assert protocol["registration_number"] in html
    assert "NCALayer арқылы қол қою" in html
    assert "JavaScript" in html
    assert "<noscript>" in html
    assert 'data-ncalayer="wss://127.0.0.1:13579/"' in html
    assert '<script src="/static/sign.js">' in html
    policy = kk.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "connect-src 'self' wss://127.0.0.1:13579" in policy
    ru = anonymous_client.get(f"/sign/{token}", headers={"Accept-Language": "ru"})
    assert "Подписать через NCALayer" in ru.get_data(as_text=True)
    assert "Подписать через NCALayer" in anonymous_client.get(
        f"/sign/{token}?lang=ru").get_data(as_text=True)
    page = anonymous_client.get(f"/sign/{token}/page-1.png")
    assert page.status_code == 200
    assert page.data.startswith(b"\x89PNG")
    assert anonymous_client.get(f"/sign/{token}/document.pdf").data.startswith(b"%PDF")


def test_a_member_signs_through_the_link_and_the_link_is_used(
    app: Flask, client: FlaskClient, anonymous_client: FlaskClient,
    protocol: dict[str, Any], signing_pki: SigningPKI,
) -> None:
    token = links_by_iin(client, protocol["id"])[CHAIR]
    response = sign_through(anonymous_client, token,
                            cms_for(anonymous_client, token, signing_pki.key(CHAIR)))
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["status"] == "awaiting_signatures"
    assert response.get_json()["message"] == "Қолтаңбаңыз қабылданды. Рахмет!"
    assert count(app, SignatureRecord) == 1
    again = anonymous_client.get(f"/sign/{token}")
    assert again.status_code == 410
    assert 'data-reason="used"' in again.get_data(as_text=True)


def test_the_last_signature_says_the_protocol_is_signed(
    client: FlaskClient, anonymous_client: FlaskClient, protocol: dict[str, Any],
    signing_pki: SigningPKI,
) -> None:
    links = links_by_iin(client, protocol["id"])
    answer: Any = None
    for iin in SIGNERS:
        answer = sign_through(anonymous_client, links[iin],
                              cms_for(anonymous_client, links[iin], signing_pki.key(iin)),
                              language="ru")
        assert answer.status_code == 201, answer.get_json()
    assert answer.get_json()["status"] == "signed"
    assert "протокол подписан" in answer.get_json()["message"]


@pytest.mark.parametrize(("who", "role", "code", "words"), [
    (PRESENT[2], "sign", "iin_mismatch", "другим лицом"),
    (OUTSIDER.iin, "sign", "iin_mismatch", "другим лицом"),
    (PRESENT[1], "auth", "auth_key", "аутентификации"),
])
def test_someone_elses_key_or_the_auth_key_is_refused_and_nothing_stored(
    app: Flask, client: FlaskClient, anonymous_client: FlaskClient,
    protocol: dict[str, Any], signing_pki: SigningPKI, who: str, role: str, code: str,
    words: str,
) -> None:
    token = links_by_iin(client, protocol["id"])[PRESENT[1]]
    response = sign_through(anonymous_client, token,
                            cms_for(anonymous_client, token, signing_pki.key(who, role)),
                            language="ru")
    assert response.status_code == 422, response.get_json()
    body = response.get_json()
    assert code in body["codes"]
    assert words in body["message"]
    assert count(app, SignatureRecord) == 0
    assert anonymous_client.get(f"/sign/{token}").status_code == 200  # still usable


def test_an_expired_certificate_is_refused_in_words(
    client: FlaskClient, anonymous_client: FlaskClient, protocol: dict[str, Any],
    signing_pki: SigningPKI,
) -> None:
    token = links_by_iin(client, protocol["id"])[PRESENT[1]]
    response = sign_through(anonymous_client, token,
                            cms_for(anonymous_client, token, signing_pki.odd.expired))
    assert response.status_code == 422
    assert "expired" in response.get_json()["codes"]


def test_forged_expired_and_revoked_links_are_refused(
    app: Flask, client: FlaskClient, anonymous_client: FlaskClient,
    protocol: dict[str, Any], signing_pki: SigningPKI,
) -> None:
    links = links_by_iin(client, protocol["id"])
    forged = anonymous_client.get("/sign/" + "A" * 43)
    assert forged.status_code == 404
    assert 'data-reason="unknown"' in forged.get_data(as_text=True)
    assert anonymous_client.get("/sign/" + "A" * 500).status_code == 404
    posted = sign_through(anonymous_client, "A" * 43, "MIIB")
    assert posted.status_code == 404
    assert posted.get_json()["codes"] == ["link_unknown"]

    database: Database = app.extensions["qujat.database"]
    with database.write() as session:
        session.execute(update(Invitation).where(Invitation.iin == CHAIR)
                        .values(expires_at=NOW - dt.timedelta(seconds=1)))
    expired = anonymous_client.get(f"/sign/{links[CHAIR]}?lang=ru")
    assert expired.status_code == 410
    assert "Срок действия ссылки истёк" in expired.get_data(as_text=True)
    cms = base64.b64encode(create_cms(b"x", signing_pki.key(CHAIR), signing_time=NOW))
    assert sign_through(anonymous_client, links[CHAIR],
                        cms.decode()).get_json()["codes"] == ["link_expired"]

    listing = client.get(f"/api/v1/documents/{protocol['id']}/invitations").get_json()
    member = next(i for i in listing["invitations"] if i["iin"] == PRESENT[1])
    revoked = client.delete(f"/api/v1/documents/{protocol['id']}/invitations/{member['id']}")
    assert revoked.status_code == 204
    assert anonymous_client.get(f"/sign/{links[PRESENT[1]]}").status_code == 410
    # a new link for the same signer supersedes the old one
    newer = links_by_iin(client, protocol["id"], {"signers": [{"iin": PRESENT[2]}]})
    assert anonymous_client.get(f"/sign/{links[PRESENT[2]]}").status_code == 410
    assert anonymous_client.get(f"/sign/{newer[PRESENT[2]]}").status_code == 200
    assert count(app, SignatureRecord) == 0


def test_malformed_requests_get_problems_and_store_nothing(
    app: Flask, client: FlaskClient, client_for: Any, anonymous_client: FlaskClient,
    protocol: dict[str, Any],
) -> None:
    bad = invite(client, protocol["id"], {"signers": [{"iin": "12"}, {"iin": CHAIR,
                                                                       "email": "no"}],
                                          "extra": 1})
    assert bad.status_code == 422
    assert bad.headers["Content-Type"] == "application/problem+json"
    pointers = {e["pointer"] for e in bad.get_json()["errors"]}
    assert pointers == {"/signers/0/iin", "/signers/1/email", "/extra"}
    outsider = invite(client, protocol["id"], {"signers": [{"iin": OUTSIDER.iin}]})
    assert outsider.status_code == 422
    assert outsider.get_json()["errors"][0]["pointer"] == "/signers/0/iin"
    other_body = client_for("ABC")
    assert invite(other_body, protocol["id"]).status_code == 404
    assert count(app, Invitation) == 0

    token = links_by_iin(client, protocol["id"])[CHAIR]
    assert anonymous_client.post(f"/sign/{token}", data="cms=x").status_code == 415
    assert sign_through(anonymous_client, token, "").status_code == 422
    assert anonymous_client.post(f"/sign/{token}", json={"cms": "x", "more": 1}).status_code == 422
    garbage = sign_through(anonymous_client, token, "not base64 at all!")
    assert garbage.status_code == 422
    huge = anonymous_client.post(f"/sign/{token}", json={"cms": "A" * (2 * 1024 * 1024)})
    assert huge.status_code == 413
    assert count(app, SignatureRecord) == 0


def test_invitations_and_reminders_go_by_email_to_late_signers(
    app: Flask, client: FlaskClient, anonymous_client: FlaskClient,
    protocol: dict[str, Any], mailbox: Mailbox, settings: Settings, signing_pki: SigningPKI,
) -> None:
    response = invite(client, protocol["id"], {"signers": [
        {"iin": CHAIR, "email": "chair@mektep.example.kz"},
        {"iin": SECRETARY, "email": "secretary@mektep.example.kz"},
    ]})
    assert response.status_code == 201
    assert [i["emailed"] for i in response.get_json()["invitations"]] == [True, True]
    assert sorted(r.rcpt_tos[0] for r in mailbox.received) == [
        "chair@mektep.example.kz", "secretary@mektep.example.kz"]
    first = mailbox.received[0].message.get_content()
    links = {i["iin"]: token_of(i) for i in response.get_json()["invitations"]}
    assert f"/sign/{links[CHAIR]}" in first or f"/sign/{links[SECRETARY]}" in first

    # the chair signs; the secretary does not
    signed = sign_through(anonymous_client, links[CHAIR],
                          cms_for(anonymous_client, links[CHAIR], signing_pki.key(CHAIR)))
    assert signed.status_code == 201

    clock = MovingClock(NOW)  # Monday 23 November 2026, 17:00 in Almaty
    reminders = Reminders(
        app.extensions["qujat.database"], Mailer.of(settings), WorkingCalendar(), clock=clock,
        after_days=1, at_most=2, lifetime=dt.timedelta(days=7),
    )
    assert reminders.remind() == 0  # not a working day late yet
    assert reminders.late(uuid.UUID(protocol["id"])) == []
    clock.advance(days=1)  # Tuesday: one working day
    assert [s.iin for s in reminders.late(uuid.UUID(protocol["id"]))] == [SECRETARY]
    assert reminders.remind() == 1
    reminder = mailbox.received[-1]
    assert reminder.rcpt_tos == ["secretary@mektep.example.kz"]
    assert "Напоминание" in str(reminder.message["Subject"])
    assert reminders.remind() == 0  # the next one after another working day
    clock.advance(days=4)  # Saturday: Wednesday, Thursday and Friday have passed
    assert reminders.remind() == 1
    clock.advance(days=3)
    assert reminders.remind() == 0  # at most twice
    assert len(mailbox.received) == 4
    # each reminder carries a new link; the first one no longer works
    assert anonymous_client.get(f"/sign/{links[SECRETARY]}").status_code == 404
    text = mailbox.received[-1].message.get_content()
    newest = text.split("https://qujat.example.kz/sign/", 1)[1].split()[0]
    assert anonymous_client.get(f"/sign/{newest}").status_code == 200
    late = client.get(f"/api/v1/documents/{protocol['id']}/signing").get_json()
    assert "late" in late


def test_qujat_invitations_remind_sends_the_due_reminders_once(
    app: Flask, client: FlaskClient, protocol: dict[str, Any], mailbox: Mailbox,
    settings: Settings, runner: CliRunner,
) -> None:
    response = invite(client, protocol["id"], {"signers": [
        {"iin": SECRETARY, "email": "secretary@mektep.example.kz"}]})
    assert response.status_code == 201
    # the command runs on the real clock: date the invitation a month before it
    database: Database = app.extensions["qujat.database"]
    with database.write() as session:
        session.execute(update(Invitation).values(
            created_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=30)))
    env = {"QUJAT_DATA_DIR": str(settings.data_dir), "QUJAT_DATABASE_URL": settings.database_url,
           "QUJAT_SMTP_PORT": str(mailbox.port), "QUJAT_SIGNING_REMINDER_MAX": "1"}
    first = runner.invoke(main, ["invitations", "remind"], env=env)
    assert first.exit_code == 0, first.output
    assert first.output.strip() == "sent 1 reminder(s)"
    assert mailbox.received[-1].rcpt_tos == ["secretary@mektep.example.kz"]
    again = runner.invoke(main, ["invitations", "remind"], env=env)
    assert again.output.strip() == "sent 0 reminder(s)"  # at most once


def test_each_client_has_a_budget_of_requests_to_the_page(
    settings: Settings, client_for: Any
) -> None:
    limited = create_app(settings.replace(verify_rate_limit="3 per minute"), clock=fixed_clock)
    try:
        browser = limited.test_client()
        answers = [browser.get("/sign/" + "A" * 43).status_code for _ in range(4)]
        assert answers == [404, 404, 404, 429]
    finally:
        limited.extensions["qujat.database"].dispose()
