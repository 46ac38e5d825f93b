"""Batch issuing: a commission session's decisions submitted as one job.

Life of an item
---------------
    queued ──claim──▶ running (lease_until) ──▶ done (document_id)
       ▲                 │                  └─▶ failed (problem)
       └── lease expired ┘  (reconciler: the worker died, or its message was lost)

1. `prepare_items` validates every item up front exactly as POST /api/v1/documents does; an
   invalid item is stored `failed` with the same problem details, the rest `queued`. Batch and
   items are stored in one transaction (`submit`), so a batch is all there or not at all.
2. `BatchWorker.issue_item(item_id)` is the task body, the same whichever executor runs it (a
   local process pool or a Celery worker): it claims the item with a lease, calls
   `Registry.issue` and records the outcome. `Registry.issue` is idempotent by decision_id, so
   an item that runs twice (a duplicate delivery, a worker killed after numbering, a lease
   that expired while the first worker was still busy) still has exactly one document and
   burns no number: the second run finds the first one's document, pending or issued.
3. `requeue_expired` puts items whose lease expired back in the queue; the local dispatcher
   runs it on its own timer, `qujat worker` in a thread beside Celery.

Counts are never stored: they are read from the item rows (`batch_status`), so they stay true
whatever crashed. A batch row gets `completed_at` (and the audit trail a `batch_completed`
entry) in the transaction that finishes its last item; finishing takes the batch row's lock,
so two workers finishing the last two items cannot both miss it.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import datetime as dt
import enum
import fcntl
import hashlib
import json
import logging
import multiprocessing
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal

from sqlalchemy import func, insert, select, update

from service.batches.models import Batch, BatchItem, BatchItemState
from service.core.config import SettingsError
from service.core.errors import MAX_LISTED_ERRORS
from service.forms.decisions import Clock, InvalidDecision, Violation, system_clock
from service.observability import logs
from service.registry import audit
from service.registry.issuing import (
    ISSUE_EXTRAS,
    DecisionConflict,
    Issued,
    Registry,
    issue_request,
    receipt,
)
from service.registry.models import Document, Organisation
from service.registry.tokens import Caller

if TYPE_CHECKING:
    from service.core.config import Settings
    from service.core.db import Database
    from service.core.errors import Problem

    ProblemOf = Callable[[BaseException], Problem | None]

log = logging.getLogger(__name__)

Executor = Literal["local", "celery"]
EXECUTORS: tuple[Executor, ...] = ("local", "celery")
DEFAULT_BROKER_URL = "redis://127.0.0.1:6379/0"
DEFAULT_QUEUE = "qujat.batches"
DEFAULT_MAX_ITEMS = 5000
# 5,000 items of about 1.5 KB each, with room for long names and reasons
DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024
UNFINISHED = (BatchItemState.QUEUED, BatchItemState.RUNNING)


def _positive(env: Mapping[str, str], name: str, default: float, *, integer: bool) -> Any:
    raw = env.get(name, "")
    if raw == "":
        return default
    try:
        value = int(raw) if integer else float(raw)
    except ValueError:
        kind = "an integer" if integer else "a number"
        raise SettingsError(f"{name} must be {kind}, got {raw!r}") from None
    if value <= 0:
        raise SettingsError(f"{name} must be positive, got {raw!r}")
    return value


@dataclass(frozen=True, slots=True)
class BatchSettings:
    """QUJAT_BATCH_* and QUJAT_BROKER_URL (see the README's configuration table)."""

    executor: Executor = "local"
    broker_url: str = DEFAULT_BROKER_URL
    queue: str = DEFAULT_QUEUE
    max_items: int = DEFAULT_MAX_ITEMS
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    processes: int = 2  # local executor: render processes per machine
    # longer than one document takes even on a loaded machine (a 500-row protocol: ~7 s), and
    # short enough that a killed worker's item comes back soon; a lease that runs out under a
    # worker still busy costs only work (the registry's decision_id idempotency), never a copy
    lease_seconds: float = 30.0
    reconcile_seconds: float = 5.0
    resend_seconds: float = 900.0  # celery: re-send items queued this long (lost messages)
    max_attempts: int = 5

    @property
    def lease(self) -> dt.timedelta:
        return dt.timedelta(seconds=self.lease_seconds)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> BatchSettings:
        env = os.environ if env is None else env
        executor = env.get("QUJAT_BATCH_EXECUTOR", "") or "local"
        if executor not in EXECUTORS:
            raise SettingsError(f"QUJAT_BATCH_EXECUTOR must be local or celery, not {executor!r}")
        return cls(
            executor=executor,
            broker_url=env.get("QUJAT_BROKER_URL", "") or DEFAULT_BROKER_URL,
            queue=env.get("QUJAT_BATCH_QUEUE", "") or DEFAULT_QUEUE,
            max_items=_positive(env, "QUJAT_BATCH_MAX_ITEMS", DEFAULT_MAX_ITEMS, integer=True),
            max_body_bytes=_positive(
                env, "QUJAT_BATCH_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES, integer=True
            ),
            processes=_positive(env, "QUJAT_BATCH_PROCESSES", 2, integer=True),
            lease_seconds=_positive(env, "QUJAT_BATCH_LEASE_SECONDS", 30.0, integer=False),
            reconcile_seconds=_positive(
                env, "QUJAT_BATCH_RECONCILE_SECONDS", 5.0, integer=False
            ),
            resend_seconds=_positive(env, "QUJAT_BATCH_RESEND_SECONDS", 900.0, integer=False),
            max_attempts=_positive(env, "QUJAT_BATCH_MAX_ATTEMPTS", 5, integer=True),
        )


# --------------------------------------------------------------------------- problems


@dataclass(frozen=True, slots=True)
class ItemProblem:
    """An item's problem details, stored as data; the reasons are worded when read."""

    status: int
    slug: str
    detail: str
    violations: tuple[Violation, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(
            {
                "status": self.status,
                "slug": self.slug,
                "detail": self.detail,
                "errors": [
                    {"pointer": v.pointer, "code": v.code, "params": dict(v.params)}
                    for v in self.violations
                ],
                "extra": dict(self.extra),
            },
            sort_keys=True,
            ensure_ascii=False,
            default=str,  # a date in a violation's parameters
        )

    @classmethod
    def from_json(cls, text: str) -> ItemProblem:
        data = json.loads(text)
        return cls(
            data["status"],
            data["slug"],
            data["detail"],
            tuple(Violation(e["pointer"], e["code"], e["params"]) for e in data["errors"]),
            data["extra"],
        )


def invalid_problem(violations: Iterable[Violation]) -> ItemProblem:
    """An invalid item's problem; only the violations an answer lists are stored, and the
    number of the others (see service.errors.MAX_LISTED_ERRORS)."""
    found = tuple(violations)
    omitted = len(found) - MAX_LISTED_ERRORS
    return ItemProblem(
        422, "invalid-decision", "The decision breaks its schema or the act's rules.",
        found[:MAX_LISTED_ERRORS], {"errors_omitted": omitted} if omitted > 0 else {},
    )


def conflict_problem(conflict: DecisionConflict) -> ItemProblem:
    existing = conflict.existing
    return ItemProblem(
        409,
        "decision-already-issued",
        f"The decision {existing.decision_id} was already issued as "
        f"{existing.registration_number} from a different request.",
        extra={"document": receipt(existing)},
    )


def attempts_problem(attempts: int) -> ItemProblem:
    return ItemProblem(
        500,
        "internal",
        "Issuing this item failed on every attempt; nothing was issued for it.",
        (Violation("", "batch_attempts_exhausted", {"attempts": attempts}),),
    )


# --------------------------------------------------------------------------- submitting


@dataclass(frozen=True, slots=True)
class PreparedItem:
    position: int
    decision_id: str | None
    request_json: str | None  # None when invalid
    problem: ItemProblem | None


def prepare_item(position: int, payload: Any, clock: Clock) -> PreparedItem:
    """One item, validated as POST /api/v1/documents validates its body."""
    from service.forms.decisions import parse_request

    decision_id = None
    if isinstance(payload, dict) and isinstance(payload.get("decision"), dict):
        raw_id = payload["decision"].get("decision_id")
        decision_id = raw_id if isinstance(raw_id, str) and len(raw_id) <= 128 else None
    try:
        form, language, _, decision = parse_request(payload, clock)
        if decision.decision_id is None:
            raise InvalidDecision(
                [Violation("/decision/decision_id", "required", {"field": "decision_id"})]
            )
    except InvalidDecision as error:
        return PreparedItem(position, decision_id, None, invalid_problem(error.violations))
    extras = {name: payload.get(name) for name in ISSUE_EXTRAS}
    request_ = issue_request(form, language, decision, payload["decision"], extras)
    return PreparedItem(position, request_.decision_id, request_.request_json, None)


def prepare_items(payloads: Sequence[Any], clock: Clock) -> list[PreparedItem]:
    """Every item validated; a decision_id seen earlier in the batch is refused."""
    prepared = [prepare_item(i, payload, clock) for i, payload in enumerate(payloads)]
    first: dict[str, int] = {}
    for i, item in enumerate(prepared):
        if item.problem is not None or item.decision_id is None:
            continue
        if item.decision_id in first:
            violation = Violation(
                "/decision/decision_id", "batch_duplicate_decision",
                {"index": first[item.decision_id]},
            )
            prepared[i] = PreparedItem(
                item.position, item.decision_id, None, invalid_problem([violation])
            )
        else:
            first[item.decision_id] = i
    return prepared


@dataclass(frozen=True, slots=True)
class Submitted:
    batch_id: uuid.UUID
    total: int
    failed: int
    queued: tuple[uuid.UUID, ...]


def body_digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def submit(
    database: Database,
    caller: Caller,
    items: Sequence[PreparedItem],
    body_sha256: str,
    clock: Clock,
) -> Submitted:
    """Store the batch and all its items in one transaction."""
    now = clock()
    batch_id = uuid.uuid4()
    rows = []
    queued = []
    for item in items:
        item_id = uuid.uuid4()
        valid = item.problem is None
        if valid:
            queued.append(item_id)
        rows.append({
            "id": item_id,
            "batch_id": batch_id,
            "position": item.position,
            "decision_id": item.decision_id,
            "request_json": item.request_json,
            "state": BatchItemState.QUEUED if valid else BatchItemState.FAILED,
            "attempts": 0,
            "enqueued_at": now,
            "lease_until": None,
            "document_id": None,
            "problem": None if item.problem is None else item.problem.to_json(),
            "finished_at": None if valid else now,
        })
    failed = len(items) - len(queued)
    with database.write() as session:
        batch = Batch(
            id=batch_id,
            organisation_id=caller.organisation_id,
            token_id=caller.token_id,
            total=len(items),
            body_sha256=body_sha256,
            created_at=now,
            completed_at=None if queued else now,
        )
        session.add(batch)
        session.flush()
        if rows:
            session.execute(insert(BatchItem), rows)
        audit.append(
            session,
            "batch_submitted",
            None,
            {"batch": str(batch_id), "organisation": caller.organisation_code,
             "total": len(items), "queued": len(queued), "failed": failed,
             "body_sha256": body_sha256},
            clock,
        )
        if not queued:
            _audit_completed(session, batch, clock)
    return Submitted(batch_id, len(items), failed, tuple(queued))


# --------------------------------------------------------------------------- issuing


class Outcome(enum.StrEnum):
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"  # done, failed or leased by another worker already
    RETRY = "retry"  # failed unexpectedly; back in the queue for another attempt


@dataclass(frozen=True, slots=True)
class Claim:
    item_id: uuid.UUID
    batch_id: uuid.UUID
    position: int
    request_json: str
    caller: Caller
    submitted_at: dt.datetime
    attempts: int


class BatchWorker:
    """Runs items: claim with a lease, issue through the registry, record the outcome."""

    def __init__(
        self,
        database: Database,
        registry: Registry,
        settings: BatchSettings,
        clock: Clock,
        problems: ProblemOf = lambda _error: None,
    ) -> None:
        self.db = database
        self.registry = registry
        self.settings = settings
        self.clock = clock
        self.problems = problems  # a refusal's problem details, as a single post answers it

    def issue_item(self, item_id: uuid.UUID) -> Outcome:
        """Issue one item (whichever executor runs it), with its line in the job log."""
        started = time.perf_counter()
        outcome = self._issue_item(item_id)
        logs.job("batch_item", outcome.value, started, item_id=str(item_id))
        return outcome

    def _issue_item(self, item_id: uuid.UUID) -> Outcome:
        claim = self._claim(item_id)
        if claim is None:
            return Outcome.SKIPPED
        if isinstance(claim, ItemProblem):
            return self._finish(item_id, BatchItemState.FAILED, problem=claim)
        try:
            issued = self.registry.issue(claim.caller, self._request(claim))
        except DecisionConflict as conflict:
            return self._finish(item_id, BatchItemState.FAILED, problem=conflict_problem(conflict))
        except InvalidDecision as error:  # valid when submitted; only a changed rule gets here
            return self._finish(
                item_id, BatchItemState.FAILED, problem=invalid_problem(error.violations)
            )
        except Exception as error:
            # a refusal (an unknown document to supersede, an unsigned protocol cited …) fails
            # the item with the answer a single post gets; anything else, or a 5xx, is retried
            problem = self.problems(error)
            if problem is not None and problem.status < 500:
                return self._finish(
                    item_id, BatchItemState.FAILED, problem=ItemProblem(
                        problem.status, problem.slug, problem.detail, problem.violations,
                        dict(problem.extra)),
                )
            log.exception("batch item %s (attempt %d) failed", item_id, claim.attempts)
            return self._release(claim)
        assert isinstance(issued, Issued)  # no idempotency key: never a recorded answer
        return self._finish(item_id, BatchItemState.DONE, document_id=issued.document.id)

    @staticmethod
    def _request(claim: Claim) -> Any:
        from service.forms.decisions import parse_request

        payload = json.loads(claim.request_json)
        # parsed as of its submission: "not in the future" held then and must hold now
        form, language, _, decision = parse_request(payload, lambda: claim.submitted_at)
        extras = {name: payload.get(name) for name in ISSUE_EXTRAS}
        return issue_request(form, language, decision, payload["decision"], extras)

    def _claim(self, item_id: uuid.UUID) -> Claim | ItemProblem | None:
        now = self.clock()
        with self.db.write() as session:
            item = session.get(BatchItem, item_id, with_for_update=True)
            if item is None or item.state not in UNFINISHED:
                return None
            if item.state == BatchItemState.RUNNING and (
                item.lease_until is None or item.lease_until > now
            ):
                return None
            if item.attempts >= self.settings.max_attempts:
                return attempts_problem(item.attempts)
            assert item.request_json is not None
            batch = session.get(Batch, item.batch_id)
            assert batch is not None
            code = session.scalar(
                select(Organisation.code).where(Organisation.id == batch.organisation_id)
            )
            assert code is not None
            item.state = BatchItemState.RUNNING
            item.attempts += 1
            item.lease_until = now + self.settings.lease
            return Claim(
                item.id, batch.id, item.position, item.request_json,
                Caller(batch.organisation_id, code, batch.token_id), batch.created_at,
                item.attempts,
            )

    def _finish(
        self,
        item_id: uuid.UUID,
        state: BatchItemState,
        *,
        document_id: uuid.UUID | None = None,
        problem: ItemProblem | None = None,
    ) -> Outcome:
        now = self.clock()
        with self.db.write() as session:
            batch_id = session.scalar(select(BatchItem.batch_id).where(BatchItem.id == item_id))
            assert batch_id is not None
            # the batch row first, then the item: every finisher locks in this order
            batch = session.get(Batch, batch_id, with_for_update=True)
            item = session.get(BatchItem, item_id, with_for_update=True, populate_existing=True)
            assert batch is not None
            assert item is not None
            if item.state not in UNFINISHED:  # another run of the same item got here first
                return Outcome.SKIPPED
            item.state = state
            item.lease_until = None
            item.finished_at = now
            item.document_id = document_id
            item.problem = None if problem is None else problem.to_json()
            if problem is not None:
                audit.append(
                    session,
                    "batch_item_failed",
                    None,
                    {"batch": str(batch.id), "position": item.position,
                     "decision_id": item.decision_id, "status": problem.status,
                     "codes": sorted({v.code for v in problem.violations} or {problem.slug})},
                    self.clock,
                )
            _complete_if_finished(session, batch, self.clock)
        return Outcome.DONE if state == BatchItemState.DONE else Outcome.FAILED

    def _release(self, claim: Claim) -> Outcome:
        if claim.attempts >= self.settings.max_attempts:
            return self._finish(
                claim.item_id, BatchItemState.FAILED, problem=attempts_problem(claim.attempts)
            )
        with self.db.write() as session:
            session.execute(
                update(BatchItem)
                .where(BatchItem.id == claim.item_id, BatchItem.state == BatchItemState.RUNNING)
                .values(state=BatchItemState.QUEUED, lease_until=None, enqueued_at=self.clock())
            )
        return Outcome.RETRY


def _complete_if_finished(session: Any, batch: Batch, clock: Clock) -> None:
    if batch.completed_at is not None:
        return
    remaining = session.scalar(
        select(func.count()).select_from(BatchItem).where(
            BatchItem.batch_id == batch.id, BatchItem.state.in_(UNFINISHED)
        )
    )
    if remaining == 0:
        batch.completed_at = clock()
        _audit_completed(session, batch, clock)


def _audit_completed(session: Any, batch: Batch, clock: Clock) -> None:
    counts = dict(
        session.execute(
            select(BatchItem.state, func.count())
            .where(BatchItem.batch_id == batch.id)
            .group_by(BatchItem.state)
        ).all()
    )
    audit.append(
        session,
        "batch_completed",
        None,
        {"batch": str(batch.id), "total": batch.total,
         "done": counts.get(BatchItemState.DONE, 0),
         "failed": counts.get(BatchItemState.FAILED, 0)},
        clock,
    )


# --------------------------------------------------------------------------- reconciling


def requeue_expired(database: Database, clock: Clock, limit: int = 1000) -> list[uuid.UUID]:
    """Items whose worker's lease expired (it died, or its machine did), queued again."""
    now = clock()
    expired = (
        select(BatchItem.id, BatchItem.batch_id, BatchItem.position)
        .where(BatchItem.state == BatchItemState.RUNNING, BatchItem.lease_until < now)
        .limit(limit)
    )
    with database.read() as session:  # the usual answer, without taking SQLite's write lock
        if not session.execute(expired).first():
            return []
    with database.write() as session:
        rows = session.execute(expired.with_for_update(skip_locked=True)).all()
        if not rows:
            return []
        ids = [row.id for row in rows]
        session.execute(
            update(BatchItem)
            .where(BatchItem.id.in_(ids), BatchItem.state == BatchItemState.RUNNING)
            .values(state=BatchItemState.QUEUED, lease_until=None, enqueued_at=now)
            .execution_options(synchronize_session=False)
        )
        audit.append(
            session,
            "batch_items_requeued",
            None,
            {"reason": "lease expired",
             "items": [{"batch": str(r.batch_id), "position": r.position} for r in rows]},
            clock,
        )
    return ids


def resend_stale(
    database: Database, clock: Clock, older_than: dt.timedelta, limit: int = 1000
) -> list[uuid.UUID]:
    """Queued items waiting longer than `older_than` (their message may be lost, e.g. a
    broker restarted without persistence): marked as sent again now, for the caller to send."""
    now = clock()
    with database.write() as session:
        ids = list(session.scalars(
            select(BatchItem.id)
            .where(BatchItem.state == BatchItemState.QUEUED,
                   BatchItem.enqueued_at < now - older_than)
            .order_by(BatchItem.enqueued_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ))
        if ids:
            session.execute(
                update(BatchItem).where(BatchItem.id.in_(ids)).values(enqueued_at=now)
                .execution_options(synchronize_session=False)
            )
    return ids


def next_queued(
    database: Database, exclude: Iterable[uuid.UUID], limit: int
) -> list[uuid.UUID]:
    """Up to `limit` queued items, oldest first, leaving out those already handed out."""
    excluded = set(exclude)
    with database.read() as session:
        ids = session.scalars(
            select(BatchItem.id)
            .where(BatchItem.state == BatchItemState.QUEUED)
            .order_by(BatchItem.enqueued_at, BatchItem.position)
            .limit(limit + len(excluded))
        ).all()
    return [i for i in ids if i not in excluded][:limit]


# --------------------------------------------------------------------------- reading


class BatchNotFound(LookupError):
    """No such batch for this caller (another body's batches do not exist for it)."""


@dataclass(frozen=True, slots=True)
class DocumentRef:
    id: uuid.UUID
    registration_number: str
    verify_token: str


@dataclass(frozen=True, slots=True)
class ItemStatus:
    position: int
    decision_id: str | None
    state: BatchItemState
    attempts: int
    document: DocumentRef | None
    problem: ItemProblem | None


@dataclass(frozen=True, slots=True)
class BatchStatus:
    id: uuid.UUID
    total: int
    counts: Mapping[BatchItemState, int]
    created_at: dt.datetime
    completed_at: dt.datetime | None
    items: tuple[ItemStatus, ...]

    def count(self, state: BatchItemState) -> int:
        return self.counts.get(state, 0)


ItemSelection = Literal["all", "failed", "none"]


def batch_status(
    database: Database, organisation_id: int, batch_id: uuid.UUID, items: ItemSelection = "all"
) -> BatchStatus:
    with database.read() as session:
        batch = session.get(Batch, batch_id)
        if batch is None or batch.organisation_id != organisation_id:
            raise BatchNotFound(str(batch_id))
        counts = dict(
            session.execute(
                select(BatchItem.state, func.count())
                .where(BatchItem.batch_id == batch_id)
                .group_by(BatchItem.state)
            ).all()
        )
        found: list[ItemStatus] = []
        if items != "none":
            query = (
                select(BatchItem, Document.registration_number, Document.verify_token)
                .outerjoin(Document, Document.id == BatchItem.document_id)
                .where(BatchItem.batch_id == batch_id)
                .order_by(BatchItem.position)
            )
            if items == "failed":
                query = query.where(BatchItem.state == BatchItemState.FAILED)
            for item, number, token in session.execute(query):
                document = (
                    DocumentRef(item.document_id, number, token)
                    if item.document_id is not None else None
                )
                problem = ItemProblem.from_json(item.problem) if item.problem else None
                found.append(ItemStatus(
                    item.position, item.decision_id, item.state, item.attempts, document, problem
                ))
        return BatchStatus(
            batch.id, batch.total, counts, batch.created_at, batch.completed_at, tuple(found)
        )


# --------------------------------------------------------------------------- worker processes


def build_worker(core: Settings, settings: BatchSettings) -> BatchWorker:
    """A worker with the application's own registry (its listeners included), built once per
    process: the Renderer's fonts and stylesheets are then reused for every item."""
    from service import create_app
    from service.core.errors import problem_of

    # a worker issues items, nothing else: the e-mail, reminder and webhook senders run in
    # `qujat serve` (or their own commands), not once more in every pool process (a Celery
    # pool process, being a daemon, may not even start the webhook sender's process)
    app = create_app(core.replace(mail_sender=False, webhook_sender=False))
    return BatchWorker(
        app.extensions["qujat.database"], app.extensions["qujat.registry"], settings,
        app.extensions["qujat.clock"], lambda error: problem_of(app, error),
    )


_process_worker: list[BatchWorker] = []  # this process's worker, once initialised


def init_process(core: Settings, settings: BatchSettings) -> None:
    """ProcessPoolExecutor initializer: one worker (one Renderer) per pool process."""
    _process_worker.append(build_worker(core, settings))


def run_item(item_id: str) -> str:
    return _process_worker[0].issue_item(uuid.UUID(item_id)).value


# --------------------------------------------------------------------------- local executor


class LocalDispatcher:
    """The default executor: a thread that feeds queued items to a process pool.

    Runs inside a `qujat serve` worker (or `qujat batch dispatch`). Only one dispatcher per
    data folder leads at a time (an flock on `<data_dir>/batches.lock`, released by the OS when
    its process dies; the others retry every few seconds), so a machine's cores are not
    oversubscribed; dispatchers on other machines sharing a PostgreSQL database cooperate
    through the item leases. A pool process that dies breaks the pool: it is replaced, the
    items it had not started are handed out again, and the ones it had claimed come back when
    their lease expires.
    """

    def __init__(
        self,
        database: Database,
        core: Settings,
        settings: BatchSettings,
        clock: Clock = system_clock,
        poll_seconds: float = 0.5,
    ) -> None:
        self.db = database
        self.core = core
        self.settings = settings
        self.clock = clock
        self.poll_seconds = poll_seconds
        self.lock_path = Path(core.data_dir).resolve() / "batches.lock"
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._lock_file: IO[bytes] | None = None
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None
        self._in_flight: dict[concurrent.futures.Future[str], uuid.UUID] = {}
        self._next_reconcile = 0.0

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="qujat-batch-dispatcher", daemon=True
                )
                self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 30) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._shutdown_pool()

    def run_until_stopped(self) -> None:
        """Dispatch in the calling thread (`qujat batch dispatch`)."""
        self._run()

    # -- the loop

    def _run(self) -> None:
        while not self._stop.is_set():
            if not self._lead():
                self._stop.wait(2.0)
                continue
            try:
                self._cycle()
            except Exception:  # the database went away for a moment: keep going
                log.exception("batch dispatcher cycle failed")
                self._stop.wait(1.0)
        self._shutdown_pool()

    def _lead(self) -> bool:
        if self._lock_file is not None:
            return True
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.lock_path.open("ab")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        self._lock_file = handle
        log.info("batch dispatcher %d leads (%d processes)", os.getpid(), self.settings.processes)
        return True

    def _cycle(self) -> None:
        now = time.monotonic()
        if now >= self._next_reconcile:
            self._next_reconcile = now + self.settings.reconcile_seconds
            requeued = requeue_expired(self.db, self.clock)
            if requeued:
                log.warning("re-queued %d batch item(s) whose lease expired", len(requeued))
        self._harvest()
        free = self.settings.processes * 2 - len(self._in_flight)
        if free > 0:
            for item_id in next_queued(self.db, self._in_flight.values(), free):
                pool = self._ensure_pool()
                self._in_flight[pool.submit(run_item, str(item_id))] = item_id
        if self._in_flight:
            concurrent.futures.wait(
                list(self._in_flight), timeout=self.poll_seconds,
                return_when=concurrent.futures.FIRST_COMPLETED,
            )
        else:
            self._wake.wait(self.poll_seconds)
            self._wake.clear()

    def _harvest(self) -> None:
        broken = False
        for future in [f for f in self._in_flight if f.done()]:
            item_id = self._in_flight.pop(future)
            error = future.exception()
            if isinstance(error, BrokenProcessPool):
                broken = True
            elif error is not None:
                log.error("batch item %s: %r", item_id, error)
        if broken:
            log.warning("a batch process died: starting a new pool")
            self._shutdown_pool()
            self._in_flight.clear()

    def _ensure_pool(self) -> concurrent.futures.ProcessPoolExecutor:
        if self._pool is None:
            # spawn, not fork: this runs beside server threads holding locks and connections
            self._pool = concurrent.futures.ProcessPoolExecutor(
                max_workers=self.settings.processes,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=init_process,
                initargs=(self.core, self.settings),
            )
        return self._pool

    def _shutdown_pool(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            with contextlib.suppress(Exception):
                pool.shutdown(wait=False, cancel_futures=True)
