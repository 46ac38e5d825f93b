"""The QR code printed on a certificate leads to its verify page, with the full name."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask.testing import FlaskClient

from tests.conftest import load_example


@pytest.mark.parametrize("form", ["certificate", "extract"])
def test_the_qr_code_holds_the_verify_url_and_opens_the_full_name(
    client: FlaskClient, anonymous_client: FlaskClient, tmp_path: Path, form: str
) -> None:
    for tool in ("pdftoppm", "zbarimg"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is missing: run scripts/setup --dev")
    body: dict[str, Any] = load_example(form, "kk")
    receipt = client.post("/api/v1/documents", json=body).get_json()
    pdf = tmp_path / "document.pdf"
    pdf.write_bytes(client.get(receipt["links"]["pdf"]).get_data())
    subprocess.run(["pdftoppm", "-r", "200", "-png", "-f", "1", "-l", "1", str(pdf),
                    str(tmp_path / "page")], check=True, timeout=60)
    [page] = sorted(tmp_path.glob("page*.png"))
    scanned = subprocess.run(["zbarimg", "--raw", "-q", str(page)], capture_output=True,
                             text=True, timeout=60, check=True).stdout.split()
    number = receipt["registration_number"]
    assert len(scanned) == 1
    url = scanned[0]
    assert url == receipt["links"]["verify"]
    assert url.startswith(f"http://127.0.0.1:8000/verify/{number}?t=")
    parts = urlsplit(url)
    shown = anonymous_client.get(f"{parts.path}?{parts.query}").get_data(as_text=True)
    holder = body["decision"]["holder" if form == "certificate" else "person"]
    full = " ".join((holder["surname"], holder["given_name"], holder["patronymic"]))
    assert full in shown
    # registered, not signed yet: the QR route says so, amber, never "valid"
    assert 'id="status" data-status="awaiting_signatures"' in shown
    assert "Қол қою күтілуде" in shown
    assert holder["iin"] not in shown
