"""The `qujat` console script."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from service.decisions import InvalidDecision
from service.messages import MESSAGE_LANGUAGES, message

if TYPE_CHECKING:
    from service.config import Settings
    from service.db import Database
    from service.registry import Registry
    from service.rendering import Renderer


def _fail_invalid(error: InvalidDecision, language: str) -> None:
    header = message("cli_invalid_decision", language,  # type: ignore[arg-type]
                     {"count": len(error.violations)})
    click.echo(header, err=True)
    for v in error.violations:
        text = message(v.code, language, dict(v.params))  # type: ignore[arg-type]
        click.echo(f"  {v.pointer or '/'}: {text} [{v.code}]", err=True)
    sys.exit(2)


@click.group()
@click.version_option(package_name="qujat")
def main() -> None:
    """qujat: official teacher-attestation documents for Kazakhstan."""


@main.command()
@click.argument("request_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Where to write the document; .pdf or .docx decides the format.",
)
@click.option(
    "--messages",
    type=click.Choice(MESSAGE_LANGUAGES),
    default="en",
    show_default=True,
    help="Language of error messages.",
)
def render(request_file: Path, output: Path, messages: str) -> None:
    """Render REQUEST_FILE ({"form", "language", "decision"}) to a PDF or DOCX file."""
    from service import shared_renderer
    from service.api.body import parse_json_bytes
    from service.api.render import parse_request
    from service.errors import Problem

    fmt = output.suffix.lower().lstrip(".")
    if fmt not in ("pdf", "docx"):
        raise click.BadParameter("the output must end in .pdf or .docx", param_hint="-o")
    try:
        payload: Any = parse_json_bytes(request_file.read_bytes())
    except Problem as problem:
        raise click.ClickException(f"{request_file}: {problem.detail}") from None
    if isinstance(payload, dict):
        payload = {**payload, "format": fmt}
    try:
        form, language, _, decision = parse_request(payload)
    except InvalidDecision as error:
        _fail_invalid(error, messages)
    renderer = shared_renderer()
    if fmt == "pdf":
        content = renderer.render_pdf(form, language, decision)
    else:
        content = renderer.render_docx(form, language, decision)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(content)
    click.echo(f"{output} ({len(content):,} bytes, {form.value}, {language})")


@main.command()
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
    from service.db import Database, DatabaseNotReady, ensure_schema
    from service.http_server import say_when_listening

    settings = _settings()
    database = Database(settings.database_url)
    try:
        ensure_schema(database, auto_upgrade=database.dialect == "sqlite")
        repaired = _registry(settings, database, shared_renderer()).repair()
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
            self.cfg.set("post_fork", post_fork)
            # problem+json for gunicorn's own refusals, Connection: close after errors
            self.cfg.set("worker_class", "service.http_server.ProblemWorker")
            self.cfg.set("when_ready", say_when_listening(f"http://{host}:{port}", workers))

        def load(self) -> Any:
            return app

    _Server().run()


# --------------------------------------------------------------------------- helpers


def _settings() -> Settings:
    from service.config import Settings, SettingsError

    try:
        return Settings.from_env()
    except SettingsError as error:
        raise click.ClickException(str(error)) from None


def _database(settings: Settings) -> Database:
    """The database at the code's schema revision: SQLite is upgraded as `qujat serve` does
    (so a first `qujat token create` just works), PostgreSQL only by `qujat db upgrade`."""
    from service.db import Database, DatabaseNotReady, ensure_schema

    database = Database(settings.database_url)
    try:
        ensure_schema(database, auto_upgrade=database.dialect == "sqlite")
    except DatabaseNotReady as error:
        database.dispose()
        raise click.ClickException(str(error)) from None
    return database


def _registry(settings: Settings, database: Database, renderer: Renderer | None = None) -> Registry:
    from service.decisions import system_clock
    from service.faults import parse_faults
    from service.registry import Registry
    from service.storage import FilesystemStore

    if renderer is None:
        from service import shared_renderer

        renderer = shared_renderer()
    return Registry(
        database,
        FilesystemStore(settings.storage_dir),
        renderer,
        clock=system_clock,
        public_base_url=settings.public_base_url,
        faults=parse_faults(settings.testing_faults),
    )


# --------------------------------------------------------------------------- db


@main.group()
def db() -> None:
    """The database schema (Alembic migrations shipped with qujat)."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Create or upgrade the schema of QUJAT_DATABASE_URL (or the default SQLite file)."""
    from service.db import Database, current_revision, upgrade

    database = Database(_settings().database_url)
    try:
        before = current_revision(database)
        upgrade(database, revision)
        after = current_revision(database)
    finally:
        database.dispose()
    click.echo(f"database at revision {after} (was {before or 'empty'})")


@db.command("current")
def db_current() -> None:
    """Print the schema revision of the database."""
    from service.db import Database, current_revision, head_revision

    database = Database(_settings().database_url)
    try:
        current = current_revision(database)
    finally:
        database.dispose()
    click.echo(f"{current or 'empty'} (this code: {head_revision()})")


# --------------------------------------------------------------------------- tokens


@main.group()
def token() -> None:
    """Platforms' API tokens."""


@token.command("create")
@click.option("--org", "org_code", required=True, help="The issuing body's code, e.g. KRG.")
@click.option("--org-name", help="The issuing body's full name, when it is new.")
@click.option("--name", "token_name", help="What this token is for (shown by `token list`).")
def token_create(org_code: str, org_name: str | None, token_name: str | None) -> None:
    """Create a token for ORG (created if needed); the token is printed once, on stdout."""
    from service.auth import InvalidOrganisationCode, create_token
    from service.decisions import system_clock

    database = _database(_settings())
    try:
        with database.write() as session:
            secret, row = create_token(
                session, org_code, clock=system_clock, organisation_name=org_name,
                token_name=token_name,
            )
            token_id = row.id
    except InvalidOrganisationCode as error:
        raise click.BadParameter(str(error), param_hint="--org") from None
    finally:
        database.dispose()
    click.echo(f"token {token_id} for {org_code} (shown once, store it now):", err=True)
    click.echo(secret)


@token.command("list")
def token_list() -> None:
    """List tokens (never the secrets)."""
    from sqlalchemy import select

    from service.models import ApiToken

    database = _database(_settings())
    try:
        with database.read() as session:
            for row in session.scalars(select(ApiToken).order_by(ApiToken.id)):
                state = f"revoked {row.revoked_at:%Y-%m-%d}" if row.revoked_at else "active"
                click.echo(f"{row.id}\t{row.organisation.code}\t{state}\t{row.name or ''}")
    finally:
        database.dispose()


@token.command("revoke")
@click.argument("token_id", type=int)
def token_revoke(token_id: int) -> None:
    """Revoke the token TOKEN_ID (see `token list`); it stops working at once."""
    from service.decisions import system_clock
    from service.models import ApiToken

    database = _database(_settings())
    try:
        with database.write() as session:
            row = session.get(ApiToken, token_id)
            if row is None:
                raise click.ClickException(f"no token {token_id}")
            if row.revoked_at is None:
                row.revoked_at = system_clock()
    finally:
        database.dispose()
    click.echo(f"token {token_id} revoked")


# --------------------------------------------------------------------------- registry


@main.group()
def registry() -> None:
    """Issued documents."""


@registry.command("repair")
def registry_repair() -> None:
    """Complete documents left pending by a crash (same number, same bytes)."""
    settings = _settings()
    database = _database(settings)
    try:
        repaired = _registry(settings, database).repair()
    finally:
        database.dispose()
    for document in repaired:
        click.echo(f"completed {document.registration_number} ({document.id})")
    click.echo(f"{len(repaired)} pending document(s) completed")


# --------------------------------------------------------------------------- storage


@main.group()
def storage() -> None:
    """The object store (content-addressed document files)."""


@storage.command("check")
def storage_check() -> None:
    """Re-hash every file a document refers to; exit 1 if any is missing or altered."""
    from service.registry import references as stored_references
    from service.signatures import signature_references
    from service.storage import FilesystemStore, check_objects

    settings = _settings()
    database = _database(settings)
    try:
        references = stored_references(database) + signature_references(database)
    finally:
        database.dispose()
    problems = list(check_objects(FilesystemStore(settings.storage_dir), references))
    for problem in problems:
        click.echo(problem.describe(), err=True)
    click.echo(f"{len(references)} object(s) checked, {len(problems)} problem(s)")
    if problems:
        sys.exit(1)


@storage.command("gc")
@click.option(
    "--grace-seconds",
    default=3600,
    show_default=True,
    type=click.IntRange(min=0),
    help="Keep unreferenced objects younger than this (requests still in flight).",
)
@click.option("--dry-run", is_flag=True, help="Only list what would be removed.")
def storage_gc(grace_seconds: int, dry_run: bool) -> None:
    """Remove stored objects no document refers to (orphans of failed requests)."""
    import datetime as dt

    from service.registry import references as stored_references
    from service.signatures import signature_references
    from service.storage import FilesystemStore, collect_garbage

    settings = _settings()
    database = _database(settings)
    try:
        # read the references first: anything stored after this read is inside the grace
        referenced = {r.sha256 for r in stored_references(database)}
        referenced |= {r.sha256 for r in signature_references(database)}
    finally:
        database.dispose()
    older_than = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=grace_seconds)
    removed = collect_garbage(
        FilesystemStore(settings.storage_dir), referenced, older_than=older_than,
        dry_run=dry_run,
    )
    verb = "would remove" if dry_run else "removed"
    for stored in removed:
        click.echo(f"{verb} {stored.key} ({stored.size} bytes)")
    click.echo(f"{verb} {len(removed)} object(s)")


# --------------------------------------------------------------------------- audit


@main.group()
def audit() -> None:
    """The hash-chained audit trail."""


@audit.command("verify")
def audit_verify() -> None:
    """Recompute the chain; exit 1 and name the first broken entry if it was tampered with."""
    from service.audit import verify

    database = _database(_settings())
    try:
        with database.read() as session:
            report = verify(session)
    finally:
        database.dispose()
    for broken in report.breaks:
        click.echo(f"BROKEN: {broken.reason}", err=True)
    if not report.intact:
        sys.exit(1)
    click.echo(f"audit trail intact: {report.entries} entries, head {report.head_hash}")


from service.cli_mail import calendar_group, deadlines_group, mail_group  # noqa: E402

main.add_command(calendar_group)
main.add_command(deadlines_group)
main.add_command(mail_group)


from service.cli_signing import commission_group, pki_group, sign_command  # noqa: E402

main.add_command(pki_group)
main.add_command(sign_command)
main.add_command(commission_group)


from service.cli_batch import batch_group, worker_command  # noqa: E402

main.add_command(batch_group)
main.add_command(worker_command)
