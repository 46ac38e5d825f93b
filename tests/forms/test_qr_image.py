"""The QR code of an issued document is a sharp grey bitmap in the PDF (a PNG drawn without
smoothing), readable from a low-resolution scan of the page, and the same code as segno's."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader

from service.forms.decisions import parse_decision
from service.forms.rendering import DocumentInfo, Renderer, _qr
from service.forms.vocabulary import LANGUAGES, Form, Language
from tests.conftest import load_example

URL = "http://127.0.0.1:8001/verify/01-KRG-26-000001-68?t=Zm9vYmFyYmF6"


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer()


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("form", [Form.CERTIFICATE, Form.EXTRACT, Form.HEADS_EXTRACT])
def test_the_qr_code_scans_from_a_100_dpi_page(
    renderer: Renderer, form: Form, language: Language, tmp_path: Path
) -> None:
    decision = parse_decision(form, load_example(form.value, language)["decision"])
    pdf = renderer.render_pdf(form, language, decision, DocumentInfo("01-KRG-26-000001-68", URL))
    (tmp_path / "doc.pdf").write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", "100", "-png", str(tmp_path / "doc.pdf"), str(tmp_path / "page")],
        check=True,
    )
    read = subprocess.run(
        ["zbarimg", "--raw", "-q", str(tmp_path / "page-1.png")], capture_output=True, text=True
    )
    assert read.stdout.split() == [URL]


def test_the_bitmap_is_the_qr_code_drawn_without_smoothing(renderer: Renderer) -> None:
    decision = parse_decision(Form.CERTIFICATE, load_example("certificate", "kk")["decision"])
    pdf = renderer.render_pdf(
        Form.CERTIFICATE, "kk", decision, DocumentInfo("01-KRG-26-000001-68", URL)
    )
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    images = list(page.images)
    assert len(images) == 1
    xobject = images[0].indirect_reference.get_object()  # type: ignore[union-attr]
    assert xobject["/Interpolate"].value is False  # PDF/A forbids smoothing, and so do we
    assert xobject["/ColorSpace"] == "/DeviceGray"
    picture = images[0].image
    assert picture is not None
    modules = [list(row) for row in _qr(URL).matrix_iter(border=2)]
    scale = picture.width // len(modules)
    assert picture.size == (len(modules) * scale, len(modules) * scale)
    grey = picture.convert("L")
    for y, row in enumerate(modules):
        for x, dark in enumerate(row):
            centre = grey.getpixel((x * scale + scale // 2, y * scale + scale // 2))
            assert centre == (0 if dark else 255), (x, y)
