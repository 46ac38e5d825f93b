"""`qujat serve`'s access log keeps no IIN: GET /api/v1/signers/{iin}/pending puts one in the
path, and the log line shows asterisks in its place (a real server, its real log). The access
log is written with QUJAT_LOG_FORMAT=text; the JSON lines (tests/observability) carry no path."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests

from service.cli.http_server import mask_identifiers
from tests.servers import create_token, qujat, running

IIN = "700101300342"

pytestmark = pytest.mark.slow


def test_the_access_log_masks_the_iin_of_a_pending_list(tmp_path: Path) -> None:
    env = {
        "QUJAT_DATA_DIR": str(tmp_path / "data"),
        "QUJAT_DATABASE_URL": f"sqlite:///{tmp_path / 'qujat.sqlite3'}",
        "QUJAT_LOG_FORMAT": "text",
    }
    qujat("db", "upgrade", env=env)
    token = create_token(env)
    log = tmp_path / "server.log"
    with running(env, log, workers=1, threads=1) as live:
        answer = requests.get(
            f"{live.url}/api/v1/signers/{IIN}/pending?again={IIN}",
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        assert answer.status_code == 200
        assert answer.json() == {"count": 0, "documents": [], "truncated": False}
        # gunicorn writes the access line after the answer has left: wait for it
        deadline = time.monotonic() + 60
        while "/pending?again=" not in log.read_text("utf-8"):
            assert time.monotonic() < deadline, log.read_text("utf-8")
            time.sleep(0.05)
    written = log.read_text("utf-8")
    assert "/api/v1/signers/************/pending?again=************" in written
    assert IIN not in written


def test_only_runs_of_exactly_twelve_digits_are_masked() -> None:
    assert mask_identifiers(f"/x/{IIN}/y") == "/x/************/y"
    assert mask_identifiers("/documents/01-KRG-26-000001-68") == "/documents/01-KRG-26-000001-68"
    assert mask_identifiers("1234567890123") == "1234567890123"  # 13 digits: not an IIN
