"""Several members' signatures over one document merged into a single detached CMS file (.p7s).

Each commission member signs the same protocol separately through NCALayer; the archive keeps one
SignedData holding every SignerInfo, every certificate (deduplicated, plus CA certificates the
caller adds) and every digest algorithm, which ``openssl cms -verify`` checks in one go. Merging
does not verify anything: verify each signature first.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from asn1crypto import cms, core, pem
from asn1crypto import x509 as asn1_x509

_VERSIONS = {"v0": 0, "v1": 1, "v2": 2, "v3": 3, "v4": 4, "v5": 5}


def combine_signatures(
    cms_list: Sequence[bytes], *, extra_certificates: Iterable[bytes] = ()
) -> bytes:
    """Merge DER CMS SignedData signatures over the same content into one detached SignedData.

    `extra_certificates` (DER or PEM, e.g. the intermediate CA) are added so that a verifier
    needs only the root. Raises `ValueError` if an input is not SignedData or if the
    signatures are over different content.
    """
    if not cms_list:
        raise ValueError("no signatures to combine")
    content_type: str | None = None
    econtent: bytes | None = None
    version = 1
    digest_algorithms: dict[str, cms.DigestAlgorithm] = {}
    certificates: dict[bytes, cms.CertificateChoices] = {}
    crls: dict[bytes, cms.RevocationInfoChoice] = {}
    signer_infos: dict[bytes, cms.SignerInfo] = {}
    digests: dict[str, bytes] = {}

    for index, der in enumerate(cms_list):
        try:
            info = cms.ContentInfo.load(der, strict=True)
            if info["content_type"].native != "signed_data":
                raise ValueError("not SignedData")
            signed_data = info["content"]
            encap = signed_data["encap_content_info"]
            this_type = encap["content_type"].native
            if content_type not in (None, this_type):
                raise ValueError(f"content type {this_type} differs from {content_type}")
            content_type = this_type
            if not isinstance(encap["content"], core.Void):
                attached: bytes = encap["content"].native
                if econtent not in (None, attached):
                    raise ValueError("attached contents differ")
                econtent = attached
            version = max(version, _VERSIONS[signed_data["version"].native])
            for algorithm in signed_data["digest_algorithms"]:
                digest_algorithms.setdefault(algorithm["algorithm"].native, algorithm)
            for field, seen in (("certificates", certificates), ("crls", crls)):
                values = signed_data[field]
                for value in [] if isinstance(values, core.Void) else values:
                    seen.setdefault(value.dump(), value)
            for signer_info in signed_data["signer_infos"]:
                _check_same_digest(signer_info, digests)
                signer_infos.setdefault(signer_info.dump(), signer_info)
        except (ValueError, TypeError, KeyError) as exc:
            raise ValueError(f"signature #{index + 1} cannot be combined: {exc}") from exc

    for blob in extra_certificates:
        for der in (
            [d for _, _, d in pem.unarmor(blob, multiple=True)] if pem.detect(blob) else [blob]
        ):
            choice = cms.CertificateChoices({"certificate": asn1_x509.Certificate.load(der)})
            certificates.setdefault(choice.dump(), choice)

    fields: dict[str, object] = {
        "version": f"v{version}",
        "digest_algorithms": list(digest_algorithms.values()),
        "encap_content_info": {"content_type": content_type},
        "signer_infos": list(signer_infos.values()),
    }
    if certificates:
        fields["certificates"] = list(certificates.values())
    if crls:
        fields["crls"] = list(crls.values())
    combined = cms.ContentInfo({"content_type": "signed_data", "content": cms.SignedData(fields)})
    dumped: bytes = combined.dump()
    return dumped


def _check_same_digest(signer_info: cms.SignerInfo, digests: dict[str, bytes]) -> None:
    """Signers using the same hash must have signed the same message digest."""
    signed_attrs = signer_info["signed_attrs"]
    if isinstance(signed_attrs, core.Void):
        return
    algorithm: str = signer_info["digest_algorithm"]["algorithm"].native
    for attribute in signed_attrs:
        if attribute["type"].native == "message_digest":
            digest: bytes = attribute["values"][0].native
            if digests.setdefault(algorithm, digest) != digest:
                raise ValueError("the signatures are over different content")
