"""E-mail delivery of extracts through the outbox, against a real SMTP server (aiosmtpd).

Issuing goes through the API (the outbox row is written in the transaction that numbers
the extract); a MailSender with a clock the test moves delivers it. Every test runs on
SQLite and on PostgreSQL.

The outbox's own machinery (retries, the crash policy, resends) is tested with extracts
nobody must sign (their secretary has no IIN), which leave at once; an extract its secretary
must sign waits for that signature (real CMS from the test PKI) and leaves with its .p7s.
"""

from __future__ import annotations

import email.utils
import uuid
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, text, update

from service import create_app
from service.cli import main
from service.core.config import Settings
from service.core.db import Database
from service.core.faults import Faults, InjectedFault
from service.deadlines.models import Deadline
from service.mail.models import MailStatus, OutboxMessage
from service.mail.outbox import (
    LEASE,
    MailSender,
    Outcome,
    ResendAwaitingSignatures,
    ResendRefused,
    SendReport,
    SmtpSettings,
    backoff,
    message_id,
)
from service.registry.audit import history
from service.registry.audit import verify as verify_audit
from service.registry.models import Document
from service.signatures.intake import Signatures
from service.signatures.models import SigningState
from tests.conftest import NOW
from tests.mail.mailbox import Mailbox, MovingClock, Received
from tests.signatures.support import (
    SECRETARY,
    SigningPKI,
    openssl_verify,
    sign,
    signing_pki,
)

__all__ = ["signing_pki"]  # the session fixture, imported for pytest

Example = Callable[..., dict[str, Any]]
TEACHER = "asel.kurmanova@mektep.example.kz"
FROM = "attestation@krg.example.kz"


@pytest.fixture
def settings(tmp_path: Path, database_url: str, signing_pki: SigningPKI) -> Settings:
    """The test PKI's trust folder: signatures are accepted, and the .p7s carries its CAs."""
    return Settings(data_dir=tmp_path, database_url=database_url,
                    max_body_bytes=1024 * 1024, trust_dir=signing_pki.directory)


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox()
    box.start()
    yield box
    box.stop()


@pytest.fixture
def clock() -> MovingClock:
    return MovingClock(NOW)


def make_sender(app: Flask, port: int, clock: MovingClock, **kwargs: Any) -> MailSender:
    signatures: Signatures = app.extensions["qujat.signatures"]
    return MailSender(
        app.extensions["qujat.database"],
        app.extensions["qujat.registry"].store,
        SmtpSettings(host="127.0.0.1", port=port, sender=FROM, timeout=5),
        clock=clock,
        public_base_url="https://qujat.example.kz",
        trust=signatures.trust,
        **kwargs,
    )


@pytest.fixture
def sender(app: Flask, mailbox: Mailbox, clock: MovingClock) -> MailSender:
    return make_sender(app, mailbox.port, clock)


def extract(example: Example, decision_id: str, language: str = "kk",
            deliver_to: str | None = TEACHER, secretary_signs: bool = False) -> dict[str, Any]:
    """The example extract; unless `secretary_signs`, its secretary has no IIN, so nobody
    must sign it and its e-mail leaves at once."""
    body = example("extract", language)
    body["decision"]["decision_id"] = decision_id
    if not secretary_signs:
        del body["decision"]["commission"]["secretary"]["iin"]
    if deliver_to is not None:
        body["deliver_to"] = deliver_to
    return body


def issue(client: FlaskClient, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/api/v1/documents", json=body)
    assert response.status_code == 201, response.get_json()
    answer: dict[str, Any] = response.get_json()
    return answer


def outbox(app: Flask) -> list[OutboxMessage]:
    database: Database = app.extensions["qujat.database"]
    with database.read() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.created_at,
                                                                   OutboxMessage.sequence)))


def events(app: Flask, document_id: str) -> list[str]:
    database: Database = app.extensions["qujat.database"]
    with database.read() as session:
        return [e.event for e in history(session, uuid.UUID(document_id))]


def deadline_met_at(app: Flask, document_id: str) -> Any:
    database: Database = app.extensions["qujat.database"]
    with database.read() as session:
        row = session.get(Deadline, uuid.UUID(document_id))
        assert row is not None
        return row.met_at


# --------------------------------------------------------------------------- delivery


def test_an_extract_nobody_must_sign_is_delivered_at_once_with_its_pdf(
    app: Flask, client: FlaskClient, example: Example, mailbox: Mailbox, sender: MailSender
) -> None:
    issued = issue(client, extract(example, "krg-extract-mail-1"))
    database: Database = app.extensions["qujat.database"]
    with database.read() as session:
        assert session.get(SigningState, uuid.UUID(issued["id"])) is None  # no requirement
    [queued] = outbox(app)
    assert queued.status == MailStatus.QUEUED
    assert queued.recipient == TEACHER

    report = sender.send_pending()

    assert (report.sent, report.retrying, report.failed, report.in_doubt) == (1, 0, 0, 0)
    [received] = mailbox.received
    assert received.rcpt_tos == [TEACHER]
    assert received.mail_from == FROM
    message = received.message
    assert message["Message-ID"] == message_id(queued.id, "krg.example.kz")
    assert message["Subject"] == (
        f"Аттестаттау комиссиясы отырысының хаттамасынан үзінді, {issued['registration_number']}"
    )
    body = message.get_body(("plain",))
    assert body is not None
    assert issued["registration_number"] in body.get_content()
    assert "https://qujat.example.kz/verify/" in body.get_content()
    assert ".p7s" not in body.get_content()
    [attachment] = list(message.iter_attachments())  # the PDF alone: nothing was signed
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == f"{issued['registration_number']}.pdf"
    assert attachment.get_content() == client.get(issued["links"]["pdf"]).data

    assert sender.send_pending().sent == 0  # nothing twice
    assert len(mailbox.received) == 1
    [sent] = outbox(app)
    assert (sent.status, sent.attempts, sent.sent_at) == (MailStatus.SENT, 1, NOW)
    assert deadline_met_at(app, issued["id"]) == NOW
    assert events(app, issued["id"]) == [
        "mail_queued", "created", "issued", "mail_sending", "mail_sent"
    ]
    with database.read() as session:
        assert verify_audit(session).intact


def test_the_message_speaks_the_documents_language(
    client: FlaskClient, example: Example, mailbox: Mailbox, sender: MailSender
) -> None:
    issued = issue(client, extract(example, "krg-extract-mail-ru", language="ru"))
    sender.send_pending()
    [received] = mailbox.received
    message = received.message
    assert message["Subject"] == (
        "Выписка из протокола заседания аттестационной комиссии, "
        f"{issued['registration_number']}"
    )
    assert message["Content-Language"] == "ru"
    body = message.get_body(("plain",))
    assert body is not None
    assert "Уважаемый коллега!" in body.get_content()


def test_documents_without_deliver_to_queue_nothing(
    app: Flask, client: FlaskClient, example: Example, sender: MailSender, mailbox: Mailbox
) -> None:
    issue(client, extract(example, "krg-extract-no-mail", deliver_to=None))
    assert outbox(app) == []
    assert sender.send_pending().sent == 0
    assert mailbox.received == []


def test_deliver_to_on_another_form_is_refused_and_nothing_is_stored(
    app: Flask, client: FlaskClient, example: Example
) -> None:
    body = example("certificate", "kk")
    body["decision"]["decision_id"] = "krg-cert-mail"
    body["deliver_to"] = TEACHER
    response = client.post("/api/v1/documents", json=body, headers={"Accept-Language": "ru"})
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    [error] = response.get_json()["errors"]
    assert error["pointer"] == "/deliver_to"
    assert error["code"] == "deliver_to_not_extract"
    assert "выписка" in error["reason"]
    database: Database = app.extensions["qujat.database"]
    with database.read() as session:
        assert session.scalar(select(func.count()).select_from(Document)) == 0
    assert outbox(app) == []


# --------------------------------------------------------------------------- signatures first


def attachments(received: Received) -> list[EmailMessage]:
    found: list[EmailMessage] = list(received.message.iter_attachments())
    return found


def plain_text(received: Received) -> str:
    body = received.message.get_body(("plain",))
    assert body is not None
    text: str = body.get_content()
    return text


def signed_extract(example: Example, decision_id: str, language: str = "kk") -> dict[str, Any]:
    """An extract its secretary (the test PKI's SECRETARY) must sign."""
    body = extract(example, decision_id, language, secretary_signs=True)
    body["decision"]["commission"]["secretary"]["iin"] = SECRETARY
    return body


def test_an_extract_waits_for_its_secretary_and_leaves_signed_with_its_p7s(
    app: Flask, client: FlaskClient, example: Example, mailbox: Mailbox, sender: MailSender,
    clock: MovingClock, signing_pki: SigningPKI, runner: CliRunner, cli_env: dict[str, str],
    tmp_path: Path,
) -> None:
    issued = issue(client, signed_extract(example, "krg-extract-signed"))
    document_id, number = issued["id"], issued["registration_number"]
    [waiting] = outbox(app)
    assert waiting.status == MailStatus.AWAITING_SIGNATURES
    [shown] = client.get(f"/api/v1/documents/{document_id}/mail").get_json()["messages"]
    assert (shown["status"], shown["attempts"], shown["sent_at"]) == (
        "awaiting_signatures", 0, None)

    # unsigned, it never leaves, however long it waits; its deadline runs from the session
    assert sender.send_pending() == SendReport()
    clock.advance(days=30)
    assert sender.send_pending() == SendReport()
    assert mailbox.received == []
    overdue = client.get("/api/v1/deadlines?status=overdue").get_json()["deadlines"]
    assert [(d["document"]["id"], d["kind"]) for d in overdue] == [(document_id, "delivery")]
    listed = runner.invoke(main, ["deadlines"], env=cli_env)
    assert listed.exit_code == 0, listed.output
    assert f"overdue  {number}" in listed.output

    # a resend cannot make it leave earlier: refused with its own code (API, CLI, service)
    refused = client.post(f"/api/v1/documents/{document_id}/mail/resend",
                          headers={"Accept-Language": "ru"})
    assert refused.status_code == 409
    [error] = refused.get_json()["errors"]
    assert error["code"] == "mail_awaiting_signatures"
    assert "ждёт подписей" in error["reason"]
    cli = runner.invoke(main, ["mail", "resend", document_id], env=cli_env)
    assert cli.exit_code == 1
    assert "waits for its signatures" in cli.output
    with pytest.raises(ResendAwaitingSignatures):
        sender.resend(uuid.UUID(document_id))
    assert [m.status for m in outbox(app)] == [MailStatus.AWAITING_SIGNATURES]

    # the secretary signs: the transaction that records the signature releases the e-mail
    signed = sign(client, document_id, signing_pki.key(SECRETARY))
    assert signed.status_code == 201, signed.get_json()
    assert signed.get_json()["status"] == "signed"
    [released] = outbox(app)
    assert released.status == MailStatus.QUEUED
    assert events(app, document_id)[-3:] == ["signed_by", "document_signed", "mail_released"]

    assert sender.send_pending().sent == 1
    assert sender.send_pending().sent == 0  # once
    [received] = mailbox.received
    assert received.rcpt_tos == [TEACHER]
    pdf_part, p7s_part = attachments(received)
    assert (pdf_part.get_content_type(), pdf_part.get_filename()) == (
        "application/pdf", f"{number}.pdf")
    assert (p7s_part.get_content_type(), p7s_part.get_filename()) == (
        "application/pkcs7-signature", f"{number}.p7s")
    pdf, p7s = pdf_part.get_content(), p7s_part.get_content()
    assert pdf == client.get(issued["links"]["pdf"]).data
    assert p7s == client.get(f"/api/v1/documents/{document_id}.p7s").data  # the same bytes
    assert (f"Қоса берілген {number}.p7s файлы — осы құжаттың электрондық цифрлық "
            "қолтаңбасы.") in plain_text(received)

    (tmp_path / "extract.pdf").write_bytes(pdf)
    (tmp_path / "extract.p7s").write_bytes(p7s)
    checked = openssl_verify(tmp_path / "extract.p7s", tmp_path / "extract.pdf",
                             signing_pki.pki.root_path)
    assert checked.returncode == 0, checked.stderr
    assert "Verification successful" in checked.stderr

    [sent] = outbox(app)
    assert (sent.status, sent.attempts) == (MailStatus.SENT, 1)
    assert deadline_met_at(app, document_id) == clock.now  # met, late: it waited for a month
    late = client.get("/api/v1/deadlines?status=late").get_json()["deadlines"]
    assert [d["document"]["id"] for d in late] == [document_id]
    database: Database = app.extensions["qujat.database"]
    with database.read() as session:
        assert verify_audit(session).intact


def test_a_signed_russian_extract_and_its_resend_carry_the_signature(
    app: Flask, client: FlaskClient, example: Example, mailbox: Mailbox, sender: MailSender,
    signing_pki: SigningPKI,
) -> None:
    issued = issue(client, signed_extract(example, "krg-extract-signed-ru", language="ru"))
    document_id, number = issued["id"], issued["registration_number"]
    assert sign(client, document_id, signing_pki.key(SECRETARY)).status_code == 201
    assert sender.send_pending().sent == 1
    again = sender.resend(uuid.UUID(document_id))  # signed: queued at once, not waiting
    assert (again.sequence, again.status) == (2, MailStatus.QUEUED)
    assert sender.send_pending().sent == 1
    p7s = client.get(f"/api/v1/documents/{document_id}.p7s").data
    assert len(mailbox.received) == 2
    for received in mailbox.received:
        assert received.message["Content-Language"] == "ru"
        assert (f"Приложенный файл {number}.p7s — электронная цифровая подпись этого "
                "документа.") in plain_text(received)
        assert [a.get_content_type() for a in attachments(received)] == [
            "application/pdf", "application/pkcs7-signature"]
        assert attachments(received)[1].get_content() == p7s


def test_a_queued_message_of_an_unsigned_document_is_not_sent_before_the_signature(
    app: Flask, client: FlaskClient, example: Example, mailbox: Mailbox, sender: MailSender,
    signing_pki: SigningPKI,
) -> None:
    """A message left `queued` for an unsigned extract (as a release of qujat before the
    awaiting state wrote them) still waits: the sender never claims it before the signature."""
    issued = issue(client, signed_extract(example, "krg-extract-legacy"))
    database: Database = app.extensions["qujat.database"]
    with database.write() as session:
        session.execute(update(OutboxMessage).values(status=MailStatus.QUEUED))
    assert sender.send_pending().sent == 0
    assert mailbox.received == []
    assert sign(client, issued["id"], signing_pki.key(SECRETARY)).status_code == 201
    assert sender.send_pending().sent == 1
    [received] = mailbox.received
    assert len(attachments(received)) == 2


def test_the_migration_makes_queued_messages_of_unsigned_documents_wait(
    app: Flask, client: FlaskClient, example: Example
) -> None:
    from alembic import command

    from service.core.db import alembic_config, current_revision, head_revision, upgrade

    issue(client, signed_extract(example, "krg-extract-migrate-signed"))
    issue(client, extract(example, "krg-extract-migrate-plain"))
    database: Database = app.extensions["qujat.database"]

    def statuses() -> dict[str, str]:
        with database.engine.connect() as connection:
            rows = connection.execute(text(
                "SELECT d.decision_id, m.status FROM mail_outbox m "
                "JOIN documents d ON d.id = m.document_id"
            )).all()
        return {str(row[0]): str(row[1]) for row in rows}

    try:
        with database.engine.begin() as connection:
            command.downgrade(alembic_config(connection), "0005")
        assert statuses() == {"krg-extract-migrate-signed": "queued",
                              "krg-extract-migrate-plain": "queued"}
    finally:
        upgrade(database)
    assert current_revision(database) == head_revision()
    assert statuses() == {"krg-extract-migrate-signed": "awaiting_signatures",
                          "krg-extract-migrate-plain": "queued"}


# --------------------------------------------------------------------------- SMTP down


def test_smtp_down_is_retried_with_backoff_and_delivered_when_it_returns(
    app: Flask, client: FlaskClient, example: Example, mailbox: Mailbox,
    sender: MailSender, clock: MovingClock,
) -> None:
    issued = issue(client, extract(example, "krg-extract-smtp-down"))
    mailbox.stop()

    first = sender.send_pending()
    assert (first.sent, first.retrying) == (0, 1)
    [row] = outbox(app)
    assert (row.status, row.attempts) == (MailStatus.QUEUED, 1)
    assert row.next_attempt_at == NOW + backoff(1)
    assert row.last_error is not None
    assert "cannot connect" in row.last_error

    clock.advance(seconds=30)  # not yet: nothing is attempted before its time
    assert sender.send_pending().retrying == 0
    assert outbox(app)[0].attempts == 1

    clock.advance(seconds=31)
    assert sender.send_pending().retrying == 1
    [row] = outbox(app)
    assert row.attempts == 2
    assert row.next_attempt_at == clock.now + backoff(2)
    assert backoff(2) == 2 * backoff(1)

    mailbox.start()  # back, on the same port
    clock.advance(minutes=2)
    assert sender.send_pending().sent == 1
    assert len(mailbox.received) == 1
    [row] = outbox(app)
    assert (row.status, row.attempts, row.last_error) == (MailStatus.SENT, 3, None)
    assert events(app, issued["id"])[-6:] == [
        "mail_sending", "mail_failed", "mail_sending", "mail_failed", "mail_sending",
        "mail_sent",
    ]
    assert sender.send_pending().sent == 0
    assert len(mailbox.received) == 1


def test_a_permanent_refusal_is_not_retried(
    app: Flask, client: FlaskClient, example: Example, mailbox: Mailbox,
    sender: MailSender, clock: MovingClock,
) -> None:
    mailbox.reject.add(TEACHER)
    issue(client, extract(example, "krg-extract-550"))
    assert sender.send_pending().failed == 1
    [row] = outbox(app)
    assert row.status == MailStatus.FAILED
    assert row.last_error is not None
    assert row.last_error.startswith("550")
    clock.advance(days=1)
    assert sender.send_pending().failed == 0
    assert mailbox.received == []


def test_backoff_doubles_up_to_an_hour() -> None:
    waits = [backoff(n).total_seconds() for n in range(1, 10)]
    assert waits == [60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]


# --------------------------------------------------------------------------- crash policy


class SimulatedCrash(BaseException):
    """The process dies: nothing after the SMTP transaction runs (not even except-blocks
    that catch Exception)."""


def crash_after_transmit(_outbox_id: uuid.UUID, outcome: Outcome) -> None:
    assert outcome.kind == "sent"
    raise SimulatedCrash


def test_a_crash_after_sending_never_sends_a_second_message_by_itself(
    app: Flask, client: FlaskClient, example: Example, mailbox: Mailbox, clock: MovingClock,
) -> None:
    issued = issue(client, extract(example, "krg-extract-crash"))
    dying = make_sender(app, mailbox.port, clock, after_transmit=crash_after_transmit)
    with pytest.raises(SimulatedCrash):
        dying.send_pending()
    assert len(mailbox.received) == 1  # it was delivered, but not recorded
    [row] = outbox(app)
    assert row.status == MailStatus.SENDING

    restarted = make_sender(app, mailbox.port, clock)  # a fresh process, same database
    assert restarted.send_pending().sent == 0
    clock.advance(hours=2)  # long after the lease: still never retried by itself
    report = restarted.send_pending()
    assert report.sent == 0
    assert report.stuck == (row.id,)
    assert len(mailbox.received) == 1
    assert deadline_met_at(app, issued["id"]) is None  # so it shows as due, then overdue

    # an explicit resend, after someone checked the mailbox, sends it again
    assert restarted.resend(uuid.UUID(issued["id"])).sequence == 2
    assert restarted.send_pending().sent == 1
    assert len(mailbox.received) == 2
    first, second = (r.message["Message-ID"] for r in mailbox.received)
    assert first != second
    states = [(m.sequence, m.status) for m in outbox(app)]
    assert states == [(1, MailStatus.FAILED), (2, MailStatus.SENT)]
    assert "mail_resend" in events(app, issued["id"])


def test_a_message_being_sent_cannot_be_resent_until_its_lease_ends(
    app: Flask, client: FlaskClient, example: Example, mailbox: Mailbox, clock: MovingClock,
    sender: MailSender,
) -> None:
    issued = issue(client, extract(example, "krg-extract-lease"))
    document_id = uuid.UUID(issued["id"])
    with pytest.raises(ResendRefused):
        sender.resend(document_id)  # still queued
    dying = make_sender(app, mailbox.port, clock, after_transmit=crash_after_transmit)
    with pytest.raises(SimulatedCrash):
        dying.send_pending()
    with pytest.raises(ResendRefused):
        sender.resend(document_id)  # a live sender could still be in the middle of it
    response = client.post(f"/api/v1/documents/{issued['id']}/mail/resend")
    assert response.status_code == 409
    assert response.get_json()["errors"][0]["code"] == "mail_still_pending"
    clock.advance(seconds=LEASE.total_seconds() + 1)
    assert sender.resend(document_id).sequence == 2


# --------------------------------------------------------------------------- only issued


class FailRender(Faults):
    def before_render(self, decision_id: str) -> None:
        if decision_id.startswith("fail-"):
            raise InjectedFault(decision_id)


def test_a_message_waits_for_its_documents_bytes(
    settings: Settings, example: Example, mailbox: Mailbox, clock: MovingClock
) -> None:
    from service.registry.tokens import create_token
    from tests.conftest import fixed_clock

    app = create_app(settings, clock=fixed_clock, faults=FailRender())
    try:
        database: Database = app.extensions["qujat.database"]
        with database.write() as session:
            token, _ = create_token(session, "KRG", clock=fixed_clock)
        client = app.test_client()
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        response = client.post("/api/v1/documents", json=extract(example, "fail-render-1"))
        assert response.status_code == 500  # numbered in transaction A, then failed
        [row] = outbox(app)
        assert row.status == MailStatus.QUEUED
        sender = make_sender(app, mailbox.port, clock)
        assert sender.send_pending().sent == 0  # the document is still pending
        assert mailbox.received == []
        app.extensions["qujat.registry"].faults = Faults()
        app.extensions["qujat.registry"].repair()
        assert sender.send_pending().sent == 1
        assert len(mailbox.received) == 1
    finally:
        app.extensions["qujat.database"].dispose()


# --------------------------------------------------------------------------- API and CLI


def test_mail_routes_show_only_the_callers_documents(
    client: FlaskClient, client_for: Callable[[str], FlaskClient], example: Example,
    sender: MailSender,
) -> None:
    issued = issue(client, extract(example, "krg-extract-routes"))
    sender.send_pending()
    [message] = client.get(f"/api/v1/documents/{issued['id']}/mail").get_json()["messages"]
    assert message["status"] == "sent"
    assert message["sequence"] == 1
    assert "recipient" not in message
    resent = client.post(f"/api/v1/documents/{issued['id']}/mail/resend")
    assert resent.status_code == 202, resent.get_json()
    assert (resent.get_json()["sequence"], resent.get_json()["status"]) == (2, "queued")
    other = client_for("ABC")
    assert other.get(f"/api/v1/documents/{issued['id']}/mail").status_code == 404
    assert other.post(f"/api/v1/documents/{issued['id']}/mail/resend").status_code == 404
    plain = issue(client, extract(example, "krg-extract-routes-2", deliver_to=None))
    refused = client.post(f"/api/v1/documents/{plain['id']}/mail/resend")
    assert refused.status_code == 409
    assert refused.get_json()["errors"][0]["code"] == "mail_nothing_to_resend"


def test_cli_send_pending_and_resend(
    app: Flask, client: FlaskClient, example: Example, mailbox: Mailbox,
    runner: CliRunner, cli_env: dict[str, str],
) -> None:
    issued = issue(client, extract(example, "krg-extract-cli"))
    env = {**cli_env, "QUJAT_SMTP_PORT": str(mailbox.port), "QUJAT_MAIL_FROM": FROM}
    result = runner.invoke(main, ["mail", "send-pending"], env=env)
    assert result.exit_code == 0, result.output
    assert "sent 1," in result.output
    assert len(mailbox.received) == 1
    result = runner.invoke(main, ["mail", "resend", issued["id"]], env=env)
    assert result.exit_code == 0, result.output
    assert "(#2)" in result.output
    assert runner.invoke(main, ["mail", "send-pending"], env=env).exit_code == 0
    assert len(mailbox.received) == 2
    _, address = email.utils.parseaddr(mailbox.received[1].message["To"])
    assert address == TEACHER
