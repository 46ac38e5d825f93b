"""Live revocation data: CRLs (full and delta) downloaded into the trust folder, and OCSP.

`LiveRevocation` keeps the revocation data of a trust folder current. It knows three kinds of
CRL addresses:

- those configured in the folder's ``revocation.json`` (``{"crl_urls": [...], "ocsp_url": ...,
  "ca": {"<file name of a CA certificate>": {"crl_urls": [...], "ocsp_url": "..."}}}``);
- the CRL distribution points and Freshest CRL (delta CRL) pointers of the CA certificates in
  the folder, and the Freshest CRL pointers of the CRLs it has fetched;
- those of the certificates it was asked about (`prepare`), but only of a certificate whose
  signature checks with the key of a CA in the folder: an address in a signature nobody
  vouches for could make this server fetch anything. They are remembered in
  ``revocation-state.json`` so that `refresh` (``qujat trust refresh``, from cron) keeps them
  current too.

A CRL is downloaded when there is none for its address or its nextUpdate is less than
`DownloadLimits.refresh_ahead` away, with a conditional GET (ETag / Last-Modified), a time limit
and a size limit. Before it is cached it must parse, be signed by a CA certificate of the folder
with the issuer's name, not come from the future, and be newer than the cached one (CRL number,
then thisUpdate): an older CRL never replaces a newer one. It is written atomically (a temporary
file renamed over the old) as ``fetched-<host>-<name>-<hash>.crl``, so a restarted service, or one
that cannot reach the CA, still has it. A failed address is retried after
`DownloadLimits.retry_after`, not on every signature.

OCSP (RFC 6960, over HTTP POST) is asked for a certificate when an OCSP address is configured
for its CA, or when no current CRL of its CA is at hand and the certificate names a responder
(authority information access). The answer is handed to path validation, which checks the
responder's signature and authority itself.

Pure: urllib from the standard library, no Flask, no SQLAlchemy.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import re
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any, Literal

from asn1crypto import crl as asn1_crl
from asn1crypto import keys
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp

from signing.gost_pkix import signature_verifies

CONFIG_FILE = "revocation.json"
STATE_FILE = "revocation-state.json"
FETCHED_PREFIX = "fetched-"
USER_AGENT = "qujat-revocation/1"

Outcome = Literal["fetched", "not_modified", "current", "failed"]


@dataclass(frozen=True)
class DownloadLimits:
    """How long, how much and how often revocation data is downloaded."""

    timeout_seconds: float = 10.0
    """For one download, from connecting to the last byte."""
    max_crl_bytes: int = 64 * 1024 * 1024
    """NCA's full CRLs are several MB; anything far larger is not a CRL we want in memory."""
    max_ocsp_bytes: int = 64 * 1024
    refresh_ahead: timedelta = timedelta(hours=1)
    """Download a new CRL this long before its nextUpdate (or at once for a shorter-lived one:
    a tenth of its lifetime, so that a one-hour delta CRL is fetched after 54 minutes)."""
    retry_after: timedelta = timedelta(minutes=1)
    """After a failed download, wait this long before trying the same address on use."""
    max_future_skew: timedelta = timedelta(minutes=5)
    """A CRL whose thisUpdate is further in the future than this is refused."""


DEFAULT_LIMITS = DownloadLimits()


class RevocationFetchError(Exception):
    """A download or a check of downloaded revocation data failed; the message says why."""


@dataclass(frozen=True)
class FetchResult:
    """What happened to one address: `fetched` (a new CRL cached), `not_modified` (the server
    has nothing newer), `current` (the cached CRL is good for a while: nothing asked), or
    `failed` with the reason; `next_update` of the CRL now cached for it."""

    url: str
    outcome: Outcome
    reason: str = ""
    next_update: datetime | None = None
    file: str | None = None

    def line(self) -> str:
        """One line for a report: ``<outcome> <url> [next update …] [(reason)]``."""
        parts = [f"{self.outcome:<12} {self.url}"]
        if self.next_update is not None:
            parts.append(f"next update {self.next_update.isoformat()}")
        if self.reason:
            parts.append(f"({self.reason})")
        return "  ".join(parts)


@dataclass
class _UrlState:
    file: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    failed_at: float | None = None
    failure: str | None = None
    learned: bool = False

    def as_json(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v not in (None, False)}


class _Crl:
    """A CRL as cached: its DER (re-encoding a large CRL with cryptography takes a third of a
    second), cryptography's view (signature, times) and asn1crypto's (extensions, for
    path validation)."""

    __slots__ = ("asn1", "der", "x509")

    def __init__(self, der: bytes) -> None:
        self.der = der
        self.x509 = x509.load_der_x509_crl(der)
        self.asn1 = asn1_crl.CertificateList.load(der)

    @property
    def last_update_utc(self) -> datetime:
        return self.x509.last_update_utc

    @property
    def next_update_utc(self) -> datetime | None:
        return self.x509.next_update_utc


@dataclass(frozen=True)
class PreparedRevocation:
    """Revocation data obtained for one certificate path: CRLs fetched now (those already in
    the folder are in the trust anchors) and OCSP responses (DER, asn1crypto objects)."""

    crls: tuple[asn1_crl.CertificateList, ...] = ()
    ocsps: tuple[asn1_ocsp.OCSPResponse, ...] = ()
    results: tuple[FetchResult, ...] = ()


@dataclass
class LiveRevocation:
    """The live revocation data of one trust folder (see the module docstring). Thread-safe;
    keep one per folder for the life of the process."""

    folder: Path
    limits: DownloadLimits = DEFAULT_LIMITS
    _lock: threading.RLock = field(default_factory=threading.RLock, init=False, repr=False)
    _state: dict[str, _UrlState] | None = field(default=None, init=False, repr=False)
    _parsed: dict[str, tuple[tuple[int, int], _Crl]] = field(
        default_factory=dict, init=False, repr=False
    )

    def __post_init__(self) -> None:
        self.folder = Path(self.folder)

    # ------------------------------------------------------------------ configuration

    def config(self) -> dict[str, Any]:
        """The folder's ``revocation.json`` (empty when there is none); ValueError naming the
        field when it is malformed."""
        path = self.folder / CONFIG_FILE
        if not path.is_file():
            return {}
        try:
            data = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise ValueError(f"{path}: not readable JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise ValueError(f"{path}: must be a JSON object")
        _urls(data.get("crl_urls", []), f"{path}: crl_urls")
        if data.get("ocsp_url") is not None:
            _urls([data["ocsp_url"]], f"{path}: ocsp_url")
        per_ca = data.get("ca", {})
        if not isinstance(per_ca, dict):
            raise ValueError(f"{path}: ca must map CA certificate file names to settings")
        for name, settings in per_ca.items():
            if not isinstance(settings, dict):
                raise ValueError(f"{path}: ca.{name} must be an object")
            _urls(settings.get("crl_urls", []), f"{path}: ca.{name}.crl_urls")
            if settings.get("ocsp_url") is not None:
                _urls([settings["ocsp_url"]], f"{path}: ca.{name}.ocsp_url")
        return data

    def ca_certificates(self) -> list[tuple[str, x509.Certificate]]:
        """The certificates of the folder (file name, certificate); unreadable files skipped
        (loading the trust anchors names them)."""
        found = []
        for path in sorted(p for p in self.folder.iterdir() if p.is_file()):
            if path.suffix.lower() not in (".pem", ".crt", ".cer"):
                continue
            with contextlib.suppress(OSError, ValueError):
                blob = path.read_bytes()
                if b"-----BEGIN" in blob:
                    found += [(path.name, c) for c in x509.load_pem_x509_certificates(blob)]
                else:
                    found.append((path.name, x509.load_der_x509_certificate(blob)))
        return found

    def crl_urls(self) -> list[str]:
        """Every CRL address this folder keeps current, configured ones first."""
        config = self.config()
        urls: list[str] = list(config.get("crl_urls", []))
        for settings in config.get("ca", {}).values():
            urls += settings.get("crl_urls", [])
        for _, cert in self.ca_certificates():
            urls += crl_urls_of(cert)
        state = self._load_state()
        urls += [url for url, entry in state.items() if entry.learned]
        for url in list(dict.fromkeys(urls)):
            entry = state.get(url)
            if entry and entry.file:
                cached = self._cached(entry.file)
                if cached is not None:
                    urls += _freshest_urls(cached)
        return list(dict.fromkeys(u for u in urls if _is_http(u)))

    # ------------------------------------------------------------------ refreshing

    def refresh(self, now: datetime, *, force: bool = False) -> list[FetchResult]:
        """Bring every known CRL up to date (``qujat trust refresh``): download those that are
        missing or due (all of them, unconditionally, with `force`); one result per address."""
        results = []
        seen: set[str] = set()
        pending = self.crl_urls()
        while pending:
            url = pending.pop(0)
            if url in seen:
                continue
            seen.add(url)
            result = self._ensure(url, now, force=force, on_use=False)
            results.append(result)
            # a new full CRL may point at a delta CRL we did not know of
            pending += [u for u in self.crl_urls() if u not in seen and u not in pending]
        return results

    def prepare(
        self,
        certificate: x509.Certificate,
        issuers: Sequence[x509.Certificate],
        anchors: Sequence[x509.Certificate],
        known_crls: Iterable[asn1_crl.CertificateList],
        now: datetime,
    ) -> PreparedRevocation:
        """Make sure the revocation data for `certificate`'s path is at hand at `now`:
        download the CRLs of its CAs that are missing or due, and ask OCSP where configured or
        where no current CRL could be had. `issuers` are CA certificates that may be on the
        path (the folder's and those carried in the signature); `anchors` those of the folder."""
        config = self.config()
        known = list(known_crls)
        fetched: list[asn1_crl.CertificateList] = []
        ocsps: list[asn1_ocsp.OCSPResponse] = []
        results: list[FetchResult] = []
        path = _path_to_anchor(certificate, issuers, anchors)
        if path is None:
            return PreparedRevocation()  # nobody we trust vouches for its addresses
        for current, issuer in path:
            urls = [*crl_urls_of(current), *self._configured_crls(config, issuer)]
            for url in dict.fromkeys(urls):
                self._learn(url)
                result = self._ensure(url, now, force=False, on_use=True)
                results.append(result)
                if result.outcome != "fetched" or not result.file:
                    continue
                cached = self._cached(result.file)
                if cached is None:
                    continue
                fetched.append(cached.asn1)
                for delta_url in _freshest_urls(cached):
                    self._learn(delta_url)
                    delta = self._ensure(delta_url, now, force=False, on_use=True)
                    results.append(delta)
                    delta_crl = self._cached(delta.file) if delta.outcome == "fetched" else None
                    if delta_crl is not None:
                        fetched.append(delta_crl.asn1)
            ocsp_url = self._configured_ocsp(config, issuer)
            if ocsp_url is None and not _has_current_crl(issuer, [*known, *fetched], now):
                ocsp_url = next(iter(ocsp_urls_of(current)), None)
            if ocsp_url is not None:
                try:
                    ocsps.append(self.ask_ocsp(current, issuer, ocsp_url))
                    results.append(FetchResult(ocsp_url, "fetched", "OCSP"))
                except RevocationFetchError as exc:
                    results.append(FetchResult(ocsp_url, "failed", f"OCSP: {exc}"))
        return PreparedRevocation(tuple(fetched), tuple(ocsps), tuple(results))

    def _configured_crls(self, config: dict[str, Any], issuer: x509.Certificate) -> list[str]:
        return list(self._ca_settings(config, issuer).get("crl_urls", []))

    def _configured_ocsp(self, config: dict[str, Any], issuer: x509.Certificate) -> str | None:
        url = self._ca_settings(config, issuer).get("ocsp_url") or config.get("ocsp_url")
        return str(url) if url else None

    def _ca_settings(self, config: dict[str, Any], issuer: x509.Certificate) -> dict[str, Any]:
        per_ca = config.get("ca", {})
        if not per_ca:
            return {}
        for name, cert in self.ca_certificates():
            if name in per_ca and cert == issuer:
                return dict(per_ca[name])
        return {}

    # ------------------------------------------------------------------ one CRL address

    def _ensure(self, url: str, now: datetime, *, force: bool, on_use: bool) -> FetchResult:
        with self._lock:
            state = self._load_state()
            entry = state.setdefault(url, _UrlState())
            cached = self._cached(entry.file) if entry.file else None
            if cached is not None and not force and not self._due(cached, now):
                return FetchResult(
                    url, "current", next_update=_next_update(cached), file=entry.file
                )
            if (
                on_use
                and entry.failed_at is not None
                and time.monotonic() - entry.failed_at < self.limits.retry_after.total_seconds()
            ):
                return FetchResult(
                    url,
                    "failed",
                    f"{entry.failure} (retried later)",
                    next_update=_next_update(cached) if cached is not None else None,
                )
            try:
                result = self._download_crl(url, entry, cached, now, conditional=not force)
                if result.outcome == "not_modified" and self._expired(cached, now):
                    # a 304 for a CRL past its nextUpdate: the server's clock or its
                    # Last-Modified cannot be trusted here; ask again without conditions
                    result = self._download_crl(url, entry, cached, now, conditional=False)
            except RevocationFetchError as exc:
                entry.failed_at, entry.failure = time.monotonic(), str(exc)
                self._save_state()
                return FetchResult(
                    url,
                    "failed",
                    str(exc),
                    next_update=_next_update(cached) if cached is not None else None,
                )
            entry.failed_at = entry.failure = None
            self._save_state()
            return result

    @staticmethod
    def _expired(crl: _Crl | None, now: datetime) -> bool:
        next_update = _next_update(crl) if crl is not None else None
        return next_update is not None and now >= next_update

    def _due(self, crl: _Crl, now: datetime) -> bool:
        next_update = _next_update(crl)
        if next_update is None:
            return False  # a CRL without nextUpdate is as current as it will ever be
        lifetime = next_update - crl.last_update_utc
        ahead = min(self.limits.refresh_ahead, lifetime / 10)
        return now >= next_update - ahead or now < crl.last_update_utc

    def _download_crl(
        self,
        url: str,
        entry: _UrlState,
        cached: _Crl | None,
        now: datetime,
        *,
        conditional: bool,
    ) -> FetchResult:
        headers = {"User-Agent": USER_AGENT}
        if cached is not None and conditional:
            if entry.etag:
                headers["If-None-Match"] = entry.etag
            if entry.last_modified:
                headers["If-Modified-Since"] = entry.last_modified
        status, body, response_headers = _http(
            "GET", url, headers, None, self.limits.timeout_seconds, self.limits.max_crl_bytes
        )
        if status == 304 and cached is not None:
            return FetchResult(
                url, "not_modified", next_update=_next_update(cached), file=entry.file
            )
        if status != 200:
            raise RevocationFetchError(f"HTTP {status}")
        crl = self._checked_crl(body, now)
        if cached is not None and not _newer(crl, cached):
            if _same(crl, cached):
                return FetchResult(
                    url, "not_modified", next_update=_next_update(cached), file=entry.file
                )
            if _number(crl) == _number(cached) and crl.last_update_utc == cached.last_update_utc:
                raise RevocationFetchError(
                    f"the server's CRL has the cached one's number ({_number(crl)}) and "
                    "thisUpdate but other content; kept the cached one"
                )
            raise RevocationFetchError(
                f"the server's CRL (number {_number(crl)}, thisUpdate "
                f"{crl.last_update_utc.isoformat()}) is older than the cached one (number "
                f"{_number(cached)}); kept the cached one"
            )
        name = entry.file or _file_name(url)
        try:
            _atomic_write(self.folder / name, crl.der)
        except OSError as exc:
            raise RevocationFetchError(f"cannot write into the trust folder: {exc}") from exc
        entry.file = name
        entry.etag = response_headers.get("etag")
        entry.last_modified = response_headers.get("last-modified") or format_datetime(
            now.astimezone(UTC), usegmt=True
        )
        return FetchResult(url, "fetched", next_update=_next_update(crl), file=name)

    def _checked_crl(self, body: bytes, now: datetime) -> _Crl:
        """Parse a downloaded CRL and check it is one of our CAs' before it may be cached."""
        try:
            der = body
            if body.lstrip().startswith(b"-----BEGIN"):
                der = x509.load_pem_x509_crl(body).public_bytes(serialization.Encoding.DER)
            crl = _Crl(der)
            # damage in the parts used later shows now
            _ = crl.last_update_utc, crl.asn1.crl_number_value, crl.asn1.freshest_crl_value
            _ = crl.asn1["tbs_cert_list"]["issuer"].native
        except ValueError as exc:
            raise RevocationFetchError(f"not a CRL: {exc}") from exc
        issuer = _crl_issuer(crl)
        candidates = [c for _, c in self.ca_certificates() if _subject(c) == issuer]
        if not candidates:
            name = asn1_x509.Name.load(issuer).human_friendly
            raise RevocationFetchError(f"its issuer {name} is not a CA of the trust folder")
        problems = []
        for ca in candidates:
            try:
                if _crl_signed_by(crl.asn1, ca):
                    break
                problems.append("bad signature")
            except (UnsupportedAlgorithm, TypeError, ValueError) as exc:
                problems.append(
                    f"signature algorithm {crl.x509.signature_algorithm_oid.dotted_string} "
                    f"cannot be checked here ({exc.__class__.__name__})"
                )
        else:
            raise RevocationFetchError(
                "the CRL's signature does not check with its issuer's key: " + "; ".join(problems)
            )
        if not _may_sign_crls(ca):
            raise RevocationFetchError("its issuer's certificate may not sign CRLs (key usage)")
        if crl.last_update_utc > now + self.limits.max_future_skew:
            raise RevocationFetchError(
                f"its thisUpdate {crl.last_update_utc.isoformat()} is in the future"
            )
        next_update = _next_update(crl)
        if next_update is not None and next_update <= crl.last_update_utc:
            raise RevocationFetchError("its nextUpdate is not after its thisUpdate")
        return crl

    # ------------------------------------------------------------------ OCSP

    def ask_ocsp(
        self, certificate: x509.Certificate, issuer: x509.Certificate, url: str
    ) -> asn1_ocsp.OCSPResponse:
        """Ask `url` about `certificate` (RFC 6960 over HTTP POST, with a nonce). Returns the
        response for path validation; RevocationFetchError when there is no usable answer."""
        if not _is_http(url):
            raise RevocationFetchError(f"not an http(s) address: {url}")
        nonce = os.urandom(16)
        request = (
            ocsp.OCSPRequestBuilder()
            .add_certificate(certificate, issuer, hashes.SHA1())  # noqa: S303 - RFC 6960 CertID
            .add_extension(x509.OCSPNonce(nonce), critical=False)
            .build()
        )
        status, body, _ = _http(
            "POST",
            url,
            {"Content-Type": "application/ocsp-request", "User-Agent": USER_AGENT},
            request.public_bytes(serialization.Encoding.DER),
            self.limits.timeout_seconds,
            self.limits.max_ocsp_bytes,
        )
        if status != 200:
            raise RevocationFetchError(f"HTTP {status}")
        try:
            answer = ocsp.load_der_ocsp_response(body)
        except ValueError as exc:
            raise RevocationFetchError(f"not an OCSP response: {exc}") from exc
        if answer.response_status is not ocsp.OCSPResponseStatus.SUCCESSFUL:
            raise RevocationFetchError(f"the responder answered {answer.response_status.name}")
        with contextlib.suppress(x509.ExtensionNotFound):
            echoed = answer.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce
            if echoed != nonce:
                raise RevocationFetchError("the responder's nonce is not ours (a replay?)")
        if answer.serial_number != certificate.serial_number:
            raise RevocationFetchError("the response is about another certificate")
        return asn1_ocsp.OCSPResponse.load(body)

    # ------------------------------------------------------------------ state and files

    def _learn(self, url: str) -> None:
        if not _is_http(url):
            return
        with self._lock:
            state = self._load_state()
            entry = state.setdefault(url, _UrlState())
            if not entry.learned:
                entry.learned = True
                self._save_state()

    def _cached(self, name: str | None) -> _Crl | None:
        """The CRL cached in file `name` (parsed once per version of the file)."""
        if not name:
            return None
        path = self.folder / name
        try:
            stat = path.stat()
            stamp = (stat.st_mtime_ns, stat.st_size)
            known = self._parsed.get(name)
            if known is not None and known[0] == stamp:
                return known[1]
            crl = _Crl(path.read_bytes())
        except (OSError, ValueError):
            return None
        self._parsed[name] = (stamp, crl)
        return crl

    def _load_state(self) -> dict[str, _UrlState]:
        if self._state is None:
            self._state = {}
            path = self.folder / STATE_FILE
            with contextlib.suppress(OSError, ValueError, TypeError):
                for url, entry in json.loads(path.read_text("utf-8")).items():
                    self._state[url] = _UrlState(
                        file=entry.get("file"),
                        etag=entry.get("etag"),
                        last_modified=entry.get("last_modified"),
                        learned=bool(entry.get("learned")),
                    )
        return self._state

    def _save_state(self) -> None:
        state = {
            url: {k: v for k, v in entry.as_json().items() if k not in ("failed_at",)}
            for url, entry in self._load_state().items()
        }
        with contextlib.suppress(OSError):
            _atomic_write(
                self.folder / STATE_FILE,
                (json.dumps(state, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode(),
            )


# ---------------------------------------------------------------------- certificates


def crl_urls_of(certificate: x509.Certificate) -> list[str]:
    """The http(s) CRL distribution points and Freshest CRL pointers of `certificate`."""
    parsed = _asn1_certificate(certificate)
    return [
        *_point_urls(parsed.crl_distribution_points_value),
        *_point_urls(parsed.freshest_crl_value),
    ]


def ocsp_urls_of(certificate: x509.Certificate) -> list[str]:
    """The http(s) OCSP responders named in `certificate`'s authority information access."""
    return [url for url in _asn1_certificate(certificate).ocsp_urls if _is_http(url)]


def _point_urls(points: Any) -> list[str]:
    """Every http(s) URI of the full names of CRL distribution points (asn1crypto)."""
    urls = []
    for point in points or ():
        name = point["distribution_point"]
        if name.name != "full_name":
            continue
        for general_name in name.chosen:
            if general_name.name == "uniform_resource_identifier" and _is_http(general_name.native):
                urls.append(str(general_name.native))
    return urls


def verify_crl_signature(crl: x509.CertificateRevocationList, issuer: x509.Certificate) -> bool:
    """Whether `crl` is signed by `issuer`'s key (and names it as issuer)."""
    if _crl_issuer(crl) != _subject(issuer):
        return False
    return _crl_signed_by(
        asn1_crl.CertificateList.load(crl.public_bytes(serialization.Encoding.DER)), issuer
    )


def _crl_signed_by(crl: asn1_crl.CertificateList, issuer: x509.Certificate) -> bool:
    """RSA, ECDSA or GOST 34.10-2015 (`UnsupportedAlgorithm` for what cannot be checked)."""
    return signature_verifies(
        crl["signature"].native,
        crl["tbs_cert_list"].dump(),
        _spki(issuer),
        crl["signature_algorithm"],
    )


def _signed_by(certificate: x509.Certificate, issuer: x509.Certificate) -> bool:
    cert = asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))
    return signature_verifies(
        cert["signature_value"].native,
        cert["tbs_certificate"].dump(),
        _spki(issuer),
        cert["signature_algorithm"],
    )


def _spki(certificate: x509.Certificate) -> keys.PublicKeyInfo:
    der = certificate.public_bytes(serialization.Encoding.DER)
    return asn1_x509.Certificate.load(der).public_key


def _path_to_anchor(
    certificate: x509.Certificate,
    issuers: Sequence[x509.Certificate],
    anchors: Sequence[x509.Certificate],
) -> list[tuple[x509.Certificate, x509.Certificate]] | None:
    """(certificate, its issuer) pairs from `certificate` up to an anchor, each signature
    checked; None when the path does not reach an anchor."""
    path: list[tuple[x509.Certificate, x509.Certificate]] = []
    current = certificate
    for _ in range(6):  # a path longer than this is not the national CA's
        if current in anchors and path:
            return path
        issuer = _issuer_of(current, [*anchors, *issuers])
        if issuer is None:
            return None
        path.append((current, issuer))
        if issuer in anchors:
            return path
        current = issuer
    return None


def _issuer_of(
    certificate: x509.Certificate, candidates: Iterable[x509.Certificate]
) -> x509.Certificate | None:
    for candidate in candidates:
        if _subject(candidate) != _issuer(certificate) or candidate == certificate:
            continue
        try:
            if not _signed_by(certificate, candidate):
                continue
        except (ValueError, TypeError, UnsupportedAlgorithm):
            continue
        return candidate
    return None


def _may_sign_crls(certificate: x509.Certificate) -> bool:
    usage = _asn1_certificate(certificate).key_usage_value
    return usage is None or "crl_sign" in usage.native


def _freshest_urls(crl: _Crl) -> list[str]:
    return _point_urls(_asn1_crl(crl).freshest_crl_value)


def _has_current_crl(
    issuer: x509.Certificate, crls: Iterable[asn1_crl.CertificateList], now: datetime
) -> bool:
    issuer_der = _subject(issuer)
    for crl in crls:
        tbs = crl["tbs_cert_list"]
        if tbs["issuer"].dump() != issuer_der:
            continue
        this_update, next_update = tbs["this_update"].native, tbs["next_update"].native
        if this_update <= now and (next_update is None or now < next_update):
            return True
    return False


# Names are compared as DER through asn1crypto: cryptography warns on reading the NCA's
# organisation names, which are longer than X.520 allows.


def _asn1_certificate(certificate: x509.Certificate) -> asn1_x509.Certificate:
    return _asn1_certificate_der(certificate.public_bytes(serialization.Encoding.DER))


@functools.lru_cache(maxsize=256)
def _asn1_certificate_der(der: bytes) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(der)


def _subject(certificate: x509.Certificate) -> bytes:
    return bytes(_asn1_certificate(certificate).subject.dump())


def _issuer(certificate: x509.Certificate) -> bytes:
    return bytes(_asn1_certificate(certificate).issuer.dump())


def _crl_issuer(crl: _Crl | x509.CertificateRevocationList) -> bytes:
    return bytes(_asn1_crl(crl)["tbs_cert_list"]["issuer"].dump())


def _asn1_crl(crl: _Crl | x509.CertificateRevocationList) -> asn1_crl.CertificateList:
    if isinstance(crl, _Crl):
        return crl.asn1
    return asn1_crl.CertificateList.load(crl.public_bytes(serialization.Encoding.DER))


def _next_update(crl: _Crl) -> datetime | None:
    return crl.next_update_utc


def _number(crl: _Crl) -> int | None:
    number = crl.asn1.crl_number_value
    return int(number.native) if number is not None else None


def _newer(new: _Crl, old: _Crl) -> bool:
    new_number, old_number = _number(new), _number(old)
    if new_number is not None and old_number is not None and new_number != old_number:
        return new_number > old_number
    return new.last_update_utc > old.last_update_utc


def _same(a: _Crl, b: _Crl) -> bool:
    return a.der == b.der


def _file_name(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    stem = Path(parts.path).stem or "crl"
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", f"{parts.hostname or 'host'}-{stem}")[:80]
    digest = hashlib.sha256(url.encode("utf-8")).hexdigest()[:10]
    return f"{FETCHED_PREFIX}{slug}-{digest}.crl"


def _atomic_write(path: Path, data: bytes) -> None:
    """Write-then-rename in the same folder: readers see the old file or the new, never half."""
    handle, partial = tempfile.mkstemp(dir=path.parent, prefix=".partial-", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(partial, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(partial)
        raise


def _is_http(url: object) -> bool:
    if not isinstance(url, str):
        return False
    parts = urllib.parse.urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _urls(value: object, where: str) -> list[str]:
    if not isinstance(value, list) or not all(_is_http(u) for u in value):
        raise ValueError(f"{where} must be a list of http(s) URLs, got {value!r}")
    return [str(u) for u in value]


# urllib follows redirects only to http(s) addresses, and never to file: or ftp:
_OPENER = urllib.request.build_opener()


def _http(
    method: str,
    url: str,
    headers: dict[str, str],
    body: bytes | None,
    timeout: float,
    max_bytes: int,
) -> tuple[int, bytes, dict[str, str]]:
    """One HTTP exchange with a deadline for the whole of it and a size limit on the answer."""
    deadline = time.monotonic() + timeout
    request = urllib.request.Request(url, data=body, method=method, headers=headers)  # noqa: S310
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            status = int(response.status)
            answer_headers = {k.lower(): v for k, v in response.headers.items()}
            declared = answer_headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > max_bytes:
                raise RevocationFetchError(f"too large: {declared} bytes (limit {max_bytes})")
            chunks, size = [], 0
            while True:
                if time.monotonic() > deadline:
                    raise RevocationFetchError(f"took longer than {timeout:g} s")
                chunk = response.read(64 * 1024)
                if not chunk:
                    break
                size += len(chunk)
                if size > max_bytes:
                    raise RevocationFetchError(f"too large: over {max_bytes} bytes")
                chunks.append(chunk)
            return status, b"".join(chunks), answer_headers
    except urllib.error.HTTPError as exc:
        return exc.code, b"", {k.lower(): v for k, v in exc.headers.items()}
    except urllib.error.URLError as exc:
        raise RevocationFetchError(f"cannot reach the server: {exc.reason}") from exc
    except (TimeoutError, OSError) as exc:
        raise RevocationFetchError(f"cannot reach the server: {exc}") from exc
