"""`qujat pki init --algorithm` and `qujat sign` with GOST keys, for real: the command line, a
running `qujat serve`, NCA's own published GOST key file and the test PKI's GOST keys. The
whole seven-signer session with GOST keys runs as docs/gost-keys.md shows it
(tests/docs/test_walkthroughs.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES
from tests.servers import create_token, qujat, running
from tests.signatures.support import CHAIR, PRESENT, SECRETARY, protocol_body

pytestmark = pytest.mark.slow

NCA_KEY = (
    Path(__file__).parents[1]
    / "signing/data/nca/p12_GOST512_0860d9665327c26760c213126760a3b73072218d.p12"
)


def test_pki_init_gost_only(tmp_path: Path) -> None:
    pki = tmp_path / "pki"
    made = qujat("pki", "init", str(pki), "--algorithm", "gost2015-512", env={})
    assert f"GOST signing key:        {(pki / f'{CHAIR}_gost_sign.p12').resolve()}" in made.stdout
    assert f"root CA: {(pki / 'root_gost.pem').resolve()}" in made.stdout
    assert "RSA" not in made.stdout
    names = {p.name for p in pki.iterdir()}
    assert {"root_gost.pem", "intermediate_gost.crl", "people_gost.json"} <= names
    assert f"{SECRETARY}_gost_auth.p12" in names
    assert not any(name in names for name in ("root.pem", f"{CHAIR}_sign.p12"))
    wrong = qujat("pki", "init", str(tmp_path / "x"), "--algorithm", "dsa", env={}, check=False)
    assert wrong.returncode == 2
    assert "'gost2015-512'" in wrong.stderr


def test_qujat_sign_with_gost_keys_and_ncas_own(tmp_path: Path) -> None:
    pki = tmp_path / "pki"
    qujat("pki", "init", str(pki), env={})  # both families: a mixed commission
    env = {
        "QUJAT_DATA_DIR": str(tmp_path / "var"),
        "QUJAT_DATABASE_URL": "",
        "QUJAT_TRUST_DIR": str(pki),
    }
    qujat("db", "upgrade", env=env)
    token = create_token(env)
    with running(env, tmp_path / "server.log") as server:
        client = {**env, "QUJAT_URL": server.url, "QUJAT_TOKEN": token}
        commission_id = qujat(
            "commission", "create", str(EXAMPLES / "commission.json"), env=client
        ).stdout.strip()
        session = tmp_path / "session.json"
        session.write_text(json.dumps(protocol_body(), ensure_ascii=False), "utf-8")
        posted = qujat("commission", "protocol", commission_id, str(session), env=client)
        document_id, number = posted.stdout.split()[:2]

        # NCA's own GOST512_ file (its password is Qwerty12): read, signed, and refused only
        # because this server does not trust NCA's test CA
        nca = qujat(
            "sign",
            "--p12",
            str(NCA_KEY),
            "--password",
            "Qwerty12",
            document_id,
            env=client,
            check=False,
        )
        assert nca.returncode == 1
        assert "[signature_untrusted]" in nca.stderr
        assert "signature_bad_signature" not in nca.stderr
        wrong = qujat(
            "sign",
            "--p12",
            str(NCA_KEY),
            "--password",
            "123456",
            document_id,
            env=client,
            check=False,
        )
        assert wrong.returncode == 1
        assert "wrong password" in wrong.stderr

        auth = qujat(
            "sign",
            "--p12",
            str(pki / f"{CHAIR}_gost_auth.p12"),
            document_id,
            "--messages",
            "ru",
            env=client,
            check=False,
        )
        assert auth.returncode == 1
        assert "ключом для аутентификации" in auth.stderr
        # half the commission with GOST keys, the others with RSA keys
        signers = [*PRESENT, SECRETARY]
        for index, iin in enumerate(signers):
            key = f"{iin}_gost_sign.p12" if index % 2 == 0 else f"{iin}_sign.p12"
            signed = qujat("sign", "--p12", str(pki / key), document_id, env=client)
            assert f"{number}: signed by" in signed.stdout
        assert "status: signed" in signed.stdout
        twice = qujat(
            "sign",
            "--p12",
            str(pki / f"{CHAIR}_gost_sign.p12"),
            document_id,
            env=client,
            check=False,
        )
        assert twice.returncode == 1
        assert "HTTP 409" in twice.stderr
