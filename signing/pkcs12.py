"""PKCS#12 files as the national CA of Kazakhstan (НУЦ РК) issues them, GOST keys included.

NCA's key files (``GOST512_<key id>.p12``, and the older ``RSA256_…``/``AUTH_RSA256_…``) are
PKCS#12 of the legacy kind (RFC 7292), checked on NCA's own published test keys:

- the private key in a pkcs8ShroudedKeyBag, encrypted with pbeWithSHAAnd3-KeyTripleDES-CBC;
- the certificates in an encryptedData SafeContents, encrypted with pbeWithSHAAnd40BitRC2-CBC;
- both with the PKCS#12 key derivation (RFC 7292 appendix B, SHA-1, 1024 iterations, 20-byte
  salts), and an HMAC-SHA-1 over the whole, keyed by the same derivation;
- a GOST 34.10-2015 key as a PrivateKeyInfo with the algorithm 1.2.398.3.10.1.1.2.2, the
  parameters SEQUENCE {parameter set 1.2.398.3.10.1.1.2.2.1, digest 1.2.398.3.10.1.3.3} and
  the private key d as an OCTET STRING holding an OCTET STRING of 64 bytes, little-endian;
- the bags carry localKeyId (the subject key identifier) and friendlyName (its hex).

OpenSSL and `cryptography` refuse such a file (they do not know the GOST key algorithm), so
this module decrypts it itself: `read_pkcs12` returns the decrypted PrivateKeyInfo and the
certificates as DER, whatever the key algorithm, and `write_pkcs12` writes a file of the same
shape. PBES2 (PBKDF2 with AES-CBC), which `cryptography` writes, is read as well.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from asn1crypto import algos, cms, core, keys, pkcs12
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from signing import rc2

NCA_ITERATIONS = 1024
_SALT_SIZE = 20
_KDF_KEY, _KDF_IV, _KDF_MAC = 1, 2, 3
_MAX_ITERATIONS = 10_000_000  # a hostile file must not make us hash for hours


class Pkcs12Error(ValueError):
    """The file cannot be read: not PKCS#12, a wrong password, or an unsupported part."""


@dataclass(frozen=True)
class Pkcs12Contents:
    """What a PKCS#12 file holds: one private key and its certificate, plus CA certificates."""

    private_key_info: bytes  # DER PrivateKeyInfo (PKCS#8), decrypted
    certificate: bytes  # DER of the key's certificate
    chain: tuple[bytes, ...] = ()
    friendly_name: str | None = None
    local_key_id: bytes | None = None

    @property
    def key_algorithm(self) -> str:
        """The dotted OID of the private key's algorithm."""
        return private_key_algorithm(self.private_key_info)


def private_key_algorithm(private_key_info: bytes) -> str:
    """The dotted OID of a DER PrivateKeyInfo's algorithm, without parsing the key itself."""
    try:
        info = core.Sequence.load(private_key_info)
        algorithm = core.Sequence.load(info[1].dump())
        oid: str = core.ObjectIdentifier.load(algorithm[0].dump()).dotted
    except (ValueError, TypeError, IndexError) as error:
        raise Pkcs12Error(f"the private key is not a PKCS#8 PrivateKeyInfo: {error}") from None
    return oid


def read_pkcs12(data: bytes, password: bytes | str | None) -> Pkcs12Contents:
    """Decrypt a PKCS#12 file: its private key (any algorithm) and certificates.

    `Pkcs12Error` says what is wrong: not a PKCS#12 file, the password (the MAC does not match),
    an encryption this module does not know, no key or no certificate.
    """
    secret = _password_bytes(password)
    try:
        pfx = pkcs12.Pfx.load(data)
        if pfx["version"].native != "v3":
            raise Pkcs12Error(f"PKCS#12 version {pfx['version'].native}: v3 expected")
        if pfx["auth_safe"]["content_type"].native != "data":
            raise Pkcs12Error("the PKCS#12 file is signed with a public key: not supported")
        auth_safe_bytes = pfx["auth_safe"]["content"].native
        if not isinstance(auth_safe_bytes, bytes):
            raise Pkcs12Error("the PKCS#12 file has no content")
        mac_data = pfx["mac_data"]
        if mac_data.native is not None:
            _check_mac(mac_data, auth_safe_bytes, secret)
        bags = _bags(pfx.authenticated_safe, secret)
    except Pkcs12Error:
        raise
    except (ValueError, TypeError, KeyError, IndexError) as error:
        raise Pkcs12Error(f"not a readable PKCS#12 file: {error}") from None
    return _assemble(bags)


def write_pkcs12(
    private_key_info: bytes,
    certificate: bytes,
    chain: tuple[bytes, ...] = (),
    *,
    password: bytes | str,
    friendly_name: str | None = None,
    local_key_id: bytes | None = None,
    iterations: int = NCA_ITERATIONS,
) -> bytes:
    """A PKCS#12 file shaped like NCA's: the key under 3DES, the certificates under RC2-40,
    HMAC-SHA-1, `iterations` rounds of the PKCS#12 derivation everywhere.

    `local_key_id` defaults to the certificate's subject key identifier (as NCA's files have
    it) and `friendly_name` to that identifier in hex.
    """
    secret = _password_bytes(password)
    if local_key_id is None:
        key_identifier = asn1_x509.Certificate.load(certificate).key_identifier
        local_key_id = key_identifier or hashlib.sha1(certificate).digest()  # noqa: S324
    if friendly_name is None:
        friendly_name = local_key_id.hex()
    attributes = pkcs12.Attributes(
        [
            {"type": "local_key_id", "values": [local_key_id]},
            {"type": "friendly_name", "values": [friendly_name]},
        ]
    )
    key_salt = secrets.token_bytes(_SALT_SIZE)
    key_algorithm = algos.EncryptionAlgorithm(
        {
            "algorithm": "pkcs12_sha1_tripledes_3key",
            "parameters": {"salt": key_salt, "iterations": iterations},
        }
    )
    shrouded = keys.EncryptedPrivateKeyInfo(
        {
            "encryption_algorithm": key_algorithm,
            "encrypted_data": _encrypt(key_algorithm, secret, private_key_info),
        }
    )
    key_bag = pkcs12.SafeBag(
        {
            "bag_id": "pkcs8_shrouded_key_bag",
            "bag_value": shrouded,
            "bag_attributes": attributes,
        }
    )
    cert_bags = [
        pkcs12.SafeBag(
            {
                "bag_id": "cert_bag",
                "bag_value": pkcs12.CertBag(
                    {"cert_id": "x509", "cert_value": core.ParsableOctetString(der)}
                ),
                "bag_attributes": attributes if der == certificate else pkcs12.Attributes([]),
            }
        )
        for der in (certificate, *chain)
    ]
    cert_salt = secrets.token_bytes(_SALT_SIZE)
    cert_algorithm = algos.EncryptionAlgorithm(
        {
            "algorithm": "pkcs12_sha1_rc2_40",
            "parameters": {"salt": cert_salt, "iterations": iterations},
        }
    )
    encrypted_certs = cms.EncryptedData(
        {
            "version": "v0",
            "encrypted_content_info": {
                "content_type": "data",
                "content_encryption_algorithm": cert_algorithm,
                "encrypted_content": _encrypt(
                    cert_algorithm, secret, pkcs12.SafeContents(cert_bags).dump()
                ),
            },
        }
    )
    auth_safe = pkcs12.AuthenticatedSafe(
        [
            {"content_type": "data", "content": pkcs12.SafeContents([key_bag]).dump()},
            {"content_type": "encrypted_data", "content": encrypted_certs},
        ]
    ).dump()
    mac_salt = secrets.token_bytes(_SALT_SIZE)
    mac_key = pkcs12_kdf("sha1", secret, mac_salt, iterations, _KDF_MAC, 20)
    pfx = pkcs12.Pfx(
        {
            "version": "v3",
            "auth_safe": {"content_type": "data", "content": auth_safe},
            "mac_data": {
                "mac": {
                    "digest_algorithm": {"algorithm": "sha1"},
                    "digest": hmac.new(mac_key, auth_safe, "sha1").digest(),
                },
                "mac_salt": mac_salt,
                "iterations": iterations,
            },
        }
    )
    dumped: bytes = pfx.dump()
    return dumped


def pkcs12_kdf(
    hash_name: str, password: bytes, salt: bytes, iterations: int, purpose: int, size: int
) -> bytes:
    """The PKCS#12 key derivation (RFC 7292, appendix B.2).

    `password` is already the BMPString (UTF-16BE with two zero bytes at the end; empty for no
    password); `purpose` is 1 for a key, 2 for an IV, 3 for a MAC key.
    """
    if not 1 <= iterations <= _MAX_ITERATIONS:
        raise Pkcs12Error(f"{iterations} iterations: 1 to {_MAX_ITERATIONS} expected")
    u = hashlib.new(hash_name).digest_size
    v = hashlib.new(hash_name).block_size
    hasher = getattr(hashlib, hash_name)
    diversifier = bytes([purpose]) * v
    block = _repeat(salt, v) + _repeat(password, v)
    buffer = bytearray(block)
    out = bytearray()
    while len(out) < size:
        a = hasher(diversifier + bytes(buffer)).digest()
        for _ in range(iterations - 1):
            a = hasher(a).digest()
        out += a
        b = int.from_bytes((a * (v // u + 1))[:v], "big")
        for start in range(0, len(buffer), v):
            chunk = int.from_bytes(buffer[start : start + v], "big")
            buffer[start : start + v] = ((chunk + b + 1) % (1 << (8 * v))).to_bytes(v, "big")
    return bytes(out[:size])


def _repeat(data: bytes, v: int) -> bytes:
    if not data:
        return b""
    length = v * ((len(data) + v - 1) // v)
    return (data * (length // len(data) + 1))[:length]


def _password_bytes(password: bytes | str | None) -> bytes:
    """The password as PKCS#12 wants it: a BMPString with its two zero bytes (RFC 7292 B.1)."""
    if password is None:
        return b""
    text = password.decode("utf-8") if isinstance(password, bytes) else password
    return text.encode("utf-16-be") + b"\x00\x00"


def _utf8_password(secret: bytes) -> bytes:
    """Back from the BMPString to UTF-8, which PBES2 (PBKDF2) uses."""
    return secret[:-2].decode("utf-16-be").encode("utf-8") if secret else b""


def _check_mac(mac_data: pkcs12.MacData, content: bytes, secret: bytes) -> None:
    digest_name = mac_data["mac"]["digest_algorithm"]["algorithm"].native
    if digest_name not in ("sha1", "sha224", "sha256", "sha384", "sha512"):
        raise Pkcs12Error(f"the PKCS#12 MAC uses {digest_name}: not supported")
    size = hashlib.new(digest_name).digest_size
    key = pkcs12_kdf(
        digest_name,
        secret,
        mac_data["mac_salt"].native,
        mac_data["iterations"].native,
        _KDF_MAC,
        size,
    )
    expected = hmac.new(key, content, digest_name).digest()
    if not hmac.compare_digest(expected, mac_data["mac"]["digest"].native):
        raise Pkcs12Error("wrong password: the PKCS#12 integrity check (MAC) does not match")


@dataclass(frozen=True)
class _Bag:
    kind: str  # "key" or "cert"
    der: bytes
    local_key_id: bytes | None
    friendly_name: str | None


def _bags(auth_safe: pkcs12.AuthenticatedSafe, secret: bytes) -> list[_Bag]:
    found: list[_Bag] = []
    for content_info in auth_safe:
        content_type = content_info["content_type"].native
        if content_type == "data":
            safe_contents = pkcs12.SafeContents.load(content_info["content"].native)
        elif content_type == "encrypted_data":
            info = content_info["content"]["encrypted_content_info"]
            plain = _decrypt(
                info["content_encryption_algorithm"], secret, info["encrypted_content"].native
            )
            safe_contents = pkcs12.SafeContents.load(plain)
        else:
            raise Pkcs12Error(f"PKCS#12 content of type {content_type}: not supported")
        found.extend(_read_safe_contents(safe_contents, secret))
    return found


def _read_safe_contents(safe_contents: pkcs12.SafeContents, secret: bytes) -> list[_Bag]:
    found: list[_Bag] = []
    for bag in safe_contents:
        bag_id = bag["bag_id"].native
        local_key_id: bytes | None = None
        friendly_name: str | None = None
        for attribute in bag["bag_attributes"]:
            kind = attribute["type"].native
            if kind == "local_key_id":
                local_key_id = attribute["values"][0].native
            elif kind == "friendly_name":
                friendly_name = attribute["values"][0].native
        if bag_id == "pkcs8_shrouded_key_bag":
            value = bag["bag_value"]
            der = _decrypt(value["encryption_algorithm"], secret, value["encrypted_data"].native)
            found.append(_Bag("key", der, local_key_id, friendly_name))
        elif bag_id == "key_bag":
            found.append(_Bag("key", bag["bag_value"].dump(), local_key_id, friendly_name))
        elif bag_id == "cert_bag":
            cert_bag = bag["bag_value"]
            if cert_bag["cert_id"].native != "x509":
                continue  # SDSI certificates: nothing to sign with
            der = bytes(cert_bag["cert_value"].contents)
            found.append(_Bag("cert", der, local_key_id, friendly_name))
        elif bag_id == "safe_contents":
            found.extend(_read_safe_contents(bag["bag_value"], secret))
        # CRL and secret bags are of no use for signing
    return found


def _assemble(bags: list[_Bag]) -> Pkcs12Contents:
    keys_found = [b for b in bags if b.kind == "key"]
    certs = [b for b in bags if b.kind == "cert"]
    if not keys_found:
        raise Pkcs12Error("the PKCS#12 file holds no private key")
    if len(keys_found) > 1:
        raise Pkcs12Error(f"the PKCS#12 file holds {len(keys_found)} private keys: one expected")
    if not certs:
        raise Pkcs12Error("the PKCS#12 file holds no certificate")
    key = keys_found[0]
    private_key_algorithm(key.der)  # a readable PrivateKeyInfo, or a clear error
    own = [c for c in certs if key.local_key_id is not None and c.local_key_id == key.local_key_id]
    if not own:
        own = [c for c in certs if not _is_ca(c.der)] or certs
    certificate = own[0]
    return Pkcs12Contents(
        private_key_info=key.der,
        certificate=certificate.der,
        chain=tuple(c.der for c in certs if c is not certificate),
        friendly_name=key.friendly_name or certificate.friendly_name,
        local_key_id=key.local_key_id,
    )


def _is_ca(der: bytes) -> bool:
    try:
        constraints = asn1_x509.Certificate.load(der).basic_constraints_value
    except (ValueError, TypeError, KeyError):
        return False
    return bool(constraints is not None and constraints["ca"].native)


def _decrypt(algorithm: algos.EncryptionAlgorithm, secret: bytes, data: bytes) -> bytes:
    name = algorithm["algorithm"].native
    if algorithm.kdf == "pkcs12_kdf":
        cipher_name, key_size = algorithm.encryption_cipher, algorithm.key_length
        salt, iterations = algorithm.kdf_salt, algorithm.kdf_iterations
        hash_name = algorithm.kdf_hmac
        key = pkcs12_kdf(hash_name, secret, salt, iterations, _KDF_KEY, key_size)
        iv = pkcs12_kdf(hash_name, secret, salt, iterations, _KDF_IV, 8)
        if cipher_name == "rc2":
            if len(data) % rc2.BLOCK_SIZE:
                raise Pkcs12Error(f"{name}: the encrypted data is not whole blocks")
            plain = rc2.decrypt_cbc(key, iv, data, 8 * key_size)
        elif cipher_name == "tripledes":
            plain = _cbc(TripleDES(key), iv, data)
        else:
            raise Pkcs12Error(f"PKCS#12 encryption {name}: not supported")
        return _unpad(plain, 8, name)
    if algorithm.kdf == "pbkdf2":
        if algorithm.encryption_cipher != "aes":
            raise Pkcs12Error(f"PBES2 with {algorithm.encryption_cipher}: not supported")
        iterations = algorithm.kdf_iterations
        if not 1 <= iterations <= _MAX_ITERATIONS:
            raise Pkcs12Error(f"{iterations} PBKDF2 iterations: too many")
        key = hashlib.pbkdf2_hmac(
            algorithm.kdf_hmac,
            _utf8_password(secret),
            algorithm.kdf_salt,
            iterations,
            algorithm.key_length,
        )
        plain = _cbc(algorithms.AES(key), algorithm.encryption_iv, data)
        return _unpad(plain, 16, "PBES2")
    raise Pkcs12Error(f"PKCS#12 encryption {name}: not supported")


def _encrypt(algorithm: algos.EncryptionAlgorithm, secret: bytes, data: bytes) -> bytes:
    salt, iterations = algorithm.kdf_salt, algorithm.kdf_iterations
    key = pkcs12_kdf("sha1", secret, salt, iterations, _KDF_KEY, algorithm.key_length)
    iv = pkcs12_kdf("sha1", secret, salt, iterations, _KDF_IV, 8)
    pad = 8 - len(data) % 8
    padded = data + bytes([pad]) * pad
    if algorithm.encryption_cipher == "rc2":
        return rc2.encrypt_cbc(key, iv, padded, 8 * algorithm.key_length)
    encryptor = Cipher(TripleDES(key), modes.CBC(iv)).encryptor()
    return encryptor.update(padded) + encryptor.finalize()


def _cbc(algorithm: TripleDES | algorithms.AES, iv: bytes, data: bytes) -> bytes:
    if len(data) % (algorithm.block_size // 8):
        raise Pkcs12Error("the encrypted data is not whole blocks")
    decryptor = Cipher(algorithm, modes.CBC(iv)).decryptor()
    return decryptor.update(data) + decryptor.finalize()


def _unpad(plain: bytes, block: int, name: str) -> bytes:
    pad = plain[-1] if plain else 0
    if not 1 <= pad <= block or plain[-pad:] != bytes([pad]) * pad:
        raise Pkcs12Error(f"{name}: wrong password or damaged file (bad padding)")
    return plain[:-pad]
