"""One error shape for the whole API: RFC 9457 problem details (application/problem+json).

Domain code raises its own exceptions (InvalidDecision, …); each module says once, with
`register_problem`, which problem its exceptions are, and that answers both a single request
(an error handler) and a batch item (`problem_of`, no request needed). Every problem lists
`errors: [{pointer, code, reason}]` so a caller learns which field is wrong and why, in Kazakh,
Russian or English (Accept-Language). An answer lists at most MAX_LISTED_ERRORS of them and
says in `errors_omitted` how many more there were, so that no request, however bad, makes
an error answer larger than a few tens of kilobytes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol, TypeVar

from flask import Flask, Response, json, request
from werkzeug.exceptions import HTTPException

from service.core.messages import MESSAGE_LANGUAGES, MessageLanguage, message
from service.forms.decisions import InvalidDecision, Violation

PROBLEM_JSON = "application/problem+json"
MAX_LISTED_ERRORS = 100
_TYPE_BASE = "https://qujat.kz/problems/"

_TITLES: dict[int, str] = {
    400: "Malformed request",
    401: "Authentication required",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request too large",
    414: "URI too long",
    415: "Unsupported media type",
    422: "Unprocessable content",
    429: "Too many requests",
    431: "Request header fields too large",
    500: "Internal error",
}
# problem types whose title says more than their status's name
_SLUG_TITLES: dict[str, str] = {
    "invalid-decision": "Invalid decision",
    "invalid-batch": "Invalid batch",
    "invalid-citation": "Invalid protocol citation",
    "invalid-revocation": "Invalid revocation",
    "invalid-webhook": "Invalid webhook",
    "invalid-supersession": "Invalid supersession",
    "invalid-signature-request": "Invalid signature request",
    "not-ready": "Not ready",
}


def problem_title(status: int, slug: str) -> str:
    """The problem's title: its type's own, else its status's name (RFC 9457 §3.1.3)."""
    return _SLUG_TITLES.get(slug) or _TITLES.get(status, "Error")


class Problem(Exception):
    """An error meant for the API caller; `slug` names the problem type."""

    def __init__(
        self,
        status: int,
        slug: str,
        detail: str,
        violations: Iterable[Violation] = (),
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.slug = slug
        self.detail = detail
        self.violations = tuple(violations)
        self.headers = headers or {}
        self.extra = extra or {}


def response_language() -> MessageLanguage:
    best = request.accept_languages.best_match(MESSAGE_LANGUAGES, default="en")
    return next((lang for lang in MESSAGE_LANGUAGES if lang == best), "en")


def error_list(
    violations: Sequence[Violation], language: MessageLanguage
) -> dict[str, Any]:
    """The `errors` member of a problem (the first MAX_LISTED_ERRORS violations) and, when
    some were left out, `errors_omitted` with their number."""
    listed: dict[str, Any] = {
        "errors": [
            {
                "pointer": v.pointer,
                "code": v.code,
                "reason": message(v.code, language, dict(v.params)),
            }
            for v in violations[:MAX_LISTED_ERRORS]
        ]
    }
    if len(violations) > MAX_LISTED_ERRORS:
        listed["errors_omitted"] = len(violations) - MAX_LISTED_ERRORS
    return listed


class ProblemDetails(Protocol):
    """What a problem body is made of: a `Problem`, or one stored for a batch item."""

    @property
    def status(self) -> int: ...
    @property
    def slug(self) -> str: ...
    @property
    def detail(self) -> str: ...
    @property
    def violations(self) -> Sequence[Violation]: ...
    @property
    def extra(self) -> Mapping[str, Any]: ...


def problem_body(
    problem: ProblemDetails, language: MessageLanguage, instance: str | None = None
) -> dict[str, Any]:
    """The RFC 9457 body of `problem`, its reasons worded in `language`."""
    body: dict[str, Any] = {
        "type": _TYPE_BASE + problem.slug,
        "title": problem_title(problem.status, problem.slug),
        "status": problem.status,
        "detail": problem.detail,
    }
    if instance is not None:
        body["instance"] = instance
    body.update(problem.extra)
    if problem.violations:
        body.update(error_list(problem.violations, language))
    return body


def problem_response(problem: Problem) -> Response:
    language = response_language()
    body = problem_body(problem, language, instance=request.path)
    response = Response(json.dumps(body, ensure_ascii=False), problem.status, mimetype=PROBLEM_JSON)
    response.headers["Content-Language"] = language
    for name, value in problem.headers.items():
        response.headers[name] = value
    return response


def single(status: int, slug: str, code: str, pointer: str = "", **params: object) -> Problem:
    """A problem with one violation whose text comes from the message catalogue."""
    return Problem(status, slug, message(code, "en", params), [Violation(pointer, code, params)])


E = TypeVar("E", bound=Exception)
_PROBLEMS = "qujat.problems"


def register_problem(app: Flask, kind: type[E], to_problem: Callable[[E], Problem]) -> None:
    """`kind` raised while handling a request answers `to_problem(error)`, and so does a batch
    item that raises it (`problem_of`): one mapping for both."""
    app.extensions.setdefault(_PROBLEMS, {})[kind] = to_problem
    app.register_error_handler(kind, lambda error: problem_response(to_problem(error)))


def problem_of(app: Flask, error: BaseException) -> Problem | None:
    """The problem `error` is for a caller (the nearest registered class), or None."""
    found: dict[type[Exception], Callable[[Any], Problem]] = app.extensions.get(_PROBLEMS, {})
    for kind in type(error).__mro__:
        if kind in found:
            return found[kind](error)
    return None


def invalid_decision(error: InvalidDecision) -> Problem:
    return Problem(
        422, "invalid-decision", "The decision breaks its schema or the act's rules.",
        error.violations,
    )


def register(app: Flask) -> None:
    register_problem(app, Problem, lambda error: error)
    register_problem(app, InvalidDecision, invalid_decision)

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> Response:
        status = error.code or 500
        if status == 413:
            limit = app.config.get("MAX_CONTENT_LENGTH")
            return problem_response(single(413, "too-large", "too_large", "", limit=limit))
        allowed = sorted(getattr(error, "valid_methods", None) or ())
        if status == 404:
            # no route, or a path part its converter refused (a malformed document id)
            problem = single(404, "not-found", "not_found", "")
        elif status == 405:
            problem = single(405, "method-not-allowed", "method_not_allowed", "",
                             method=request.method, allowed=", ".join(allowed))
        else:
            problem = Problem(status, "http-" + str(status), error.description or "")
        response = problem_response(problem)
        if status == 405 and allowed:
            response.headers["Allow"] = ", ".join(allowed)
        return response

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        app.logger.exception("unhandled error", exc_info=error)
        return problem_response(Problem(500, "internal", "The server failed; nothing was stored."))
