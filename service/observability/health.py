"""`/healthz`: the process answers. `/readyz`: it can do its work — each check below, and a
503 problem naming every one that failed.

- `database`: the database answers a query;
- `migrations`: its schema is at this code's revision (`qujat db upgrade` otherwise);
- `trust`: the trust folder (`QUJAT_TRUST_DIR`) is set and holds a root CA, so signatures can be
  verified;
- `revocation`: with `QUJAT_REVOCATION=require`, no CRL of the trust folder is past its next
  update (`qujat trust refresh` keeps them current);
- `broker`: with `QUJAT_BATCH_EXECUTOR=celery`, the broker accepts a connection.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask, Response

_TIMEOUT_SECONDS = 3
SKIPPED = ""  # a check that does not apply to these settings


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool
    detail: str


def _database(app: Flask) -> str | None:
    from sqlalchemy import text

    database = app.extensions["qujat.database"]
    try:
        with database.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:  # any driver error means "not reachable"
        return f"the database does not answer: {_first_line(error)}"
    return None


def _migrations(app: Flask) -> str | None:
    from service.core.db import current_revision, head_revision

    try:
        current = current_revision(app.extensions["qujat.database"])
    except Exception as error:  # reported by the database check too
        return f"the schema revision cannot be read: {_first_line(error)}"
    if current != head_revision():
        return f"the schema is at {current or 'nothing'}, the code at {head_revision()}: " \
               "run `qujat db upgrade`"
    return None


def _trust(app: Flask) -> str | None:
    from service.signatures.intake import SigningUnavailable

    try:
        app.extensions["qujat.signatures"].trust.anchors()
    except SigningUnavailable as error:
        return f"signatures cannot be verified: {error}"
    return None


def _revocation(app: Flask) -> str | None:
    from service.observability.metrics import revocation_age

    settings = app.extensions["qujat.settings"]
    if settings.revocation_mode != "require":
        return SKIPPED
    overdue = []
    for family in revocation_age(settings.trust_dir):
        if family.name == "qujat_revocation_crl_next_update_seconds":
            overdue += [sample.labels["file"] for sample in family.samples if sample.value < 0]
    if overdue:
        return f"CRLs past their next update: {', '.join(overdue)} (run `qujat trust refresh`)"
    return None


def _broker(app: Flask) -> str | None:
    batches = app.extensions.get("qujat.batches")
    if batches is None or batches.settings.executor != "celery":
        return SKIPPED
    from kombu.connection import Connection

    url = batches.settings.broker_url
    try:
        with Connection(url, connect_timeout=_TIMEOUT_SECONDS) as connection:  # type: ignore[no-untyped-call]
            connection.ensure_connection(max_retries=1, timeout=_TIMEOUT_SECONDS)
    except Exception as error:  # kombu raises the transport's own errors
        return f"the broker does not answer: {_first_line(error)}"
    return None


CHECKS: dict[str, Callable[[Flask], str | None]] = {
    "database": _database,
    "migrations": _migrations,
    "trust": _trust,
    "revocation": _revocation,
    "broker": _broker,
}


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


def readiness(app: Flask) -> list[Check]:
    checks = []
    for name, check in CHECKS.items():
        problem = check(app)
        detail = "ok" if problem is None else "not used with these settings" if problem == SKIPPED \
            else problem
        checks.append(Check(name, not problem, detail))
    return checks


def install(app: Flask) -> None:
    from flask import jsonify

    from service.core.errors import Problem
    from service.core.messages import message
    from service.forms.decisions import Violation

    @app.get("/healthz")
    def healthz() -> Response:
        return jsonify(status="ok")

    @app.get("/readyz")
    def readyz() -> Response:
        checks = readiness(app)
        body = {check.name: {"ok": check.ok, "detail": check.detail} for check in checks}
        failing = [check for check in checks if not check.ok]
        if failing:
            names = ", ".join(check.name for check in failing)
            raise Problem(
                503, "not-ready", message("not_ready", "en", {"failing": names}),
                [Violation(f"/checks/{check.name}", "check_failed",
                           {"check": check.name, "detail": check.detail})
                 for check in failing],
                headers={"Retry-After": "10"},
                extra={"checks": body,
                       "checked_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")},
            )
        return jsonify(status="ready", checks=body)
