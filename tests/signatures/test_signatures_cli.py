"""The README's demo, for real: `qujat pki init`, a running `qujat serve`, `qujat commission …`
and `qujat sign` as each member (what NCALayer would send), then openssl on the .p7s."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import requests

from tests.conftest import EXAMPLES
from tests.servers import create_token, qujat, running
from tests.signatures.support import CHAIR, PRESENT, SECRETARY, protocol_body

pytestmark = pytest.mark.slow


def test_the_readme_demo(tmp_path: Path) -> None:
    pki = tmp_path / "pki"
    made = qujat("pki", "init", str(pki), env={})
    assert f"export QUJAT_TRUST_DIR={pki.resolve()}" in made.stdout
    assert (pki / f"{CHAIR}_sign.p12").is_file()
    assert (pki / "700101300342_sign.p12").is_file()  # the example certificate's head
    assert (pki / "860909443634_sign.p12").is_file()  # the example refusal's signer
    again = qujat("pki", "init", str(pki), env={}, check=False)
    assert again.returncode == 1

    env = {"QUJAT_DATA_DIR": str(tmp_path / "var"), "QUJAT_DATABASE_URL": "",
           "QUJAT_TRUST_DIR": str(pki)}
    qujat("db", "upgrade", env=env)
    token = create_token(env)
    with running(env, tmp_path / "server.log") as server:
        client = {**env, "QUJAT_URL": server.url, "QUJAT_TOKEN": token}
        commission_id = qujat("commission", "create", str(EXAMPLES / "commission.json"),
                              env=client).stdout.strip()
        session = tmp_path / "session.json"
        session.write_text(json.dumps(protocol_body(), ensure_ascii=False), "utf-8")
        posted = qujat("commission", "protocol", commission_id, str(session), env=client)
        document_id, number = posted.stdout.split()[:2]
        assert posted.stdout.count("to sign:") == 7

        wrong_key = qujat("sign", "--p12", str(pki / f"{CHAIR}_auth.p12"), document_id,
                          "--messages", "ru", env=client, check=False)
        assert wrong_key.returncode == 1
        assert "ключом для аутентификации" in wrong_key.stderr

        for iin in [*PRESENT, SECRETARY]:
            signed = qujat("sign", "--p12", str(pki / f"{iin}_sign.p12"), document_id,
                           env=client)
            assert f"{number}: signed by" in signed.stdout
        assert "status: signed" in signed.stdout

        twice = qujat("sign", "--p12", str(pki / f"{CHAIR}_sign.p12"), document_id,
                      env=client, check=False)
        assert twice.returncode == 1
        assert "HTTP 409" in twice.stderr

        headers = {"Authorization": f"Bearer {token}"}
        base = f"{server.url}/api/v1/documents/{document_id}"
        pdf = tmp_path / "protocol.pdf"
        pdf.write_bytes(requests.get(base + ".pdf", headers=headers, timeout=30).content)
        p7s = tmp_path / "protocol.p7s"
        p7s.write_bytes(requests.get(base + ".p7s", headers=headers, timeout=30).content)

        certificate = json.loads((EXAMPLES / "certificate.kk.json").read_text("utf-8"))
        certificate["protocol"] = number
        issued = requests.post(f"{server.url}/api/v1/documents", json=certificate,
                               headers=headers, timeout=60)
        assert issued.status_code == 201, issued.text
        head = qujat("sign", "--p12", str(pki / "700101300342_sign.p12"),
                     issued.json()["id"], env=client)
        assert "status: signed" in head.stdout

    openssl = shutil.which("openssl")
    assert openssl is not None
    verified = subprocess.run(
        [openssl, "cms", "-verify", "-binary", "-inform", "DER", "-content", str(pdf),
         "-in", str(p7s), "-CAfile", str(pki / "root.pem"), "-purpose", "any",
         "-out", "/dev/null"],
        capture_output=True, text=True, check=False, timeout=60,
    )
    assert verified.returncode == 0, verified.stderr
