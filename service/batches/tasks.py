"""The Celery executor: batch items as tasks on Redis or RabbitMQ (QUJAT_BROKER_URL).

A task carries only the item's id; the item itself is in the database. The task body is
`BatchWorker.issue_item`, the same code the local executor runs. Delivery is at least once:

- `acks_late` with `prefetch 1`: a message is acknowledged after its item is recorded, and a
  worker holds at most one unstarted message per process;
- `reject_on_worker_lost`: a pool process killed mid-item puts its message back;
- a worker killed outright loses its connection: RabbitMQ redelivers its unacknowledged
  messages at once, Redis after the visibility timeout (twice the item lease);
- `qujat worker` also runs the reconciler: items whose lease expired are queued and sent
  again, and items queued for longer than QUJAT_BATCH_RESEND_SECONDS are sent again (their
  message may have died with a broker that kept no copy).

A message delivered twice is harmless: the second run finds the item done or leased, and
even if it runs, Registry.issue's decision_id idempotency gives it the same document.
"""

from __future__ import annotations

import logging
import os
import threading
import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from celery import Celery, signals

from service.batches.queue import (
    BatchSettings,
    BatchWorker,
    Outcome,
    build_worker,
    requeue_expired,
    resend_stale,
)

if TYPE_CHECKING:
    from service.core.config import Settings
    from service.core.db import Database

log = logging.getLogger(__name__)

ISSUE_ITEM = "qujat.issue_batch_item"
RETRY_SECONDS = 2.0

celery_app = Celery("qujat", set_as_current=False)
_state: dict[str, Any] = {}  # this process's settings and worker


def configure(core: Settings, settings: BatchSettings) -> Celery:
    """Point the Celery app at the broker and queue of `settings`."""
    _state["core"] = core
    _state["settings"] = settings
    celery_app.conf.update(
        broker_url=settings.broker_url,
        broker_connection_retry_on_startup=True,
        broker_transport_options={"visibility_timeout": int(settings.lease_seconds * 2)},
        task_default_queue=settings.queue,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        worker_prefetch_multiplier=1,
        # the remote-control channel is also what makes a Redis-broker worker notice that its
        # broker restarted: without it (kombu 5.7) the worker logs "Couldn't ack", never
        # reconnects and consumes nothing more (test_a_broker_killed_and_restarted_mid_batch…)
        worker_enable_remote_control=True,
        worker_send_task_events=False,
        worker_hijack_root_logger=False,
        worker_cancel_long_running_tasks_on_connection_loss=False,
        result_backend=None,
    )
    return celery_app


def _worker() -> BatchWorker:
    worker: BatchWorker | None = _state.get("worker")
    if worker is None:
        worker = _state["worker"] = build_worker(_state["core"], _state["settings"])
    return worker


@signals.worker_process_init.connect  # type: ignore[untyped-decorator]
def _init_pool_process(**_: Any) -> None:
    # each prefork child builds its own worker: its own connections, one Renderer
    _state.pop("worker", None)
    if "core" in _state:
        _worker()


@celery_app.task(  # type: ignore[untyped-decorator]
    name=ISSUE_ITEM, acks_late=True, reject_on_worker_lost=True
)
def issue_item_task(item_id: str) -> str:
    outcome = _worker().issue_item(uuid.UUID(item_id))
    if outcome == Outcome.RETRY:  # back in the queue: send it again after a pause
        send_items([uuid.UUID(item_id)], countdown=RETRY_SECONDS)
    return outcome.value


def send_items(item_ids: Iterable[uuid.UUID], countdown: float | None = None) -> int:
    """Publish one task per item over one connection; the number sent."""
    sent = 0
    with celery_app.producer_or_acquire() as producer:
        for item_id in item_ids:
            issue_item_task.apply_async(
                (str(item_id),),
                producer=producer,
                countdown=countdown,
                retry=True,
                retry_policy={"max_retries": 3, "interval_start": 0.2, "interval_step": 0.5},
            )
            sent += 1
    return sent


def broker_queue_empty(queue: str) -> bool:
    """Whether the broker holds no message for `queue` (a queue it lost counts as empty);
    False when the broker cannot be asked, so that nothing is re-sent in a hurry."""
    try:
        with celery_app.connection_for_write() as connection:
            channel = connection.default_channel
            try:
                declared = channel.queue_declare(queue=queue, passive=True)
            except connection.channel_errors:  # no such queue: the broker lost it
                return True
            return int(declared.message_count) == 0
    except Exception:  # an unreachable broker: the next round asks again
        log.debug("cannot ask the broker about queue %s", queue, exc_info=True)
        return False


class Reconciler:
    """Beside a Celery worker: re-sends items whose lease expired or whose message was lost."""

    def __init__(self, database: Database, settings: BatchSettings) -> None:
        from service.forms.decisions import system_clock

        self.db = database
        self.settings = settings
        self.clock = system_clock
        # a pool process forked later must not share (and close) this engine's connections
        os.register_at_fork(after_in_child=lambda: database.engine.dispose(close=False))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="qujat-reconciler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)

    def run_once(self) -> int:
        import datetime as dt

        ids = requeue_expired(self.db, self.clock)
        # An item queued in the database but absent from an empty broker queue cannot be on
        # its way (a reserved message is claimed within one item's time): its message died
        # with a broker restarted without its queue. Sent again after one lease, not after
        # QUJAT_BATCH_RESEND_SECONDS, the wait for a queue that still holds messages.
        wait = self.settings.resend_seconds
        if self.settings.lease_seconds < wait and broker_queue_empty(self.settings.queue):
            wait = self.settings.lease_seconds
        ids += resend_stale(self.db, self.clock, dt.timedelta(seconds=wait))
        if ids:
            log.warning("re-sending %d batch item(s)", len(ids))
            send_items(ids)
        return len(ids)

    def _run(self) -> None:
        while not self._stop.wait(self.settings.reconcile_seconds):
            try:
                self.run_once()
            except Exception:  # the broker or the database is down for a moment
                log.exception("batch reconciler failed; retrying")
