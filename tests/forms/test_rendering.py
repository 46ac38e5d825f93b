"""Rendering: every form in both languages, as PDF and DOCX, carries its fixed title and every
value of the decision; fonts are embedded; hostile text stays text; the same decision gives
the same bytes; nothing outside the template folders can be fetched; a 500-row protocol
repeats its table header on every page."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
import logging
import re
import subprocess
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from docx.table import Table
from docx.text.paragraph import Paragraph
from lxml import etree
from pypdf import PdfReader
from weasyprint import HTML
from weasyprint.urls import FatalURLFetchingError, path2url

from service.forms.dates import legal_date, notice_date
from service.forms.decisions import (
    ALMATY,
    Acceptance,
    Certificate,
    Decision,
    Extract,
    HeadsExtract,
    HeadsProtocol,
    Person,
    Protocol,
    Refusal,
    parse_decision,
)
from service.forms.rendering import (
    SHARED_DIR,
    DocumentInfo,
    ForbiddenResource,
    Renderer,
    TemplateFetcher,
    template_dir,
)
from service.forms.vocabulary import LANGUAGES, Form, label

ROOT = Path(__file__).resolve().parents[2]
NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
DOCUMENT = DocumentInfo("KRG-2026-000153", "https://qujat.kz/v/KRG-2026-000153")
CASES = [pytest.param(form, lang, id=f"{form.value}-{lang}") for form in Form for lang in LANGUAGES]

TITLES = {
    (Form.CERTIFICATE, "kk"): "Біліктілік санатын беру (растау) туралы КУӘЛІК",
    (Form.CERTIFICATE, "ru"): "УДОСТОВЕРЕНИЕ о присвоении (подтверждении) квалификационной "
    "категории",
    (Form.PROTOCOL, "kk"): "Педагогтің/бөлім басшысының (менгерушісінің) және әдістемелік кабинеті "
    "(орталық) әдіскерінің біліктілік санатын беруге (растауға) арналған Комиссия отырысының "
    "хаттамасы",
    (Form.PROTOCOL, "ru"): "Протокол заседания Комиссии на присвоение (подтверждение) "
    "квалификационной категории",
    (Form.EXTRACT, "kk"): "Аттестаттау комиссиясы отырысының № 5 Хаттамасынан үзінді",
    (Form.EXTRACT, "ru"): "Выписка из Протокола № 5 от «14» августа 2026 года заседания "
    "аттестационной комиссии",
    (Form.ACCEPTANCE, "kk"): "Аттестаттаудан өтуге өтінішті қабылдау туралы хабарлама",
    (Form.ACCEPTANCE, "ru"): "Уведомление о приеме заявления на прохождение аттестации",
    (Form.REFUSAL, "kk"): "Аттестаттаудан өтуге өтінішті қабылдаудан бас тарту туралы хабарлама",
    (Form.REFUSAL, "ru"): "Уведомление об отказе в дальнейшем рассмотрении заявления на "
    "прохождение аттестации",
    (Form.HEADS_PROTOCOL, "kk"): "Білім беру ұйымы (әдістемелік кабинет (орталық)) басшысының "
    "(басшы орынбасарының) біліктілік санатын беруге (растауға) арналған аттестаттау комиссиясы "
    "отырысының хаттамасы",
    (Form.HEADS_PROTOCOL, "ru"): "Протокол заседания аттестационной комиссии по присвоению "
    "(подтверждению) квалификационной категории руководителя (заместителя руководителя) "
    "организации образования (методического кабинета (центра))",
    (Form.HEADS_EXTRACT, "kk"): "Аттестаттау комиссиясы отырысының 2026 жылғы 14 тамыздағы № 6 "
    "хаттамасынан үзінді",
    (Form.HEADS_EXTRACT, "ru"): "Выписка из Протокола № 6 от «14» августа 2026 года заседания "
    "аттестационной комиссии",
}
APPENDIX = {
    "kk": "жобаны іске асыру Алгоритміне {n}-қосымша",
    "ru": "Приложение {n} к Алгоритму реализации пилотного проекта",
}
# the act's forms 2, 6, 7 and 12 say "Нысан" under their appendix line; 1, 3 and 13 do not
FORM_WORD = {"kk": "Нысан", "ru": "Форма"}
WITH_FORM_WORD = {Form.PROTOCOL, Form.ACCEPTANCE, Form.REFUSAL, Form.HEADS_PROTOCOL}
NUMBER_WORDS = {"kk": "Тіркеу нөмірі", "ru": "Регистрационный номер"}
PREVIEW = {"kk": "ҮЛГІ", "ru": "ОБРАЗЕЦ"}
# the foot of a page of a document of several pages
PAGE_FOOT = re.compile(r"(Бет \d+ / \d+|Страница \d+ из \d+)")


# --------------------------------------------------------------------------- fixtures, helpers


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer()


class _FailOnWarning(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(autouse=True)
def no_weasyprint_warnings() -> Iterator[None]:
    """Any WeasyPrint warning (a CSS property it ignores, a missing glyph…) fails the test."""
    handler = _FailOnWarning()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
    assert not [r.getMessage() for r in handler.records]


def example(form: Form, language: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(
        (ROOT / "examples" / f"{form.value}.{language}.json").read_text("utf-8")
    )
    return loaded["decision"]  # type: ignore[no-any-return]


def decision_of(form: Form, language: str, payload: dict[str, Any] | None = None) -> Decision:
    return parse_decision(form, payload or example(form, language), clock=lambda: NOW)


def normalise(text: str) -> str:
    """One line of single-spaced text; a word cut after its hyphen at a line end is joined, and
    so is a word hyphenated by the dictionary (WeasyPrint's hyphen is U+2010)."""
    text = re.sub(r"\u2010\s*\n\s*", "", text)
    text = re.sub(r"-\s*\n\s*", "-", text)
    return " ".join(text.split())


def pdf_text(pdf: bytes, tmp_path: Path, page: int | None = None) -> str:
    path = tmp_path / "form.pdf"
    path.write_bytes(pdf)
    pages = ["-f", str(page), "-l", str(page)] if page else []
    done = subprocess.run(
        ["pdftotext", "-raw", "-enc", "UTF-8", *pages, str(path), "-"],
        capture_output=True,
        check=True,
    )
    return done.stdout.decode("utf-8")


def docx_text(data: bytes) -> str:
    """Every paragraph of the body and of its tables (and nested tables), in order."""
    document = Document(io.BytesIO(data))
    lines: list[str] = []

    def walk(parent: Any) -> None:
        for child in parent.iterchildren():
            if child.tag.endswith("}p"):
                lines.append(Paragraph(child, document.part).text)
            elif child.tag.endswith("}tbl"):
                for row in Table(child, document.part).rows:
                    for cell in row.cells:
                        walk(cell._tc)

    walk(document.element.body)
    return "\n".join(lines)


def _names(*people: Person | None) -> list[str]:
    return [p.full_name for p in people if p is not None]


def filled_values(decision: Decision, language: str) -> list[str]:
    """What the form must show of the decision, written as the form writes it."""
    kk = language == "kk"

    def date(value: dt.date, case: str = "nominative") -> str:
        return legal_date(value, language, case if kk else "nominative")  # type: ignore[arg-type]

    match decision:
        case Certificate():
            d = decision
            assert d.valid_until is not None
            grant = {
                ("kk", "award"): "берілді",
                ("kk", "confirmation"): "расталды",
                ("ru", "award"): "присвоена",
                ("ru", "confirmation"): "подтверждена",
            }
            return [
                *_names(d.holder, d.head_of_organisation),
                d.position,
                d.organisation,
                date(d.commission_decision_date, "attributive"),
                date(d.order.date, "attributive"),
                f"№ {d.order.number}",
                label(d.category, language),  # type: ignore[arg-type]
                grant[(language, d.grant.value)],
                date(d.valid_until, "dative"),
                date(d.issue_date),
            ]
        case Protocol() | HeadsProtocol():
            c = decision.commission
            values = [
                c.name,
                *_names(c.chair, *c.members, c.secretary),
                date(decision.session.date),
                f"№ {decision.session.number}",
            ]
            for row in decision.rows:
                values += [
                    row.person.full_name,
                    row.position,
                    label(row.declared_category, language),
                ]  # type: ignore[arg-type]
                values += [
                    label(v, language)
                    for v in (
                        row.current_category,  # type: ignore[arg-type]
                        row.awarded_category,
                    )
                    if v is not None
                ]
                if isinstance(row.reason, str):
                    values.append(row.reason)
                if isinstance(decision, Protocol):
                    values.append(label(row.attestation, language))  # type: ignore[attr-defined, arg-type]
                if (isinstance(decision, HeadsProtocol) or not kk) and row.reason is None:
                    values.append(label(row.outcome, language))  # type: ignore[arg-type]
            return values
        case Extract() | HeadsExtract():
            d = decision
            values = [
                d.commission.name,
                d.commission.secretary.full_name,
                d.person.full_name,
                f"№ {d.session.number}",
            ]
            values.append(
                date(d.session.date, "attributive" if isinstance(d, HeadsExtract) else "nominative")
            )
            kept = d.awarded_category or (
                d.current_category if d.outcome == "corresponds_current" else None
            )
            if d.outcome == "corresponds_declared":
                assert d.awarded_category is not None
                values.append(label(d.awarded_category, language))  # type: ignore[arg-type]
            else:
                values.append(label(d.declared_category, language))  # type: ignore[arg-type]
                if kept is not None:
                    values.append(label(kept, language))  # type: ignore[arg-type]
            if d.reason:
                values.append(d.reason)
            return values
        case Acceptance() | Refusal():
            # the provider and its authorised person sign electronically; only the Russian
            # form 7 has a line for the signer
            d = decision
            values = [
                *_names(d.applicant),
                notice_date(d.sent_at.astimezone(ALMATY).date(), language),
            ]  # type: ignore[arg-type]
            if isinstance(d, Refusal) and not kk:
                values += _names(d.authorised_person)
            if isinstance(d, Refusal):
                values += list(d.missing_documents)
                if d.grounds:
                    values.append(d.grounds)
            return values
    raise AssertionError(type(decision))


def iins(payload: Any) -> Iterator[str]:
    if isinstance(payload, dict):
        for key, value in payload.items():
            if key == "iin":
                yield value
            else:
                yield from iins(value)
    elif isinstance(payload, list):
        for value in payload:
            yield from iins(value)


# --------------------------------------------------------------------------- every form


@pytest.mark.parametrize(("form", "language"), CASES)
def test_pdf_shows_the_title_and_every_value(
    renderer: Renderer, form: Form, language: str, tmp_path: Path
) -> None:
    decision = decision_of(form, language)
    pdf = renderer.render_pdf(form, language, decision, DOCUMENT)  # type: ignore[arg-type]
    text = normalise(pdf_text(pdf, tmp_path))
    assert TITLES[(form, language)] in text
    assert APPENDIX[language].format(n=form.appendix) in text
    assert (FORM_WORD[language] in text) == (form in WITH_FORM_WORD)
    missing = [v for v in filled_values(decision, language) if normalise(v) not in text]
    assert not missing
    for iin in iins(example(form, language)):
        assert iin not in text
    if form in (Form.CERTIFICATE, Form.EXTRACT, Form.HEADS_EXTRACT):
        assert DOCUMENT.verify_url in text.replace(" ", "")
    assert f"{NUMBER_WORDS[language]} {DOCUMENT.registration_number}" in text
    assert PREVIEW[language] not in text


@pytest.mark.parametrize(("form", "language"), CASES)
def test_docx_shows_the_title_and_every_value(
    renderer: Renderer, form: Form, language: str
) -> None:
    decision = decision_of(form, language)
    data = renderer.render_docx(form, language, decision, DOCUMENT)  # type: ignore[arg-type]
    text = normalise(docx_text(data))
    assert TITLES[(form, language)] in text
    assert APPENDIX[language].format(n=form.appendix) in text
    assert (FORM_WORD[language] in text) == (form in WITH_FORM_WORD)
    assert f"{NUMBER_WORDS[language]} {DOCUMENT.registration_number}" in text
    missing = [v for v in filled_values(decision, language) if normalise(v) not in text]
    assert not missing
    for iin in iins(example(form, language)):
        assert iin not in text
    if form in (Form.CERTIFICATE, Form.EXTRACT, Form.HEADS_EXTRACT):
        assert DOCUMENT.verify_url in text
        with zipfile.ZipFile(io.BytesIO(data)) as docx:
            assert any(name.startswith("word/media/") for name in docx.namelist())


@pytest.mark.parametrize(("form", "language"), CASES)
def test_docx_and_pdf_carry_the_same_words(
    renderer: Renderer, form: Form, language: str, tmp_path: Path
) -> None:
    decision = decision_of(form, language)
    pdf = renderer.render_pdf(form, language, decision, DOCUMENT)  # type: ignore[arg-type]
    docx = renderer.render_docx(form, language, decision, DOCUMENT)  # type: ignore[arg-type]
    # the verification address may wrap in the PDF's narrow QR caption
    # the PDF's page numbers are text, the DOCX's are fields in its footer
    url = DOCUMENT.verify_url
    pdf_text_ = PAGE_FOOT.sub("", normalise(pdf_text(pdf, tmp_path)))
    pdf_words = {w for w in pdf_text_.split() if w not in url}
    docx_words = {w for w in normalise(docx_text(docx)).split() if w not in url}
    assert pdf_words == docx_words


@pytest.mark.parametrize(("form", "language"), CASES)
def test_pdf_embeds_every_font_and_is_pdf_a_3b(
    renderer: Renderer, form: Form, language: str, tmp_path: Path
) -> None:
    decision = decision_of(form, language)
    pdf = renderer.render_pdf(form, language, decision, DOCUMENT)  # type: ignore[arg-type]
    path = tmp_path / "form.pdf"
    path.write_bytes(pdf)
    listing = subprocess.run(["pdffonts", str(path)], capture_output=True, check=True, text=True)
    fonts = listing.stdout.splitlines()[2:]
    assert fonts
    for line in fonts:
        emb, _subset, uni = line.split()[-5:-2]
        assert (emb, uni) == ("yes", "yes"), line

    reader = PdfReader(io.BytesIO(pdf))
    assert reader.pdf_header == "%PDF-1.7"
    catalog = reader.trailer["/Root"]
    xmp = catalog["/Metadata"].get_object().get_data().decode()
    assert 'pdfaid:part="3"' in xmp
    assert 'pdfaid:conformance="B"' in xmp
    assert catalog["/Lang"] == language
    assert "/OutputIntents" in catalog
    assert reader.metadata is not None
    assert reader.metadata.title
    assert reader.metadata.creation_date is not None


def test_kazakh_letters_are_extractable(renderer: Renderer, tmp_path: Path) -> None:
    payload = example(Form.CERTIFICATE, "kk")
    payload["holder"] = {"surname": "ӘҒҚҢӨҰҮҺІ", "given_name": "әғқңөұүһі"}
    decision = decision_of(Form.CERTIFICATE, "kk", payload)
    text = pdf_text(renderer.render_pdf(Form.CERTIFICATE, "kk", decision), tmp_path)
    assert "ӘҒҚҢӨҰҮҺІ әғқңөұүһі" in text


@pytest.mark.parametrize(("form", "language"), CASES)
def test_a_preview_says_it_is_one(
    renderer: Renderer, form: Form, language: str, tmp_path: Path
) -> None:
    """Without a document (a preview), the number line says ҮЛГІ / ОБРАЗЕЦ, the mark crosses
    every page, and there is no number, QR code or verify address."""
    decision = decision_of(form, language)
    pdf = renderer.render_pdf(form, language, decision)
    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    for page in range(1, pages + 1):
        assert PREVIEW[language] in pdf_text(pdf, tmp_path, page), f"page {page}"
    text = normalise(pdf_text(pdf, tmp_path))
    if form is Form.CERTIFICATE:
        assert f"{NUMBER_WORDS[language]} {PREVIEW[language]}" in text
    assert NUMBER_WORDS[language] + " ____" not in text
    assert "https://" not in text
    data = renderer.render_docx(form, language, decision)
    docx = normalise(docx_text(data))
    assert PREVIEW[language] in docx
    assert "https://" not in docx
    with zipfile.ZipFile(io.BytesIO(data)) as files:
        headers = [n for n in files.namelist() if n.startswith("word/header")]
        assert headers
        assert any(PREVIEW[language] in files.read(n).decode() for n in headers)


# --------------------------------------------------------------------------- what the forms say


def test_certificate_words_award_and_confirmation(renderer: Renderer, tmp_path: Path) -> None:
    for language, confirmed in (("kk", "расталды"), ("ru", "подтверждена")):
        payload = example(Form.CERTIFICATE, language)
        payload["grant"] = "confirmation"
        decision = decision_of(Form.CERTIFICATE, language, payload)
        text = normalise(
            pdf_text(
                renderer.render_pdf(Form.CERTIFICATE, language, decision),  # type: ignore[arg-type]
                tmp_path,
            )
        )
        assert confirmed in text
        assert ("берілді" if language == "kk" else "присвоена") not in text


def test_kazakh_certificate_declines_its_dates(renderer: Renderer, tmp_path: Path) -> None:
    decision = decision_of(Form.CERTIFICATE, "kk")
    text = normalise(pdf_text(renderer.render_pdf(Form.CERTIFICATE, "kk", decision), tmp_path))
    assert "2026 жылғы 20 тамыздағы № 153 бұйрығымен" in text
    assert "Осы куәлік 2031 жылғы 20 тамызға дейін жарамды" in text
    assert "Берілген күні 2026 жылғы 25 тамыз" in text


def test_extract_prints_only_the_applicable_outcome(renderer: Renderer, tmp_path: Path) -> None:
    granted = decision_of(Form.HEADS_EXTRACT, "kk")
    text = normalise(pdf_text(renderer.render_pdf(Form.HEADS_EXTRACT, "kk", granted), tmp_path))
    assert "Мәлімделген біліктілік санатына сәйкес келеді" in text
    assert "сәйкес келмейді" not in text

    failed = decision_of(Form.EXTRACT, "ru")
    text = normalise(pdf_text(renderer.render_pdf(Form.EXTRACT, "ru", failed), tmp_path))
    assert "Не соответствует заявляемой квалификационной категории: педагог-исследователь" in text
    assert "Соответствует квалификационной категории педагог-эксперт" in text
    assert "Соответствует заявляемой" not in text


def test_empty_protocol_tables_are_printed_with_a_dash_row(
    renderer: Renderer, tmp_path: Path
) -> None:
    payload = example(Form.PROTOCOL, "ru")
    payload["rows"] = [r for r in payload["rows"] if r["outcome"] == "corresponds_declared"]
    decision = decision_of(Form.PROTOCOL, "ru", payload)
    text = normalise(pdf_text(renderer.render_pdf(Form.PROTOCOL, "ru", decision), tmp_path))
    for heading in (
        "Не соответствует заявляемой квалификационной категории:",
        "Соответствует действующей квалификационной категории",
        "Соответствует квалификационной категории ниже действующей",
    ):
        assert f"{heading} № п/п" in text
    assert text.count("— — — — — — — —") == 3
    docx = docx_text(renderer.render_docx(Form.PROTOCOL, "ru", decision))
    assert docx.count("\n—\n—\n—\n—\n—\n—\n—\n—") == 3


def test_refusal_without_grounds_drops_the_clause(renderer: Renderer, tmp_path: Path) -> None:
    payload = example(Form.REFUSAL, "ru")
    del payload["grounds"]
    decision = decision_of(Form.REFUSAL, "ru", payload)
    text = normalise(pdf_text(renderer.render_pdf(Form.REFUSAL, "ru", decision), tmp_path))
    assert "не рассматривается, а именно" in text
    assert "в связи с" not in text
    assert "не рассматривается, а именно" in normalise(
        docx_text(renderer.render_docx(Form.REFUSAL, "ru", decision))
    )


def test_notice_times_are_kazakhstan_time(renderer: Renderer, tmp_path: Path) -> None:
    payload = example(Form.ACCEPTANCE, "ru")
    payload["sent_at"] = "2026-09-15T05:05:00Z"
    decision = decision_of(Form.ACCEPTANCE, "ru", payload)
    text = normalise(pdf_text(renderer.render_pdf(Form.ACCEPTANCE, "ru", decision), tmp_path))
    assert "направлено «15» сентября 2026 года." in text
    assert "10:05" not in text
    payload = example(Form.ACCEPTANCE, "kk")
    payload["sent_at"] = "2026-09-14T20:05:00Z"  # already the 15th in Kazakhstan
    decision = decision_of(Form.ACCEPTANCE, "kk", payload)
    text = normalise(pdf_text(renderer.render_pdf(Form.ACCEPTANCE, "kk", decision), tmp_path))
    assert "Осы хабарлама «15» қыркүйек 2026 жылы жіберілді." in text


# --------------------------------------------------------------------------- hostile values

HOSTILE = "<script>alert(1)</script>"
SPECIALS = "& < > \" '"


def _hostile_certificate() -> Decision:
    """Markup in a text field (the text rule allows < > & in texts) and in names, which the
    text rule refuses at the edge: set here past the validator, as a rendering must escape
    whatever reaches it."""
    payload = example(Form.CERTIFICATE, "kk")
    payload["position"] = '<img src="file:///etc/passwd"> ]]> {{ 7*7 }} {%p if %}'
    decision = decision_of(Form.CERTIFICATE, "kk", payload)
    assert isinstance(decision, Certificate)
    holder = dataclasses.replace(decision.holder, surname=HOSTILE, given_name=SPECIALS)
    return dataclasses.replace(decision, holder=holder)


def test_hostile_names_are_printed_as_text_in_the_pdf(renderer: Renderer, tmp_path: Path) -> None:
    decision = _hostile_certificate()
    html = renderer.render_html(Form.CERTIFICATE, "kk", decision)
    assert "<script>" not in html
    assert "<img" not in html
    text = normalise(
        pdf_text(renderer.render_pdf(Form.CERTIFICATE, "kk", decision, DOCUMENT), tmp_path)
    )
    assert f"{HOSTILE} {SPECIALS}" in text
    assert '<img src="file:///etc/passwd"> ]]> {{ 7*7 }} {%p if %}' in text


def test_hostile_names_are_printed_as_text_in_the_docx(renderer: Renderer) -> None:
    decision = _hostile_certificate()
    data = renderer.render_docx(Form.CERTIFICATE, "kk", decision, DOCUMENT)
    with zipfile.ZipFile(io.BytesIO(data)) as docx:
        for name in docx.namelist():
            if name.endswith(".xml") or name.endswith(".rels"):
                etree.fromstring(docx.read(name))  # well-formed, or this raises
    text = docx_text(data)
    assert f"{HOSTILE} {SPECIALS}" in text
    assert '<img src="file:///etc/passwd"> ]]> {{ 7*7 }} {%p if %}' in text


# --------------------------------------------------------------------------- same input, same bytes


@pytest.mark.parametrize("form", [Form.CERTIFICATE, Form.PROTOCOL, Form.REFUSAL])
def test_the_same_decision_gives_the_same_bytes(renderer: Renderer, form: Form) -> None:
    decision = decision_of(form, "kk")
    assert renderer.render_pdf(form, "kk", decision, DOCUMENT) == renderer.render_pdf(
        form, "kk", decision_of(form, "kk"), DOCUMENT
    )
    assert renderer.render_docx(form, "kk", decision, DOCUMENT) == renderer.render_docx(
        form, "kk", decision_of(form, "kk"), DOCUMENT
    )


def test_a_fresh_renderer_gives_the_same_bytes(renderer: Renderer) -> None:
    decision = decision_of(Form.EXTRACT, "ru")
    assert Renderer().render_pdf(Form.EXTRACT, "ru", decision, DOCUMENT) == renderer.render_pdf(
        Form.EXTRACT, "ru", decision, DOCUMENT
    )


def test_pdf_and_docx_dates_come_from_the_decision(renderer: Renderer) -> None:
    decision = decision_of(Form.CERTIFICATE, "ru")
    reader = PdfReader(io.BytesIO(renderer.render_pdf(Form.CERTIFICATE, "ru", decision)))
    assert reader.metadata is not None
    assert reader.metadata.creation_date == dt.datetime(2026, 8, 25, tzinfo=ALMATY)
    data = renderer.render_docx(Form.CERTIFICATE, "ru", decision)
    document = Document(io.BytesIO(data))
    assert document.core_properties.created == dt.datetime(2026, 8, 24, 19, 0, tzinfo=dt.UTC)
    with zipfile.ZipFile(io.BytesIO(data)) as docx:
        assert {info.date_time for info in docx.infolist()} == {(2026, 8, 25, 0, 0, 0)}


def test_a_different_decision_gives_different_bytes(renderer: Renderer) -> None:
    payload = example(Form.CERTIFICATE, "kk")
    payload["order"]["number"] = "154"
    assert renderer.render_pdf(Form.CERTIFICATE, "kk", decision_of(Form.CERTIFICATE, "kk")) != (
        renderer.render_pdf(Form.CERTIFICATE, "kk", decision_of(Form.CERTIFICATE, "kk", payload))
    )


def test_a_decision_of_another_form_is_refused(renderer: Renderer) -> None:
    with pytest.raises(TypeError, match="certificate needs a Certificate"):
        renderer.render_pdf(Form.CERTIFICATE, "kk", decision_of(Form.EXTRACT, "kk"))


# --------------------------------------------------------------------------- the URL fetcher


@pytest.fixture
def fetcher() -> TemplateFetcher:
    return TemplateFetcher([template_dir("kk"), template_dir("ru"), SHARED_DIR])


def test_fetcher_serves_template_files(fetcher: TemplateFetcher) -> None:
    response = fetcher.fetch(path2url(SHARED_DIR / "forms.css"))
    assert b"@page" in response.read()
    assert response.content_type == "text/css"


def test_fetcher_serves_data_urls(fetcher: TemplateFetcher) -> None:
    assert fetcher.fetch("data:text/plain;base64,cXVqYXQ=").read() == b"qujat"


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        path2url(ROOT / "service" / "rendering.py"),
        path2url(SHARED_DIR) + "../service/forms/rendering.py",
        path2url(SHARED_DIR) + "%2e%2e/service/forms/rendering.py",
        path2url(SHARED_DIR / "no-such-file.css"),
        "file://example.com/etc/passwd",
        "http://127.0.0.1:9/forms.css",
        "https://example.com/forms.css",
        "ftp://example.com/forms.css",
        "javascript:alert(1)",
    ],
)
def test_fetcher_refuses_everything_else(fetcher: TemplateFetcher, url: str) -> None:
    with pytest.raises((ForbiddenResource, ValueError)):
        fetcher.fetch(url)


def test_fetcher_refuses_a_symlink_leading_out(tmp_path: Path) -> None:
    root = tmp_path / "templates"
    root.mkdir()
    (tmp_path / "secret.css").write_text("body{}")
    (root / "innocent.css").symlink_to(tmp_path / "secret.css")
    with pytest.raises(ForbiddenResource):
        TemplateFetcher([root]).fetch(path2url(root / "innocent.css"))


@pytest.mark.parametrize(
    "markup",
    [
        '<img src="file:///etc/hostname">',
        '<link rel="stylesheet" href="file:///etc/hostname">',
        '<style>@import url("http://127.0.0.1:9/x.css");</style>',
        '<div style="background: url(../service/forms/rendering.py)">x</div>',
    ],
)
def test_weasyprint_stops_on_a_refused_resource(renderer: Renderer, markup: str) -> None:
    html = HTML(
        string=f"<html><body>{markup}</body></html>",
        base_url=path2url(template_dir("kk")),
        url_fetcher=renderer.fetcher,
    )
    with pytest.raises(FatalURLFetchingError) as caught:
        html.write_pdf(font_config=renderer.font_config)
    assert isinstance(caught.value.__cause__, ForbiddenResource)


# --------------------------------------------------------------------------- a long protocol


def _long_protocol(rows: int) -> Protocol:
    base = decision_of(Form.PROTOCOL, "kk")
    assert isinstance(base, Protocol)
    made = []
    for i in range(rows):
        row = base.rows[i % len(base.rows)]
        person = dataclasses.replace(row.person, surname=f"Тест{i:03d}", iin=None)
        made.append(dataclasses.replace(row, person=person, position=f"лауазым-{i:03d}"))
    return dataclasses.replace(base, rows=tuple(made))


@pytest.mark.slow
def test_a_500_row_protocol_repeats_its_header_and_keeps_rows_whole(
    renderer: Renderer, tmp_path: Path
) -> None:
    pdf = renderer.render_pdf(Form.PROTOCOL, "kk", _long_protocol(500))
    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    assert pages > 1
    seen: list[int] = []
    for page in range(1, pages + 1):
        text = normalise(pdf_text(pdf, tmp_path, page))
        names = {int(n) for n in re.findall(r"Тест(\d{3})", text)}
        positions = {int(n) for n in re.findall(r"лауазым-(\d{3})", text)}
        assert names == positions, f"a row is cut in two on page {page}"
        if names:
            assert "№ Т.А.Ә. (бар болған жағдайда) Лауазымы" in text, f"no header on page {page}"
        seen += sorted(names)
    assert sorted(seen) == list(range(500))


# --------------------------------------------------------------------------- page layout


def test_a_does_not_correspond_decision_column_holds_the_decision(
    renderer: Renderer, tmp_path: Path
) -> None:
    """Forms 2 (ru) and 12 have a "decision" column where the Kazakh form 2 has "Себебі": it
    says the decision, then why."""
    cases = [
        (
            Form.PROTOCOL,
            "ru",
            "Не соответствует заявляемой квалификационной категории. Причина: балл по портфолио",
        ),
        (Form.HEADS_PROTOCOL, "ru", "Причина:"),
        (Form.HEADS_PROTOCOL, "kk", "Себебі:"),
    ]
    for form, language, expected in cases:
        decision = decision_of(form, language)
        failed = next(r for r in decision.rows if r.reason)  # type: ignore[attr-defined]
        text = normalise(pdf_text(renderer.render_pdf(form, language, decision), tmp_path))  # type: ignore[arg-type]
        assert expected in text
        outcome = label(failed.outcome, language)  # type: ignore[arg-type]
        assert (
            f"{outcome}. {expected.split('.')[-1].strip() if '.' in expected else expected}" in text
            or expected in text
        )
        docx = normalise(docx_text(renderer.render_docx(form, language, decision)))  # type: ignore[arg-type]
        assert f"{outcome}. " in docx
        assert expected.split(" ")[-1] in docx


def test_page_numbers_only_on_documents_of_several_pages(
    renderer: Renderer, tmp_path: Path
) -> None:
    protocol = renderer.render_pdf(Form.PROTOCOL, "kk", decision_of(Form.PROTOCOL, "kk"))
    pages = len(PdfReader(io.BytesIO(protocol)).pages)
    assert pages > 1
    for page in range(1, pages + 1):
        assert f"Бет {page} / {pages}" in pdf_text(protocol, tmp_path, page)
    certificate = renderer.render_pdf(Form.CERTIFICATE, "ru", decision_of(Form.CERTIFICATE, "ru"))
    assert "Страница" not in pdf_text(certificate, tmp_path)
    # a notice made long enough for two pages gets them too
    long = example(Form.REFUSAL, "ru")
    long["missing_documents"] = [f"документ номер {i}" + " и его копия" * 20 for i in range(30)]
    two = renderer.render_pdf(Form.REFUSAL, "ru", decision_of(Form.REFUSAL, "ru", long))
    pages = len(PdfReader(io.BytesIO(two)).pages)
    assert pages > 1
    assert f"Страница {pages} из {pages}" in pdf_text(two, tmp_path, pages)


def test_russian_certificate_ends_the_position_with_a_full_stop(
    renderer: Renderer, tmp_path: Path
) -> None:
    decision = decision_of(Form.CERTIFICATE, "ru")
    text = normalise(pdf_text(renderer.render_pdf(Form.CERTIFICATE, "ru", decision), tmp_path))
    assert "по должности учитель математики. (наименование должности)" in text
