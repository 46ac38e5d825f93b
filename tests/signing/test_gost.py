"""GOST R 34.10-2012 arithmetic, Streebog and the byte conventions of signing.gost."""

from __future__ import annotations

import pytest

from signing import gost


def _hex(*parts: str) -> int:
    return int("".join(parts), 16)


# GOST R 34.10-2012, appendix A.2 (512-bit example): private key d, the hash as the integer
# alpha, the nonce k, the public key Q and the signature (r, s).
A2_D = _hex(
    "BA6048AADAE241BA40936D47756D7C93091A0E8514669700EE7508E508B1020"
    "72E8123B2200A0563322DAD2827E2714A2636B7BFD18AADFC62967821FA18DD4"
)
A2_ALPHA = _hex(
    "3754F3CFACC9E0615C4F4A7C4D8DAB531B09B6F9C170C533A71D147035B0C591"
    "7184EE536593F4414339976C647C5D5A407ADEDB1D560C4FC6777D2972075B8C"
)
A2_K = _hex(
    "0359E7F4B1410FEACC570456C6801496946312120B39D019D455986E364F3658"
    "86748ED7A44B3E794434006011842286212273A6D14CF70EA3AF71BB1AE679F1"
)
A2_QX = _hex(
    "115DC5BC96760C7B48598D8AB9E740D4C4A85A65BE33C1815B5C320C854621DD"
    "5A515856D13314AF69BC5B924C8B4DDFF75C45415C1D9DD9DD33612CD530EFE1"
)
A2_QY = _hex(
    "37C7C90CD40B0F5621DC3AC1B751CFA0E2634FA0503B3D52639F5D7FB72AFD61"
    "EA199441D943FFE7F0C70A2759A3CDB84C114E1F9339FDF27F35ECA93677BEEC"
)
A2_R = _hex(
    "2F86FA60A081091A23DD795E1E3C689EE512A3C82EE0DCC2643C78EEA8FCACD3"
    "5492558486B20F1C9EC197C90699850260C93BCBCD9C5C3317E19344E173AE36"
)
A2_S = _hex(
    "1081B394696FFE8E6585E7A9362D26B6325F56778AADBC081C0BFBE933D52FF5"
    "823CE288E8C4F362526080DF7F70CE406A6EEB1F56919CB92A9853BDE73E5B4A"
)

# The digest bytes whose little-endian reading is alpha.
A2_DIGEST = A2_ALPHA.to_bytes(64, "little")

# RFC 6986 / GOST R 34.11-2012 example M1 (63 bytes), as OpenSSL prints the digests.
M1 = b"012345678901234567890123456789012345678901234567890123456789012"
M1_512 = (
    "1b54d01a4af5b9d5cc3d86d68d285462b19abc2475222f35c085122be4ba1ffa"
    "00ad30f8767b3a82384c6574f024c311e2a481332b08ef7f41797891c1646f48"
)
M1_256 = "9d151eefd8590b89daa6ba6cb74af9275dd051026bb149a452fd84e5e57b5500"


def test_public_key_of_the_standard_example() -> None:
    assert gost.public_key(gost.TEST_512, A2_D) == (A2_QX, A2_QY)


def test_sign_with_the_standard_nonce_gives_the_standard_signature() -> None:
    assert gost.sign_digest(gost.TEST_512, A2_D, A2_DIGEST, k=A2_K) == (A2_R, A2_S)


def test_the_standard_signature_verifies_and_a_changed_one_does_not() -> None:
    q = (A2_QX, A2_QY)
    assert gost.verify_digest(gost.TEST_512, q, A2_DIGEST, A2_R, A2_S)
    assert not gost.verify_digest(gost.TEST_512, q, A2_DIGEST, A2_R, A2_S ^ 1)
    assert not gost.verify_digest(gost.TEST_512, q, A2_DIGEST, A2_R ^ 1, A2_S)
    other = bytes([A2_DIGEST[0] ^ 1]) + A2_DIGEST[1:]
    assert not gost.verify_digest(gost.TEST_512, q, other, A2_R, A2_S)


def test_out_of_range_values_and_points_off_the_curve_do_not_verify() -> None:
    q = (A2_QX, A2_QY)
    curve = gost.TEST_512
    assert not gost.verify_digest(curve, q, A2_DIGEST, 0, A2_S)
    assert not gost.verify_digest(curve, q, A2_DIGEST, A2_R, curve.q)
    assert not gost.verify_digest(curve, (A2_QX, A2_QY ^ 1), A2_DIGEST, A2_R, A2_S)


@pytest.mark.parametrize("oid", sorted(gost.CURVES))
def test_every_parameter_set_has_its_base_point_of_order_q(oid: str) -> None:
    curve = gost.CURVES[oid]
    assert (curve.y * curve.y - curve.x**3 - curve.a * curve.x - curve.b) % curve.p == 0
    assert (curve.q * curve.generator).z == 0  # the point at infinity
    assert curve.q.bit_length() > 8 * curve.size - 8


@pytest.mark.parametrize(
    "oid", ["1.2.643.7.1.2.1.2.1", "1.2.398.3.10.1.1.2.2.1", "1.2.643.7.1.2.1.1.1"]
)
def test_sign_and_verify_round_trip_on_the_real_curves(oid: str) -> None:
    curve = gost.CURVES[oid]
    d = 0x1234567890ABCDEF % curve.q + 12345
    point = gost.public_key(curve, d)
    digest = gost.streebog512(b"protocol") if curve.size == 64 else gost.streebog256(b"p")
    r, s = gost.sign_digest(curve, d, digest)
    assert gost.verify_digest(curve, point, digest, r, s)
    assert not gost.verify_digest(curve, point, digest[::-1], r, s)


def test_streebog_matches_the_standard_examples() -> None:
    assert gost.streebog512(M1).hex() == M1_512
    assert gost.streebog256(M1).hex() == M1_256


def test_encodings_round_trip_and_reject_wrong_lengths() -> None:
    curve = gost.TEST_512
    encoded = gost.encode_public_key(curve, (A2_QX, A2_QY))
    assert encoded[:3] == b"\x04\x81\x80"
    assert gost.decode_public_key(curve, encoded) == (A2_QX, A2_QY)
    signature = gost.encode_signature(curve, A2_R, A2_S)
    assert signature[:2] == bytes.fromhex("36ae")  # r first, little-endian (NCA)
    assert signature[-2:] == bytes.fromhex("8110")
    assert gost.encode_signature_rfc4491(curve, A2_R, A2_S)[:2] == bytes.fromhex("1081")
    assert gost.decode_signature(curve, signature) == (A2_R, A2_S)
    with pytest.raises(ValueError, match="expected 128"):
        gost.decode_signature(curve, signature[:-1])
    with pytest.raises(ValueError, match="OCTET STRING"):
        gost.decode_public_key(curve, b"\x03" + encoded[1:])
    with pytest.raises(ValueError, match="not on the curve"):
        gost.decode_public_key(curve, encoded[:-1] + bytes([encoded[-1] ^ 1]))


def test_private_key_out_of_range_is_refused() -> None:
    with pytest.raises(ValueError, match="private key"):
        gost.public_key(gost.TC26_512_A, 0)
    with pytest.raises(ValueError, match="private key"):
        gost.sign_digest(gost.TC26_512_A, gost.TC26_512_A.q, b"\x01" * 64)


def test_the_fast_check_agrees_with_the_point_arithmetic_of_the_standard() -> None:
    curve = gost.KZ_512_A
    d = 0xC0FFEE % curve.q + 99
    point = gost.public_key(curve, d)
    for n in range(8):
        digest = gost.streebog512(bytes([n]) * 10)
        e = gost.digest_to_int(curve, digest)
        r, s = gost.sign_digest(curve, d, digest)
        for rr, ss in ((r, s), (r, s ^ 1), (r ^ 2, s), (s, r)):
            expected = gost._verify_e_by_points(curve, point, e, rr, ss)
            assert gost._verify_e(curve, point, e, rr, ss) == expected
            assert expected == ((rr, ss) == (r, s))
    assert gost._verify_e(gost.TEST_512, (A2_QX, A2_QY), A2_ALPHA, A2_R, A2_S)
    assert gost._verify_e_by_points(gost.TEST_512, (A2_QX, A2_QY), A2_ALPHA, A2_R, A2_S)
