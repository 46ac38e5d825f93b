"""Signed XML as NCALayer makes it: real NCA test signatures, and the known attacks on XMLDSig."""

from __future__ import annotations

import base64
import re
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import TESTOV
from cryptography.hazmat.primitives import serialization
from lxml import etree
from xml_sign import C14N_COMMENTS, DS, ENVELOPED, EXC_C14N, HMAC_SHA256, sign_xml

from signing import FailureCode, Status, TrustAnchors
from signing.inspect import At, verify_any
from signing.trust import RevocationMode, RevocationPolicy
from signing.xmldsig import MAX_XML_SIZE, SIGNATURE_METHODS, verify_xml

DATA = Path(__file__).parent / "data"
OFF = RevocationPolicy(RevocationMode.OFF)
DOCUMENT = (
    b'<?xml version="1.0" encoding="UTF-8"?><order><who Id="w1">Teacher</who>'
    b"<category>higher</category></order>"
)


def real(name: str) -> bytes:
    return (DATA / name).read_bytes()


def flip_in(data: bytes, old: bytes, new: bytes) -> bytes:
    assert data.count(old) == 1, old
    return data.replace(old, new)


# --------------------------------------------------------------------- real NCALayer signatures


@pytest.mark.parametrize(
    ("name", "algorithms"),
    [
        ("xml_ncanode_rsa.xml", ["rsa-sha256"]),
        ("xml_mitwork_gost2015.xml", ["gost2015-512"]),
        ("xml_ncanode_rsa_gost.xml", ["rsa-sha256", "gost2015-512"]),
    ],
)
def test_real_ncalayer_xml_is_intact(name: str, algorithms: list[str], trust: TrustAnchors) -> None:
    report = verify_any(real(name), trust=trust, revocation=OFF)

    assert report.format == "xml"
    assert [s.algorithm for s in report.signers] == algorithms
    for signer in report.signers:
        assert signer.intact, signer.failures
        assert signer.signer is not None
        assert signer.signer.iin is not None
        assert signer.signed == "document"
        # an NCA test certificate: intact, but not under qujat's test root
        assert FailureCode.UNTRUSTED in signer.codes
        assert FailureCode.DIGEST_MISMATCH not in signer.codes
        assert FailureCode.BAD_SIGNATURE not in signer.codes


@pytest.mark.parametrize("name", ["xml_ncanode_rsa.xml", "xml_mitwork_gost2015.xml"])
def test_real_xml_with_a_changed_content_byte_fails_its_digest(
    name: str, trust: TrustAnchors
) -> None:
    data = real(name)
    text = re.search(rb"<(?:b|message)>([^<]+)<", data)
    assert text is not None
    start = text.start(1)
    changed = data[:start] + bytes([data[start] ^ 0x01]) + data[start + 1 :]

    (signer,) = verify_any(changed, trust=trust, revocation=OFF).signers

    assert not signer.intact
    assert FailureCode.DIGEST_MISMATCH in signer.codes
    assert signer.status is Status.INVALID


@pytest.mark.parametrize("name", ["xml_ncanode_rsa.xml", "xml_mitwork_gost2015.xml"])
def test_real_xml_with_a_changed_signature_value_fails_its_signature(
    name: str, trust: TrustAnchors
) -> None:
    data = real(name)
    value = re.search(rb"<ds:SignatureValue>\s*([A-Za-z0-9+/]{8})", data)
    assert value is not None
    old = value.group(1)
    new = (b"B" if old[:1] != b"B" else b"C") + old[1:]
    changed = data.replace(old, new, 1)

    (signer,) = verify_any(changed, trust=trust, revocation=OFF).signers

    assert not signer.intact
    assert signer.codes[0] is FailureCode.BAD_SIGNATURE


def test_a_later_signature_covers_the_earlier_one(trust: TrustAnchors) -> None:
    """NCALayer's second signer signs the document with the first signature in it."""
    data = real("xml_ncanode_rsa_gost.xml")
    first_value = re.search(rb"<ds:SignatureValue>\s*(aAeSW\+p2)", data)
    assert first_value is not None
    changed = data.replace(b"aAeSW+p2", b"aAeSW+p3", 1)

    rsa, gost = verify_any(changed, trust=trust, revocation=OFF).signers

    assert FailureCode.BAD_SIGNATURE in rsa.codes
    assert FailureCode.DIGEST_MISMATCH in gost.codes


# --------------------------------------------------------------------- our own, for the attacks


def test_our_signature_verifies_and_returns_what_it_covers(pki, trust: TrustAnchors) -> None:
    signed = sign_xml(DOCUMENT, pki.credential(TESTOV.iin))

    report = verify_xml(signed, trust=trust, revocation=OFF)

    (signer,) = report.signers
    assert report.ok, signer.failures
    assert signer.intact
    assert signer.status is Status.VALID
    assert signer.signer is not None
    assert signer.signer.iin == TESTOV.iin
    assert (
        signer.signed_xml == b'<order><who Id="w1">Teacher</who><category>higher</category></order>'
    )


def test_a_reference_by_id_covers_only_that_element(pki, trust: TrustAnchors) -> None:
    signed = sign_xml(DOCUMENT, pki.credential(TESTOV.iin), uri="#w1", transforms=(EXC_C14N,))

    (signer,) = verify_xml(signed, trust=trust, revocation=OFF).signers

    assert signer.status is Status.VALID, signer.failures
    assert signer.signed == "#w1"
    assert signer.signed_xml == b'<who Id="w1">Teacher</who>'


def test_signature_wrapping_with_a_duplicate_id_is_refused(pki, trust: TrustAnchors) -> None:
    """XSW: the signed element is kept (hidden) and a forged one with the same Id shown."""

    def wrap(root: etree._Element) -> None:
        forged = etree.SubElement(root, "who", Id="w1")
        forged.text = "Attacker"

    signed = sign_xml(
        DOCUMENT, pki.credential(TESTOV.iin), uri="#w1", transforms=(EXC_C14N,), edit=wrap
    )

    (signer,) = verify_xml(signed, trust=trust, revocation=OFF).signers

    assert signer.status is Status.INVALID
    assert FailureCode.XML_REFERENCE in signer.codes
    assert not signer.intact
    assert signer.signed_xml is None


def test_signature_wrapping_moves_the_signed_element_but_only_it_is_returned(
    pki, trust: TrustAnchors
) -> None:
    """XSW: the signed element moved into ds:Object, a forged one (other Id) in its place.
    The signature holds, and what it covers is the original element, never the forgery."""

    def wrap(root: etree._Element) -> None:
        original = root.find("who")
        signature = root.find(f"{{{DS}}}Signature")
        obj = etree.SubElement(signature, f"{{{DS}}}Object")
        root.remove(original)
        obj.append(original)
        forged = etree.Element("who", Id="w2")
        forged.text = "Attacker"
        root.insert(0, forged)

    signed = sign_xml(
        DOCUMENT, pki.credential(TESTOV.iin), uri="#w1", transforms=(EXC_C14N,), edit=wrap
    )

    (signer,) = verify_xml(signed, trust=trust, revocation=OFF).signers

    assert signer.intact
    assert signer.signed_xml == b'<who Id="w1">Teacher</who>'
    assert b"Attacker" not in signer.signed_xml


def test_an_unsigned_element_added_to_a_signed_document_breaks_it(pki, trust: TrustAnchors) -> None:
    def add(root: etree._Element) -> None:
        etree.SubElement(root, "category").text = "highest"

    signed = sign_xml(DOCUMENT, pki.credential(TESTOV.iin), edit=add)

    (signer,) = verify_xml(signed, trust=trust, revocation=OFF).signers

    assert FailureCode.DIGEST_MISMATCH in signer.codes


def test_a_comment_splitting_signed_text_is_not_signed_and_not_returned(
    pki, trust: TrustAnchors
) -> None:
    """The comment-truncation attacks (2018, SAML libraries): `Teach<!---->er` reads as
    "Teach" to a careless consumer. A same-document reference never signs comments, so the
    signature holds, and what it covers comes back as canonical bytes without the comment."""

    def split(root: etree._Element) -> None:
        who = root.find("who")
        who.text = "Teach"
        comment = etree.Comment("")
        comment.tail = "er"
        who.append(comment)

    signed = sign_xml(
        DOCUMENT, pki.credential(TESTOV.iin), transforms=(ENVELOPED, C14N_COMMENTS), edit=split
    )
    assert b"Teach<!---->er" in signed

    (signer,) = verify_xml(signed, trust=trust, revocation=OFF).signers

    assert signer.intact, signer.failures
    assert signer.signed_xml is not None
    assert b'<who Id="w1">Teacher</who>' in signer.signed_xml
    assert b"<!--" not in signer.signed_xml


def test_hmac_with_the_certificate_as_key_is_refused(pki, trust: TrustAnchors) -> None:
    """CVE-2025-48995 (signxml): an HMAC "signature" keyed with the public certificate
    verified as if the certificate's owner had signed. No HMAC method is accepted at all,
    so there is also no MAC comparison whose timing could leak (CVE-2025-48994)."""
    credential = pki.credential(TESTOV.iin)
    for key in (
        credential.certificate.public_bytes(serialization.Encoding.DER),
        credential.certificate.public_bytes(serialization.Encoding.PEM),
    ):
        forged = sign_xml(DOCUMENT, credential, method=HMAC_SHA256, mac_key=key)

        (signer,) = verify_xml(forged, trust=trust, revocation=OFF).signers

        assert not signer.intact
        assert signer.status is not Status.VALID
        assert FailureCode.UNSUPPORTED_ALGORITHM in signer.codes
    assert not [uri for uri in SIGNATURE_METHODS if "hmac" in uri]


@pytest.mark.parametrize(
    "transform",
    [
        "http://www.w3.org/TR/1999/REC-xslt-19991116",
        "http://www.w3.org/TR/1999/REC-xpath-19991116",
        "http://www.w3.org/2002/06/xmldsig-filter2",
        "http://www.w3.org/2000/09/xmldsig#base64",
    ],
)
def test_other_transforms_are_refused(pki, trust: TrustAnchors, transform: str) -> None:
    signed = sign_xml(DOCUMENT, pki.credential(TESTOV.iin), transforms=(ENVELOPED, transform))

    (signer,) = verify_xml(signed, trust=trust, revocation=OFF).signers

    assert FailureCode.XML_REFERENCE in signer.codes
    assert not signer.intact


@pytest.mark.parametrize(
    "uri", ["http://127.0.0.1:9/evil.xml", "file:///etc/passwd", "#xpointer(/)", "#missing"]
)
def test_a_reference_outside_the_document_is_refused(pki, trust: TrustAnchors, uri: str) -> None:
    signed = sign_xml(DOCUMENT, pki.credential(TESTOV.iin))
    changed = signed.replace(b'URI=""', f'URI="{uri}"'.encode(), 1)

    (signer,) = verify_xml(changed, trust=trust, revocation=OFF).signers

    assert FailureCode.XML_REFERENCE in signer.codes


def test_a_doctype_is_refused_before_anything_is_expanded(trust: TrustAnchors) -> None:
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + b"".join(
            f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10 if i else "&lol;" * 10}">'.encode()
            for i in range(9)
        )
        + b"]><lolz>&lol8;</lolz>"
    )

    report = verify_xml(laughs, trust=trust)

    assert report.signers == ()
    assert [f.code for f in report.failures] == [FailureCode.XML_UNSAFE]


def test_an_external_entity_is_never_read(trust: TrustAnchors, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    xxe = (
        f'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file://{secret}">]><a>&x;</a>'
    ).encode()

    report = verify_xml(xxe, trust=trust)

    assert [f.code for f in report.failures] == [FailureCode.XML_UNSAFE]
    assert "TOP-SECRET" not in repr(report)


def test_an_oversized_document_is_refused_unparsed(trust: TrustAnchors) -> None:
    big = b"<a>" + b"x" * MAX_XML_SIZE + b"</a>"

    report = verify_xml(big, trust=trust)

    assert [f.code for f in report.failures] == [FailureCode.TOO_LARGE]


def test_xml_without_a_signature_is_invalid(trust: TrustAnchors) -> None:
    report = verify_xml(DOCUMENT, trust=trust)

    assert report.status is Status.INVALID
    assert [f.code for f in report.failures] == [FailureCode.SIGNER_COUNT]


def test_broken_xml_is_malformed(trust: TrustAnchors) -> None:
    report = verify_any(b"<a><b>test</b>/a>", trust=trust)

    assert report.format == "xml"
    assert [f.code for f in report.failures] == [FailureCode.MALFORMED]


def test_xml_is_judged_at_the_chosen_moment(pki, trust: TrustAnchors) -> None:
    signed = sign_xml(DOCUMENT, pki.credential(TESTOV.iin))
    not_after = pki.credential(TESTOV.iin).certificate.not_valid_after_utc

    later = verify_xml(
        signed,
        trust=trust,
        revocation=OFF,
        at=At.moment(not_after.replace(year=not_after.year + 1)),
    )

    (signer,) = later.signers
    assert signer.intact
    assert FailureCode.EXPIRED in signer.codes


def test_a_signature_value_with_line_breaks_as_kalkan_writes_them(pki, trust: TrustAnchors) -> None:
    signed = sign_xml(DOCUMENT, pki.credential(TESTOV.iin))
    value = re.search(rb"<ds:SignatureValue>([^<]+)<", signed)
    assert value is not None
    raw = base64.b64decode(value.group(1))
    wrapped = base64.encodebytes(raw).replace(b"\n", b"&#13;\n")
    changed = signed.replace(value.group(1), b"\n" + wrapped)

    (signer,) = verify_xml(changed, trust=trust, revocation=OFF).signers

    assert signer.status is Status.VALID, signer.failures


def test_xades_b_signing_time_is_read_from_the_signed_properties(pki, trust: TrustAnchors) -> None:
    credential = pki.credential(TESTOV.iin)
    during = credential.certificate.not_valid_before_utc + timedelta(minutes=5)
    signed = sign_xml(DOCUMENT, credential, xades_signing_time=during.isoformat())

    (signer,) = verify_xml(signed, trust=trust, revocation=OFF, at=At.signing_time()).signers

    assert signer.status is Status.VALID, signer.failures
    assert signer.signing_time == during
    assert signer.judged_at == during
    assert signer.signed == "document"


def test_xades_signing_time_changed_after_signing_breaks_the_signature(
    pki, trust: TrustAnchors
) -> None:
    credential = pki.credential(TESTOV.iin)
    during = credential.certificate.not_valid_before_utc + timedelta(minutes=5)
    signed = sign_xml(DOCUMENT, credential, xades_signing_time=during.isoformat())
    later = (during + timedelta(days=1)).isoformat().encode()
    changed = signed.replace(during.isoformat().encode(), later)

    (signer,) = verify_xml(changed, trust=trust, revocation=OFF, at=At.signing_time()).signers

    assert not signer.intact
    assert FailureCode.DIGEST_MISMATCH in signer.codes
    assert signer.signing_time is None
