"""What an attacker (or a broken client) does to a CMS signature, built with asn1crypto."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime

from asn1crypto import algos, cms, core, keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from signing.client import Credential
from signing.pki import CertificateAuthority


def asn1_certificate(certificate: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))


def edit(cms_der: bytes, change: Callable[[cms.SignedData], None]) -> bytes:
    """Parse, let `change` modify the SignedData in place, re-encode."""
    info = cms.ContentInfo.load(cms_der)
    change(info["content"])
    dumped: bytes = info.dump(force=True)
    return dumped


def without_certificates(cms_der: bytes) -> bytes:
    def change(signed_data: cms.SignedData) -> None:
        del signed_data["certificates"]

    return edit(cms_der, change)


def with_certificates(cms_der: bytes, certificates: list[x509.Certificate]) -> bytes:
    def change(signed_data: cms.SignedData) -> None:
        signed_data["certificates"] = cms.CertificateSet(
            [asn1_certificate(c) for c in certificates]
        )

    return edit(cms_der, change)


def with_sid_of(cms_der: bytes, certificate: x509.Certificate) -> bytes:
    """Point the signer identifier at another certificate."""
    cert = asn1_certificate(certificate)

    def change(signed_data: cms.SignedData) -> None:
        signed_data["signer_infos"][0]["sid"] = cms.SignerIdentifier(
            {
                "issuer_and_serial_number": {
                    "issuer": cert.issuer,
                    "serial_number": cert.serial_number,
                }
            }
        )

    return edit(cms_der, change)


def with_signing_time(cms_der: bytes, when: datetime) -> bytes:
    """Change the signingTime attribute and keep the old signature value."""

    def change(signed_data: cms.SignedData) -> None:
        signer_info = signed_data["signer_infos"][0]
        attributes = [
            cms.CMSAttribute({"type": "signing_time", "values": [cms.Time({"utc_time": when})]})
            if attribute["type"].native == "signing_time"
            else attribute
            for attribute in signer_info["signed_attrs"]
        ]
        signer_info["signed_attrs"] = cms.CMSAttributes(attributes)

    return edit(cms_der, change)


def with_algorithms(cms_der: bytes, digest_oid: str, signature_oid: str) -> bytes:
    def change(signed_data: cms.SignedData) -> None:
        signer_info = signed_data["signer_infos"][0]
        signer_info["digest_algorithm"] = algos.DigestAlgorithm({"algorithm": digest_oid})
        signer_info["signature_algorithm"] = algos.SignedDigestAlgorithm(
            {"algorithm": signature_oid}
        )
        signed_data["digest_algorithms"] = [algos.DigestAlgorithm({"algorithm": digest_oid})]

    return edit(cms_der, change)


def without_signed_attributes(content: bytes, credential: Credential) -> bytes:
    """A CMS whose RSA signature covers the content directly (no signed attributes)."""
    cert = asn1_certificate(credential.certificate)
    key = credential.private_key
    assert isinstance(key, rsa.RSAPrivateKey)
    signature = key.sign(content, padding.PKCS1v15(), hashes.SHA256())
    signer_info = cms.SignerInfo(
        {
            "version": "v1",
            "sid": {
                "issuer_and_serial_number": {
                    "issuer": cert.issuer,
                    "serial_number": cert.serial_number,
                }
            },
            "digest_algorithm": {"algorithm": "sha256"},
            "signature_algorithm": {"algorithm": "sha256_rsa"},
            "signature": signature,
        }
    )
    return _signed_data([signer_info], [cert])


def gost_certificate(
    template: x509.Certificate, ca: CertificateAuthority, key_oid: str
) -> x509.Certificate:
    """`template` with a GOST public key in place of its RSA key, re-signed by `ca` (RSA)."""
    cert = asn1_certificate(template)
    tbs = cert["tbs_certificate"]
    tbs["subject_public_key_info"] = keys.PublicKeyInfo(
        {
            "algorithm": {"algorithm": key_oid, "parameters": core.ObjectIdentifier(key_oid)},
            "public_key": core.OctetString(os.urandom(64)).dump(),
        }
    )
    tbs_der = tbs.dump(force=True)
    assert isinstance(ca.private_key, rsa.RSAPrivateKey)
    signature = ca.private_key.sign(tbs_der, padding.PKCS1v15(), hashes.SHA256())
    certificate = asn1_x509.Certificate(
        {
            "tbs_certificate": asn1_x509.TbsCertificate.load(tbs_der),
            "signature_algorithm": {"algorithm": "sha256_rsa"},
            "signature_value": signature,
        }
    )
    return x509.load_der_x509_certificate(certificate.dump())


def gost_signature(
    content_digest: bytes,
    certificate: x509.Certificate,
    digest_oid: str,
    signature_oid: str,
) -> bytes:
    """A CMS as NCALayer makes it with a GOST key (the signature value is random bytes)."""
    cert = asn1_certificate(certificate)
    signed_attrs = cms.CMSAttributes(
        [
            cms.CMSAttribute({"type": "content_type", "values": ["data"]}),
            cms.CMSAttribute({"type": "message_digest", "values": [content_digest]}),
        ]
    )
    signer_info = cms.SignerInfo(
        {
            "version": "v1",
            "sid": {
                "issuer_and_serial_number": {
                    "issuer": cert.issuer,
                    "serial_number": cert.serial_number,
                }
            },
            "digest_algorithm": {"algorithm": digest_oid},
            "signed_attrs": signed_attrs,
            "signature_algorithm": {"algorithm": signature_oid},
            "signature": os.urandom(64),
        }
    )
    return _signed_data([signer_info], [cert], digest_oid)


def _signed_data(
    signer_infos: list[cms.SignerInfo],
    certificates: list[asn1_x509.Certificate],
    digest_oid: str = "sha256",
) -> bytes:
    signed_data = cms.SignedData(
        {
            "version": "v1",
            "digest_algorithms": [{"algorithm": digest_oid}],
            "encap_content_info": {"content_type": "data"},
            "certificates": certificates,
            "signer_infos": signer_infos,
        }
    )
    dumped: bytes = cms.ContentInfo({"content_type": "signed_data", "content": signed_data}).dump()
    return dumped
