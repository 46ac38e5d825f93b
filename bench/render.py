"""How fast qujat renders, in one warm process, beside stock WeasyPrint and warm LibreOffice.
Prints figures; asserts nothing.

    .venv/bin/python bench/render.py [--certificates 100] [--protocol-rows 500] [--no-libreoffice]

Stock WeasyPrint renders the certificate's words as a plain one-page HTML page with its
defaults, interleaved with qujat's certificates; warm LibreOffice (one unoserver, see
bench/libreoffice.py; `scripts/setup --bench`) converts qujat's DOCX of the same documents.

Every certificate gets its own registration number, so its QR code is encoded afresh (no
cache helps). The first line calibrates the machine: on a shared VM the same Python loop
can take twice as long from one minute to the next, so compare figures with it.
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import json
import os
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pypdf import PdfReader  # noqa: E402
from weasyprint import HTML  # noqa: E402

from bench import libreoffice  # noqa: E402
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


def plain_page(html: str) -> str:
    """The words of a rendered form as a plain one-page HTML page: paragraphs, no stylesheet,
    no pictures (what "stock WeasyPrint on a plain page" means in these figures)."""
    body = re.sub(r"<(style|title|svg)\b.*?</\1>", " ", html, flags=re.DOTALL)
    words = [line.strip() for line in re.sub(r"<[^>]+>", "\n", body).splitlines()]
    paragraphs = "".join(f"<p>{line}</p>" for line in words if line)
    return f'<!DOCTYPE html><html lang="kk"><meta charset="utf-8"><body>{paragraphs}</body></html>'


def side_by_side(rows: list[tuple[str, list[float]]], reference: list[float]) -> None:
    for name, times in rows:
        ratio = statistics.median(times) / statistics.median(reference)
        describe(f"{name} ({ratio:.2f}× stock)", times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--certificates", type=int, default=100)
    parser.add_argument("--protocol-rows", type=int, default=500)
    parser.add_argument("--protocol-runs", type=int, default=3)
    parser.add_argument(
        "--libreoffice",
        action=argparse.BooleanOptionalAction,
        default=libreoffice.available() is None,
        help="also time warm LibreOffice (default: when scripts/setup --bench installed it)",
    )
    args = parser.parse_args()

    print(f"machine: 1M-iteration Python loop {calibration_ms():.0f} ms, load {load():.1f}")
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

    plain = plain_page(renderer.render_html(Form.CERTIFICATE, "kk", certificate, document(0)))

    def stock(i: int) -> bytes:
        # WeasyPrint as it comes: defaults, a fresh font configuration, no PDF/A
        content: bytes = HTML(string=plain).write_pdf()
        return content

    timed(pdf, 5)  # warm up: fonts, glyph caches, compiled templates
    timed(stock, 3)
    timed(docx, 3)
    n = args.certificates
    # interleaved, so that a busy minute on a shared machine slows both alike
    certificates: list[float] = []
    stocks: list[float] = []
    for i in range(n):
        certificates += timed(lambda _, i=i: pdf(1000 + i), 1)
        stocks += timed(stock, 1)
    describe("stock WeasyPrint, plain page, same words", stocks)
    side_by_side(
        [
            ("qujat certificate PDF (with QR code)", certificates),
            ("qujat certificate PDF preview", timed(preview, max(n // 2, 1))),
            ("qujat certificate DOCX", timed(lambda i: docx(5000 + i), max(n // 2, 1))),
        ],
        stocks,
    )
    print(f"qujat certificate PDF: {n / sum(certificates):.1f} certificates/s in one process")

    protocol = long_protocol(args.protocol_rows)
    protocols = []
    for run in range(args.protocol_runs):
        start = time.perf_counter()
        content = renderer.render_pdf(Form.PROTOCOL, "kk", protocol)
        protocols.append(time.perf_counter() - start)
        print(
            f"qujat {args.protocol_rows}-row protocol PDF, run {run + 1}: "
            f"{protocols[-1]:6.2f} s  ({len(content) // 1024} KiB, "
            f"{len(PdfReader(io.BytesIO(content)).pages)} pages)"
        )
    start = time.perf_counter()
    protocol_docx = renderer.render_docx(Form.PROTOCOL, "kk", protocol)
    print(f"qujat {args.protocol_rows}-row protocol DOCX: {time.perf_counter() - start:6.2f} s")

    if args.libreoffice:
        with (
            tempfile.TemporaryDirectory(prefix="qujat-bench-") as folder,
            libreoffice.WarmLibreOffice(Path(folder), 1) as warm,
        ):
            url = warm.urls[0]
            for i in range(3):  # Writer loads its libraries on the first documents
                libreoffice.convert_at(url, docx(i))
            converted = timed(lambda i: libreoffice.convert_at(url, docx(9000 + i)), 20)
            side_by_side([("warm LibreOffice, certificate DOCX → PDF", converted)], stocks)
            print(
                "qujat certificate PDF: "
                f"{statistics.median(converted) / statistics.median(certificates):.1f}× "
                "as fast as warm LibreOffice"
            )
            start = time.perf_counter()
            content = libreoffice.convert_at(url, protocol_docx)
            seconds = time.perf_counter() - start
            print(
                f"warm LibreOffice {args.protocol_rows}-row protocol DOCX → PDF: "
                f"{seconds:6.2f} s ({len(PdfReader(io.BytesIO(content)).pages)} pages; "
                f"qujat {seconds / statistics.median(protocols):.1f}× as fast)"
            )


def load() -> float:
    return os.getloadavg()[0]


if __name__ == "__main__":
    main()
