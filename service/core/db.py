"""The database: engines, transactions and migrations, for SQLite and PostgreSQL.

SQLite (the default, `<data_dir>/qujat.sqlite3`) runs in WAL mode with foreign keys on and a
busy timeout; its write transactions start with `BEGIN IMMEDIATE`, so writers queue for the
one write lock up front instead of failing halfway with "database is locked". PostgreSQL
(`QUJAT_DATABASE_URL=postgresql+psycopg://…`) runs in READ COMMITTED and serialises what must
be serial with row locks (see service.registry.issuing).

The schema belongs to Alembic (`service/migrations`); its configuration is built here, so
`qujat db upgrade` works from any working directory.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "migrations"
_WRITE = "qujat_write"
SQLITE_BUSY_TIMEOUT_SECONDS = 30


class DatabaseNotReady(RuntimeError):
    """The database's schema is missing or older than this code; says what to run."""


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite's own is too late
        # and always DEFERRED).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_SECONDS * 1000}")
        # an answered request must survive a power cut, not only a crashed process
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        immediate = connection.get_execution_options().get(_WRITE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_engine(url: str) -> Engine:
    """An engine for `url`; SQLite files get their folder created and their pragmas set."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            parsed, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS}
        )
        _configure_sqlite(engine)
        return engine
    return create_engine(parsed, pool_size=5, max_overflow=10)


class Database:
    """One engine and two kinds of transactions: `read()` and `write()`.

    `write()` is for anything that changes rows: on SQLite it takes the write lock at BEGIN;
    on PostgreSQL it is an ordinary transaction (row locks do the rest).
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._reader = sessionmaker(self.engine, expire_on_commit=False)
        self._writer = sessionmaker(
            self.engine.execution_options(**{_WRITE: True}), expire_on_commit=False
        )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextlib.contextmanager
    def read(self) -> Iterator[Session]:
        with self._reader() as session, session.begin():
            yield session

    @contextlib.contextmanager
    def write(self) -> Iterator[Session]:
        """A transaction that commits when the block ends and rolls back on any exception."""
        with self._writer() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


# --------------------------------------------------------------------------- migrations


def alembic_config(connection: Connection | None = None) -> Any:
    """Alembic's Config without an alembic.ini: the script folder is the package's own."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(database: Database) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with database.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(database: Database, revision: str = "head") -> None:
    """Bring the schema to `revision` (idempotent)."""
    from alembic import command

    with database.engine.begin() as connection:
        command.upgrade(alembic_config(connection), revision)


def ensure_schema(database: Database, *, auto_upgrade: bool) -> None:
    """Check that the schema is at the head revision; upgrade it if allowed, else say how."""
    current = current_revision(database)
    if current == head_revision():
        return
    if auto_upgrade:
        upgrade(database)
        return
    state = "empty" if current is None else f"at revision {current}"
    raise DatabaseNotReady(
        f"the database is {state}, this code needs {head_revision()}: run `qujat db upgrade`"
    )
