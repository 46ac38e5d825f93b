"""How long GOST 34.10-2015 signature verification takes, with RSA as the baseline (prints figures).

Builds a GOST-512 test chain (root, CA, CRLs; tests/signing/gost_pki.py) and the RSA test PKI,
has 9 members sign a ~100 KB protocol with each, and times verification against the trust
anchors and local CRLs, revocation required:

    .venv/bin/python bench/gost.py [--runs 200]

Goals (issue 12): one GOST-512 CMS signature ≤ 15 ms, a 9-signer GOST protocol re-verified
≤ 150 ms. "warm" is a running service's steady state (certificate paths memoised for the CRLs'
lifetime); "no cache" validates every chain with pyhanko again, GOST signatures on the
certificates and CRLs included (each checked once per protocol). The curve check and Streebog
are timed on their own. Figures are wall time with this process's CPU time in brackets: on a
loaded machine the wall time mostly waits for other processes.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.verify import members  # noqa: E402
from signing import (  # noqa: E402
    TrustAnchors,
    gost,
    gost_pkix,
    verify_detached_cms,
    verify_signatures,
)
from signing.client import create_cms  # noqa: E402
from signing.pki import init_test_pki  # noqa: E402
from tests.signing.gost_pki import GostPKI, sign_cms  # noqa: E402

CPU: list[float] = []  # the CPU-time median of each figure, in the order measured


def median_ms(action: Callable[[], object], runs: int) -> float:
    """Median wall time; the median CPU time of this process goes to CPU (on a loaded machine
    the wall time waits for other processes, the CPU time does not)."""
    timings, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        action()
        timings.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    CPU.append(statistics.median(cpu) * 1000)
    return statistics.median(timings) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200, help="timed runs per figure")
    parser.add_argument("--signers", type=int, default=9)
    args = parser.parse_args()

    now = datetime.now(UTC)
    people = members(args.signers)
    iins = [p.iin for p in people]
    protocol = b"%PDF-1.7\n" + random.Random(1).randbytes(100 * 1024)
    signed_at = now - timedelta(minutes=1)

    gost_pki = GostPKI.create(now)
    gost_signatures = [
        sign_cms(protocol, gost_pki.credential(p.iin, p.common_name), signed_at) for p in people
    ]
    gost_trust = TrustAnchors.from_certificates(
        [gost_pki.root.der, gost_pki.ca.der], gost_pki.crls()
    )

    with tempfile.TemporaryDirectory() as folder:
        rsa_pki = init_test_pki(Path(folder), people)
        rsa_signatures = [create_cms(protocol, rsa_pki.credential(i)) for i in iins]
        rsa_trust = TrustAnchors.from_folder(folder)

    curve = gost.KZ_512_A
    d = 0x1234567890ABCDEF1234567890ABCDEF
    point = gost.public_key(curve, d)
    digest = gost.streebog512(b"signed attributes")
    r, s = gost.sign_digest(curve, d, digest)
    curve_ms = median_ms(lambda: gost.verify_digest(curve, point, digest, r, s), args.runs)
    e = gost.digest_to_int(curve, digest)
    points_ms = median_ms(lambda: gost._verify_e_by_points(curve, point, e, r, s), args.runs)
    streebog_ms = median_ms(lambda: gost.streebog512(protocol), args.runs)

    rows = []
    for label, signatures, trust in (
        ("GOST-512", gost_signatures, gost_trust),
        ("RSA-2048", rsa_signatures, rsa_trust),
    ):
        reports = verify_signatures(signatures, protocol, trust=trust, expected_iins=iins)
        if not all(report.ok for report in reports):
            print(f"{label}: unexpected failures:", [report.codes for report in reports])

        def fresh(trust: TrustAnchors = trust) -> TrustAnchors:
            gost_pkix._verdicts.clear()  # GOST signatures of CA certificates and CRLs too
            return TrustAnchors(
                roots=trust.roots, intermediates=trust.intermediates, crls=trust.crls
            )

        one = median_ms(
            lambda sigs=signatures, t=trust: verify_detached_cms(
                sigs[0], protocol, trust=t, expected_iin=iins[0]
            ),
            args.runs,
        )
        whole = median_ms(
            lambda sigs=signatures, t=trust: verify_signatures(
                sigs, protocol, trust=t, expected_iins=iins
            ),
            args.runs,
        )
        uncached_one = median_ms(
            lambda sigs=signatures: verify_detached_cms(
                sigs[0], protocol, trust=fresh(), expected_iin=iins[0]
            ),
            max(5, args.runs // 10),
        )
        uncached = median_ms(
            lambda sigs=signatures: verify_signatures(
                sigs, protocol, trust=fresh(), expected_iins=iins
            ),
            max(5, args.runs // 20),
        )
        rows.append((label, one, whole, uncached_one, uncached))

    load = os.getloadavg()[0]
    print(
        f"content: {len(protocol) / 1024:.0f} KiB, signers: {len(people)}, runs: {args.runs}, "
        f"load average {load:.1f} on {os.cpu_count()} cores; wall ms (CPU ms)"
    )
    cpu = iter(CPU)
    print(
        f"GOST-512 curve check, fastecdsa's verify (median):  {curve_ms:8.3f} ms ({next(cpu):.3f})"
    )
    print(
        f"GOST-512 curve check, z1*P + z2*Q as points (median): {points_ms:8.3f} ms "
        f"({next(cpu):.3f})"
    )
    print(
        f"Streebog-512 of the {len(protocol) // 1024} KiB protocol (median):   "
        f"{streebog_ms:8.3f} ms ({next(cpu):.3f})"
    )
    print(
        f"{'':10} {'one CMS':>10} {len(people):>3}-signer protocol {'one, no cache':>15} "
        f"{'protocol, no cache':>19}"
    )
    for label, one, whole, uncached_one, uncached in rows:
        c1, c2, c3, c4 = next(cpu), next(cpu), next(cpu), next(cpu)
        print(
            f"{label:10} {one:7.2f} ({c1:5.2f}) {whole:8.2f} ({c2:6.2f}) "
            f"{uncached_one:8.2f} ({c3:6.2f}) {uncached:8.2f} ({c4:6.2f})"
        )
    gost_row = rows[0]
    print(
        f"goals: one GOST-512 CMS ≤ 15 ms (no cache: {gost_row[3]:.1f} ms), "
        f"{len(people)}-signer GOST protocol ≤ 150 ms (no cache: {gost_row[4]:.1f} ms)"
    )


if __name__ == "__main__":
    main()
