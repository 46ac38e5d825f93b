"""What guards the public routes: a per-client rate limit and strict response headers.

The public routes (verify pages and API, upload, published lists) answer anyone, so each
client (by remote address; run behind a proxy that sets it, e.g. with ProxyFix) gets one
budget for all of them (QUJAT_VERIFY_RATE_LIMIT, "60 per minute" by default). An upload
costs ten requests, a surname guess five: those are the expensive and the guessable ones.
Counters live in a SQLite file of the data folder that every worker of the machine shares
(service.web.shared_counters), so the budget is the stated one whatever the number of workers;
QUJAT_RATE_LIMIT_STORAGE=redis://… shares it between machines.

Every public response is `no-store` (a verification answer is about now, and may carry a full
name) with a CSP that allows nothing but the service's own stylesheet.
"""

from __future__ import annotations

import math
import time

from flask import Flask, Response, render_template, request
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address

from service.core.config import Settings
from service.core.errors import Problem, problem_response
from service.core.messages import message
from service.web.shared_counters import shared_storage_uri

PUBLIC_PREFIXES = ("/verify", "/published/", "/api/v1/verify/")
STATIC_PREFIX = "/static/"
UPLOAD_PATHS = ("/verify/upload", "/api/v1/verify/upload")
UPLOAD_COST = 10
SURNAME_COST = 5

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def is_public(path: str) -> bool:
    return path.startswith(PUBLIC_PREFIXES)


def _cost() -> int:
    if request.method == "POST" and request.path in UPLOAD_PATHS:
        return UPLOAD_COST
    if "surname" in request.args or (request.method == "POST" and request.path != "/verify"):
        return SURNAME_COST
    return 1


def protect_public(app: Flask, settings: Settings) -> Limiter:
    """Install the rate limit, its 429 answers and the security headers on the public routes."""
    limiter = Limiter(
        get_remote_address,
        app=app,
        storage_uri=settings.rate_limit_storage or shared_storage_uri(settings.data_dir),
        application_limits=[settings.verify_rate_limit],
        application_limits_exempt_when=lambda: not is_public(request.path),
        application_limits_cost=_cost,
        strategy="fixed-window",
        headers_enabled=False,  # Retry-After is set below, on the 429 only
        key_prefix="qujat",
    )
    app.extensions["qujat.limiter"] = limiter

    @app.errorhandler(RateLimitExceeded)
    def _limited(error: RateLimitExceeded) -> Response:
        current = limiter.current_limit
        reset_at = current.reset_at if current is not None else time.time() + 60
        seconds = max(1, math.ceil(reset_at - time.time()))
        headers = {"Retry-After": str(seconds)}
        if request.path.startswith("/api/"):
            detail = message("rate_limited", "en", {"seconds": seconds})
            return problem_response(Problem(429, "rate-limited", detail, headers=headers))
        from service.web import texts
        from service.web.pages import page_language

        language = page_language()
        page = render_template(
            "public/message.html",
            language=language,
            t=texts.TEXTS,
            title=texts.text("error", language),
            message=texts.text("rate_limited", language, seconds=seconds),
            switch_url=None,
        )
        return Response(page, 429, headers=headers, mimetype="text/html")

    @app.after_request
    def _headers(response: Response) -> Response:
        path = request.path
        if is_public(path):
            response.headers["Cache-Control"] = "no-store"
            response.headers.update(SECURITY_HEADERS)
        elif path.startswith(STATIC_PREFIX):
            response.headers.update(SECURITY_HEADERS)
        return response

    return limiter
