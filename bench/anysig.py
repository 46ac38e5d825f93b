"""What `qujat signature verify` costs in the library (run on demand, prints figures).

The real NCA test signatures of tests/signing/data (XML with RSA and with GOST-2015-512, a
two-signer XML), and a 9-signer combined .p7s made with a test PKI over a 100 KB document, all
verified by `signing.inspect.verify_any` (revocation off for the NCA material, whose CAs are not
in the trust folder; required for the test PKI):

    .venv/bin/python bench/anysig.py [--runs 50]
"""

from __future__ import annotations

import argparse
import random
import tempfile
from pathlib import Path

from timing import median_ms

from signing import TrustAnchors, combine_signatures
from signing.client import create_cms
from signing.inspect import verify_any
from signing.pki import Person, init_test_pki
from signing.trust import RevocationMode, RevocationPolicy

DATA = Path(__file__).resolve().parents[1] / "tests" / "signing" / "data"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=50)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as folder:
        pki = init_test_pki(Path(folder) / "pki", [])
        trust = TrustAnchors.from_folder(pki.directory)
        off = RevocationPolicy(RevocationMode.OFF)
        for name in ("xml_ncanode_rsa.xml", "xml_mitwork_gost2015.xml", "xml_ncanode_rsa_gost.xml"):
            data = (DATA / name).read_bytes()
            figure = median_ms(
                lambda data=data: verify_any(data, trust=trust, revocation=off), runs
            )
            print(f"{name:32} {figure:7.2f} ms")
        content = b"%PDF-1.7\n" + random.Random(1).randbytes(100_000)
        credentials = [pki.issue(Person(iin, "Тестов", "Тест", "")) for iin in _iins(9)]
        trust = TrustAnchors.from_folder(pki.directory)  # with the CRLs as they are now
        combined = combine_signatures([create_cms(content, c) for c in credentials])
        figure = median_ms(lambda: verify_any(combined, content, trust=trust), runs)
        print(f"{'9-signer .p7s (test PKI)':32} {figure:7.2f} ms")


def _iins(count: int) -> list[str]:
    from signing.identity import is_valid_iin

    found: list[str] = []
    number = 931002451300
    while len(found) < count:
        if is_valid_iin(str(number)):
            found.append(str(number))
        number += 1
    return found


if __name__ == "__main__":
    main()
