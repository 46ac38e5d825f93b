"""Visual regression: every example, rendered again, looks like its approved page images.

Each example of examples/ (7 forms × kk/ru) is rendered as a preview (no number: the same
bytes on every machine) and as an issued document (a fixed number and QR code), turned into
grayscale PNG pages at 50 dpi with pdftoppm, and compared pixel by pixel with the approved
images in tests/forms/pages/. The DOCX is compared the same way after LibreOffice has made a
PDF of it, when LibreOffice is installed.

A page passes when fewer than MAX_CHANGED of its pixels differ by more than THRESHOLD grey
levels (anti-aliasing moves from one version of FreeType or Pango to the next; a moved line
or a changed word changes thousands of pixels). A failure writes the new page and a diff
image (changed pixels black on white) under test-artifacts/pages/.

The approved images are kept per renderer version (`pdf-weasyprint<major>`, `docx-lo<major.
minor>`): another WeasyPrint or LibreOffice lays text out differently enough to move lines,
so a machine with a version that has no approved images skips with the reason, rather than
failing on every page. Approving is one command:

    scripts/approve-pages
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import weasyprint
from PIL import Image, ImageChops

from service.forms.decisions import parse_request
from service.forms.rendering import DocumentInfo, Renderer

ROOT = Path(__file__).resolve().parents[2]
APPROVED = Path(__file__).resolve().parent / "pages"
ARTIFACTS = ROOT / "test-artifacts" / "pages"
APPROVE = os.environ.get("QUJAT_APPROVE_PAGES") == "1"
DPI = 50
THRESHOLD = 64  # grey levels a pixel may move before it counts as changed
MAX_CHANGED = 0.002  # share of a page's pixels that may change
ISSUED = DocumentInfo(
    "01-KRG-26-000001-68", "https://qujat.example.kz/verify/01-KRG-26-000001-68?t=0123456789"
)
EXAMPLES = sorted(p for p in (ROOT / "examples").glob("*.*.json") if p.stem.count(".") == 1)
CASES = [
    pytest.param(path, issued, id=f"{path.stem}-{'issued' if issued else 'preview'}")
    for path in EXAMPLES
    for issued in (False, True)
]
SOFFICE = shutil.which("soffice")


def _pdf_key() -> str:
    return f"pdf-weasyprint{weasyprint.__version__.split('.')[0]}"


def _lo_key() -> str | None:
    if SOFFICE is None:
        return None
    version = subprocess.run(
        [SOFFICE, "--version"], capture_output=True, text=True, check=True
    ).stdout.split()
    numbers = next((v for v in version if v[:1].isdigit()), "unknown")
    return "docx-lo" + ".".join(numbers.split(".")[:2])


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer()


def _request(path: Path) -> tuple[Any, Any, Any]:
    payload = json.loads(path.read_text("utf-8"))
    payload["format"] = "pdf"
    form, language, _, decision = parse_request(payload)
    return form, language, decision


def _pages(pdf: Path, out: Path) -> list[Path]:
    """The PDF's pages as grayscale PNGs in `out`."""
    out.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["pdftoppm", "-r", str(DPI), "-gray", "-png", str(pdf), str(out / "page")], check=True
    )
    return sorted(out.glob("page-*.png"))


def _name(case: str, index: int) -> str:
    return f"{case}-{index + 1}.png"


def _compare(key: str, case: str, pages: list[Path]) -> None:
    folder = APPROVED / key
    if APPROVE:
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob(f"{case}-*.png"):
            stale.unlink()
        for i, page in enumerate(pages):
            # PNG with optimisation: small files in the repository
            Image.open(page).convert("L").save(folder / _name(case, i), optimize=True)
        return
    if not folder.is_dir():
        pytest.skip(
            f"no approved pages for {key} (another renderer version): run "
            "scripts/approve-pages and look at the images before committing them"
        )
    approved = sorted(folder.glob(f"{case}-*.png"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))
    problems = []
    if len(approved) != len(pages):
        problems.append(f"{len(pages)} pages instead of {len(approved)}")
    for i, (page, old_path) in enumerate(zip(pages, approved, strict=False)):
        new = Image.open(page).convert("L")
        old = Image.open(old_path).convert("L")
        if new.size != old.size:
            problems.append(f"page {i + 1}: size {new.size} instead of {old.size}")
            _keep(key, case, i, new, None)
            continue
        diff = ImageChops.difference(new, old).point(lambda v: 255 if v > THRESHOLD else 0)
        changed = diff.histogram()[255]
        if changed > MAX_CHANGED * new.width * new.height:
            problems.append(f"page {i + 1}: {changed} pixels changed")
            _keep(key, case, i, new, diff)
    for i in range(len(approved), len(pages)):
        _keep(key, case, i, Image.open(pages[i]).convert("L"), None)
    assert not problems, (
        f"{case} ({key}): "
        + "; ".join(problems)
        + (f"; new pages and diffs in {ARTIFACTS.relative_to(ROOT)}/{key}/")
    )


def _keep(key: str, case: str, index: int, new: Image.Image, diff: Image.Image | None) -> None:
    out = ARTIFACTS / key
    out.mkdir(parents=True, exist_ok=True)
    new.save(out / _name(case, index))
    if diff is not None:
        ImageChops.invert(diff).save(out / _name(f"{case}-diff", index))


@pytest.mark.parametrize(("path", "issued"), CASES)
def test_pdf_pages_look_as_approved(
    renderer: Renderer, path: Path, issued: bool, tmp_path: Path
) -> None:
    form, language, decision = _request(path)
    pdf = tmp_path / "form.pdf"
    pdf.write_bytes(renderer.render_pdf(form, language, decision, ISSUED if issued else None))
    case = f"{path.stem}-{'issued' if issued else 'preview'}"
    _compare(_pdf_key(), case, _pages(pdf, tmp_path / "pages"))


@pytest.fixture(scope="module")
def docx_pdfs(renderer: Renderer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every example's DOCX (preview and issued) turned into PDF by one LibreOffice run."""
    if SOFFICE is None:
        pytest.skip("LibreOffice (soffice) is not installed: scripts/setup --bench installs it")
    folder = tmp_path_factory.mktemp("docx")
    for path in EXAMPLES:
        form, language, decision = _request(path)
        for issued in (False, True):
            name = f"{path.stem}-{'issued' if issued else 'preview'}.docx"
            data = renderer.render_docx(form, language, decision, ISSUED if issued else None)
            (folder / name).write_bytes(data)
    profile = folder / "profile"
    subprocess.run(
        [
            SOFFICE,
            "--headless",
            f"-env:UserInstallation={profile.as_uri()}",
            "--convert-to",
            "pdf",
            "--outdir",
            str(folder),
            *sorted(str(p) for p in folder.glob("*.docx")),
        ],
        check=True,
        capture_output=True,
        timeout=600,
    )
    return folder


@pytest.mark.slow
@pytest.mark.parametrize(("path", "issued"), CASES)
def test_docx_pages_look_as_approved(
    docx_pdfs: Path, path: Path, issued: bool, tmp_path: Path
) -> None:
    key = _lo_key()
    assert key is not None
    case = f"{path.stem}-{'issued' if issued else 'preview'}"
    _compare(key, case, _pages(docx_pdfs / f"{case}.pdf", tmp_path / "pages"))
