"""The ASiC-S container of a signed protocol: the layout ETSI EN 319 162-1 fixes, read back with
the standard library's zip reader and byte offsets, and every member's signature inside it
verified by `openssl cms` over the PDF inside it."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import struct
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
