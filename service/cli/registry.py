"""The registry's commands: `qujat db`, `token`, `org`, `registry`, `storage` and `audit`."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    pass

from service.cli.common import build_registry, load_settings, open_database

# --------------------------------------------------------------------------- db


@click.group("db")
def db() -> None:
    """The database schema (Alembic migrations shipped with qujat)."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Create or upgrade the schema of QUJAT_DATABASE_URL (or the default SQLite file)."""
    from service.core.db import Database, current_revision, upgrade

    database = Database(load_settings().database_url)
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
    from service.core.db import Database, current_revision, head_revision

    database = Database(load_settings().database_url)
    try:
        current = current_revision(database)
    finally:
        database.dispose()
    click.echo(f"{current or 'empty'} (this code: {head_revision()})")


# --------------------------------------------------------------------------- tokens


@click.group("token")
def token() -> None:
    """Platforms' API tokens."""


@token.command("create")
@click.option("--org", "org_code", required=True, help="The issuing body's code, e.g. KRG.")
@click.option("--org-name", help="The issuing body's full name, when it is new.")
@click.option("--org-name-kk", help="Its full name in Kazakh (shown when verifying).")
@click.option("--org-name-ru", help="Its full name in Russian (shown when verifying).")
@click.option("--name", "token_name", help="What this token is for (shown by `token list`).")
def token_create(
    org_code: str, org_name: str | None, org_name_kk: str | None, org_name_ru: str | None,
    token_name: str | None,
) -> None:
    """Create a token for ORG (created if needed); the token is printed once, on stdout."""
    from service.forms.decisions import system_clock
    from service.registry.tokens import (
        InvalidOrganisationCode,
        InvalidOrganisationName,
        create_token,
    )

    database = open_database(load_settings())
    try:
        with database.write() as session:
            secret, row = create_token(
                session, org_code, clock=system_clock, organisation_name=org_name,
                token_name=token_name, name_kk=org_name_kk, name_ru=org_name_ru,
            )
            token_id = row.id
    except InvalidOrganisationCode as error:
        raise click.BadParameter(str(error), param_hint="--org") from None
    except InvalidOrganisationName as error:
        hint = "--org-" + error.field.replace("_", "-")
        raise click.BadParameter(str(error), param_hint=hint) from None
    finally:
        database.dispose()
    click.echo(f"token {token_id} for {org_code} (shown once, store it now):", err=True)
    click.echo(secret)


@token.command("list")
def token_list() -> None:
    """List tokens (never the secrets)."""
    from sqlalchemy import select

    from service.registry.models import ApiToken

    database = open_database(load_settings())
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
    from service.forms.decisions import system_clock
    from service.registry.models import ApiToken

    database = open_database(load_settings())
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


# --------------------------------------------------------------------------- organisations


@click.group("org")
def org() -> None:
    """Issuing bodies: their full names in Kazakh and Russian."""


@org.command("set")
@click.argument("org_code")
@click.option("--name-kk", help="The full name in Kazakh.")
@click.option("--name-ru", help="The full name in Russian.")
def org_set(org_code: str, name_kk: str | None, name_ru: str | None) -> None:
    """Record the full names of the existing issuing body ORG_CODE (shown when verifying)."""
    from sqlalchemy import select

    from service.forms.decisions import system_clock
    from service.registry.models import Organisation
    from service.registry.tokens import InvalidOrganisationName, organisation

    if name_kk is None and name_ru is None:
        raise click.UsageError("give --name-kk, --name-ru or both")
    database = open_database(load_settings())
    try:
        with database.write() as session:
            exists = session.scalars(
                select(Organisation.id).where(Organisation.code == org_code)
            ).first()
            if exists is None:
                raise click.BadParameter(f"there is no issuing body {org_code!r}",
                                         param_hint="ORG_CODE")
            found = organisation(session, org_code, None, system_clock,
                                 name_kk=name_kk, name_ru=name_ru)
            names = (found.name_kk or "—", found.name_ru or "—")
    except InvalidOrganisationName as error:
        raise click.BadParameter(str(error),
                                 param_hint="--" + error.field.replace("_", "-")) from None
    finally:
        database.dispose()
    click.echo(f"{org_code}\tkk: {names[0]}\tru: {names[1]}")


@org.command("list")
def org_list() -> None:
    """List issuing bodies: code, full name in Kazakh, in Russian."""
    from sqlalchemy import select

    from service.registry.models import Organisation

    database = open_database(load_settings())
    try:
        with database.read() as session:
            for row in session.scalars(select(Organisation).order_by(Organisation.code)):
                click.echo(f"{row.code}\t{row.name_kk or '—'}\t{row.name_ru or '—'}")
    finally:
        database.dispose()


# --------------------------------------------------------------------------- registry


@click.group("registry")
def registry() -> None:
    """Issued documents."""


@registry.command("repair")
def registry_repair() -> None:
    """Complete documents left pending by a crash (same number, same bytes)."""
    settings = load_settings()
    database = open_database(settings)
    try:
        repaired = build_registry(settings, database).repair()
    finally:
        database.dispose()
    for document in repaired:
        click.echo(f"completed {document.registration_number} ({document.id})")
    click.echo(f"{len(repaired)} pending document(s) completed")


# --------------------------------------------------------------------------- storage


@click.group("storage")
def storage() -> None:
    """The object store (content-addressed document files)."""


@storage.command("check")
def storage_check() -> None:
    """Re-hash every file a document refers to; exit 1 if any is missing or altered."""
    from service.registry.issuing import references as stored_references
    from service.registry.storage import check_objects, open_store
    from service.signatures.intake import signature_references

    settings = load_settings()
    database = open_database(settings)
    try:
        references = stored_references(database) + signature_references(database)
        problems = list(check_objects(open_store(settings, database), references))
    finally:
        database.dispose()
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

    from service.registry.issuing import references as stored_references
    from service.registry.storage import collect_garbage, open_store
    from service.signatures.intake import signature_references

    settings = load_settings()
    database = open_database(settings)
    try:
        # read the references first: anything stored after this read is inside the grace
        referenced = {r.sha256 for r in stored_references(database)}
        referenced |= {r.sha256 for r in signature_references(database)}
        older_than = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=grace_seconds)
        removed = collect_garbage(
            open_store(settings, database), referenced, older_than=older_than,
            dry_run=dry_run,
        )
    finally:
        database.dispose()
    verb = "would remove" if dry_run else "removed"
    for stored in removed:
        click.echo(f"{verb} {stored.key} ({stored.size} bytes)")
    click.echo(f"{verb} {len(removed)} object(s)")


@storage.command("migrate")
@click.option(
    "--to",
    "target_kind",
    required=True,
    type=click.Choice(["postgresql", "filesystem"]),
    help="Where the objects go; they come from the other store.",
)
def storage_migrate(target_kind: str) -> None:
    """Copy every stored object into the other store, re-hashing each one read and written.

    Resumable: objects the target already holds are checked, not copied again. Nothing is
    deleted from the source; set QUJAT_STORAGE to the target once this has succeeded, then
    remove the old folder (or run `qujat storage gc` under the old setting) when satisfied.
    """
    from service.registry.storage import (
        SHA256_KEY,
        MigrationFailed,
        migrate_objects,
        open_store,
    )

    source_kind = "filesystem" if target_kind == "postgresql" else "postgresql"
    settings = load_settings()
    database = open_database(settings)
    if database.dialect != "postgresql":
        database.dispose()
        raise click.ClickException(
            "the postgresql store lives in the database: "
            "QUJAT_DATABASE_URL must name a PostgreSQL database"
        )
    try:
        source = open_store(settings, database, source_kind)
        target = open_store(settings, database, target_kind)
        keys = [o.key for o in source.iter() if SHA256_KEY.match(o.key)]
        click.echo(f"{len(keys)} object(s) in the {source_kind} store")
        report = migrate_objects(source, target, keys)
    except MigrationFailed as error:
        raise click.ClickException(str(error)) from None
    finally:
        database.dispose()
    click.echo(
        f"{report.copied} object(s) copied to the {target_kind} store, "
        f"{report.present} already there (checked)"
    )


# --------------------------------------------------------------------------- audit


@click.group("audit")
def audit() -> None:
    """The hash-chained audit trail."""


@audit.command("verify")
def audit_verify() -> None:
    """Recompute the chain and every sealed registry row; exit 1 naming the first broken entry
    and each edited, deleted or inserted row."""
    from service.registry.audit import verify

    database = open_database(load_settings())
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
    click.echo(f"registry rows sealed: {report.rows_checked}, all match their latest seal")
