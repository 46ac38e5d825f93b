"""The ASiC-S container of a signed protocol: the layout ETSI EN 319 162-1 fixes, read back with
the standard library's zip reader and byte offsets, and every member's signature inside it
verified by `openssl cms` over the PDF inside it."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import struct
import subprocess
import zipfile
from pathlib import Path

import pytest
from asn1crypto import cms
from flask.testing import FlaskClient

from service.core.config import Settings
from service.signatures.container import ASIC_S_MIMETYPE, SIGNATURE_ENTRY, asic_s
from tests.signatures.support import (
    PRESENT,
    SECRETARY,
    SigningPKI,
    codes,
    create_commission,
    create_protocol,
    openssl_verify,
    sign,
    signing_pki,
)

__all__ = ["signing_pki"]  # the session fixture, imported for pytest


@pytest.fixture
def settings(tmp_path: Path, database_url: str, signing_pki: SigningPKI) -> Settings:
    return Settings(data_dir=tmp_path, database_url=database_url,
                    trust_dir=signing_pki.directory)


def test_a_signed_protocol_as_an_asic_s_container(
    client: FlaskClient, signing_pki: SigningPKI, tmp_path: Path
) -> None:
    protocol = create_protocol(client, create_commission(client))
    protocol_id, number = protocol["id"], protocol["registration_number"]
    unsigned = client.get(f"/api/v1/documents/{protocol_id}.asics")
    assert unsigned.status_code == 409
    assert codes(unsigned) == ["not_signed"]
    signers = [*PRESENT, SECRETARY]
    for iin in signers:
        assert sign(client, protocol_id, signing_pki.key(iin)).status_code == 201

    answer = client.get(f"/api/v1/documents/{protocol_id}.asics")
    assert answer.status_code == 200
    assert answer.mimetype == ASIC_S_MIMETYPE
    assert f'filename="{number}.asics"' in answer.headers["Content-Disposition"]
    data = answer.data
    # the first local header: "mimetype", stored, no extra field, its content right after
    signature, method, name_length, extra_length = (
        struct.unpack_from("<I", data, 0)[0], struct.unpack_from("<H", data, 8)[0],
        *struct.unpack_from("<HH", data, 26))
    assert signature == 0x04034B50
    assert method == 0  # stored
    assert (name_length, extra_length) == (len("mimetype"), 0)
    assert data[30:38] == b"mimetype"
    assert data[38:38 + len(ASIC_S_MIMETYPE)] == ASIC_S_MIMETYPE.encode()

    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.testzip() is None
    assert archive.namelist() == ["mimetype", f"{number}.pdf", SIGNATURE_ENTRY]
    pdf = archive.read(f"{number}.pdf")
    assert hashlib.sha256(pdf).hexdigest() == protocol["sha256"]
    p7s = archive.read(SIGNATURE_ENTRY)
    assert p7s == client.get(f"/api/v1/documents/{protocol_id}.p7s").data
    signed_data = cms.ContentInfo.load(p7s)["content"]
    assert len(signed_data["signer_infos"]) == len(signers)  # one SignerInfo per member
    assert signed_data["encap_content_info"]["content"].native is None  # detached

    (tmp_path / "signature.p7s").write_bytes(p7s)
    (tmp_path / "protocol.pdf").write_bytes(pdf)
    verified = openssl_verify(tmp_path / "signature.p7s", tmp_path / "protocol.pdf",
                              signing_pki.pki.root_path)
    assert verified.returncode == 0, verified.stderr
    assert "Verification successful" in verified.stderr
    # the same container twice: same bytes
    assert client.get(f"/api/v1/documents/{protocol_id}.asics").data == data


def test_the_container_refuses_names_outside_its_root() -> None:
    when = dt.datetime(2026, 11, 23, tzinfo=dt.UTC)
    for bad in ("META-INF/x.pdf", "../x.pdf", "mimetype"):
        with pytest.raises(ValueError, match="root entry"):
            asic_s(bad, b"%PDF", b"0", when)


@pytest.mark.parametrize("language", ["kk", "ru"])
def test_the_printable_signed_copy(
    client: FlaskClient, signing_pki: SigningPKI, tmp_path: Path, language: str
) -> None:
    protocol = create_protocol(client, create_commission(client))
    protocol_id, number = protocol["id"], protocol["registration_number"]
    refused = client.get(f"/api/v1/documents/{protocol_id}/signed-copy.pdf")
    assert refused.status_code == 409
    assert codes(refused) == ["not_signed"]
    for iin in [*PRESENT, SECRETARY]:
        assert sign(client, protocol_id, signing_pki.key(iin)).status_code == 201
    assert client.get(f"/api/v1/documents/{protocol_id}/signed-copy.pdf?lang=en"
                      ).status_code == 400

    answer = client.get(f"/api/v1/documents/{protocol_id}/signed-copy.pdf?lang={language}")
    assert answer.status_code == 200
    assert answer.mimetype == "application/pdf"
    copy = tmp_path / "copy.pdf"
    copy.write_bytes(answer.data)
    original = tmp_path / "original.pdf"
    original.write_bytes(client.get(f"/api/v1/documents/{protocol_id}.pdf").data)
    pages = _pages(original)
    text = _text(copy)
    assert len(text) == pages + 1  # the document's pages, then the signature sheet
    for page, original_text in enumerate(_text(original)):
        assert _words(original_text) <= _words(text[page])  # the same document, page by page
    sheet = text[-1]
    title = "Протокол проверки" if language == "ru" else "тексеру хаттамасы"
    assert title in sheet
    assert number in sheet
    assert "Жұмабекова" in sheet
    valid = "действительна" if language == "ru" else "жарамды"
    assert sheet.count(valid) == len(PRESENT) + 1
    # the verify page's QR code on every page, read back from the page images
    verify = client.get(f"/api/v1/documents/{protocol_id}").get_json()["links"]["verify"]
    subprocess.run(["pdftoppm", "-r", "150", "-png", str(copy), str(tmp_path / "page")],
                   check=True, timeout=120)
    images = sorted(tmp_path.glob("page-*.png"))
    assert len(images) == pages + 1
    for image in images:
        decoded = subprocess.run(["zbarimg", "--quiet", "--raw", str(image)],
                                 capture_output=True, text=True, timeout=60, check=False)
        assert verify in decoded.stdout.splitlines(), (image.name, decoded.stdout)


def _pages(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    return int(next(line.split()[-1] for line in info.stdout.splitlines()
                    if line.startswith("Pages:")))


def _text(pdf: Path) -> list[str]:
    out = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                         text=True, check=True, timeout=60).stdout
    return out.split("\f")[:-1]


def _words(text: str) -> set[str]:
    return set(text.split())
