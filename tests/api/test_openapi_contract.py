"""The live server keeps the contract its OpenAPI document states (Schemathesis).

`qujat serve` runs on a free port with SQLite, a token of its own and a test PKI as its
trust folder; Schemathesis (its CLI,
as a subprocess, so its Hypothesis settings and warnings stay out of this pytest session)
reads /api/v1/openapi.json and calls every operation: the document's examples, boundary
cases, random data, and stateful chains along the document's links (issue → record, files,
signing, revocation; commission → protocol; batch → status). Every answer must be no server
error, a documented status, the documented content type, and match its response schema; a
request valid by the document must not be refused for its shape (contract_checks.py says
which business refusals are allowed).

The examples of examples/ are added to a copy of the document, so that the examples phase
issues real documents and the stateful phase reaches the operations that need one.

Bounded for CI: QUJAT_CONTRACT_MAX_EXAMPLES (default 5) cases per operation and phase, and
QUJAT_CONTRACT_MAX_SECONDS (default 150) for the whole run. Run it longer on demand, e.g.
`QUJAT_CONTRACT_MAX_EXAMPLES=200 QUJAT_CONTRACT_MAX_SECONDS=1800 pytest -m slow -k contract`;
QUJAT_CONTRACT_SEED replays a run whose seed a failure printed.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.api import contract_checks
from tests.servers import create_token, qujat, running

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
SCHEMATHESIS = str(Path(sys.executable).with_name("st"))
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    contract_checks.schema_valid_requests_are_accepted.__name__,
)


def _example(name: str) -> Any:
    return json.loads((EXAMPLES / name).read_text("utf-8"))


def with_examples(document: dict[str, Any]) -> dict[str, Any]:
    """The document with the project's example requests as request body examples."""
    requests_ = [_example(path.name) for path in sorted(EXAMPLES.glob("*.*.json"))]
    bodies = {
        ("/api/v1/render", "post"): requests_,
        ("/api/v1/documents", "post"): requests_,
        ("/api/v1/commissions", "post"): [_example("commission.json")],
        ("/api/v1/batches", "post"): [requests_[:3]],
    }
    for (path, method), values in bodies.items():
        content = document["paths"][path][method]["requestBody"]["content"]["application/json"]
        content["examples"] = {f"example{i}": {"value": v} for i, v in enumerate(values)}
    return document


def test_live_server_keeps_its_openapi_contract(tmp_path: Path) -> None:
    env = {
        "QUJAT_DATA_DIR": str(tmp_path / "data"),
        "QUJAT_DATABASE_URL": f"sqlite:///{tmp_path / 'qujat.sqlite'}",
        # the public routes' limit would answer 429 to a fuzzer; it has its own tests
        "QUJAT_VERIFY_RATE_LIMIT": "1000000 per minute",
        "QUJAT_TRUST_DIR": str(tmp_path / "pki"),
    }
    qujat("pki", "init", env["QUJAT_TRUST_DIR"], env=env)  # signatures are verified, not 503
    max_examples = os.environ.get("QUJAT_CONTRACT_MAX_EXAMPLES", "5")
    max_seconds = int(os.environ.get("QUJAT_CONTRACT_MAX_SECONDS", "150"))
    seed = os.environ.get("QUJAT_CONTRACT_SEED")
    with running(env, tmp_path / "serve.log", workers=1, threads=2) as server:
        token = create_token(env)
        served = requests.get(server.url + "/api/v1/openapi.json", timeout=30)
        served.raise_for_status()
        document = tmp_path / "openapi.json"
        document.write_text(json.dumps(with_examples(served.json())), "utf-8")
        command = [
            SCHEMATHESIS, "run", str(document), "--url", server.url,
            "--header", f"Authorization: Bearer {token}",
            "--checks", ",".join(CHECKS),
            "--max-examples", max_examples, "--max-time", str(max_seconds),
            "--workers", "1", "--request-timeout", "60",
            "--generation-database", "none", "--no-color",
            *(["--seed", seed] if seed else []),
        ]
        result = subprocess.run(
            command,
            env={**os.environ, "SCHEMATHESIS_HOOKS": contract_checks.__name__,
                 "PYTHONPATH": str(ROOT)},
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=max_seconds + 240,
            check=False,
        )
    print(result.stdout[-4000:])  # the run's summary and seed, shown with `pytest -s`
    assert result.returncode == 0, result.stdout[-30000:] + result.stderr[-5000:]
    # a phase that generated nothing would be a run that tested nothing ("3380 generated" is fine)
    assert re.search(r"(?<!\d)0 generated", result.stdout) is None
