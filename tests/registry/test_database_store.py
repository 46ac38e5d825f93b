"""Objects kept in the database (`QUJAT_STORAGE=postgresql`): the same contract as the folder,
garbage collection and checks on both, and `qujat storage migrate` between them.

The store itself runs on SQLite and PostgreSQL (it is plain SQLAlchemy); the setting and the
migrate command are PostgreSQL's only, since a shared database is the point of them.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy import text

from service import create_app
from service.cli import main
from service.core.config import Settings, SettingsError
from service.core.db import Database
from service.registry.storage import (
    DatabaseStore,
    FilesystemStore,
    MigrationFailed,
    ObjectNotFound,
    Reference,
    check_objects,
    collect_garbage,
    migrate_objects,
    sha256_hex,
)
from tests.conftest import fixed_clock, new_token

Example = Callable[..., dict[str, Any]]


@pytest.fixture
def store(database: Database) -> DatabaseStore:
    return DatabaseStore(database)


def _age(database: Database, sha256: str, seconds: float) -> None:
    with database.write() as session:
        session.execute(
            text("UPDATE objects SET stored_at = :at WHERE sha256 = :sha"),
            {"at": dt.datetime.now(dt.UTC) - dt.timedelta(seconds=seconds), "sha": sha256},
        )


def test_put_get_exists_iter(store: DatabaseStore) -> None:
    sha = store.put(b"%PDF-1.7 hello")
    assert sha == sha256_hex(b"%PDF-1.7 hello")
    assert store.exists(sha)
    assert store.get(sha) == b"%PDF-1.7 hello"
    assert store.put(b"%PDF-1.7 hello") == sha  # written once
    assert [(o.key, o.size) for o in store.iter()] == [(sha, 14)]


def test_missing_object_and_names_that_are_not_hashes(store: DatabaseStore) -> None:
    missing = "0" * 64
    assert not store.exists(missing)
    with pytest.raises(ObjectNotFound):
        store.get(missing)
    store.delete(missing)  # nothing to do, no error
    for bad in ("../../etc/passwd", "' OR 1=1 --", "A" * 64):
        with pytest.raises(ValueError, match="SHA-256"):
            store.get(bad)


def test_iter_pages_through_many_objects(store: DatabaseStore, monkeypatch: Any) -> None:
    monkeypatch.setattr("service.registry.storage._PAGE", 3)
    keys = {store.put(f"object {i}".encode()) for i in range(8)}
    assert [o.key for o in store.iter()] == sorted(keys)


def test_concurrent_writers_of_the_same_bytes_agree(store: DatabaseStore) -> None:
    errors: list[BaseException] = []
    barrier = threading.Barrier(6)

    def write() -> None:
        try:
            barrier.wait(timeout=60)
            store.put(b"the same PDF from six requests")
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=write) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(list(store.iter())) == 1


def test_garbage_collection_spares_references_and_young_objects(
    store: DatabaseStore, database: Database
) -> None:
    kept = store.put(b"referenced")
    orphan = store.put(b"orphan")
    young = store.put(b"young orphan")
    again = store.put(b"stored again by a retried request")
    for sha in (kept, orphan, again):
        _age(database, sha, 7200)
    store.put(b"stored again by a retried request")
    cutoff = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)

    planned = collect_garbage(store, {kept}, older_than=cutoff, dry_run=True)
    assert [o.key for o in planned] == [orphan]
    assert store.exists(orphan)
    assert [o.key for o in collect_garbage(store, {kept}, older_than=cutoff)] == [orphan]
    assert not store.exists(orphan)
    assert store.exists(kept)
    assert store.exists(young)
    assert store.exists(again)


def test_check_names_altered_and_missing_rows(store: DatabaseStore, database: Database) -> None:
    good = store.put(b"good")
    altered = store.put(b"original")
    with database.write() as session:  # an intruder behind the service's back
        session.execute(
            text("UPDATE objects SET content = :forged WHERE sha256 = :sha"),
            {"forged": b"forged", "sha": altered},
        )
    refs = [
        Reference(good, "id-1", "01-KRG-26-000001-xx", "pdf"),
        Reference(altered, "id-2", "01-KRG-26-000002-xx", "pdf"),
        Reference("f" * 64, "id-3", "01-KRG-26-000003-xx", "docx"),
    ]
    problems = list(check_objects(store, refs))
    assert [(p.reference.document_id, p.problem) for p in problems] == [
        ("id-2", "altered"),
        ("id-3", "missing"),
    ]
    assert problems[0].actual_sha256 == sha256_hex(b"forged")


def test_migration_is_checked_and_resumable(store: DatabaseStore, tmp_path: Path) -> None:
    folder = FilesystemStore(tmp_path / "objects")
    keys = [folder.put(f"document {i}".encode()) for i in range(5)]
    store.put(b"document 0")  # a run that stopped after its first object

    report = migrate_objects(folder, store, keys)
    assert (report.copied, report.present) == (4, 1)
    assert sorted(o.key for o in store.iter()) == sorted(keys)
    again = migrate_objects(folder, store, keys)
    assert (again.copied, again.present) == (0, 5)

    back = FilesystemStore(tmp_path / "back")
    assert migrate_objects(store, back, keys).copied == 5
    assert all(back.get(k) == folder.get(k) for k in keys)

    # an altered source object stops the migration, naming it; nothing wrong is copied
    path = folder.path(keys[2])
    path.chmod(0o644)
    path.write_bytes(b"forged")
    fresh = FilesystemStore(tmp_path / "fresh")
    with pytest.raises(MigrationFailed, match=f"object {keys[2]} in the source was altered"):
        migrate_objects(folder, fresh, keys)
    assert not fresh.exists(keys[2])


# --------------------------------------------------------------------------- the setting


def test_the_setting_needs_postgresql(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="QUJAT_DATABASE_URL must name a PostgreSQL"):
        Settings.from_env({"QUJAT_DATA_DIR": str(tmp_path), "QUJAT_STORAGE": "postgresql"})
    with pytest.raises(SettingsError, match="filesystem or postgresql"):
        Settings.from_env({"QUJAT_DATA_DIR": str(tmp_path), "QUJAT_STORAGE": "s3"})


@pytest.mark.postgres
def test_documents_issued_with_postgresql_storage_leave_no_files(
    settings: Settings, database: Database, example: Example, runner: CliRunner,
    cli_env: dict[str, str],
) -> None:
    if database.dialect != "postgresql":
        with pytest.raises(SettingsError, match="must name a PostgreSQL database"):
            settings.replace(storage="postgresql")
        return
    app = create_app(settings.replace(storage="postgresql"), clock=fixed_clock)
    try:
        client = app.test_client()
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {new_token(app, 'KRG')}"
        posted = client.post("/api/v1/documents", json=example("certificate", "kk"))
        assert posted.status_code == 201, posted.get_json()
        document = posted.get_json()
        pdf = client.get(document["links"]["pdf"])
        assert pdf.status_code == 200
        assert pdf.data.startswith(b"%PDF")
        assert sha256_hex(pdf.data) == document["sha256"]
    finally:
        app.extensions["qujat.database"].dispose()
    assert not settings.storage_dir.exists()  # nothing written to the folder
    assert DatabaseStore(database).get(document["sha256"]) == pdf.data

    env = {**cli_env, "QUJAT_STORAGE": "postgresql"}
    checked = runner.invoke(main, ["storage", "check"], env=env, catch_exceptions=False)
    assert checked.exit_code == 0, checked.output
    assert "1 object(s) checked, 0 problem(s)" in checked.stdout


@pytest.mark.postgres
def test_storage_migrate_moves_a_running_registry_both_ways(
    client: FlaskClient, settings: Settings, database: Database, example: Example,
    runner: CliRunner, cli_env: dict[str, str],
) -> None:
    if database.dialect != "postgresql":
        result = runner.invoke(main, ["storage", "migrate", "--to", "postgresql"], env=cli_env)
        assert result.exit_code == 1
        assert "must name a PostgreSQL database" in result.output
        return
    numbers = []
    for i in range(3):
        body = example("certificate", "ru")
        body["decision"]["decision_id"] = f"migrate-{i}"
        posted = client.post("/api/v1/documents", json=body)
        assert posted.status_code == 201
        numbers.append(posted.get_json())
    client.get(numbers[0]["links"]["docx"])  # a DOCX is stored on first download

    moved = runner.invoke(main, ["storage", "migrate", "--to", "postgresql"], env=cli_env,
                          catch_exceptions=False)
    assert moved.exit_code == 0, moved.output
    assert "4 object(s) copied to the postgresql store, 0 already there" in moved.stdout
    env = {**cli_env, "QUJAT_STORAGE": "postgresql"}
    assert runner.invoke(main, ["storage", "check"], env=env).exit_code == 0

    # served from the database once the setting changes, the folder gone
    for path in sorted(settings.storage_dir.rglob("*"), reverse=True):
        path.chmod(0o700)
        path.unlink() if path.is_file() else path.rmdir()
    app = create_app(settings.replace(storage="postgresql"), clock=fixed_clock)
    try:
        served = app.test_client()
        served.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {new_token(app, 'KRG')}"
        for document in numbers:
            pdf = served.get(document["links"]["pdf"])
            assert sha256_hex(pdf.data) == document["sha256"]
    finally:
        app.extensions["qujat.database"].dispose()

    back = runner.invoke(main, ["storage", "migrate", "--to", "filesystem"], env=env,
                         catch_exceptions=False)
    assert "4 object(s) copied to the filesystem store" in back.stdout
    assert runner.invoke(main, ["storage", "check"], env=cli_env).exit_code == 0
