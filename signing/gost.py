"""GOST R 34.10-2012 / GOST 34.10-2015 signatures with Streebog (GOST R 34.11-2012) hashes.

The arithmetic is done by maintained libraries, not here: curve points by `fastecdsa` (compiled),
Streebog by OpenSSL's GOST provider (the Debian package ``libengine-gost-openssl``), loaded once
into OpenSSL's default library context so that `hashlib` offers ``md_gost12_256`` and
``md_gost12_512``. This module holds the parameter sets (keyed by their OIDs, Russian TC26 and
Kazakh), the signature equations of the standard (section 6), and the byte conventions that
turn digests, public keys and signature values into integers and back.

Byte conventions, as the National Certification Authority of Kazakhstan (Kalkan) writes them,
proven on real NCA material (tests/signing/data/nca/, docs/signatures.md "GOST"):

- digest → e: the Streebog digest as OpenSSL returns it, read as a little-endian integer
  (RFC 7091, 4491), e mod q, and 1 if that is 0;
- public key (the SubjectPublicKeyInfo BIT STRING content): a DER OCTET STRING holding
  x ‖ y, each little-endian in `size` bytes (as RFC 4491);
- signature value (CMS SignerInfo.signature and X.509/CRL/OCSP signatureValue alike):
  r ‖ s, each little-endian in `size` bytes. This is the byte reversal of RFC 4491's
  s ‖ r big-endian; the RFC layout does not verify on NCA data.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar

from asn1crypto import core, keys
from fastecdsa.rust import Curve, Point

PROVIDER_PACKAGE = "libengine-gost-openssl"

# Signature, digest and key algorithm OIDs.
KZ_GOST2015_512_SIGNATURE = "1.2.398.3.10.1.1.2.3.2"
KZ_GOST2015_256_SIGNATURE = "1.2.398.3.10.1.1.2.3.1"
KZ_GOST2015_512_DIGEST = "1.2.398.3.10.1.3.3"
KZ_GOST2015_256_DIGEST = "1.2.398.3.10.1.3.2"
KZ_GOST2015_KEY = "1.2.398.3.10.1.1.2.2"
# GOST 34.310-2004 with GOST 34.311-95 (keys 1.2.398.3.10.1.1.1.x): not implemented
KZ_GOST2004_ARC = "1.2.398.3.10.1.1.1."
TC26_SIGNATURE_256 = "1.2.643.7.1.1.3.2"
TC26_SIGNATURE_512 = "1.2.643.7.1.1.3.3"
TC26_DIGEST_256 = "1.2.643.7.1.1.2.2"
TC26_DIGEST_512 = "1.2.643.7.1.1.2.3"
TC26_KEY_256 = "1.2.643.7.1.1.1.1"
TC26_KEY_512 = "1.2.643.7.1.1.1.2"

# Kazakh GOST 34.10-2015 signature OID → (digest OID, digest name, key size in bytes). The
# Russian TC26 OIDs are named above but not verified: their signatures use the RFC 4491 layout,
# and no real material of theirs has been checked here.
SIGNATURE_ALGORITHMS: dict[str, tuple[str, str, int]] = {
    KZ_GOST2015_512_SIGNATURE: (KZ_GOST2015_512_DIGEST, "streebog512", 64),
    KZ_GOST2015_256_SIGNATURE: (KZ_GOST2015_256_DIGEST, "streebog256", 32),
}
DIGEST_ALGORITHMS: dict[str, str] = {
    KZ_GOST2015_512_DIGEST: "streebog512",
    KZ_GOST2015_256_DIGEST: "streebog256",
}
KEY_ALGORITHMS = frozenset({KZ_GOST2015_KEY})


class GostUnavailable(RuntimeError):
    """Streebog cannot be computed: OpenSSL's GOST provider is not installed."""


@dataclass(frozen=True)
class GostCurve:
    """A GOST R 34.10-2012 parameter set: y² = x³ + ax + b over GF(p), base point (x, y) of
    prime order q; `size` is the length in bytes of q (32 or 64)."""

    name: str
    oid: str
    p: int
    a: int
    b: int
    q: int
    x: int
    y: int
    size: int

    @cached_property
    def _curve(self) -> Curve:
        return Curve(self.name, self.p, self.a, self.b, self.q, self.x, self.y)

    def point(self, x: int, y: int) -> Point:
        """The point (x, y); `ValueError` if it is not on the curve or not in range."""
        if not (0 <= x < self.p and 0 <= y < self.p):
            raise ValueError(f"{self.name}: coordinate out of range")
        return Point(x, y, self._curve)

    @property
    def generator(self) -> Point:
        return self._curve.G


def _hex(*parts: str) -> int:
    return int("".join(parts), 16)


_TC26_512_A: dict[str, int] = {
    "p": (1 << 512) - 569,
    "a": (1 << 512) - 569 - 3,
    "b": _hex(
        "E8C2505DEDFC86DDC1BD0B2B6667F1DA34B82574761CB0E879BD081CFD0B6265",
        "EE3CB090F30D27614CB4574010DA90DD862EF9D4EBEE4761503190785A71C760",
    ),
    "q": _hex(
        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF",
        "27E69532F48D89116FF22B8D4E0560609B4B38ABFAD2B85DCACDB1411F10B275",
    ),
    "x": 3,
    "y": _hex(
        "7503CFE87A836AE3A61B8816E25450E6CE5E1C93ACF1ABC1778064FDCBEFA921",
        "DF1626BE4FD036E93D75E6A50E3A41E98028FE5FC235F5B889A589CB5215F2A4",
    ),
    "size": 64,
}
# RFC 7836 / R 1323565.1.024-2019, id-tc26-gost-3410-2012-256-paramSetA (a twisted Edwards
# curve, given here in its Weierstrass form).
_TC26_256_A: dict[str, int] = {
    "p": (1 << 256) - 617,
    "a": 0xC2173F1513981673AF4892C23035A27CE25E2013BF95AA33B22C656F277E7335,
    "b": 0x295F9BAE7428ED9CCC20E7C359A9D41A22FCCD9108E17BF7BA9337A6F8AE9513,
    "q": 0x400000000000000000000000000000000FD8CDDFC87B6635C115AF556C360C67,
    "x": 0x91E38443A5E82C0D880923425712B2BB658B9196932E02C78B2582FE742DAA28,
    "y": 0x32879423AB1A0375895786C4BB46E9565FDE0B5344766740AF268ADB32322E5C,
    "size": 32,
}
# GOST R 34.10-2012, appendix A.2: the standard's own 512-bit example (tests only).
_TEST_512: dict[str, int] = {
    "p": _hex(
        "4531ACD1FE0023C7550D267B6B2FEE80922B14B2FFB90F04D4EB7C09B5D2D15D",
        "F1D852741AF4704A0458047E80E4546D35B8336FAC224DD81664BBF528BE6373",
    ),
    "a": 7,
    "b": _hex(
        "1CFF0806A31116DA29D8CFA54E57EB748BC5F377E49400FDD788B649ECA1AC43",
        "61834013B2AD7322480A89CA58E0CF74BC9E540C2ADD6897FAD0A3084F302ADC",
    ),
    "q": _hex(
        "4531ACD1FE0023C7550D267B6B2FEE80922B14B2FFB90F04D4EB7C09B5D2D15D",
        "A82F2D7ECB1DBAC719905C5EECC423F1D86E25EDBE23C595D644AAF187E6E6DF",
    ),
    "x": _hex(
        "24D19CC64572EE30F396BF6EBBFD7A6C5213B3B3D7057CC825F91093A68CD762",
        "FD60611262CD838DC6B60AA7EEE804E28BC849977FAC33B4B530F1B120248A9A",
    ),
    "y": _hex(
        "2BB312A43BD2CE6E0D020613C857ACDDCFBF061E91E5F2C3F32447C259F39B2C",
        "83AB156D77F1496BF7EB3351E1EE4E43DC1A18B91B24640B6DBB92CB1ADD371E",
    ),
    "size": 64,
}


def _curve(name: str, oid: str, params: dict[str, int]) -> GostCurve:
    return GostCurve(name=name, oid=oid, **params)


TC26_512_A = _curve("id-tc26-gost-3410-12-512-paramSetA", "1.2.643.7.1.2.1.2.1", _TC26_512_A)
KZ_512_A = _curve("kz-gost-34.10-2015-512-paramSetA", "1.2.398.3.10.1.1.2.2.1", _TC26_512_A)
TC26_256_A = _curve("id-tc26-gost-3410-2012-256-paramSetA", "1.2.643.7.1.2.1.1.1", _TC26_256_A)
TEST_512 = _curve("id-tc26-gost-3410-12-512-paramSetTest", "1.2.643.7.1.2.1.2.0", _TEST_512)

CURVES: dict[str, GostCurve] = {c.oid: c for c in (TC26_512_A, KZ_512_A, TC26_256_A, TEST_512)}


# --- Streebog -----------------------------------------------------------------------------------

_provider_lock = threading.Lock()
_provider_state: list[bool] = []  # [True] once loaded, [False] once known missing


def _load_provider() -> bool:
    with _provider_lock:
        if not _provider_state:
            _provider_state.append(_try_load_provider())
        return _provider_state[0]


def _try_load_provider() -> bool:
    if _has_streebog():
        return True
    name = ctypes.util.find_library("crypto") or "libcrypto.so.3"
    try:
        lib = ctypes.CDLL(name)
        load = lib.OSSL_PROVIDER_load
    except (OSError, AttributeError):
        return False
    load.restype = ctypes.c_void_p
    load.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    if not load(None, b"gostprov"):
        return False
    # Loading any provider explicitly stops the implicit default one: load it too.
    load(None, b"default")
    return _has_streebog()


def _has_streebog() -> bool:
    try:
        hashlib.new("md_gost12_256", b"")
    except ValueError:
        return False
    return True


def streebog_available() -> bool:
    """True when OpenSSL's GOST provider could be loaded (Streebog hashes work)."""
    return _load_provider()


def _streebog(name: str, data: bytes) -> bytes:
    if not _load_provider():
        raise GostUnavailable(
            "Streebog (GOST R 34.11-2012) needs OpenSSL's GOST provider: "
            f"install the {PROVIDER_PACKAGE} package"
        )
    return hashlib.new(name, data).digest()


def streebog256(data: bytes) -> bytes:
    """GOST R 34.11-2012 256-bit digest, in the byte order OpenSSL returns (RFC 6986 vectors)."""
    return _streebog("md_gost12_256", data)


def streebog512(data: bytes) -> bytes:
    """GOST R 34.11-2012 512-bit digest, in the byte order OpenSSL returns (RFC 6986 vectors)."""
    return _streebog("md_gost12_512", data)


DIGESTERS: dict[str, Callable[[bytes], bytes]] = {
    "streebog256": streebog256,
    "streebog512": streebog512,
}


# --- the signature equations (GOST R 34.10-2012, section 6) --------------------------------------


def digest_to_int(curve: GostCurve, digest: bytes) -> int:
    """e: the digest as a little-endian integer mod q, 1 if that is 0."""
    e = int.from_bytes(digest, "little") % curve.q
    return e or 1


def public_key(curve: GostCurve, d: int) -> tuple[int, int]:
    """Q = d·P for the private key 0 < d < q."""
    if not 0 < d < curve.q:
        raise ValueError("private key out of range")
    point = d * curve.generator
    return point.x, point.y


def sign_digest(
    curve: GostCurve, d: int, digest: bytes, *, k: int | None = None
) -> tuple[int, int]:
    """(r, s) for `digest` with the private key `d`; `k` fixed only for test vectors."""
    if not 0 < d < curve.q:
        raise ValueError("private key out of range")
    return _sign_e(curve, d, digest_to_int(curve, digest), k)


def _sign_e(curve: GostCurve, d: int, e: int, k: int | None) -> tuple[int, int]:
    while True:
        nonce = k if k is not None else secrets.randbelow(curve.q - 1) + 1
        if not 0 < nonce < curve.q:
            raise ValueError("k out of range")
        r = (nonce * curve.generator).x % curve.q
        s = (r * d + nonce * e) % curve.q
        if r and s:
            return r, s
        if k is not None:
            raise ValueError("this k gives r = 0 or s = 0")


def verify_digest(curve: GostCurve, point: tuple[int, int], digest: bytes, r: int, s: int) -> bool:
    """True when (r, s) is a signature of `digest` by the public key `point`."""
    return _verify_e(curve, point, digest_to_int(curve, digest), r, s)


def _verify_e(curve: GostCurve, point: tuple[int, int], e: int, r: int, s: int) -> bool:
    """GOST R 34.10-2012, 6.2: with v = e⁻¹, z1 = s·v, z2 = −r·v (mod q), C = z1·P + z2·Q must
    have C.x ≡ r (mod q).

    The double multiplication is fastecdsa's ECDSA verification (compiled, about 2.5× faster
    than two point multiplications from Python): ECDSA computes w = s'⁻¹, u1 = z·w, u2 = r·w and
    compares (u1·P + u2·Q).x with r, so s' = −e and z = −s give u1 = s·e⁻¹ = z1 and
    u2 = −r·e⁻¹ = z2, the same point and the same comparison.
    """
    q = curve.q
    if not (0 < r < q and 0 < s < q and 0 < e < q):
        return False
    try:
        key = curve.point(*point)
    except ValueError:
        return False
    size = (q.bit_length() + 7) // 8

    def le(value: int) -> bytes:
        return value.to_bytes(size, "little")

    return bool(curve._curve.verify(le(r), le(-e % q), le(-s % q), le(key.x), le(key.y)))


def _verify_e_by_points(curve: GostCurve, point: tuple[int, int], e: int, r: int, s: int) -> bool:
    """The same check spelt out with point arithmetic (tests compare the two)."""
    q = curve.q
    if not (0 < r < q and 0 < s < q):
        return False
    try:
        key = curve.point(*point)
    except ValueError:
        return False
    v = pow(e, -1, q)
    c = (s * v % q) * curve.generator + (-r * v % q) * key
    if c.z == 0:  # the point at infinity
        return False
    return c.x % q == r


# --- encodings ----------------------------------------------------------------------------------


def encode_public_key(curve: GostCurve, point: tuple[int, int]) -> bytes:
    """The SubjectPublicKeyInfo BIT STRING content: DER OCTET STRING of x ‖ y, little-endian."""
    x, y = point
    raw = x.to_bytes(curve.size, "little") + y.to_bytes(curve.size, "little")
    return _der_octet_string(raw)


def decode_public_key(curve: GostCurve, data: bytes) -> tuple[int, int]:
    """Inverse of `encode_public_key`; `ValueError` naming what is wrong, or off the curve."""
    raw = _parse_der_octet_string(data)
    if len(raw) != 2 * curve.size:
        raise ValueError(f"GOST public key: {len(raw)} bytes, expected {2 * curve.size}")
    x = int.from_bytes(raw[: curve.size], "little")
    y = int.from_bytes(raw[curve.size :], "little")
    curve.point(x, y)  # raises ValueError off the curve
    return x, y


def encode_signature(curve: GostCurve, r: int, s: int) -> bytes:
    """The signature value as NCA writes it: r ‖ s, each little-endian in `size` bytes."""
    return r.to_bytes(curve.size, "little") + s.to_bytes(curve.size, "little")


def decode_signature(curve: GostCurve, data: bytes) -> tuple[int, int]:
    """(r, s) from a signature value as NCA writes it; `ValueError` if the length is wrong."""
    if len(data) != 2 * curve.size:
        raise ValueError(f"GOST signature: {len(data)} bytes, expected {2 * curve.size}")
    r = int.from_bytes(data[: curve.size], "little")
    s = int.from_bytes(data[curve.size :], "little")
    return r, s


def encode_signature_rfc4491(curve: GostCurve, r: int, s: int) -> bytes:
    """The RFC 4491 layout (s ‖ r, big-endian), for comparison: NCA does not use it."""
    return encode_signature(curve, r, s)[::-1]


def _der_octet_string(raw: bytes) -> bytes:
    n = len(raw)
    if n < 0x80:
        length = bytes([n])
    elif n < 0x100:
        length = bytes([0x81, n])
    else:
        length = bytes([0x82]) + n.to_bytes(2, "big")
    return b"\x04" + length + raw


def _parse_der_octet_string(data: bytes) -> bytes:
    if len(data) < 2 or data[0] != 0x04:
        raise ValueError("GOST public key: not an OCTET STRING")
    first = data[1]
    if first < 0x80:
        length, start = first, 2
    elif first in (0x81, 0x82):
        count = first - 0x80
        length, start = int.from_bytes(data[2 : 2 + count], "big"), 2 + count
    else:
        raise ValueError("GOST public key: bad OCTET STRING length")
    if start + length != len(data):
        raise ValueError("GOST public key: OCTET STRING length does not match")
    return data[start:]


# --- keys in certificates, signatures over DER structures ----------------------------------------


class GostKeyParameters(core.Sequence):  # type: ignore[misc]
    """GostR3410-2012-PublicKeyParameters (RFC 4491 / 9215) as NCA fills them."""

    _fields: ClassVar[list[tuple[Any, ...]]] = [
        ("public_key_param_set", core.ObjectIdentifier),
        ("digest_param_set", core.ObjectIdentifier, {"optional": True}),
        ("encryption_param_set", core.ObjectIdentifier, {"optional": True}),
    ]


class UnsupportedGost(ValueError):
    """A GOST key or algorithm this module does not implement; the message says which."""


def is_gost_oid(oid: str) -> bool:
    """An OID in a GOST arc: Kazakh (1.2.398.3.10.1), Russian CryptoPro or TC26."""
    return oid.startswith(GOST_ARCS)


GOST_ARCS = ("1.2.398.3.10.1.", "1.2.643.2.2.", "1.2.643.7.1.")


class _GostAlgorithm(core.Sequence):  # type: ignore[misc]
    _fields: ClassVar[list[tuple[Any, ...]]] = [
        ("algorithm", core.ObjectIdentifier),
        ("parameters", core.Any, {"optional": True}),
    ]


class _SubjectPublicKeyInfo(core.Sequence):  # type: ignore[misc]
    """SubjectPublicKeyInfo read without asn1crypto's key registry (which lacks GOST)."""

    _fields: ClassVar[list[tuple[Any, ...]]] = [
        ("algorithm", _GostAlgorithm),
        ("public_key", core.OctetBitString),
    ]


def spki_public_key(spki: keys.PublicKeyInfo | bytes) -> tuple[GostCurve, tuple[int, int]]:
    """The curve and point of a GOST 34.10-2015 SubjectPublicKeyInfo (object or DER).

    `UnsupportedGost` for other GOST keys (GOST 34.310-2004, unknown parameter sets), with a
    message naming the OID; `ValueError` for a damaged key or a point off the curve.
    """
    info = _SubjectPublicKeyInfo.load(spki if isinstance(spki, bytes) else spki.dump())
    algorithm = info["algorithm"]["algorithm"].dotted
    if algorithm.startswith(KZ_GOST2004_ARC):
        raise UnsupportedGost(
            f"GOST 34.310-2004 key ({algorithm}) is not supported: GOST 34.311-95 hashing is "
            "not implemented; only GOST 34.10-2015 keys are"
        )
    if algorithm not in KEY_ALGORITHMS:
        raise UnsupportedGost(f"GOST key algorithm {algorithm} is not supported")
    parameters = GostKeyParameters.load(info["algorithm"]["parameters"].dump())
    param_set = parameters["public_key_param_set"].dotted
    curve = CURVES.get(param_set)
    if curve is None:
        raise UnsupportedGost(f"GOST parameter set {param_set} is not supported")
    try:
        raw: bytes = info["public_key"].native
    except ValueError as exc:
        raise ValueError(f"GOST public key: {exc}") from exc
    return curve, decode_public_key(curve, raw)


def signature_digest(signature_oid: str) -> tuple[str, int]:
    """(digest name, key size in bytes) for a GOST signature algorithm OID;
    `UnsupportedGost` for any other GOST signature."""
    if signature_oid in SIGNATURE_ALGORITHMS:
        _, digest_name, size = SIGNATURE_ALGORITHMS[signature_oid]
        return digest_name, size
    raise UnsupportedGost(f"GOST signature algorithm {signature_oid} is not supported")


def verify_signed_data(
    signature_oid: str, signed_data: bytes, signature: bytes, spki: keys.PublicKeyInfo
) -> bool:
    """True when `signature` (NCA layout) over `signed_data` verifies with the key of `spki`,
    hashing with the Streebog that `signature_oid` names. Raises `UnsupportedGost` for
    algorithms or keys not implemented, `GostUnavailable` without Streebog."""
    digest_name, size = signature_digest(signature_oid)
    curve, point = spki_public_key(spki)
    if curve.size != size:
        return False
    digest = DIGESTERS[digest_name](signed_data)
    try:
        r, s = decode_signature(curve, signature)
    except ValueError:
        return False
    return verify_digest(curve, point, digest, r, s)
