"""A rate-limit storage every process of one machine shares: a SQLite file (`limits` storage
scheme `sqlite:///<path>`), by default `<data dir>/rate-limit.sqlite3`.

Each gunicorn worker counting in its own memory lets a client through once per worker; here
every worker increments the same row in one transaction (BEGIN IMMEDIATE: the file's write lock
orders them), so "60 per minute" is 60 whatever the number of workers. Several machines still
need Redis (QUJAT_RATE_LIMIT_STORAGE=redis://…).

The counters are not worth an fsync: `synchronous=OFF` (a power cut may forget the current
window, nothing else), WAL so that readers never wait. Each thread of each process has its own
connection, opened on first use (so a connection never crosses a fork). Expired windows are
reset when their key is next used and swept from the file once a minute.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
import urllib.parse
from pathlib import Path

from limits.storage import Storage

BUSY_TIMEOUT_SECONDS = 5
SWEEP_SECONDS = 60

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS counters "
    "(key TEXT PRIMARY KEY, count INTEGER NOT NULL, expires_at REAL NOT NULL)"
)
# a new window starts at the first hit after the last one expired (a fixed window, as
# flask-limiter's memory and Redis storages count)
_INCREMENT = (
    "INSERT INTO counters (key, count, expires_at) VALUES (:key, :amount, :now + :expiry) "
    "ON CONFLICT (key) DO UPDATE SET "
    "count = CASE WHEN expires_at <= :now THEN :amount ELSE count + :amount END, "
    "expires_at = CASE WHEN expires_at <= :now THEN :now + :expiry ELSE expires_at END "
    "RETURNING count"
)


def shared_storage_uri(data_dir: Path) -> str:
    return "sqlite://" + (data_dir / "rate-limit.sqlite3").resolve().as_posix()


class SQLiteCounters(Storage):
    """Fixed-window counters in a SQLite file shared by the machine's processes."""

    STORAGE_SCHEME = ["sqlite"]  # noqa: RUF012 (the base class declares it a plain list)

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False,
                 **options: float | str | bool) -> None:
        path = urllib.parse.urlparse(uri or "").path
        if not path:
            raise ValueError(f"a sqlite rate-limit storage needs a file: {uri!r}")
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._last_sweep = 0.0
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return sqlite3.Error

    def _connection(self) -> sqlite3.Connection:
        owner = getattr(self._local, "owner", None)
        if owner != os.getpid():  # first use in this thread, or a thread of a forked parent
            connection = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SECONDS,
                                         isolation_level=None, check_same_thread=True)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=OFF")
            connection.execute(_SCHEMA)
            self._local.connection, self._local.owner = connection, os.getpid()
        found: sqlite3.Connection = self._local.connection
        return found

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        connection = self._connection()
        now = time.time()
        connection.execute("BEGIN IMMEDIATE")
        try:
            count: int = connection.execute(
                _INCREMENT, {"key": key, "amount": amount, "now": now, "expiry": expiry}
            ).fetchone()[0]
            if now - self._last_sweep > SWEEP_SECONDS:
                self._last_sweep = now
                connection.execute("DELETE FROM counters WHERE expires_at <= ?", (now,))
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        return count

    def _row(self, key: str) -> tuple[int, float] | None:
        row = self._connection().execute(
            "SELECT count, expires_at FROM counters WHERE key = ? AND expires_at > ?",
            (key, time.time()),
        ).fetchone()
        return None if row is None else (int(row[0]), float(row[1]))

    def get(self, key: str) -> int:
        row = self._row(key)
        return 0 if row is None else row[0]

    def get_expiry(self, key: str) -> float:
        row = self._row(key)
        return time.time() if row is None else row[1]

    def check(self) -> bool:
        try:
            self._connection().execute("SELECT 1").fetchone()
        except sqlite3.Error:
            return False
        return True

    def reset(self) -> int | None:
        cursor = self._connection().execute("DELETE FROM counters")
        return cursor.rowcount

    def clear(self, key: str) -> None:
        self._connection().execute("DELETE FROM counters WHERE key = ?", (key,))
