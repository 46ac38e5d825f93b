"""Whom we trust: CA certificates and CRLs, and certificate path validation against them.

`TrustAnchors` holds the configured roots (self-signed CA certificates), intermediate CA
certificates and CRLs, typically loaded from a folder with `TrustAnchors.from_folder`.
`TrustAnchors.checker(moment)` gives a `ChainChecker` that validates signers' certificates with
pyhanko-certvalidator (path building, validity periods, CRL/OCSP revocation) and answers with
failure codes.

Successful validations are memoised per (certificate, revocation policy) together with the time
window in which the same answer must hold: every certificate on the path is within its validity
period, every loaded CRL is current, and the result is younger than the policy's `max_cache_age`.
A later check whose moment falls inside that window reuses the validated path; anything else,
and every failure, is validated afresh.
"""

from __future__ import annotations

import asyncio
import enum
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Coroutine, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from asn1crypto import crl as asn1_crl
from asn1crypto import pem
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator.errors import (
    ExpiredError,
    InsufficientRevinfoError,
    NotYetValidError,
    PathBuildingError,
    RevokedError,
    ValidationError,
)
from pyhanko_certvalidator.fetchers.api import FetcherBackend, FetchLimits
from pyhanko_certvalidator.path import ValidationPath
from pyhanko_certvalidator.policy_decl import (
    NO_REVOCATION,
    REQUIRE_REVINFO,
    CertRevTrustPolicy,
    RevocationCheckingPolicy,
    RevocationCheckingRule,
)

from signing.errors import Failure, FailureCode
from signing.gost_pkix import GOST_SIGNATURE_VALIDATOR, gost_self_signed, supported_gost_key

CERTIFICATE_SUFFIXES = (".pem", ".crt", ".cer")
CRL_SUFFIX = ".crl"

# pyhanko compares times with this tolerance too; it absorbs sub-second clock noise.
_TOLERANCE = timedelta(seconds=1)

_LEAF_ONLY = RevocationCheckingPolicy(
    ee_certificate_rule=RevocationCheckingRule.CRL_OR_OCSP_REQUIRED,
    intermediate_ca_cert_rule=RevocationCheckingRule.NO_CHECK,
)


class RevocationMode(enum.StrEnum):
    """How hard to insist on knowing that a certificate is not revoked."""

    REQUIRE = "require"
    """Every certificate on the path needs a current CRL or OCSP answer; otherwise indeterminate."""
    SOFT_FAIL = "soft-fail"
    """Use whatever revocation data there is; a listed certificate is still refused (dev only)."""
    OFF = "off"
    """Do not look at revocation at all (dev only)."""


@dataclass(frozen=True)
class RevocationPolicy:
    """Revocation checking. `fetch` lets pyhanko download CRLs (distribution points) and ask
    OCSP responders (authority information access) named in the CA-issued certificates."""

    mode: RevocationMode = RevocationMode.REQUIRE
    fetch: bool = False
    fetch_timeout_seconds: float = 10.0
    max_cache_age: timedelta = timedelta(minutes=5)


DEFAULT_REVOCATION = RevocationPolicy()


@dataclass(frozen=True)
class ChainCheck:
    """The outcome of validating a signer's certificate path."""

    failures: tuple[Failure, ...]
    revocation_checked: bool

    @property
    def trusted(self) -> bool:
        return not self.failures


@dataclass(frozen=True)
class _ValidatedPath:
    reusable_from: datetime
    reusable_until: datetime
    path_valid_from: datetime
    path_valid_until: datetime
    revocation_checked: bool


class _PathCache:
    """Thread-safe, bounded memo of successful path validations (see the module docstring)."""

    def __init__(self, max_entries: int = 4096) -> None:
        self._entries: OrderedDict[tuple[bytes, RevocationPolicy], _ValidatedPath] = OrderedDict()
        self._max_entries = max_entries
        self._lock = threading.Lock()

    def get(self, key: tuple[bytes, RevocationPolicy], moment: datetime) -> _ValidatedPath | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or not entry.reusable_from <= moment <= entry.reusable_until:
                return None
            self._entries.move_to_end(key)
            return entry

    def put(self, key: tuple[bytes, RevocationPolicy], entry: _ValidatedPath) -> None:
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)


@dataclass(frozen=True, eq=False)
class TrustAnchors:
    """Trusted roots, known intermediate CAs and CRLs (asn1crypto objects)."""

    roots: tuple[asn1_x509.Certificate, ...]
    intermediates: tuple[asn1_x509.Certificate, ...] = ()
    crls: tuple[asn1_crl.CertificateList, ...] = ()
    _paths: _PathCache = field(default_factory=_PathCache, init=False, repr=False)

    def __post_init__(self) -> None:
        if not self.roots:
            raise ValueError("at least one trusted root certificate is required")

    @classmethod
    def from_certificates(
        cls, certificates: Iterable[bytes], crls: Iterable[bytes] = ()
    ) -> TrustAnchors:
        """Sort DER/PEM CA certificates into roots (self-signed) and intermediates."""
        loaded = [cert for blob in certificates for cert in _load_certificates(blob)]
        return cls(
            roots=tuple(cert for cert, is_root in loaded if is_root),
            intermediates=tuple(cert for cert, is_root in loaded if not is_root),
            crls=tuple(crl for blob in crls for crl in _load_crls(blob)),
        )

    @classmethod
    def from_folder(cls, folder: Path | str) -> TrustAnchors:
        """Load ``*.pem``, ``*.crt``, ``*.cer`` (CA certificates) and ``*.crl`` from `folder`.

        Other files (PKCS#12 keys, JSON indexes) are ignored; subfolders are not read. A file
        that cannot be read raises `ValueError` naming it.
        """
        certificates: list[tuple[asn1_x509.Certificate, bool]] = []
        crls: list[asn1_crl.CertificateList] = []
        for path in sorted(p for p in Path(folder).iterdir() if p.is_file()):
            try:
                if path.suffix.lower() in CERTIFICATE_SUFFIXES:
                    certificates.extend(_load_certificates(path.read_bytes()))
                elif path.suffix.lower() == CRL_SUFFIX:
                    crls.extend(_load_crls(path.read_bytes()))
            except (ValueError, TypeError) as exc:
                raise ValueError(f"{path}: not a certificate or CRL: {exc}") from exc
        return cls(
            roots=tuple(cert for cert, is_root in certificates if is_root),
            intermediates=tuple(cert for cert, is_root in certificates if not is_root),
            crls=tuple(crls),
        )

    def checker(
        self, moment: datetime, revocation: RevocationPolicy = DEFAULT_REVOCATION
    ) -> ChainChecker:
        """A `ChainChecker` judging certificates at `moment`; use one per request or batch."""
        return ChainChecker(self, moment, revocation)


class ChainChecker:
    """Validates signers' certificates against `trust` at one moment.

    pyhanko's validation state (parsed CRLs, the validated paths of CRL issuers) is shared by the
    certificates one checker sees, so a protocol's signers cost little more than one. Not
    thread-safe: make one per request or batch (`TrustAnchors.checker`).
    """

    def __init__(self, trust: TrustAnchors, moment: datetime, revocation: RevocationPolicy):
        if moment.utcoffset() is None:
            raise ValueError("moment must be timezone-aware")
        self.trust = trust
        self.moment = moment
        self.revocation = revocation
        self._contexts: dict[tuple[datetime, RevocationCheckingPolicy], ValidationContext] = {}

    def check(
        self,
        certificate: asn1_x509.Certificate,
        *,
        signing_time: datetime | None = None,
        other_certificates: Sequence[asn1_x509.Certificate] = (),
    ) -> ChainCheck:
        """Validate `certificate` now (with revocation) and at `signing_time` (validity periods
        only: revocation is judged now, which is later). `other_certificates` (e.g. those
        carried in the CMS) may supply intermediates; trust still comes only from the roots."""
        trust, revocation = self.trust, self.revocation
        key = (hashlib.sha256(certificate.dump()).digest(), revocation)
        validated = trust._paths.get(key, self.moment)
        if validated is None:
            outcome = self._validate(certificate, other_certificates, self.moment, revocation)
            if isinstance(outcome, Failure):
                return ChainCheck(failures=(outcome,), revocation_checked=False)
            validated = self._reusable(outcome, self.moment, revocation)
            trust._paths.put(key, validated)
        if signing_time is not None and not (
            validated.path_valid_from - _TOLERANCE
            <= signing_time
            <= validated.path_valid_until + _TOLERANCE
        ):
            at_signing = self._validate(
                certificate, other_certificates, signing_time, _NO_REVOCATION
            )
            if isinstance(at_signing, Failure):
                return ChainCheck(failures=(at_signing,), revocation_checked=False)
        return ChainCheck(failures=(), revocation_checked=validated.revocation_checked)

    def _reusable(
        self, outcome: _Validation, moment: datetime, revocation: RevocationPolicy
    ) -> _ValidatedPath:
        path = list(outcome.path.iter_certs(include_root=True))
        validities = [c["tbs_certificate"]["validity"] for c in path]
        path_from = max(v["not_before"].native for v in validities)
        path_until = min(v["not_after"].native for v in validities)
        start = max(path_from, moment - revocation.max_cache_age)
        end = min(path_until, moment + revocation.max_cache_age)
        if revocation.mode is not RevocationMode.OFF:
            # the CRLs of the CAs on this path must stay current for the answer to hold
            for crl in self.trust.crls:
                if not any(crl.issuer == ca.subject for ca in path[:-1]):
                    continue
                tbs = crl["tbs_cert_list"]
                start = max(start, tbs["this_update"].native)
                if tbs["next_update"].native is not None:
                    end = min(end, tbs["next_update"].native)
        return _ValidatedPath(
            reusable_from=start,
            reusable_until=end,
            path_valid_from=path_from,
            path_valid_until=path_until,
            revocation_checked=outcome.revocation_checked,
        )

    def _validate(
        self,
        certificate: asn1_x509.Certificate,
        other_certificates: Sequence[asn1_x509.Certificate],
        moment: datetime,
        revocation: RevocationPolicy,
    ) -> _Validation | Failure:
        if revocation.mode is RevocationMode.REQUIRE:
            attempts = [REQUIRE_REVINFO]
        elif revocation.mode is RevocationMode.SOFT_FAIL:
            # Check as much as the available data allows, from everything down to nothing.
            attempts = [REQUIRE_REVINFO, _LEAF_ONLY, NO_REVOCATION]
        else:
            attempts = [NO_REVOCATION]
        # Only CA certificates can be issuers; registering others would only cost time.
        candidates = [
            c
            for c in other_certificates
            if c.ca and _supported_key(c) and c.dump() != certificate.dump()
        ]
        failure = Failure(FailureCode.REVOCATION_UNKNOWN)
        for attempt in attempts:
            try:
                validator = CertificateValidator(
                    certificate,
                    intermediate_certs=candidates,
                    validation_context=self._context(moment, attempt, revocation),
                )
                path = _run(validator.async_validate_path())
            except InsufficientRevinfoError as exc:
                failure = Failure(FailureCode.REVOCATION_UNKNOWN, str(exc))
                continue
            except ValidationError as exc:
                return _failure_from(exc)
            except PathBuildingError as exc:
                return Failure(FailureCode.UNTRUSTED, str(exc))
            except Exception as exc:
                # A hostile or odd certificate can trip pyhanko or asn1crypto in unexpected ways;
                # that is a certificate we cannot trust, never a crash of the verifier.
                return Failure(FailureCode.UNTRUSTED, f"{type(exc).__name__}: {exc}")
            return _Validation(path=path, revocation_checked=attempt is REQUIRE_REVINFO)
        return failure

    def _context(
        self, moment: datetime, attempt: RevocationCheckingPolicy, revocation: RevocationPolicy
    ) -> ValidationContext:
        key = (moment, attempt)
        if key not in self._contexts:
            fetch = revocation.fetch and attempt is not NO_REVOCATION
            self._contexts[key] = ValidationContext(
                trust_roots=[c for c in self.trust.roots if _supported_key(c)],
                other_certs=[c for c in self.trust.intermediates if _supported_key(c)],
                crls=list(self.trust.crls),
                moment=moment,
                revinfo_policy=CertRevTrustPolicy(attempt),
                allow_fetching=fetch,
                fetcher_backend=_fetcher_backend(revocation) if fetch else None,
                signature_validator=GOST_SIGNATURE_VALIDATOR,
            )
        return self._contexts[key]


@dataclass(frozen=True)
class _Validation:
    path: ValidationPath
    revocation_checked: bool


# A policy meaning "no revocation" for the signing-time pass; never used for caching.
_NO_REVOCATION = RevocationPolicy(mode=RevocationMode.OFF)


def _failure_from(exc: ValidationError) -> Failure:
    detail = str(exc)
    if isinstance(exc, RevokedError):
        return Failure(FailureCode.REVOKED, detail)
    if isinstance(exc, ExpiredError | NotYetValidError) and exc.is_ee_cert:
        code = FailureCode.EXPIRED if isinstance(exc, ExpiredError) else FailureCode.NOT_YET_VALID
        return Failure(code, detail)
    return Failure(FailureCode.UNTRUSTED, detail)


def _fetcher_backend(revocation: RevocationPolicy) -> FetcherBackend:
    # Imported here: `requests` is only needed when fetching is on (pyhanko-certvalidator's
    # "requests" extra), and its backend needs no event-loop-bound session to close.
    from pyhanko_certvalidator.fetchers.requests_fetchers import RequestsFetcherBackend

    # Issuer certificates come from the trust folder, never from URLs named in the (untrusted)
    # signature: that would let anyone make this server fetch arbitrary addresses.
    limits = FetchLimits(max_requests=20, max_cert_requests=0)
    return RequestsFetcherBackend(
        per_request_timeout=revocation.fetch_timeout_seconds, limits=limits
    )


_T = TypeVar("_T")


def _run(coroutine: Coroutine[Any, Any, _T]) -> _T:
    """Run pyhanko's async validation from synchronous code, even inside a running event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def _supported_key(cert: asn1_x509.Certificate) -> bool:
    """RSA, EC or GOST 34.10-2015: CAs with other keys (GOST 34.310-2004) cannot have issued
    anything this library verifies."""
    key = cert.public_key
    return bool(key["algorithm"]["algorithm"].native in _SUPPORTED_KEYS or supported_gost_key(key))


_SUPPORTED_KEYS = frozenset({"rsa", "rsassa_pss", "ec"})


def _der_objects(blob: bytes) -> list[bytes]:
    if pem.detect(blob):
        return [der for _, _, der in pem.unarmor(blob, multiple=True)]
    return [blob]


def _load_certificates(blob: bytes) -> list[tuple[asn1_x509.Certificate, bool]]:
    """Each certificate in `blob` with whether it is a root (self-signed)."""
    loaded = []
    for der in _der_objects(blob):
        cert = asn1_x509.Certificate.load(der, strict=True)
        _ = cert.subject.chosen, cert.public_key.native  # damage shows up now, not mid-validation
        loaded.append((cert, _is_self_signed(der)))
    return loaded


def _load_crls(blob: bytes) -> list[asn1_crl.CertificateList]:
    crls = []
    for der in _der_objects(blob):
        crl = asn1_crl.CertificateList.load(der, strict=True)
        _ = crl["tbs_cert_list"]["this_update"].native
        crls.append(crl)
    return crls


def _is_self_signed(der: bytes) -> bool:
    """Issued by itself: same name, and the signature checks with its own key (GOST 34.10-2015
    with signing.gost; an algorithm that cannot be checked here, such as GOST 34.310-2004, for a
    CA the operator chose to trust)."""
    cert = x509.load_der_x509_certificate(der)
    if cert.issuer != cert.subject:
        return False
    try:
        cert.verify_directly_issued_by(cert)
    except UnsupportedAlgorithm:
        return gost_self_signed(der)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True
