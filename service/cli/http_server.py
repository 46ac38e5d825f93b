"""What `qujat serve` adds to gunicorn, so that the HTTP edge speaks as the application does.

- `ProblemWorker`: gunicorn's threaded worker whose own refusals (a request line over
  `limit_request_line`, headers over `limit_request_fields` / `limit_request_field_size`, a
  malformed request) answer RFC 9457 problem+json like every application error, instead of
  gunicorn's HTML page; and whose error answers to a request with a body say
  `Connection: close` (the application may have refused it unread, e.g. 413 or 401), instead of
  keep-alive followed by a closed connection.
- `say_when_listening`: a `when_ready` hook, so "listening" is printed once the port is bound,
  never for a port another server holds.
- `MaskingLogger`: gunicorn's logger whose access log blanks every 12-digit run (an IIN, as in
  GET /api/v1/signers/{iin}/pending) of the request line, path and query.

Run gunicorn yourself with `-k service.http_server.ProblemWorker` to get the same answers.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterable
from typing import Any

import click
from gunicorn import util
from gunicorn.glogging import Logger
from gunicorn.workers.gthread import ThreadWorker

from service.core.errors import _TYPE_BASE, PROBLEM_JSON, problem_title
from service.core.messages import message

# gunicorn's status for a request it refuses → the code of the problem's one violation
_CODES = {414: "uri_too_long", 431: "headers_too_large", 400: "bad_request"}
_SLUGS = {414: "uri-too-long", 431: "headers-too-large", 400: "bad-request"}


def problem_answer(status: int, reason: str) -> bytes:
    """A whole HTTP/1.1 answer: the problem for `status`, in English (the request's
    Accept-Language was never read), and the connection closed after it."""
    code = _CODES.get(status, "request_refused")
    slug = _SLUGS.get(status, f"http-{status}")
    text = message(code, "en", {"status": status})
    body = json.dumps({
        "type": _TYPE_BASE + slug,
        "title": problem_title(status, slug),
        "status": status,
        "detail": text,
        "errors": [{"pointer": "", "code": code, "reason": text}],
    }, ensure_ascii=False).encode("utf-8")
    head = (f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\n"
            f"Content-Type: {PROBLEM_JSON}\r\nContent-Length: {len(body)}\r\n\r\n")
    return head.encode("latin-1") + body


def write_problem(sock: Any, status_int: int, reason: str, mesg: str) -> None:
    """In place of gunicorn.util.write_error (same signature): `mesg`, gunicorn's description
    with parts of the refused request in it, is left out of the answer."""
    util.write_nonblock(sock, problem_answer(status_int, reason))


_current = threading.local()

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def _has_body(environ: dict[str, Any]) -> bool:
    length = environ.get("CONTENT_LENGTH") or "0"
    return (length.isdigit() and int(length) > 0) or "HTTP_TRANSFER_ENCODING" in environ


class ProblemWorker(ThreadWorker):  # type: ignore[misc]
    """gunicorn's gthread worker with problem+json refusals and honest Connection headers."""

    wsgi: WsgiApp  # set by load_wsgi

    def init_process(self) -> None:
        # gunicorn's workers write every refusal through this one function
        util.write_error = write_problem
        super().init_process()

    def load_wsgi(self) -> None:
        super().load_wsgi()
        self.wsgi = self._closing_after_errors(self.wsgi)

    def handle_request(self, req: Any, conn: Any) -> Any:
        _current.request = req
        try:
            return super().handle_request(req, conn)
        finally:
            _current.request = None

    @staticmethod
    def _closing_after_errors(app: WsgiApp) -> WsgiApp:
        def wsgi(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
            def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
                request = getattr(_current, "request", None)
                if request is not None and int(status[:3]) >= 400 and _has_body(environ):
                    # before the headers are written: gunicorn then says Connection: close
                    request.must_close = True
                return start_response(status, headers, exc_info)

            return app(environ, start)

        return wsgi


def say_when_listening(url: str, workers: int) -> Callable[[Any], None]:
    """gunicorn's `when_ready` hook: the master has bound the port."""

    def when_ready(_arbiter: Any) -> None:
        click.echo(f"qujat listening on {url} ({workers} workers)")

    return when_ready


_IDENTIFIER = re.compile(r"(?<![0-9])[0-9]{12}(?![0-9])")


def mask_identifiers(text: str) -> str:
    """`text` with every run of exactly 12 digits (an IIN or a BIN) replaced by asterisks."""
    return _IDENTIFIER.sub("*" * 12, text)


class MaskingLogger(Logger):  # type: ignore[misc]
    """The access log without IINs: the request line, path and query are masked. With
    QUJAT_LOG_FORMAT=json, gunicorn's own lines are JSON too (service.observability.logs)."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        from service.observability.logs import JsonFormatter, log_format

        if log_format() == "json":
            for handler in (*self.error_log.handlers, *self.access_log.handlers):
                handler.setFormatter(JsonFormatter())

    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> Any:
        found = super().atoms(resp, req, environ, request_time)
        for key in ("r", "U", "q"):
            if isinstance(found.get(key), str):
                found[key] = mask_identifiers(found[key])
        return found

