"""Extracts delivered by e-mail: a transactional outbox and its sender.

Queueing. `MailListener` puts the e-mail of an extract (forms 3 and 13) whose request has
`deliver_to` into `mail_outbox` inside transaction A, the one that numbers the document: a
document and its e-mail exist together or not at all. A `deliver_to` on any other form is
refused (nothing is stored).

Signatures first. A teacher receives the signed extract, never an unsigned draft: when the
document needs signatures (service.signatures.intake: an extract, its commission's secretary) its
e-mail is stored `awaiting_signatures`, which no sender ever claims. The same listener is a
`SignedListener` of the signatures service: the transaction that records the document's last
required signature makes the e-mail `queued` (audit "mail_released"), so a signature and the
release exist together or not at all. A document that needs no signature is `queued` at once.
The sender also never claims a message whose document still waits for a signature, whatever
its state. The delivery deadline keeps counting from the session meanwhile
(service.deadlines.rules):
an extract still unsigned after its 3 working days is overdue.

Sending. `MailSender.send_pending` (a thread in `qujat serve`, or `qujat mail worker`, or
`qujat mail send-pending` once) claims one ready message at a time: queued, its next
attempt due, its document issued (bytes stored). The claim is a short transaction that
locks the row (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so several senders never take the
same row; SQLite's single writer serialises them anyway), sets `sending`, counts the attempt
and takes a lease. Then, outside any transaction, one SMTP transaction with the PDF
attached (and, for a signed document, its combined detached CMS `.p7s`, the bytes of
GET /api/v1/documents/{id}.p7s) and a text in the document's language; then a second
transaction records the outcome and writes it to the audit trail.

Never twice: the crash policy. The only moment a message can be delivered without being
recorded is between the end of SMTP DATA and the commit of `sent`. A row in `sending` is
therefore never picked up again automatically, whatever happened to its sender: it stays
*in doubt*, `qujat mail send-pending` lists it once its lease has run out, the deadline it
serves stays open (so it shows as due, then overdue), and only an explicit resend (CLI or
API, after someone checked the mailbox) sends the extract again. So delivery is at most
once automatically; the Message-ID is derived from the outbox row (`<id@domain>`), which
lets a mailbox recognise a copy of the same row.

Failures before DATA (connection refused, timeouts, 4xx replies to MAIL/RCPT, a 4xx to
DATA) provably delivered nothing: the row goes back to `queued` with exponential backoff
(1 min, 2, 4 … capped at 1 h; `failed` after MAX_ATTEMPTS). A 5xx is final (`failed`). A
connection lost *during* DATA leaves the row in doubt. A resend is refused while the last
message still waits for signatures (`mail_awaiting_signatures`), is queued or within its
lease (`mail_still_pending`). Audit entries: mail_queued, mail_released, mail_sending,
mail_sent, mail_failed, mail_in_doubt, mail_resend.
"""

from __future__ import annotations

import datetime as dt
import email.policy
import email.utils
import logging
import smtplib
import ssl
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from service.core.db import Database
from service.core.periodic import Periodic
from service.deadlines import rules as deadlines
from service.forms.decisions import Clock
from service.forms.vocabulary import Form
from service.mail.models import MailStatus, OutboxMessage
from service.observability import logs
from service.registry import audit
from service.registry.models import Document, DocumentStatus
from service.registry.storage import ObjectStore
from service.signatures.intake import (
    TrustFolder,
    awaiting_signatures,
    combine_stored,
    required_signers,
    signed_cms,
)
from service.signatures.models import SigningState

if TYPE_CHECKING:
    from service.core.config import Settings
    from service.registry.issuing import IssueRequest

log = logging.getLogger(__name__)

MAIL_FORMS = frozenset({Form.EXTRACT, Form.HEADS_EXTRACT})
MAX_ATTEMPTS = 24  # with the 1-hour cap: about a day of retries
BACKOFF_BASE = dt.timedelta(minutes=1)
BACKOFF_CAP = dt.timedelta(hours=1)
LEASE = dt.timedelta(minutes=5)  # longer than one SMTP transaction can take
SMTP_TIMEOUT_SECONDS = 30.0
MAX_PER_RUN = 500


def backoff(attempts: int) -> dt.timedelta:
    """The wait after the `attempts`-th failed attempt: 1, 2, 4 … minutes, at most an hour."""
    wait: dt.timedelta = BACKOFF_BASE * 2 ** min(max(0, attempts - 1), 16)
    return min(BACKOFF_CAP, wait)


# --------------------------------------------------------------------------- settings


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    host: str = "127.0.0.1"
    port: int = 25
    starttls: bool = False
    user: str = ""
    password: str = field(default="", repr=False)
    sender: str = "qujat@localhost"
    timeout: float = SMTP_TIMEOUT_SECONDS

    @classmethod
    def of(cls, settings: Settings) -> SmtpSettings:
        return cls(settings.smtp_host, settings.smtp_port, settings.smtp_starttls,
                   settings.smtp_user, settings.smtp_password, settings.mail_from)

    @property
    def domain(self) -> str:
        _, _, domain = email.utils.parseaddr(self.sender)[1].rpartition("@")
        return domain or "qujat.local"


# --------------------------------------------------------------------------- queueing


class DeliveryRefused(ValueError):
    """`deliver_to` on a form that is not delivered by e-mail."""

    code = "deliver_to_not_extract"

    def __init__(self, form: Form) -> None:
        self.form = form
        super().__init__(f"only extracts are delivered by e-mail, not a {form.value}")


class MailListener:
    """Queues an extract's e-mail in the transaction that numbers the extract (the registry's
    IssueListener), waiting for its signatures if it needs some; releases it in the
    transaction that records the last of them (the signatures service's SignedListener)."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    def created(self, session: Session, document: Document, request: IssueRequest) -> None:
        recipient = request.extras.get("deliver_to")
        if recipient is None:
            return
        if request.form not in MAIL_FORMS:
            raise DeliveryRefused(request.form)
        # the rule by which SigningListener records who must sign, whichever listener runs
        # first in this transaction
        awaiting = bool(required_signers(request.decision))
        _queue(session, document, str(recipient), 1, self.clock, awaiting=awaiting)

    def signed(self, session: Session, document: Document) -> None:
        now = self.clock()
        waiting = session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.document_id == document.id,
                OutboxMessage.status == MailStatus.AWAITING_SIGNATURES,
            ).order_by(OutboxMessage.sequence).with_for_update()
        )
        for row in waiting:
            row.status = MailStatus.QUEUED
            row.next_attempt_at = now
            audit.append(session, "mail_released", document,
                         {"outbox_id": str(row.id), "sequence": row.sequence}, self.clock)


def _queue(
    session: Session, document: Document, recipient: str, sequence: int, clock: Clock,
    *, awaiting: bool,
) -> OutboxMessage:
    now = clock()
    row = OutboxMessage(
        id=uuid.uuid4(), document_id=document.id, sequence=sequence, recipient=recipient,
        status=MailStatus.AWAITING_SIGNATURES if awaiting else MailStatus.QUEUED,
        attempts=0, next_attempt_at=now, created_at=now,
    )
    session.add(row)
    event = "mail_queued" if sequence == 1 else "mail_resend"
    payload: dict[str, object] = {"outbox_id": str(row.id), "sequence": sequence}
    if awaiting:
        payload["status"] = row.status.value
    audit.append(session, event, document, payload, clock)
    return row


# --------------------------------------------------------------------------- the message

# subject, body, and the body's sentence about the .p7s (only when one is attached)
_TEXTS = {
    "kk": (
        "Аттестаттау комиссиясы отырысының хаттамасынан үзінді, {number}",
        "Құрметті әріптес!\n\n"
        "Аттестаттау комиссиясы отырысының хаттамасынан үзінді осы хатқа қоса беріліп отыр "
        "(PDF).\nТіркеу нөмірі: {number}\n{signature}"
        "Құжаттың түпнұсқалығын мына сілтеме арқылы тексеруге болады:\n{verify_url}\n\n"
        "Бұл хат автоматты түрде жіберілді, оған жауап берудің қажеті жоқ.\n",
        "Қоса берілген {number}.p7s файлы — осы құжаттың электрондық цифрлық қолтаңбасы.\n",
    ),
    "ru": (
        "Выписка из протокола заседания аттестационной комиссии, {number}",
        "Уважаемый коллега!\n\n"
        "К этому письму приложена выписка из протокола заседания аттестационной комиссии "
        "(PDF).\nРегистрационный номер: {number}\n{signature}"
        "Подлинность документа можно проверить по ссылке:\n{verify_url}\n\n"
        "Письмо отправлено автоматически, отвечать на него не нужно.\n",
        "Приложенный файл {number}.p7s — электронная цифровая подпись этого документа.\n",
    ),
}


@dataclass(frozen=True, slots=True)
class Claimed:
    """A message claimed for one attempt, with what composing it needs."""

    id: uuid.UUID
    document_id: uuid.UUID
    sequence: int
    attempt: int
    recipient: str
    registration_number: str
    language: str
    pdf_sha256: str
    verify_url: str
    signatures: tuple[str, ...] = ()  # the stored CMS of a signed document's signers


def message_id(outbox_id: uuid.UUID, domain: str) -> str:
    return f"<{outbox_id}@{domain}>"


def compose(
    claimed: Claimed, pdf: bytes, smtp: SmtpSettings, now: dt.datetime,
    p7s: bytes | None = None,
) -> EmailMessage:
    """The e-mail: a text in the document's language, the PDF and, for a signed document,
    its detached signature `p7s` (named so in the text)."""
    subject, body, signature = _TEXTS.get(claimed.language, _TEXTS["kk"])
    values = {"number": claimed.registration_number, "verify_url": claimed.verify_url}
    values["signature"] = "" if p7s is None else signature.format(**values)
    message = EmailMessage(policy=email.policy.SMTP)
    message["From"] = smtp.sender
    message["To"] = claimed.recipient
    message["Subject"] = subject.format(**values)
    message["Date"] = email.utils.format_datetime(now)
    message["Message-ID"] = message_id(claimed.id, smtp.domain)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(body.format(**values), cte="base64")
    message.add_attachment(pdf, maintype="application", subtype="pdf",
                           filename=f"{claimed.registration_number}.pdf")
    if p7s is not None:
        message.add_attachment(p7s, maintype="application", subtype="pkcs7-signature",
                               filename=f"{claimed.registration_number}.p7s")
    # after the parts: set_content and the move to multipart take Content-* headers away
    message["Content-Language"] = claimed.language
    return message


# --------------------------------------------------------------------------- SMTP


@dataclass(frozen=True, slots=True)
class Outcome:
    kind: str  # "sent" | "retry" | "rejected" | "in_doubt"
    error: str | None = None
    smtp_code: int | None = None


def _reply(code: int, text: bytes | str) -> Outcome:
    reply = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    kind = "rejected" if code >= 500 else "retry"
    return Outcome(kind, f"{code} {reply}"[:500], code)


def transmit(smtp: SmtpSettings, message: EmailMessage) -> Outcome:
    """One SMTP transaction. Anything that fails before DATA delivered nothing (retry or
    reject); a failure inside DATA other than the server's own refusal is in doubt."""
    recipient = str(message["To"])
    try:
        client = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
    except (OSError, smtplib.SMTPException) as error:
        return Outcome("retry", f"cannot connect to {smtp.host}:{smtp.port}: {error}"[:500])
    try:
        try:
            client.ehlo()
            if smtp.starttls:
                client.starttls(context=ssl.create_default_context())
                client.ehlo()
            if smtp.user:
                client.login(smtp.user, smtp.password)
            code, text = client.mail(smtp.sender)
            if code != 250:
                return _reply(code, text)
            code, text = client.rcpt(recipient)
            if code not in (250, 251):
                return _reply(code, text)
        except smtplib.SMTPResponseException as error:
            return _reply(error.smtp_code, error.smtp_error)
        except (OSError, smtplib.SMTPException, UnicodeError) as error:
            return Outcome("retry", f"SMTP failed before DATA: {error}"[:500])
        # from here on the server may hold the message even if we never hear it say so
        try:
            client.data(message.as_bytes())
        except smtplib.SMTPDataError as error:  # the server answered no: nothing delivered
            return _reply(error.smtp_code, error.smtp_error)
        except (OSError, smtplib.SMTPException) as error:
            return Outcome("in_doubt", f"connection lost during DATA: {error}"[:500])
        return Outcome("sent")
    finally:
        try:
            client.quit()
        except (OSError, smtplib.SMTPException):
            client.close()


# --------------------------------------------------------------------------- the sender


@dataclass(frozen=True, slots=True)
class SendReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    in_doubt: int = 0
    stuck: tuple[uuid.UUID, ...] = ()  # `sending` rows whose lease ran out: need a resend


class NothingToResend(LookupError):
    code = "mail_nothing_to_resend"


class ResendRefused(RuntimeError):
    """The last message of the document is still queued or being sent."""

    code = "mail_still_pending"


class ResendAwaitingSignatures(ResendRefused):
    """The last message of the document still waits for its signatures: it leaves by itself
    once the document is signed."""

    code = "mail_awaiting_signatures"


class MailDocumentNotFound(LookupError):
    pass


@dataclass(frozen=True, slots=True)
class MessageView:
    id: uuid.UUID
    document_id: uuid.UUID
    sequence: int
    status: MailStatus
    attempts: int
    next_attempt_at: dt.datetime
    lease_until: dt.datetime | None
    last_error: str | None
    created_at: dt.datetime
    sent_at: dt.datetime | None
    message_id: str

    def as_json(self) -> dict[str, Any]:
        def iso(moment: dt.datetime | None) -> str | None:
            return moment.isoformat() if moment else None

        return {
            "id": str(self.id),
            "document_id": str(self.document_id),
            "sequence": self.sequence,
            "status": self.status.value,
            "attempts": self.attempts,
            "next_attempt_at": iso(self.next_attempt_at),
            "last_error": self.last_error,
            "created_at": iso(self.created_at),
            "sent_at": iso(self.sent_at),
            "message_id": self.message_id,
        }


def _ready(now: dt.datetime) -> Any:
    # never a document still waiting for a signature, whatever its message's state says (a
    # message queued by a release of qujat before `awaiting_signatures` leaves once signed)
    unsigned = exists().where(
        SigningState.document_id == OutboxMessage.document_id, SigningState.signed_at.is_(None)
    )
    return (
        select(OutboxMessage)
        .join(Document, Document.id == OutboxMessage.document_id)
        .where(
            OutboxMessage.status == MailStatus.QUEUED,
            OutboxMessage.next_attempt_at <= now,
            Document.status == DocumentStatus.ISSUED,
            Document.pdf_sha256.is_not(None),
            ~unsigned,
        )
    )


class MailSender:
    """Delivers the outbox. Every dependency, the clock included, comes by the constructor;
    `trust` is the signatures service's trust folder (its intermediate CAs go into the .p7s,
    as in GET /api/v1/documents/{id}.p7s); `after_transmit` is a failure point for tests
    (called after the SMTP transaction, before its outcome is recorded)."""

    def __init__(
        self,
        database: Database,
        store: ObjectStore,
        smtp: SmtpSettings,
        *,
        clock: Clock,
        public_base_url: str,
        trust: TrustFolder,
        hours: deadlines.WorkingHours = deadlines.DEFAULT_HOURS,
        after_transmit: Callable[[uuid.UUID, Outcome], None] | None = None,
    ) -> None:
        self.db = database
        self.store = store
        self.smtp = smtp
        self.clock = clock
        self.trust = trust
        self.public_base_url = public_base_url.rstrip("/")
        self.hours = hours
        self.after_transmit = after_transmit

    def send_pending(self, limit: int = MAX_PER_RUN) -> SendReport:
        """Send every message ready now (at most `limit`), one at a time."""
        counts = {"sent": 0, "retry": 0, "rejected": 0, "in_doubt": 0}
        for _ in range(limit):
            if not self._any_ready():
                break
            started = time.perf_counter()
            claimed = self._claim()
            if claimed is None:
                break
            outcome = self._attempt(claimed)
            if self.after_transmit is not None:
                self.after_transmit(claimed.id, outcome)
            result = self._record(claimed, outcome)
            counts[result] += 1
            logs.job("mail", result, started, outbox_id=str(claimed.id),
                     document_id=str(claimed.document_id), attempt=claimed.attempt)
        return SendReport(counts["sent"], counts["retry"], counts["rejected"],
                          counts["in_doubt"], tuple(self.stuck()))

    def stuck(self) -> list[uuid.UUID]:
        """Messages left `sending` by a sender that stopped: delivered or not, nobody knows."""
        with self.db.read() as session:
            return list(session.scalars(
                select(OutboxMessage.id).where(
                    OutboxMessage.status == MailStatus.SENDING,
                    OutboxMessage.lease_until < self.clock(),
                ).order_by(OutboxMessage.created_at)
            ))

    def _any_ready(self) -> bool:
        with self.db.read() as session:
            return bool(session.scalar(select(exists(_ready(self.clock()).subquery()))))

    def _claim(self) -> Claimed | None:
        now = self.clock()
        with self.db.write() as session:
            row = session.scalars(
                _ready(now).order_by(OutboxMessage.next_attempt_at).limit(1)
                .with_for_update(skip_locked=True, of=OutboxMessage)
            ).first()
            if row is None:
                return None
            document = session.get(Document, row.document_id)
            assert document is not None
            assert document.pdf_sha256 is not None
            row.status = MailStatus.SENDING
            row.attempts += 1
            row.lease_until = now + LEASE
            audit.append(session, "mail_sending", document,
                         {"outbox_id": str(row.id), "attempt": row.attempts}, self.clock)
            return Claimed(
                row.id, document.id, row.sequence, row.attempts, row.recipient,
                document.registration_number, document.language, document.pdf_sha256,
                f"{self.public_base_url}/verify/{document.registration_number}"
                f"?t={document.verify_token}",
                signed_cms(session, document.id) or (),
            )

    def _attempt(self, claimed: Claimed) -> Outcome:
        try:
            pdf = self.store.get(claimed.pdf_sha256)
            p7s = (combine_stored(self.store, self.trust, claimed.signatures)
                   if claimed.signatures else None)
            message = compose(claimed, pdf, self.smtp, self.clock(), p7s)
        except Exception as error:  # nothing was sent: try again later
            log.exception("cannot compose the e-mail of %s", claimed.registration_number)
            return Outcome("retry", f"cannot compose: {error}"[:500])
        return transmit(self.smtp, message)

    def _record(self, claimed: Claimed, outcome: Outcome) -> str:
        now = self.clock()
        with self.db.write() as session:
            row = session.get(OutboxMessage, claimed.id, with_for_update=True)
            document = session.get(Document, claimed.document_id)
            assert row is not None
            assert document is not None
            if row.status != MailStatus.SENDING or row.attempts != claimed.attempt:
                log.error("outbox %s changed while it was being sent", row.id)
                return "in_doubt"
            payload: dict[str, object] = {"outbox_id": str(row.id), "attempt": row.attempts}
            kind = outcome.kind
            if kind == "sent":
                row.status = MailStatus.SENT
                row.sent_at = now
                row.lease_until = None
                row.last_error = None
                deadlines.mark_met(session, document.id, now)
                payload["message_id"] = message_id(row.id, self.smtp.domain)
                event = "mail_sent"
            elif kind == "in_doubt":
                row.last_error = outcome.error  # stays `sending`: never retried by itself
                payload["error"] = outcome.error
                event = "mail_in_doubt"
            else:
                row.last_error = outcome.error
                row.lease_until = None
                final = kind == "rejected" or row.attempts >= MAX_ATTEMPTS
                if final:
                    row.status = MailStatus.FAILED
                    kind = "rejected"
                else:
                    row.status = MailStatus.QUEUED
                    row.next_attempt_at = now + backoff(row.attempts)
                    payload["retry_at"] = audit.timestamp(row.next_attempt_at)
                payload.update(error=outcome.error, final=final)
                event = "mail_failed"
            audit.append(session, event, document, payload, self.clock)
            return kind

    # -- explicit actions

    def resend(self, document_id: uuid.UUID, organisation_id: int | None = None) -> MessageView:
        """Queue the document's e-mail again, to the same address: NothingToResend if it
        never had one, ResendAwaitingSignatures while the last one waits for signatures,
        ResendRefused while it is queued or within its lease. A message in doubt (its sender
        stopped mid-send) is closed as failed first. The new one waits for signatures if
        the document still does."""
        now = self.clock()
        with self.db.write() as session:
            document = session.get(Document, document_id, with_for_update=True)
            if document is None or (
                organisation_id is not None and document.organisation_id != organisation_id
            ):
                raise MailDocumentNotFound(str(document_id))
            last = session.scalars(
                select(OutboxMessage).where(OutboxMessage.document_id == document_id)
                .order_by(OutboxMessage.sequence.desc()).limit(1).with_for_update()
            ).first()
            if last is None:
                raise NothingToResend(str(document_id))
            if last.status == MailStatus.AWAITING_SIGNATURES:
                raise ResendAwaitingSignatures(str(document_id))
            if last.status == MailStatus.QUEUED or (
                last.status == MailStatus.SENDING
                and last.lease_until is not None and last.lease_until >= now
            ):
                raise ResendRefused(str(document_id))
            if last.status == MailStatus.SENDING:
                last.status = MailStatus.FAILED
                last.last_error = "in doubt: its sender stopped during the SMTP transaction; " \
                    "replaced by an explicit resend"
                last.lease_until = None
            row = _queue(session, document, last.recipient, last.sequence + 1, self.clock,
                         awaiting=awaiting_signatures(session, document_id))
            session.flush()
            return self._view(row)

    def messages(
        self, document_id: uuid.UUID, organisation_id: int | None = None
    ) -> list[MessageView]:
        with self.db.read() as session:
            document = session.get(Document, document_id)
            if document is None or (
                organisation_id is not None and document.organisation_id != organisation_id
            ):
                raise MailDocumentNotFound(str(document_id))
            rows = session.scalars(
                select(OutboxMessage).where(OutboxMessage.document_id == document_id)
                .order_by(OutboxMessage.sequence)
            )
            return [self._view(row) for row in rows]

    def counts(self) -> dict[str, int]:
        with self.db.read() as session:
            rows = session.execute(
                select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
            ).all()
        return {status.value: count for status, count in rows}

    def _view(self, row: OutboxMessage) -> MessageView:
        return MessageView(
            row.id, row.document_id, row.sequence, row.status, row.attempts,
            row.next_attempt_at, row.lease_until, row.last_error, row.created_at, row.sent_at,
            message_id(row.id, self.smtp.domain),
        )


# --------------------------------------------------------------------------- the worker


class MailWorker(Periodic):
    """Runs `send_pending` every `interval` seconds until stopped."""

    name = "qujat-mail"

    def __init__(self, sender: MailSender, interval: float = 5.0) -> None:
        super().__init__(interval)
        self.sender = sender

    def step(self) -> None:
        report = self.sender.send_pending()
        if report.sent or report.retrying or report.failed or report.in_doubt:
            log.info("mail: %s", report)


def sender_for(settings: Settings, store: ObjectStore, clock: Clock,
               database: Database | None = None, trust: TrustFolder | None = None
               ) -> MailSender:
    return MailSender(
        database or Database(settings.database_url),
        store,
        SmtpSettings.of(settings),
        clock=clock,
        public_base_url=settings.public_base_url,
        trust=trust or TrustFolder(settings.trust_dir, fetch=settings.revocation_fetch),
        hours=settings.working_hours,
    )

