"""One log line per request and per background job; JSON for machines, text for people.

`QUJAT_LOG_FORMAT=json` (the default of `qujat serve`, `qujat worker` and `qujat mail worker`)
writes every log record as one JSON object per line on stderr; `text` writes the same as plain
lines, for development. A request's line carries `request_id` (the caller's `X-Request-Id` when
it is a short token, else a new one; answered in the same header), `method`, `route` (the URL
rule, never the path: a path may hold an IIN), `status`, `duration_ms` and, when the route names
one, `document_id`. A background job's line carries `job`, its outcome and duration. Never an IIN,
a token or a query string: every run of exactly twelve digits and every API token (`qj_…`)
left in a message is masked too.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import sys
import time
import uuid
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask, Response

FORMATS = ("json", "text")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_TWELVE_DIGITS = re.compile(r"(?<!\d)\d{12}(?!\d)")
_API_TOKEN = re.compile(r"qj_[A-Za-z0-9_-]{8,}")  # service.registry.tokens.TOKEN_PREFIX
request_log = logging.getLogger("qujat.request")
job_log = logging.getLogger("qujat.job")


def log_format(env: dict[str, str] | None = None) -> str:
    value = (os.environ if env is None else env).get("QUJAT_LOG_FORMAT") or "json"
    if value not in FORMATS:
        raise ValueError(f"QUJAT_LOG_FORMAT must be json or text, got {value!r}")
    return value


def _masked(text: str) -> str:
    return _API_TOKEN.sub("qj_***", _TWELVE_DIGITS.sub("*" * 12, text))


class JsonFormatter(logging.Formatter):
    """A record as one JSON line: time, level, logger, message, and its `fields`."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": _masked(record.getMessage()),
        }
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["exception"] = _masked(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = getattr(record, "fields", {})
        if fields:
            line += " " + " ".join(f"{k}={v}" for k, v in fields.items())
        return _masked(line)


def formatter(kind: str) -> logging.Formatter:
    return JsonFormatter() if kind == "json" else TextFormatter()


def configure(kind: str | None = None) -> str:
    """The root logger writes to stderr in `kind` (QUJAT_LOG_FORMAT by default): qujat's own
    records from INFO, the libraries' (WeasyPrint's progress, Alembic's steps) from WARNING."""
    kind = kind or log_format()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter(kind))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    for ours in ("qujat", "service"):
        logging.getLogger(ours).setLevel(logging.INFO)
    return kind


def job(name: str, outcome: str, started: float, **fields: Any) -> None:
    """One background job's line (a batch item, an e-mail): what, how it ended, how long."""
    job_log.info("%s %s", name, outcome, extra={"fields": {
        "job": name, "outcome": outcome,
        "duration_ms": round((time.perf_counter() - started) * 1000, 1), **fields}})


def install(app: Flask) -> None:
    from flask import g, request

    @app.before_request
    def _request_id() -> None:
        given = request.headers.get("X-Request-Id", "")
        g.qujat_request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
        g.qujat_request_started = time.perf_counter()

    @app.after_request
    def _log(response: Response) -> Response:
        request_id = g.get("qujat_request_id")
        if request_id is None:
            return response
        response.headers["X-Request-Id"] = request_id
        fields: dict[str, Any] = {
            "request_id": request_id,
            "method": request.method,
            "route": request.url_rule.rule if request.url_rule is not None else "<unmatched>",
            "status": response.status_code,
            "duration_ms": round((time.perf_counter() - g.qujat_request_started) * 1000, 1),
        }
        document = (request.view_args or {}).get("document_id")
        if isinstance(document, uuid.UUID):
            fields["document_id"] = str(document)
        request_log.info("%s %s %s", request.method, fields["route"], response.status_code,
                         extra={"fields": fields})
        return response
