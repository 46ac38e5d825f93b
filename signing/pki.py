"""A test PKI shaped like the national CA of Kazakhstan (НУЦ РК), for tests, demos and benches.

`init_test_pki` writes into a folder a self-signed root CA, an intermediate CA, one CRL per CA
and, for each person, a signing and an authentication key in PKCS#12 files, with NCA-like
subjects (CN=SURNAME NAME, SN, GN=patronymic, serialNumber=IIN…, C=KZ, O and OU=BIN… for an
organisation's employee). `TestPKI` then issues the odd certificates tests need: expired,
not yet valid, revoked, self-signed, RSA-1024, from an untrusted root, with arbitrary EKU.

Folder layout::

    root.pem  intermediate.pem  root.crl  intermediate.crl  people.json
    <iin>_sign.p12  <iin>_auth.p12      (password "123456", like NCA's test keys)

Never use these keys for anything real.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

from signing.client import TEST_PASSWORD, Credential, SigningKey
from signing.identity import is_valid_iin

Role = Literal["sign", "auth"]

ROOT_FILE = "root.pem"
INTERMEDIATE_FILE = "intermediate.pem"
ROOT_CRL_FILE = "root.crl"
INTERMEDIATE_CRL_FILE = "intermediate.crl"
INDEX_FILE = "people.json"

SIGN_KEY_USAGE = x509.KeyUsage(
    digital_signature=True,
    content_commitment=True,
    key_encipherment=False,
    data_encipherment=False,
    key_agreement=False,
    key_cert_sign=False,
    crl_sign=False,
    encipher_only=False,
    decipher_only=False,
)
AUTH_KEY_USAGE = x509.KeyUsage(
    digital_signature=True,
    content_commitment=False,
    key_encipherment=True,
    data_encipherment=False,
    key_agreement=False,
    key_cert_sign=False,
    crl_sign=False,
    encipher_only=False,
    decipher_only=False,
)
_CA_KEY_USAGE = x509.KeyUsage(
    digital_signature=False,
    content_commitment=False,
    key_encipherment=False,
    data_encipherment=False,
    key_agreement=False,
    key_cert_sign=True,
    crl_sign=True,
    encipher_only=False,
    decipher_only=False,
)
_EKU = {"sign": ExtendedKeyUsageOID.EMAIL_PROTECTION, "auth": ExtendedKeyUsageOID.CLIENT_AUTH}
_KEY_USAGE = {"sign": SIGN_KEY_USAGE, "auth": AUTH_KEY_USAGE}

PERSON_VALIDITY = timedelta(days=365)
CRL_VALIDITY = timedelta(days=7)
_BACKDATE = timedelta(minutes=10)


@dataclass(frozen=True)
class Person:
    """A certificate holder; `bin` and `organization` for an organisation's employee."""

    iin: str
    surname: str
    name: str
    patronymic: str = ""
    organization: str | None = None
    bin: str | None = None

    def __post_init__(self) -> None:
        if not is_valid_iin(self.iin):
            raise ValueError(f"not a valid IIN: {self.iin!r}")
        if self.bin is not None and not is_valid_iin(self.bin):
            raise ValueError(f"not a valid BIN: {self.bin!r}")

    @property
    def common_name(self) -> str:
        return f"{self.surname} {self.name}".upper()

    def subject(self) -> x509.Name:
        attributes = [
            x509.NameAttribute(NameOID.COMMON_NAME, self.common_name),
            x509.NameAttribute(NameOID.SURNAME, self.surname.upper()),
            x509.NameAttribute(NameOID.SERIAL_NUMBER, f"IIN{self.iin}"),
            x509.NameAttribute(NameOID.COUNTRY_NAME, "KZ"),
        ]
        if self.patronymic:
            attributes.append(x509.NameAttribute(NameOID.GIVEN_NAME, self.patronymic.upper()))
        if self.organization:
            attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, self.organization))
        if self.bin:
            attributes.append(
                x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, f"BIN{self.bin}")
            )
        return x509.Name(attributes)


class KeyPool:
    """Private keys by label. With a folder, keys are kept there as PEM and reused by later runs
    (RSA-2048 generation costs ~50 ms a key); without one, every key is fresh."""

    def __init__(self, folder: Path | None = None) -> None:
        self._folder = folder
        self._keys: dict[str, SigningKey] = {}
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)

    def rsa(self, label: str, bits: int = 2048) -> rsa.RSAPrivateKey:
        key = self._get(f"{label}-rsa{bits}", lambda: rsa.generate_private_key(65537, bits))
        assert isinstance(key, rsa.RSAPrivateKey)
        return key

    def ec(self, label: str, curve: ec.EllipticCurve) -> ec.EllipticCurvePrivateKey:
        key = self._get(f"{label}-{curve.name}", lambda: ec.generate_private_key(curve))
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        return key

    def _get(self, name: str, generate: Callable[[], SigningKey]) -> SigningKey:
        if name in self._keys:
            return self._keys[name]
        path = self._folder / f"{name}.pem" if self._folder else None
        if path is not None and path.exists():
            loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
            if not isinstance(loaded, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
                raise TypeError(f"{path} holds neither an RSA nor an EC key")
            key: SigningKey = loaded
        else:
            key = generate()
            if path is not None:
                # write-then-rename: parallel test workers may share the folder
                partial = path.with_suffix(f".{os.getpid()}.tmp")
                partial.write_bytes(
                    key.private_bytes(
                        serialization.Encoding.PEM,
                        serialization.PrivateFormat.PKCS8,
                        serialization.NoEncryption(),
                    )
                )
                partial.replace(path)
        self._keys[name] = key
        return key


@dataclass
class CertificateAuthority:
    """A CA certificate with its key, the serials it has issued and those it has revoked (for
    its CRLs and OCSP answers)."""

    certificate: x509.Certificate
    private_key: rsa.RSAPrivateKey
    revoked: dict[int, datetime] = field(default_factory=dict)
    issued: set[int] = field(default_factory=set)

    @property
    def name(self) -> x509.Name:
        return self.certificate.subject

    def crl(
        self,
        now: datetime,
        *,
        validity: timedelta = CRL_VALIDITY,
        number: int | None = None,
        freshest_url: str | None = None,
        revoked: dict[int, datetime] | None = None,
        signing_key: rsa.RSAPrivateKey | None = None,
    ) -> x509.CertificateRevocationList:
        """A full CRL listing `revoked` (default: every revocation so far), valid from ten
        minutes before `now` for `validity`; `freshest_url` points at its delta CRLs.
        `signing_key` signs it with another key (a forged CRL, for tests)."""
        builder = self._crl_builder(now, validity, number)
        if freshest_url is not None:
            builder = builder.add_extension(
                x509.FreshestCRL([_distribution_point(freshest_url)]), critical=False
            )
        return self._sign_crl(builder, self.revoked if revoked is None else revoked, signing_key)

    def delta_crl(
        self,
        now: datetime,
        *,
        base_number: int,
        revoked: dict[int, datetime],
        validity: timedelta = timedelta(hours=1),
        number: int | None = None,
    ) -> x509.CertificateRevocationList:
        """A delta CRL (RFC 5280 5.2.4) to the full CRL numbered `base_number`, listing the
        revocations since it."""
        builder = self._crl_builder(now, validity, number).add_extension(
            x509.DeltaCRLIndicator(base_number), critical=True
        )
        return self._sign_crl(builder, revoked, None)

    def ocsp_answer(
        self, request_der: bytes, now: datetime, *, validity: timedelta = timedelta(hours=1)
    ) -> bytes:
        """A signed OCSP response (RFC 6960) to a DER request, as the CA's own responder:
        "good" for a certificate it issued, "revoked" for one it revoked, "unknown" for any
        other serial. The request's nonce is echoed."""
        request = ocsp.load_der_ocsp_request(request_der)
        serial = request.serial_number
        if serial in self.revoked:
            status, revoked_at = ocsp.OCSPCertStatus.REVOKED, self.revoked[serial]
            reason: x509.ReasonFlags | None = x509.ReasonFlags.key_compromise
        elif serial in self.issued:
            status, revoked_at, reason = ocsp.OCSPCertStatus.GOOD, None, None
        else:
            status, revoked_at, reason = ocsp.OCSPCertStatus.UNKNOWN, None, None
        builder = ocsp.OCSPResponseBuilder().add_response_by_hash(
            issuer_name_hash=request.issuer_name_hash,
            issuer_key_hash=request.issuer_key_hash,
            serial_number=serial,
            algorithm=request.hash_algorithm,
            cert_status=status,
            this_update=now - _BACKDATE,
            next_update=now + validity,
            revocation_time=revoked_at,
            revocation_reason=reason,
        )
        builder = builder.responder_id(ocsp.OCSPResponderEncoding.HASH, self.certificate)
        for extension in request.extensions:
            if isinstance(extension.value, x509.OCSPNonce):
                builder = builder.add_extension(extension.value, critical=False)
        response = builder.sign(self.private_key, hashes.SHA256())
        return response.public_bytes(serialization.Encoding.DER)

    def _crl_builder(
        self, now: datetime, validity: timedelta, number: int | None
    ) -> x509.CertificateRevocationListBuilder:
        return (
            x509.CertificateRevocationListBuilder()
            .issuer_name(self.name)
            .last_update(now - _BACKDATE)
            .next_update(now - _BACKDATE + validity)
            .add_extension(
                x509.CRLNumber(number if number is not None else int(now.timestamp())),
                critical=False,
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.private_key.public_key()),
                critical=False,
            )
        )

    def _sign_crl(
        self,
        builder: x509.CertificateRevocationListBuilder,
        revoked: dict[int, datetime],
        signing_key: rsa.RSAPrivateKey | None,
    ) -> x509.CertificateRevocationList:
        for serial, when in sorted(revoked.items()):
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder()
                .serial_number(serial)
                .revocation_date(when)
                .add_extension(x509.CRLReason(x509.ReasonFlags.key_compromise), critical=False)
                .build()
            )
        return builder.sign(signing_key or self.private_key, hashes.SHA256())


@dataclass(frozen=True)
class PersonKeys:
    person: Person
    sign: Credential
    auth: Credential
    sign_p12: Path
    auth_p12: Path


class TestPKI:
    """A root CA, an intermediate CA and people's keys in `directory` (see the module docstring)."""

    __test__ = False  # not a pytest test class

    def __init__(
        self,
        directory: Path,
        *,
        keys: KeyPool | None = None,
        now: datetime | None = None,
        crl_url: str | None = None,
        ocsp_url: str | None = None,
        delta_crls: bool = False,
    ) -> None:
        self.directory = directory
        self.keys = keys or KeyPool()
        self.now = now or datetime.now(UTC)
        self.crl_url = crl_url
        self.ocsp_url = ocsp_url
        self.delta_crls = delta_crls
        self.people: dict[str, PersonKeys] = {}
        directory.mkdir(parents=True, exist_ok=True)
        self.root = _self_signed_ca(self.keys.rsa("root"), "ТЕСТ КОРНЕВОЙ УЦ РК (RSA)", self.now)
        self.intermediate = self._subordinate_ca(
            self.root, self.keys.rsa("intermediate"), "ТЕСТ ҰЛТТЫҚ КУӘЛАНДЫРУШЫ ОРТАЛЫҚ"
        )
        self._untrusted: CertificateAuthority | None = None
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
        keys = self.people[iin]
        return keys.sign if role == "sign" else keys.auth

    def add_person(self, person: Person) -> PersonKeys:
        """Issue both keys of `person`, write their PKCS#12 files and update the index."""
        sign = self.issue(person, role="sign")
        auth = self.issue(person, role="auth")
        sign_p12 = self.directory / f"{person.iin}_sign.p12"
        auth_p12 = self.directory / f"{person.iin}_auth.p12"
        sign_p12.write_bytes(sign.to_pkcs12(TEST_PASSWORD, f"RSA256_{person.iin}"))
        auth_p12.write_bytes(auth.to_pkcs12(TEST_PASSWORD, f"AUTH_RSA256_{person.iin}"))
        keys = PersonKeys(person, sign, auth, sign_p12, auth_p12)
        self.people[person.iin] = keys
        self._write_index()
        return keys

    def issue(
        self,
        person: Person,
        *,
        role: Role = "sign",
        label: str | None = None,
        not_before: datetime | None = None,
        not_after: datetime | None = None,
        rsa_bits: int = 2048,
        ec_curve: ec.EllipticCurve | None = None,
        key_usage: x509.KeyUsage | None = None,
        extended_key_usage: Iterable[x509.ObjectIdentifier] | None = None,
        issuer: CertificateAuthority | None = None,
        subject: x509.Name | None = None,
    ) -> Credential:
        """Issue a certificate for `person`; defaults give a normal NCA-like `role` key.

        `label` names the key in the key pool (default ``<iin>-<role>``): certificates with the
        same label share a key. `subject` replaces the NCA-like subject built from `person`.
        """
        ca = issuer or self.intermediate
        label = label or f"{person.iin}-{role}"
        key: SigningKey = (
            self.keys.ec(label, ec_curve) if ec_curve else self.keys.rsa(label, rsa_bits)
        )
        ekus = list(extended_key_usage) if extended_key_usage is not None else [_EKU[role]]
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject or person.subject())
            .issuer_name(ca.name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before or self.now - _BACKDATE)
            .not_valid_after(not_after or self.now + PERSON_VALIDITY)
            .add_extension(key_usage or _KEY_USAGE[role], critical=True)
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.private_key.public_key()),
                critical=False,
            )
        )
        if ekus:
            builder = builder.add_extension(x509.ExtendedKeyUsage(ekus), critical=False)
        crl_file = {id(self.root): ROOT_CRL_FILE, id(self.intermediate): INTERMEDIATE_CRL_FILE}
        builder = self._with_crl_url(builder, crl_file.get(id(ca)))
        certificate = builder.sign(ca.private_key, hashes.SHA256())
        ca.issued.add(certificate.serial_number)
        chain = (ca.certificate,) if ca is not self.root else ()
        return Credential(private_key=key, certificate=certificate, chain=chain)

    def issue_expired(self, person: Person) -> Credential:
        return self.issue(
            person,
            label=f"{person.iin}-expired",
            not_before=self.now - timedelta(days=400),
            not_after=self.now - timedelta(days=1),
        )

    def issue_not_yet_valid(self, person: Person) -> Credential:
        return self.issue(
            person,
            label=f"{person.iin}-future",
            not_before=self.now + timedelta(days=1),
            not_after=self.now + timedelta(days=366),
        )

    def issue_revoked(self, person: Person) -> Credential:
        """Issue a signing certificate and list it in the intermediate CA's CRL."""
        credential = self.issue(person, label=f"{person.iin}-revoked")
        self.revoke(credential)
        return credential

    def issue_weak_key(self, person: Person, bits: int = 1024) -> Credential:
        return self.issue(person, label=f"{person.iin}-weak", rsa_bits=bits)

    def issue_self_signed(self, person: Person) -> Credential:
        """A signing certificate that looks right but is signed by its own key."""
        key = self.keys.rsa(f"{person.iin}-selfsigned")
        certificate = (
            x509.CertificateBuilder()
            .subject_name(person.subject())
            .issuer_name(person.subject())
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(self.now - _BACKDATE)
            .not_valid_after(self.now + PERSON_VALIDITY)
            .add_extension(SIGN_KEY_USAGE, critical=True)
            .add_extension(x509.ExtendedKeyUsage([_EKU["sign"]]), critical=False)
            .sign(key, hashes.SHA256())
        )
        return Credential(private_key=key, certificate=certificate)

    def issue_from_untrusted_root(self, person: Person) -> Credential:
        """A signing certificate from a CA with the same name as ours but another key."""
        if self._untrusted is None:
            self._untrusted = _self_signed_ca(
                self.keys.rsa("untrusted-root"),
                "ТЕСТ КОРНЕВОЙ УЦ РК (RSA)",
                self.now,
            )
        return self.issue(person, label=f"{person.iin}-untrusted", issuer=self._untrusted)

    def revoke(self, credential: Credential, *, at: datetime | None = None) -> None:
        """List `credential`'s certificate in its CA's CRL and rewrite the CRL files."""
        issuer = credential.certificate.issuer
        ca = next(c for c in (self.intermediate, self.root) if c.name == issuer)
        ca.revoked[credential.certificate.serial_number] = at or self.now - 2 * _BACKDATE
        self.write_crls()

    def write_crls(self) -> None:
        for ca, name in ((self.root, ROOT_CRL_FILE), (self.intermediate, INTERMEDIATE_CRL_FILE)):
            crl = ca.crl(self.now)
            (self.directory / name).write_bytes(crl.public_bytes(serialization.Encoding.DER))

    def _subordinate_ca(
        self, parent: CertificateAuthority, key: rsa.RSAPrivateKey, common_name: str
    ) -> CertificateAuthority:
        name = x509.Name(
            [
                x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                x509.NameAttribute(NameOID.COUNTRY_NAME, "KZ"),
            ]
        )
        builder = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(parent.name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(self.now - timedelta(days=3 * 365))
            .not_valid_after(self.now + timedelta(days=10 * 365))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_CA_KEY_USAGE, critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(parent.private_key.public_key()),
                critical=False,
            )
        )
        builder = self._with_crl_url(builder, ROOT_CRL_FILE)
        certificate = builder.sign(parent.private_key, hashes.SHA256())
        parent.issued.add(certificate.serial_number)
        return CertificateAuthority(certificate, key)

    def _with_crl_url(
        self, builder: x509.CertificateBuilder, crl_file: str | None
    ) -> x509.CertificateBuilder:
        if self.ocsp_url is not None and crl_file is not None:
            builder = builder.add_extension(
                x509.AuthorityInformationAccess(
                    [
                        x509.AccessDescription(
                            AuthorityInformationAccessOID.OCSP,
                            x509.UniformResourceIdentifier(self.ocsp_url),
                        )
                    ]
                ),
                critical=False,
            )
        if self.crl_url is None or crl_file is None:
            return builder
        point = _distribution_point(self.published_url(crl_file))
        builder = builder.add_extension(x509.CRLDistributionPoints([point]), critical=False)
        if self.delta_crls:
            delta = _distribution_point(self.published_url(delta_file_name(crl_file)))
            builder = builder.add_extension(x509.FreshestCRL([delta]), critical=False)
        return builder

    def published_url(self, file_name: str) -> str:
        """The address of a file published under `crl_url`."""
        if self.crl_url is None:
            raise ValueError("this test PKI publishes nothing: it has no crl_url")
        return f"{self.crl_url.rstrip('/')}/{file_name}"

    def _write_index(self) -> None:
        index = {
            "root": ROOT_FILE,
            "intermediate": INTERMEDIATE_FILE,
            "crls": [ROOT_CRL_FILE, INTERMEDIATE_CRL_FILE],
            "password": TEST_PASSWORD.decode(),
            "people": [
                {
                    "iin": keys.person.iin,
                    "surname": keys.person.surname,
                    "name": keys.person.name,
                    "patronymic": keys.person.patronymic,
                    "common_name": keys.person.common_name,
                    "organization": keys.person.organization,
                    "bin": keys.person.bin,
                    "sign_p12": keys.sign_p12.name,
                    "auth_p12": keys.auth_p12.name,
                    "sign_serial": f"{keys.sign.certificate.serial_number:x}",
                    "auth_serial": f"{keys.auth.certificate.serial_number:x}",
                }
                for keys in self.people.values()
            ],
        }
        (self.directory / INDEX_FILE).write_text(
            json.dumps(index, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )


def init_test_pki(
    directory: Path,
    people: Iterable[Person],
    *,
    keys: KeyPool | None = None,
    now: datetime | None = None,
    crl_url: str | None = None,
    ocsp_url: str | None = None,
    delta_crls: bool = False,
) -> TestPKI:
    """Create the CAs, CRLs and every person's keys in `directory` (see the module docstring).

    `crl_url` (e.g. ``http://127.0.0.1:8080/``) puts a CRL distribution point into the
    certificates so that revocation data can be fetched instead of read from the folder.
    """
    pki = TestPKI(
        directory, keys=keys, now=now, crl_url=crl_url, ocsp_url=ocsp_url, delta_crls=delta_crls
    )
    for person in people:
        pki.add_person(person)
    return pki


def delta_file_name(crl_file: str) -> str:
    """``intermediate.crl`` → ``intermediate-delta.crl``."""
    stem, _, suffix = crl_file.rpartition(".")
    return f"{stem}-delta.{suffix}"


def _distribution_point(url: str) -> x509.DistributionPoint:
    return x509.DistributionPoint(
        full_name=[x509.UniformResourceIdentifier(url)],
        relative_name=None,
        reasons=None,
        crl_issuer=None,
    )


def _self_signed_ca(
    key: rsa.RSAPrivateKey, common_name: str, now: datetime
) -> CertificateAuthority:
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.COUNTRY_NAME, "KZ"),
        ]
    )
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=5 * 365))
        .not_valid_after(now + timedelta(days=20 * 365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(_CA_KEY_USAGE, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return CertificateAuthority(certificate, key)


def _pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)
