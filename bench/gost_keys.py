"""How long the signer's side of GOST takes (prints figures): reading NCA's PKCS#12 file,
signing a ~100 KB protocol as NCALayer would, writing an NCA-format .p12, and making the GOST
test PKI of `qujat pki init` for the example commission.

    .venv/bin/python bench/gost_keys.py [--runs 50]

Figures are wall time with this process's CPU time in brackets: on a loaded machine the wall
time mostly waits for other processes. No goal is set for these (a member signs once; the PKI
is made once per demo); they are here so that a slow change shows.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from service.cli.signatures import example_people  # noqa: E402
from signing.client import Credential, create_cms, sign_detached  # noqa: E402
from signing.gostpki import init_gost_test_pki  # noqa: E402
from signing.pkcs12 import read_pkcs12  # noqa: E402

NCA_KEY = ROOT / "tests/signing/data/nca/p12_GOST512_0860d9665327c26760c213126760a3b73072218d.p12"


def timed(action: Callable[[], object], runs: int) -> tuple[float, float]:
    """Median wall and CPU milliseconds of `action` over `runs` runs."""
    walls, cpus = [], []
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        action()
        walls.append((time.perf_counter() - wall) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
    return statistics.median(walls), statistics.median(cpus)


def line(label: str, figures: tuple[float, float]) -> None:
    wall, cpu = figures
    print(f"{label:<52} {wall:8.1f} ms  ({cpu:.1f} ms CPU)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=50)
    runs = parser.parse_args().runs
    data = NCA_KEY.read_bytes()
    protocol = b"%PDF-1.7\n" + random.Random(20240620).randbytes(100_000) + b"\n%%EOF\n"
    credential = Credential.from_pkcs12(data, b"Qwerty12")
    print(f"GOST signer's side, median of {runs} runs")
    line(
        "read NCA's GOST512_ .p12 (3DES, RC2-40, MAC)",
        timed(lambda: read_pkcs12(data, b"Qwerty12"), runs),
    )
    line(
        "sign 100 KB (CAdES-BES, Streebog-512, GOST-512)",
        timed(lambda: create_cms(protocol, credential), runs),
    )
    line(
        "read the .p12 and sign, as `qujat sign` does",
        timed(lambda: sign_detached(protocol, data, b"Qwerty12"), runs),
    )
    line("write an NCA-format .p12", timed(lambda: credential.to_pkcs12(b"123456"), runs))
    people = example_people(ROOT / "examples" / "commission.json")
    with tempfile.TemporaryDirectory() as folder:
        count = iter(range(1_000_000))
        pki_runs = max(1, runs // 10)
        figures = timed(
            lambda: init_gost_test_pki(Path(folder) / str(next(count)), people), pki_runs
        )
        line(f"GOST test PKI: 2 CAs + {len(people)} people x 2 keys", figures)


if __name__ == "__main__":
    main()
