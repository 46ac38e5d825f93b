"""RC2 in CBC mode (RFC 2268) with any effective key length, for legacy PKCS#12 files only.

The national CA (НУЦ РК) encrypts the certificates of its PKCS#12 files with
pbeWithSHAAnd40BitRC2-CBC: a 5-byte key with 40 effective key bits. `cryptography` offers RC2
only with 128-bit keys, so this module implements the cipher as RFC 2268 describes it. It
protects nothing worth protecting (40 bits) and is used only to read and write that one layer
of the file format; it is not constant-time and must not be used for anything else.
"""

from __future__ import annotations

BLOCK_SIZE = 8

# RFC 2268, section 2: a permutation of 0..255 built from the digits of pi.
_PITABLE = bytes.fromhex(
    "d978f9c419ddb5ed28e9fd794aa0d89dc67e37832b76538e624c6488448bfba2"
    "179a59f587b34f1361456d8d09817d32bd8f40eb86b77b0bf09521225c6b4e82"
    "54d66593ce60b21c7356c014a78cf1dc1275ca1f3bbee4d1423dd430a33cb626"
    "6fbf0eda4669075727f21d9bbc944303f811c7f690ef3ee706c3d52fc8661ed7"
    "08e8eade8052eef784aa72ac354d6a2a961ad2715a1549744b9fd05e0418a4ec"
    "c2e0416e0f51cbcc2491af50a1f47039997c3a8523b8b47afc02365b25559731"
    "2d5dfa98e38a92ae05df2910676cbac9d300e6cfe19ea82c6316013f58e289a9"
    "0d38341bab33ffb0bb480c5fb9b1cd2ec5f3db47e5a59c770aa62068fe7fc1ad"
)
_SHIFTS = (1, 2, 3, 5)
_MASK = 0xFFFF


def expand_key(key: bytes, effective_bits: int) -> list[int]:
    """The 64 16-bit subkeys K[0..63] of `key` (1-128 bytes) at `effective_bits` (1-1024)."""
    if not 1 <= len(key) <= 128:
        raise ValueError(f"RC2 key of {len(key)} bytes: 1 to 128 bytes expected")
    if not 1 <= effective_bits <= 1024:
        raise ValueError(f"RC2 effective key length {effective_bits}: 1 to 1024 bits expected")
    t = len(key)
    t8 = (effective_bits + 7) // 8
    tm = 0xFF >> (8 * t8 - effective_bits)
    table = bytearray(128)
    table[:t] = key
    for i in range(t, 128):
        table[i] = _PITABLE[(table[i - 1] + table[i - t]) & 0xFF]
    table[128 - t8] = _PITABLE[table[128 - t8] & tm]
    for i in range(127 - t8, -1, -1):
        table[i] = _PITABLE[table[i + 1] ^ table[i + t8]]
    return [table[2 * i] | (table[2 * i + 1] << 8) for i in range(64)]


def _encrypt_block(k: list[int], block: bytes) -> bytes:
    r0 = block[0] | block[1] << 8
    r1 = block[2] | block[3] << 8
    r2 = block[4] | block[5] << 8
    r3 = block[6] | block[7] << 8
    j = 0
    for rounds in (5, -1, 6, -1, 5):
        if rounds < 0:  # a mashing round
            r0 = (r0 + k[r3 & 63]) & 0xFFFF
            r1 = (r1 + k[r0 & 63]) & 0xFFFF
            r2 = (r2 + k[r1 & 63]) & 0xFFFF
            r3 = (r3 + k[r2 & 63]) & 0xFFFF
            continue
        for _ in range(rounds):  # mixing rounds: R[i] += K[j] + (R[i-1] & R[i-2]) + …, rotate
            v = (r0 + k[j] + (r3 & r2) + (~r3 & r1)) & 0xFFFF
            r0 = ((v << 1) | (v >> 15)) & 0xFFFF
            v = (r1 + k[j + 1] + (r0 & r3) + (~r0 & r2)) & 0xFFFF
            r1 = ((v << 2) | (v >> 14)) & 0xFFFF
            v = (r2 + k[j + 2] + (r1 & r0) + (~r1 & r3)) & 0xFFFF
            r2 = ((v << 3) | (v >> 13)) & 0xFFFF
            v = (r3 + k[j + 3] + (r2 & r1) + (~r2 & r0)) & 0xFFFF
            r3 = ((v << 5) | (v >> 11)) & 0xFFFF
            j += 4
    return bytes((r0 & 0xFF, r0 >> 8, r1 & 0xFF, r1 >> 8, r2 & 0xFF, r2 >> 8, r3 & 0xFF, r3 >> 8))


def _decrypt_block(k: list[int], block: bytes) -> bytes:
    r = [
        block[0] | block[1] << 8,
        block[2] | block[3] << 8,
        block[4] | block[5] << 8,
        block[6] | block[7] << 8,
    ]
    j = 63
    for rounds in (5, -1, 6, -1, 5):
        if rounds < 0:  # a reverse mashing round
            for i in (3, 2, 1, 0):
                r[i] = (r[i] - k[r[i - 1] & 63]) & _MASK
            continue
        for _ in range(rounds):  # reverse mixing rounds
            for i in (3, 2, 1, 0):
                s = _SHIFTS[i]
                value = ((r[i] >> s) | (r[i] << (16 - s))) & _MASK
                r[i] = (value - k[j] - (r[i - 1] & r[i - 2]) - (~r[i - 1] & r[i - 3])) & _MASK
                j -= 1
    return b"".join(w.to_bytes(2, "little") for w in r)


def encrypt_cbc(key: bytes, iv: bytes, data: bytes, effective_bits: int) -> bytes:
    """Encrypt `data` (a multiple of 8 bytes: pad it first) in CBC mode."""
    _check(iv, data)
    k = expand_key(key, effective_bits)
    out = bytearray()
    previous = iv
    for start in range(0, len(data), BLOCK_SIZE):
        block = bytes(
            a ^ b for a, b in zip(data[start : start + BLOCK_SIZE], previous, strict=True)
        )
        previous = _encrypt_block(k, block)
        out += previous
    return bytes(out)


def decrypt_cbc(key: bytes, iv: bytes, data: bytes, effective_bits: int) -> bytes:
    """Decrypt `data` (a multiple of 8 bytes) in CBC mode; the padding is left in place."""
    _check(iv, data)
    k = expand_key(key, effective_bits)
    out = bytearray()
    previous = iv
    for start in range(0, len(data), BLOCK_SIZE):
        block = data[start : start + BLOCK_SIZE]
        out += bytes(a ^ b for a, b in zip(_decrypt_block(k, block), previous, strict=True))
        previous = block
    return bytes(out)


def _check(iv: bytes, data: bytes) -> None:
    if len(iv) != BLOCK_SIZE:
        raise ValueError(f"RC2 IV of {len(iv)} bytes: {BLOCK_SIZE} expected")
    if len(data) % BLOCK_SIZE:
        raise ValueError(f"RC2-CBC data of {len(data)} bytes: not a multiple of {BLOCK_SIZE}")
