"""Each document's deadline in Kazakh working days, and the calendar's overrides table.

Which clock a document runs on, and what starts it (p. 20, p. 23):

    form                      kind          starts when                          working days
    acceptance, refusal (6,7) notice        the application was received          1
                                            (`application_received_at`; without
                                            it, when the notice was registered)
    extract, heads_extract    delivery      the decision was made (the session's  3
      (with `deliver_to`)                   date, at the opening of working hours)
    protocol, heads_protocol  publication   the decision was made (session date)  15

The due time is `WorkingCalendar.due` (see service.deadlines.workdays for the counting rule)
with the `calendar_overrides` table applied. A deadline is *met* when its obligation is
done: a notice at its own `sent_at` (known when it is registered, so a late notice is late
from birth); an extract when its e-mail is sent (service.mail.outbox), which waits for the
secretary's signature while the clock keeps running from the session; a protocol's list when
someone says it was published (`qujat deadlines met`). An extract without `deliver_to` is
handed over by the platform, which qujat cannot see, so it gets no deadline here.

Status, at a moment `now`: *due* (open, not yet past its time), *overdue* (open, past it),
*late* (met, but after its time), *met* (in time). Changing an override recomputes the due
time of every open deadline; met ones keep the time they were judged by.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from service.deadlines.models import CalendarOverride, Deadline, DeadlineKind
from service.deadlines.workdays import ALMATY, WorkingCalendar
from service.forms.decisions import Acceptance, Clock, Decision, Refusal
from service.forms.vocabulary import Form
from service.registry import audit
from service.registry.models import AuditEntry, Document, Organisation

if TYPE_CHECKING:
    from service.registry.issuing import IssueRequest

NOTICE_DAYS = 1
DELIVERY_DAYS = 3
PUBLICATION_DAYS = 15
LIST_LIMIT = 5000

WorkingHours = tuple[dt.time, dt.time]
DEFAULT_HOURS: WorkingHours = (dt.time(9), dt.time(18))


class DeadlineStatus(StrEnum):
    DUE = "due"
    OVERDUE = "overdue"
    LATE = "late"
    MET = "met"


# --------------------------------------------------------------------------- the calendar


def calendar(session: Session, hours: WorkingHours = DEFAULT_HOURS) -> WorkingCalendar:
    """The working calendar with the database's overrides (a small table: read every time)."""
    rows = session.execute(select(CalendarOverride.day, CalendarOverride.working)).all()
    return WorkingCalendar(
        days_off=[day for day, working in rows if not working],
        working_days=[day for day, working in rows if working],
        opens=hours[0],
        closes=hours[1],
    )


def set_override(
    session: Session, day: dt.date, working: bool, clock: Clock,
    hours: WorkingHours = DEFAULT_HOURS,
) -> int:
    """Make `day` a working day or a day off (replacing an earlier override of that day),
    write it to the audit trail, and recompute open deadlines; returns how many moved."""
    row = session.get(CalendarOverride, day, with_for_update=True)
    if row is None:
        session.add(CalendarOverride(day=day, working=working, created_at=clock()))
    else:
        row.working = working
        row.created_at = clock()
    session.flush()
    moved = recompute_open(session, calendar(session, hours))
    audit.append(
        session,
        "calendar_override",
        None,
        {"day": day.isoformat(), "working": working, "deadlines_moved": moved},
        clock,
    )
    return moved


def overrides(session: Session) -> list[CalendarOverride]:
    return list(session.scalars(select(CalendarOverride).order_by(CalendarOverride.day)))


def recompute_open(session: Session, working: WorkingCalendar) -> int:
    moved = 0
    for row in session.scalars(
        select(Deadline).where(Deadline.met_at.is_(None)).with_for_update()
    ):
        due = working.due(row.starts_at, row.working_days)
        if due != row.due_at:
            row.due_at = due
            moved += 1
    return moved


# --------------------------------------------------------------------------- clocks


@dataclass(frozen=True, slots=True)
class ClockStart:
    kind: DeadlineKind
    start_event: str
    starts_at: dt.datetime
    working_days: int
    met_at: dt.datetime | None = None


def clock_of(
    form: Form, decision: Decision, created_at: dt.datetime, extras: dict[str, Any],
    hours: WorkingHours = DEFAULT_HOURS,
) -> ClockStart | None:
    """The clock a new document runs on, or None if the act sets it none."""
    if isinstance(decision, Acceptance | Refusal):
        received = decision.application_received_at
        return ClockStart(
            DeadlineKind.NOTICE,
            "application_received" if received else "document_created",
            received or created_at,
            NOTICE_DAYS,
            met_at=decision.sent_at,
        )
    session_day = getattr(getattr(decision, "session", None), "date", None)
    if session_day is None:
        return None
    decided = dt.datetime.combine(session_day, hours[0], tzinfo=ALMATY)
    if form in (Form.EXTRACT, Form.HEADS_EXTRACT):
        if extras.get("deliver_to") is None:
            return None
        return ClockStart(DeadlineKind.DELIVERY, "decision_made", decided, DELIVERY_DAYS)
    if form in (Form.PROTOCOL, Form.HEADS_PROTOCOL):
        return ClockStart(DeadlineKind.PUBLICATION, "decision_made", decided, PUBLICATION_DAYS)
    return None


class DeadlineListener:
    """Records a new document's deadline in the transaction that numbers it."""

    def __init__(self, hours: WorkingHours = DEFAULT_HOURS) -> None:
        self.hours = hours

    def created(self, session: Session, document: Document, request: IssueRequest) -> None:
        start = clock_of(
            request.form, request.decision, document.created_at, dict(request.extras),
            self.hours,
        )
        if start is None:
            return
        due = calendar(session, self.hours).due(start.starts_at, start.working_days)
        session.add(Deadline(
            document_id=document.id,
            organisation_id=document.organisation_id,
            kind=start.kind,
            start_event=start.start_event,
            starts_at=start.starts_at,
            working_days=start.working_days,
            due_at=due,
            met_at=start.met_at,
        ))


def mark_met(session: Session, document_id: uuid.UUID, at: dt.datetime) -> bool:
    """The document's deadline is met at `at` (the first time only); False if it has none
    or it was already met."""
    row = session.get(Deadline, document_id, with_for_update=True)
    if row is None or row.met_at is not None:
        return False
    row.met_at = at
    return True


def _unnoticed_overdue(now: dt.datetime) -> Any:
    noticed = exists().where(AuditEntry.document_id == Deadline.document_id,
                             AuditEntry.event == "deadline_overdue")
    return select(Deadline).where(Deadline.met_at.is_(None), Deadline.due_at < now, ~noticed)


def record_overdue(session: Session, clock: Clock, limit: int = 500) -> int:
    """Write `deadline_overdue` to the audit trail, once, for each open deadline that is past
    its time (what webhooks announce as `deadline.overdue`); returns how many."""
    rows = session.scalars(
        _unnoticed_overdue(clock()).order_by(Deadline.due_at).limit(limit)
        .with_for_update(skip_locked=True, of=Deadline)
    ).all()
    for row in rows:
        audit.append_entry(session, "deadline_overdue", row.document_id,
                           {"kind": row.kind.value, "due_at": audit.timestamp(row.due_at)},
                           clock)
    return len(rows)


def any_unnoticed_overdue(session: Session, now: dt.datetime) -> bool:
    return session.scalar(select(exists(_unnoticed_overdue(now).subquery()))) is True


# --------------------------------------------------------------------------- listing


@dataclass(frozen=True, slots=True)
class DeadlineView:
    document_id: uuid.UUID
    registration_number: str
    form: Form
    organisation_code: str
    kind: DeadlineKind
    start_event: str
    starts_at: dt.datetime
    working_days: int
    due_at: dt.datetime
    met_at: dt.datetime | None
    status: DeadlineStatus

    def as_json(self) -> dict[str, Any]:
        return {
            "document": {
                "id": str(self.document_id),
                "registration_number": self.registration_number,
                "form": self.form.value,
            },
            "organisation": self.organisation_code,
            "kind": self.kind.value,
            "clock_started_by": {"event": self.start_event, "at": _local(self.starts_at)},
            "working_days": self.working_days,
            "due_at": _local(self.due_at),
            "met_at": _local(self.met_at) if self.met_at else None,
            "status": self.status.value,
        }


def _local(moment: dt.datetime) -> str:
    return moment.astimezone(ALMATY).isoformat()


def status_of(due_at: dt.datetime, met_at: dt.datetime | None, now: dt.datetime) -> DeadlineStatus:
    if met_at is None:
        return DeadlineStatus.DUE if now <= due_at else DeadlineStatus.OVERDUE
    return DeadlineStatus.MET if met_at <= due_at else DeadlineStatus.LATE


def list_deadlines(
    session: Session,
    now: dt.datetime,
    *,
    organisation_id: int | None = None,
    status: DeadlineStatus | None = None,
    limit: int = LIST_LIMIT,
) -> Sequence[DeadlineView]:
    """Deadlines that need attention, soonest first: with no `status`, every due, overdue
    and late one; an `organisation_id` narrows them to one attesting body."""
    query = (
        select(Deadline, Document.registration_number, Document.form, Organisation.code)
        .join(Document, Document.id == Deadline.document_id)
        .join(Organisation, Organisation.id == Deadline.organisation_id)
    )
    if organisation_id is not None:
        query = query.where(Deadline.organisation_id == organisation_id)
    if status == DeadlineStatus.DUE:
        query = query.where(Deadline.met_at.is_(None), Deadline.due_at >= now)
    elif status == DeadlineStatus.OVERDUE:
        query = query.where(Deadline.met_at.is_(None), Deadline.due_at < now)
    elif status == DeadlineStatus.LATE:
        query = query.where(Deadline.met_at > Deadline.due_at)
    elif status == DeadlineStatus.MET:
        query = query.where(Deadline.met_at <= Deadline.due_at)
    else:
        query = query.where(or_(Deadline.met_at.is_(None), Deadline.met_at > Deadline.due_at))
    query = query.order_by(Organisation.code, Deadline.due_at, Document.registration_number)
    return [
        DeadlineView(
            row.document_id, number, form, code, row.kind, row.start_event, row.starts_at,
            row.working_days, row.due_at, row.met_at, status_of(row.due_at, row.met_at, now),
        )
        for row, number, form, code in session.execute(query.limit(limit)).all()
    ]
