"""Verification of CMS (CAdES) signatures as NCALayer returns them, with a report, not a boolean.

`verify_detached_cms` checks one DER CMS SignedData over the expected document bytes, in this
order, each check with its own `FailureCode`: well-formed; exactly one SignerInfo; the signer's
certificate included and matching the signer identifier (and the ESS signing-certificate
attribute); allowed algorithms and key size; signed attributes present; message digest equal to
the hash of the expected bytes; signature over the signed attributes; certificate path to a
configured trust anchor at signing time and now, with revocation; key usage; not the
authentication key; the expected IIN. `verify_base64_cms` takes the base64 text a browser posts;
`verify_signatures` checks many signatures over one document, hashing it once;
`verify_cms_signers` checks every SignerInfo of one SignedData (a combined .p7s, as
`combine_signatures` makes it), each by the same checks, and answers signer by signer.
"""

from __future__ import annotations

import base64
import binascii
import enum
import functools
import hashlib
import hmac
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from asn1crypto import cms, core
from asn1crypto import x509 as asn1_x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

import signing.gost as gost
from signing.errors import Failure, FailureCode, Lang
from signing.identity import SignerIdentity, is_valid_iin
from signing.trust import DEFAULT_REVOCATION, ChainChecker, RevocationPolicy, TrustAnchors

MAX_SIGNATURE_SIZE = 1024 * 1024
# a commission has at most 99 members, and its secretary signs too
MAX_SIGNERS = 100
MIN_RSA_BITS = 2048

_ALLOWED_DIGESTS: dict[str, hashes.HashAlgorithm] = {
    "sha256": hashes.SHA256(),
    "sha384": hashes.SHA384(),
    "sha512": hashes.SHA512(),
}
_WEAK_DIGESTS = frozenset({"md2", "md5", "sha1"})
_ALLOWED_CURVES = frozenset({"secp256r1", "secp384r1"})

# Signature algorithm (asn1crypto name) → (scheme, hash named in the OID or None).
_SIGNATURE_ALGORITHMS: dict[str, tuple[str, str | None]] = {
    "rsassa_pkcs1v15": ("rsa", None),
    "rsassa_pss": ("pss", None),
    "md2_rsa": ("rsa", "md2"),
    "md5_rsa": ("rsa", "md5"),
    "sha1_rsa": ("rsa", "sha1"),
    "sha256_rsa": ("rsa", "sha256"),
    "sha384_rsa": ("rsa", "sha384"),
    "sha512_rsa": ("rsa", "sha512"),
    "sha1_ecdsa": ("ecdsa", "sha1"),
    "sha256_ecdsa": ("ecdsa", "sha256"),
    "sha384_ecdsa": ("ecdsa", "sha384"),
    "sha512_ecdsa": ("ecdsa", "sha512"),
}

# GOST 34.10-2015 (Kazakhstan) names in reports, by signature OID.
_GOST_NAMES = {
    gost.KZ_GOST2015_512_SIGNATURE: "gost2015-512",
    gost.KZ_GOST2015_256_SIGNATURE: "gost2015-256",
}

_PEM_ARMOR = re.compile(rb"-----(BEGIN|END) [A-Z0-9 ]+-----")
_WHITESPACE = re.compile(rb"\s+")


class Status(enum.StrEnum):
    VALID = "valid"
    INVALID = "invalid"
    INDETERMINATE = "indeterminate"


@dataclass(frozen=True)
class SignatureReport:
    """What a signature proves.

    `intact`: the signed message digest is the hash of the expected bytes. `valid`: the
    signature over the signed attributes verifies with the signer's certificate. `trusted`: the
    certificate chains to a trust anchor, is within its validity period now and at signing time,
    and is not revoked. `status` is the bottom line; `failures` say why it is not valid.
    `revocation_checked` is False when a soft-fail or off policy let the signature through
    without current revocation data.
    """

    status: Status
    intact: bool
    valid: bool
    trusted: bool
    signer: SignerIdentity | None
    signing_time: datetime | None
    failures: tuple[Failure, ...]
    revocation_checked: bool = False
    algorithm: str | None = None
    """The signature algorithm, e.g. "rsa-sha256", "gost2015-512"; None if unreadable."""

    @property
    def ok(self) -> bool:
        return self.status is Status.VALID

    @property
    def codes(self) -> tuple[FailureCode, ...]:
        return tuple(f.code for f in self.failures)

    def messages(self, lang: Lang = "en") -> list[str]:
        return [f.message(lang) for f in self.failures]

    def raise_for_status(self) -> None:
        """Raise `SignatureRejected` unless the signature is valid."""
        if not self.ok:
            raise SignatureRejected(self)


@dataclass(frozen=True)
class SignedDataReport:
    """What one CMS SignedData with any number of signers proves (`verify_cms_signers`).

    `signers` holds one `SignatureReport` per SignerInfo, in the order of the file. `failures`
    are about the file as a whole (too large, malformed, no SignerInfo or more than allowed):
    then there are no `signers`. `status` is valid when every signer is, invalid when the file
    or any signer is, and indeterminate otherwise.
    """

    signers: tuple[SignatureReport, ...]
    failures: tuple[Failure, ...] = ()

    @property
    def status(self) -> Status:
        if self.failures:
            if all(f.code.indeterminate for f in self.failures):
                return Status.INDETERMINATE
            return Status.INVALID
        statuses = {report.status for report in self.signers}
        if not statuses:
            return Status.INVALID
        if Status.INVALID in statuses:
            return Status.INVALID
        if Status.INDETERMINATE in statuses:
            return Status.INDETERMINATE
        return Status.VALID

    @property
    def ok(self) -> bool:
        return self.status is Status.VALID

    @property
    def codes(self) -> tuple[FailureCode, ...]:
        return tuple(f.code for f in self.failures)


class SignatureRejected(ValueError):
    """A signature that is not valid; `.report` says why."""

    def __init__(self, report: SignatureReport) -> None:
        self.report = report
        reasons = "; ".join(report.messages("en")) or "no failure recorded"
        super().__init__(f"signature {report.status}: {reasons}")


def verify_detached_cms(
    cms_der: bytes,
    content: bytes,
    *,
    trust: TrustAnchors,
    expected_iin: str | None = None,
    now: datetime | None = None,
    revocation: RevocationPolicy = DEFAULT_REVOCATION,
    max_size: int = MAX_SIGNATURE_SIZE,
) -> SignatureReport:
    """Verify one DER CMS SignedData (detached, or attached with exactly `content`)."""
    _check_iin_argument(expected_iin)
    checker = trust.checker(_moment(now), revocation)
    return _verify(cms_der, _Document(content), checker, expected_iin, max_size)


def verify_base64_cms(
    text: str | bytes,
    content: bytes,
    *,
    trust: TrustAnchors,
    expected_iin: str | None = None,
    now: datetime | None = None,
    revocation: RevocationPolicy = DEFAULT_REVOCATION,
    max_size: int = MAX_SIGNATURE_SIZE,
) -> SignatureReport:
    """Like `verify_detached_cms`, for base64 text (whitespace and PEM armor allowed)."""
    _check_iin_argument(expected_iin)
    decoded = _decode_base64(text, max_size)
    if isinstance(decoded, Failure):
        return _report((decoded,))
    checker = trust.checker(_moment(now), revocation)
    return _verify(decoded, _Document(content), checker, expected_iin, max_size)


def verify_signatures(
    signatures: Sequence[bytes],
    content: bytes,
    *,
    trust: TrustAnchors,
    expected_iins: Sequence[str | None] | None = None,
    now: datetime | None = None,
    revocation: RevocationPolicy = DEFAULT_REVOCATION,
    max_size: int = MAX_SIGNATURE_SIZE,
) -> tuple[SignatureReport, ...]:
    """Verify several DER CMS signatures over the same `content` (e.g. a commission protocol).

    The document is hashed once and every signature is judged at the same `now`.
    """
    iins = list(expected_iins) if expected_iins is not None else [None] * len(signatures)
    if len(iins) != len(signatures):
        raise ValueError("expected_iins must have one entry per signature")
    for iin in iins:
        _check_iin_argument(iin)
    document = _Document(content)
    checker = trust.checker(_moment(now), revocation)
    return tuple(
        _verify(der, document, checker, iin, max_size)
        for der, iin in zip(signatures, iins, strict=True)
    )


def verify_cms_signers(
    cms_der: bytes,
    content: bytes,
    *,
    trust: TrustAnchors,
    now: datetime | None = None,
    revocation: RevocationPolicy = DEFAULT_REVOCATION,
    max_size: int = MAX_SIGNATURE_SIZE,
    max_signers: int = MAX_SIGNERS,
) -> SignedDataReport:
    """Verify every SignerInfo of one DER CMS SignedData over `content`.

    For a combined .p7s (several commission members over one protocol) as well as for a
    single signature. Each signer is judged by the checks of `verify_detached_cms` (no
    expected IIN), all at the same `now`, the document hashed once per algorithm. A file that
    cannot be read, or holds no SignerInfo or more than `max_signers`, gets file-level
    `failures` and no signer reports.
    """
    if len(cms_der) > max_size:
        return SignedDataReport(
            (), (Failure(FailureCode.TOO_LARGE, f"{len(cms_der)} bytes > {max_size}"),)
        )
    parsed = _parse(cms_der)
    if isinstance(parsed, Failure):
        return SignedDataReport((), (parsed,))
    count = len(parsed.signer_infos)
    if count == 0 or count > max_signers:
        detail = f"{count}" if count == 0 else f"{count} > {max_signers}"
        return SignedDataReport((), (Failure(FailureCode.SIGNER_COUNT, detail),))
    document = _Document(content)
    checker = trust.checker(_moment(now), revocation)
    return SignedDataReport(
        tuple(
            _verify_one(parsed, signer_info, document, checker, None)
            for signer_info in parsed.signer_infos
        )
    )


def decode_base64_signature(text: str | bytes, *, max_size: int = MAX_SIGNATURE_SIZE) -> bytes:
    """Decode base64 text (whitespace and PEM armor allowed); `ValueError` if it is not."""
    decoded = _decode_base64(text, max_size)
    if isinstance(decoded, Failure):
        raise ValueError(decoded.message("en"))
    return decoded


class _Document:
    """The expected bytes, hashed at most once per algorithm."""

    def __init__(self, content: bytes) -> None:
        self.content = content
        self._digests: dict[str, bytes] = {}

    def digest(self, algorithm: str) -> bytes:
        if algorithm not in self._digests:
            self._digests[algorithm] = _hash(algorithm, self.content)
        return self._digests[algorithm]


def _hash(algorithm: str, data: bytes) -> bytes:
    """hashlib's names, and "streebog256"/"streebog512" (signing.gost)."""
    digester = gost.DIGESTERS.get(algorithm)
    if digester is not None:
        return digester(data)
    return hashlib.new(algorithm, data).digest()


@dataclass(frozen=True)
class _Parsed:
    econtent_type: str
    econtent: bytes | None
    certificates: tuple[asn1_x509.Certificate, ...]
    signer_infos: tuple[cms.SignerInfo, ...]


def _verify(
    cms_der: bytes,
    document: _Document,
    checker: ChainChecker,
    expected_iin: str | None,
    max_size: int,
) -> SignatureReport:
    if len(cms_der) > max_size:
        return _report((Failure(FailureCode.TOO_LARGE, f"{len(cms_der)} bytes > {max_size}"),))
    parsed = _parse(cms_der)
    if isinstance(parsed, Failure):
        return _report((parsed,))
    if len(parsed.signer_infos) != 1:
        return _report((Failure(FailureCode.SIGNER_COUNT, f"{len(parsed.signer_infos)}"),))
    return _verify_one(parsed, parsed.signer_infos[0], document, checker, expected_iin)


def _verify_one(
    parsed: _Parsed,
    signer_info: cms.SignerInfo,
    document: _Document,
    checker: ChainChecker,
    expected_iin: str | None,
) -> SignatureReport:
    try:
        return _verify_signer(parsed, signer_info, document, checker, expected_iin)
    except Exception as exc:
        # asn1crypto parses lazily, so damage deep inside the structure surfaces here, and not
        # always as ValueError; hostile input must give a result, never an exception.
        return _report((Failure(FailureCode.MALFORMED, _describe(exc)),))


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"


def _verify_signer(
    parsed: _Parsed,
    signer_info: cms.SignerInfo,
    document: _Document,
    checker: ChainChecker,
    expected_iin: str | None,
) -> SignatureReport:
    if not parsed.certificates:
        return _report((Failure(FailureCode.NO_CERTIFICATE),))
    found = _find_signer_certificate(signer_info["sid"], parsed.certificates)
    if found is None:
        return _report((Failure(FailureCode.CERT_MISMATCH, "no certificate matches the sid"),))
    cert, facts = found
    signer = facts.identity

    digest_oid: str = signer_info["digest_algorithm"]["algorithm"].dotted
    digest_name: str = gost.DIGEST_ALGORITHMS.get(
        digest_oid, signer_info["digest_algorithm"]["algorithm"].native
    )
    algorithm = _algorithm_name(signer_info, digest_name)
    algorithm_failures = _check_algorithms(signer_info, facts, digest_name)
    if algorithm_failures:
        return _report(algorithm_failures, signer=signer, algorithm=algorithm)

    if isinstance(signer_info["signed_attrs"], core.Void):
        return _report(
            (Failure(FailureCode.MISSING_SIGNED_ATTRS),), signer=signer, algorithm=algorithm
        )
    signed_bytes = _signed_bytes(signer_info)  # before parsing them, see _signed_bytes
    attributes = _signed_attributes(signer_info)
    if attributes is None:
        return _report(
            (Failure(FailureCode.MISSING_SIGNED_ATTRS),), signer=signer, algorithm=algorithm
        )
    content_type, message_digest = attributes["content_type"], attributes["message_digest"]
    if content_type.native != parsed.econtent_type:
        detail = f"content-type attribute {content_type.native} != {parsed.econtent_type}"
        return _report(
            (Failure(FailureCode.MALFORMED, detail),), signer=signer, algorithm=algorithm
        )
    signing_time = _signing_time(attributes)

    binding = _check_certificate_binding(attributes, cert, facts)
    if binding is not None:
        return _report((binding,), signer=signer, signing_time=signing_time, algorithm=algorithm)

    failures: list[Failure] = []
    if parsed.econtent is not None and parsed.econtent != document.content:
        failures.append(Failure(FailureCode.CONTENT_MISMATCH))
    elif not hmac.compare_digest(message_digest.native, document.digest(digest_name)):
        failures.append(Failure(FailureCode.DIGEST_MISMATCH))
    intact = not failures

    valid = _signature_verifies(signer_info, signed_bytes, facts, digest_name)
    if not valid:
        failures.append(Failure(FailureCode.BAD_SIGNATURE))

    chain = checker.check(cert, signing_time=signing_time, other_certificates=parsed.certificates)
    failures.extend(chain.failures)
    failures.extend(_check_usage(facts))
    if expected_iin is not None:
        if signer.iin is None:
            failures.append(Failure(FailureCode.NO_IIN))
        elif signer.iin != expected_iin:
            failures.append(Failure(FailureCode.IIN_MISMATCH, f"{signer.iin} != {expected_iin}"))
    return _report(
        tuple(failures),
        intact=intact,
        valid=valid,
        trusted=chain.trusted,
        signer=signer,
        signing_time=signing_time,
        revocation_checked=chain.revocation_checked,
        algorithm=algorithm,
    )


def _parse(cms_der: bytes) -> _Parsed | Failure:
    """Parse the envelope; asn1crypto parses the rest lazily, and `_verify` reports any damage
    found later as MALFORMED too."""
    try:
        info = cms.ContentInfo.load(cms_der, strict=True)
        if info["content_type"].native != "signed_data":
            return Failure(FailureCode.MALFORMED, f"content type {info['content_type'].native}")
        signed_data = info["content"]
        encap = signed_data["encap_content_info"]
        econtent_field = encap["content"]
        econtent: Any = None if isinstance(econtent_field, core.Void) else econtent_field.native
        if econtent is not None and not isinstance(econtent, bytes):
            return Failure(FailureCode.MALFORMED, "encapsulated content is not an octet string")
        certificate_set = signed_data["certificates"]
        certificates = tuple(
            choice.chosen
            for choice in ([] if isinstance(certificate_set, core.Void) else certificate_set)
            if choice.name == "certificate"
        )
        signer_infos = tuple(signed_data["signer_infos"])
        return _Parsed(
            econtent_type=encap["content_type"].native,
            econtent=econtent,
            certificates=certificates,
            signer_infos=signer_infos,
        )
    except Exception as exc:  # whatever bytes arrive, the answer is a report
        return Failure(FailureCode.MALFORMED, f"{type(exc).__name__}: {exc}")


@dataclass(frozen=True)
class _CertificateFacts:
    """What the checks read from a certificate, derived once per distinct certificate: parsing
    X.509 in pure Python costs more than the signature check itself."""

    identity: SignerIdentity
    issuer_der: bytes
    issuer_general_names_der: bytes
    serial: int
    key_identifier: bytes | None
    key_algorithm: str
    key_algorithm_oid: str
    rsa_bits: int | None
    curve: str | None
    public_key: rsa.RSAPublicKey | ec.EllipticCurvePublicKey | None
    key_usage: frozenset[str] | None
    extended_key_usage: frozenset[str] | None
    gost_key: tuple[gost.GostCurve, tuple[int, int]] | None = None
    gost_problem: Failure | None = None


@functools.lru_cache(maxsize=2048)
def _certificate_facts(der: bytes) -> _CertificateFacts:
    # A private parse: the caller's object may be shared, and lazy parsing is not thread-safe.
    cert = asn1_x509.Certificate.load(der)
    key_info = cert.public_key
    key_algorithm = key_info["algorithm"]["algorithm"]
    key_usage = cert.key_usage_value
    extended = cert.extended_key_usage_value
    gost_key, gost_problem = None, None
    if gost.is_gost_oid(key_algorithm.dotted):
        try:
            gost_key = gost.spki_public_key(key_info)
        except gost.UnsupportedGost as exc:
            gost_problem = Failure(FailureCode.UNSUPPORTED_ALGORITHM, str(exc))
        except ValueError as exc:
            gost_problem = Failure(FailureCode.MALFORMED, f"certificate key: {exc}")
    return _CertificateFacts(
        identity=SignerIdentity.from_certificate(cert),
        issuer_der=cert.issuer.chosen.dump(),
        issuer_general_names_der=asn1_x509.GeneralNames(
            [asn1_x509.GeneralName({"directory_name": cert.issuer})]
        ).dump(),
        serial=cert.serial_number,
        key_identifier=cert.key_identifier,
        key_algorithm=key_algorithm.native,
        key_algorithm_oid=key_algorithm.dotted,
        rsa_bits=key_info.bit_size if key_algorithm.native == "rsa" else None,
        curve=key_info.curve[1] if key_algorithm.native == "ec" else None,
        public_key=_public_key(key_info.dump()),
        key_usage=frozenset(key_usage.native) if key_usage is not None else None,
        extended_key_usage=frozenset(extended.native) if extended is not None else None,
        gost_key=gost_key,
        gost_problem=gost_problem,
    )


def _find_signer_certificate(
    sid: cms.SignerIdentifier, certificates: Sequence[asn1_x509.Certificate]
) -> tuple[asn1_x509.Certificate, _CertificateFacts] | None:
    for cert in certificates:
        facts = _certificate_facts(cert.dump())
        if sid.name == "issuer_and_serial_number":
            wanted = sid.chosen
            if wanted["serial_number"].native == facts.serial and _same_name(
                wanted["issuer"], facts.issuer_der, cert
            ):
                return cert, facts
        elif sid.name == "subject_key_identifier" and sid.chosen.native == facts.key_identifier:
            return cert, facts
    return None


def _same_name(name: asn1_x509.Name, issuer_der: bytes, cert: asn1_x509.Certificate) -> bool:
    # Identical encodings are the common case; asn1crypto's comparison (RFC 5280 7.1 string
    # preparation) is costly, so it only runs when the bytes differ.
    return bool(name.chosen.dump() == issuer_der or name == cert.issuer)


def _check_algorithms(
    signer_info: cms.SignerInfo, facts: _CertificateFacts, digest_name: str
) -> tuple[Failure, ...]:
    failures: list[Failure] = []
    signature_algorithm = signer_info["signature_algorithm"]
    signature_name: str = signature_algorithm["algorithm"].native
    oids = {
        signer_info["digest_algorithm"]["algorithm"].dotted,
        signature_algorithm["algorithm"].dotted,
        facts.key_algorithm_oid,
    }
    if any(gost.is_gost_oid(oid) for oid in oids):
        return _check_gost_algorithms(signer_info, facts)

    if digest_name in _WEAK_DIGESTS:
        failures.append(Failure(FailureCode.WEAK_ALGORITHM, f"digest {digest_name}"))
    elif digest_name not in _ALLOWED_DIGESTS:
        failures.append(Failure(FailureCode.UNSUPPORTED_ALGORITHM, f"digest {digest_name}"))

    scheme, signature_hash = _SIGNATURE_ALGORITHMS.get(signature_name, ("", None))
    if not scheme:
        failures.append(Failure(FailureCode.UNSUPPORTED_ALGORITHM, f"signature {signature_name}"))
    elif signature_hash in _WEAK_DIGESTS:
        failures.append(Failure(FailureCode.WEAK_ALGORITHM, f"signature {signature_name}"))
    elif signature_hash is not None and signature_hash != digest_name:
        detail = f"signature {signature_name} with digest {digest_name}"
        failures.append(Failure(FailureCode.UNSUPPORTED_ALGORITHM, detail))
    elif scheme == "pss" and not _pss_parameters_ok(signature_algorithm, digest_name):
        failures.append(Failure(FailureCode.UNSUPPORTED_ALGORITHM, "RSASSA-PSS parameters"))

    if facts.rsa_bits is not None:
        if scheme == "ecdsa":
            failures.append(Failure(FailureCode.CERT_MISMATCH, "ECDSA signature, RSA key"))
        if facts.rsa_bits < MIN_RSA_BITS:
            failures.append(Failure(FailureCode.WEAK_KEY, f"RSA {facts.rsa_bits} bits"))
    elif facts.curve is not None:
        if scheme in ("rsa", "pss"):
            failures.append(Failure(FailureCode.CERT_MISMATCH, "RSA signature, EC key"))
        if facts.curve not in _ALLOWED_CURVES:
            failures.append(Failure(FailureCode.UNSUPPORTED_ALGORITHM, f"curve {facts.curve}"))
    else:
        failures.append(Failure(FailureCode.UNSUPPORTED_ALGORITHM, f"key {facts.key_algorithm}"))
    if not failures and facts.public_key is None:
        failures.append(Failure(FailureCode.UNSUPPORTED_ALGORITHM, "unreadable public key"))
    return tuple(failures)


def _check_gost_algorithms(
    signer_info: cms.SignerInfo, facts: _CertificateFacts
) -> tuple[Failure, ...]:
    """GOST 34.10-2015 (512 or 256 bits, Kazakh OIDs): signature, digest and key must agree."""
    signature_oid: str = signer_info["signature_algorithm"]["algorithm"].dotted
    digest_oid: str = signer_info["digest_algorithm"]["algorithm"].dotted
    if facts.gost_problem is not None:
        return (facts.gost_problem,)
    known = gost.SIGNATURE_ALGORITHMS.get(signature_oid)
    if known is None and facts.gost_key is not None and not gost.is_gost_oid(signature_oid):
        detail = f"signature {signature_oid} with a GOST key"
        return (Failure(FailureCode.CERT_MISMATCH, detail),)
    if known is None:
        detail = f"GOST signature algorithm {signature_oid}"
        if signature_oid.startswith("1.2.398.3.10.1.1.1."):
            detail += " (GOST 34.310-2004 with GOST 34.311-95 is not supported)"
        return (Failure(FailureCode.UNSUPPORTED_ALGORITHM, detail),)
    wanted_digest, _, size = known
    if digest_oid != wanted_digest:
        detail = f"signature {signature_oid} with digest {digest_oid}"
        return (Failure(FailureCode.UNSUPPORTED_ALGORITHM, detail),)
    if facts.gost_key is None:
        return (Failure(FailureCode.CERT_MISMATCH, "GOST signature, non-GOST key"),)
    if facts.gost_key[0].size != size:
        detail = f"GOST {8 * size}-bit signature, {8 * facts.gost_key[0].size}-bit key"
        return (Failure(FailureCode.CERT_MISMATCH, detail),)
    if not gost.streebog_available():
        detail = (
            f"Streebog needs OpenSSL's GOST provider: install the {gost.PROVIDER_PACKAGE} package"
        )
        return (Failure(FailureCode.UNSUPPORTED_ALGORITHM, detail),)
    return ()


def _algorithm_name(signer_info: cms.SignerInfo, digest_name: str) -> str | None:
    """A short name for reports: "rsa-sha256", "rsa-pss-sha256", "ecdsa-sha256", "gost2015-512"."""
    try:
        oid: str = signer_info["signature_algorithm"]["algorithm"].dotted
        name: str = signer_info["signature_algorithm"]["algorithm"].native
    except Exception:
        return None
    if oid in _GOST_NAMES:
        return _GOST_NAMES[oid]
    scheme, named_hash = _SIGNATURE_ALGORITHMS.get(name, ("", None))
    if not scheme:
        return name
    prefix = {"rsa": "rsa", "pss": "rsa-pss", "ecdsa": "ecdsa"}[scheme]
    return f"{prefix}-{named_hash or digest_name}"


def _pss_parameters_ok(signature_algorithm: Any, digest_name: str) -> bool:
    params = signature_algorithm["parameters"]
    mgf = params["mask_gen_algorithm"]
    return bool(
        params["hash_algorithm"]["algorithm"].native == digest_name
        and mgf["algorithm"].native == "mgf1"
        and mgf["parameters"]["algorithm"].native == digest_name
        and params["trailer_field"].native == "trailer_field_bc"
    )


def _signed_attributes(signer_info: cms.SignerInfo) -> dict[str, Any] | None:
    """The single value of each signed attribute, or None without content type and digest."""
    values: dict[str, Any] = {}
    for attribute in signer_info["signed_attrs"]:
        name = attribute["type"].native
        if name in values or len(attribute["values"]) != 1:
            raise ValueError(f"attribute {name} must occur once with one value")
        values[name] = attribute["values"][0]
    if "content_type" not in values or "message_digest" not in values:
        return None
    return values


def _signing_time(attributes: dict[str, Any]) -> datetime | None:
    value = attributes.get("signing_time")
    if value is None:
        return None
    when: datetime = value.native
    return when.astimezone(UTC)


def _check_certificate_binding(
    attributes: dict[str, Any], cert: asn1_x509.Certificate, facts: _CertificateFacts
) -> Failure | None:
    """The ESS signing-certificate attribute (v2 or v1), if present, must name `cert`."""
    if "signing_certificate_v2" in attributes:
        cert_id = attributes["signing_certificate_v2"]["certs"][0]
        hash_name: str = cert_id["hash_algorithm"]["algorithm"].native
    elif "signing_certificate" in attributes:
        cert_id = attributes["signing_certificate"]["certs"][0]
        hash_name = "sha1"
    else:
        return None
    hash_name = gost.DIGEST_ALGORITHMS.get(hash_name, hash_name)
    if (
        hash_name not in _ALLOWED_DIGESTS
        and hash_name not in gost.DIGESTERS
        and hash_name != "sha1"
    ):
        return Failure(FailureCode.UNSUPPORTED_ALGORITHM, f"ESS certificate hash {hash_name}")
    if not hmac.compare_digest(cert_id["cert_hash"].native, _hash(hash_name, cert.dump())):
        return Failure(FailureCode.CERT_MISMATCH, "ESS signing certificate hash")
    issuer_serial = cert_id["issuer_serial"]
    if isinstance(issuer_serial, core.Void):
        return None
    if issuer_serial["serial_number"].native != facts.serial or (
        # the usual encoding first, the costly name comparison only if it differs
        issuer_serial["issuer"].dump() != facts.issuer_general_names_der
        and all(
            name.name != "directory_name" or not _same_name(name.chosen, facts.issuer_der, cert)
            for name in issuer_serial["issuer"]
        )
    ):
        return Failure(FailureCode.CERT_MISMATCH, "ESS signing certificate issuer/serial")
    return None


def _signature_verifies(
    signer_info: cms.SignerInfo, signed_bytes: bytes, facts: _CertificateFacts, digest_name: str
) -> bool:
    signature: bytes = signer_info["signature"].native
    if facts.gost_key is not None:
        curve, point = facts.gost_key
        try:
            r, s = gost.decode_signature(curve, signature)
        except ValueError:
            return False
        return gost.verify_digest(curve, point, _hash(digest_name, signed_bytes), r, s)
    hash_algorithm = _ALLOWED_DIGESTS[digest_name]
    key = facts.public_key
    try:
        if isinstance(key, rsa.RSAPublicKey):
            if signer_info["signature_algorithm"]["algorithm"].native == "rsassa_pss":
                salt: int = signer_info["signature_algorithm"]["parameters"]["salt_length"].native
                pss = padding.PSS(mgf=padding.MGF1(hash_algorithm), salt_length=salt)
                key.verify(signature, signed_bytes, pss, hash_algorithm)
            else:
                key.verify(signature, signed_bytes, padding.PKCS1v15(), hash_algorithm)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, signed_bytes, ec.ECDSA(hash_algorithm))
        else:
            return False
    except InvalidSignature:
        return False
    return True


def _signed_bytes(signer_info: cms.SignerInfo) -> bytes:
    """The signed attributes as signed: their universal SET encoding, not the [0] IMPLICIT tag
    they carry inside SignerInfo (RFC 5652, 5.4). The received contents are reused as they
    are; re-encoding parsed values could alter them (asn1crypto normalises some parameters).
    """
    received: bytes = signer_info["signed_attrs"].contents
    as_set: bytes = cms.CMSAttributes(contents=received).dump()
    return as_set


def _public_key(spki_der: bytes) -> rsa.RSAPublicKey | ec.EllipticCurvePublicKey | None:
    try:
        key = serialization.load_der_public_key(spki_der)
    except (ValueError, UnsupportedAlgorithm):
        return None
    return key if isinstance(key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey) else None


def _check_usage(facts: _CertificateFacts) -> list[Failure]:
    failures = []
    if facts.key_usage is None or "digital_signature" not in facts.key_usage:
        failures.append(Failure(FailureCode.KEY_USAGE, "digitalSignature missing"))
    purposes = facts.extended_key_usage or frozenset()
    if "client_auth" in purposes and "email_protection" not in purposes:
        failures.append(Failure(FailureCode.AUTH_KEY, "extended key usage clientAuth only"))
    return failures


def _report(
    failures: tuple[Failure, ...],
    *,
    intact: bool = False,
    valid: bool = False,
    trusted: bool = False,
    signer: SignerIdentity | None = None,
    signing_time: datetime | None = None,
    revocation_checked: bool = False,
    algorithm: str | None = None,
) -> SignatureReport:
    unique = _merge_by_code(failures)
    if not unique:
        status = Status.VALID
    elif all(f.code.indeterminate for f in unique):
        status = Status.INDETERMINATE
    else:
        status = Status.INVALID
    return SignatureReport(
        status=status,
        intact=intact,
        valid=valid,
        trusted=trusted,
        signer=signer,
        signing_time=signing_time,
        failures=unique,
        revocation_checked=revocation_checked,
        algorithm=algorithm,
    )


def _merge_by_code(failures: tuple[Failure, ...]) -> tuple[Failure, ...]:
    """One failure per code, in first-seen order; the details of repeats are joined."""
    details: dict[FailureCode, list[str]] = {}
    for failure in failures:
        seen = details.setdefault(failure.code, [])
        if failure.detail and failure.detail not in seen:
            seen.append(failure.detail)
    return tuple(Failure(code, "; ".join(texts)) for code, texts in details.items())


def _decode_base64(text: str | bytes, max_size: int) -> bytes | Failure:
    raw = text.encode("ascii", errors="replace") if isinstance(text, str) else text
    # base64 needs 4 characters per 3 bytes; allow generous room for line breaks and armor.
    if len(raw) > max_size * 2 + 1024:
        return Failure(FailureCode.TOO_LARGE, f"{len(raw)} characters")
    compact = _WHITESPACE.sub(b"", _PEM_ARMOR.sub(b"", raw))
    try:
        decoded = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError) as exc:
        return Failure(FailureCode.MALFORMED, f"base64: {exc}")
    if len(decoded) > max_size:
        return Failure(FailureCode.TOO_LARGE, f"{len(decoded)} bytes > {max_size}")
    if not decoded:
        return Failure(FailureCode.MALFORMED, "empty")
    return decoded


def _moment(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    if now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    return now


def _check_iin_argument(iin: str | None) -> None:
    if iin is not None and not is_valid_iin(iin):
        raise ValueError(f"expected_iin is not a valid IIN: {iin!r}")
