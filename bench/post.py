"""How fast qujat issues certificates end to end, against warm LibreOffice (run on demand).

Starts a real server (`qujat serve`: gunicorn, 2 workers) on SQLite and on PostgreSQL, posts
N certificates (examples/certificate.kk.json with distinct decision_ids) from a separate load
process with a thread pool, and prints documents per second and p50/p99 latency. In the same
run, behind the same gunicorn front and workers, it times two routes that only convert (no
database, no numbering): stock WeasyPrint (the certificate's HTML, WeasyPrint's defaults: no
shared fonts, no PDF/A) and what integrators run today, the DOCX converted by LibreOffice kept
warm (one unoserver per core, bench/libreoffice.py); it prints qujat's ratio to LibreOffice.

    .venv/bin/python bench/post.py [--count 400] [--threads 16]
                                   [--backends sqlite,postgresql,postgresql+objects]
                                   [--baseline-count 100] [--libreoffice-instances 2]

`postgresql+objects` is PostgreSQL with the document files in the database too
(QUJAT_STORAGE=postgresql, what several machines run), beside the files in a folder.

PostgreSQL is QUJAT_TEST_POSTGRES_URL (default postgres@127.0.0.1:5432/test), in a schema
made for the run and dropped afterwards. LibreOffice and unoserver: `scripts/setup --bench`.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.databases import POSTGRES_URL, with_search_path  # noqa: E402
from tests.servers import QujatServer, create_token, free_port, post_many, qujat  # noqa: E402

EXAMPLE = ROOT / "examples" / "certificate.kk.json"


def certificates(count: int, prefix: str) -> list[dict[str, Any]]:
    template = json.loads(EXAMPLE.read_text("utf-8"))
    made = []
    for i in range(count):
        body = copy.deepcopy(template)
        body["decision"]["decision_id"] = f"{prefix}-{i:06d}"
        made.append(body)
    return made


# --------------------------------------------------------------------------- load process


def load(url: str, token: str, count: int, threads: int, prefix: str, path: str) -> None:
    """The load generator (its own process): post, then print one JSON line of figures."""
    bodies = certificates(count, prefix)
    if path == "/api/v1/documents":
        start = time.perf_counter()
        answers = post_many(url, token, bodies, threads=threads)
        elapsed = time.perf_counter() - start
        statuses = [a.status for a in answers]
        latencies = [a.seconds for a in answers]
    else:
        from concurrent.futures import ThreadPoolExecutor

        import requests

        def one(body: dict[str, Any]) -> tuple[int, float]:
            begin = time.perf_counter()
            response = requests.post(url + path, json=body, timeout=(5, 600))
            return response.status_code, time.perf_counter() - begin

        start = time.perf_counter()
        with ThreadPoolExecutor(threads) as pool:
            results = list(pool.map(one, bodies))
        elapsed = time.perf_counter() - start
        statuses = [status for status, _ in results]
        latencies = [seconds for _, seconds in results]
    print(json.dumps({"elapsed": elapsed, "statuses": statuses, "latencies": latencies}))


def run_load(url: str, token: str, count: int, threads: int, path: str) -> dict[str, Any]:
    prefix = f"bench-{uuid.uuid4().hex[:8]}"
    output = subprocess.run(
        [sys.executable, __file__, "--load", url, token, str(count), str(threads), prefix, path],
        check=True,
        capture_output=True,
        text=True,
        timeout=3600,
    ).stdout
    result: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    bad = [s for s in result["statuses"] if s not in (200, 201)]
    if bad:
        raise SystemExit(f"{len(bad)} request(s) failed: {sorted(set(map(str, bad)))}")
    return result


def figures(name: str, result: dict[str, Any]) -> dict[str, Any]:
    latencies = sorted(result["latencies"])
    count = len(latencies)
    return {
        "name": name,
        "count": count,
        "per_second": count / result["elapsed"],
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[min(count - 1, round(0.99 * (count - 1)))] * 1000,
    }


# --------------------------------------------------------------------------- qujat


def bench_backend(
    backend: str, count: int, threads: int, workers: int, work: Path
) -> dict[str, Any]:
    database, _, objects = backend.partition("+")
    env = {"QUJAT_DATA_DIR": str(work / backend), "QUJAT_DATABASE_URL": "",
           "QUJAT_STORAGE": "postgresql" if objects else "filesystem"}
    schema = None
    if database == "postgresql":
        import psycopg
        from psycopg import sql

        schema = f"qujat_bench_{os.getpid()}"
        with psycopg.connect(POSTGRES_URL.replace("+psycopg", ""), autocommit=True) as admin:
            admin.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        env["QUJAT_DATABASE_URL"] = with_search_path(POSTGRES_URL, schema)
    try:
        qujat("db", "upgrade", env=env)
        token = create_token(env)
        server = QujatServer(env, work / f"{backend}.log", workers=workers)
        server.start()
        try:
            post_many(server.url, token, certificates(20, "warm-up"), threads=4)
            result = run_load(server.url, token, count, threads, "/api/v1/documents")
        finally:
            server.stop()
        where = "files in PostgreSQL" if objects else "files in a folder"
        return figures(f"qujat, {database}, {where}", result)
    finally:
        if schema is not None:
            import psycopg
            from psycopg import sql

            with psycopg.connect(POSTGRES_URL.replace("+psycopg", ""), autocommit=True) as admin:
                admin.execute(
                    sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
                )


# --------------------------------------------------------------------------- LibreOffice


def baseline_app() -> Any:
    """The LibreOffice route: parse, render the DOCX, convert it to PDF on a warm LibreOffice
    (a free one of the pool), answer. The same HTTP front and workers as qujat's."""
    from flask import Flask, Response, request

    from bench.libreoffice import convert_at, free_instance
    from service import shared_renderer
    from service.forms.decisions import parse_request
    from service.forms.rendering import DocumentInfo

    app = Flask("libreoffice-baseline")
    renderer = shared_renderer()
    urls = os.environ["QUJAT_BENCH_LIBREOFFICE"].split(",")
    locks = Path(os.environ["QUJAT_BENCH_WORK"]) / "libreoffice-locks"

    @app.post("/stock-weasyprint")
    def stock() -> Response:
        from weasyprint import HTML

        form, language, _, decision = parse_request(request.get_json())
        number = f"01-KRG-26-{uuid.uuid4().int % 10**6:06d}-00"
        info = DocumentInfo(number, f"http://127.0.0.1:8000/verify/{number}?t=x")
        html = renderer.render_html(form, language, decision, info)
        pdf = HTML(string=html, base_url=str(ROOT), url_fetcher=renderer.fetcher).write_pdf(
            stylesheets=[renderer.stylesheet]
        )
        return Response(pdf, mimetype="application/pdf")

    @app.post("/baseline")
    def convert() -> Response:
        form, language, _, decision = parse_request(request.get_json())
        number = f"01-KRG-26-{uuid.uuid4().int % 10**6:06d}-00"
        info = DocumentInfo(number, f"http://127.0.0.1:8000/verify/{number}?t=x")
        docx = renderer.render_docx(form, language, decision, info)
        with free_instance(urls, locks) as url:
            pdf = convert_at(url, docx)
        return Response(pdf, mimetype="application/pdf")

    return app


def bench_libreoffice(
    count: int, threads: int, workers: int, instances: int, work: Path
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The baselines: `instances` warm LibreOffices behind `workers` gunicorn workers, and
    stock WeasyPrint behind the same workers (LibreOffice idle meanwhile)."""
    from bench.libreoffice import WarmLibreOffice

    with WarmLibreOffice(work / "libreoffice", instances) as warm:
        return _bench_baselines(warm.urls, count, threads, workers, instances, work)


def _bench_baselines(
    urls: list[str], count: int, threads: int, workers: int, instances: int, work: Path
) -> tuple[dict[str, Any], dict[str, Any]]:
    port = free_port()
    log = (work / "libreoffice.log").open("ab")
    server = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--timeout",
            "600",
            "--chdir",
            str(ROOT),
            "bench.post:baseline_app()",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env={
            **os.environ,
            "QUJAT_BENCH_WORK": str(work),
            "QUJAT_BENCH_LIBREOFFICE": ",".join(urls),
        },
    )
    url = f"http://127.0.0.1:{port}"
    try:
        import requests

        deadline = time.monotonic() + 120
        while True:
            try:
                requests.post(url + "/baseline", json=certificates(1, "warm")[0], timeout=300)
                break
            except requests.RequestException:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("the LibreOffice baseline server did not start") from None
                time.sleep(0.5)
        # every instance converts before timing (Writer loads its libraries then), and every
        # worker renders with stock WeasyPrint once (its first document loads the fonts)
        post_all(url + "/baseline", certificates(2 * instances, "warm"), threads=instances)
        post_all(url + "/stock-weasyprint", certificates(2 * workers, "warm"), threads=workers)
        result = run_load(url, "", count, threads, "/baseline")
        stock = run_load(url, "", count, threads, "/stock-weasyprint")
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=60)
        log.close()
    return figures(f"LibreOffice warm ({instances} × unoserver)", result), figures(
        "stock WeasyPrint (convert only)", stock
    )


def post_all(url: str, bodies: list[dict[str, Any]], threads: int) -> None:
    from concurrent.futures import ThreadPoolExecutor

    import requests

    with ThreadPoolExecutor(threads) as pool:
        for response in pool.map(lambda body: requests.post(url, json=body, timeout=300), bodies):
            response.raise_for_status()


# --------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=400, help="certificates per backend")
    parser.add_argument("--threads", type=int, default=16, help="client threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--backends", default="sqlite,postgresql,postgresql+objects")
    parser.add_argument("--baseline-count", type=int, default=100)
    parser.add_argument("--baseline-threads", type=int, default=8)
    parser.add_argument(
        "--libreoffice-instances",
        type=int,
        default=os.cpu_count() or 1,
        help="warm LibreOffices (default: one per core)",
    )
    parser.add_argument("--load", nargs=6, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.load:
        url, token, count, threads, prefix, path = args.load
        load(url, token, int(count), int(threads), prefix, path)
        return

    rows = []
    with tempfile.TemporaryDirectory(prefix="qujat-bench-") as folder:
        work = Path(folder)
        for backend in filter(None, args.backends.split(",")):
            rows.append(bench_backend(backend, args.count, args.threads, args.workers, work))
            print_row(rows[-1])
        if args.baseline_count:
            baseline, stock = bench_libreoffice(
                args.baseline_count,
                args.baseline_threads,
                args.workers,
                args.libreoffice_instances,
                work,
            )
            print_row(baseline)
            print_row(stock)
            for row in rows:
                print(
                    f"{row['name']}: {row['per_second'] / baseline['per_second']:.1f}× "
                    "warm LibreOffice"
                )
    print(
        f"({os.cpu_count()} CPUs, {args.workers} gunicorn workers, {args.threads} client "
        "threads; target: ≥ 40 certificates/s, stretch 60; load average "
        f"{os.getloadavg()[0]:.1f})"
    )


def print_row(row: dict[str, Any]) -> None:
    print(
        f"{row['name']:<40} {row['count']:>5} docs  {row['per_second']:7.1f}/s  "
        f"p50 {row['p50_ms']:7.0f} ms  p99 {row['p99_ms']:7.0f} ms",
        flush=True,
    )


if __name__ == "__main__":
    main()
