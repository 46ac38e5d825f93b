"""Verify any signature a Kazakh platform may hand over: CMS in any shape, or signed XML.

`verify_any` takes the bytes of a file and answers an `AnyReport`: the format (`cms` or `xml`)
and one `SignerResult` per signature. CMS may be DER, PEM or base64 text, attached or
detached (then the signed document comes as `content`), with one signer or many (a combined
.p7s); each signer is judged by `signing.verify.verify_cms_signers`. XML is an enveloped
XMLDSig as NCALayer's `signXml` makes it (`signing.xmldsig`).

This is a general verifier: it checks the signature, not qujat's protocol rules (there is no
expected IIN), but the sign-vs-authentication key usage is still reported (`auth_key`).

`intact` is the mathematics alone: the digest of the signed bytes and the signature value.
`result` adds the certificate path, its validity at the chosen moment, key usage and
revocation. The moment is `At.now()`, a fixed instant, or each signature's own signing time
(`At.signing_time()`; a signature without one is judged now).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from asn1crypto import cms, core, pem
from asn1crypto import x509 as asn1_x509

from signing.errors import Failure, FailureCode, Lang
from signing.identity import SignerIdentity, distinguished_name
from signing.trust import DEFAULT_REVOCATION, RevocationPolicy, TrustAnchors
from signing.verify import (
    MAX_SIGNATURE_SIZE,
    MAX_SIGNERS,
    SignatureReport,
    Status,
    decode_base64_signature,
    verify_cms_signers,
)

Format = Literal["cms", "xml"]

# Kazakh GOST (НУЦ РК) signature and digest OIDs, and the names this report gives them.
GOST_ALGORITHMS: dict[str, str] = {
    "1.2.398.3.10.1.1.2.3.2": "gost2015-512",
    "1.2.398.3.10.1.1.2.3.1": "gost2015-256",
    "1.2.398.3.10.1.1.1.2": "gost2004",
    "1.2.398.3.10.1.1.1.1": "gost2004",
}
GOST_DIGESTS: dict[str, str] = {
    "1.2.398.3.10.1.3.3": "gost2015-512",
    "1.2.398.3.10.1.3.2": "gost2015-256",
    "1.2.398.3.10.1.3.1": "gost2004",
}


class AtKind(enum.Enum):
    NOW = "now"
    SIGNING_TIME = "signing-time"
    INSTANT = "instant"


@dataclass(frozen=True)
class At:
    """When to judge the certificates: now, at a fixed instant, or at each signing time."""

    kind: AtKind
    instant: datetime | None = None

    @classmethod
    def now(cls) -> At:
        return cls(AtKind.NOW)

    @classmethod
    def signing_time(cls) -> At:
        return cls(AtKind.SIGNING_TIME)

    @classmethod
    def moment(cls, instant: datetime) -> At:
        if instant.utcoffset() is None:
            raise ValueError("the instant must be timezone-aware")
        return cls(AtKind.INSTANT, instant)

    @classmethod
    def parse(cls, text: str) -> At:
        """`now`, `signing-time`, or an ISO-8601 date or date-time (without an offset: UTC)."""
        if text == "now":
            return cls.now()
        if text == "signing-time":
            return cls.signing_time()
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(
                f"{text!r} is not now, signing-time or an ISO-8601 date or date-time"
            ) from None
        if parsed.utcoffset() is None:
            parsed = parsed.replace(tzinfo=UTC)
        return cls.moment(parsed)

    def resolve(self, clock_now: datetime, signing_time: datetime | None) -> datetime:
        if self.kind is AtKind.INSTANT and self.instant is not None:
            return self.instant
        if self.kind is AtKind.SIGNING_TIME and signing_time is not None:
            return signing_time
        return clock_now


@dataclass(frozen=True)
class SignerResult:
    """One signature of a file: what the mathematics says (`intact`) and the verdict."""

    intact: bool
    status: Status
    failures: tuple[Failure, ...]
    algorithm: str
    signer: SignerIdentity | None
    signing_time: datetime | None
    judged_at: datetime
    subject: str | None = None
    signed: str | None = None
    """XML only: what the signature covers (`document` or `#id`)."""
    signed_xml: bytes | None = None
    """XML only: the canonical bytes that were digested; use these, not the parsed file."""

    @property
    def codes(self) -> tuple[FailureCode, ...]:
        return tuple(f.code for f in self.failures)

    def messages(self, lang: Lang = "en") -> list[str]:
        return [f.message(lang) for f in self.failures]

    def to_json(self) -> dict[str, Any]:
        identity = self.signer
        certificate = None
        if identity is not None:
            certificate = {
                "serial": identity.serial_hex,
                "issuer": identity.issuer,
                "not_before": identity.not_before.isoformat(),
                "not_after": identity.not_after.isoformat(),
            }
        found: dict[str, Any] = {
            "intact": self.intact,
            "result": self.status.value,
            "codes": [code.value for code in self.codes],
            "algorithm": self.algorithm,
            "iin": identity.iin if identity else None,
            "bin": identity.bin if identity else None,
            "subject": self.subject,
            "signing_time": self.signing_time.isoformat() if self.signing_time else None,
            "judged_at": self.judged_at.isoformat(),
            "certificate": certificate,
        }
        if self.signed is not None:
            found["signed"] = self.signed
        return found


@dataclass(frozen=True)
class AnyReport:
    """Every signature of one file. `failures` concern the file itself (unreadable, too
    large, no signature at all); then there are no `signers`."""

    format: Format
    signers: tuple[SignerResult, ...]
    failures: tuple[Failure, ...] = ()

    @property
    def status(self) -> Status:
        return combined_status([*self.failures], [s.status for s in self.signers])

    @property
    def ok(self) -> bool:
        return self.status is Status.VALID

    def to_json(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "result": self.status.value,
            "codes": [f.code.value for f in self.failures],
            "signers": [s.to_json() for s in self.signers],
        }


def combined_status(failures: list[Failure], statuses: list[Status]) -> Status:
    if failures:
        return status_of(tuple(failures))
    if not statuses or Status.INVALID in statuses:
        return Status.INVALID
    if Status.INDETERMINATE in statuses:
        return Status.INDETERMINATE
    return Status.VALID


def status_of(failures: tuple[Failure, ...]) -> Status:
    if not failures:
        return Status.VALID
    if all(f.code.indeterminate for f in failures):
        return Status.INDETERMINATE
    return Status.INVALID


def looks_like_xml(data: bytes) -> bool:
    """True when the first thing in `data` (after a BOM and white space) is markup."""
    return data.lstrip(b"\xef\xbb\xbf").lstrip().startswith(b"<")


def verify_any(
    data: bytes,
    content: bytes | None = None,
    *,
    trust: TrustAnchors,
    at: At | None = None,
    revocation: RevocationPolicy = DEFAULT_REVOCATION,
    clock: Callable[[], datetime] | None = None,
    max_size: int = MAX_SIGNATURE_SIZE,
) -> AnyReport:
    """Verify every signature in `data`, a CMS (DER, PEM, base64) or a signed XML document.

    `content` is the signed document of a detached CMS (for XML it is not used: the
    signature is inside the document). `clock` gives "now" (tests pass their own).
    """
    now = (clock or _utc_now)()
    when = at or At.now()
    if looks_like_xml(data):
        from signing.xmldsig import verify_xml

        return verify_xml(data, trust=trust, at=when, revocation=revocation, now=now)
    return verify_any_cms(
        data, content, trust=trust, at=when, revocation=revocation, now=now, max_size=max_size
    )


def decode_cms(data: bytes, max_size: int = MAX_SIGNATURE_SIZE) -> bytes | Failure:
    """DER as it is; PEM (any `-----BEGIN …-----` label) or base64 text decoded."""
    if len(data) > max_size * 2 + 1024:
        return Failure(FailureCode.TOO_LARGE, f"{len(data)} bytes")
    stripped = data.strip()
    if stripped.startswith(b"-----BEGIN"):
        try:
            _, _, der = pem.unarmor(stripped)
        except ValueError as exc:
            return Failure(FailureCode.MALFORMED, f"PEM: {exc}")
        return der if isinstance(der, bytes) else Failure(FailureCode.MALFORMED, "PEM")
    if stripped[:1] == b"\x30" and _is_der(data):
        return data
    try:
        return decode_base64_signature(data, max_size=max_size)
    except ValueError as exc:
        return Failure(FailureCode.MALFORMED, f"neither DER, PEM nor base64: {exc}")


def _is_der(data: bytes) -> bool:
    try:
        core.Asn1Value.load(data, strict=True)
    except Exception:  # any damage means "not DER"; base64 is tried next
        return False
    return True


def verify_any_cms(
    data: bytes,
    content: bytes | None,
    *,
    trust: TrustAnchors,
    at: At,
    revocation: RevocationPolicy,
    now: datetime,
    max_size: int = MAX_SIGNATURE_SIZE,
    max_signers: int = MAX_SIGNERS,
) -> AnyReport:
    der = decode_cms(data, max_size)
    if isinstance(der, Failure):
        return AnyReport("cms", (), (der,))
    infos = _signer_infos(der)
    if isinstance(infos, Failure):
        return AnyReport("cms", (), (infos,))
    econtent, signer_infos = infos
    detached = econtent is None
    document = econtent if content is None else content
    if document is None:
        document = b""

    def judge(moment: datetime) -> tuple[tuple[SignatureReport, ...], tuple[Failure, ...]]:
        found = verify_cms_signers(
            der,
            document,
            trust=trust,
            now=moment,
            revocation=revocation,
            max_size=max_size,
            max_signers=max_signers,
        )
        return found.signers, found.failures

    first_moment = at.resolve(now, None)
    reports, file_failures = judge(first_moment)
    if file_failures:
        return AnyReport("cms", (), file_failures)
    moments = [first_moment] * len(reports)
    if at.kind is AtKind.SIGNING_TIME:
        again: dict[datetime, tuple[SignatureReport, ...]] = {}
        chosen = []
        for index, report in enumerate(reports):
            moment = at.resolve(now, report.signing_time)
            moments[index] = moment
            if moment != first_moment:
                if moment not in again:
                    again[moment] = judge(moment)[0]
                report = again[moment][index]
            chosen.append(report)
        reports = tuple(chosen)

    signers = []
    for report, signer_info, moment in zip(reports, signer_infos, moments, strict=True):
        failures = report.failures
        intact = report.intact and report.valid
        if detached and content is None:
            # nothing to hash: only the signature value over the signed attributes is known
            failures = (
                Failure(FailureCode.NO_CONTENT),
                *tuple(f for f in failures if f.code is not FailureCode.DIGEST_MISMATCH),
            )
            intact = False
        signers.append(
            SignerResult(
                intact=intact,
                status=status_of(failures),
                failures=failures,
                algorithm=cms_algorithm(signer_info),
                signer=report.signer,
                signing_time=report.signing_time,
                judged_at=moment,
                subject=subject_of(report.signer),
            )
        )
    return AnyReport("cms", tuple(signers))


def _signer_infos(der: bytes) -> tuple[bytes | None, list[cms.SignerInfo]] | Failure:
    try:
        info = cms.ContentInfo.load(der, strict=True)
        if info["content_type"].native != "signed_data":
            return Failure(FailureCode.MALFORMED, f"content type {info['content_type'].native}")
        signed_data = info["content"]
        field = signed_data["encap_content_info"]["content"]
        econtent = None if isinstance(field, core.Void) else field.native
        if econtent is not None and not isinstance(econtent, bytes):
            return Failure(FailureCode.MALFORMED, "encapsulated content is not an octet string")
        return econtent, list(signed_data["signer_infos"])
    except Exception as exc:  # whatever bytes arrive, the answer is a report
        return Failure(FailureCode.MALFORMED, f"{type(exc).__name__}: {exc}")


_DIGEST_NAMES = {
    "sha1": "sha1",
    "sha256": "sha256",
    "sha384": "sha384",
    "sha512": "sha512",
    "md5": "md5",
}


def cms_algorithm(signer_info: cms.SignerInfo) -> str:
    """A short name for a SignerInfo's algorithm: rsa-sha256, ecdsa-sha384, gost2015-512…"""
    try:
        signature = signer_info["signature_algorithm"]["algorithm"]
        digest = signer_info["digest_algorithm"]["algorithm"]
        if signature.dotted in GOST_ALGORITHMS:
            return GOST_ALGORITHMS[signature.dotted]
        if digest.dotted in GOST_DIGESTS:
            return GOST_DIGESTS[digest.dotted]
        digest_name = _DIGEST_NAMES.get(digest.native, digest.dotted)
        name: str = signature.native
        if name == "rsassa_pss":
            return f"rsa-pss-{digest_name}"
        if name == "rsassa_pkcs1v15" or name.endswith("_rsa"):
            return f"rsa-{digest_name}"
        if name.endswith("_ecdsa") or name == "ecdsa":
            return f"ecdsa-{digest_name}"
        return f"{name}-{digest_name}"
    except Exception:
        return "unknown"


def subject_of(identity: SignerIdentity | None) -> str | None:
    if identity is None:
        return None
    cert = asn1_x509.Certificate.load(identity.certificate)
    return distinguished_name(cert.subject)


def _utc_now() -> datetime:
    return datetime.now(UTC)
