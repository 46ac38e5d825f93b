"""A minimal GOST 34.10-2015 (512-bit) test PKI built with asn1crypto and signing.gost: NCA-shaped
certificates (IIN in serialNumber, sign key with emailProtection), CRLs and CAdES signatures
laid out as Kalkan lays them out (tests/signing/test_gost_nca.py proves that layout on NCA's own
material). For tests only; the CA keys are fixed numbers, never secrets.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from asn1crypto import algos, cms, core, keys
from asn1crypto import crl as asn1_crl
from asn1crypto import x509 as asn1_x509

from signing import gost

CURVE = gost.KZ_512_A
CURVE_256 = gost.TC26_256_A


def _oids(curve: gost.GostCurve) -> tuple[str, str]:
    """(signature OID, digest OID) for a curve's size."""
    if curve.size == 64:
        return gost.KZ_GOST2015_512_SIGNATURE, gost.KZ_GOST2015_512_DIGEST
    return gost.KZ_GOST2015_256_SIGNATURE, gost.KZ_GOST2015_256_DIGEST


def _digest(curve: gost.GostCurve, data: bytes) -> bytes:
    return gost.streebog512(data) if curve.size == 64 else gost.streebog256(data)


def spki(point: tuple[int, int], curve: gost.GostCurve = CURVE) -> keys.PublicKeyInfo:
    parameters = gost.GostKeyParameters(
        {"public_key_param_set": curve.oid, "digest_param_set": _oids(curve)[1]}
    )
    info = core.Sequence(
        contents=(
            core.Sequence(
                contents=core.ObjectIdentifier(gost.KZ_GOST2015_KEY).dump() + parameters.dump()
            ).dump()
            + core.OctetBitString(gost.encode_public_key(curve, point)).dump()
        )
    )
    return keys.PublicKeyInfo.load(info.dump())


def sign_bytes(d: int, data: bytes, curve: gost.GostCurve = CURVE) -> bytes:
    r, s = gost.sign_digest(curve, d, _digest(curve, data))
    return gost.encode_signature(curve, r, s)


def _algorithm(curve: gost.GostCurve = CURVE) -> algos.SignedDigestAlgorithm:
    return algos.SignedDigestAlgorithm({"algorithm": _oids(curve)[0]})


def _name(common_name: str, iin: str | None = None) -> asn1_x509.Name:
    attributes: dict[str, str] = {"country_name": "KZ", "common_name": common_name}
    if iin is not None:
        attributes["serial_number"] = f"IIN{iin}"
    return asn1_x509.Name.build(attributes, use_printable=False)


@dataclass
class GostCA:
    """A GOST certification authority (root or intermediate) with its private key `d`."""

    certificate: asn1_x509.Certificate
    d: int
    revoked: list[tuple[int, datetime]] = field(default_factory=list)
    curve: gost.GostCurve = CURVE

    @property
    def der(self) -> bytes:
        dumped: bytes = self.certificate.dump()
        return dumped

    def crl(self, this_update: datetime, next_update: datetime, number: int = 1) -> bytes:
        entries = [
            {"user_certificate": serial, "revocation_date": asn1_x509.Time({"utc_time": when})}
            for serial, when in self.revoked
        ]
        tbs = asn1_crl.TbsCertList(
            {
                "version": "v2",
                "signature": _algorithm(self.curve),
                "issuer": self.certificate.subject,
                "this_update": asn1_x509.Time({"utc_time": this_update}),
                "next_update": asn1_x509.Time({"utc_time": next_update}),
                "revoked_certificates": entries or None,
                "crl_extensions": [
                    {"extn_id": "crl_number", "critical": False, "extn_value": number},
                    {
                        "extn_id": "authority_key_identifier",
                        "critical": False,
                        "extn_value": {"key_identifier": self.certificate.key_identifier},
                    },
                ],
            }
        )
        signed = asn1_crl.CertificateList(
            {
                "tbs_cert_list": tbs,
                "signature_algorithm": _algorithm(self.curve),
                "signature": sign_bytes(self.d, tbs.dump(), self.curve),
            }
        )
        dumped: bytes = signed.dump()
        return dumped


@dataclass(frozen=True)
class GostCredential:
    certificate: asn1_x509.Certificate
    d: int
    curve: gost.GostCurve = CURVE


def issue(
    subject: asn1_x509.Name,
    d: int,
    *,
    issuer: GostCA | None,
    serial: int,
    not_before: datetime,
    not_after: datetime,
    ca: bool = False,
    auth: bool = False,
    curve: gost.GostCurve = CURVE,
) -> asn1_x509.Certificate:
    """A certificate for the key `d` on `curve` (self-signed when `issuer` is None), signed
    with the issuer's key on the issuer's curve."""
    point = gost.public_key(curve, d)
    key_info = spki(point, curve)
    key_id = hashlib.sha256(gost.encode_public_key(curve, point)).digest()[:20]
    signer_curve = curve if issuer is None else issuer.curve
    issuer_name = subject if issuer is None else issuer.certificate.subject
    issuer_key_id = key_id if issuer is None else issuer.certificate.key_identifier
    issuer_d = d if issuer is None else issuer.d
    extensions: list[dict[str, object]] = [
        {"extn_id": "key_identifier", "critical": False, "extn_value": key_id},
        {
            "extn_id": "authority_key_identifier",
            "critical": False,
            "extn_value": {"key_identifier": issuer_key_id},
        },
    ]
    if ca:
        extensions += [
            {"extn_id": "basic_constraints", "critical": True, "extn_value": {"ca": True}},
            {"extn_id": "key_usage", "critical": True, "extn_value": {"key_cert_sign", "crl_sign"}},
        ]
    else:
        usage = (
            {"digital_signature", "key_encipherment"}
            if auth
            else {
                "digital_signature",
                "non_repudiation",
            }
        )
        purposes = ["client_auth"] if auth else ["email_protection"]
        extensions += [
            {"extn_id": "key_usage", "critical": True, "extn_value": usage},
            {"extn_id": "extended_key_usage", "critical": False, "extn_value": purposes},
        ]
    tbs = asn1_x509.TbsCertificate(
        {
            "version": "v3",
            "serial_number": serial,
            "signature": _algorithm(signer_curve),
            "issuer": issuer_name,
            "validity": {
                "not_before": asn1_x509.Time({"utc_time": not_before}),
                "not_after": asn1_x509.Time({"utc_time": not_after}),
            },
            "subject": subject,
            "subject_public_key_info": key_info,
            "extensions": extensions,
        }
    )
    return asn1_x509.Certificate(
        {
            "tbs_certificate": tbs,
            "signature_algorithm": _algorithm(signer_curve),
            "signature_value": sign_bytes(issuer_d, tbs.dump(), signer_curve),
        }
    )


def _key(label: str, curve: gost.GostCurve = CURVE) -> int:
    """A fixed private key per label (test material only)."""
    return int.from_bytes(hashlib.sha512(label.encode()).digest(), "big") % (curve.q - 1) + 1


@dataclass
class GostPKI:
    """A GOST root, an intermediate CA under it, and people's sign/auth keys."""

    root: GostCA
    ca: GostCA
    now: datetime
    _serial: int = 1000

    @classmethod
    def create(cls, now: datetime, name: str = "GOST TEST") -> GostPKI:
        start, end = now - timedelta(days=365), now + timedelta(days=3650)
        root_d = _key(f"{name} root")
        root_cert = issue(
            _name(f"{name} ROOT"),
            root_d,
            issuer=None,
            serial=1,
            not_before=start,
            not_after=end,
            ca=True,
        )
        root = GostCA(root_cert, root_d)
        ca_d = _key(f"{name} ca")
        ca_cert = issue(
            _name(f"{name} CA"),
            ca_d,
            issuer=root,
            serial=2,
            not_before=start,
            not_after=end,
            ca=True,
        )
        return cls(root, GostCA(ca_cert, ca_d), now)

    def credential(
        self,
        iin: str,
        common_name: str,
        *,
        auth: bool = False,
        not_before: datetime | None = None,
        not_after: datetime | None = None,
        curve: gost.GostCurve = CURVE,
    ) -> GostCredential:
        """A person's certificate from the CA (512-bit key unless `curve` says otherwise)."""
        self._serial += 1
        d = _key(f"{iin} {common_name} {self._serial}", curve)
        cert = issue(
            _name(common_name, iin),
            d,
            issuer=self.ca,
            serial=self._serial,
            not_before=not_before or self.now - timedelta(days=30),
            not_after=not_after or self.now + timedelta(days=335),
            auth=auth,
            curve=curve,
        )
        return GostCredential(cert, d, curve)

    def revoke(self, credential: GostCredential, when: datetime) -> None:
        self.ca.revoked.append((credential.certificate.serial_number, when))

    def crls(self) -> list[bytes]:
        this, after = self.now - timedelta(hours=1), self.now + timedelta(days=7)
        return [self.root.crl(this, after), self.ca.crl(this, after)]


def sign_cms(
    content: bytes, credential: GostCredential, signing_time: datetime, *, attach: bool = False
) -> bytes:
    """A CAdES-BES detached (or attached) CMS as NCALayer makes it with a GOST-512 key."""
    cert = credential.certificate
    curve = credential.curve
    signature_oid, digest_oid = _oids(curve)
    attributes = [
        cms.CMSAttribute({"type": "content_type", "values": ["data"]}),
        cms.CMSAttribute(
            {"type": "signing_time", "values": [cms.Time({"utc_time": signing_time})]}
        ),
        cms.CMSAttribute({"type": "message_digest", "values": [_digest(curve, content)]}),
    ]
    signed_attrs = cms.CMSAttributes(sorted(attributes, key=lambda a: bytes(a.dump())))
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
            "digest_algorithm": algos.DigestAlgorithm({"algorithm": digest_oid}),
            "signed_attrs": signed_attrs,
            "signature_algorithm": algos.SignedDigestAlgorithm({"algorithm": signature_oid}),
            "signature": sign_bytes(credential.d, signed_attrs.dump(), curve),
        }
    )
    encap: dict[str, object] = {"content_type": "data"}
    if attach:
        encap["content"] = content
    signed_data = cms.SignedData(
        {
            "version": "v1",
            "digest_algorithms": [algos.DigestAlgorithm({"algorithm": digest_oid})],
            "encap_content_info": encap,
            "certificates": cms.CertificateSet([cert]),
            "signer_infos": [signer_info],
        }
    )
    dumped: bytes = cms.ContentInfo({"content_type": "signed_data", "content": signed_data}).dump()
    return dumped
