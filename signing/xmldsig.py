"""Signed XML as NCALayer's `signXml` makes it: enveloped XMLDSig (and XAdES-B), RSA or GOST.

NCALayer (Kalkan) appends one `ds:Signature` per signer to the document element:
`Reference URI=""` (or `#id`), transforms enveloped-signature and inclusive c14n
(`…#WithComments`), the key's algorithm (`rsa-sha256`, or for GOST 34.10-2015
`urn:ietf:params:xml:ns:pkigovkz:xmlsec:algorithms:gostr34102015-gostr34112015-512` with the
digest `…:gostr34112015-512`), and the certificate in `KeyInfo/X509Data`. A second signer signs
the document that already holds the first signature, so signature N is checked over the
document without the signatures after it (as NCANode does).

Parsing is hardened: lxml with no entity resolution, no network, no DTD loading, no huge
trees, a size limit, and any DOCTYPE refused. Only the enveloped-signature transform and the
c14n canonicalisations (inclusive or exclusive, 1.0) are allowed; a Reference is `""` (the
whole document) or `#id`, resolved by an exact match of an `Id`, `ID` or `id` attribute, and
an id found on more than one element is refused. Comments are never signed by a same-document
reference (XMLDSig 4.3.3.3), so a `…#WithComments` transform still digests the document
without them. What a signature covers is handed back as the canonical bytes that were
digested (`SignerResult.signed_xml`): a caller must use those, never the file it parsed, so
that nothing outside the signed element (signature wrapping) and no text split by a comment
(the comment-truncation attacks) can pass for signed content. HMAC signature methods are
refused outright: a public certificate is never a MAC key (the signxml HMAC confusion of
CVE-2025-48995; with no HMAC there is no MAC comparison to time, CVE-2025-48994), and digest
values are compared in constant time.

Canonicalisation is lxml's (libxml2's C14N); the XMLDSig processing is ours because the
library that could do it (signxml) knows nothing of GOST and allows more than NCALayer needs.
"""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import hmac
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from asn1crypto import x509 as asn1_x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from lxml import etree  # type: ignore[import-untyped]

import signing.gost as gost
from signing.errors import Failure, FailureCode
from signing.inspect import AnyReport, At, SignerResult, status_of, subject_of
from signing.trust import DEFAULT_REVOCATION, RevocationPolicy, TrustAnchors
from signing.verify import _certificate_facts, _check_usage

MAX_XML_SIZE = 4 * 1024 * 1024
MAX_XML_SIGNATURES = 100
MAX_REFERENCES = 8
MAX_TRANSFORMS = 4

DS = "http://www.w3.org/2000/09/xmldsig#"
XADES = "http://uri.etsi.org/01903/v1.3.2#"
_DS = f"{{{DS}}}"
GOST_URN = "urn:ietf:params:xml:ns:pkigovkz:xmlsec:algorithms:"

ENVELOPED = DS + "enveloped-signature"
# canonicalisation URI → (exclusive, with comments)
C14N: dict[str, tuple[bool, bool]] = {
    "http://www.w3.org/TR/2001/REC-xml-c14n-20010315": (False, False),
    "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments": (False, True),
    "http://www.w3.org/2001/10/xml-exc-c14n#": (True, False),
    "http://www.w3.org/2001/10/xml-exc-c14n#WithComments": (True, True),
}

# digest URI → (name in this report, hash function or None if not supported here)
DIGESTS: dict[str, str] = {
    "http://www.w3.org/2000/09/xmldsig#sha1": "sha1",
    "http://www.w3.org/2001/04/xmlenc#sha256": "sha256",
    "http://www.w3.org/2001/04/xmldsig-more#sha384": "sha384",
    "http://www.w3.org/2001/04/xmlenc#sha512": "sha512",
    GOST_URN + "gostr34112015-512": "streebog512",
    GOST_URN + "gostr34112015-256": "streebog256",
    "http://www.w3.org/2001/04/xmldsig-more#gost34311": "gost34311",
}
_WEAK = frozenset({"sha1"})

# signature method URI → (scheme, hash name, algorithm name in the report)
SIGNATURE_METHODS: dict[str, tuple[str, str, str]] = {
    "http://www.w3.org/2000/09/xmldsig#rsa-sha1": ("rsa", "sha1", "rsa-sha1"),
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256": ("rsa", "sha256", "rsa-sha256"),
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384": ("rsa", "sha384", "rsa-sha384"),
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512": ("rsa", "sha512", "rsa-sha512"),
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256": ("ecdsa", "sha256", "ecdsa-sha256"),
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384": ("ecdsa", "sha384", "ecdsa-sha384"),
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512": ("ecdsa", "sha512", "ecdsa-sha512"),
    GOST_URN + "gostr34102015-gostr34112015-512": ("gost", "streebog512", "gost2015-512"),
    GOST_URN + "gostr34102015-gostr34112015-256": ("gost", "streebog256", "gost2015-256"),
    "http://www.w3.org/2001/04/xmldsig-more#gost34310-gost34311": ("gost", "gost34311", "gost2004"),
}
_HASHES: dict[str, hashes.HashAlgorithm] = {
    "sha1": hashes.SHA1(),  # noqa: S303 - only to report it as weak, never accepted
    "sha256": hashes.SHA256(),
    "sha384": hashes.SHA384(),
    "sha512": hashes.SHA512(),
}

_WHITESPACE = re.compile(r"\s+")
_ID_ATTRIBUTES = ("Id", "ID", "id")


class _Refused(Exception):
    """A check failed; `failure` says which."""

    def __init__(self, code: FailureCode, detail: str = "") -> None:
        super().__init__(detail)
        self.failure = Failure(code, detail)


def parse_xml(data: bytes, max_size: int = MAX_XML_SIZE) -> etree._ElementTree:
    """Parse untrusted XML: no entities, no DTD, no network, no huge trees; `_Refused` if not."""
    if len(data) > max_size:
        raise _Refused(FailureCode.TOO_LARGE, f"{len(data)} bytes > {max_size}")
    if _declares_a_dtd(data):
        raise _Refused(FailureCode.XML_UNSAFE, "a DOCTYPE is not allowed")
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_blank_text=False,
        remove_comments=False,
        collect_ids=False,
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise _Refused(FailureCode.MALFORMED, f"XML: {exc}") from None
    tree = root.getroottree()
    docinfo = tree.docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise _Refused(FailureCode.XML_UNSAFE, "a DOCTYPE is not allowed")
    for node in root.iter():
        if isinstance(node, etree._Entity):
            raise _Refused(FailureCode.XML_UNSAFE, "entity references are not allowed")
    return tree


_DOCTYPE = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


def _declares_a_dtd(data: bytes) -> bool:
    """Seen before libxml2 reads a byte of it (and, whatever the encoding, again after)."""
    if _DOCTYPE.search(data):
        return True
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return bool(_DOCTYPE.search(data.decode("utf-16", errors="replace").encode()))
    return False


def verify_xml(
    data: bytes,
    *,
    trust: TrustAnchors,
    at: At | None = None,
    revocation: RevocationPolicy = DEFAULT_REVOCATION,
    now: datetime | None = None,
    max_size: int = MAX_XML_SIZE,
) -> AnyReport:
    """Verify every `ds:Signature` of an XML document (see the module docstring)."""
    moment_now = now or datetime.now(UTC)
    when = at or At.now()
    try:
        tree = parse_xml(data, max_size)
    except _Refused as refused:
        return AnyReport("xml", (), (refused.failure,))
    root = tree.getroot()
    signatures = list(root.iter(_DS + "Signature"))
    if not signatures:
        return AnyReport("xml", (), (Failure(FailureCode.SIGNER_COUNT, "no ds:Signature"),))
    if len(signatures) > MAX_XML_SIGNATURES:
        detail = f"{len(signatures)} > {MAX_XML_SIGNATURES}"
        return AnyReport("xml", (), (Failure(FailureCode.SIGNER_COUNT, detail),))
    ids = _ids(root)
    results = tuple(
        _verify_signature(tree, index, ids, trust, when, revocation, moment_now)
        for index in range(len(signatures))
    )
    return AnyReport("xml", results)


def _ids(root: etree._Element) -> dict[str, int]:
    counts: dict[str, int] = {}
    for element in root.iter(etree.Element):
        for name in _ID_ATTRIBUTES:
            value = element.get(name)
            if value is not None:
                counts[value] = counts.get(value, 0) + 1
    return counts


@dataclass
class _Checked:
    algorithm: str = "unknown"
    intact: bool = False
    cert_der: bytes | None = None
    others: tuple[asn1_x509.Certificate, ...] = ()
    signing_time: datetime | None = None
    signed: str | None = None
    signed_xml: bytes | None = None


def _verify_signature(
    tree: etree._ElementTree,
    index: int,
    ids: dict[str, int],
    trust: TrustAnchors,
    at: At,
    revocation: RevocationPolicy,
    now: datetime,
) -> SignerResult:
    checked = _Checked()
    failures: list[Failure] = []
    try:
        _check_mathematics(tree, index, ids, checked)
    except _Refused as refused:
        failures.append(refused.failure)
    except Exception as exc:  # hostile input gives a result, never a crash
        failures.append(Failure(FailureCode.MALFORMED, f"{type(exc).__name__}: {exc}"))
    moment = at.resolve(now, checked.signing_time)
    identity = None
    if checked.cert_der is not None:
        try:
            facts = _certificate_facts(checked.cert_der)
            identity = facts.identity
            cert = asn1_x509.Certificate.load(checked.cert_der)
            chain = trust.checker(moment, revocation).check(cert, other_certificates=checked.others)
            failures.extend(chain.failures)
            failures.extend(_check_usage(facts))
        except Exception as exc:
            failures.append(Failure(FailureCode.MALFORMED, f"certificate: {exc}"))
    unique = _merge(failures)
    return SignerResult(
        intact=checked.intact and not unique_has_math_failure(unique),
        status=status_of(unique),
        failures=unique,
        algorithm=checked.algorithm,
        signer=identity,
        signing_time=checked.signing_time,
        judged_at=moment,
        subject=subject_of(identity),
        signed=checked.signed,
        signed_xml=checked.signed_xml if checked.intact else None,
    )


def unique_has_math_failure(failures: tuple[Failure, ...]) -> bool:
    math = {FailureCode.DIGEST_MISMATCH, FailureCode.BAD_SIGNATURE}
    return any(f.code in math for f in failures)


def _merge(failures: list[Failure]) -> tuple[Failure, ...]:
    seen: dict[FailureCode, Failure] = {}
    for failure in failures:
        seen.setdefault(failure.code, failure)
    return tuple(seen.values())


def _one(parent: etree._Element, name: str, required: bool = True) -> etree._Element | None:
    found = parent.findall(_DS + name)
    if len(found) > 1 or (required and not found):
        raise _Refused(FailureCode.MALFORMED, f"{len(found)} ds:{name} in ds:{_local(parent)}")
    return found[0] if found else None


def _local(element: etree._Element) -> str:
    return str(etree.QName(element).localname)


def _algorithm(element: etree._Element) -> str:
    value = element.get("Algorithm")
    if not value:
        raise _Refused(FailureCode.MALFORMED, f"ds:{_local(element)} without Algorithm")
    return str(value)


def _base64(element: etree._Element) -> bytes:
    text = _WHITESPACE.sub("", element.text or "")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise _Refused(FailureCode.MALFORMED, f"ds:{_local(element)}: {exc}") from None


def _check_mathematics(
    tree: etree._ElementTree, index: int, ids: dict[str, int], checked: _Checked
) -> None:
    """Digest(s) and signature value of signature `index`; fills `checked` as it goes."""
    # NCALayer signs a document that may hold earlier signatures: drop the later ones
    work = copy.deepcopy(tree)
    root = work.getroot()
    signatures = list(root.iter(_DS + "Signature"))
    signature = signatures[index]
    for later in signatures[index + 1 :]:
        if signature not in later.iterancestors() and later not in signature.iterancestors():
            _remove(later)

    signed_info = _one(signature, "SignedInfo")
    assert signed_info is not None
    method_uri = _algorithm(_required(_one(signed_info, "SignatureMethod")))
    if method_uri not in SIGNATURE_METHODS:
        kind = "HMAC is never accepted" if "hmac" in method_uri.lower() else "unknown"
        raise _Refused(FailureCode.UNSUPPORTED_ALGORITHM, f"{method_uri} ({kind})")
    scheme, hash_name, checked.algorithm = SIGNATURE_METHODS[method_uri]
    c14n_uri = _algorithm(_required(_one(signed_info, "CanonicalizationMethod")))
    if c14n_uri not in C14N:
        raise _Refused(FailureCode.UNSUPPORTED_ALGORITHM, f"canonicalisation {c14n_uri}")

    certificates = [
        _base64(el) for el in signature.iterfind(f"{_DS}KeyInfo/{_DS}X509Data/{_DS}X509Certificate")
    ]
    if certificates:
        checked.cert_der = certificates[0]
        checked.others = tuple(asn1_x509.Certificate.load(der) for der in certificates[1:])

    references = signed_info.findall(_DS + "Reference")
    if not references or len(references) > MAX_REFERENCES:
        raise _Refused(FailureCode.XML_REFERENCE, f"{len(references)} ds:Reference")
    digest_failure = None
    for reference in references:
        ok, target, octets = _check_reference(work, signature, reference, ids)
        if not ok:
            digest_failure = Failure(FailureCode.DIGEST_MISMATCH, reference.get("URI", ""))
        elif target is not None:
            _read_signing_time(reference, target, octets, checked)

    exclusive, with_comments = C14N[c14n_uri]
    signed_info_bytes = _c14n(signed_info, exclusive, with_comments)
    value = _base64(_required(_one(signature, "SignatureValue")))
    if checked.cert_der is None:
        raise _Refused(FailureCode.NO_CERTIFICATE, "no ds:X509Certificate")
    signature_ok = _signature_verifies(
        scheme, hash_name, checked.cert_der, signed_info_bytes, value
    )
    if digest_failure is not None:
        raise _Refused(digest_failure.code, digest_failure.detail)
    if not signature_ok:
        raise _Refused(FailureCode.BAD_SIGNATURE)
    checked.intact = True


def _required(element: etree._Element | None) -> etree._Element:
    assert element is not None
    return element


def _remove(element: etree._Element) -> None:
    """Remove `element` but keep the text that follows it (its tail), as a node-set would."""
    parent = element.getparent()
    if parent is None:
        raise _Refused(FailureCode.XML_REFERENCE, "the signature is the document element")
    tail = element.tail or ""
    previous = element.getprevious()
    if previous is not None:
        previous.tail = (previous.tail or "") + tail
    else:
        parent.text = (parent.text or "") + tail
    parent.remove(element)


def _check_reference(
    work: etree._ElementTree,
    signature: etree._Element,
    reference: etree._Element,
    ids: dict[str, int],
) -> tuple[bool, etree._Element | None, bytes]:
    uri = reference.get("URI")
    root = work.getroot()
    if uri == "":
        target = root
    elif uri is not None and uri.startswith("#") and len(uri) > 1:
        wanted = uri[1:]
        if ids.get(wanted, 0) > 1:
            raise _Refused(FailureCode.XML_REFERENCE, f"Id {wanted!r} occurs {ids[wanted]} times")
        found = [
            el
            for el in root.iter(etree.Element)
            if any(el.get(name) == wanted for name in _ID_ATTRIBUTES)
        ]
        if len(found) != 1:
            raise _Refused(FailureCode.XML_REFERENCE, f"{len(found)} elements with Id {wanted!r}")
        target = found[0]
    else:
        raise _Refused(FailureCode.XML_REFERENCE, f'URI {uri!r}: only "" or "#id"')

    transforms_parent = _one(reference, "Transforms", required=False)
    transforms = (
        [] if transforms_parent is None else list(transforms_parent.findall(_DS + "Transform"))
    )
    if transforms_parent is not None and len(transforms_parent) != len(transforms):
        raise _Refused(FailureCode.XML_REFERENCE, "unexpected element in ds:Transforms")
    if len(transforms) > MAX_TRANSFORMS:
        raise _Refused(FailureCode.XML_REFERENCE, f"{len(transforms)} transforms")
    exclusive = False
    enveloped = False
    for position, transform in enumerate(transforms):
        algorithm = _algorithm(transform)
        if algorithm == ENVELOPED and not enveloped:
            enveloped = True
        elif algorithm in C14N and position == len(transforms) - 1:
            exclusive = C14N[algorithm][0]
        else:
            raise _Refused(FailureCode.XML_REFERENCE, f"transform {algorithm} not allowed here")

    target_copy = copy.deepcopy(work)
    original = list(work.getroot().iter())
    copied = list(target_copy.getroot().iter())
    target_in_copy = copied[original.index(target)]
    signature_in_copy = copied[original.index(signature)]
    if enveloped:
        if target_in_copy is signature_in_copy or not any(
            node is signature_in_copy for node in target_in_copy.iter()
        ):
            raise _Refused(FailureCode.XML_REFERENCE, "enveloped transform outside the target")
        _remove(signature_in_copy)
    # a same-document reference never includes comments (XMLDSig 4.3.3.3)
    octets = _c14n(target_in_copy, exclusive, with_comments=False)

    digest_uri = _algorithm(_required(_one(reference, "DigestMethod")))
    digest_name = DIGESTS.get(digest_uri)
    if digest_name is None:
        raise _Refused(FailureCode.UNSUPPORTED_ALGORITHM, f"digest {digest_uri}")
    if digest_name in _WEAK:
        raise _Refused(FailureCode.WEAK_ALGORITHM, f"digest {digest_uri}")
    expected = _base64(_required(_one(reference, "DigestValue")))
    actual = _digest(digest_name, octets)
    ok = hmac.compare_digest(expected, actual)
    return ok, (target_in_copy if ok else None), octets


def _read_signing_time(
    reference: etree._Element, target: etree._Element, octets: bytes, checked: _Checked
) -> None:
    """XAdES: the SigningTime of the SignedProperties a verified reference covers."""
    if reference.get("URI") == "":
        checked.signed = "document"
        checked.signed_xml = _c14n_without_signatures(target)
        return
    if (reference.get("Type") or "").endswith("#SignedProperties"):
        found = target.find(f".//{{{XADES}}}SigningTime")
        if found is not None and found.text:
            try:
                when = datetime.fromisoformat(found.text.strip())
            except ValueError:
                raise _Refused(FailureCode.MALFORMED, "xades:SigningTime") from None
            checked.signing_time = (
                when if when.utcoffset() is not None else when.replace(tzinfo=UTC)
            )
        return
    checked.signed = reference.get("URI")
    checked.signed_xml = octets


def _c14n_without_signatures(target: etree._Element) -> bytes:
    clean = copy.deepcopy(target)
    for signature in list(clean.iter(_DS + "Signature")):
        if signature is not clean:
            _remove(signature)
    return _c14n(clean, False, with_comments=False)


def _c14n(element: etree._Element, exclusive: bool, with_comments: bool) -> bytes:
    result: bytes = etree.tostring(
        element, method="c14n", exclusive=exclusive, with_comments=with_comments
    )
    return result


def _digest(name: str, data: bytes) -> bytes:
    if name in ("sha256", "sha384", "sha512"):
        return hashlib.new(name, data).digest()
    return _gost_digest(name, data)


_GOST_DIGESTS: dict[str, Callable[[bytes], bytes]] = {
    "streebog512": gost.streebog512,
    "streebog256": gost.streebog256,
}


def _gost_digest(name: str, data: bytes) -> bytes:
    function = _GOST_DIGESTS.get(name)
    if function is None:  # GOST 34.311-95 (the 2004 keys) is not implemented
        raise _Refused(FailureCode.UNSUPPORTED_ALGORITHM, f"digest {name}")
    try:
        return function(data)
    except gost.GostUnavailable as exc:  # OpenSSL's GOST provider is missing
        raise _Refused(FailureCode.UNSUPPORTED_ALGORITHM, str(exc)) from None


def _signature_verifies(
    scheme: str, hash_name: str, cert_der: bytes, signed: bytes, value: bytes
) -> bool:
    facts = _certificate_facts(cert_der)
    key = facts.public_key
    if scheme == "gost":
        return _gost_signature_verifies(hash_name, cert_der, signed, value)
    if hash_name in _WEAK:
        raise _Refused(FailureCode.WEAK_ALGORITHM, f"signature {scheme}-{hash_name}")
    algorithm = _HASHES[hash_name]
    try:
        if scheme == "rsa":
            if not isinstance(key, rsa.RSAPublicKey):
                raise _Refused(FailureCode.CERT_MISMATCH, "RSA signature, other key")
            if key.key_size < 2048:
                raise _Refused(FailureCode.WEAK_KEY, f"RSA {key.key_size} bits")
            key.verify(value, signed, padding.PKCS1v15(), algorithm)
        else:
            if not isinstance(key, ec.EllipticCurvePublicKey):
                raise _Refused(FailureCode.CERT_MISMATCH, "ECDSA signature, other key")
            half = len(value) // 2
            if len(value) % 2:
                return False
            der = encode_dss_signature(
                int.from_bytes(value[:half], "big"), int.from_bytes(value[half:], "big")
            )
            key.verify(der, signed, ec.ECDSA(algorithm))
    except InvalidSignature:
        return False
    return True


_GOST_SIGNATURE_OIDS = {
    "streebog512": gost.KZ_GOST2015_512_SIGNATURE,
    "streebog256": gost.KZ_GOST2015_256_SIGNATURE,
}


def _gost_signature_verifies(hash_name: str, cert_der: bytes, signed: bytes, value: bytes) -> bool:
    """GOST 34.10-2015 over the canonical SignedInfo, by `signing.gost`. Kalkan writes the XML
    SignatureValue as it writes the CMS one (r ‖ s, each little-endian): proven on the NCA
    test signatures of tests/signing/data."""
    oid = _GOST_SIGNATURE_OIDS.get(hash_name)
    if oid is None:
        raise _Refused(FailureCode.UNSUPPORTED_ALGORITHM, f"GOST with {hash_name}")
    spki = asn1_x509.Certificate.load(cert_der).public_key
    try:
        curve, _ = gost.spki_public_key(spki)
        if (curve.size == 64) != (hash_name == "streebog512"):
            detail = f"{hash_name} with a {curve.size * 8}-bit key"
            raise _Refused(FailureCode.CERT_MISMATCH, detail)
        return bool(gost.verify_signed_data(oid, signed, value, spki))
    except gost.UnsupportedGost as exc:
        raise _Refused(FailureCode.UNSUPPORTED_ALGORITHM, str(exc)) from None
    except gost.GostUnavailable as exc:
        raise _Refused(FailureCode.UNSUPPORTED_ALGORITHM, str(exc)) from None
    except ValueError as exc:  # not a GOST key, or a damaged one
        raise _Refused(FailureCode.CERT_MISMATCH, str(exc)) from None
