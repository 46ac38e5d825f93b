"""Content-addressed storage: bytes keyed by their SHA-256, written once, never overwritten.

The database holds hashes, the store holds bytes. Bytes are stored *before* the transaction
that references them commits, so a committed reference always points at durable bytes; a
crash in between leaves an orphan, which `collect_garbage` removes once it is older than a
grace period (so that a request still on its way to its commit is never robbed).

`ObjectStore` is the interface; `FilesystemStore` the default. An S3-compatible store fits
the same five methods (put with If-None-Match: *, get, head, list, delete).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
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
    if not _SHA256.match(sha256):
        raise ValueError(f"not a SHA-256 in hex: {sha256[:80]!r}")
    return sha256


class FilesystemStore:
    """`<root>/ab/cd/abcd…` files, read-only once written.

    A write goes to a temporary file in the final folder, is fsynced, hard-linked to its
    final name (which fails instead of replacing an existing file), and the folder is fsynced.
    Storing bytes that already exist only refreshes the file's time, so that garbage
    collection sees it as young again.
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
            os.utime(final)
            return sha256
        _make_folders(final.parent)
        fd, temp = tempfile.mkstemp(prefix=_TEMP_PREFIX, dir=final.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(temp, 0o444)
            try:
                os.link(temp, final)
            except FileExistsError:  # a concurrent writer of the same bytes won
                os.utime(final)
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
            if not (_SHA256.match(path.name) or path.name.startswith(_TEMP_PREFIX)):
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
