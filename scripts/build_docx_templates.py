"""Build the Word templates: templates_kk/<form>.docx and templates_ru/<form>.docx.

    .venv/bin/python scripts/build_docx_templates.py

The forms carry the same fixed texts as the HTML templates (templates_<lang>/<form>.html);
the blanks hold docxtpl tags: `{{ … }}` in whole runs, `{%p … %}` paragraphs and
`{%tr … %}` table rows. Dates, categories and outcomes go through the `date`, `datetime`
and `label` filters, exactly as in the HTML. The output is deterministic (fixed core
properties and zip dates), so rerunning the script reproduces the committed files byte
for byte; tests/forms/test_templates.py checks that.
"""

from __future__ import annotations

import datetime as dt
import io
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from service.forms.rendering import fixed_zip  # noqa: E402

FONT = "Noto Serif"  # the PDF's family: both look the same
BUILT = dt.datetime(2024, 6, 20, tzinfo=dt.UTC)  # the act's date: templates carry no build time
NONE = "is not none"

# A text run: plain text, or (style, text) with style "fill" (a filled blank, underlined),
# "bold" or "hint" (an instruction printed smaller).
Run = str | tuple[str, str]


# --------------------------------------------------------------------------- the form's texts


@dataclass(frozen=True)
class Texts:
    """What differs between the Kazakh and Russian forms beyond the per-form wording."""

    language: str
    appendix: str  # "{n}" is the appendix number
    form_word: str
    number: str  # "Тіркеу нөмірі" before an issued document's registration number
    preview: str  # what a preview prints instead, and across its pages
    page: tuple[str, str]  # "Бет ", " / " around the page number and the page count
    reason: str  # "Себебі:" before why, in a "does not correspond" decision cell
    name_caption: str
    sign_caption: str


KK = Texts(
    language="kk-KZ",
    appendix=(
        "Қарағанды облысы бойынша Педагогтің үздіксіз кәсіби дамуының Ұлттық платформасы "
        "арқылы педагогтерді аттестаттаудан өткізу жөніндегі пилоттық жобаны іске асыру "
        "Алгоритміне {n}-қосымша"
    ),
    form_word="Нысан",
    number="Тіркеу нөмірі",
    preview="ҮЛГІ",
    page=("Бет ", " / "),
    reason="Себебі:",
    name_caption="(тегі, аты, әкесінің аты (бар болған жағдайда)",
    sign_caption="(қолы)",
)
RU = Texts(
    language="ru-RU",
    appendix=(
        "Приложение {n} к Алгоритму реализации пилотного проекта по проведению аттестации "
        "педагогов через Национальную платформу непрерывного профессионального развития "
        "педагога по Карагандинской области"
    ),
    form_word="Форма",
    number="Регистрационный номер",
    preview="ОБРАЗЕЦ",
    page=("Страница ", " из "),
    reason="Причина:",
    name_caption="(фамилия, имя, отчество (при наличии))",
    sign_caption="(подпись)",
)


# --------------------------------------------------------------------------- building blocks


class Form:
    """One .docx form being written: A4, official margins, Noto Serif 12 pt.

    `form_word`: the form prints "Нысан/Форма" under its appendix line (not forms 1, 3, 13);
    `number_line`: the registration number under the appendix block (the certificate prints
    it in its own line instead); `numbered`: page numbers in the footer (the protocols)."""

    def __init__(
        self,
        texts: Texts,
        appendix: int,
        title: str,
        *,
        wide: bool = False,
        form_word: bool = True,
        number_line: bool = True,
        numbered: bool = False,
    ) -> None:
        self.doc = Document()
        self._started: list[object] = []  # cells whose first paragraph is in use
        section = self.doc.sections[0]
        if wide:
            section.orientation = WD_ORIENT.LANDSCAPE
            section.page_width, section.page_height = Mm(297), Mm(210)
            section.top_margin, section.bottom_margin = Mm(20), Mm(15)
            section.left_margin, section.right_margin = Mm(25), Mm(15)
        else:
            section.page_width, section.page_height = Mm(210), Mm(297)
            section.top_margin, section.bottom_margin = Mm(20), Mm(20)
            section.left_margin, section.right_margin = Mm(30), Mm(15)
        self.width_mm = (section.page_width - section.left_margin - section.right_margin) / Mm(1)
        normal = self.doc.styles["Normal"]
        normal.font.name = FONT
        normal.font.size = Pt(12)
        fonts = normal.element.get_or_add_rPr().get_or_add_rFonts()
        for attribute in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
            fonts.set(qn(attribute), FONT)
        normal.paragraph_format.space_after = Pt(0)
        normal.paragraph_format.space_before = Pt(0)
        normal.paragraph_format.line_spacing = 1.0
        # the default template's first empty paragraph
        body = self.doc.element.body
        for paragraph in list(body.iterchildren(qn("w:p"))):
            body.remove(paragraph)

        properties = self.doc.core_properties
        properties.title = title
        properties.language = texts.language
        properties.author = "qujat"
        properties.last_modified_by = "qujat"
        properties.comments = ""
        properties.keywords = ""
        properties.subject = ""
        properties.revision = 1
        properties.created = properties.modified = BUILT.replace(tzinfo=None)

        block = Mm(72)
        indent = Mm(self.width_mm) - block
        head = [texts.appendix.format(n=appendix)] + ([texts.form_word] if form_word else [])
        for i, text in enumerate(head):
            paragraph = self.paragraph(
                [text],
                align="center",
                size=8.5,
                after=0 if i < len(head) - 1 or number_line else 18,
            )
            paragraph.paragraph_format.left_indent = indent
        if number_line:
            paragraph = self.paragraph(
                [
                    f'{{{{ ("{texts.number} " ~ document.registration_number) if document {NONE} '
                    f'else "{texts.preview}" }}}}'
                ],
                align="center",
                size=9,
                after=18,
            )
            paragraph.paragraph_format.space_before = Pt(6)
            paragraph.paragraph_format.left_indent = indent
        _preview_header(section, texts)
        if numbered:
            _page_footer(section, texts)

    # -- paragraphs

    def paragraph(
        self,
        runs: Sequence[Run],
        *,
        align: str | None = None,
        size: float | None = None,
        bold: bool = False,
        after: float = 6,
        container: _Cell | None = None,
        keep: bool = False,
    ) -> Paragraph:
        if container is None:
            paragraph = self.doc.add_paragraph()
        elif container._tc in self._started:
            paragraph = container.add_paragraph()
        else:  # a new cell comes with one empty paragraph: write into it
            self._started.append(container._tc)
            paragraph = container.paragraphs[0]
        _align(paragraph, align)
        paragraph.paragraph_format.space_after = Pt(after)
        if keep:  # stays on the page of what follows it (a heading and its table)
            paragraph.paragraph_format.keep_with_next = True
        for run in runs:
            style, text = ("", run) if isinstance(run, str) else run
            added = paragraph.add_run(text)
            added.bold = bold or style == "bold" or None
            if style == "fill":
                added.underline = True
            if style == "hint":
                added.font.size = Pt(9)
            elif size is not None:
                added.font.size = Pt(size)
        return paragraph

    def title(self, *lines: str) -> None:
        for i, line in enumerate(lines):
            self.paragraph(
                [line], align="center", bold=True, size=13, after=14 if i == len(lines) - 1 else 0
            )

    def tag(self, tag: str, container: _Cell | None = None) -> None:
        """A paragraph holding only a docxtpl paragraph tag (`{%p … %}`), removed on render."""
        self.paragraph([tag], after=0, container=container)

    def line(
        self,
        value: str,
        caption: str,
        *,
        container: _Cell | None = None,
        align: str = "center",
        after: float = 8,
    ) -> None:
        """A value on its own underlined blank, the form's caption small under it."""
        paragraph = self.paragraph([value], align=align, after=0, container=container)
        _bottom_border(paragraph)
        self.paragraph([caption], align="center", size=8, after=after, container=container)

    def labelled(self, label: str, value: str, caption: str) -> None:
        self.paragraph([label], after=2)
        self.line(value, caption)

    # -- tables

    def rows_table(
        self,
        headers: Sequence[str],
        widths_mm: Sequence[float],
        loop: str,
        cells: Sequence[str],
    ) -> None:
        """A protocol table: the header row repeats on every page, rows never split, and an
        empty table prints one row of dashes."""
        widths = _fill_widths(widths_mm, self.width_mm)
        table = self.doc.add_table(rows=0, cols=len(headers))
        table.style = self.doc.styles["Table Grid"]
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        _fixed_layout(table, widths)
        _row(table, headers, widths, size=9, align="center", header=True)
        _row(table, [f"{{%tr for row in {loop} %}}"], widths)
        _row(table, cells, widths, size=9, cant_split=True, first_centered=True)
        _row(table, ["{%tr else %}"], widths)
        _row(table, ["—"] * len(headers), widths, size=9, cant_split=True, first_centered=True)
        _row(table, ["{%tr endfor %}"], widths)
        self.paragraph([""], after=4)

    def signatures(
        self,
        rows: Iterable[tuple[str, str, str, str]],
        *,
        sign_first: bool = False,
        loop: tuple[str, str] | None = None,
    ) -> None:
        """Signature rows: role, name (with caption), a line to sign on (with caption).
        `loop` = (row tag opening, the row inside it) for a commission's members."""
        if sign_first:
            widths = [46.0, 35.0, self.width_mm - 81]
        else:
            widths = [56.0, min(99.0, self.width_mm - 91), 35.0]
        table = self.doc.add_table(rows=0, cols=3)
        _fixed_layout(table, widths)
        for row in rows:
            if row[0].startswith("{%tr"):
                _row(table, [row[0]], widths)
                continue
            self._signature_row(table, widths, row, sign_first)
        # the block stays on one page: every paragraph but the last row's keeps with the next
        for kept in list(table.rows)[:-1]:
            for cell in kept.cells:
                for paragraph in cell.paragraphs:
                    paragraph.paragraph_format.keep_with_next = True
        self.paragraph([""], after=2)

    def _signature_row(
        self,
        table: Table,
        widths: Sequence[float],
        row: tuple[str, str, str, str],
        sign_first: bool,
    ) -> None:
        role, name, name_caption, sign_caption = row
        cells = table.add_row().cells
        for cell, width in zip(cells, widths, strict=True):
            cell.width = Mm(width)
        _cant_split(table.rows[-1])
        self.paragraph([role], after=6, container=cells[0])
        name_cell, sign_cell = (cells[2], cells[1]) if sign_first else (cells[1], cells[2])
        if name_caption:
            self.line(name, name_caption, container=name_cell, after=6)
        else:
            value = self.paragraph([name], align="center", after=6, container=name_cell)
            _bottom_border(value)
        self.line("", sign_caption, container=sign_cell, after=6)

    def qr(self, container: _Cell | None = None) -> None:
        """The QR code (when the document is registered) and the address it encodes, in the
        bottom right corner."""
        align = "center" if container is not None else "right"
        self.tag(f"{{%p if document {NONE} %}}", container)
        self.paragraph(["{{ document.qr_image }}"], align=align, after=0, container=container)
        self.paragraph(
            ["{{ document.verify_url }}"], align=align, size=6.5, after=0, container=container
        )
        self.tag("{%p endif %}", container)

    def foot(self, lines: Callable[[_Cell], None]) -> None:
        """Two cells: registration lines on the left, the QR code in the right corner."""
        widths = [self.width_mm - 40, 40.0]
        table = self.doc.add_table(rows=1, cols=2)
        _fixed_layout(table, widths)
        left, right = table.rows[0].cells
        left.width, right.width = Mm(widths[0]), Mm(widths[1])
        lines(left)
        self.qr(right)

    def save(self, path: Path) -> None:
        _slim(self.doc)
        out = io.BytesIO()
        self.doc.save(out)
        path.write_bytes(fixed_zip(out.getvalue(), BUILT))


def _preview_header(section: object, texts: Texts) -> None:
    """A preview prints "ҮЛГІ" / "ОБРАЗЕЦ" large and grey at the top of every page; an issued
    document leaves the header empty."""
    header = section.header  # type: ignore[attr-defined]
    paragraph = header.paragraphs[0]
    _align(paragraph, "center")
    run = paragraph.add_run(f'{{{{ "{texts.preview}" if document is none else "" }}}}')
    run.bold = True
    run.font.size = Pt(28)
    run.font.color.rgb = RGBColor(0xA0, 0xA0, 0xA0)


def _field(paragraph: Paragraph, instruction: str, size: float) -> None:
    """A Word field (PAGE, NUMPAGES) that the word processor fills in when it lays out."""
    for kind, text in (
        ("begin", None),
        (None, instruction),
        ("separate", None),
        (None, "1"),
        ("end", None),
    ):
        run = paragraph.add_run()
        run.font.size = Pt(size)
        if kind is not None:
            char = OxmlElement("w:fldChar")
            char.set(qn("w:fldCharType"), kind)
            run._r.append(char)
        elif text == instruction:
            code = OxmlElement("w:instrText")
            code.set(qn("xml:space"), "preserve")
            code.text = f" {instruction} "
            run._r.append(code)
        else:
            run.text = text


def _page_footer(section: object, texts: Texts) -> None:
    """The registration number on the left, "Бет N / M" on the right of every page."""
    footer = section.footer  # type: ignore[attr-defined]
    paragraph = footer.paragraphs[0]
    width = section.page_width - section.left_margin - section.right_margin  # type: ignore[attr-defined]
    paragraph.paragraph_format.tab_stops.add_tab_stop(width, WD_TAB_ALIGNMENT.RIGHT)
    number = paragraph.add_run(
        f'{{{{ ("{texts.number} " ~ document.registration_number) if document {NONE} '
        f'else "{texts.preview}" }}}}\t{texts.page[0]}'
    )
    number.font.size = Pt(9)
    _field(paragraph, "PAGE", 9)
    paragraph.add_run(texts.page[1]).font.size = Pt(9)
    _field(paragraph, "NUMPAGES", 9)


UNUSED_PARTS = {
    "http://schemas.openxmlformats.org/package/2006/relationships/metadata/thumbnail",
    "http://schemas.microsoft.com/office/2007/relationships/stylesWithEffects",
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/customXml",
}
USED_STYLES = {"Normal", "DefaultParagraphFont", "TableNormal", "NoList", "TableGrid"}


def _slim(doc: DocxDocument) -> None:
    """Leave out what python-docx's default template carries and no form uses (a thumbnail,
    duplicate styles, hundreds of latent styles): a smaller file renders faster."""
    for rels in (doc.part.package.rels, doc.part.rels):
        for rId, rel in list(rels.items()):
            if rel.reltype in UNUSED_PARTS:
                del rels[rId]
    styles = doc.styles.element
    for child in list(styles):
        if child.tag == qn("w:latentStyles") or (
            child.tag == qn("w:style") and child.get(qn("w:styleId")) not in USED_STYLES
        ):
            styles.remove(child)


def _align(paragraph: Paragraph, align: str | None) -> None:
    if align is not None:
        paragraph.alignment = {
            "center": WD_ALIGN_PARAGRAPH.CENTER,
            "right": WD_ALIGN_PARAGRAPH.RIGHT,
            "left": WD_ALIGN_PARAGRAPH.LEFT,
        }[align]


def _bottom_border(paragraph: Paragraph) -> None:
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("w:val", "single"), ("w:sz", "4"), ("w:space", "1"), ("w:color", "000000")):
        bottom.set(qn(key), value)
    borders.append(bottom)
    paragraph._p.get_or_add_pPr().append(borders)


def _fill_widths(widths_mm: Sequence[float | None], total: float) -> list[float]:
    """Column widths, a None column taking what the others leave."""
    known = sum(w for w in widths_mm if w is not None)
    return [w if w is not None else total - known for w in widths_mm]


def _fixed_layout(table: Table, widths: Sequence[float]) -> None:
    table.autofit = False
    properties = table._tbl.tblPr
    layout = OxmlElement("w:tblLayout")
    layout.set(qn("w:type"), "fixed")
    properties.append(layout)
    grid = table._tbl.tblGrid
    for column, width in zip(grid.iterchildren(qn("w:gridCol")), widths, strict=True):
        column.set(qn("w:w"), str(int(Mm(width).twips)))


def _row(
    table: Table,
    texts: Sequence[str],
    widths: Sequence[float],
    *,
    size: float | None = None,
    align: str | None = None,
    header: bool = False,
    cant_split: bool = False,
    first_centered: bool = False,
) -> None:
    row = table.add_row()
    if header:
        row._tr.get_or_add_trPr().append(OxmlElement("w:tblHeader"))
    if cant_split:
        _cant_split(row)
    for i, (cell, width) in enumerate(zip(row.cells, widths, strict=True)):
        cell.width = Mm(width)
        if i >= len(texts):
            continue
        paragraph = cell.paragraphs[0]
        _align(paragraph, "center" if first_centered and i == 0 else align)
        run = paragraph.add_run(texts[i])
        if size is not None:
            run.font.size = Pt(size)


def _cant_split(row: object) -> None:
    row._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))  # type: ignore[attr-defined]


# a "does not correspond" row's decision cell, when the form has no reason column: the
# decision, then why (the HTML's rows_table with last="decision")
DECISION = (
    "{{{{ row.outcome|label }}}}{{% if row.reason %}}. {reason} {{{{ row.reason }}}}{{% endif %}}"
)


def category(expression: str) -> str:
    """A category that may be absent: its label, or a dash (the HTML's `category` macro)."""
    return f'{{{{ {expression}|label if {expression} else "—" }}}}'


# --------------------------------------------------------------------------- the forms


def certificate(t: Texts) -> Form:
    if t is KK:
        form = Form(
            t,
            1,
            "Біліктілік санатын беру (растау) туралы КУӘЛІК",
            form_word=False,
            number_line=False,
        )
        form.title("Біліктілік санатын беру (растау) туралы КУӘЛІК")
        form.labelled("Осы куәлік", "{{ holder.full_name }}", "(Т.А.Ә. (болған жағдайда), қолы)")
        form.paragraph(
            [
                ("fill", '{{ commission_decision_date|date("attributive") }}'),
                " Біліктілік санаттарын беру (растау) бойынша аттестаттау комиссиясының "
                "шешіміне сәйкес",
            ]
        )
        form.line(
            "{{ organisation }}",
            "(білім беру ұйымының немесе білім басқармасы органының толық атауы)",
        )
        form.paragraph(
            [
                ("fill", '{{ order.date|date("attributive") }}'),
                " № ",
                ("fill", "{{ order.number }}"),
                " бұйрығымен ",
                ("fill", "{{ category|label }}"),
                " біліктілік санаты",
            ]
        )
        form.line("{{ position }}", "(лауазымның атауы)")
        form.paragraph(
            [
                "лауазымы бойынша ",
                ("fill", '{% if grant == "award" %}берілді{% else %}расталды{% endif %}'),
                ".",
            ]
        )
        form.paragraph(
            ["Осы куәлік ", ("fill", '{{ valid_until|date("dative") }}'), " дейін жарамды."]
        )
        form.paragraph(["Білім беру ұйымының/ білім беруді басқару органының басшысы"], after=2)
        form.line(
            "{{ head_of_organisation.full_name }}",
            "(тегі, аты, әкесінің аты (бар болған жағдайда), қолы)",
        )
        registration = ("Басып шығару орны", "Тіркеу нөмірі ", "Берілген күні ", "")
    else:
        title = "УДОСТОВЕРЕНИЕ о присвоении (подтверждении) квалификационной категории"
        form = Form(t, 1, title, form_word=False, number_line=False)
        form.title("УДОСТОВЕРЕНИЕ", "о присвоении (подтверждении) квалификационной категории")
        form.labelled(
            "Настоящее удостоверение выдано", "{{ holder.full_name }}", "(ФИО (при его наличии)"
        )
        form.paragraph(
            [
                "в том, что в соответствии с решением аттестационной комиссии по "
                "присвоению (подтверждению) квалификационных категорий от ",
                ("fill", "{{ commission_decision_date|date }}"),
            ]
        )
        form.labelled(
            "приказом",
            "{{ organisation }}",
            "(полное наименование организации образования или органа управления образования)",
        )
        form.paragraph(
            [
                "№ ",
                ("fill", "{{ order.number }}"),
                " от ",
                ("fill", "{{ order.date|date }}"),
                " ",
                ("fill", '{% if grant == "award" %}присвоена{% else %}подтверждена{% endif %}'),
                " квалификационная категория ",
                ("fill", "{{ category|label }}"),
            ]
        )
        form.labelled("по должности", "{{ position }}.", "(наименование должности)")
        form.paragraph(
            ["Настоящее удостоверение действительно до ", ("fill", "{{ valid_until|date }}"), "."]
        )
        form.labelled(
            "Руководитель организации образования",
            "{{ head_of_organisation.full_name }}",
            "(ФИО (при его наличии), подпись)",
        )
        registration = ("Место печати", "Регистрационный номер ", "Дата выдачи ", ".")

    seal, number, issued, stop = registration

    def lines(cell: _Cell) -> None:
        form.paragraph([seal], container=cell)
        form.paragraph(
            [
                number,
                (
                    "fill",
                    f'{{{{ document.registration_number if document {NONE} else "{t.preview}" }}}}',
                ),
            ],
            container=cell,
        )
        form.paragraph([issued, ("fill", "{{ issue_date|date }}"), stop], container=cell)

    form.foot(lines)
    return form


def _commission(form: Form, chair_label: str, members_label: str) -> None:
    form.paragraph([chair_label, " ", ("fill", "{{ commission.chair.full_name }}")])
    form.paragraph([members_label], after=4)
    form.tag("{%p for member in commission.members %}")
    form.paragraph(["{{ loop.index }}. {{ member.full_name }}"], after=0)
    form.tag("{%p endfor %}")
    form.paragraph([""], after=4)


def _session(form: Form) -> None:
    form.paragraph(["{{ commission.name }}"], align="center")
    paragraph = form.paragraph(
        ["{{ session.date|date }}", "\t", "№ {{ session.number }}"], after=10
    )
    stops = paragraph.paragraph_format.tab_stops
    stops.add_tab_stop(Mm(form.width_mm), WD_TAB_ALIGNMENT.RIGHT)


def _signoff(
    form: Form, t: Texts, chair: str, members: str, secretary: str, name_caption: str
) -> None:
    form.paragraph([""], after=6)
    form.signatures(
        [
            (chair, "{{ commission.chair.full_name }}", name_caption, t.sign_caption),
            ("{%tr for member in commission.members %}", "", "", ""),
            (
                f'{{{{ "{members}" if loop.first else "" }}}}',
                "{{ member.full_name }}",
                name_caption,
                t.sign_caption,
            ),
            ("{%tr endfor %}", "", "", ""),
            (secretary, "{{ commission.secretary.full_name }}", name_caption, t.sign_caption),
        ]
    )


def protocol(t: Texts) -> Form:
    row = [
        "{{ loop.index }}",
        "{{ row.person.full_name }}",
        "{{ row.position }}",
        "{{ row.attestation|label }}",
        category("row.current_category"),
        "{{ row.declared_category|label }}",
        category("row.awarded_category"),
    ]
    if t is KK:
        title = (
            "Педагогтің/бөлім басшысының (менгерушісінің) және әдістемелік кабинеті "
            "(орталық) әдіскерінің біліктілік санатын беруге (растауға) арналған Комиссия "
            "отырысының хаттамасы"
        )
        form = Form(t, 2, title, wide=True, numbered=True)
        form.title(title)
        _session(form)
        _commission(form, "Комиссия төрағасы", "Комиссия мүшелері:")
        form.paragraph(
            [
                "Біліктілік санатын беру (растау) кезеңдерінің қорытындысы бойынша "
                "Комиссияның шешімі"
            ],
            bold=True,
            keep=True,
        )
        head = [
            "№",
            "Т.А.Ә. (бар болған жағдайда)",
            "Лауазымы",
            "Кезекті / мерзімінен бұрын педагогтер үшін",
            "Біліктілік санаты",
            "Мәлімделген біліктілік санаты",
            "Берілген біліктілік санаты",
        ]
        widths: list[float | None] = [9, None, 64, 24, 32, 32, 32]
        reason_widths: list[float | None] = [9, None, 50, 24, 32, 32, 32, 40]
        tables = [
            ("corresponds_declared", "Мәлімделген біліктілік санатына сәйкес келеді", False),
            ("not_corresponds_declared", "Мәлімделген біліктілік санатына сәйкес келмейді", True),
            ("corresponds_current", "Қолданыстағы біліктілік санатына сәйкес келеді", False),
            (
                "corresponds_below_current",
                "Қолданыстағы біліктілік санатынан төмен санатқа сәйкес келеді",
                False,
            ),
        ]
        for outcome, heading, with_reason in tables:
            form.paragraph([heading], bold=True, size=11, after=3, keep=True)
            if with_reason:
                reason_head = [
                    *head[:3],
                    "Кезекті/ мерзімінен бұрын педагогтер үшін",
                    *head[4:],
                    "Себебі",
                ]
                form.rows_table(
                    reason_head,
                    reason_widths,
                    f'table("{outcome}")',
                    [*row, '{{ row.reason or "—" }}'],
                )
            else:
                form.rows_table(head, widths, f'table("{outcome}")', row)
        _signoff(form, t, "Комиссия төрағасы", "Комиссия мүшелері", "Хатшы:", "")
        return form

    title = "Протокол заседания Комиссии на присвоение (подтверждение) квалификационной категории"
    form = Form(t, 2, title, wide=True, numbered=True)
    form.title(title)
    _session(form)
    _commission(form, "Председатель Комиссии:", "Члены Комиссии:")
    form.paragraph(["РЕШЕНИЕ аттестационной комиссии:"], bold=True, keep=True)
    head = [
        "№ п/п",
        "Ф.И.О. (при наличии)",
        "Должность",
        "Очередная / досрочная",
        "Имеющаяся квалификационная категория",
        "Заявляемая квалификационная категория",
        "Присвоенная квалификационная категория",
        "Решение комиссии",
    ]
    widths = [12, None, 50, 20, 30, 30, 30, 45]
    tables = [
        ("corresponds_declared", "Соответствует заявляемой квалификационной категории", False),
        (
            "not_corresponds_declared",
            "Не соответствует заявляемой квалификационной категории:",
            True,
        ),
        ("corresponds_current", "Соответствует действующей квалификационной категории", False),
        (
            "corresponds_below_current",
            "Соответствует квалификационной категории ниже действующей",
            False,
        ),
    ]
    for outcome, heading, with_reason in tables:
        form.paragraph([heading], bold=True, size=11, after=3, keep=True)
        last = DECISION.format(reason=t.reason) if with_reason else "{{ row.outcome|label }}"
        form.rows_table(head, widths, f'table("{outcome}")', [*row, last])
    _signoff(form, t, "Председатель Комиссии", "Члены Комиссии:", "Секретарь:", "")
    return form


def heads_protocol(t: Texts) -> Form:
    row = [
        "{{ loop.index }}",
        "{{ row.person.full_name }}",
        "{{ row.position }}",
        category("row.current_category"),
        "{{ row.declared_category|label }}",
        category("row.awarded_category"),
    ]
    first = 'table("corresponds_declared", "corresponds_current", "corresponds_below_declared")'
    second = 'table("not_corresponds")'
    if t is KK:
        title = (
            "Білім беру ұйымы (әдістемелік кабинет (орталық)) басшысының (басшы "
            "орынбасарының) біліктілік санатын беруге (растауға) арналған аттестаттау "
            "комиссиясы отырысының хаттамасы"
        )
        form = Form(t, 12, title, wide=True, numbered=True)
        form.title(title)
        _session(form)
        _commission(form, "Комиссия төрағасы:", "Комиссия мүшелері:")
        form.paragraph(["Аттестаттау комиссиясының ШЕШІМІ:"], bold=True, keep=True)
        head = [
            "р/с",
            "Т.А.Ә. (бар болған жағдайда)",
            "Лауазымы",
            "Бар біліктілік санаты",
            "Мәлімделетін біліктілік санаты",
            "Берілген біліктілік санаты",
            "Комиссия шешімі",
        ]
        widths: list[float | None] = [10, None, 50, 30, 30, 30, 55]
        form.paragraph(["1) сәйкес келеді:"], after=0, keep=True)
        form.paragraph(
            ["- мәлімделген біліктілік санатына (атқаратын лауазымына);"], after=0, keep=True
        )
        form.paragraph(
            ["- мәлімделгеннен төмен біліктілік санатына (атқаратын лауазымына)"],
            after=3,
            keep=True,
        )
        form.rows_table(head, widths, first, [*row, "{{ row.outcome|label }}"])
        form.paragraph(
            ["2) мәлімделген біліктілік санатына сәйкес емес (атқаратын лауазымына сәйкес емес)"],
            after=3,
            keep=True,
        )
        form.rows_table(head, widths, second, [*row, DECISION.format(reason=t.reason)])
        _signoff(form, t, "Комиссия төрағасы:", "Комиссия мүшелері:", "Хатшы:", t.name_caption)
        return form

    title = (
        "Протокол заседания аттестационной комиссии по присвоению (подтверждению) "
        "квалификационной категории руководителя (заместителя руководителя) организации "
        "образования (методического кабинета (центра))"
    )
    form = Form(t, 12, title, wide=True, numbered=True)
    form.title(title)
    _session(form)
    _commission(form, "Председатель Комиссии:", "Члены Комиссии:")
    form.paragraph(["РЕШЕНИЕ аттестационной комиссии:"], bold=True, keep=True)
    head = [
        "№ п/п",
        "Ф.И.О. (при наличии)",
        "Должность",
        "Имеющаяся квалификационная категория",
        "Заявляемая квалификационная категория",
        "Присвоенная квалификационная категория",
        "Решение комиссии",
    ]
    widths = [13, None, 50, 30, 30, 30, 55]
    form.paragraph(["1) соответствует:"], after=0, keep=True)
    form.paragraph(
        ["- заявляемой квалификационной категории (занимаемой должности);"], after=0, keep=True
    )
    form.paragraph(
        ["- квалификационной категории ниже заявляемой (занимаемой должности)"], after=3, keep=True
    )
    form.rows_table(head, widths, first, [*row, "{{ row.outcome|label }}"])
    form.paragraph(
        [
            "2) не соответствует заявляемой квалификационной категории (не соответствует "
            "занимаемой должности)"
        ],
        after=3,
        keep=True,
    )
    form.rows_table(head, widths, second, [*row, DECISION.format(reason=t.reason)])
    _signoff(form, t, "Председатель Комиссии:", "Члены Комиссии:", "Секретарь:", t.name_caption)
    return form


@dataclass(frozen=True)
class ExtractTexts:
    corresponds: str
    not_corresponds: str
    kept: str
    category_caption: str  # "" when the form writes "<category> біліктілік санаты"
    reason: str


def _decision(form: Form, x: ExtractTexts) -> None:
    """The extract's outcome lines: only those that apply."""

    def category_line(expression: str) -> None:
        if x.category_caption:
            form.line(f"{{{{ {expression}|label }}}}", x.category_caption)
        else:
            form.paragraph([("fill", f"{{{{ {expression}|label }}}}"), " біліктілік санаты"])

    form.tag('{%p if outcome == "corresponds_declared" %}')
    form.paragraph([x.corresponds])
    category_line("awarded_category")
    form.tag("{%p else %}")
    form.paragraph([x.not_corresponds])
    category_line("declared_category")
    form.tag('{%p if awarded_category or outcome == "corresponds_current" %}')
    form.paragraph([x.kept])
    category_line("(awarded_category or current_category)")
    form.tag("{%p endif %}")
    form.tag("{%p if reason %}")
    form.paragraph([x.reason, " {{ reason }}"])
    form.tag("{%p endif %}")
    form.tag("{%p endif %}")


def _secretary(form: Form, role: str, name_caption: str, sign_caption: str) -> None:
    form.paragraph([""], after=6)
    form.signatures(
        [(role, "{{ commission.secretary.full_name }}", name_caption, sign_caption)],
        sign_first=True,
    )
    form.qr()


KK_EXTRACT = ExtractTexts(
    corresponds="Мәлімделген біліктілік санатына сәйкес келеді",
    not_corresponds="Мәлімделген біліктілік санатына сәйкес келмейді",
    kept="Біліктілік санатына сәйкес келеді",
    category_caption="",
    reason="Себебі:",
)
RU_EXTRACT = ExtractTexts(
    corresponds="Соответствует заявляемой квалификационной категории",
    not_corresponds="Не соответствует заявляемой квалификационной категории:",
    kept="Соответствует квалификационной категории",
    category_caption="квалификационная категория",
    reason="Причина:",
)


def extract(t: Texts) -> Form:
    if t is KK:
        form = Form(t, 3, "Аттестаттау комиссиясы отырысының хаттамасынан үзінді", form_word=False)
        form.paragraph(["{{ session.date|date }}"])
        form.line("{{ commission.name }}", "(комиссияның толық атауын көрсету)")
        form.title("Аттестаттау комиссиясы отырысының № {{ session.number }} Хаттамасынан үзінді")
        form.paragraph(
            ["Біліктілік санатын беру (растау) кезеңдерінің қорытындысы бойынша Комиссия"],
            align="center",
        )
        form.paragraph(["ШЕШІМІ"], align="center", bold=True)
        form.line(
            "{{ person.full_name }}",
            "(аттестатталушы педагогтің тегі, аты, әкесінің аты (бар болған жағдайда)",
        )
        _decision(form, KK_EXTRACT)
        _secretary(form, "Комиссия хатшысы", "Т.А.Ә. (бар болған жағдайда)", "қолы")
        return form
    form = Form(t, 3, "Выписка из Протокола заседания аттестационной комиссии", form_word=False)
    form.title(
        "Выписка из Протокола № {{ session.number }} от {{ session.date|date }}",
        "заседания аттестационной комиссии",
    )
    form.line("{{ commission.name }}", "(указать полное наименование комиссии)")
    form.paragraph(
        [
            ("bold", "РЕШЕНИЕ"),
            " Комиссии по итогам этапов присвоения (подтверждения) квалификационной категории",
        ],
        align="center",
    )
    form.line(
        "{{ person.full_name }}",
        "фамилия, имя, отчество (при наличии) аттестуемого "
        "педагога, руководителя (заместителя руководителя) организации образования, "
        "методического кабинета (центра)",
    )
    _decision(form, RU_EXTRACT)
    _secretary(form, "Секретарь комиссии", "Ф.И.О. (при наличии)", "подпись")
    return form


def heads_extract(t: Texts) -> Form:
    if t is KK:
        form = Form(t, 13, "Аттестаттау комиссиясы отырысының хаттамасынан үзінді", form_word=False)
        form.line("{{ commission.name }}", "(комиссияның толық атауын көрсету)")
        form.title(
            'Аттестаттау комиссиясы отырысының {{ session.date|date("attributive") }} '
            "№ {{ session.number }} хаттамасынан үзінді"
        )
        form.paragraph(
            ["Біліктілік санатын беру (растау) кезеңдерінің қорытындысы бойынша комиссия"],
            align="center",
        )
        form.paragraph(["ШЕШІМІ"], align="center", bold=True)
        form.line(
            "{{ person.full_name }}",
            "(аттестатталушы білім беру ұйымы (әдістемелік "
            "кабинет (орталық) басшысының (басшы орынбасарының) тегі, аты, әкесінің аты "
            "(бар болса)",
        )
        _decision(
            form,
            ExtractTexts(
                KK_EXTRACT.corresponds,
                KK_EXTRACT.not_corresponds,
                KK_EXTRACT.kept,
                "(біліктілік санаты)",
                KK_EXTRACT.reason,
            ),
        )
        _secretary(form, "Комиссия хатшысы", t.name_caption, t.sign_caption)
        return form
    form = Form(t, 13, "Выписка из Протокола заседания аттестационной комиссии", form_word=False)
    form.title(
        "Выписка из Протокола № {{ session.number }} от {{ session.date|date }}",
        "заседания аттестационной комиссии",
    )
    form.line("{{ commission.name }}", "(указать полное наименование комиссии)")
    form.paragraph(
        [
            ("bold", "РЕШЕНИЕ"),
            " Комиссии по итогам этапов присвоения (подтверждения) квалификационной категории",
        ],
        align="center",
    )
    form.line(
        "{{ person.full_name }}",
        "(фамилия, имя, отчество (при наличии) аттестуемого "
        "руководителя (заместителя руководителя) организации образования (методического "
        "кабинета (центра))",
    )
    _decision(
        form,
        ExtractTexts(
            RU_EXTRACT.corresponds,
            RU_EXTRACT.not_corresponds,
            RU_EXTRACT.kept,
            "(квалификационная категория)",
            RU_EXTRACT.reason,
        ),
    )
    _secretary(form, "Секретарь комиссии", t.name_caption, t.sign_caption)
    return form


@dataclass(frozen=True)
class NoticeTexts:
    applicant_caption: str
    signer: str
    signer_caption: str
    sent: tuple[str, str]


KK_NOTICE = NoticeTexts(
    applicant_caption="",
    signer="Көрсетілетін қызметті берушінің қолы",
    signer_caption="(Т.А.Ә. (бар болған жағдайда)",
    sent=("Осы хабарлама ", " жіберілді."),
)
RU_NOTICE = NoticeTexts(
    applicant_caption="/Ф. И. О. (при наличии) услугополучателя/",
    signer="Подпись услугодателя",
    signer_caption="(Ф. И. О. (при наличии))",
    sent=("Настоящее уведомление направлено ", "."),
)


def _addressee(form: Form, caption: str) -> None:
    block = Mm(80)
    value = form.paragraph(["{{ applicant.full_name }}"], align="center", after=0)
    _bottom_border(value)
    note = form.paragraph([caption], align="center", size=8, after=18)
    for paragraph in (value, note):
        paragraph.paragraph_format.left_indent = Mm(form.width_mm) - block


def _notice_end(form: Form, n: NoticeTexts, *, signed: bool = False) -> None:
    """The day the notice was sent; `signed`: the form's "Подпись услугодателя" line (only
    the Russian form 7 has one; the provider is named by its digital signature)."""
    form.paragraph([n.sent[0], ("fill", "{{ sent_at|sent }}"), n.sent[1]])
    if not signed:
        return
    form.tag("{%p if authorised_person %}")
    form.paragraph([""], after=6)
    form.tag("{%p endif %}")
    form.signatures(
        [
            ("{%tr if authorised_person %}", "", "", ""),
            (
                n.signer,
                "{{ authorised_person.full_name }}",
                n.signer_caption,
                "(қолы)" if n is KK_NOTICE else "(подпись)",
            ),
            ("{%tr endif %}", "", "", ""),
        ]
    )


def acceptance(t: Texts) -> Form:
    if t is KK:
        form = Form(t, 6, "Аттестаттаудан өтуге өтінішті қабылдау туралы хабарлама")
        _addressee(form, "кызмет алушының Т.А.Ә. (бар болған жағдайда)/")
        form.title("Аттестаттаудан өтуге өтінішті қабылдау туралы хабарлама")
        form.paragraph(
            [
                "Педагогтерге біліктілік санаттарын беру (растау) рәсіміне қатысуға "
                "өтініш қабылданды."
            ]
        )
        _notice_end(form, KK_NOTICE)
        return form
    form = Form(t, 6, "Уведомление о приеме заявления на прохождение аттестации")
    _addressee(form, RU_NOTICE.applicant_caption)
    form.title("Уведомление о приеме заявления на прохождение аттестации")
    form.paragraph(
        [
            "Заявление на участие в аттестации по присвоению (подтверждению) "
            "квалификационных категорий педагогам принято."
        ]
    )
    _notice_end(form, RU_NOTICE)
    return form


def refusal(t: Texts) -> Form:
    if t is KK:
        title = "Аттестаттаудан өтуге өтінішті қабылдаудан бас тарту туралы хабарлама"
        form = Form(t, 7, title)
        _addressee(form, "қызмет алушының Т.А.Ә. (бар болған жағдайда)")
        form.title(title)
        form.paragraph(
            [
                "Педагогтерге біліктілік санаттарын беру (растау) рәсіміне қатысуға "
                "өтініш{% if grounds %} ",
                ("fill", "{{ grounds }}"),
                ",{% endif %}",
            ]
        )
        form.paragraph(
            [
                "атап айтқанда ",
                ("hint", "/жоқ немесе сәйкес келмейтін құжаттардың атауын көрсету/"),
                ":",
            ],
            after=3,
        )
        last, other = " байланысты қабылданбады.", ";"
        end = KK_NOTICE
        signed = False
    else:
        title = (
            "Уведомление об отказе в дальнейшем рассмотрении заявления на прохождение аттестации"
        )
        form = Form(t, 7, title)
        _addressee(form, RU_NOTICE.applicant_caption)
        form.title(title)
        form.paragraph(
            [
                "Заявление на участие в процедуре присвоения (подтверждения) "
                "квалификационных категорий педагогам не рассматривается"
                "{% if grounds %} в связи с ",
                ("fill", "{{ grounds }}"),
                "{% endif %},",
            ]
        )
        form.paragraph(
            [
                "а именно ",
                ("hint", "/указать наименование отсутствующих или несоответствующих документов/"),
                ":",
            ],
            after=3,
        )
        last, other = ".", ";"
        end = RU_NOTICE
        signed = True
    form.tag("{%p for missing in missing_documents %}")
    form.paragraph(
        [
            "{{ loop.index }}) ",
            ("fill", "{{ missing }}"),
            f"{{% if loop.last %}}{last}{{% else %}}{other}{{% endif %}}",
        ],
        after=0,
    )
    form.tag("{%p endfor %}")
    form.paragraph([""], after=4)
    _notice_end(form, end, signed=signed)
    return form


FORMS: dict[str, Callable[[Texts], Form]] = {
    "certificate": certificate,
    "protocol": protocol,
    "extract": extract,
    "acceptance": acceptance,
    "refusal": refusal,
    "heads_protocol": heads_protocol,
    "heads_extract": heads_extract,
}


def build(root: Path = ROOT) -> list[Path]:
    """Write every template; returns the files written."""
    written = []
    for language, texts in (("kk", KK), ("ru", RU)):
        for name, make in FORMS.items():
            path = root / f"templates_{language}" / f"{name}.docx"
            path.parent.mkdir(parents=True, exist_ok=True)
            make(texts).save(path)
            written.append(path)
    return written


if __name__ == "__main__":
    for path in build():
        print(path.relative_to(ROOT))
