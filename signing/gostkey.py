"""A GOST 34.10-2015 private key as the national CA (НУЦ РК) stores it, able to sign.

`signing.gost` holds the curves, Streebog and the signature equations; this module holds the key
itself: generating one, reading and writing it as PKCS#8 the way NCA's PKCS#12 files carry it
(see `signing.pkcs12`), its SubjectPublicKeyInfo for a certificate, and signing bytes (Streebog
of the bytes, then the GOST signature, encoded as `signing.gost` encodes signature values).

NCA's PKCS#8 form, read from its test keys::

    PrivateKeyInfo ::= SEQUENCE {
        version 0,
        SEQUENCE { 1.2.398.3.10.1.1.2.2,                     -- GOST 34.10-2015
                   SEQUENCE { 1.2.398.3.10.1.1.2.2.1,        -- parameter set (TC26 512 A)
                              1.2.398.3.10.1.3.3 } },        -- Streebog-512
        OCTET STRING { OCTET STRING (64 bytes: d, little-endian) } }
"""

from __future__ import annotations

import contextlib
import secrets
from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar

from asn1crypto import core

from signing import gost

# key size in bytes → (digest OID, signature OID); the key algorithm is always NCA's
# 1.2.398.3.10.1.1.2.2, the parameter set names the curve (and so the size).
_PROFILES: dict[int, tuple[str, str]] = {
    64: (gost.KZ_GOST2015_512_DIGEST, gost.KZ_GOST2015_512_SIGNATURE),
    32: (gost.KZ_GOST2015_256_DIGEST, gost.KZ_GOST2015_256_SIGNATURE),
}
GOST_KEY_ALGORITHMS = frozenset({gost.KZ_GOST2015_KEY})
# GOST 34.310-2004 keys (NCA's ``GOSTKNCA_…`` files until 2024): refused with a clear message.
GOST2004_KEY_ARC = "1.2.398.3.10.1.1.1."


def is_gost_key_algorithm(oid: str) -> bool:
    """A Kazakh GOST key algorithm: 34.10-2015 (supported) or 34.310-2004 (refused)."""
    return oid in GOST_KEY_ALGORITHMS or oid.startswith(GOST2004_KEY_ARC)


def _curve_for(parameter_set: str) -> gost.GostCurve:
    curve = gost.CURVES.get(parameter_set)
    if curve is None or curve.size not in _PROFILES:
        raise ValueError(f"GOST parameter set {parameter_set}: not supported")
    return curve


class _Parameters(core.Sequence):  # type: ignore[misc]
    _fields: ClassVar[list[tuple[Any, ...]]] = [
        ("parameter_set", core.ObjectIdentifier),
        ("digest", core.ObjectIdentifier, {"optional": True}),
    ]


class _Algorithm(core.Sequence):  # type: ignore[misc]
    _fields: ClassVar[list[tuple[Any, ...]]] = [
        ("algorithm", core.ObjectIdentifier),
        ("parameters", _Parameters),
    ]


class _PrivateKeyInfo(core.Sequence):  # type: ignore[misc]
    _fields: ClassVar[list[tuple[Any, ...]]] = [
        ("version", core.Integer),
        ("private_key_algorithm", _Algorithm),
        ("private_key", core.OctetString),
        ("attributes", core.Any, {"implicit": 0, "optional": True}),
    ]


class _PublicKeyInfo(core.Sequence):  # type: ignore[misc]
    _fields: ClassVar[list[tuple[Any, ...]]] = [
        ("algorithm", _Algorithm),
        ("public_key", core.OctetBitString),
    ]


@dataclass(frozen=True)
class GostPrivateKey:
    """A GOST 34.10-2015 private key d on `curve` (512-bit parameter set A unless 256-bit)."""

    curve: gost.GostCurve
    d: int

    def __post_init__(self) -> None:
        if self.curve.size not in _PROFILES:
            raise ValueError(f"GOST key of {self.curve.size} bytes: 32 or 64 expected")
        if not 0 < self.d < self.curve.q:
            raise ValueError("GOST private key out of range")

    def __repr__(self) -> str:  # never the secret
        return f"GostPrivateKey({self.curve.name})"

    @classmethod
    def generate(cls, bits: int = 512) -> GostPrivateKey:
        """A fresh key: 512-bit on NCA's parameter set A (NCA's keys since 2024), or 256-bit on
        TC26 parameter set A (tests only: NCA's own OIDs for 256-bit keys are not known here)."""
        curve = {512: gost.KZ_512_A, 256: gost.TC26_256_A}.get(bits)
        if curve is None:
            raise ValueError(f"GOST key of {bits} bits: 256 or 512 expected")
        return cls(curve, secrets.randbelow(curve.q - 1) + 1)

    @classmethod
    def from_private_key_info(cls, der: bytes) -> GostPrivateKey:
        """Read NCA's PKCS#8 form (module docstring); `ValueError` naming what is wrong."""
        try:
            info = _PrivateKeyInfo.load(der)
            algorithm = info["private_key_algorithm"]["algorithm"].dotted
            parameter_set = info["private_key_algorithm"]["parameters"]["parameter_set"].dotted
            raw = info["private_key"].native
        except (ValueError, TypeError, KeyError) as error:
            raise ValueError(f"not a GOST private key: {error}") from None
        if algorithm.startswith(GOST2004_KEY_ARC):
            raise ValueError(
                f"a GOST 34.310-2004 key ({algorithm}): not supported, only GOST 34.10-2015"
            )
        if algorithm not in GOST_KEY_ALGORITHMS:
            raise ValueError(f"key algorithm {algorithm}: not a GOST 34.10-2015 key")
        curve = _curve_for(parameter_set)
        if raw[:1] == b"\x04":  # NCA: an OCTET STRING inside the OCTET STRING
            with contextlib.suppress(ValueError):
                raw = core.OctetString.load(raw).native
        elif raw[:1] == b"\x02":  # an INTEGER, as some tools write it
            try:
                return cls(curve, core.Integer.load(raw).native)
            except ValueError:
                pass
        if len(raw) != curve.size:
            raise ValueError(f"GOST private key of {len(raw)} bytes: {curve.size} expected")
        return cls(curve, int.from_bytes(raw, "little"))

    @property
    def bits(self) -> int:
        return 8 * self.curve.size

    @property
    def key_algorithm(self) -> str:
        return gost.KZ_GOST2015_KEY

    @property
    def parameter_set(self) -> str:
        return self.curve.oid

    @property
    def digest_algorithm(self) -> str:
        """The OID of the Streebog digest that goes with the key."""
        return _PROFILES[self.curve.size][0]

    @property
    def signature_algorithm(self) -> str:
        return _PROFILES[self.curve.size][1]

    def digest(self, data: bytes) -> bytes:
        """Streebog-512 (or -256 for a 256-bit key) of `data`."""
        return gost.streebog512(data) if self.curve.size == 64 else gost.streebog256(data)

    def public_point(self) -> tuple[int, int]:
        """Q = d·P (computed once: a scalar multiplication is the costly part)."""
        return self._public_point

    @cached_property
    def _public_point(self) -> tuple[int, int]:
        return gost.public_key(self.curve, self.d)

    def algorithm_identifier(self) -> bytes:
        """DER AlgorithmIdentifier of the key, as in its certificate and PKCS#8."""
        dumped: bytes = self._algorithm().dump()
        return dumped

    def public_key_info(self) -> bytes:
        """DER SubjectPublicKeyInfo for a certificate."""
        info = _PublicKeyInfo(
            {
                "algorithm": self._algorithm(),
                "public_key": gost.encode_public_key(self.curve, self.public_point()),
            }
        )
        dumped: bytes = info.dump()
        return dumped

    def private_key_info(self) -> bytes:
        """DER PrivateKeyInfo in NCA's form (module docstring)."""
        inner = core.OctetString(self.d.to_bytes(self.curve.size, "little")).dump()
        info = _PrivateKeyInfo(
            {"version": 0, "private_key_algorithm": self._algorithm(), "private_key": inner}
        )
        dumped: bytes = info.dump()
        return dumped

    def sign(self, data: bytes) -> bytes:
        """The signature value of `data`: its Streebog digest signed, encoded by `gost`."""
        return self.sign_digest(self.digest(data))

    def sign_digest(self, digest: bytes) -> bytes:
        r, s = gost.sign_digest(self.curve, self.d, digest)
        return gost.encode_signature(self.curve, r, s)

    def _algorithm(self) -> _Algorithm:
        return _Algorithm(
            {
                "algorithm": self.key_algorithm,
                "parameters": {
                    "parameter_set": self.parameter_set,
                    "digest": self.digest_algorithm,
                },
            }
        )


def public_point_of(certificate_der: bytes) -> tuple[gost.GostCurve, tuple[int, int]]:
    """The curve and public key point of a certificate with a GOST 34.10-2015 key."""
    from asn1crypto import x509 as asn1_x509

    tbs = asn1_x509.Certificate.load(certificate_der)["tbs_certificate"]
    info = _PublicKeyInfo.load(tbs["subject_public_key_info"].dump())
    algorithm = info["algorithm"]["algorithm"].dotted
    if algorithm not in GOST_KEY_ALGORITHMS:
        raise ValueError(f"key algorithm {algorithm}: not a GOST 34.10-2015 key")
    curve = _curve_for(info["algorithm"]["parameters"]["parameter_set"].dotted)
    return curve, gost.decode_public_key(curve, bytes(info["public_key"].native))
