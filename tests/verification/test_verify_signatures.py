"""Public verification of a signed protocol: what /verify/{number}, /api/v1/verify/{number} and
an upload of the registered PDF say signer by signer, with real signatures of a test PKI.

The signatures on record come from the signatures service (`service.signatures.Ledger`); the
public sees each signer's name, role and state, never an IIN. Every test runs on SQLite and on
PostgreSQL.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from service import create_app
from service.core.config import Settings
from service.forms.vocabulary import signer_role_label
from service.web import texts
from signing.client import create_cms
from signing.pki import KeyPool, TestPKI, init_test_pki
from tests.conftest import EXAMPLES, NOW, fixed_clock, new_token
from tests.signatures.support import (
    ABSENT,
    COMMISSION,
    OUTSIDER,
    PRESENT,
    SECRETARY,
    SigningPKI,
    create_commission,
    create_protocol,
    sign,
    signing_pki,
)

__all__ = ["signing_pki"]  # the session fixture, imported for pytest

SIGNED_AT = NOW.isoformat()
LANGUAGES = ("kk", "ru")


# these tests look at many public answers (an upload costs ten): a budget they stay within
RATE_LIMIT = "1000 per minute"


@pytest.fixture
def settings(tmp_path: Path, database_url: str, signing_pki: SigningPKI) -> Settings:
    return Settings(data_dir=tmp_path, database_url=database_url,
                    trust_dir=signing_pki.directory, verify_rate_limit=RATE_LIMIT)


# --------------------------------------------------------------------------- helpers


def _iins(node: Any, found: set[str]) -> set[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "iin" and isinstance(value, str):
                found.add(value)
            _iins(value, found)
    elif isinstance(node, list):
        for item in node:
            _iins(item, found)
    return found


def every_iin() -> set[str]:
    """The IINs of every signer (chair, members, the absent one, the secretary), of every
    teacher in the protocol and of every example decision."""
    found = _iins(COMMISSION, set())
    for path in EXAMPLES.glob("*.json"):
        _iins(json.loads(path.read_text("utf-8")), found)
    found.add(OUTSIDER.iin)
    assert {*PRESENT, ABSENT, SECRETARY} <= found
    return found


IIN_PATTERN = re.compile("|".join(sorted(every_iin())))


class Answers:
    """Every public answer a test looked at, to check none of them carries an IIN."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    def keep(self, where: str, response: Any) -> Any:
        headers = "\n".join(f"{k}: {v}" for k, v in response.headers.items())
        self.seen.append((where, headers + "\n" + response.get_data(as_text=True)))
        return response

    def json(self, where: str, response: Any) -> dict[str, Any]:
        assert response.status_code == 200, (where, response.get_data(as_text=True))
        body: dict[str, Any] = self.keep(where, response).get_json()
        assert not _has_iin_key(body), where
        return body

    def html(self, where: str, response: Any) -> str:
        assert response.status_code == 200, (where, response.status_code)
        assert response.mimetype == "text/html"
        text: str = self.keep(where, response).get_data(as_text=True)
        return text

    def assert_no_iin(self) -> None:
        assert self.seen
        for where, content in self.seen:
            leaked = IIN_PATTERN.search(content)
            assert leaked is None, f"{where} shows the IIN {leaked.group()}"


def _has_iin_key(node: Any) -> bool:
    if isinstance(node, dict):
        return any(k.lower() == "iin" or _has_iin_key(v) for k, v in node.items())
    if isinstance(node, list):
        return any(_has_iin_key(item) for item in node)
    return False


def signer_lines(html: str, section_id: str = "signatures") -> list[str]:
    """The signers listed on a public page (one <li> each), tags stripped, in page order."""
    match = re.search(rf'<section[^>]*id="{section_id}"[^>]*>(.*?)</section>', html, re.S)
    assert match is not None, f"no #{section_id} on the page"
    section = match.group(1)
    items = re.findall(r"<li[^>]*>(.*?)</li>", section, re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", item).split()) for item in items]


def expected_signers(client: FlaskClient, document_id: str) -> list[tuple[str, str]]:
    """(name, role) of every required signer, in the document's order, as the issuing body
    sees them before anyone has signed."""
    state = client.get(f"/api/v1/documents/{document_id}/signing").get_json()
    assert state["signed"] == []
    return [(m["name"], m["role"]) for m in state["missing"]]


def api_signers(body: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(s["name"], s["role"], s["status"]) for s in body["signers"]]


def page_shows(
    html: str, language: str, signers: list[tuple[str, str]], statuses: list[str],
    section_id: str = "signatures",
) -> None:
    lines = signer_lines(html, section_id)
    assert len(lines) == len(signers), lines
    for line, (name, role), status in zip(lines, signers, statuses, strict=True):
        label = texts.text(f"signer_status.{status}", language)
        assert line.startswith(name), (line, name)
        assert f"({signer_role_label(role, language)})" in line, (line, role)  # in words
        assert line.endswith(label), (line, label)


def protocol_with_signers(client: FlaskClient) -> tuple[str, str, list[tuple[str, str]]]:
    protocol = create_protocol(client, create_commission(client))
    signers = expected_signers(client, protocol["id"])
    assert [role for _, role in signers] == ["chair", *["member"] * 5, "secretary"]
    return protocol["id"], protocol["registration_number"], signers


def sign_all(client: FlaskClient, document_id: str, pki: SigningPKI | TestPKI,
             iins: list[str]) -> None:
    key = pki.key if isinstance(pki, SigningPKI) else pki.credential
    for iin in iins:
        response = sign(client, document_id, key(iin))
        assert response.status_code == 201, response.get_json()


def upload(public: FlaskClient, path: str, content: bytes, p7s: bytes | None = None,
           language: str = "kk") -> Any:
    data: dict[str, Any] = {"pdf": (BytesIO(content), "protocol.pdf")}
    if p7s is not None:
        data["p7s"] = (BytesIO(p7s), "protocol.p7s")
    query = "" if language == "kk" else "?lang=ru"
    return public.post(f"{path}{query}", data=data)


def certificate_name(pki: SigningPKI, iin: str) -> str:
    """The common name on the signing certificate of `iin` (what an uploaded .p7s shows)."""
    return pki.pki.people[iin].person.common_name


def uploaded_shows(html: str, language: str, names: list[str], status: str) -> None:
    """The upload page lists the uploaded .p7s's signers (in any order), each with `status`
    and the signing time, under a summary of the file."""
    match = re.search(r'<section[^>]*id="uploaded-signature"([^>]*)>', html)
    assert match is not None, "no #uploaded-signature on the page"
    assert f'data-status="{status}"' in match.group(0)
    assert texts.text(f"uploaded_signature.{status}", language, count=len(names)) in html
    lines = signer_lines(html, "uploaded-signature")
    label = texts.text(f"signer_status.{status}", language)
    assert sorted(line.removesuffix(f": {label}").split(",")[0] for line in lines) == sorted(
        names), lines
    for line in lines:
        assert line.endswith(f": {label}"), line
        assert texts.text("uploaded_signature.signed_at", language) in line, line
    assert html.count(f'<time datetime="{SIGNED_AT}">') == len(names)


# --------------------------------------------------------------------------- by number


def test_the_verify_answers_show_every_signer_of_a_protocol(
    client: FlaskClient, anonymous_client: FlaskClient, signing_pki: SigningPKI
) -> None:
    protocol_id, number, signers = protocol_with_signers(client)
    answers = Answers()

    def by_number(stage: str, statuses: list[str], verified: bool) -> None:
        plain = answers.json(f"{stage}: API", anonymous_client.get(f"/api/v1/verify/{number}"))
        # valid only once everyone required has signed (with the quorum)
        state = "valid" if verified else "awaiting_signatures"
        assert plain["status"] == state
        summary = plain["signatures"]
        assert summary["required"] is True
        assert summary["verified"] is verified
        assert (summary["signed_at"] is not None) is verified
        assert "signers" not in summary  # the plain lookup is one query: no signer list
        listed = answers.json(f"{stage}: API ?signers=1",
                              anonymous_client.get(f"/api/v1/verify/{number}?signers=1"))
        assert {k: v for k, v in listed.items() if k != "signatures"} == {
            k: v for k, v in plain.items() if k != "signatures"}
        on_record = listed["signatures"]
        assert on_record["verified"] is verified
        assert api_signers(on_record) == [
            (name, role, status) for (name, role), status in zip(signers, statuses, strict=True)
        ]
        for signer, status in zip(on_record["signers"], statuses, strict=True):
            assert set(signer) == {"name", "role", "status", "signed_at", "reasons"}
            assert signer["signed_at"] == (SIGNED_AT if status == "valid" else None)
            assert signer["reasons"] == []
        for language in LANGUAGES:
            query = "" if language == "kk" else "?lang=ru"
            html = answers.html(f"{stage}: page {language}",
                                anonymous_client.get(f"/verify/{number}{query}"))
            assert f'id="status" data-status="{state}"' in html
            summary_key = "signatures.verified" if verified else "signatures.awaiting"
            assert texts.text(summary_key, language) in html
            page_shows(html, language, signers, statuses)

    by_number("nobody signed", ["missing"] * 7, verified=False)

    # everyone present signs, the secretary does not (yet)
    sign_all(client, protocol_id, signing_pki, PRESENT)
    by_number("secretary missing", ["valid"] * 6 + ["missing"], verified=False)

    # the secretary signs last: the protocol is signed and every signature verified
    sign_all(client, protocol_id, signing_pki, [SECRETARY])
    by_number("all signed", ["valid"] * 7, verified=True)

    answers.assert_no_iin()


def test_one_member_missing_is_shown_missing_whoever_it_is(
    client: FlaskClient, anonymous_client: FlaskClient, signing_pki: SigningPKI
) -> None:
    protocol_id, number, signers = protocol_with_signers(client)
    answers = Answers()
    # everyone but the third present member (a plain member, in the middle of the list)
    order = [*PRESENT, SECRETARY]
    left_out = 2
    sign_all(client, protocol_id, signing_pki, [iin for i, iin in enumerate(order)
                                                if i != left_out])
    statuses = ["missing" if i == left_out else "valid" for i in range(len(order))]
    listed = answers.json("API", anonymous_client.get(f"/api/v1/verify/{number}?signers=1"))
    assert listed["signatures"]["verified"] is False
    assert listed["signatures"]["signed_at"] is None
    assert api_signers(listed["signatures"]) == [
        (name, role, status) for (name, role), status in zip(signers, statuses, strict=True)
    ]
    for language in LANGUAGES:
        query = "" if language == "kk" else "?lang=ru"
        html = answers.html(f"page {language}", anonymous_client.get(f"/verify/{number}{query}"))
        page_shows(html, language, signers, statuses)
        assert texts.text("signatures.awaiting", language) in html
        assert 'id="status" data-status="awaiting_signatures"' in html
    answers.assert_no_iin()


# --------------------------------------------------------------------------- uploads


def test_an_upload_of_the_registered_pdf_re_verifies_each_signature(
    client: FlaskClient, anonymous_client: FlaskClient, signing_pki: SigningPKI
) -> None:
    protocol_id, number, signers = protocol_with_signers(client)
    answers = Answers()
    content = client.get(f"/api/v1/documents/{protocol_id}.pdf").get_data()
    registered = client.get(f"/api/v1/documents/{protocol_id}").get_json()
    assert hashlib.sha256(content).hexdigest() == registered["sha256"]

    def uploaded(stage: str, statuses: list[str], verified: bool) -> None:
        body = answers.json(f"{stage}: API upload",
                            upload(anonymous_client, "/api/v1/verify/upload", content))
        assert body["matches"] is True
        assert body["sha256"] == registered["sha256"]
        assert body["verification"]["registration_number"] == number
        assert body["verification"]["status"] == (
            "valid" if verified else "awaiting_signatures")
        reverified = body["signatures"]
        assert reverified["verified"] is verified
        assert api_signers(reverified) == [
            (name, role, status) for (name, role), status in zip(signers, statuses, strict=True)
        ]
        for signer, status in zip(reverified["signers"], statuses, strict=True):
            assert signer["reasons"] == []
            assert signer["signed_at"] == (SIGNED_AT if status == "valid" else None)
        for language in LANGUAGES:
            html = answers.html(f"{stage}: upload page {language}",
                                upload(anonymous_client, "/verify/upload", content,
                                       language=language))
            assert 'data-matches="true"' in html
            # the re-verified signatures: the section of the upload page without an id
            page_shows(html, language, signers, statuses, section_id="reverified-signatures")

    uploaded("nobody signed", ["missing"] * 7, verified=False)
    sign_all(client, protocol_id, signing_pki, PRESENT)
    uploaded("secretary missing", ["valid"] * 6 + ["missing"], verified=False)
    sign_all(client, protocol_id, signing_pki, [SECRETARY])
    uploaded("all signed", ["valid"] * 7, verified=True)

    # with one signer's own .p7s: that signature is checked too, by its certificate's name
    chair_cms = create_cms(content, signing_pki.key(PRESENT[0]), signing_time=NOW)
    body = answers.json("API upload with a .p7s",
                        upload(anonymous_client, "/api/v1/verify/upload", content, chair_cms))
    assert body["signatures"]["verified"] is True
    assert body["uploaded_signature"]["status"] == "valid"
    assert body["uploaded_signature"]["name"] == "ЖҰМАБЕКОВА ГҮЛНАР"
    # the answer of one signer as it was, and the list of signers: a list of one
    assert body["uploaded_signature"] == {
        "status": "valid", "verified": True, "name": "ЖҰМАБЕКОВА ГҮЛНАР", "role": None,
        "signed_at": SIGNED_AT, "reasons": [],
        "signers": [{"name": "ЖҰМАБЕКОВА ГҮЛНАР", "role": None, "status": "valid",
                     "signed_at": SIGNED_AT, "reasons": []}],
    }
    for language in LANGUAGES:
        html = answers.html(f"upload page with a .p7s {language}",
                            upload(anonymous_client, "/verify/upload", content, chair_cms,
                                   language=language))
        assert 'id="uploaded-signature"' in html
        assert "ЖҰМАБЕКОВА ГҮЛНАР" in html
        uploaded_shows(html, language, ["ЖҰМАБЕКОВА ГҮЛНАР"], "valid")

    # other bytes are not the registered document: nothing is re-verified over them
    changed = content + b"\n% edited\n"
    body = answers.json("API upload of changed bytes",
                        upload(anonymous_client, "/api/v1/verify/upload", changed))
    assert body["matches"] is False
    assert body["signatures"] is None
    answers.assert_no_iin()


def test_the_combined_p7s_of_a_signed_protocol_verifies_with_its_pdf(
    client: FlaskClient, anonymous_client: FlaskClient, signing_pki: SigningPKI
) -> None:
    protocol_id, number, _ = protocol_with_signers(client)
    everyone = [*PRESENT, SECRETARY]
    sign_all(client, protocol_id, signing_pki, everyone)
    content = client.get(f"/api/v1/documents/{protocol_id}.pdf").get_data()
    download = client.get(f"/api/v1/documents/{protocol_id}.p7s")
    assert download.status_code == 200
    assert download.mimetype == "application/pkcs7-signature"
    combined = download.get_data()
    names = sorted(certificate_name(signing_pki, iin) for iin in everyone)
    answers = Answers()

    # the registered PDF with the service's own combined .p7s (DER, or base64 as saved from
    # a browser): every signer in it verifies
    for form, p7s in (("DER", combined), ("base64", base64.b64encode(combined))):
        body = answers.json(f"API upload, {form}",
                            upload(anonymous_client, "/api/v1/verify/upload", content, p7s))
        assert body["matches"] is True
        assert body["verification"]["registration_number"] == number
        assert body["signatures"]["verified"] is True
        uploaded = body["uploaded_signature"]
        assert uploaded["status"] == "valid", uploaded
        assert uploaded["verified"] is True
        assert uploaded["reasons"] == []
        assert sorted(s["name"] for s in uploaded["signers"]) == names
        for signer in uploaded["signers"]:
            assert signer == {"name": signer["name"], "role": None, "status": "valid",
                              "signed_at": SIGNED_AT, "reasons": []}
        assert uploaded["name"] == ", ".join(s["name"] for s in uploaded["signers"])
        assert uploaded["role"] is None
        assert uploaded["signed_at"] == SIGNED_AT
    for language in LANGUAGES:
        html = answers.html(f"upload page {language}",
                            upload(anonymous_client, "/verify/upload", content, combined,
                                   language=language))
        assert 'data-matches="true"' in html
        uploaded_shows(html, language, names, "valid")

    # one byte of the PDF changed: no signer in the file signed these bytes
    changed = bytearray(content)
    changed[len(changed) // 2] ^= 0x01
    body = answers.json("API upload, one byte changed",
                        upload(anonymous_client, "/api/v1/verify/upload", bytes(changed),
                               combined))
    assert body["matches"] is False
    assert body["signatures"] is None
    uploaded = body["uploaded_signature"]
    assert uploaded["status"] == "invalid"
    assert uploaded["verified"] is False
    assert uploaded["reasons"] == ["digest_mismatch"]
    assert sorted(s["name"] for s in uploaded["signers"]) == names
    assert {s["status"] for s in uploaded["signers"]} == {"invalid"}
    assert all(s["reasons"] == ["digest_mismatch"] for s in uploaded["signers"])
    for language in LANGUAGES:
        html = answers.html(f"upload page, one byte changed, {language}",
                            upload(anonymous_client, "/verify/upload", bytes(changed),
                                   combined, language=language))
        assert 'data-matches="false"' in html
        uploaded_shows(html, language, names, "invalid")

    # a file that is not a signature at all: said so, with no signer
    body = answers.json("API upload, not a .p7s",
                        upload(anonymous_client, "/api/v1/verify/upload", content,
                               b"\x30\x03\x02\x01\x00"))
    assert body["uploaded_signature"] == {
        "status": "invalid", "verified": False, "name": "", "role": None, "signed_at": None,
        "reasons": ["malformed"], "signers": []}
    for language in LANGUAGES:
        html = answers.html(f"upload page, not a .p7s, {language}",
                            upload(anonymous_client, "/verify/upload", content, b"garbage",
                                   language=language))
        assert texts.text("uploaded_signature.unreadable", language) in html
        assert 'data-signers="0"' in html
    answers.assert_no_iin()
    # the file itself does carry the IINs (in its certificates); the answers above do not
    assert IIN_PATTERN.search(combined.decode("latin-1")) is not None


def test_without_trust_anchors_an_upload_says_indeterminate_and_does_not_fail(
    client: FlaskClient, signing_pki: SigningPKI, settings: Settings
) -> None:
    protocol_id, number, signers = protocol_with_signers(client)
    sign_all(client, protocol_id, signing_pki, PRESENT)
    content = client.get(f"/api/v1/documents/{protocol_id}.pdf").get_data()
    answers = Answers()
    # the same database and files, served without QUJAT_TRUST_DIR
    untrusting = create_app(settings.replace(trust_dir=None), clock=fixed_clock)
    try:
        public = untrusting.test_client()
        body = answers.json("API upload", upload(public, "/api/v1/verify/upload", content))
        assert body["matches"] is True
        reverified = body["signatures"]
        assert reverified["verified"] is False
        statuses = ["indeterminate"] * 6 + ["missing"]
        assert api_signers(reverified) == [
            (name, role, status) for (name, role), status in zip(signers, statuses, strict=True)
        ]
        assert [s["reasons"] for s in reverified["signers"]] == (
            [["no_trust_anchors"]] * 6 + [[]])
        for language in LANGUAGES:
            html = answers.html(f"upload page {language}",
                                upload(public, "/verify/upload", content, language=language))
            page_shows(html, language, signers, statuses, section_id="reverified-signatures")
        # an uploaded .p7s cannot be judged either, and says so
        chair_cms = create_cms(content, signing_pki.key(PRESENT[0]), signing_time=NOW)
        body = answers.json("API upload with a .p7s",
                            upload(public, "/api/v1/verify/upload", content, chair_cms))
        assert body["uploaded_signature"]["status"] == "indeterminate"
        assert body["uploaded_signature"]["reasons"] == ["no_trust_anchors"]
        assert body["uploaded_signature"]["signers"] == []
        for language in LANGUAGES:
            html = answers.html(f"upload page with a .p7s {language}",
                                upload(public, "/verify/upload", content, chair_cms,
                                       language=language))
            assert texts.text("uploaded_signature.unchecked", language) in html
        # what was found when each signature was accepted still stands by number
        listed = answers.json("API", public.get(f"/api/v1/verify/{number}?signers=1"))
        assert [s["status"] for s in listed["signatures"]["signers"]] == ["valid"] * 6 + [
            "missing"]
    finally:
        untrusting.extensions["qujat.database"].dispose()
    answers.assert_no_iin()


@pytest.fixture
def own_pki(tmp_path: Path, pytestconfig: pytest.Config) -> TestPKI:
    """A PKI of this test's own (its CRL changes), with the commission's people."""
    from service.cli.signatures import example_people

    cache = getattr(pytestconfig, "cache", None)
    keys = KeyPool(cache.mkdir("signing-test-keys") if cache is not None else None)
    return init_test_pki(tmp_path / "own-pki", example_people(EXAMPLES / "commission.json"),
                         keys=keys, now=NOW)


def test_a_certificate_revoked_after_signing_shows_on_upload(
    tmp_path: Path, database_url: str, own_pki: TestPKI
) -> None:
    settings = Settings(data_dir=tmp_path / "data", database_url=database_url,
                        trust_dir=own_pki.directory, verify_rate_limit=RATE_LIMIT)
    app: Flask = create_app(settings, clock=fixed_clock)
    try:
        client = app.test_client()
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {new_token(app, 'KRG')}"
        protocol_id, number, signers = protocol_with_signers(client)
        sign_all(client, protocol_id, own_pki, [*PRESENT, SECRETARY])
        content = client.get(f"/api/v1/documents/{protocol_id}.pdf").get_data()
        public = app.test_client()
        answers = Answers()
        before = answers.json("before", upload(public, "/api/v1/verify/upload", content))
        assert before["signatures"]["verified"] is True

        # the CA revokes a member's certificate (backdated before the signature): the trust
        # folder's new CRL is picked up without a restart
        revoked = PRESENT[1]
        own_pki.revoke(own_pki.credential(revoked))
        after = answers.json("after", upload(public, "/api/v1/verify/upload", content))
        assert after["signatures"]["verified"] is False
        statuses = [s["status"] for s in after["signatures"]["signers"]]
        assert statuses == ["valid", "invalid", *["valid"] * 5]
        assert "revoked" in after["signatures"]["signers"][1]["reasons"]
        assert after["signatures"]["signers"][1]["name"] == signers[1][0]
        # by number, the page shows what was found when each signature was accepted
        listed = answers.json("by number", public.get(f"/api/v1/verify/{number}?signers=1"))
        assert [s["status"] for s in listed["signatures"]["signers"]] == ["valid"] * 7
        answers.assert_no_iin()
    finally:
        app.extensions["qujat.database"].dispose()
