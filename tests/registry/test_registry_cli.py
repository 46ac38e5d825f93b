"""The registry's commands: tokens, migrations, `audit verify`, `storage check`/`gc`, repair.

Tampering is done the way an intruder would: straight in the database or the object folder,
behind the service's back. Every test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text

from service.cli import main
from service.core.db import Database, DatabaseNotReady, ensure_schema, head_revision
from service.core.faults import Faults, InjectedFault
from service.registry.models import AuditEntry, Document
from service.registry.storage import FilesystemStore
from service.tables import metadata
from tests.databases import empty_postgres_schema
from tests.servers import qujat

Example = Callable[..., dict[str, Any]]


def run(runner: CliRunner, env: dict[str, str], *args: str) -> Result:
    return runner.invoke(main, list(args), env=env, catch_exceptions=False)


def issue(client: FlaskClient, example: Example, count: int) -> list[dict[str, Any]]:
    issued = []
    for i in range(count):
        body = example("certificate", "kk")
        body["decision"]["decision_id"] = f"cli-{i}"
        response = client.post("/api/v1/documents", json=body)
        assert response.status_code == 201
        issued.append(response.get_json())
    return issued


def execute(database: Database, *statements: str) -> None:
    with database.engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement))


# --------------------------------------------------------------------------- schema


def test_migrations_create_exactly_the_models(database: Database) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []
        assert context.get_current_revision() == head_revision()


def test_migrations_go_down_and_up_again(database: Database) -> None:
    from alembic import command

    from service.core.db import alembic_config, current_revision, upgrade

    with database.engine.begin() as connection:
        command.downgrade(alembic_config(connection), "base")
    assert current_revision(database) is None
    upgrade(database)
    assert current_revision(database) == head_revision()


def test_db_upgrade_works_from_any_directory(tmp_path: Path) -> None:
    env = {"QUJAT_DATA_DIR": str(tmp_path / "fresh"), "QUJAT_DATABASE_URL": ""}
    assert "empty" in qujat("db", "current", env=env).stdout
    assert "was empty" in qujat("db", "upgrade", env=env).stdout
    assert (tmp_path / "fresh" / "qujat.sqlite3").is_file()
    assert qujat("db", "current", env=env).stdout.startswith(head_revision())
    assert qujat("token", "create", "--org", "KRG", env=env).stdout.startswith("qj_")


def test_a_first_command_on_a_new_sqlite_folder_creates_the_database(tmp_path: Path) -> None:
    env = {"QUJAT_DATA_DIR": str(tmp_path / "new"), "QUJAT_DATABASE_URL": ""}
    assert qujat("token", "create", "--org", "KRG", env=env).stdout.startswith("qj_")
    assert qujat("db", "current", env=env).stdout.startswith(head_revision())


@pytest.mark.postgres
def test_postgresql_is_upgraded_only_on_purpose(tmp_path: Path) -> None:
    with empty_postgres_schema() as url:
        env = {"QUJAT_DATA_DIR": str(tmp_path), "QUJAT_DATABASE_URL": url}
        refused = qujat("token", "create", "--org", "KRG", env=env, check=False)
        assert refused.returncode == 1
        assert "qujat db upgrade" in refused.stderr
        assert "empty" in qujat("db", "current", env=env).stdout


def test_an_outdated_schema_is_refused_unless_upgrading(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    try:
        with pytest.raises(DatabaseNotReady, match="qujat db upgrade"):
            ensure_schema(database, auto_upgrade=False)
        ensure_schema(database, auto_upgrade=True)
        ensure_schema(database, auto_upgrade=False)
    finally:
        database.dispose()


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'wal.sqlite3'}")
    try:
        with database.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert int(connection.exec_driver_sql("PRAGMA busy_timeout").scalar() or 0) >= 5000
    finally:
        database.dispose()


# --------------------------------------------------------------------------- tokens


def test_token_create_list_revoke(
    app: Flask, runner: CliRunner, cli_env: dict[str, str], example: Example
) -> None:
    created = runner.invoke(
        main, ["token", "create", "--org", "KRG", "--name", "platform"], env=cli_env
    )
    assert created.exit_code == 0, created.output
    token = created.stdout.strip()
    assert token.startswith("qj_")
    assert len(token) >= 40
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    body = example("certificate", "kk")
    assert client.post("/api/v1/documents", json=body).status_code == 201

    listed = run(runner, cli_env, "token", "list").stdout
    assert "KRG\tactive\tplatform" in listed
    assert token not in listed
    token_id = listed.split("\t")[0]

    assert run(runner, cli_env, "token", "revoke", token_id).exit_code == 0
    assert client.get("/api/v1/documents/00000000-0000-0000-0000-000000000000").status_code == 401
    assert "revoked" in run(runner, cli_env, "token", "list").stdout


def test_only_the_token_hash_is_stored(
    database: Database, runner: CliRunner, cli_env: dict[str, str]
) -> None:
    token = run(runner, cli_env, "token", "create", "--org", "AST").stdout.strip()
    with database.engine.connect() as connection:
        dump = " ".join(
            str(row) for row in connection.execute(text("SELECT * FROM api_tokens"))
        )
    assert token not in dump
    assert token[3:] not in dump


@pytest.mark.parametrize("code", ["krg", "K", "KRG1", "ТОО", "ABCDEFGHI"])
def test_organisation_codes_are_latin_capitals(
    runner: CliRunner, cli_env: dict[str, str], code: str
) -> None:
    result = runner.invoke(main, ["token", "create", "--org", code], env=cli_env)
    assert result.exit_code == 2
    assert "2 to 8 Latin capital letters" in result.output


# --------------------------------------------------------------------------- audit


def test_audit_verify_passes_on_an_honest_log(
    client: FlaskClient, runner: CliRunner, cli_env: dict[str, str], example: Example
) -> None:
    issue(client, example, 3)
    result = run(runner, cli_env, "audit", "verify")
    assert result.exit_code == 0
    assert "audit trail intact: 6 entries" in result.stdout


@pytest.mark.parametrize(
    ("tampering", "named"),
    [
        (
            ["UPDATE audit_log SET payload = '{\"pdf_sha256\":\"forged\"}' WHERE seq = 4"],
            "entry #4 (issued) does not match its hash",
        ),
        (
            ["UPDATE audit_log SET at = at + INTERVAL '1 hour' WHERE seq = 3"],
            "entry #3 (created) does not match its hash",
        ),
        (["DELETE FROM audit_log WHERE seq = 2"], "entry #2 is missing"),
        (
            [
                "UPDATE audit_log SET seq = -1 WHERE seq = 3",
                "UPDATE audit_log SET seq = 3 WHERE seq = 4",
                "UPDATE audit_log SET seq = 4 WHERE seq = -1",
            ],
            "entry #3 (issued) does not match its hash",
        ),
        (
            ["DELETE FROM audit_log WHERE seq = 6"],
            "the chain head records 6 entries",
        ),
        (
            ["DELETE FROM audit_log", "UPDATE audit_head SET count = 0, head_hash = "
             "'0000000000000000000000000000000000000000000000000000000000000000'"],
            "has no created, issued entry",
        ),
    ],
    ids=["edited-payload", "edited-time", "deleted", "reordered", "cut-tail", "wiped"],
)
def test_audit_verify_names_the_tampered_entry(
    client: FlaskClient,
    database: Database,
    runner: CliRunner,
    cli_env: dict[str, str],
    example: Example,
    tampering: list[str],
    named: str,
) -> None:
    issue(client, example, 3)
    if database.dialect == "sqlite":
        tampering = [
            t.replace("at + INTERVAL '1 hour'", "datetime(at, '+1 hour')") for t in tampering
        ]
    execute(database, *tampering)
    result = runner.invoke(main, ["audit", "verify"], env=cli_env)
    assert result.exit_code == 1
    assert named in result.stderr


def test_a_forged_entry_appended_behind_the_head_is_detected(
    client: FlaskClient,
    database: Database,
    runner: CliRunner,
    cli_env: dict[str, str],
    example: Example,
) -> None:
    from service.registry.audit import entry_hash

    issue(client, example, 1)
    with database.read() as session:
        count, head_hash = session.execute(text("SELECT count, head_hash FROM audit_head")).one()
    at = dt.datetime(2026, 11, 23, tzinfo=dt.UTC)
    forged = entry_hash(count + 1, at, "revoked", None, "{}", head_hash)
    with database.write() as session:
        session.add(AuditEntry(seq=count + 1, at=at, event="revoked", document_id=None,
                               payload="{}", prev_hash=head_hash, hash=forged))
    result = runner.invoke(main, ["audit", "verify"], env=cli_env)
    assert result.exit_code == 1
    assert "the chain head records 2 entries" in result.stderr


# --------------------------------------------------------------------------- storage


def test_storage_check_passes_then_names_the_altered_document(
    client: FlaskClient,
    settings: Any,
    runner: CliRunner,
    cli_env: dict[str, str],
    example: Example,
) -> None:
    issued = issue(client, example, 3)
    client.get(issued[0]["links"]["docx"])
    ok = run(runner, cli_env, "storage", "check")
    assert ok.exit_code == 0
    assert "4 object(s) checked, 0 problem(s)" in ok.stdout

    store = FilesystemStore(settings.storage_dir)
    victim = store.path(issued[1]["sha256"])
    victim.chmod(0o644)
    victim.write_bytes(victim.read_bytes().replace(b"%PDF", b"%PDX", 1))
    store.path(issued[2]["sha256"]).unlink()

    result = runner.invoke(main, ["storage", "check"], env=cli_env)
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 2
    assert f"document {issued[1]['registration_number']} ({issued[1]['id']}) pdf" in lines[0]
    assert "was altered" in lines[0]
    assert f"document {issued[2]['registration_number']}" in lines[1]
    assert "is missing" in lines[1]


def test_storage_gc_removes_only_old_orphans(
    client: FlaskClient,
    settings: Any,
    runner: CliRunner,
    cli_env: dict[str, str],
    example: Example,
) -> None:
    issued = issue(client, example, 1)
    store = FilesystemStore(settings.storage_dir)
    old_orphan = store.put(b"left behind by a crashed request")
    young_orphan = store.put(b"a request still on its way to its commit")
    now = dt.datetime.now(dt.UTC).timestamp()
    two_hours_ago, a_minute_ago = now - 7200, now - 60
    for sha in (old_orphan, issued[0]["sha256"]):
        os.utime(store.path(sha), (two_hours_ago, two_hours_ago))
    # the file system's clock may differ from the process's (a test run under a shifted clock)
    os.utime(store.path(young_orphan), (a_minute_ago, a_minute_ago))

    dry = run(runner, cli_env, "storage", "gc", "--dry-run")
    assert f"would remove {old_orphan}" in dry.stdout
    assert store.exists(old_orphan)

    result = run(runner, cli_env, "storage", "gc")
    assert "removed 1 object(s)" in result.stdout
    assert not store.exists(old_orphan)
    assert store.exists(young_orphan)
    assert store.exists(issued[0]["sha256"])
    assert run(runner, cli_env, "storage", "check").exit_code == 0


# --------------------------------------------------------------------------- repair


class FailingRender(Faults):
    def before_render(self, decision_id: str) -> None:
        raise InjectedFault(decision_id)


def test_registry_repair_completes_pending_documents(
    app: Flask,
    client: FlaskClient,
    database: Database,
    runner: CliRunner,
    cli_env: dict[str, str],
    example: Example,
) -> None:
    app.extensions["qujat.registry"].faults = FailingRender()
    for i in range(2):
        body = example("certificate", "kk")
        body["decision"]["decision_id"] = f"pending-{i}"
        assert client.post("/api/v1/documents", json=body).status_code == 500
    result = run(runner, cli_env, "registry", "repair")
    assert "2 pending document(s) completed" in result.stdout
    with database.read() as session:
        documents = session.scalars(select(Document).order_by(Document.seq)).all()
        assert [d.status for d in documents] == ["issued", "issued"]
        assert [d.seq for d in documents] == [1, 2]
    assert run(runner, cli_env, "audit", "verify").exit_code == 0
    assert run(runner, cli_env, "storage", "check").exit_code == 0
    assert "0 pending document(s)" in run(runner, cli_env, "registry", "repair").stdout
