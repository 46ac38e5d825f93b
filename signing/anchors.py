"""The national CA's (НУЦ РК) public CA certificates, shipped with qujat as data.

`signing/nca/` holds the DER certificates and ``index.json`` (file, generation, algorithm, role,
subject, validity, SHA-256 fingerprint, source). `write_trust_folder` copies one generation
(production or test) into a trust folder, with a ``revocation.json`` naming the CRLs the CA
publishes for it (see `signing.revocation`). `check_index` proves that the index says what the
files are.

Only certificates of which a public copy was found are here; docs/revocation.md lists them and
says what is missing (the CA's current production generation must be downloaded from
pki.gov.kz by the operator).
"""

from __future__ import annotations

import hashlib
import json
import warnings
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from cryptography import x509

from signing.revocation import CONFIG_FILE

Generation = Literal["production", "test"]

INDEX_FILE = "index.json"

# What the CA publishes for each generation: full and delta CRLs of the CA that issues people's
# keys (NCANode's defaults); the root CAs' CRLs come from the intermediates' own distribution
# points. Certificates name their OCSP responder themselves.
CRL_URLS: dict[Generation, list[str]] = {
    "production": [
        "http://crl.pki.gov.kz/nca_rsa.crl",
        "http://crl.pki.gov.kz/nca_d_rsa.crl",
        "http://crl.pki.gov.kz/nca_gost.crl",
        "http://crl.pki.gov.kz/nca_d_gost.crl",
    ],
    "test": [
        "http://test.pki.gov.kz/crl/nca_rsa_test.crl",
        "http://test.pki.gov.kz/crl/nca_d_rsa_test.crl",
        "http://test.pki.gov.kz/crl/nca_gost_test.crl",
        "http://test.pki.gov.kz/crl/nca_d_gost_test.crl",
    ],
}


@dataclass(frozen=True)
class Anchor:
    """One shipped certificate as the index describes it."""

    file: str
    generation: Generation
    algorithm: Literal["rsa", "gost"]
    role: Literal["root", "intermediate"]
    subject: str
    not_before: datetime
    not_after: datetime
    sha256: str
    source: dict[str, str]

    def der(self) -> bytes:
        return bytes(_data().joinpath(self.file).read_bytes())


def anchors(generation: Generation | None = None) -> list[Anchor]:
    """The shipped certificates (of one generation)."""
    index = json.loads(_data().joinpath(INDEX_FILE).read_text("utf-8"))
    found = [
        Anchor(
            file=entry["file"],
            generation=entry["generation"],
            algorithm=entry["algorithm"],
            role=entry["role"],
            subject=entry["subject"],
            not_before=datetime.fromisoformat(entry["not_before"]),
            not_after=datetime.fromisoformat(entry["not_after"]),
            sha256=entry["sha256"],
            source=dict(entry["source"]),
        )
        for entry in index["anchors"]
    ]
    return [a for a in found if generation is None or a.generation == generation]


def check_index() -> list[str]:
    """Differences between the index and the certificate files (empty when they agree)."""
    problems = []
    for anchor in anchors():
        der = anchor.der()
        cert = x509.load_der_x509_certificate(der)
        with warnings.catch_warnings():
            # NCA's organisation names are longer than X.520's 64 characters
            warnings.filterwarnings("ignore", "Attribute's length", UserWarning)
            actual = {
                "sha256": hashlib.sha256(der).hexdigest(),
                "subject": cert.subject.rfc4514_string(),
                "not_before": cert.not_valid_before_utc,
                "not_after": cert.not_valid_after_utc,
                "role": "root" if cert.issuer == cert.subject else "intermediate",
            }
        for name, value in actual.items():
            if getattr(anchor, name) != value:
                problems.append(f"{anchor.file}: {name} is {value!r} in the file")
    return problems


def write_trust_folder(folder: Path, generation: Generation) -> list[Path]:
    """Write `generation`'s certificates and a ``revocation.json`` into `folder` (created if
    need be); existing files of the same name are replaced, others left alone."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for anchor in anchors(generation):
        path = folder / anchor.file
        path.write_bytes(anchor.der())
        written.append(path)
    config_path = folder / CONFIG_FILE
    config: dict[str, Any] = {}
    if config_path.is_file():
        config = json.loads(config_path.read_text("utf-8"))
    urls = list(config.get("crl_urls", []))
    config["crl_urls"] = list(dict.fromkeys([*urls, *CRL_URLS[generation]]))
    config_path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    written.append(config_path)
    return written


def _data() -> Any:
    return resources.files("signing").joinpath("nca")  # a Traversable
