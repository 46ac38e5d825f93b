"""The content-addressed filesystem store, its garbage collector and its checker."""

from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path

import pytest

from service.registry import storage
from service.registry.storage import (
    FilesystemStore,
    ObjectNotFound,
    Reference,
    check_objects,
    collect_garbage,
    sha256_hex,
)


@pytest.fixture
def store(tmp_path: Path) -> FilesystemStore:
    return FilesystemStore(tmp_path / "objects")


def test_put_get_exists(store: FilesystemStore) -> None:
    sha = store.put(b"%PDF-1.7 hello")
    assert sha == sha256_hex(b"%PDF-1.7 hello")
    assert store.path(sha) == store.root / sha[:2] / sha[2:4] / sha
    assert store.exists(sha)
    assert store.get(sha) == b"%PDF-1.7 hello"
    assert [o.key for o in store.iter()] == [sha]


def test_written_once_and_read_only(store: FilesystemStore) -> None:
    sha = store.put(b"bytes")
    assert store.path(sha).stat().st_mode & 0o777 == 0o444
    assert store.put(b"bytes") == sha
    assert len(list(store.iter())) == 1
    assert not list(store.path(sha).parent.glob(".tmp-*"))


def test_missing_object(store: FilesystemStore) -> None:
    missing = "0" * 64
    assert not store.exists(missing)
    with pytest.raises(ObjectNotFound):
        store.get(missing)
    store.delete(missing)  # nothing to do, no error


def test_names_must_be_hashes(store: FilesystemStore) -> None:
    with pytest.raises(ValueError, match="SHA-256"):
        store.get("../../etc/passwd")


def _age(path: Path, seconds: float) -> None:
    # from the process's clock, which garbage collection compares with (under a shifted clock,
    # datefudge or libfaketime, the file system's differs)
    old = time.time() - seconds
    os.utime(path, (old, old))


def test_garbage_collection_spares_references_and_young_objects(store: FilesystemStore) -> None:
    kept = store.put(b"referenced")
    orphan = store.put(b"orphan")
    young = store.put(b"young orphan")
    _age(store.path(kept), 7200)
    _age(store.path(orphan), 7200)
    leftover = store.path(orphan).parent / ".tmp-crashed"
    leftover.write_bytes(b"half a PDF")
    _age(leftover, 7200)
    cutoff = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)

    planned = collect_garbage(store, {kept}, older_than=cutoff, dry_run=True)
    assert {o.key for o in planned} == {orphan, ".tmp-crashed"}
    assert store.exists(orphan)

    removed = collect_garbage(store, {kept}, older_than=cutoff)
    assert {o.key for o in removed} == {orphan, ".tmp-crashed"}
    assert store.exists(kept)
    assert store.exists(young)
    assert not store.exists(orphan)
    assert not leftover.exists()


def test_storing_again_makes_an_object_young(store: FilesystemStore) -> None:
    sha = store.put(b"again")
    _age(store.path(sha), 7200)
    store.put(b"again")  # a retried request is about to reference it
    cutoff = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    assert collect_garbage(store, set(), older_than=cutoff) == []


def test_check_names_missing_and_altered_objects(store: FilesystemStore) -> None:
    good = store.put(b"good")
    altered = store.put(b"original")
    path = store.path(altered)
    path.chmod(0o644)
    path.write_bytes(b"forged")
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
    assert "01-KRG-26-000002-xx" in problems[0].describe()
    assert problems[0].actual_sha256 == sha256_hex(b"forged")


def test_new_folders_are_synced_in_their_parents(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[Path] = []
    real = storage._fsync_dir
    monkeypatch.setattr(storage, "_fsync_dir", lambda path: (synced.append(path), real(path)))
    store = FilesystemStore(tmp_path / "objects")
    sha256 = store.put(b"first")
    final = store.path(sha256)
    # objects/ in tmp, ab/ in objects/, cd/ in ab/, then the file's entry in cd/
    assert synced == [tmp_path, tmp_path / "objects", final.parent.parent, final.parent]
    synced.clear()
    store.put(b"first")  # already stored: nothing to create or sync
    assert synced == []
