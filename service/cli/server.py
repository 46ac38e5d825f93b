"""`qujat serve`: the HTTP service under gunicorn."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from service.cli.common import build_registry, load_settings

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"  # read by prometheus_client when it is imported


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
    settings = load_settings()
    # before anything imports prometheus_client: every worker's metrics in one folder
    metrics_folder = _metrics_folder(settings.data_dir / "metrics")
    from gunicorn.app.base import BaseApplication
    from prometheus_client import multiprocess

    from service import create_app, shared_renderer
    from service.cli.http_server import say_when_listening
    from service.core.db import Database, DatabaseNotReady, ensure_schema
    from service.observability import logs

    try:
        log_kind = logs.configure()
    except ValueError as error:
        raise click.ClickException(str(error)) from None
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

    def child_exit(_server: Any, worker: Any) -> None:
        multiprocess.mark_process_dead(worker.pid, str(metrics_folder))  # type: ignore[no-untyped-call]

    class _Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("threads", threads)
            # JSON: the application's own line per request replaces gunicorn's access log
            self.cfg.set("accesslog", "-" if log_kind == "text" else None)
            self.cfg.set("logger_class", "service.cli.http_server.MaskingLogger")
            self.cfg.set("post_fork", post_fork)
            self.cfg.set("child_exit", child_exit)
            # problem+json for gunicorn's own refusals, Connection: close after errors
            self.cfg.set("worker_class", "service.cli.http_server.ProblemWorker")
            self.cfg.set("when_ready", say_when_listening(f"http://{host}:{port}", workers))

        def load(self) -> Any:
            return app

    _Server().run()


def _metrics_folder(folder: Path) -> Path:
    """An empty folder for this server's metric files, named in PROMETHEUS_MULTIPROC_DIR
    (a folder the operator set is used as it is, emptied the same way)."""
    folder = Path(os.environ.get(MULTIPROCESS_ENV) or folder)
    if folder.is_dir():
        for stale in folder.glob("*.db"):
            stale.unlink()
    folder.mkdir(parents=True, exist_ok=True)
    os.environ[MULTIPROCESS_ENV] = str(folder)
    return folder
