"""E-mail to signers: the invitation, then reminders to those who have not signed.

A signer is *late* once QUJAT_SIGNING_REMINDER_DAYS working days (1 by default; the
calendar of service.deadlines.workdays) have passed since their invitation, or since their
last reminder, without their signature. `remind` sends each late signer who has an address
one reminder, at most QUJAT_SIGNING_REMINDER_MAX times per invitation (3 by default). The
token is stored hashed, so a reminder cannot repeat the old link: it carries a fresh one and
the old one stops working. Run by `qujat invitations remind` and by the loop of `qujat serve`.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
import smtplib
import ssl
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.message import EmailMessage

from sqlalchemy import select

from service.core.config import Settings
from service.core.db import Database
from service.deadlines.workdays import WorkingCalendar
from service.forms.decisions import Clock
from service.invitations.links import reissue
from service.invitations.models import Invitation
from service.mail.outbox import SmtpSettings
from service.registry import audit
from service.registry.models import Document
from service.signatures.models import SignatureRecord, SignatureRequirement, SigningState

log = logging.getLogger(__name__)

_SUBJECT = {
    "invitation": "Хаттамаға қол қою / Подписание протокола {number}",
    "reminder": "Еске салу: хаттамаға қол қою / Напоминание: подписание протокола {number}",
}
_BODY = (
    "{name},\n\n"
    "{number} құжатына қол қою үшін сілтемені ашыңыз (NCALayer қажет):\n"
    "Чтобы подписать документ {number}, откройте ссылку (нужен NCALayer):\n\n"
    "{url}\n\n"
    "Сілтеме {expires} дейін жарамды. / Ссылка действует до {expires}.\n"
)


@dataclass(frozen=True, slots=True)
class Mailer:
    """One plain-text e-mail per call, through the same SMTP settings as the outbox."""

    smtp: SmtpSettings
    base_url: str

    @classmethod
    def of(cls, settings: Settings) -> Mailer:
        return cls(SmtpSettings.of(settings), settings.public_base_url)

    def invitation(self, invitation: Invitation, name: str, url: str, *,
                   kind: str = "invitation", number: str = "") -> bool:
        """Send; True when the server accepted it (a failure is logged, the link stands)."""
        assert invitation.email is not None
        message = EmailMessage()
        message["From"] = self.smtp.sender
        message["To"] = invitation.email
        message["Subject"] = _SUBJECT[kind].format(number=number).strip()
        message["Message-ID"] = f"<{uuid.uuid4()}@{self.smtp.domain}>"
        message["Date"] = email.utils.formatdate(localtime=False)
        message.set_content(_BODY.format(name=name, number=number, url=url,
                                         expires=invitation.expires_at.date().isoformat()))
        try:
            with smtplib.SMTP(self.smtp.host, self.smtp.port, timeout=self.smtp.timeout) as client:
                if self.smtp.starttls:
                    client.starttls(context=ssl.create_default_context())
                if self.smtp.user:
                    client.login(self.smtp.user, self.smtp.password)
                client.send_message(message)
        except (OSError, smtplib.SMTPException) as error:
            log.warning("invitation e-mail to signer not sent: %s", error)
            return False
        return True


@dataclass(frozen=True, slots=True)
class LateSigner:
    document_id: uuid.UUID
    iin: str
    name: str
    role: str
    invited_at: dt.datetime
    reminders_sent: int
    working_days: int


class Reminders:
    def __init__(
        self,
        database: Database,
        mailer: Mailer,
        calendar: WorkingCalendar,
        *,
        clock: Clock,
        after_days: int,
        at_most: int,
        lifetime: dt.timedelta,
    ) -> None:
        self.db = database
        self.lifetime = lifetime
        self.mailer = mailer
        self.calendar = calendar
        self.clock = clock
        self.after_days = after_days
        self.at_most = at_most

    def _waited(self, since: dt.datetime, now: dt.datetime) -> int:
        return self.calendar.working_days_between(
            self.calendar.start_day(since), now.astimezone(self.calendar.tz).date()
        )

    def late(self, document_id: uuid.UUID) -> list[LateSigner]:
        """The invited signers of `document_id` who have not signed after the reminder delay."""
        now = self.clock()
        with self.db.read() as session:
            state = session.get(SigningState, document_id)
            if state is None or state.signed_at is not None:
                return []
            signed = set(session.scalars(
                select(SignatureRecord.iin).where(SignatureRecord.document_id == document_id)))
            required = {r.iin: r for r in session.scalars(
                select(SignatureRequirement).where(SignatureRequirement.document_id == document_id)
            )}
            invited: dict[str, tuple[dt.datetime, int]] = {}  # first invitation, reminders
            for row in session.scalars(select(Invitation).where(
                    Invitation.document_id == document_id).order_by(Invitation.created_at)):
                since, reminders = invited.get(row.iin, (row.created_at, 0))
                invited[row.iin] = (since, reminders + row.reminders_sent)
        found = []
        for iin, (since, reminders) in invited.items():
            if iin in signed or iin not in required:
                continue
            waited = self._waited(since, now)  # a new link does not reset how late one is
            if waited >= self.after_days:
                found.append(LateSigner(document_id, iin, required[iin].name,
                                        required[iin].role, since, reminders, waited))
        return found

    def remind(self) -> int:
        """Send every due reminder once; how many were sent."""
        now = self.clock()
        sent = 0
        with self.db.read() as session:
            candidates = [row.id for row in session.scalars(select(Invitation).where(
                Invitation.revoked_at.is_(None), Invitation.used_at.is_(None),
                Invitation.email.is_not(None), Invitation.reminders_sent < self.at_most,
            ))]
        for invitation_id in candidates:
            with self.db.write() as session:
                row = session.get(Invitation, invitation_id, with_for_update=True)
                if row is None or row.revoked_at is not None or row.used_at is not None:
                    continue
                state = session.get(SigningState, row.document_id)
                if state is None or state.signed_at is not None:
                    continue
                if session.get(SignatureRecord, (row.document_id, row.iin)) is not None:
                    continue
                if self._waited(row.last_reminded_at or row.created_at, now) < self.after_days:
                    continue
                requirement = session.get(SignatureRequirement, (row.document_id, row.iin))
                document = session.get(Document, row.document_id)
                assert requirement is not None
                assert document is not None
                token = reissue(row, now, self.lifetime)
                url = f"{self.mailer.base_url}/sign/{token}"
                if not self.mailer.invitation(row, requirement.name, url, kind="reminder",
                                              number=document.registration_number):
                    session.rollback()  # the old link stays, the reminder is tried next pass
                    continue
                row.reminders_sent += 1
                row.last_reminded_at = now
                audit.append(session, "signer_reminded", document,
                             {"invitation": str(row.id), "reminder": row.reminders_sent},
                             self.clock)
                sent += 1
        return sent


def reminders_of(database: Database, settings: Settings, clock: Clock) -> Reminders:
    """Reminders on the working calendar as the database has it now (its overrides)."""
    from service.deadlines.rules import calendar

    with database.read() as session:
        days = calendar(session, settings.working_hours)
    return Reminders(database, Mailer.of(settings), days, clock=clock,
                     after_days=settings.signing_reminder_days,
                     at_most=settings.signing_reminder_max,
                     lifetime=dt.timedelta(days=settings.invitation_days))


def late_json(late: Sequence[LateSigner]) -> list[dict[str, object]]:
    return [{"name": s.name, "role": s.role, "invited_at": s.invited_at.isoformat(),
             "working_days": s.working_days, "reminders_sent": s.reminders_sent}
            for s in late]


class ReminderWorker:
    """Runs a reminder pass every `interval` seconds in a daemon thread until stopped (the
    calendar is read again each pass, so a moved day off counts at once)."""

    def __init__(self, passes: Callable[[], Reminders], interval: float = 600.0) -> None:
        self.passes = passes
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run(self) -> None:
        while not self._stop.is_set():
            try:
                sent = self.passes().remind()
                if sent:
                    log.info("signing reminders: %d sent", sent)
            except Exception:  # a database hiccup must not end the loop
                log.exception("signing reminder pass failed")
            self._stop.wait(self.interval)

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="qujat-reminders", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
