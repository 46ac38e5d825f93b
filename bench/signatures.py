"""What signing costs through the service (run on demand, prints figures).

An in-process app on SQLite in a temporary folder, a test PKI, the example commission with all
seven members present: the protocol is issued, then every member and the secretary sign it
through POST /api/v1/documents/{id}/signatures (verification against the trust folder with
its CRL, revocation required, storage, audit). Then the outputs of the signed protocol:

    .venv/bin/python bench/signatures.py [--runs 20]

"intake" is one signature from the request to the committed row; "report" re-verifies all
eight signatures; ".p7s" combines them.
"""

from __future__ import annotations

import argparse
import base64
import json
import statistics
import tempfile
import time
from pathlib import Path

from timing import median_ms

from service import create_app
from service.cli.signatures import EXAMPLES, example_people
from service.core.config import Settings
from service.core.db import Database, upgrade
from service.registry.tokens import create_token
from signing.client import create_cms
from signing.pki import init_test_pki


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="timed runs of each output")
    args = parser.parse_args()
    commission = json.loads((EXAMPLES / "commission.json").read_text("utf-8"))
    session = json.loads((EXAMPLES / "protocol.kk.json").read_text("utf-8"))["decision"]
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        pki = init_test_pki(root / "pki", example_people(EXAMPLES / "commission.json"))
        settings = Settings(data_dir=root / "var", trust_dir=root / "pki")
        database = Database(settings.database_url)
        upgrade(database)
        with database.write() as db_session:
            token, _ = create_token(db_session, "KRG", clock=lambda: pki.now)
        database.dispose()
        app = create_app(settings)
        client = app.test_client()
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"

        commission_id = client.post("/api/v1/commissions", json=commission).get_json()["id"]
        members = [m["iin"] for m in commission["members"]]
        body = {"form": "protocol", "language": "kk", "decision_id": "bench-1",
                "session": session["session"], "present": members, "rows": session["rows"]}
        protocol = client.post(f"/api/v1/commissions/{commission_id}/protocols", json=body)
        document_id = protocol.get_json()["id"]
        signing = client.get(f"/api/v1/documents/{document_id}/signing").get_json()
        content = base64.b64decode(signing["content_base64"])
        signers = [*members, commission["secretary"]["iin"]]
        signatures = [base64.b64encode(create_cms(content, pki.credential(iin))).decode()
                      for iin in signers]

        intake = []
        for cms in signatures:
            start = time.perf_counter()
            response = client.post(f"/api/v1/documents/{document_id}/signatures",
                                   json={"cms": cms})
            intake.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 201, response.get_json()
        assert response.get_json()["status"] == "signed"

        report = median_ms(
            lambda: client.get(f"/api/v1/documents/{document_id}/signature-report"), args.runs
        )
        p7s = median_ms(lambda: client.get(f"/api/v1/documents/{document_id}.p7s"), args.runs)
        page = median_ms(
            lambda: client.get(f"/api/v1/documents/{document_id}/signature-report.pdf"),
            max(3, args.runs // 4),
        )
        app.extensions["qujat.database"].dispose()

    print(f"protocol: {len(content) / 1024:.0f} KiB, signers: {len(signers)}")
    print(f"signature intake, first (cold path cache): {intake[0]:8.1f} ms")
    print(f"signature intake, median of the others:    {statistics.median(intake[1:]):8.1f} ms")
    print(f"signature report (re-verifies {len(signers)}), median: {report:8.1f} ms")
    print(f".p7s of {len(signers)} signers, median:            {p7s:8.1f} ms")
    print(f"signature report PDF, median:              {page:8.1f} ms")


if __name__ == "__main__":
    main()
