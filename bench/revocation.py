"""What live revocation costs (run on demand, prints figures).

A test PKI whose certificates name a CRL server on 127.0.0.1; the intermediate CA's CRL lists
`--revoked` certificates (NCA's full CRLs list hundreds of thousands). Figures, medians:

- "download": one CRL fetched, its signature checked and cached (`refresh --force`);
- "refresh, nothing due": `qujat trust refresh` when every CRL is current;
- "verify, static folder": one signature checked against a folder whose CRLs were copied in;
- "verify, live (cached)": the same with live revocation on, the CRLs already cached (what every
  signature pays for the live machinery once the CRLs are current);
- "verify, live (cold)": a fresh trust folder, so both CRLs are downloaded first.

    .venv/bin/python bench/revocation.py [--runs 10] [--revoked 20000]
"""

from __future__ import annotations

import argparse
import functools
import shutil
import tempfile
import threading
from datetime import UTC, datetime, timedelta
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from timing import median_ms

from signing import TrustAnchors, verify_detached_cms
from signing.client import create_cms
from signing.pki import Person, init_test_pki
from signing.revocation import LiveRevocation

PERSON = Person("931002451325", "Тестов", "Тест", "Тестович")


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--revoked", type=int, default=20000, help="entries of the CRL")
    args = parser.parse_args()
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        published = root / "published"
        published.mkdir()
        handler = functools.partial(_Quiet, directory=str(published))
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        pki = init_test_pki(published, [PERSON], now=now, crl_url=url)
        for serial in range(1, args.revoked + 1):
            pki.intermediate.revoked[serial] = now - timedelta(days=1)
        pki.write_crls()
        size = (published / "intermediate.crl").stat().st_size
        content = b"%PDF-1.7 protocol"
        cms = create_cms(content, pki.credential(PERSON.iin), signing_time=now)

        def trust_folder(name: str, crls: bool = False) -> Path:
            target = root / name
            target.mkdir()
            for file in (
                "root.pem",
                "intermediate.pem",
                *(("root.crl", "intermediate.crl") if crls else ()),
            ):
                shutil.copy(published / file, target / file)
            return target

        static = trust_folder("static", crls=True)
        live_folder = trust_folder("live")
        live = LiveRevocation(live_folder)

        def verify(folder: Path, live: LiveRevocation | None) -> None:
            trust = TrustAnchors.from_folder(folder, live=live)
            report = verify_detached_cms(cms, content, trust=trust, now=now)
            assert report.ok, report.failures

        verify(live_folder, live)  # fetches and caches
        counter = iter(range(10**6))

        def cold() -> None:
            target = trust_folder(f"cold-{next(counter)}")
            verify(target, LiveRevocation(target))

        figures = {
            "download": median_ms(lambda: live.refresh(now, force=True), args.runs),
            "refresh, nothing due": median_ms(lambda: live.refresh(now), args.runs),
            "verify, static folder": median_ms(lambda: verify(static, None), args.runs),
            "verify, live (cached)": median_ms(lambda: verify(live_folder, live), args.runs),
            "verify, live (cold)": median_ms(cold, args.runs),
        }
        server.shutdown()
        server.server_close()
    print(f"intermediate CRL: {args.revoked} entries, {size / 1024:.0f} KiB")
    for name, value in figures.items():
        print(f"{name:<24} {value:8.1f} ms")


if __name__ == "__main__":
    main()
