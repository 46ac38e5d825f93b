"""How long verifying a commission protocol's signatures takes (run on demand, prints figures).

Builds a test PKI in a temporary folder, has 9 members sign a ~100 KB protocol (detached CMS, as
NCALayer returns it), and times verification against the folder's trust anchors and local CRLs,
revocation required:

    .venv/bin/python bench/verify.py [--runs 200]

"warm" is the steady state of a running service (certificate paths already validated and
memoised for the CRL's lifetime); "no path cache" validates every chain with pyhanko again.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

from timing import median_ms

from signing import TrustAnchors, verify_detached_cms, verify_signatures
from signing.client import create_cms
from signing.identity import is_valid_iin
from signing.pki import Person, init_test_pki

SURNAMES = ["Ахметов", "Сейткали", "Жумабаева", "Иванова", "Нұрланов", "Ким", "Оспанова", "Әлиев"]
NAMES = ["Ерлан", "Айгүл", "Дана", "Марат", "Сәуле", "Олег", "Гүлнар", "Асхат", "Жанар"]


def members(count: int) -> list[Person]:
    people: list[Person] = []
    candidate = 750101300000
    while len(people) < count:
        candidate += 1
        iin = str(candidate)
        if is_valid_iin(iin):
            n = len(people)
            people.append(Person(iin, SURNAMES[n % len(SURNAMES)], NAMES[n % len(NAMES)]))
    return people


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200, help="timed runs per figure")
    parser.add_argument("--signers", type=int, default=9)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        people = members(args.signers)
        pki = init_test_pki(Path(folder), people)
        print(f"test PKI with {len(people)} people: {time.perf_counter() - started:.2f} s")

        protocol = b"%PDF-1.7\n" + random.Random(1).randbytes(100 * 1024)
        signatures = [create_cms(protocol, pki.credential(p.iin)) for p in people]
        iins = [p.iin for p in people]
        trust = TrustAnchors.from_folder(folder)

        started = time.perf_counter()
        reports = verify_signatures(signatures, protocol, trust=trust, expected_iins=iins)
        cold = (time.perf_counter() - started) * 1000
        if not all(r.ok for r in reports):
            print("unexpected failures:", [r.codes for r in reports])

        def fresh_trust() -> TrustAnchors:
            return TrustAnchors(
                roots=trust.roots, intermediates=trust.intermediates, crls=trust.crls
            )

        one = median_ms(
            lambda: verify_detached_cms(signatures[0], protocol, trust=trust, expected_iin=iins[0]),
            args.runs,
        )
        protocol_ms = median_ms(
            lambda: verify_signatures(signatures, protocol, trust=trust, expected_iins=iins),
            args.runs,
        )
        one_by_one = median_ms(
            lambda: [
                verify_detached_cms(s, protocol, trust=trust, expected_iin=i)
                for s, i in zip(signatures, iins, strict=True)
            ],
            args.runs,
        )
        uncached = median_ms(
            lambda: verify_signatures(
                signatures, protocol, trust=fresh_trust(), expected_iins=iins
            ),
            max(5, args.runs // 20),
        )

    print(f"content: {len(protocol) / 1024:.0f} KiB, signers: {len(signatures)}, runs: {args.runs}")
    print(f"first verification of the protocol (cold): {cold:8.2f} ms")
    print(f"one signature, warm (median):              {one:8.3f} ms")
    print(f"{len(signatures)}-signer protocol, warm (median):         {protocol_ms:8.3f} ms")
    print(f"{len(signatures)} x verify_detached_cms, warm (median):   {one_by_one:8.3f} ms")
    print(f"{len(signatures)}-signer protocol, no path cache (median): {uncached:8.2f} ms")


if __name__ == "__main__":
    main()
