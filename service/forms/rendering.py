"""Decisions → the act's appendix forms as PDF and DOCX bytes (no Flask, no database).

The forms' fixed texts live in `templates_kk/` and `templates_ru/` (the same file names in
both: `<form>.html` for WeasyPrint, `<form>.docx` for docxtpl); the shared layout and CSS in
`templates_shared/`. Templates see the decision's fields as variables, plus `document` (the
registration number and QR code, or None for a stateless preview); dates and categories
reach the page only through the `date`, `datetime` and `label` filters.

The same decision always gives the same bytes: the PDF's dates come from the decision, its
identifier from the page's content, and the DOCX's zip entries carry a fixed timestamp.
Nothing is fetched from outside the template folders, whatever a value contains.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import mimetypes
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

import segno
from docx.shared import Mm
from docxtpl import DocxTemplate, InlineImage
from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template
from markupsafe import Markup
from PIL import Image
from weasyprint import CSS, HTML
from weasyprint.css import ColorProfile
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse, path2url

from service.forms.dates import legal_date, legal_datetime, notice_date
from service.forms.decisions import (
    ALMATY,
    DECISION_TYPES,
    Acceptance,
    Certificate,
    Decision,
    Extract,
    HeadsExtract,
    HeadsProtocol,
    Protocol,
    Refusal,
    complete,
)
from service.forms.vocabulary import LANGUAGES, Form, Language, label
from service.observability.metrics import RENDER_SECONDS

ROOT = Path(__file__).resolve().parents[2]
SHARED_DIR = ROOT / "templates_shared"
STYLESHEET = SHARED_DIR / "forms.css"
PDF_VARIANT = "pdf/a-3b"
OUTPUT_INTENT = "qujat-srgb"
QR_SIZE = Mm(25)
QR_PIXELS_PER_MODULE = 6


def template_dir(language: Language) -> Path:
    return ROOT / f"templates_{language}"


# --------------------------------------------------------------------------- registration


@dataclass(frozen=True, slots=True)
class DocumentInfo:
    """What an issued document adds to its decision: its number and where to verify it."""

    registration_number: str
    verify_url: str


@dataclass(frozen=True, slots=True)
class PrintedDocument:
    """`document` as the HTML templates see it: DocumentInfo plus its QR code as an <img>."""

    registration_number: str
    verify_url: str
    qr_image: Markup


@dataclass(frozen=True, slots=True)
class PrintedDocxDocument:
    """`document` as the DOCX templates see it: the QR code is a PNG picture (Word and SVG
    do not mix well)."""

    registration_number: str
    verify_url: str
    qr_image: InlineImage


@lru_cache(maxsize=256)
def _qr(url: str) -> segno.QRCode:
    """The QR code of a verification address (a PDF and a DOCX of one document share it)."""
    # a fixed mask: all eight are valid for readers, and fixing one skips segno's scoring
    # of the eight candidates (several milliseconds a document)
    return segno.make_qr(url, error="m", mask=2)


def qr_svg(url: str) -> Markup:
    """The QR code of `url` as an inline <svg> sized by the stylesheet (segno's own markup,
    the URL never appears in it as text)."""
    svg = _qr(url).svg_inline(scale=1, border=2, omitsize=True, dark="#000")
    return Markup(svg)  # noqa: S704 - segno's markup, not user text


def qr_image(url: str) -> Markup:
    """The QR code of `url` as an <img> of a PNG (data: URL), sized by the stylesheet and
    drawn with sharp edges (`image-rendering: pixelated`).

    The same code as qr_svg. WeasyPrint parses and draws an SVG path in Python, several
    hundred segments for a verification address; a small grey bitmap it embeds almost as it
    is (docs/performance.md)."""
    return Markup(  # noqa: S704 - a data: URL of our own picture, no user text
        f'<img class="qr-code" alt="" src="data:image/png;base64,{_qr_png_base64(url)}">'
    )


def _qr_png_base64(url: str) -> str:
    """An 8-bit grey PNG, which WeasyPrint embeds as it is (it converts a 1-bit one to RGB
    first), QR_PIXELS_PER_MODULE pixels a module: poppler smooths a bitmap it enlarges,
    whatever /Interpolate says, and blurred modules scan badly."""
    rows = [bytes(0 if dark else 255 for dark in row) for row in _qr(url).matrix_iter(border=2)]
    picture = Image.frombytes("L", (len(rows[0]), len(rows)), b"".join(rows))
    scale = QR_PIXELS_PER_MODULE
    picture = picture.resize(
        (picture.width * scale, picture.height * scale), Image.Resampling.NEAREST
    )
    out = io.BytesIO()
    picture.save(out, format="PNG", compress_level=1)
    return base64.b64encode(out.getvalue()).decode("ascii")


# the printable signed copy: the verify page's QR code in the top left corner of every page, from
# an element that is taken out of the flow (a running element) and repeated in that margin box
RUNNING_QR_CSS = (
    "@page { @top-left { content: element(copy-qr); vertical-align: middle } } "
    ".copy-qr { position: running(copy-qr) } "
    ".copy-qr img { width: 16mm; height: 16mm; image-rendering: pixelated }"
)


def with_running_qr(html: str, url: str) -> str:
    """`html` with the running QR element of `url` at the start of its body."""
    body = html.index("<body")
    start = html.index(">", body) + 1
    picture = f'<div class="copy-qr">{qr_image(url)}</div>'
    return html[:start] + picture + html[start:]


def qr_png(url: str) -> bytes:
    out = io.BytesIO()
    _qr(url).save(out, kind="png", scale=10, border=2)
    return out.getvalue()


# --------------------------------------------------------------------------- resources


class ForbiddenResource(PermissionError):
    """A template or stylesheet referred to something outside the template folders."""

    def __init__(self, url: str) -> None:
        self.url = url
        super().__init__(f"refused to fetch {url[:200]!r}: only template files may be used")


class TemplateFetcher(URLFetcher):  # type: ignore[misc]
    """WeasyPrint's fetcher, reduced to the files of the template folders (and data: URLs).

    Any other URL — http(s), ftp, a file elsewhere, a symlink leading out — raises
    ForbiddenResource; with `fail_on_errors` WeasyPrint stops the rendering instead of
    printing a page without the resource.
    """

    def __init__(self, roots: Iterable[Path]) -> None:
        super().__init__(fail_on_errors=True, allowed_protocols=("file", "data"))
        self.roots = tuple(root.resolve() for root in roots)

    def fetch(self, url: str, headers: Mapping[str, str] | None = None) -> URLFetcherResponse:
        parts = urlsplit(url)
        if parts.scheme == "data":
            return super().fetch(url, headers)
        if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
            raise ForbiddenResource(url)
        path = Path(url2pathname(unquote(parts.path))).resolve()
        if not path.is_file() or not any(path.is_relative_to(root) for root in self.roots):
            raise ForbiddenResource(url)
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(path2url(path), path.read_bytes(), {"Content-Type": content_type})


# --------------------------------------------------------------------------- jinja


def _date_filter(language: Language) -> Callable[..., str]:
    def date(value: dt.date, case: str = "nominative") -> str:
        return legal_date(value, language, case)  # type: ignore[arg-type]

    return date


def _datetime_filter(language: Language) -> Callable[[dt.datetime], str]:
    def datetime(value: dt.datetime) -> str:
        # documents state Kazakhstan's time, whatever offset the platform sent
        return legal_datetime(value.astimezone(ALMATY), language)

    return datetime


def _sent_filter(language: Language) -> Callable[[dt.datetime], str]:
    def sent(value: dt.datetime) -> str:
        # the day in Kazakhstan, whatever offset the platform sent
        return notice_date(value.astimezone(ALMATY).date(), language)

    return sent


def _label_filter(language: Language) -> Callable[[Any], str]:
    def label_(value: Any) -> str:
        return label(value, language)

    return label_


def template_filters(language: Language) -> dict[str, Callable[..., str]]:
    """The only ways a template turns a date or a code into words."""
    return {
        "date": _date_filter(language),
        "datetime": _datetime_filter(language),
        "sent": _sent_filter(language),
        "label": _label_filter(language),
    }


def html_environment(language: Language) -> Environment:
    env = Environment(
        loader=FileSystemLoader([template_dir(language), SHARED_DIR]),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.filters.update(template_filters(language))
    return env


class DocxEnvironment(Environment):
    """The environment docxtpl renders with. docxtpl compiles the document's XML afresh on
    every call; the XML of a template never changes, so its compiled form is kept."""

    def __init__(self, language: Language) -> None:
        super().__init__(autoescape=True, undefined=StrictUndefined)
        self.filters.update(template_filters(language))
        self._compiled: dict[str, Template] = {}

    def from_string(self, source: Any, globals: Any = None, template_class: Any = None) -> Any:
        if globals is not None or template_class is not None or not isinstance(source, str):
            return super().from_string(source, globals, template_class)
        compiled = self._compiled.get(source)
        if compiled is None:
            compiled = self._compiled[source] = super().from_string(source)
        return compiled


def template_context(decision: Decision, document: object) -> dict[str, Any]:
    """The decision's fields and public methods (a protocol's `table`), and `document`."""
    context = {
        name: getattr(decision, name) for name in dir(type(decision)) if not name.startswith("_")
    }
    context["document"] = document
    return context


def document_moment(decision: Decision) -> dt.datetime:
    """When the document was made, as far as the decision says: its files' dates."""
    match decision:
        case Certificate():
            day: dt.date = decision.issue_date
        case Protocol() | HeadsProtocol() | Extract() | HeadsExtract():
            day = decision.session.date
        case Acceptance() | Refusal():
            return decision.sent_at.astimezone(ALMATY)
    return dt.datetime.combine(day, dt.time(), ALMATY)


# --------------------------------------------------------------------------- the renderer

PAGE_NUMBER_WORDS: dict[Language, tuple[str, str]] = {
    "kk": ("Бет ", " / "),
    "ru": ("Страница ", " из "),
}


def page_numbers_css(language: Language) -> str:
    """The foot of every page of a document of several pages: "Бет 2 / 5" on the right and,
    when the document is registered, its number on the left (templates_shared/forms.css
    names it with string-set)."""
    before, between = PAGE_NUMBER_WORDS[language]
    return (
        "@page { @bottom-right { content: "
        f'"{before}" counter(page) "{between}" counter(pages); '
        'font-family: "Noto Serif"; font-size: 9pt; vertical-align: middle } '
        '@bottom-left { content: string(number); font-family: "Noto Serif"; font-size: 9pt; '
        "vertical-align: middle } }"
    )


class Renderer:
    """Fills the forms. Build one per process: the templates, stylesheet and fonts are
    loaded once and shared by every call (WeasyPrint caches glyphs per FontConfiguration)."""

    def __init__(self) -> None:
        self.fetcher = TemplateFetcher([*(template_dir(lang) for lang in LANGUAGES), SHARED_DIR])
        self.font_config = FontConfiguration()
        self.stylesheet = CSS(
            filename=STYLESHEET, font_config=self.font_config, url_fetcher=self.fetcher
        )
        self._page_numbers = {
            lang: CSS(string=page_numbers_css(lang), font_config=self.font_config)
            for lang in LANGUAGES
        }
        self._running_qr = CSS(string=RUNNING_QR_CSS, font_config=self.font_config)
        self._html = {lang: html_environment(lang) for lang in LANGUAGES}
        self._html_templates = {
            (lang, form): self._html[lang].get_template(f"{form.value}.html")
            for lang in LANGUAGES
            for form in Form
        }
        self._srgb = (files("weasyprint.pdf") / "sRGB2014.icc").read_bytes()
        self._docx_env = {lang: DocxEnvironment(lang) for lang in LANGUAGES}
        self._docx_sources = {
            (lang, form): (template_dir(lang) / f"{form.value}.docx").read_bytes()
            for lang in LANGUAGES
            for form in Form
        }

    # -- HTML / PDF

    def render_html(
        self,
        form: Form,
        language: Language,
        decision: Decision,
        document: DocumentInfo | None = None,
    ) -> str:
        """The filled form as HTML, the page WeasyPrint prints."""
        printed = None
        if document is not None:
            printed = PrintedDocument(
                document.registration_number, document.verify_url, qr_image(document.verify_url)
            )
        context = template_context(_checked(form, decision), printed)
        return self._html_templates[(language, form)].render(context)

    def render_pdf(
        self,
        form: Form,
        language: Language,
        decision: Decision,
        document: DocumentInfo | None = None,
    ) -> bytes:
        """The filled form as a PDF/A-3b file with its fonts embedded; same input, same bytes."""
        with RENDER_SECONDS.labels(form.value, "pdf").time():
            html, rendered = self._laid_out(form, language, decision, document, stamp_qr=False)
            try:
                pdf: bytes = rendered.write_pdf(
                    pdf_variant=PDF_VARIANT,
                    output_intent=OUTPUT_INTENT,
                    pdf_identifier=hashlib.sha256(html.encode()).hexdigest()[:32].encode(),
                )
            except FatalURLFetchingError as error:
                if isinstance(error.__cause__, ForbiddenResource):
                    raise error.__cause__ from None
                raise
            return pdf

    def layout(
        self,
        form: Form,
        language: Language,
        decision: Decision,
        document: DocumentInfo | None = None,
        *,
        stamp_qr: bool = False,
    ) -> Any:
        """WeasyPrint's laid-out pages of the filled form; with `stamp_qr`, the verify page's QR
        code in the top left corner of every page (the printable signed copy)."""
        return self._laid_out(form, language, decision, document, stamp_qr=stamp_qr)[1]

    def _laid_out(
        self,
        form: Form,
        language: Language,
        decision: Decision,
        document: DocumentInfo | None,
        *,
        stamp_qr: bool,
    ) -> tuple[str, Any]:
        decision = _checked(form, decision)
        html = self.render_html(form, language, decision, document)
        if stamp_qr:
            assert document is not None, "a preview has no verify page"
            html = with_running_qr(html, document.verify_url)
        moment = document_moment(decision).isoformat()
        try:
            # page numbers only on a document of several pages: a protocol is laid out with
            # them, a one-page form without; the rare other case is laid out a second time
            numbered = form in (Form.PROTOCOL, Form.HEADS_PROTOCOL)
            rendered = self._layout(html, language, numbered, stamp_qr)
            if (len(rendered.pages) > 1) != numbered:
                rendered = self._layout(html, language, not numbered, stamp_qr)
        except FatalURLFetchingError as error:
            if isinstance(error.__cause__, ForbiddenResource):
                raise error.__cause__ from None
            raise
        rendered.metadata.created = rendered.metadata.modified = moment
        return html, rendered

    def _layout(self, html: str, language: Language, numbered: bool, stamp_qr: bool) -> Any:
        """WeasyPrint's laid-out document; `numbered` adds "Бет N / M" at the foot of pages."""
        stylesheets = [self.stylesheet]
        if numbered:
            stylesheets.append(self._page_numbers[language])
        if stamp_qr:
            stylesheets.append(self._running_qr)
        return HTML(
            string=html, base_url=path2url(template_dir(language)), url_fetcher=self.fetcher
        ).render(
            font_config=self.font_config,
            stylesheets=stylesheets,
            color_profiles=self._output_profile(),
            output_intent=OUTPUT_INTENT,
        )

    def _output_profile(self) -> dict[str, ColorProfile]:
        """PDF/A's output intent: WeasyPrint's own sRGB profile, read from memory. (Left to
        itself, WeasyPrint 70 opens the profile's file for every PDF/A and never closes it.)
        A fresh object per document: WeasyPrint writes the PDF's object number into it."""
        profile = ColorProfile(
            io.BytesIO(self._srgb), "sRGB2014.icc", "relative-colorimetric", (["r"], ["g"], ["b"])
        )
        return {OUTPUT_INTENT: profile}

    # -- DOCX

    def render_docx(
        self,
        form: Form,
        language: Language,
        decision: Decision,
        document: DocumentInfo | None = None,
    ) -> bytes:
        """The filled form as a Word document, the same text as the PDF; same input, same bytes."""
        with RENDER_SECONDS.labels(form.value, "docx").time():
            return self._render_docx(form, language, _checked(form, decision), document)

    def _render_docx(
        self, form: Form, language: Language, decision: Decision, document: DocumentInfo | None
    ) -> bytes:
        template = DocxTemplate(io.BytesIO(self._docx_sources[(language, form)]))
        printed = None
        if document is not None:
            picture = InlineImage(template, io.BytesIO(qr_png(document.verify_url)), QR_SIZE)
            printed = PrintedDocxDocument(
                document.registration_number, document.verify_url, picture
            )
        template.render(
            template_context(decision, printed), self._docx_env[language], autoescape=True
        )
        moment = document_moment(decision)
        properties = template.docx.core_properties
        properties.created = properties.modified = moment.astimezone(dt.UTC).replace(tzinfo=None)
        out = io.BytesIO()
        template.save(out)
        return fixed_zip(out.getvalue(), moment)


def _checked(form: Form, decision: Decision) -> Decision:
    """The decision, completed as parse_decision would (a certificate's validity)."""
    if not isinstance(decision, DECISION_TYPES[form]):
        raise TypeError(
            f"{form.value} needs a {DECISION_TYPES[form].__name__} decision, "
            f"not {type(decision).__name__}"
        )
    return complete(decision)


def fixed_zip(data: bytes, moment: dt.datetime) -> bytes:
    """The same zip with every entry stamped `moment` (local time, as zip stores it), so
    that a DOCX's bytes depend on its content only."""
    stamp = moment.timetuple()[:6]
    if stamp[0] < 1980:  # zip cannot say earlier
        stamp = (1980, 1, 1, 0, 0, 0)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for entry in source.infolist():
            info = zipfile.ZipInfo(entry.filename, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            target.writestr(info, source.read(entry))
    return out.getvalue()


__all__ = [
    "DocumentInfo",
    "ForbiddenResource",
    "Renderer",
    "TemplateFetcher",
]
