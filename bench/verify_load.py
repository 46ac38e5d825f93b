"""Load on the public verification API: requests/s and latency of GET /api/v1/verify/{number}.

Starts a real server (`qujat serve`: gunicorn, 2 workers, PostgreSQL in a schema of its own),
issues a few certificates, then loads it from separate client processes on 127.0.0.1, each
with one keep-alive connection and a fixed number of requests (bounded: every request has a
timeout, the run has a request budget). The rate limiter stays on, with a limit the bench's
single address cannot reach (QUJAT_VERIFY_RATE_LIMIT), so its cost is in the figures; its
storage is the default one (the counters file every worker shares) unless
`--rate-limit-storage` names another (`memory://`, `redis://127.0.0.1:6379/1`).

    .venv/bin/python bench/verify_load.py [--requests 20000] [--clients 4] [--documents 50]

PostgreSQL: QUJAT_BENCH_POSTGRES_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/test).
Target on a 2-core machine: at least 1,000 requests/s with p99 under 20 ms.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import load_example  # noqa: E402
from tests.servers import create_token, post_many, qujat, running  # noqa: E402

POSTGRES_URL = os.environ.get(
    "QUJAT_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def client(port: int, numbers: list[str], count: int, seed: int) -> tuple[list[float], int]:
    """`count` GETs over one keep-alive connection; latencies in seconds and failures."""
    rng = random.Random(seed)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    latencies: list[float] = []
    failures = 0
    for _ in range(count):
        path = f"/api/v1/verify/{rng.choice(numbers)}"
        start = time.perf_counter()
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            body = response.read()
            ok = response.status == 200 and b'"status":"valid"' in body.replace(b" ", b"")
        except (OSError, http.client.HTTPException):
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            ok = False
        latencies.append(time.perf_counter() - start)
        failures += not ok
    connection.close()
    return latencies, failures


def _client(args: tuple[int, list[str], int, int]) -> tuple[list[float], int]:
    return client(*args)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--documents", type=int, default=50)
    parser.add_argument("--threads", type=int, default=2, help="gunicorn threads per worker")
    parser.add_argument("--rate-limit-storage", default="",
                        help="QUJAT_RATE_LIMIT_STORAGE (default: the shared counters file)")
    options = parser.parse_args()

    import psycopg
    from psycopg import sql

    from tests.databases import with_search_path

    schema = f"qujat_bench_{os.getpid()}"
    libpq = POSTGRES_URL.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(libpq, autocommit=True) as admin, \
            tempfile.TemporaryDirectory(prefix="qujat-bench-") as folder:
        admin.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        try:
            env = {
                "QUJAT_DATA_DIR": folder,
                "QUJAT_DATABASE_URL": with_search_path(POSTGRES_URL, schema),
                "QUJAT_VERIFY_RATE_LIMIT": "100000000 per minute",
                "QUJAT_RATE_LIMIT_STORAGE": options.rate_limit_storage,
            }
            qujat("db", "upgrade", env=env)
            token = create_token(env)
            log = Path(folder) / "server.log"
            with running(env, log, workers=2, threads=options.threads) as server:
                bodies = []
                for n in range(options.documents):
                    body = load_example("certificate", "kk")
                    body["decision"]["decision_id"] = f"bench-verify-{n}"
                    bodies.append(body)
                posted = post_many(server.url, token, bodies, threads=4)
                numbers = [p.body["registration_number"] for p in posted if p.status == 201]
                assert len(numbers) == options.documents, [p.body for p in posted][:3]
                # warm up: connections in each worker's pool, code paths
                client(server.port, numbers, 300, 0)
                share = options.requests // options.clients
                jobs = [(server.port, numbers, share, seed) for seed in range(options.clients)]
                context = multiprocessing.get_context("spawn")
                with context.Pool(options.clients) as pool:
                    start = time.perf_counter()
                    results = pool.map(_client, jobs)
                    elapsed = time.perf_counter() - start
            latencies = sorted(x for lat, _ in results for x in lat)
            failures = sum(f for _, f in results)
            quantiles = statistics.quantiles(latencies, n=100)
            print(json.dumps({
                "route": "GET /api/v1/verify/{number}",
                "server": f"gunicorn 2 workers x {options.threads} threads, PostgreSQL",
                "clients": options.clients,
                "requests": len(latencies),
                "failures": failures,
                "seconds": round(elapsed, 2),
                "requests_per_second": round(len(latencies) / elapsed),
                "p50_ms": round(quantiles[49] * 1000, 2),
                "p99_ms": round(quantiles[98] * 1000, 2),
                "max_ms": round(latencies[-1] * 1000, 2),
            }, indent=2))
        finally:
            admin.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                sql.Identifier(schema)))


if __name__ == "__main__":
    main()
