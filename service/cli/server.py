"""`qujat serve`: the HTTP service under gunicorn."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    pass

from service.cli.common import build_registry, load_settings


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int)
@click.option(
    "--threads",
    default=2,
    show_default=True,
    type=int,
    help="Threads per worker: one renders while another waits on the disk or the database.",
)
def serve(host: str, port: int, workers: int, threads: int) -> None:
    """Run the service with gunicorn (settings come from QUJAT_* environment variables).

    Before the workers start: an empty or outdated SQLite database is upgraded (PostgreSQL
    must be upgraded with `qujat db upgrade`), and documents left pending by a crash are
    completed.
    """
    from gunicorn.app.base import BaseApplication

    from service import create_app, shared_renderer
    from service.cli.http_server import say_when_listening
    from service.core.db import Database, DatabaseNotReady, ensure_schema

    settings = load_settings()
    database = Database(settings.database_url)
    try:
        ensure_schema(database, auto_upgrade=database.dialect == "sqlite")
        repaired = build_registry(settings, database, shared_renderer()).repair()
    except DatabaseNotReady as error:
        raise click.ClickException(str(error)) from None
    finally:
        database.dispose()
    for document in repaired:
        click.echo(f"completed pending document {document.registration_number}")
    app = create_app(settings)

    def post_fork(_server: Any, _worker: Any) -> None:
        # never share the master's connections (it has none, but a pool is cheap to reset)
        app.extensions["qujat.database"].engine.dispose(close=False)

    class _Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("threads", threads)
            self.cfg.set("accesslog", "-")
            self.cfg.set("logger_class", "service.cli.http_server.MaskingLogger")
            self.cfg.set("post_fork", post_fork)
            # problem+json for gunicorn's own refusals, Connection: close after errors
            self.cfg.set("worker_class", "service.cli.http_server.ProblemWorker")
            self.cfg.set("when_ready", say_when_listening(f"http://{host}:{port}", workers))

        def load(self) -> Any:
            return app

    _Server().run()
