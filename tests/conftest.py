"""Fixtures shared by every test: the app factory, a test client, the CLI runner, examples."""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from service import create_app
from service.config import Settings

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


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, max_body_bytes=1024 * 1024)


@pytest.fixture
def app(settings: Settings) -> Flask:
    return create_app(settings, clock=fixed_clock)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()
