"""Who signed: Kazakh identifiers (IIN, BIN) and the signer's identity read from an NCA certificate.

Certificates of the national CA (НУЦ РК) carry the person's IIN in the subject serialNumber as
``IIN`` + 12 digits and an organisation's BIN in OU as ``BIN`` + 12 digits.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from asn1crypto import x509 as asn1_x509

_IIN_IN_SUBJECT = re.compile(r"IIN(\d{12})")
_BIN_IN_SUBJECT = re.compile(r"BIN(\d{12})")
_TWELVE_DIGITS = re.compile(r"\d{12}")


def is_valid_iin(value: str) -> bool:
    """True if `value` is 12 digits with a correct IIN/BIN check digit.

    The check digit is the weighted sum of the first 11 digits (weights 1…11) modulo 11; if that
    is 10, the weights 3…11, 1, 2 are used instead; a second 10 makes the number invalid.
    """
    if not _TWELVE_DIGITS.fullmatch(value):
        return False
    digits = [int(c) for c in value]
    check = sum(w * d for w, d in zip(range(1, 12), digits, strict=False)) % 11
    if check == 10:
        weights = [*range(3, 12), 1, 2]
        check = sum(w * d for w, d in zip(weights, digits, strict=False)) % 11
        if check == 10:
            return False
    return check == digits[11]


@dataclass(frozen=True)
class SignerIdentity:
    """The person (and organisation) named in a signing certificate.

    `iin` comes from the subject serialNumber ``IIN…``, `bin` from an OU ``BIN…``; `serial_hex`
    is the certificate serial number in hex, `issuer` the issuer's RFC 4514 name,
    `non_repudiation` whether key usage has nonRepudiation, `certificate` the DER.
    """

    common_name: str
    iin: str | None
    bin: str | None
    organization: str | None
    serial_hex: str
    issuer: str
    not_before: datetime
    not_after: datetime
    non_repudiation: bool
    certificate_sha256: str
    certificate: bytes = field(repr=False)

    @classmethod
    def from_certificate(cls, cert: asn1_x509.Certificate) -> SignerIdentity:
        der: bytes = cert.dump()
        subject = _attributes(cert.subject)
        key_usage: set[str] = set(cert.key_usage_value.native) if cert.key_usage_value else set()
        serial: int = cert.serial_number
        serial_hex = f"{serial:x}"
        validity = cert["tbs_certificate"]["validity"]
        return cls(
            common_name=_first(subject, "common_name") or "",
            iin=_match_first(subject.get("serial_number", []), _IIN_IN_SUBJECT),
            bin=_match_first(subject.get("organizational_unit_name", []), _BIN_IN_SUBJECT),
            organization=_first(subject, "organization_name"),
            serial_hex=serial_hex.zfill(len(serial_hex) + len(serial_hex) % 2),
            issuer=distinguished_name(cert.issuer),
            not_before=validity["not_before"].native,
            not_after=validity["not_after"].native,
            non_repudiation="non_repudiation" in key_usage,
            certificate_sha256=hashlib.sha256(der).hexdigest(),
            certificate=der,
        )


def distinguished_name(name: asn1_x509.Name) -> str:
    """RFC 4514 string of a name, e.g. ``CN=ҰЛТТЫҚ КУӘЛАНДЫРУШЫ ОРТАЛЫҚ (RSA),C=KZ``."""
    rdns = []
    for rdn in reversed(name.chosen):
        parts = []
        for type_and_value in rdn:
            oid = type_and_value["type"]
            label = _SHORT_NAMES.get(oid.native, oid.dotted)
            parts.append(f"{label}={_escape(str(type_and_value['value'].native))}")
        rdns.append("+".join(parts))
    return ",".join(rdns)


_SHORT_NAMES = {
    "common_name": "CN",
    "country_name": "C",
    "organization_name": "O",
    "organizational_unit_name": "OU",
    "serial_number": "SERIALNUMBER",
    "surname": "SN",
    "given_name": "GN",
    "locality_name": "L",
    "state_or_province_name": "ST",
    "email_address": "E",
}


def _escape(value: str) -> str:
    escaped = re.sub(r'([,+"\\<>;=])', r"\\\1", value)
    if escaped.startswith(("#", " ")):
        escaped = "\\" + escaped
    if escaped.endswith(" "):
        escaped = escaped[:-1] + "\\ "
    return escaped


def _attributes(name: asn1_x509.Name) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for rdn in name.chosen:
        for type_and_value in rdn:
            value: Any = type_and_value["value"].native
            found.setdefault(type_and_value["type"].native, []).append(str(value))
    return found


def _first(attributes: dict[str, list[str]], name: str) -> str | None:
    values = attributes.get(name)
    return values[0] if values else None


def _match_first(values: list[str], pattern: re.Pattern[str]) -> str | None:
    for value in values:
        if match := pattern.fullmatch(value.strip()):
            return match.group(1)
    return None
