"""`qujat pki init`, `qujat sign`, `qujat sign-pending` and `qujat commission …`: run the
signing flow without NCALayer.

`qujat sign` does what NCALayer does in a member's browser: it fetches the frozen bytes of a
document, signs them locally with the member's PKCS#12 key (CAdES-BES, detached, SHA-256) and
posts the CMS. The private key never leaves this machine.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import click

from service.core.messages import message

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
DEFAULT_URL = "http://127.0.0.1:8000"
TIMEOUT_SECONDS = 60


def example_people(commission_file: Path) -> list[Any]:
    """The commission's members and secretary, the example certificate's head of organisation
    and the example refusal's authorised person (when those examples exist)."""
    from signing.pki import Person

    def person(data: dict[str, Any]) -> Person:
        return Person(data["iin"], data["surname"], data["given_name"],
                      data.get("patronymic") or "")

    commission = json.loads(commission_file.read_text("utf-8"))
    people = [person(m) for m in commission["members"]] + [person(commission["secretary"])]
    for name, field in (("certificate.kk.json", "head_of_organisation"),
                        ("refusal.kk.json", "authorised_person")):
        path = EXAMPLES / name
        if path.is_file():
            found = json.loads(path.read_text("utf-8"))["decision"].get(field)
            if found and found.get("iin"):
                people.append(person(found))
    unique: dict[str, Person] = {}
    for one in people:
        unique.setdefault(one.iin, one)
    return list(unique.values())


@click.group("pki")
def pki_group() -> None:
    """A test PKI shaped like the national CA's (never for real documents)."""


ALGORITHMS = ("both", "rsa", "gost2015-512")


@pki_group.command("init")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--commission",
    "commission_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=EXAMPLES / "commission.json",
    show_default=True,
    help="Whose keys to make: the members and the secretary of this commission.",
)
@click.option(
    "--algorithm",
    type=click.Choice(ALGORITHMS),
    default="both",
    show_default=True,
    help="Which keys: RSA (<iin>_sign.p12, root.pem), GOST 34.10-2015 512-bit in NCA's "
    "format (<iin>_gost_sign.p12, root_gost.pem), or both CA families in one folder.",
)
def pki_init(directory: Path, commission_file: Path, algorithm: str) -> None:
    """Make test CAs, their CRLs and everyone's signing and authentication keys in DIRECTORY."""
    from signing.client import TEST_PASSWORD
    from signing.gostpki import init_gost_test_pki
    from signing.pki import init_test_pki

    if directory.exists() and any(directory.iterdir()):
        raise click.ClickException(f"{directory} is not empty: choose a new folder")
    people = example_people(commission_file)
    roots: list[Path] = []
    files: dict[str, list[tuple[str, Path, Path]]] = {}
    if algorithm in ("both", "rsa"):
        pki = init_test_pki(directory, people)
        roots.append(pki.root_path)
        for keys in pki.people.values():
            files.setdefault(keys.person.iin, []).append(("RSA", keys.sign_p12, keys.auth_p12))
    if algorithm in ("both", "gost2015-512"):
        gost_pki = init_gost_test_pki(directory, people)
        roots.append(gost_pki.root_path)
        for gost_keys in gost_pki.people.values():
            files.setdefault(gost_keys.person.iin, []).append(
                ("GOST", gost_keys.sign_p12, gost_keys.auth_p12)
            )
    click.echo(f"test PKI in {directory.resolve()} (password of every .p12: "
               f"{TEST_PASSWORD.decode()})")
    for person in people:
        click.echo(f"  {person.iin}  {person.surname} {person.name} {person.patronymic}".rstrip())
        for family, sign_p12, auth_p12 in files[person.iin]:
            click.echo(f"      {family + ' signing key:':<24} {sign_p12.resolve()}")
            click.echo(f"      {family + ' authentication key:':<24} {auth_p12.resolve()}")
    for root in roots:
        click.echo(f"root CA: {root.resolve()}")
    click.echo(f"trust the folder: export QUJAT_TRUST_DIR={directory.resolve()}")


def refusal_header(status: int, body: Any, language: str) -> str:
    """The first line of a refused call: the server's English `detail` for --messages en,
    else "the server refused the request" in that language (the reasons that follow are the
    server's own, already in it)."""
    if language in ("kk", "ru"):
        return f"HTTP {status}: {message('cli_refused', language)}"  # type: ignore[arg-type]
    return f"HTTP {status}: {body.get('detail', '') if isinstance(body, dict) else body}"


class ApiError(click.ClickException):
    def __init__(self, status: int, body: Any, language: str = "en") -> None:
        self.status = status
        self.body = body
        self.language = language
        lines = [refusal_header(status, body, language)]
        if isinstance(body, dict):
            lines += [f"  {e.get('pointer') or '/'}: {e.get('reason')} [{e.get('code')}]"
                      for e in body.get("errors", [])]
        super().__init__("\n".join(lines))

    def show(self, file: Any = None) -> None:
        """As click shows an error, with "Error" in the chosen language."""
        error = message("cli_error", self.language)  # type: ignore[arg-type]
        click.echo(f"{error}: {self.format_message()}", file=file, err=True)


def api_call(
    method: str, url: str, token: str, body: Any = None, language: str = "en"
) -> Any:
    """One JSON call to the qujat API; ApiError for any answer but 2xx."""
    data = None if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - http(s) only
    request.add_header("Authorization", f"Bearer {token}")
    request.add_header("Accept-Language", language)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if not url.startswith(("http://", "https://")):
        raise click.ClickException(f"not an http(s) URL: {url}")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            return json.loads(response.read())
    except urllib.error.HTTPError as error:
        raw = error.read()
        try:
            parsed: Any = json.loads(raw)
        except ValueError:
            parsed = raw.decode("utf-8", errors="replace")[:500]
        raise ApiError(error.code, parsed, language) from None
    except urllib.error.URLError as error:
        raise click.ClickException(f"cannot reach {url}: {error.reason}") from None


_URL = click.option("--url", envvar="QUJAT_URL", default=DEFAULT_URL, show_default=True,
                    help="The qujat service (env QUJAT_URL).")
_TOKEN = click.option("--token", envvar="QUJAT_TOKEN", required=True,
                      help="The platform's API token (env QUJAT_TOKEN).")
_MESSAGES = click.option("--messages", type=click.Choice(["kk", "ru", "en"]), default="en",
                         show_default=True, help="Language of the service's messages.")


@click.command("sign")
@click.option("--p12", "p12_file", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The signer's PKCS#12 file: the signing key, RSA or GOST (NCA's RSA256_…, "
              "GOST512_…, or <iin>_sign.p12, <iin>_gost_sign.p12 of `qujat pki init`).")
@click.option("--password", default=lambda: os.environ.get("QUJAT_P12_PASSWORD", "123456"),
              show_default="123456, or env QUJAT_P12_PASSWORD", help="The PKCS#12 password.")
@click.option("--iin", default=None, help="Sign as this person (refused if the key is not "
              "theirs); by default the IIN in the certificate.")
@_URL
@_TOKEN
@_MESSAGES
@click.argument("document_id")
def sign_command(p12_file: Path, password: str, iin: str | None, url: str, token: str,
                 messages: str, document_id: str) -> None:
    """Sign DOCUMENT_ID as NCALayer would: fetch its bytes, sign locally, post the CMS
    (SHA-256 with an RSA key, Streebog-512 with a GOST 34.10-2015 key)."""
    from signing.client import sign_detached

    base = f"{url.rstrip('/')}/api/v1/documents/{document_id}"
    to_sign = api_call("GET", f"{base}/signing", token, language=messages)
    content = base64.b64decode(to_sign["content_base64"], validate=True)
    if hashlib.sha256(content).hexdigest() != to_sign["sha256"]:
        raise click.ClickException("the bytes received do not match their SHA-256: not signing")
    try:
        cms = sign_detached(content, p12_file.read_bytes(), password.encode("utf-8"))
    except ValueError as error:
        raise click.ClickException(f"{p12_file}: {error}") from None
    body: dict[str, Any] = {"cms": base64.b64encode(cms).decode("ascii")}
    if iin is not None:
        body["iin"] = iin
    state = api_call("POST", f"{base}/signatures", token, body, language=messages)
    number = state["registration_number"]
    serial = _serial(cms)
    accepted = next((s for s in state["signed"] if s["certificate_serial"] == serial), None)
    if accepted is not None:
        click.echo(f"{number}: signed by {accepted['name']} ({accepted['role']})")
    missing = ", ".join(m["name"] for m in state["missing"])
    click.echo(f"status: {state['status']}" + (f"; still to sign: {missing}" if missing else ""))


@click.command("sign-pending")
@click.option("--p12", "p12_file", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The signer's PKCS#12 file (the signing key, RSA256_…).")
@click.option("--password", default=lambda: os.environ.get("QUJAT_P12_PASSWORD", "123456"),
              show_default="123456, or env QUJAT_P12_PASSWORD", help="The PKCS#12 password.")
@_URL
@_TOKEN
@_MESSAGES
def sign_pending_command(p12_file: Path, password: str, url: str, token: str,
                         messages: str) -> None:
    """Sign everything waiting for the key's owner in one request, as the signing room would
    with one NCALayer call: list what is pending for the IIN in the certificate, sign each
    document's bytes locally, post all the signatures to POST /api/v1/signatures."""
    from asn1crypto import x509 as asn1_x509
    from cryptography.hazmat.primitives.serialization import Encoding

    from signing.client import Credential, create_cms
    from signing.identity import SignerIdentity

    try:
        credential = Credential.from_pkcs12(p12_file.read_bytes(), password.encode("utf-8"))
    except ValueError as error:
        raise click.ClickException(f"{p12_file}: {error}") from None
    certificate = asn1_x509.Certificate.load(credential.certificate.public_bytes(Encoding.DER))
    iin = SignerIdentity.from_certificate(certificate).iin
    if iin is None:
        raise click.ClickException(f"{p12_file}: the certificate names no IIN")
    base = url.rstrip("/")
    listed = api_call("GET", f"{base}/api/v1/signers/{iin}/pending?content=1", token,
                      language=messages)
    documents = listed["documents"]
    if not documents:
        click.echo("nothing to sign")
        return
    items = []
    for document in documents:
        content = base64.b64decode(document["content_base64"], validate=True)
        if hashlib.sha256(content).hexdigest() != document["sha256"]:
            raise click.ClickException(f"{document['registration_number']}: the bytes received "
                                       "do not match their SHA-256: not signing")
        cms = create_cms(content, credential)
        items.append({"document": document["id"], "cms": base64.b64encode(cms).decode("ascii"),
                      "iin": iin})
    answer = api_call("POST", f"{base}/api/v1/signatures", token, {"signatures": items},
                      language=messages)
    for result, document in zip(answer["results"], documents, strict=True):
        number = document["registration_number"]
        if result["outcome"] == "accepted":
            click.echo(f"{number}: {result['signing']['status']}")
        else:
            reasons = ", ".join(e.get("code", "") for e in result["problem"].get("errors", []))
            click.echo(f"{number}: refused, HTTP {result['status']} [{reasons}]")
    more = " (more are pending: run again)" if listed["truncated"] else ""
    click.echo(f"signed {answer['accepted']} of {len(items)} in one request{more}")
    if answer["refused"]:
        raise SystemExit(1)


def _serial(cms: bytes) -> str:
    from asn1crypto import cms as asn1_cms

    signer_info = asn1_cms.ContentInfo.load(cms)["content"]["signer_infos"][0]
    serial: int = signer_info["sid"].chosen["serial_number"].native
    text = f"{serial:x}"
    return text.zfill(len(text) + len(text) % 2)


@click.group("commission")
def commission_group() -> None:
    """Attestation commissions over the API."""


@commission_group.command("create")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_URL
@_TOKEN
@_MESSAGES
def commission_create(file: Path, url: str, token: str, messages: str) -> None:
    """Store the commission in FILE (schemas/commission.v1.schema.json); print its id."""
    created = api_call("POST", f"{url.rstrip('/')}/api/v1/commissions", token,
                       json.loads(file.read_text("utf-8")), language=messages)
    click.echo(created["id"])


@commission_group.command("protocol")
@click.argument("commission_id")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_URL
@_TOKEN
@_MESSAGES
def commission_protocol(commission_id: str, file: Path, url: str, token: str,
                        messages: str) -> None:
    """Issue the protocol of a session ({form, language, decision_id, session, present, rows}
    in FILE); print its id, number and who must sign it."""
    base = url.rstrip("/")
    issued = api_call("POST", f"{base}/api/v1/commissions/{commission_id}/protocols", token,
                      json.loads(file.read_text("utf-8")), language=messages)
    state = api_call("GET", f"{base}/api/v1/documents/{issued['id']}/signing", token,
                     language=messages)
    click.echo(f"{issued['id']} {issued['registration_number']}")
    for missing in state["missing"]:
        click.echo(f"  to sign: {missing['name']} ({missing['role']})")
