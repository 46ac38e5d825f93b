"""Fixtures and helpers for the signature tests: one test PKI per session (at the tests' fixed
"now"), with the people of examples/commission.json, the example certificate's head, the
example refusal's authorised person, an outsider, and the odd certificates refusals need."""

from __future__ import annotations

import base64
import copy
import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from service.cli.signatures import example_people
from signing.client import Credential, create_cms
from signing.pki import KeyPool, Person, TestPKI, init_test_pki
from tests.conftest import EXAMPLES, NOW

COMMISSION = json.loads((EXAMPLES / "commission.json").read_text("utf-8"))
CHAIR = COMMISSION["members"][0]["iin"]
MEMBERS = [m["iin"] for m in COMMISSION["members"]]
SECRETARY = COMMISSION["secretary"]["iin"]
ABSENT = MEMBERS[6]  # Төлегенова stays away from the session
PRESENT = MEMBERS[:6]
HEAD = "700101300342"  # examples/certificate.kk.json
OUTSIDER = Person("931002451325", "Тестов", "Тест", "Тестович")
OPENSSL = shutil.which("openssl")


@dataclass(frozen=True)
class Odd:
    """Certificates of a present member (PRESENT[1]) that must be refused."""

    revoked: Credential
    expired: Credential
    not_yet_valid: Credential
    untrusted_root: Credential
    self_signed: Credential
    weak_key: Credential


@dataclass(frozen=True)
class SigningPKI:
    pki: TestPKI
    odd: Odd

    @property
    def directory(self) -> Path:
        return self.pki.directory

    def key(self, iin: str, role: str = "sign") -> Credential:
        return self.pki.credential(iin, "sign" if role == "sign" else "auth")


@pytest.fixture(scope="session")
def signing_pki(
    tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config
) -> SigningPKI:
    cache = getattr(pytestconfig, "cache", None)
    keys = KeyPool(cache.mkdir("signing-test-keys") if cache is not None else None)
    people = [*example_people(EXAMPLES / "commission.json"), OUTSIDER]
    pki = init_test_pki(tmp_path_factory.mktemp("signing-pki"), people, keys=keys, now=NOW)
    member = pki.people[PRESENT[1]].person
    odd = Odd(
        revoked=pki.issue_revoked(member),
        expired=pki.issue_expired(member),
        not_yet_valid=pki.issue_not_yet_valid(member),
        untrusted_root=pki.issue_from_untrusted_root(member),
        self_signed=pki.issue_self_signed(member),
        weak_key=pki.issue_weak_key(member),
    )
    return SigningPKI(pki, odd)


def protocol_body(decision_id: str = "krg-2026-session-05", present: list[str] | None = None,
                  language: str = "kk") -> dict[str, Any]:
    example = json.loads((EXAMPLES / f"protocol.{language}.json").read_text("utf-8"))
    decision = example["decision"]
    return {
        "form": "protocol",
        "language": language,
        "decision_id": decision_id,
        "session": decision["session"],
        "present": list(PRESENT if present is None else present),
        "rows": copy.deepcopy(decision["rows"]),
    }


def create_commission(client: FlaskClient) -> str:
    response = client.post("/api/v1/commissions", json=COMMISSION)
    assert response.status_code in (200, 201), response.get_json()
    commission_id: str = response.get_json()["id"]
    return commission_id


def create_protocol(client: FlaskClient, commission_id: str, **kwargs: Any) -> dict[str, Any]:
    response = client.post(f"/api/v1/commissions/{commission_id}/protocols",
                           json=protocol_body(**kwargs))
    assert response.status_code == 201, response.get_json()
    issued: dict[str, Any] = response.get_json()
    return issued


def content_of(client: FlaskClient, document_id: str) -> bytes:
    signing = client.get(f"/api/v1/documents/{document_id}/signing").get_json()
    return base64.b64decode(signing["content_base64"])


def post_signature(client: FlaskClient, document_id: str, cms: bytes | str,
                   iin: str | None = None, language: str = "en") -> Any:
    text = cms if isinstance(cms, str) else base64.b64encode(cms).decode("ascii")
    body: dict[str, Any] = {"cms": text}
    if iin is not None:
        body["iin"] = iin
    return client.post(f"/api/v1/documents/{document_id}/signatures", json=body,
                       headers={"Accept-Language": language})


def sign(client: FlaskClient, document_id: str, credential: Credential,
         content: bytes | None = None, **kwargs: Any) -> Any:
    """Sign the document's frozen bytes (or `content`) with `credential`, at the tests' now."""
    data = content if content is not None else content_of(client, document_id)
    return post_signature(client, document_id,
                          create_cms(data, credential, signing_time=NOW), **kwargs)


def codes(response: Any) -> list[str]:
    return [e["code"] for e in response.get_json().get("errors", [])]


def openssl_verify(p7s: Path, content: Path, root: Path) -> subprocess.CompletedProcess[str]:
    """The real `openssl cms -verify` of a detached DER signature over `content`, trusting
    `root` alone (exit code 0 and "Verification successful" on stderr when it holds), at the
    tests' moment NOW: the test PKI's certificates are dated from it, not from today."""
    assert OPENSSL is not None, "openssl is needed to check the combined signature"
    return subprocess.run(
        [OPENSSL, "cms", "-verify", "-binary", "-inform", "DER", "-content", str(content),
         "-in", str(p7s), "-CAfile", str(root), "-purpose", "any", "-out", "/dev/null",
         "-attime", str(int(NOW.timestamp()))],
        capture_output=True, text=True, check=False, timeout=60,
    )
