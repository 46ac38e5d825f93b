"""What an operator sees of a running qujat: Prometheus metrics (`/metrics`), health and
readiness (`/healthz`, `/readyz`) and one log line per request and per background job.

`install(app)` wires all three into the application; see docs/operations.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


def install(app: Flask) -> None:
    from service.observability import health, logs, metrics

    logs.install(app)
    metrics.install(app)
    health.install(app)
