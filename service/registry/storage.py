"""Content-addressed storage: bytes keyed by their SHA-256, written once, never overwritten.

The database holds hashes, the store holds bytes. Bytes are stored *before* the transaction
that references them commits, so a committed reference always points at durable bytes; a
crash in between leaves an orphan, which `collect_garbage` removes once it is older than a
grace period (so that a request still on its way to its commit is never robbed).

`ObjectStore` is the interface; `FilesystemStore` the default for one machine, `DatabaseStore`
(`QUJAT_STORAGE=postgresql`) keeps the objects in the `objects` table so that several machines
share them through the database alone. An S3-compatible store fits the same five methods (put
with If-None-Match: *, get, head, list, delete); `migrate_objects` moves objects between any two.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import re
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import Executable, delete, select, update

from service.registry.models import ObjectRecord

if TYPE_CHECKING:
    from service.core.config import Settings
    from service.core.db import Database

SHA256_KEY = re.compile(r"^[0-9a-f]{64}$")
_TEMP_PREFIX = ".tmp-"


class ObjectNotFound(LookupError):
    def __init__(self, sha256: str) -> None:
        self.sha256 = sha256
        super().__init__(f"no stored object {sha256}")


@dataclass(frozen=True, slots=True)
class StoredObject:
    key: str  # the SHA-256, or the name of an interrupted write's leftover
    size: int
    modified: dt.datetime


class ObjectStore(Protocol):
    def put(self, data: bytes) -> str:
        """Store `data` durably (idempotent) and return its SHA-256 (hex)."""
        ...

    def get(self, sha256: str) -> bytes:
        """The bytes stored under `sha256` (not re-hashed: `check_objects` does that)."""
        ...

    def exists(self, sha256: str) -> bool: ...

    def iter(self) -> Iterator[StoredObject]:
        """Every stored object, plus leftovers of interrupted writes (their `key` is the
        temporary name) so that garbage collection can clear them too."""
        ...

    def delete(self, key: str) -> None:
        """Remove an object or a leftover named by `iter` (nothing if it is gone)."""
        ...


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _checked(sha256: str) -> str:
    if not SHA256_KEY.match(sha256):
        raise ValueError(f"not a SHA-256 in hex: {sha256[:80]!r}")
    return sha256


class FilesystemStore:
    """`<root>/ab/cd/abcd…` files, read-only once written.

    A write goes to a temporary file in the final folder, is fsynced, hard-linked to its
    final name (which fails instead of replacing an existing file), and the folder is fsynced.
    Storing bytes that already exist only refreshes the file's time, so that garbage
    collection sees it as young again. File times are set from the process's clock, the one
    `collect_garbage` compares them with, not left to the file system's.
    """

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, sha256: str) -> Path:
        _checked(sha256)
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, data: bytes) -> str:
        sha256 = sha256_hex(data)
        final = self.path(sha256)
        if final.exists():
            _touch(final)
            return sha256
        _make_folders(final.parent)
        fd, temp = tempfile.mkstemp(prefix=_TEMP_PREFIX, dir=final.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(temp, 0o444)
            _touch(Path(temp))
            try:
                os.link(temp, final)
            except FileExistsError:  # a concurrent writer of the same bytes won
                _touch(final)
        finally:
            os.unlink(temp)
        _fsync_dir(final.parent)
        return sha256

    def get(self, sha256: str) -> bytes:
        try:
            return self.path(sha256).read_bytes()
        except FileNotFoundError:
            raise ObjectNotFound(sha256) from None

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def iter(self) -> Iterator[StoredObject]:
        if not self.root.is_dir():
            return
        for path in sorted(self.root.glob("[0-9a-f][0-9a-f]/[0-9a-f][0-9a-f]/*")):
            if not (SHA256_KEY.match(path.name) or path.name.startswith(_TEMP_PREFIX)):
                continue
            try:
                info = path.stat()
            except FileNotFoundError:
                continue
            modified = dt.datetime.fromtimestamp(info.st_mtime, dt.UTC)
            yield StoredObject(path.name, info.st_size, modified)

    def delete(self, key: str) -> None:
        if key.startswith(_TEMP_PREFIX) and "/" not in key:
            for path in self.root.glob(f"??/??/{key}"):
                path.unlink(missing_ok=True)
            return
        path = self.path(key)
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            _fsync_dir(path.parent)


class DatabaseStore:
    """Objects as rows of the `objects` table (service.registry.models.ObjectRecord).

    Every write is a transaction of its own, committed before `put` returns: like a file's
    fsync, it makes the bytes durable before the caller's own transaction (which cites their
    hash) commits. Rows are never updated but for `stored_at`, which storing the same bytes
    again refreshes, so that garbage collection sees them as young again.
    """

    def __init__(self, database: Database) -> None:
        self.database = database

    def put(self, data: bytes) -> str:
        sha256 = sha256_hex(data)
        now = dt.datetime.now(dt.UTC)
        with self.database.write() as session:
            refreshed = session.execute(
                update(ObjectRecord).where(ObjectRecord.sha256 == sha256).values(stored_at=now)
            )
            if refreshed.rowcount == 0:  # type: ignore[attr-defined]
                session.execute(_insert_object(self.database.dialect, sha256, data, now))
        return sha256

    def get(self, sha256: str) -> bytes:
        _checked(sha256)
        with self.database.read() as session:
            content = session.execute(
                select(ObjectRecord.content).where(ObjectRecord.sha256 == sha256)
            ).scalar_one_or_none()
        if content is None:
            raise ObjectNotFound(sha256)
        return bytes(content)

    def exists(self, sha256: str) -> bool:
        _checked(sha256)
        with self.database.read() as session:
            found = session.execute(
                select(ObjectRecord.sha256).where(ObjectRecord.sha256 == sha256)
            ).scalar_one_or_none()
        return found is not None

    def iter(self) -> Iterator[StoredObject]:
        # keyset pages: neither the bytes nor one long-lived read transaction
        after = ""
        while True:
            with self.database.read() as session:
                rows = session.execute(
                    select(ObjectRecord.sha256, ObjectRecord.size, ObjectRecord.stored_at)
                    .where(ObjectRecord.sha256 > after)
                    .order_by(ObjectRecord.sha256)
                    .limit(_PAGE)
                ).all()
            for sha256, size, stored_at in rows:
                yield StoredObject(sha256, size, stored_at)
            if len(rows) < _PAGE:
                return
            after = rows[-1][0]

    def delete(self, key: str) -> None:
        _checked(key)
        with self.database.write() as session:
            session.execute(delete(ObjectRecord).where(ObjectRecord.sha256 == key))


_PAGE = 1000


def _insert_object(dialect: str, sha256: str, data: bytes, now: dt.datetime) -> Executable:
    """INSERT … ON CONFLICT: a concurrent writer of the same bytes may have won."""
    from sqlalchemy.dialects import postgresql, sqlite

    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    values = {"sha256": sha256, "size": len(data), "content": data, "stored_at": now}
    statement = insert(ObjectRecord).values(values)
    return statement.on_conflict_do_update(
        index_elements=[ObjectRecord.sha256], set_={"stored_at": now}
    )



def open_store(settings: Settings, database: Database, kind: str | None = None) -> ObjectStore:
    """The object store `settings` choose (`QUJAT_STORAGE`), or the one named by `kind`."""
    if (kind or settings.storage) == "postgresql":
        return DatabaseStore(database)
    return FilesystemStore(settings.storage_dir)


def _touch(path: Path) -> None:
    now = time.time()
    os.utime(path, (now, now))


def _make_folders(path: Path) -> None:
    """`path` and its missing parents, each new folder's entry fsynced in its parent: after a
    crash, a file reported stored is still reachable (POSIX makes no promise for a folder whose
    creation was never synced)."""
    missing = []
    while not path.is_dir():
        missing.append(path)
        path = path.parent
    for folder in reversed(missing):
        # a concurrent writer may have made it; its entry may not be synced yet all the same
        with contextlib.suppress(FileExistsError):
            folder.mkdir()
        _fsync_dir(folder.parent)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# --------------------------------------------------------------------------- maintenance


@dataclass(frozen=True, slots=True)
class Reference:
    """A database row's claim on an object: which document, which of its files."""

    sha256: str
    document_id: str
    registration_number: str
    kind: str  # "pdf" or "docx"


@dataclass(frozen=True, slots=True)
class ObjectProblem:
    reference: Reference
    problem: str  # "missing" or "altered"
    actual_sha256: str | None = None

    def describe(self) -> str:
        ref = self.reference
        what = f"document {ref.registration_number} ({ref.document_id}) {ref.kind}"
        if self.problem == "missing":
            return f"{what}: object {ref.sha256} is missing"
        return f"{what}: object {ref.sha256} was altered (its bytes hash to {self.actual_sha256})"


def check_objects(store: ObjectStore, references: Iterable[Reference]) -> Iterator[ObjectProblem]:
    """Re-hash every referenced object; yield each one that is missing or altered."""
    for reference in references:
        try:
            data = store.get(reference.sha256)
        except ObjectNotFound:
            yield ObjectProblem(reference, "missing")
            continue
        actual = sha256_hex(data)
        if actual != reference.sha256:
            yield ObjectProblem(reference, "altered", actual)


def collect_garbage(
    store: ObjectStore,
    referenced: set[str],
    *,
    older_than: dt.datetime,
    dry_run: bool = False,
) -> list[StoredObject]:
    """Delete the objects nothing references that were last written before `older_than`.

    `referenced` must be read from the database *before* this call: an object written
    after that read is younger than the grace period and stays.
    """
    removed = []
    for stored in store.iter():
        if stored.key in referenced or stored.modified >= older_than:
            continue
        if not dry_run:
            store.delete(stored.key)
        removed.append(stored)
    return removed


@dataclass(frozen=True, slots=True)
class MigrationReport:
    copied: int
    present: int  # already in the target, its bytes checked


class MigrationFailed(RuntimeError):
    pass


def migrate_objects(
    source: ObjectStore,
    target: ObjectStore,
    keys: Iterable[str],
) -> MigrationReport:
    """Copy the objects named by `keys` from `source` to `target`, re-hashing each one read and
    each one written. Objects already in the target are checked, not copied again: a run that
    stopped halfway is resumed by running it again. Nothing is deleted from the source."""
    copied = present = 0
    for key in keys:
        if target.exists(key):
            _read_checked(target, key, "target")
            present += 1
            continue
        data = _read_checked(source, key, "source")
        if target.put(data) != key:
            raise MigrationFailed(f"object {key}: the target stored other bytes")
        _read_checked(target, key, "target")
        copied += 1
    return MigrationReport(copied, present)


def _read_checked(store: ObjectStore, key: str, which: str) -> bytes:
    try:
        data = store.get(key)
    except ObjectNotFound:
        raise MigrationFailed(f"object {key} is missing from the {which}") from None
    if sha256_hex(data) != key:
        raise MigrationFailed(
            f"object {key} in the {which} was altered (its bytes hash to {sha256_hex(data)})"
        )
    return data
