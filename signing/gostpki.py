"""A GOST test PKI shaped like the national CA's (НУЦ РК) GOST 34.10-2015 hierarchy.

Beside the RSA test PKI of `signing.pki`, in the same folder and with the same people:
a self-signed GOST root, a GOST intermediate CA, their GOST-signed CRLs and, for each person, a
signing and an authentication key (GOST 34.10-2015, 512-bit, parameter set A) in PKCS#12 files
of NCA's own format (`signing.pkcs12`), so that `qujat sign` reads them as it reads NCA's.

The certificates follow NCA's GOST profile as its published test keys show it (see
tests/signing/data/nca/README_p12.md): signature algorithm 1.2.398.3.10.1.1.2.3.2, key
1.2.398.3.10.1.1.2.2 with parameters {1.2.398.3.10.1.1.2.2.1, 1.2.398.3.10.1.3.3}, subject as
in `signing.pki.Person` (CN, SN, serialNumber=IIN…, C=KZ, GN, O, OU=BIN…), policy 1.2.398.3.3.2
with NCA's CPS, and

- the signing key: key usage digitalSignature, nonRepudiation, keyAgreement (NCA's 2023 profile
  of ``GOST512_…`` keys), extended key usage emailProtection and 1.2.398.3.3.4.1.1 (an
  individual) or 1.2.398.3.3.4.1.2 (an organisation's employee, with O and OU=BIN…);
- the authentication key: key usage digitalSignature, keyEncipherment, extended key usage
  clientAuth and the same NCA purpose, as NCA's ``AUTH_…`` keys have it.

Folder layout, next to the RSA files::

    root_gost.pem  intermediate_gost.pem  root_gost.crl  intermediate_gost.crl  people_gost.json
    <iin>_gost_sign.p12  <iin>_gost_auth.p12      (password "123456")

Never use these keys for anything real.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

from asn1crypto import core, keys
from asn1crypto import crl as asn1_crl
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from signing.client import TEST_PASSWORD, Credential
from signing.gostkey import GostPrivateKey
from signing.pki import CRL_VALIDITY, PERSON_VALIDITY, Person

Role = Literal["sign", "auth"]

ROOT_FILE = "root_gost.pem"
INTERMEDIATE_FILE = "intermediate_gost.pem"
ROOT_CRL_FILE = "root_gost.crl"
INTERMEDIATE_CRL_FILE = "intermediate_gost.crl"
INDEX_FILE = "people_gost.json"
# NCA's own short forms (НЕГІЗГІ КО = the root CA, ҰКО = the national CA), prefixed ТЕСТ; the
# full names pass 64 bytes of UTF-8, which `cryptography` warns about when it reads them.
ROOT_NAME = "ТЕСТ НЕГІЗГІ КО (GOST)"
INTERMEDIATE_NAME = "ТЕСТ ҰКО (GOST)"

# NCA's OIDs: the certificate policy of its CAs and its CPS, the purposes of its keys.
NCA_POLICY = "1.2.398.3.3.2"
NCA_CPS = "http://pki.gov.kz/cps"
ROOT_POLICY = "1.2.398.3.1.2"
PURPOSE_INDIVIDUAL = "1.2.398.3.3.4.1.1"
PURPOSE_ORGANISATION = "1.2.398.3.3.4.1.2"

SIGN_KEY_USAGE = frozenset({"digital_signature", "non_repudiation", "key_agreement"})
AUTH_KEY_USAGE = frozenset({"digital_signature", "key_encipherment"})
_CA_KEY_USAGE = frozenset({"key_cert_sign", "crl_sign"})
_BACKDATE = timedelta(minutes=10)


def _name(common_name: str) -> asn1_x509.Name:
    """CN (UTF8String) and C=KZ (PrintableString), in that order, as NCA's CA names are."""
    rdns = [
        [
            {
                "type": "common_name",
                "value": asn1_x509.DirectoryString(
                    name="utf8_string", value=core.UTF8String(common_name)
                ),
            }
        ],
        [{"type": "country_name", "value": core.PrintableString("KZ")}],
    ]
    return asn1_x509.Name({"": asn1_x509.RDNSequence(rdns)})


def _time(moment: datetime) -> asn1_x509.Time:
    moment = moment.astimezone(UTC).replace(microsecond=0)
    if moment.year < 2050:
        return asn1_x509.Time({"utc_time": moment})
    return asn1_x509.Time({"general_time": moment})


def _key_identifier(key: GostPrivateKey) -> bytes:
    """SHA-1 of the public key's BIT STRING content (RFC 5280, 4.2.1.2, method 1)."""
    info = keys.PublicKeyInfo.load(key.public_key_info())
    return hashlib.sha1(info["public_key"].contents[1:]).digest()  # noqa: S324


def _algorithm(key: GostPrivateKey) -> asn1_x509.SignedDigestAlgorithm:
    return asn1_x509.SignedDigestAlgorithm(
        {"algorithm": key.signature_algorithm, "parameters": core.Null()}
    )


def _serial() -> int:
    """A positive 20-byte serial, as NCA's are."""
    return secrets.randbits(159) | (1 << 152)


@dataclass
class GostCertificateAuthority:
    """A GOST CA certificate with its key and the serials it has revoked (for its CRL)."""

    certificate: asn1_x509.Certificate
    private_key: GostPrivateKey
    revoked: dict[int, datetime] = field(default_factory=dict)

    @property
    def name(self) -> asn1_x509.Name:
        name: asn1_x509.Name = self.certificate.subject
        return name

    @property
    def key_identifier(self) -> bytes:
        return _key_identifier(self.private_key)

    @property
    def cryptography_certificate(self) -> x509.Certificate:
        return x509.load_der_x509_certificate(self.certificate.dump())

    def sign_certificate(
        self,
        *,
        subject: asn1_x509.Name,
        key: GostPrivateKey,
        not_before: datetime,
        not_after: datetime,
        extensions: list[dict[str, object]],
        serial: int | None = None,
    ) -> asn1_x509.Certificate:
        tbs = asn1_x509.TbsCertificate(
            {
                "version": "v3",
                "serial_number": serial or _serial(),
                "signature": _algorithm(self.private_key),
                "issuer": self.name,
                "validity": {"not_before": _time(not_before), "not_after": _time(not_after)},
                "subject": subject,
                "subject_public_key_info": keys.PublicKeyInfo.load(key.public_key_info()),
                "extensions": extensions,
            }
        )
        return _signed_certificate(tbs, self.private_key)

    def crl(self, now: datetime) -> bytes:
        """A DER CRL listing the revoked serials, valid for `CRL_VALIDITY`, signed in GOST."""
        tbs: dict[str, object] = {
            "version": "v2",
            "signature": _algorithm(self.private_key),
            "issuer": self.name,
            "this_update": _time(now - _BACKDATE),
            "next_update": _time(now + CRL_VALIDITY),
            "crl_extensions": [
                {"extn_id": "crl_number", "critical": False, "extn_value": int(now.timestamp())},
                {
                    "extn_id": "authority_key_identifier",
                    "critical": False,
                    "extn_value": {"key_identifier": self.key_identifier},
                },
            ],
        }
        if self.revoked:
            tbs["revoked_certificates"] = [
                {
                    "user_certificate": serial,
                    "revocation_date": _time(when),
                    "crl_entry_extensions": [
                        {"extn_id": "crl_reason", "critical": False, "extn_value": "key_compromise"}
                    ],
                }
                for serial, when in sorted(self.revoked.items())
            ]
        tbs_list = asn1_crl.TbsCertList(tbs)
        certificate_list = asn1_crl.CertificateList(
            {
                "tbs_cert_list": tbs_list,
                "signature_algorithm": _algorithm(self.private_key),
                "signature": self.private_key.sign(tbs_list.dump()),
            }
        )
        dumped: bytes = certificate_list.dump()
        return dumped


def _signed_certificate(
    tbs: asn1_x509.TbsCertificate, key: GostPrivateKey
) -> asn1_x509.Certificate:
    return asn1_x509.Certificate(
        {
            "tbs_certificate": tbs,
            "signature_algorithm": _algorithm(key),
            "signature_value": key.sign(tbs.dump()),
        }
    )


@dataclass(frozen=True)
class GostPersonKeys:
    person: Person
    sign: Credential
    auth: Credential
    sign_p12: Path
    auth_p12: Path


class GostTestPKI:
    """A GOST root CA, intermediate CA and people's GOST keys in `directory` (module doc)."""

    __test__ = False  # not a pytest test class

    def __init__(
        self,
        directory: Path,
        *,
        now: datetime | None = None,
        crl_url: str | None = None,
    ) -> None:
        self.directory = directory
        self.now = now or datetime.now(UTC)
        self.crl_url = crl_url
        self.people: dict[str, GostPersonKeys] = {}
        directory.mkdir(parents=True, exist_ok=True)
        self.root = self._self_signed_ca(ROOT_NAME)
        self.intermediate = self._subordinate_ca(self.root, INTERMEDIATE_NAME)
        self._untrusted: GostCertificateAuthority | None = None
        (directory / ROOT_FILE).write_bytes(_pem(self.root.certificate))
        (directory / INTERMEDIATE_FILE).write_bytes(_pem(self.intermediate.certificate))
        self.write_crls()

    @property
    def root_path(self) -> Path:
        return self.directory / ROOT_FILE

    @property
    def intermediate_path(self) -> Path:
        return self.directory / INTERMEDIATE_FILE

    def credential(self, iin: str, role: Role = "sign") -> Credential:
        keys_ = self.people[iin]
        return keys_.sign if role == "sign" else keys_.auth

    def add_person(self, person: Person) -> GostPersonKeys:
        """Issue both GOST keys of `person`, write their PKCS#12 files, update the index."""
        sign = self.issue(person, role="sign")
        auth = self.issue(person, role="auth")
        sign_p12 = self.directory / f"{person.iin}_gost_sign.p12"
        auth_p12 = self.directory / f"{person.iin}_gost_auth.p12"
        sign_p12.write_bytes(sign.to_pkcs12(TEST_PASSWORD))
        auth_p12.write_bytes(auth.to_pkcs12(TEST_PASSWORD))
        person_keys = GostPersonKeys(person, sign, auth, sign_p12, auth_p12)
        self.people[person.iin] = person_keys
        self._write_index()
        return person_keys

    def issue(
        self,
        person: Person,
        *,
        role: Role = "sign",
        key: GostPrivateKey | None = None,
        bits: int = 512,
        not_before: datetime | None = None,
        not_after: datetime | None = None,
        key_usage: Iterable[str] | None = None,
        extended_key_usage: Iterable[str] | None = None,
        issuer: GostCertificateAuthority | None = None,
        with_chain: bool = True,
    ) -> Credential:
        """Issue a GOST certificate for `person`; defaults give NCA's `role` profile.

        `key` (default: a fresh one of `bits`) is the key certified; `with_chain` puts the
        issuing CA's certificate (unless the root's) beside the credential."""
        ca = issuer or self.intermediate
        key = key or GostPrivateKey.generate(bits)
        purpose = PURPOSE_ORGANISATION if person.bin else PURPOSE_INDIVIDUAL
        if extended_key_usage is None:
            first = "email_protection" if role == "sign" else "client_auth"
            extended_key_usage = [first, purpose]
        usage = (
            set(key_usage)
            if key_usage is not None
            else (SIGN_KEY_USAGE if role == "sign" else AUTH_KEY_USAGE)
        )
        extensions: list[dict[str, object]] = [
            {"extn_id": "key_usage", "critical": True, "extn_value": set(usage)},
        ]
        ekus = list(extended_key_usage)
        if ekus:
            extensions.append(
                {"extn_id": "extended_key_usage", "critical": False, "extn_value": ekus}
            )
        extensions += [
            _policy(NCA_POLICY),
            {"extn_id": "key_identifier", "critical": False, "extn_value": _key_identifier(key)},
            {
                "extn_id": "authority_key_identifier",
                "critical": False,
                "extn_value": {"key_identifier": ca.key_identifier},
            },
        ]
        crl_file = {id(self.root): ROOT_CRL_FILE, id(self.intermediate): INTERMEDIATE_CRL_FILE}
        extensions += self._crl_points(crl_file.get(id(ca)))
        certificate = ca.sign_certificate(
            subject=asn1_x509.Name.load(person.subject().public_bytes()),
            key=key,
            not_before=not_before or self.now - _BACKDATE,
            not_after=not_after or self.now + PERSON_VALIDITY,
            extensions=extensions,
        )
        chain = (ca.cryptography_certificate,) if with_chain and ca is not self.root else ()
        return Credential(
            private_key=key,
            certificate=x509.load_der_x509_certificate(certificate.dump()),
            chain=chain,
        )

    def issue_expired(self, person: Person) -> Credential:
        return self.issue(
            person,
            not_before=self.now - timedelta(days=400),
            not_after=self.now - timedelta(days=1),
        )

    def issue_not_yet_valid(self, person: Person) -> Credential:
        return self.issue(
            person,
            not_before=self.now + timedelta(days=1),
            not_after=self.now + timedelta(days=366),
        )

    def issue_self_signed(self, person: Person) -> Credential:
        """A signing certificate that looks right but is signed by its own key."""
        key = GostPrivateKey.generate(512)
        own = GostCertificateAuthority(
            asn1_x509.Certificate(
                {
                    "tbs_certificate": {
                        "subject": asn1_x509.Name.load(person.subject().public_bytes()),
                        "subject_public_key_info": keys.PublicKeyInfo.load(key.public_key_info()),
                    }
                }
            ),
            key,
        )
        return self.issue(person, key=key, issuer=own, with_chain=False)

    def issue_revoked(self, person: Person) -> Credential:
        """Issue a signing certificate and list it in the intermediate CA's CRL."""
        credential = self.issue(person)
        self.revoke(credential)
        return credential

    def issue_256(self, person: Person) -> Credential:
        """A signing certificate for a 256-bit GOST 34.10-2015 key (signed by the 512-bit CA)."""
        return self.issue(person, bits=256)

    def issue_from_untrusted_root(self, person: Person) -> Credential:
        """A signing certificate from a CA with the same name as our intermediate's issuer
        chain but another key, so it chains to nothing in the trust folder."""
        if self._untrusted is None:
            self._untrusted = self._self_signed_ca(INTERMEDIATE_NAME)
        return self.issue(person, issuer=self._untrusted)

    def revoke(self, credential: Credential, *, at: datetime | None = None) -> None:
        """List `credential`'s certificate in its CA's CRL and rewrite the CRL files."""
        der = credential.certificate.public_bytes(serialization.Encoding.DER)
        issuer = asn1_x509.Certificate.load(der).issuer
        ca = next(c for c in (self.intermediate, self.root) if c.name == issuer)
        ca.revoked[credential.certificate.serial_number] = at or self.now - 2 * _BACKDATE
        self.write_crls()

    def write_crls(self) -> None:
        for ca, name in ((self.root, ROOT_CRL_FILE), (self.intermediate, INTERMEDIATE_CRL_FILE)):
            (self.directory / name).write_bytes(ca.crl(self.now))

    def _self_signed_ca(self, common_name: str) -> GostCertificateAuthority:
        key = GostPrivateKey.generate(512)
        name = _name(common_name)
        identifier = _key_identifier(key)
        tbs = asn1_x509.TbsCertificate(
            {
                "version": "v3",
                "serial_number": _serial(),
                "signature": _algorithm(key),
                "issuer": name,
                "validity": {
                    "not_before": _time(self.now - timedelta(days=5 * 365)),
                    "not_after": _time(self.now + timedelta(days=20 * 365)),
                },
                "subject": name,
                "subject_public_key_info": keys.PublicKeyInfo.load(key.public_key_info()),
                "extensions": [
                    {"extn_id": "basic_constraints", "critical": True, "extn_value": {"ca": True}},
                    {"extn_id": "key_usage", "critical": True, "extn_value": set(_CA_KEY_USAGE)},
                    {"extn_id": "key_identifier", "critical": False, "extn_value": identifier},
                    {
                        "extn_id": "authority_key_identifier",
                        "critical": False,
                        "extn_value": {"key_identifier": identifier},
                    },
                    _policy(ROOT_POLICY),
                ],
            }
        )
        return GostCertificateAuthority(_signed_certificate(tbs, key), key)

    def _subordinate_ca(
        self, parent: GostCertificateAuthority, common_name: str
    ) -> GostCertificateAuthority:
        key = GostPrivateKey.generate(512)
        extensions: list[dict[str, object]] = [
            {
                "extn_id": "basic_constraints",
                "critical": True,
                "extn_value": {"ca": True, "path_len_constraint": 0},
            },
            {"extn_id": "key_usage", "critical": True, "extn_value": set(_CA_KEY_USAGE)},
            {"extn_id": "key_identifier", "critical": False, "extn_value": _key_identifier(key)},
            {
                "extn_id": "authority_key_identifier",
                "critical": False,
                "extn_value": {"key_identifier": parent.key_identifier},
            },
            _policy(NCA_POLICY),
            *self._crl_points(ROOT_CRL_FILE),
        ]
        certificate = parent.sign_certificate(
            subject=_name(common_name),
            key=key,
            not_before=self.now - timedelta(days=3 * 365),
            not_after=self.now + timedelta(days=10 * 365),
            extensions=extensions,
        )
        return GostCertificateAuthority(certificate, key)

    def _crl_points(self, crl_file: str | None) -> list[dict[str, object]]:
        if self.crl_url is None or crl_file is None:
            return []
        url = f"{self.crl_url.rstrip('/')}/{crl_file}"
        return [
            {
                "extn_id": "crl_distribution_points",
                "critical": False,
                "extn_value": [
                    {"distribution_point": {"full_name": [{"uniform_resource_identifier": url}]}}
                ],
            }
        ]

    def _write_index(self) -> None:
        index = {
            "algorithm": "gost2015-512",
            "root": ROOT_FILE,
            "intermediate": INTERMEDIATE_FILE,
            "crls": [ROOT_CRL_FILE, INTERMEDIATE_CRL_FILE],
            "password": TEST_PASSWORD.decode(),
            "people": [
                {
                    "iin": k.person.iin,
                    "common_name": k.person.common_name,
                    "sign_p12": k.sign_p12.name,
                    "auth_p12": k.auth_p12.name,
                    "sign_serial": f"{k.sign.certificate.serial_number:x}",
                    "auth_serial": f"{k.auth.certificate.serial_number:x}",
                }
                for k in self.people.values()
            ],
        }
        (self.directory / INDEX_FILE).write_text(
            json.dumps(index, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )


def init_gost_test_pki(
    directory: Path,
    people: Iterable[Person],
    *,
    now: datetime | None = None,
    crl_url: str | None = None,
) -> GostTestPKI:
    """Create the GOST CAs, their CRLs and every person's GOST keys in `directory`."""
    pki = GostTestPKI(directory, now=now, crl_url=crl_url)
    for person in people:
        pki.add_person(person)
    return pki


def _policy(oid: str) -> dict[str, object]:
    return {
        "extn_id": "certificate_policies",
        "critical": False,
        "extn_value": [
            {
                "policy_identifier": oid,
                "policy_qualifiers": [
                    {
                        "policy_qualifier_id": "certification_practice_statement",
                        "qualifier": NCA_CPS if oid == NCA_POLICY else "http://root.gov.kz/cps",
                    }
                ],
            }
        ],
    }


def _pem(certificate: asn1_x509.Certificate) -> bytes:
    der = x509.load_der_x509_certificate(certificate.dump())
    return der.public_bytes(serialization.Encoding.PEM)
