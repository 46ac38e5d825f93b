"""`qujat batch submit|status|dispatch` and `qujat worker`.

`batch submit` and `batch status` are clients of a running server (--url, --token or
QUJAT_URL, QUJAT_TOKEN); `batch dispatch` and `worker` run the executors themselves, against
the database and files of the QUJAT_* settings.

Exit codes of `batch submit`: 0 every item issued; 1 some items failed (they are listed);
2 the server refused the batch; 3 still running when --timeout ran out.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from service.cli.signatures import refusal_header
from service.core.messages import MESSAGE_LANGUAGES

if TYPE_CHECKING:
    from service.batches.queue import BatchSettings
    from service.core.config import Settings

DEFAULT_URL = "http://127.0.0.1:8000"


class ApiError(Exception):
    def __init__(self, status: int, body: Any) -> None:
        self.status = status
        self.body = body
        super().__init__(f"HTTP {status}")


class Client:
    """A few calls of the qujat API over urllib (no dependency beyond the standard library)."""

    def __init__(self, url: str, token: str, language: str, timeout: float = 120) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.language = language
        self.timeout = timeout

    def call(
        self, method: str, path: str, data: bytes | None = None, content_type: str | None = None
    ) -> Any:
        request = urllib.request.Request(  # noqa: S310 - the URL is the operator's own server
            self.url + path, data=data, method=method,
            headers={"Authorization": f"Bearer {self.token}", "Accept-Language": self.language,
                     **({"Content-Type": content_type} if content_type else {})},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:  # noqa: S310
                return json.loads(answer.read())
        except urllib.error.HTTPError as error:
            raw = error.read()
            try:
                body = json.loads(raw)
            except ValueError:
                body = raw.decode("utf-8", "replace")
            raise ApiError(error.code, body) from None
        except urllib.error.URLError as error:
            raise click.ClickException(f"cannot reach {self.url}: {error.reason}") from None


def _client_options(command: Any) -> Any:
    command = click.option("--url", envvar="QUJAT_URL", default=DEFAULT_URL, show_default=True,
                           help="The qujat server (or QUJAT_URL).")(command)
    command = click.option("--token", envvar="QUJAT_TOKEN", required=True,
                           help="The platform's API token (or QUJAT_TOKEN).")(command)
    return click.option("--messages", type=click.Choice(MESSAGE_LANGUAGES), default="en",
                        show_default=True, help="Language of error reasons.")(command)


def _refused(error: ApiError, language: str) -> None:
    body: dict[str, Any] = (
        error.body if isinstance(error.body, dict) else {"detail": str(error.body)}
    )
    if language == "en":
        click.echo(f"refused (HTTP {error.status}): {body.get('detail', '')}", err=True)
    else:
        click.echo(refusal_header(error.status, body, language), err=True)
    for problem in body.get("errors", []):
        click.echo(f"  {problem['pointer'] or '/'}: {problem['reason']} [{problem['code']}]",
                   err=True)
    sys.exit(2)


def _summary(status: dict[str, Any], failed_items: list[dict[str, Any]],
             seconds: float | None = None, lines: list[int] | None = None) -> None:
    """The counts and every failed item; `lines`: the file line of each item (NDJSON)."""
    took = f" in {seconds:.1f} s" if seconds is not None else ""
    click.echo(
        f"batch {status['id']}: {status['total']} item(s), {status['done']} issued, "
        f"{status['failed']} failed, {status['queued'] + status['running']} unfinished{took}"
    )
    if failed_items:
        click.echo("failed items:")
    for item in failed_items:
        problem = item.get("problem", {})
        where = f" (line {lines[item['index']]})" if lines else ""
        click.echo(f"  #{item['index']}{where} {item['decision_id'] or '(no decision_id)'}: "
                   f"{problem.get('detail', '')}")
        for error in problem.get("errors", []):
            click.echo(f"      {error['pointer'] or '/'}: {error['reason']} [{error['code']}]")


@click.group("batch")
def batch_group() -> None:
    """Issue a whole session's decisions as one batch."""


@batch_group.command("submit")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_client_options
@click.option("--poll", default=0.5, show_default=True, type=click.FloatRange(min=0.05),
              help="Seconds between progress checks.")
@click.option("--timeout", default=3600.0, show_default=True, type=click.FloatRange(min=0),
              help="Give up watching after this many seconds (the batch goes on).")
@click.option("--no-wait", is_flag=True, help="Print the batch id and return at once.")
def batch_submit(file: Path, url: str, token: str, messages: str, poll: float,
                 timeout: float, no_wait: bool) -> None:
    """Submit FILE (.ndjson: one request per line; .json: an array) and watch it finish."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    client = Client(url, token, messages)
    media = "application/x-ndjson" if file.suffix.lower() == ".ndjson" else "application/json"
    started = time.monotonic()
    body = file.read_bytes()
    try:
        submitted = client.call("POST", "/api/v1/batches", body, media)
    except ApiError as error:
        _refused(error, messages)
    batch_id = submitted["id"]
    click.echo(f"batch {batch_id}: {submitted['total']} item(s), {submitted['queued']} queued, "
               f"{submitted['failed']} invalid", err=True)
    if no_wait:
        click.echo(batch_id)
        return
    path = f"/api/v1/batches/{batch_id}"
    status = client.call("GET", path + "?items=none")
    deadline = started + timeout
    with Progress(
        TextColumn("[bold]issuing"), BarColumn(), MofNCompleteColumn(),
        TextColumn("[red]{task.fields[failed]} failed"), TimeElapsedColumn(),
        TimeRemainingColumn(), console=Console(stderr=True), transient=False,
    ) as progress:
        task = progress.add_task("batch", total=status["total"], failed=status["failed"])
        while True:
            progress.update(task, completed=status["done"] + status["failed"],
                            failed=status["failed"])
            if status["state"] == "completed" or time.monotonic() >= deadline:
                break
            time.sleep(poll)
            status = client.call("GET", path + "?items=none")
    failed = client.call("GET", path + "?items=failed")["items"] if status["failed"] else []
    _summary(status, failed, time.monotonic() - started, _item_lines(body, media))
    if status["state"] != "completed":
        click.echo(f"still running; see `qujat batch status {batch_id}`", err=True)
        sys.exit(3)
    if failed:
        sys.exit(1)


def _item_lines(body: bytes, media: str) -> list[int] | None:
    """For NDJSON, the line number of each item (the server skips blank lines)."""
    if media != "application/x-ndjson":
        return None
    return [n for n, line in enumerate(body.split(b"\n"), start=1) if line.strip()]


@batch_group.command("status")
@click.argument("batch_id")
@_client_options
def batch_status(batch_id: str, url: str, token: str, messages: str) -> None:
    """The counts of batch BATCH_ID and its failed items."""
    client = Client(url, token, messages)
    try:
        status = client.call("GET", f"/api/v1/batches/{batch_id}?items=failed")
    except ApiError as error:
        _refused(error, messages)
    _summary(status, status["items"])


def load_settings() -> tuple[Settings, BatchSettings]:
    from service.batches.queue import BatchSettings
    from service.core.config import Settings, SettingsError
    from service.core.db import Database, DatabaseNotReady, ensure_schema

    try:
        core, settings = Settings.from_env(), BatchSettings.from_env()
    except SettingsError as error:
        raise click.ClickException(str(error)) from None
    database = Database(core.database_url)
    try:
        ensure_schema(database, auto_upgrade=database.dialect == "sqlite")
    except DatabaseNotReady as error:
        raise click.ClickException(str(error)) from None
    finally:
        database.dispose()
    return core, settings


@batch_group.command("dispatch")
def batch_dispatch() -> None:
    """Run the local executor in the foreground (what `qujat serve` runs in a worker)."""
    from service.batches.queue import LocalDispatcher
    from service.core.db import Database

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    core, settings = load_settings()
    database = Database(core.database_url)
    dispatcher = LocalDispatcher(database, core, settings)
    signal.signal(signal.SIGTERM, lambda *_: dispatcher.stop(timeout=0))
    click.echo(f"dispatching batch items with {settings.processes} process(es)", err=True)
    try:
        dispatcher.run_until_stopped()
    except KeyboardInterrupt:
        pass
    finally:
        dispatcher.stop()
        database.dispose()


@click.command("worker")
@click.option("--concurrency", default=2, show_default=True, type=click.IntRange(min=1),
              help="Worker processes (each renders one item at a time).")
@click.option("--loglevel", default="INFO", show_default=True)
def worker_command(concurrency: int, loglevel: str) -> None:
    """Run a Celery worker for batch items (QUJAT_BROKER_URL), with the reconciler."""
    from celery import signals

    from service.batches.tasks import Reconciler, configure
    from service.core.db import Database

    core, settings = load_settings()
    app = configure(core, settings)
    reconcilers: list[Reconciler] = []

    def start_reconciler(**_: Any) -> None:
        reconciler = Reconciler(Database(core.database_url), settings)
        reconciler.start()
        reconcilers.append(reconciler)

    signals.worker_ready.connect(start_reconciler, weak=False)
    app.worker_main([
        "worker", f"--concurrency={concurrency}", f"--loglevel={loglevel}", "--pool=prefork",
        f"--queues={settings.queue}", f"--hostname=qujat-{os.getpid()}@{socket.gethostname()}",
        "--without-gossip", "--without-mingle", "--without-heartbeat",
    ])
    for reconciler in reconcilers:
        reconciler.stop()
