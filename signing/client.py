"""The signer's side: CAdES-BES CMS signatures as NCALayer makes them, for tests, demos and tools.

In production a commission member signs in the browser through NCALayer and the private key never
leaves their hands; this module produces the same structure from a PKCS#12 file: SignedData with
one SignerInfo (issuerAndSerialNumber), SHA-256, and the signed attributes contentType,
signingTime, messageDigest and signingCertificateV2 (ESS, RFC 5035). The content is left out
(detached, like ``createCAdESFromBase64(..., attach=false)``) unless `attach` is set.

A GOST 34.10-2015 key (NCA's ``GOST512_…`` files, read by `signing.pkcs12`) signs as Kalkan
does: digest algorithm Streebog-512 (1.2.398.3.10.1.3.3, NULL parameters), signature algorithm
1.2.398.3.10.1.1.2.3.2 (NULL parameters), messageDigest the Streebog-512 of the content, the
same four signed attributes, the ESS certificate hash SHA-256 (as NCALayer's CMS have it).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from asn1crypto import algos, cms, core, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs12

from signing import pkcs12 as nca_pkcs12
from signing.gostkey import GostPrivateKey, is_gost_key_algorithm

DigestName = Literal["sha1", "sha256", "sha384", "sha512"]
RsaPadding = Literal["pkcs1v15", "pss"]
SigningKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
AnyKey = SigningKey | GostPrivateKey

# The password NCA puts on its test keys.
TEST_PASSWORD = b"123456"

_HASHES: dict[DigestName, hashes.HashAlgorithm] = {
    "sha1": hashes.SHA1(),  # noqa: S303 (deliberately available: tests must see it refused)
    "sha256": hashes.SHA256(),
    "sha384": hashes.SHA384(),
    "sha512": hashes.SHA512(),
}


@dataclass(frozen=True)
class Credential:
    """A private key with its certificate (and the CA certificates that came with it)."""

    private_key: AnyKey
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...] = ()

    @classmethod
    def from_pkcs12(cls, data: bytes, password: bytes | None) -> Credential:
        """Read a PKCS#12 file: RSA and EC keys through `cryptography`, and what it cannot read
        (NCA's GOST keys, RC2-40 bags without OpenSSL's legacy provider) through
        `signing.pkcs12`. `ValueError` says what is wrong (the password, the key, the file)."""
        try:
            key, certificate, chain = pkcs12.load_key_and_certificates(data, password)
        except ValueError:
            return cls._from_nca_pkcs12(data, password)
        if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
            raise ValueError("the PKCS#12 file holds no RSA or EC private key")
        if certificate is None:
            raise ValueError("the PKCS#12 file holds no certificate")
        return cls(private_key=key, certificate=certificate, chain=tuple(chain))

    @classmethod
    def _from_nca_pkcs12(cls, data: bytes, password: bytes | None) -> Credential:
        contents = nca_pkcs12.read_pkcs12(data, password)
        algorithm = contents.key_algorithm
        certificate = x509.load_der_x509_certificate(contents.certificate)
        chain = tuple(x509.load_der_x509_certificate(c) for c in contents.chain)
        if is_gost_key_algorithm(algorithm):
            gost_key = GostPrivateKey.from_private_key_info(contents.private_key_info)
            return cls(private_key=gost_key, certificate=certificate, chain=chain)
        key = serialization.load_der_private_key(contents.private_key_info, None)
        if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
            raise ValueError(f"the PKCS#12 key ({algorithm}) is not RSA, EC or GOST")
        return cls(private_key=key, certificate=certificate, chain=chain)

    def to_pkcs12(self, password: bytes = TEST_PASSWORD, name: str | None = None) -> bytes:
        """A PKCS#12 file: a GOST key in NCA's own format (`signing.pkcs12`), RSA and EC keys
        as `cryptography` writes them (PBES2, AES-256, SHA-256)."""
        if isinstance(self.private_key, GostPrivateKey):
            return nca_pkcs12.write_pkcs12(
                self.private_key.private_key_info(),
                self.certificate.public_bytes(serialization.Encoding.DER),
                tuple(c.public_bytes(serialization.Encoding.DER) for c in self.chain),
                password=password,
                friendly_name=name,
            )
        encryption = (
            serialization.PrivateFormat.PKCS12.encryption_builder()
            .kdf_rounds(2048)
            .key_cert_algorithm(pkcs12.PBES.PBESv2SHA256AndAES256CBC)
            .hmac_hash(hashes.SHA256())
            .build(password)
        )
        return pkcs12.serialize_key_and_certificates(
            name.encode() if name else None,
            self.private_key,
            self.certificate,
            list(self.chain) or None,
            encryption,
        )


def sign_detached(
    content: bytes,
    p12: bytes,
    password: bytes | None,
    *,
    signing_time: datetime | None = None,
    attach: bool = False,
    digest_algorithm: DigestName = "sha256",
    rsa_padding: RsaPadding = "pkcs1v15",
    include_chain: bool = False,
) -> bytes:
    """Sign `content` with the key in a PKCS#12 file; return DER CMS SignedData."""
    return create_cms(
        content,
        Credential.from_pkcs12(p12, password),
        signing_time=signing_time,
        attach=attach,
        digest_algorithm=digest_algorithm,
        rsa_padding=rsa_padding,
        include_chain=include_chain,
    )


def create_cms(
    content: bytes,
    credential: Credential,
    *,
    signing_time: datetime | None = None,
    attach: bool = False,
    digest_algorithm: DigestName = "sha256",
    rsa_padding: RsaPadding = "pkcs1v15",
    include_chain: bool = False,
) -> bytes:
    """Sign `content` with `credential`; return DER CMS SignedData (detached unless `attach`).

    Like NCALayer, only the signer's certificate is included; `include_chain` adds the CA
    certificates that came with the credential.
    """
    when = signing_time or datetime.now(UTC)
    if when.utcoffset() is None:
        raise ValueError("signing_time must be timezone-aware")
    cert = asn1_x509.Certificate.load(
        credential.certificate.public_bytes(serialization.Encoding.DER)
    )
    key = credential.private_key
    if isinstance(key, GostPrivateKey):
        digest = algos.DigestAlgorithm(
            {"algorithm": key.digest_algorithm, "parameters": core.Null()}
        )
        signed_attrs = _signed_attributes(
            content, cert, when.astimezone(UTC), "sha256", key.digest(content)
        )
        signature_algorithm = algos.SignedDigestAlgorithm(
            {"algorithm": key.signature_algorithm, "parameters": core.Null()}
        )
        signature = key.sign(signed_attrs.dump())
    else:
        digest = algos.DigestAlgorithm({"algorithm": digest_algorithm})
        signed_attrs = _signed_attributes(content, cert, when.astimezone(UTC), digest_algorithm)
        signature_algorithm, signature = _sign(
            key, signed_attrs.dump(), digest_algorithm, rsa_padding
        )
    signer_info = cms.SignerInfo(
        {
            "version": "v1",
            "sid": cms.SignerIdentifier(
                {
                    "issuer_and_serial_number": cms.IssuerAndSerialNumber(
                        {"issuer": cert.issuer, "serial_number": cert.serial_number}
                    )
                }
            ),
            "digest_algorithm": digest,
            "signed_attrs": signed_attrs,
            "signature_algorithm": signature_algorithm,
            "signature": signature,
        }
    )
    chain = credential.chain if include_chain else ()
    certificates = [cert] + [
        asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER)) for c in chain
    ]
    encap: dict[str, object] = {"content_type": "data"}
    if attach:
        encap["content"] = content
    signed_data = cms.SignedData(
        {
            "version": "v1",
            "digest_algorithms": [digest],
            "encap_content_info": encap,
            "certificates": cms.CertificateSet(certificates),
            "signer_infos": [signer_info],
        }
    )
    dumped: bytes = cms.ContentInfo({"content_type": "signed_data", "content": signed_data}).dump()
    return dumped


def _signed_attributes(
    content: bytes,
    cert: asn1_x509.Certificate,
    when: datetime,
    digest: DigestName,
    message_digest: bytes | None = None,
) -> cms.CMSAttributes:
    """The four signed attributes; `digest` hashes the certificate for ESS and, unless
    `message_digest` is given (Streebog for a GOST key), the content."""
    if message_digest is None:
        message_digest = hashlib.new(digest, content).digest()
    ess_cert_id = tsp.ESSCertIDv2(
        {
            "hash_algorithm": algos.DigestAlgorithm({"algorithm": digest}),
            "cert_hash": hashlib.new(digest, cert.dump()).digest(),
            "issuer_serial": {
                "issuer": [asn1_x509.GeneralName({"directory_name": cert.issuer})],
                "serial_number": cert.serial_number,
            },
        }
    )
    attributes = [
        cms.CMSAttribute({"type": "content_type", "values": ["data"]}),
        cms.CMSAttribute({"type": "signing_time", "values": [cms.Time({"utc_time": when})]}),
        cms.CMSAttribute({"type": "message_digest", "values": [message_digest]}),
        cms.CMSAttribute(
            {
                "type": "signing_certificate_v2",
                "values": [tsp.SigningCertificateV2({"certs": [ess_cert_id]})],
            }
        ),
    ]
    # DER orders a SET OF by the encodings of its elements; verifiers such as OpenSSL re-encode
    # the attributes before checking the signature, so any other order would break it.
    return cms.CMSAttributes(sorted(attributes, key=lambda a: bytes(a.dump())))


def _sign(
    key: SigningKey, data: bytes, digest: DigestName, rsa_padding: RsaPadding
) -> tuple[algos.SignedDigestAlgorithm, bytes]:
    hash_algorithm = _HASHES[digest]
    if isinstance(key, ec.EllipticCurvePrivateKey):
        algorithm = algos.SignedDigestAlgorithm({"algorithm": f"{digest}_ecdsa"})
        return algorithm, key.sign(data, ec.ECDSA(hash_algorithm))
    if rsa_padding == "pss":
        salt_length = hash_algorithm.digest_size
        algorithm = algos.SignedDigestAlgorithm(
            {
                "algorithm": "rsassa_pss",
                "parameters": algos.RSASSAPSSParams(
                    {
                        "hash_algorithm": {"algorithm": digest},
                        "mask_gen_algorithm": {
                            "algorithm": "mgf1",
                            "parameters": {"algorithm": digest},
                        },
                        "salt_length": salt_length,
                    }
                ),
            }
        )
        pss = padding.PSS(mgf=padding.MGF1(hash_algorithm), salt_length=salt_length)
        return algorithm, key.sign(data, pss, hash_algorithm)
    algorithm = algos.SignedDigestAlgorithm({"algorithm": f"{digest}_rsa"})
    return algorithm, key.sign(data, padding.PKCS1v15(), hash_algorithm)
