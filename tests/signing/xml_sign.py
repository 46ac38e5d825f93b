"""Sign XML the way NCALayer's signXml does (enveloped XMLDSig, RSA), so that the tests can
build the documents the known XML signature attacks need. Real NCALayer output is in data/."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
from collections.abc import Callable

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from lxml import etree

from signing.client import Credential

DS = "http://www.w3.org/2000/09/xmldsig#"
ENVELOPED = DS + "enveloped-signature"
C14N = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
C14N_COMMENTS = C14N + "#WithComments"
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
HMAC_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#hmac-sha256"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"


def _ds(name: str) -> str:
    return f"{{{DS}}}{name}"


def sign_xml(
    xml: bytes,
    credential: Credential,
    *,
    uri: str = "",
    transforms: tuple[str, ...] = (ENVELOPED, C14N_COMMENTS),
    method: str = RSA_SHA256,
    mac_key: bytes | None = None,
    edit: Callable[[etree._Element], None] | None = None,
    xades_signing_time: str | None = None,
) -> bytes:
    """`xml` with one more ds:Signature appended to its document element.

    `edit` may change the finished document before it is serialised (the attacks).
    `method=HMAC_SHA256` with `mac_key` makes an HMAC "signature" (an attacker's forgery).
    """
    root = etree.fromstring(xml)
    if uri == "":
        target = root
    else:
        found = root.xpath("//*[@Id=$id or @ID=$id or @id=$id]", id=uri[1:])
        target = found[0]
    clean = copy.deepcopy(target)
    if target is root:
        for old in list(clean.iter(_ds("Signature"))):
            clean.remove(old) if old.getparent() is clean else old.getparent().remove(old)
    exclusive = EXC_C14N in transforms
    digest = hashlib.sha256(
        etree.tostring(clean, method="c14n", exclusive=exclusive, with_comments=False)
    ).digest()

    signature = etree.SubElement(root, _ds("Signature"), nsmap={"ds": DS})
    signed_info = etree.SubElement(signature, _ds("SignedInfo"))
    etree.SubElement(signed_info, _ds("CanonicalizationMethod"), Algorithm=C14N)
    etree.SubElement(signed_info, _ds("SignatureMethod"), Algorithm=method)
    reference = etree.SubElement(signed_info, _ds("Reference"), URI=uri)
    if transforms:
        container = etree.SubElement(reference, _ds("Transforms"))
        for algorithm in transforms:
            etree.SubElement(container, _ds("Transform"), Algorithm=algorithm)
    etree.SubElement(reference, _ds("DigestMethod"), Algorithm=SHA256)
    etree.SubElement(reference, _ds("DigestValue")).text = base64.b64encode(digest).decode()
    value = etree.SubElement(signature, _ds("SignatureValue"))
    key_info = etree.SubElement(signature, _ds("KeyInfo"))
    data = etree.SubElement(key_info, _ds("X509Data"))
    cert_der = credential.certificate.public_bytes(serialization.Encoding.DER)
    etree.SubElement(data, _ds("X509Certificate")).text = base64.b64encode(cert_der).decode()
    if xades_signing_time is not None:
        _add_xades(signature, signed_info, xades_signing_time)

    to_sign = etree.tostring(signed_info, method="c14n")
    if method == HMAC_SHA256:
        assert mac_key is not None
        raw = hmac.new(mac_key, to_sign, hashlib.sha256).digest()
    else:
        key = credential.private_key
        assert isinstance(key, rsa.RSAPrivateKey)
        raw = key.sign(to_sign, padding.PKCS1v15(), hashes.SHA256())
    value.text = base64.b64encode(raw).decode()
    if edit is not None:
        edit(root)
    result: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return result


XADES = "http://uri.etsi.org/01903/v1.3.2#"


def _add_xades(signature: etree._Element, signed_info: etree._Element, when: str) -> None:
    """XAdES-B: SignedProperties with a SigningTime in ds:Object, covered by a reference."""
    signature.set("Id", "sig-1")
    obj = etree.SubElement(signature, _ds("Object"))
    qualifying = etree.SubElement(
        obj, f"{{{XADES}}}QualifyingProperties", Target="#sig-1", nsmap={"xades": XADES}
    )
    properties = etree.SubElement(qualifying, f"{{{XADES}}}SignedProperties", Id="props-1")
    signature_properties = etree.SubElement(properties, f"{{{XADES}}}SignedSignatureProperties")
    etree.SubElement(signature_properties, f"{{{XADES}}}SigningTime").text = when
    digest = hashlib.sha256(etree.tostring(properties, method="c14n")).digest()
    reference = etree.SubElement(
        signed_info,
        _ds("Reference"),
        URI="#props-1",
        Type="http://uri.etsi.org/01903#SignedProperties",
    )
    transforms = etree.SubElement(reference, _ds("Transforms"))
    etree.SubElement(transforms, _ds("Transform"), Algorithm=C14N)
    etree.SubElement(reference, _ds("DigestMethod"), Algorithm=SHA256)
    etree.SubElement(reference, _ds("DigestValue")).text = base64.b64encode(digest).decode()
