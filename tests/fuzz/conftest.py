"""Fuzz tests of the parsers that face the outside, with Hypothesis.

Bounded for CI: the `ci` profile (the default) runs QUJAT_FUZZ_EXAMPLES examples per test
(40 unless set), which keeps the whole folder well under 90 seconds on a small machine.
On demand, longer: `QUJAT_FUZZ_EXAMPLES=20000 pytest tests/fuzz` or the `long` profile
(`QUJAT_FUZZ_PROFILE=long`, 10,000 examples per test, Hypothesis's example database kept in
.hypothesis/ so a failure found once is replayed first next time). No deadline: a slow
example on a busy machine is not a failure; an unexpected exception or a 500 is.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from hypothesis import HealthCheck, settings

from service import create_app
from service.core.config import Settings
from signing.pki import KeyPool, Person, TestPKI, init_test_pki
from tests.conftest import NOW, fixed_clock, new_token
from tests.databases import sqlite_backend

SIGNER = Person("790228470901", "Әбдірахманова", "Гүлнар", "Серікқызы")
OTHER = Person("931002451325", "Тестов", "Тест", "Тестович")

_EXAMPLES = os.environ.get("QUJAT_FUZZ_EXAMPLES")
settings.register_profile(
    "ci",
    max_examples=int(_EXAMPLES or 40),
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "long",
    max_examples=int(_EXAMPLES or 10_000),
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("QUJAT_FUZZ_PROFILE", "ci"))


@pytest.fixture(scope="session")
def fuzz_pki(tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config) -> TestPKI:
    """A small test PKI (two people) whose CRLs are current at the tests' NOW."""
    cache = getattr(pytestconfig, "cache", None)  # absent with -p no:cacheprovider
    keys = KeyPool(cache.mkdir("signing-test-keys") if cache is not None else None)
    return init_test_pki(tmp_path_factory.mktemp("fuzz-pki"), [SIGNER, OTHER], keys=keys, now=NOW)


@pytest.fixture(scope="session")
def fuzz_app(tmp_path_factory: pytest.TempPathFactory, fuzz_pki: TestPKI) -> Iterator[Flask]:
    """One app on SQLite for a whole fuzz session, with the test PKI as its trust folder and
    a rate limit no fuzzer reaches (each example is a new request, not a new app)."""
    folder: Path = tmp_path_factory.mktemp("fuzz")
    with sqlite_backend(folder / "db") as backend:
        settings_ = Settings(
            data_dir=folder, database_url=backend.fresh_url(folder),
            trust_dir=fuzz_pki.directory, verify_rate_limit="1000000 per minute",
        )
        app = create_app(settings_, clock=fixed_clock)
        yield app
        app.extensions["qujat.database"].dispose()


@pytest.fixture(scope="session")
def fuzz_token(fuzz_app: Flask) -> str:
    return new_token(fuzz_app, "KRG")

