"""`qujat webhooks`: send the webhook deliveries that are due (once, or continuously)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from service.cli.common import load_settings, open_database, run_until_stopped

if TYPE_CHECKING:
    from service.core.config import Settings
    from service.core.db import Database
    from service.webhooks.outbox import Webhooks


@click.group("webhooks")
def webhooks_group() -> None:
    """Webhook deliveries to the platforms' endpoints."""


def _webhooks(settings: Settings, database: Database) -> Webhooks:
    from service.forms.decisions import system_clock
    from service.webhooks.outbox import Webhooks, install_observer

    install_observer()
    return Webhooks(database, clock=system_clock, allow_private=settings.webhook_allow_private,
                    timeout=settings.webhook_timeout)


@webhooks_group.command("deliver")
def webhooks_deliver() -> None:
    """Send every delivery that is due now, once (for cron and tests)."""
    settings = load_settings()
    database = open_database(settings)
    try:
        report = _webhooks(settings, database).deliver_pending()
    finally:
        database.dispose()
    click.echo(f"delivered {report.delivered}, will retry {report.retrying}, "
               f"failed {report.failed}")


@webhooks_group.command("worker")
@click.option("--interval", default=2.0, show_default=True, type=click.FloatRange(min=0.1),
              help="Seconds between two looks at the deliveries.")
def webhooks_worker(interval: float) -> None:
    """Send deliveries continuously until stopped (SIGTERM or Ctrl-C)."""
    from service.observability import logs
    from service.webhooks.outbox import WebhookWorker

    logs.configure()
    settings = load_settings()
    database = open_database(settings)
    worker = WebhookWorker(_webhooks(settings, database), interval)
    click.echo(f"webhook worker: every {interval}s")
    run_until_stopped(worker, database)
