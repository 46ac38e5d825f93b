"""What a head of organisation signing a whole session costs (run on demand, prints figures).

An in-process app on SQLite in a temporary folder and a test PKI. 2 × N certificates of one
head are issued; the head then signs N of them one by one (N × POST
/api/v1/documents/{id}/signatures, the baseline) and the other N in one request (POST
/api/v1/signatures). The signatures are made beforehand, as NCALayer would make them on the
signer's machine: what is timed is the service's intake (verification against the trust
folder with its CRL, revocation required, storage, audit), plus the listing of what is
pending with the bytes to sign (GET /api/v1/signers/{iin}/pending?content=1).

    .venv/bin/python bench/bulk_sign.py [--count 50]
"""

from __future__ import annotations

import argparse
import base64
import json
import tempfile
import time
from pathlib import Path

from service import create_app
from service.cli.signatures import EXAMPLES, example_people
from service.core.config import Settings
from service.core.db import Database, upgrade
from service.registry.tokens import create_token
from signing.client import create_cms
from signing.pki import init_test_pki

HEAD = "700101300342"  # examples/certificate.kk.json


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=50, help="certificates signed each way")
    args = parser.parse_args()
    count: int = args.count
    request = json.loads((EXAMPLES / "certificate.kk.json").read_text("utf-8"))
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        pki = init_test_pki(root / "pki", example_people(EXAMPLES / "commission.json"))
        settings = Settings(
            data_dir=root / "var", trust_dir=root / "pki", max_body_bytes=4 * 1024 * 1024
        )
        database = Database(settings.database_url)
        upgrade(database)
        with database.write() as db_session:
            token, _ = create_token(db_session, "KRG", clock=lambda: pki.now)
        database.dispose()
        app = create_app(settings)
        client = app.test_client()
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"

        start = time.perf_counter()
        for i in range(2 * count):
            request["decision"]["decision_id"] = f"bench-bulk-{i}"
            response = client.post("/api/v1/documents", json=request)
            assert response.status_code == 201, response.get_json()
        issuing = time.perf_counter() - start

        start = time.perf_counter()
        listed = client.get(f"/api/v1/signers/{HEAD}/pending?content=1")
        listing = time.perf_counter() - start
        pending = listed.get_json()["documents"]
        assert len(pending) == min(2 * count, 100), len(pending)
        head = pki.credential(HEAD)
        signed = [
            (
                d["id"],
                base64.b64encode(create_cms(base64.b64decode(d["content_base64"]), head)).decode(),
            )
            for d in pending
        ]
        one_by_one, together = signed[:count], signed[count : 2 * count]

        start = time.perf_counter()
        for document_id, cms in one_by_one:
            response = client.post(f"/api/v1/documents/{document_id}/signatures", json={"cms": cms})
            assert response.status_code == 201, response.get_json()
        single = time.perf_counter() - start

        body = {"signatures": [{"document": d, "cms": cms} for d, cms in together]}
        start = time.perf_counter()
        response = client.post("/api/v1/signatures", json=body)
        bulk = time.perf_counter() - start
        assert response.status_code == 207
        answer = response.get_json()
        assert answer["accepted"] == count, answer["results"][:3]
        app.extensions["qujat.database"].dispose()

    print(f"issued {2 * count} certificates of one head in {issuing:.1f} s (setup)")
    print(
        f"pending list with the bytes to sign ({len(pending)} documents): {listing * 1000:.0f} ms"
    )
    print(
        f"one by one: {count} requests in {single * 1000:.0f} ms "
        f"({single / count * 1000:.1f} ms a signature)"
    )
    print(
        f"in bulk:    1 request of {count} in {bulk * 1000:.0f} ms "
        f"({bulk / count * 1000:.1f} ms a signature)"
    )


if __name__ == "__main__":
    main()
