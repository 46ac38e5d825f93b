"""`qujat calendar …`, `qujat deadlines …` and `qujat mail …`."""

from __future__ import annotations

import datetime as dt
import sys
import uuid
from typing import TYPE_CHECKING, Any

import click

from service.cli.common import load_settings, open_database, run_until_stopped

if TYPE_CHECKING:
    from service.core.config import Settings
    from service.core.db import Database
    from service.mail.outbox import MailSender

STATUSES = ("due", "overdue", "late", "met")


def _day(_ctx: Any, _param: Any, value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"not a date YYYY-MM-DD: {value!r}") from None


# --------------------------------------------------------------------------- calendar


@click.group("calendar")
def calendar_group() -> None:
    """The working-day calendar's overrides (days the government's decree moved)."""


def _set_override(day: dt.date, working: bool) -> None:
    from service.deadlines.rules import set_override
    from service.forms.decisions import system_clock

    settings = load_settings()
    database = open_database(settings)
    try:
        with database.write() as session:
            moved = set_override(session, day, working, system_clock, settings.working_hours)
    finally:
        database.dispose()
    what = "a working day" if working else "a day off"
    click.echo(f"{day.isoformat()} is {what}; {moved} open deadline(s) recomputed")


@calendar_group.command("add-day-off")
@click.argument("day", callback=_day)
def add_day_off(day: dt.date) -> None:
    """Make DAY (YYYY-MM-DD) a day off, e.g. a weekday the decree moved a rest day to."""
    _set_override(day, working=False)


@calendar_group.command("add-working-day")
@click.argument("day", callback=_day)
def add_working_day(day: dt.date) -> None:
    """Make DAY (YYYY-MM-DD) a working day, e.g. a Saturday the decree made working."""
    _set_override(day, working=True)


@calendar_group.command("list")
def calendar_list() -> None:
    """List the overrides, oldest day first."""
    from service.deadlines.rules import overrides

    database = open_database(load_settings())
    try:
        with database.read() as session:
            rows = [(row.day, row.working) for row in overrides(session)]
    finally:
        database.dispose()
    for day, working in rows:
        click.echo(f"{day.isoformat()}\t{'working day' if working else 'day off'}")
    click.echo(f"{len(rows)} override(s)")


# --------------------------------------------------------------------------- deadlines


@click.group("deadlines", invoke_without_command=True)
@click.option("--status", type=click.Choice(STATUSES),
              help="Only these; by default every due, overdue and late deadline.")
@click.option("--org", "org_code", help="Only this attesting body's documents.")
@click.pass_context
def deadlines_group(ctx: click.Context, status: str | None, org_code: str | None) -> None:
    """What is due and what is late, per attesting body (Asia/Almaty times)."""
    if ctx.invoked_subcommand is not None:
        return
    from sqlalchemy import select

    from service.deadlines.rules import DeadlineStatus, list_deadlines
    from service.forms.decisions import system_clock
    from service.registry.models import Organisation

    database = open_database(load_settings())
    try:
        with database.read() as session:
            organisation_id = None
            if org_code is not None:
                organisation_id = session.scalar(
                    select(Organisation.id).where(Organisation.code == org_code)
                )
                if organisation_id is None:
                    raise click.BadParameter(f"no organisation {org_code!r}",
                                             param_hint="--org")
            found = list_deadlines(
                session, system_clock(), organisation_id=organisation_id,
                status=DeadlineStatus(status) if status else None,
            )
    finally:
        database.dispose()
    current = None
    for item in found:
        if item.organisation_code != current:
            current = item.organisation_code
            click.echo(current)
        line = item.as_json()
        met = f"\tmet {line['met_at'][:16]}" if line["met_at"] else ""
        click.echo(
            f"  {item.status.value:<8} {item.registration_number}  {item.form.value:<14}"
            f"{item.kind.value:<12} due {line['due_at'][:16]}{met}"
        )
    click.echo(f"{len(found)} deadline(s)")


@deadlines_group.command("met")
@click.argument("document_id", type=click.UUID)
def deadlines_met(document_id: uuid.UUID) -> None:
    """Record that DOCUMENT_ID's obligation was done now (e.g. the list was published); says
    whether that was in time ("met") or after the due time ("met late")."""
    from service.deadlines.models import Deadline
    from service.deadlines.rules import DeadlineStatus, mark_met, status_of
    from service.forms.decisions import ALMATY, system_clock
    from service.registry import audit
    from service.registry.models import Document

    database = open_database(load_settings())
    try:
        with database.write() as session:
            now = system_clock()
            document = session.get(Document, document_id)
            if document is None or not mark_met(session, document_id, now):
                raise click.ClickException(f"{document_id} has no open deadline")
            audit.append(session, "deadline_met", document, {"at": audit.timestamp(now)},
                         system_clock)
            deadline = session.get(Deadline, document_id)
            assert deadline is not None
            due_at = deadline.due_at
            judged = status_of(due_at, now, now)
            number = document.registration_number
    finally:
        database.dispose()
    state = "met late" if judged == DeadlineStatus.LATE else "met"
    due = due_at.astimezone(ALMATY).replace(tzinfo=None).isoformat(timespec="minutes")
    click.echo(f"{number}: deadline {state} (due {due}, Asia/Almaty)")


# --------------------------------------------------------------------------- mail


@click.group("mail")
def mail_group() -> None:
    """E-mail delivery of extracts (the outbox)."""


def _sender(settings: Settings, database: Database) -> MailSender:
    from service.forms.decisions import system_clock
    from service.mail.outbox import sender_for
    from service.registry.storage import open_store

    return sender_for(settings, open_store(settings, database), system_clock, database)


@mail_group.command("send-pending")
def mail_send_pending() -> None:
    """Send every message that is ready now, once; exit 1 if some are in doubt."""
    settings = load_settings()
    database = open_database(settings)
    try:
        report = _sender(settings, database).send_pending()
    finally:
        database.dispose()
    click.echo(f"sent {report.sent}, will retry {report.retrying}, failed {report.failed}, "
               f"in doubt {report.in_doubt}")
    for outbox_id in report.stuck:
        click.echo(f"IN DOUBT: message {outbox_id} stopped during sending; check the "
                   "mailbox, then `qujat mail resend DOCUMENT_ID` if it did not arrive",
                   err=True)
    if report.stuck:
        sys.exit(1)


@mail_group.command("worker")
@click.option("--interval", default=5.0, show_default=True, type=click.FloatRange(min=0.1),
              help="Seconds between two looks at the outbox.")
def mail_worker(interval: float) -> None:
    """Send the outbox continuously until stopped (SIGTERM or Ctrl-C)."""
    from service.mail.outbox import MailWorker
    from service.observability import logs

    logs.configure()
    settings = load_settings()
    database = open_database(settings)
    worker = MailWorker(_sender(settings, database), interval)
    click.echo(f"mail worker: {settings.smtp_host}:{settings.smtp_port}, every {interval}s")
    run_until_stopped(worker, database)


@mail_group.command("resend")
@click.argument("document_id", type=click.UUID)
def mail_resend(document_id: uuid.UUID) -> None:
    """Queue DOCUMENT_ID's e-mail again (to the same address); an explicit decision."""
    from service.core.messages import message
    from service.mail.outbox import MailDocumentNotFound, NothingToResend, ResendRefused

    settings = load_settings()
    database = open_database(settings)
    try:
        queued = _sender(settings, database).resend(document_id)
    except MailDocumentNotFound:
        raise click.ClickException(f"no document {document_id}") from None
    except (NothingToResend, ResendRefused) as error:
        raise click.ClickException(message(error.code, "en")) from None
    finally:
        database.dispose()
    click.echo(f"queued message {queued.id} (#{queued.sequence}) for {document_id}")
