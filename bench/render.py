"""How fast qujat renders, in one warm process. Prints figures; asserts nothing.

    .venv/bin/python bench/render.py [--certificates 100]

Every certificate gets its own registration number, so its QR code is encoded afresh (no
cache helps). The first line calibrates the machine: on a shared VM the same Python loop
can take twice as long from one minute to the next, so compare figures with it.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from service.forms.decisions import Certificate, Protocol, parse_decision  # noqa: E402
from service.forms.rendering import DocumentInfo, Renderer  # noqa: E402
from service.forms.vocabulary import Form  # noqa: E402


def example(form: Form, language: str) -> object:
    request = json.loads((ROOT / "examples" / f"{form.value}.{language}.json").read_text("utf-8"))
    return parse_decision(form, request["decision"])


def calibration_ms() -> float:
    """A fixed pure-Python loop: the machine's speed right now."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        total = 0
        for i in range(1_000_000):
            total += i * i
        best = min(best, time.perf_counter() - start)
    return best * 1000


def timed(action: Callable[[int], object], runs: int) -> list[float]:
    times = []
    for i in range(runs):
        start = time.perf_counter()
        action(i)
        times.append(time.perf_counter() - start)
    return times


def describe(name: str, times: list[float]) -> None:
    ms = [t * 1000 for t in times]
    print(
        f"{name:<38} mean {statistics.fmean(ms):7.1f} ms  median {statistics.median(ms):7.1f} ms"
        f"  min {min(ms):7.1f} ms  ({len(ms)} runs)"
    )


def long_protocol(rows: int) -> Protocol:
    base = example(Form.PROTOCOL, "kk")
    assert isinstance(base, Protocol)
    made = []
    for i in range(rows):
        row = base.rows[i % len(base.rows)]
        person = dataclasses.replace(row.person, surname=f"{row.person.surname}-{i:03d}", iin=None)
        made.append(dataclasses.replace(row, person=person))
    return dataclasses.replace(base, rows=tuple(made))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--certificates", type=int, default=100)
    parser.add_argument("--protocol-rows", type=int, default=500)
    args = parser.parse_args()

    print(f"machine: 1M-iteration Python loop {calibration_ms():.0f} ms")
    start = time.perf_counter()
    renderer = Renderer()
    print(f"Renderer() {1000 * (time.perf_counter() - start):.0f} ms")

    certificate = example(Form.CERTIFICATE, "kk")
    assert isinstance(certificate, Certificate)

    def document(i: int) -> DocumentInfo:
        number = f"KRG-2026-{i:06d}"
        return DocumentInfo(number, f"https://qujat.kz/v/{number}")

    def pdf(i: int) -> bytes:
        return renderer.render_pdf(Form.CERTIFICATE, "kk", certificate, document(i))

    def docx(i: int) -> bytes:
        return renderer.render_docx(Form.CERTIFICATE, "kk", certificate, document(i))

    def preview(i: int) -> bytes:
        return renderer.render_pdf(Form.CERTIFICATE, "kk", certificate)

    timed(pdf, 5)  # warm up: fonts, glyph caches, compiled templates
    timed(docx, 3)
    n = args.certificates
    certificates = timed(lambda i: pdf(1000 + i), n)
    print(f"certificate PDF (with QR code)         {n / sum(certificates):7.1f} certificates/s")
    describe("certificate PDF (with QR code)", certificates)
    describe("certificate PDF preview (no number)", timed(preview, max(n // 2, 1)))
    describe("certificate DOCX (with QR code)", timed(lambda i: docx(5000 + i), max(n // 2, 1)))

    protocol = long_protocol(args.protocol_rows)
    for run in range(2):
        start = time.perf_counter()
        content = renderer.render_pdf(Form.PROTOCOL, "kk", protocol)
        print(
            f"{args.protocol_rows}-row protocol PDF, run {run + 1}:         "
            f"{time.perf_counter() - start:6.2f} s  ({len(content) // 1024} KiB)"
        )
    start = time.perf_counter()
    renderer.render_docx(Form.PROTOCOL, "kk", protocol)
    print(
        f"{args.protocol_rows}-row protocol DOCX:                "
        f"{time.perf_counter() - start:6.2f} s"
    )


if __name__ == "__main__":
    main()
