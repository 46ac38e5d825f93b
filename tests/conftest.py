"""Fixtures shared by every test: the app factory, a test client, the CLI runner, examples.

Every test that uses the app (or `database_url`) runs twice: on SQLite and on PostgreSQL
(see tests/databases.py). `client` is authenticated as the issuing body KRG; use
`anonymous_client` for requests without a token and `client_for("ABC")` for another body.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from service import create_app
from service.core.config import Settings
from service.core.db import Database
from service.registry.tokens import create_token
from tests.databases import Backend, postgres_backend, sqlite_backend

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
# a fixed "now" so that rules about future dates do not depend on the day the tests run
NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)


def fixed_clock() -> dt.datetime:
    return NOW


def load_example(form: str, language: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EXAMPLES / f"{form}.{language}.json").read_text("utf-8"))
    return loaded


@pytest.fixture
def example() -> Callable[[str, str], dict[str, Any]]:
    """A fresh deep copy of examples/<form>.<language>.json, safe to mutate."""
    return lambda form, language="kk": copy.deepcopy(load_example(form, language))


@pytest.fixture(
    scope="session",
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
    ],
)
def backend(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Backend]:
    """A migrated database of each kind, once per session."""
    if request.param == "sqlite":
        with sqlite_backend(tmp_path_factory.mktemp("sqlite")) as sqlite:
            yield sqlite
    else:
        with postgres_backend() as postgres:
            yield postgres


@pytest.fixture
def database_url(backend: Backend, tmp_path: Path) -> str:
    """An empty, migrated database for this test."""
    return backend.fresh_url(tmp_path)


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    db = Database(database_url)
    yield db
    db.dispose()


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(data_dir=tmp_path, database_url=database_url, max_body_bytes=1024 * 1024)


@pytest.fixture
def cli_env(settings: Settings) -> dict[str, str]:
    """The environment under which `qujat …` sees this test's database and files."""
    return {
        "QUJAT_DATA_DIR": str(settings.data_dir),
        "QUJAT_DATABASE_URL": settings.database_url,
        "QUJAT_PUBLIC_BASE_URL": settings.public_base_url,
    }


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    application = create_app(settings, clock=fixed_clock)
    yield application
    application.extensions["qujat.database"].dispose()


def new_token(app: Flask, organisation: str) -> str:
    database: Database = app.extensions["qujat.database"]
    with database.write() as session:
        token, _ = create_token(session, organisation, clock=fixed_clock)
    return token


@pytest.fixture
def client_for(app: Flask) -> Callable[[str], FlaskClient]:
    """A test client carrying a fresh token of the issuing body `organisation`."""

    def make(organisation: str) -> FlaskClient:
        client = app.test_client()
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {new_token(app, organisation)}"
        return client

    return make


@pytest.fixture
def client(client_for: Callable[[str], FlaskClient]) -> FlaskClient:
    """A test client of the issuing body KRG (every /api/v1/ call needs a token)."""
    return client_for("KRG")


@pytest.fixture
def anonymous_client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()
