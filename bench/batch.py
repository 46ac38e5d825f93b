"""How fast a whole session is issued as one batch, against posting it one by one.

Starts `qujat serve` (gunicorn, 2 workers) on a fresh database; with `--executor local` (the
default) the batch runs in the server's own process pool of `--workers` processes, with
`--executor celery` in one `qujat worker --concurrency <workers>` on `--broker`. After a
small warm-up batch (pool processes started, fonts loaded), it submits `--count`
certificates as one batch and times submission to completion; then it posts `--count` other
certificates one by one (from `--threads` client threads) to the same server and prints the
ratio, and a capacity note for a national peak.

    .venv/bin/python bench/batch.py [--count 500] [--workers 2] [--executor local|celery]
        [--broker redis://127.0.0.1:6379/0] [--backend sqlite|postgresql] [--threads 8]
        [--storage filesystem|postgresql]
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.databases import POSTGRES_URL, with_search_path  # noqa: E402
from tests.servers import QUJAT, create_token, post_many, running  # noqa: E402

EXAMPLE = ROOT / "examples" / "certificate.kk.json"
PEAK_DOCUMENTS = 20_000


def certificates(count: int, prefix: str) -> list[dict[str, Any]]:
    template = json.loads(EXAMPLE.read_text("utf-8"))
    made = []
    for i in range(count):
        body = copy.deepcopy(template)
        body["decision"]["decision_id"] = f"{prefix}-{i:06d}"
        made.append(body)
    return made


def run_batch(url: str, token: str, bodies: list[dict[str, Any]], timeout: float) -> float:
    """Seconds from POST to the batch's completion (every item issued)."""
    headers = {"Authorization": f"Bearer {token}"}
    start = time.perf_counter()
    posted = requests.post(url + "/api/v1/batches", json=bodies, headers=headers, timeout=120)
    posted.raise_for_status()
    location = url + posted.headers["Location"] + "?items=none"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = requests.get(location, headers=headers, timeout=30).json()
        if status["state"] == "completed":
            elapsed = time.perf_counter() - start
            if status["done"] != len(bodies):
                raise SystemExit(f"only {status['done']} of {len(bodies)} issued: {status}")
            return elapsed
        time.sleep(0.1)
    raise SystemExit(f"the batch did not finish within {timeout} s")


@contextlib.contextmanager
def database(backend: str, data_dir: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{data_dir / 'qujat.sqlite3'}"
        return
    import psycopg
    from psycopg import sql

    schema = f"qujat_bench_batch_{os.getpid()}"
    libpq = POSTGRES_URL.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(libpq, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        try:
            yield with_search_path(POSTGRES_URL, schema)
        finally:
            admin.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                sql.Identifier(schema)))


@contextlib.contextmanager
def celery_worker(env: dict[str, str], workers: int, log: Path) -> Iterator[None]:
    with log.open("ab") as out:
        process = subprocess.Popen(
            [QUJAT, "worker", "--concurrency", str(workers), "--loglevel", "WARNING"],
            env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--executor", choices=("local", "celery"), default="local")
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--threads", type=int, default=8, help="client threads, one by one")
    parser.add_argument("--storage", choices=("filesystem", "postgresql"), default="filesystem",
                        help="where document files go (postgresql: --backend postgresql too)")
    parser.add_argument("--timeout", type=float, default=1800)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="qujat-bench-batch-") as folder:
        work = Path(folder)
        with database(args.backend, work) as url:
            env = {
                "QUJAT_DATA_DIR": str(work),
                "QUJAT_DATABASE_URL": url,
                "QUJAT_BATCH_EXECUTOR": args.executor,
                "QUJAT_BATCH_PROCESSES": str(args.workers),
                "QUJAT_BROKER_URL": args.broker,
                "QUJAT_BATCH_QUEUE": f"qujat-bench-{uuid.uuid4().hex[:8]}",
                "QUJAT_STORAGE": args.storage,
            }
            if args.backend == "postgresql":
                subprocess.run([QUJAT, "db", "upgrade"], env={**os.environ, **env},
                               check=True, capture_output=True)
            with contextlib.ExitStack() as stack:
                server = stack.enter_context(running(env, work / "server.log"))
                token = create_token(env)
                if args.executor == "celery":
                    stack.enter_context(celery_worker(env, args.workers, work / "worker.log"))
                run_batch(server.url, token, certificates(2 * args.workers, "warm"),
                          args.timeout)
                batch = run_batch(server.url, token, certificates(args.count, "batch"),
                                  args.timeout)
                start = time.perf_counter()
                answers = post_many(server.url, token, certificates(args.count, "single"),
                                    threads=args.threads)
                single = time.perf_counter() - start
                if {a.status for a in answers} != {201}:
                    raise SystemExit(f"single posts failed: {[a.status for a in answers]}")

    rate = args.count / batch
    per_worker = rate / args.workers
    load_avg = os.getloadavg()[0]
    print(f"batch of {args.count} certificates, {args.executor} executor with "
          f"{args.workers} worker process(es), {args.backend}, files in {args.storage} "
          f"(load average {load_avg:.1f} "
          f"on {os.cpu_count()} cores)")
    print(f"  batch:        {batch:7.1f} s  {rate:6.1f} documents/s  (target < 15 s)")
    print(f"  one by one:   {single:7.1f} s  {args.count / single:6.1f} documents/s "
          f"({args.threads} client threads, 2 gunicorn workers)")
    print(f"  ratio:        {single / batch:7.2f} x")
    one_process = PEAK_DOCUMENTS / per_worker
    print(f"  capacity:     {per_worker:.1f} documents/s per worker process; a national peak "
          f"of {PEAK_DOCUMENTS:,} documents takes one process {one_process / 60:.0f} min")
    for hours in (8, 1, 0.25):
        needed = math.ceil(PEAK_DOCUMENTS / (hours * 3600) / per_worker)
        print(f"                {PEAK_DOCUMENTS:,} documents within {hours:g} h: "
              f"{needed} worker process(es)")

if __name__ == "__main__":
    main()
