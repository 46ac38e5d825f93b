"""The two database backends the suite runs on, each prepared once per test session.

SQLite: a migrated template file, copied for every test (cheap, fully isolated).
PostgreSQL (QUJAT_TEST_POSTGRES_URL, default postgres@127.0.0.1:5432/test): one schema per
session, migrated once, its tables emptied before every test. Tests cannot use a rolled-back
transaction here: the registry commits in several transactions of its own, and some tests
drive real server processes and CLI subprocesses against the same schema.

An unreachable PostgreSQL skips its tests with the reason locally, and fails them in CI
(CI=true): CI must never pass without having run them.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from service.core.db import Database, upgrade
from service.core.models import GENESIS_HASH

POSTGRES_URL = os.environ.get(
    "QUJAT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
TABLES = (
    "objects",
    "idempotency_keys",
    "audit_log",
    "documents",
    "series_counters",
    "api_tokens",
    "organisations",
)


@dataclass(frozen=True)
class SqliteBackend:
    template: Path
    name: str = "sqlite"

    def fresh_url(self, folder: Path) -> str:
        target = folder / "qujat.sqlite3"
        shutil.copyfile(self.template, target)
        return f"sqlite:///{target}"


@dataclass(frozen=True)
class PostgresBackend:
    url: str
    schema: str
    name: str = "postgresql"

    def fresh_url(self, folder: Path) -> str:
        import psycopg
        from psycopg import sql

        tables = sql.SQL(", ").join(sql.Identifier(self.schema, t) for t in TABLES)
        with psycopg.connect(_libpq(POSTGRES_URL), autocommit=True) as connection:
            connection.execute(sql.SQL("TRUNCATE {} RESTART IDENTITY CASCADE").format(tables))
            connection.execute(
                sql.SQL("UPDATE {} SET count = 0, head_hash = %s").format(
                    sql.Identifier(self.schema, "audit_head")
                ),
                (GENESIS_HASH,),
            )
        return self.url


Backend = SqliteBackend | PostgresBackend


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def with_search_path(url: str, schema: str) -> str:
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options={quote(f'-csearch_path={schema}')}"


def _unreachable(reason: str) -> None:
    message = f"PostgreSQL at {POSTGRES_URL} is unreachable ({reason})"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message}: CI must run the PostgreSQL tests", pytrace=False)
    pytest.skip(f"{message}; set QUJAT_TEST_POSTGRES_URL or start PostgreSQL")


def _admin() -> Any:
    """An autocommit connection to the test server; skips (fails under CI) when unreachable."""
    import psycopg

    try:
        return psycopg.connect(_libpq(POSTGRES_URL), autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as error:
        _unreachable(str(error).strip().splitlines()[0])
        raise AssertionError("unreachable") from None


def _drop_schema(connection: Any, schema: str) -> None:
    from psycopg import sql

    connection.execute(
        sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
    )


def _drop_stale_schemas(connection: Any) -> None:
    """Schemas of earlier sessions on this machine whose process is gone."""
    rows = connection.execute(
        "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'qujat_test_%'"
    ).fetchall()
    for (name,) in rows:
        match = re.fullmatch(r"qujat_test_\w+?_(\d+)", name)
        if match is None:
            continue
        pid = int(match[1])
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            _drop_schema(connection, name)
        except PermissionError:
            continue


@contextlib.contextmanager
def sqlite_backend(folder: Path) -> Iterator[SqliteBackend]:
    template = folder / "template.sqlite3"
    database = Database(f"sqlite:///{template}")
    upgrade(database)
    database.dispose()
    yield SqliteBackend(template)


@contextlib.contextmanager
def postgres_backend() -> Iterator[PostgresBackend]:
    from psycopg import sql

    admin = _admin()
    worker = re.sub(r"\W", "", os.environ.get("PYTEST_XDIST_WORKER", "main"))
    schema = f"qujat_test_{worker}_{os.getpid()}"
    with admin:
        _drop_stale_schemas(admin)
        _drop_schema(admin, schema)
        admin.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        url = with_search_path(POSTGRES_URL, schema)
        try:
            database = Database(url)
            upgrade(database)
            database.dispose()
            yield PostgresBackend(url, schema)
        finally:
            _drop_schema(admin, schema)


@contextlib.contextmanager
def empty_postgres_schema() -> Iterator[str]:
    """The URL of a new, empty PostgreSQL schema (no migration run), dropped afterwards."""
    from psycopg import sql

    admin = _admin()
    schema = f"qujat_test_empty_{os.getpid()}"
    with admin:
        _drop_schema(admin, schema)
        admin.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        try:
            yield with_search_path(POSTGRES_URL, schema)
        finally:
            _drop_schema(admin, schema)
