"""An ASiC-S container (ETSI EN 319 162-1, "associated signature container, simple"): a signed
document and its signatures in one ZIP file that European tools (EU DSS and the validators built
on it) open as such.

Layout, as the standard fixes it: the entry `mimetype` first, stored (not compressed), without
extra fields, holding `application/vnd.etsi.asic-s+zip`; the signed document at the root; and
`META-INF/signature.p7s`, one detached CMS SignedData over the document's bytes with a SignerInfo
per signer (CAdES, parallel signatures).

Why ASiC-S and not ASiC-E: in an ASiC-E container with CAdES, each signature must sign an
`ASiCManifest` that lists the documents, not a document itself. The members signed the PDF's
bytes with their own keys in NCALayer; qujat holds no key to sign a manifest for them, and a
manifest signed by qujat would not be the members' signature. ASiC-S carries exactly what they
signed, unchanged.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile

ASIC_S_MIMETYPE = "application/vnd.etsi.asic-s+zip"
SIGNATURE_ENTRY = "META-INF/signature.p7s"


def asic_s(document_name: str, document: bytes, signature: bytes, when: dt.datetime) -> bytes:
    """The container of `document` (named `document_name` at its root) and its detached CMS
    `signature`; entries dated `when`, so the same inputs give the same bytes."""
    if "/" in document_name or document_name in ("mimetype", "META-INF"):
        raise ValueError(f"not a root entry name: {document_name!r}")
    stamp = when.astimezone(dt.UTC).timetuple()[:6]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.comment = f"mimetype={ASIC_S_MIMETYPE}".encode("ascii")
        for name, data, method in (
            ("mimetype", ASIC_S_MIMETYPE.encode("ascii"), zipfile.ZIP_STORED),
            (document_name, document, zipfile.ZIP_DEFLATED),
            (SIGNATURE_ENTRY, signature, zipfile.ZIP_DEFLATED),
        ):
            entry = zipfile.ZipInfo(name, date_time=stamp)
            entry.compress_type = method
            entry.external_attr = 0o644 << 16
            archive.writestr(entry, data)
    return buffer.getvalue()
