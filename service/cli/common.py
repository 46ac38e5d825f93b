"""What every command group shares: settings, the database, the registry, error output."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from service.core.messages import message
from service.forms.decisions import InvalidDecision

if TYPE_CHECKING:
    from service.core.config import Settings
    from service.core.db import Database
    from service.core.periodic import Periodic
    from service.forms.rendering import Renderer
    from service.registry.issuing import Registry


def fail_invalid(error: InvalidDecision, language: str) -> None:
    header = message("cli_invalid_decision", language,  # type: ignore[arg-type]
                     {"count": len(error.violations)})
    click.echo(header, err=True)
    for v in error.violations:
        text = message(v.code, language, dict(v.params))  # type: ignore[arg-type]
        click.echo(f"  {v.pointer or '/'}: {text} [{v.code}]", err=True)
    sys.exit(2)


def load_settings() -> Settings:
    from service.core.config import Settings, SettingsError

    try:
        return Settings.from_env()
    except SettingsError as error:
        raise click.ClickException(str(error)) from None


def open_database(settings: Settings) -> Database:
    """The database at the code's schema revision: SQLite is upgraded as `qujat serve` does
    (so a first `qujat token create` just works), PostgreSQL only by `qujat db upgrade`."""
    from service.core.db import Database, DatabaseNotReady, ensure_schema

    database = Database(settings.database_url)
    try:
        ensure_schema(database, auto_upgrade=database.dialect == "sqlite")
    except DatabaseNotReady as error:
        database.dispose()
        raise click.ClickException(str(error)) from None
    return database


def build_registry(
    settings: Settings, database: Database, renderer: Renderer | None = None
) -> Registry:
    from service.core.faults import parse_faults
    from service.forms.decisions import system_clock
    from service.registry.issuing import Registry
    from service.registry.storage import open_store

    if renderer is None:
        from service import shared_renderer

        renderer = shared_renderer()
    return Registry(
        database,
        open_store(settings, database),
        renderer,
        clock=system_clock,
        public_base_url=settings.public_base_url,
        faults=parse_faults(settings.testing_faults),
    )


def run_until_stopped(worker: Periodic, database: Database) -> None:
    """`worker`'s passes in this process until SIGTERM or Ctrl-C; the database closed after."""
    import signal

    signal.signal(signal.SIGTERM, lambda *_: worker.stop())
    try:
        worker.run()
    except KeyboardInterrupt:
        pass
    finally:
        database.dispose()
