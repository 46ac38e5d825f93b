"""NCA's PKCS#12 files: the legacy bags (3DES, RC2-40), the MAC, the key derivation, read from
NCA's own published test keys and checked against OpenSSL both ways."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from signing import rc2
from signing.client import Credential
from signing.pkcs12 import Pkcs12Error, read_pkcs12, write_pkcs12
from signing.pki import TestPKI
from tests.signing.conftest import TESTOV

NCA = Path(__file__).parent / "data" / "nca"
NCA_PASSWORD = "Qwerty12"
NCA_GOST = sorted(NCA.glob("p12_GOST512_*.p12"))
NCA_RSA = NCA / "p12_RSA256_8426360556902ce4ac33977836f873e1dc190976.p12"
NCA_GOST2004 = NCA / "p12_GOSTKNCA_f8a422238209b6e753116431b69b09178f14e9d7.p12"
OPENSSL = shutil.which("openssl")


def openssl(*args: str, data: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    assert OPENSSL is not None, "openssl is needed to check the PKCS#12 files"
    return subprocess.run(
        [OPENSSL, *args], input=data, capture_output=True, check=False, timeout=60
    )


# --- RC2 (RFC 2268) ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "bits", "plain", "cipher"),
    [  # RFC 2268, section 5
        ("0000000000000000", 63, "0000000000000000", "ebb773f993278eff"),
        ("ffffffffffffffff", 64, "ffffffffffffffff", "278b27e42e2f0d49"),
        ("3000000000000000", 64, "1000000000000001", "30649edf9be7d2c2"),
        ("88", 64, "0000000000000000", "61a8a244adacccf0"),
        ("88bca90e90875a", 64, "0000000000000000", "6ccf4308974c267f"),
        ("88bca90e90875a7f0f79c384627bafb2", 64, "0000000000000000", "1a807d272bbe5db1"),
        ("88bca90e90875a7f0f79c384627bafb2", 128, "0000000000000000", "2269552ab0f85ca6"),
    ],
)
def test_rc2_rfc_2268_vectors(key: str, bits: int, plain: str, cipher: str) -> None:
    k = rc2.expand_key(bytes.fromhex(key), bits)
    assert rc2.encrypt_cbc(bytes.fromhex(key), bytes(8), bytes.fromhex(plain), bits).hex() == cipher
    assert rc2._decrypt_block(k, bytes.fromhex(cipher)).hex() == plain


def test_rc2_40_cbc_is_openssls() -> None:
    key, iv = bytes.fromhex("0123456789"), bytes.fromhex("fedcba9876543210")
    data = bytes(range(256)) * 3
    ours = rc2.encrypt_cbc(key, iv, data, 40)
    theirs = openssl(
        "enc",
        "-rc2-40-cbc",
        "-provider",
        "legacy",
        "-provider",
        "default",
        "-K",
        key.hex(),
        "-iv",
        iv.hex(),
        "-nopad",
        data=data,
    )
    assert theirs.returncode == 0, theirs.stderr
    assert ours == theirs.stdout
    assert rc2.decrypt_cbc(key, iv, ours, 40) == data


def test_rc2_refuses_bad_sizes() -> None:
    with pytest.raises(ValueError, match="IV of 7 bytes"):
        rc2.encrypt_cbc(b"12345", b"1234567", bytes(8), 40)
    with pytest.raises(ValueError, match="not a multiple of 8"):
        rc2.decrypt_cbc(b"12345", bytes(8), bytes(9), 40)
    with pytest.raises(ValueError, match="key of 0 bytes"):
        rc2.expand_key(b"", 40)


# --- reading NCA's files -------------------------------------------------------------------------


def test_nca_gost_files_are_read() -> None:
    assert len(NCA_GOST) == 3
    for path in NCA_GOST:
        contents = read_pkcs12(path.read_bytes(), NCA_PASSWORD)
        assert contents.key_algorithm == "1.2.398.3.10.1.1.2.2", path.name
        certificate = asn1_x509.Certificate.load(contents.certificate)
        assert certificate.subject.native["serial_number"] == "IIN123456789011"
        # NCA names the file, the friendly name and the local key id after the key identifier
        assert contents.local_key_id == certificate.key_identifier
        assert contents.friendly_name == certificate.key_identifier.hex()
        assert path.name == f"p12_GOST512_{contents.friendly_name}.p12"
        assert contents.chain == ()


def test_nca_rsa_file_is_read_with_the_same_code() -> None:
    contents = read_pkcs12(NCA_RSA.read_bytes(), NCA_PASSWORD.encode())
    assert contents.key_algorithm == "1.2.840.113549.1.1.1"
    key = serialization.load_der_private_key(contents.private_key_info, None)
    assert isinstance(key, rsa.RSAPrivateKey)
    certificate = asn1_x509.Certificate.load(contents.certificate)
    public = certificate.public_key.dump()
    assert (
        key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        == public
    )
    credential = Credential.from_pkcs12(NCA_RSA.read_bytes(), NCA_PASSWORD.encode())
    assert credential.certificate.serial_number == certificate.serial_number


def test_wrong_password_is_said_so() -> None:
    with pytest.raises(Pkcs12Error, match="wrong password"):
        read_pkcs12(NCA_GOST[0].read_bytes(), "123456")
    with pytest.raises(ValueError, match="wrong password"):
        Credential.from_pkcs12(NCA_GOST[0].read_bytes(), b"123456")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "not a readable PKCS#12 file"),
        (b"this is not DER", "not a readable PKCS#12 file"),
        (b"\x30\x03\x02\x01\x05", "not a readable PKCS#12 file"),
    ],
)
def test_not_pkcs12(data: bytes, message: str) -> None:
    with pytest.raises(Pkcs12Error, match=message):
        read_pkcs12(data, NCA_PASSWORD)


def test_truncated_file() -> None:
    data = NCA_GOST[0].read_bytes()
    with pytest.raises(Pkcs12Error):
        read_pkcs12(data[: len(data) // 2], NCA_PASSWORD)


# --- what OpenSSL writes, we read; what we write, OpenSSL reads ---------------------------------


def _openssl_export(tmp_path: Path, key_pem: bytes, cert_pem: bytes, *extra: str) -> bytes:
    (tmp_path / "key.pem").write_bytes(key_pem)
    (tmp_path / "cert.pem").write_bytes(cert_pem)
    result = openssl(
        "pkcs12",
        "-export",
        "-inkey",
        str(tmp_path / "key.pem"),
        "-in",
        str(tmp_path / "cert.pem"),
        "-passout",
        "pass:пароль-1",
        "-name",
        "RSA256_test",
        *extra,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_openssl_legacy_file_is_read(pki: TestPKI, tmp_path: Path) -> None:
    """OpenSSL's -legacy is NCA's format (3DES key, RC2-40 certificates, SHA-1 MAC)."""
    credential = pki.credential(TESTOV.iin)
    assert isinstance(credential.private_key, rsa.RSAPrivateKey)
    key_pem = credential.private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    cert_pem = credential.certificate.public_bytes(serialization.Encoding.PEM)
    for extra in (("-legacy",), ()):  # legacy, and OpenSSL 3's default (PBES2, AES, SHA-256)
        data = _openssl_export(tmp_path, key_pem, cert_pem, *extra)
        contents = read_pkcs12(data, "пароль-1")
        assert contents.friendly_name == "RSA256_test"
        assert contents.private_key_info == credential.private_key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        assert contents.certificate == credential.certificate.public_bytes(
            serialization.Encoding.DER
        )


def test_what_we_write_openssl_reads(pki: TestPKI, tmp_path: Path) -> None:
    credential = pki.credential(TESTOV.iin)
    assert isinstance(credential.private_key, rsa.RSAPrivateKey)
    key_der = credential.private_key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    cert_der = credential.certificate.public_bytes(serialization.Encoding.DER)
    data = write_pkcs12(
        key_der,
        cert_der,
        credential.chain
        and tuple(c.public_bytes(serialization.Encoding.DER) for c in credential.chain),
        password="123456",
    )
    path = tmp_path / "ours.p12"
    path.write_bytes(data)
    info = openssl(
        "pkcs12", "-info", "-legacy", "-in", str(path), "-passin", "pass:123456", "-nodes"
    )
    assert info.returncode == 0, info.stderr
    text = info.stderr.decode() + info.stdout.decode()
    assert "MAC: sha1, Iteration 1024" in text
    assert "Shrouded Keybag: pbeWithSHA1And3-KeyTripleDES-CBC, Iteration 1024" in text
    assert "PKCS7 Encrypted data: pbeWithSHA1And40BitRC2-CBC, Iteration 1024" in text
    assert "BEGIN PRIVATE KEY" in text
    identifier = credential.certificate.extensions.get_extension_for_class(
        x509.SubjectKeyIdentifier
    ).value.digest
    assert f"friendlyName: {identifier.hex()}" in text
    wrong = openssl(
        "pkcs12", "-info", "-legacy", "-in", str(path), "-passin", "pass:654321", "-noout"
    )
    assert wrong.returncode != 0
    assert read_pkcs12(data, "123456").private_key_info == key_der


def test_gost2004_key_is_read_but_refused_for_signing() -> None:
    contents = read_pkcs12(NCA_GOST2004.read_bytes(), NCA_PASSWORD)
    assert contents.key_algorithm == "1.2.398.3.10.1.1.1.1"
    with pytest.raises(ValueError, match=r"34\.310-2004"):
        Credential.from_pkcs12(NCA_GOST2004.read_bytes(), NCA_PASSWORD.encode())
