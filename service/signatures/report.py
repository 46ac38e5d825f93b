"""The signature report of a document as JSON and as a one-page PDF in Kazakh or Russian.

Each required signer: name, role, the certificate's subject and serial, the signing time the
signature states, and the result of verifying it again at the time of the report. No IIN: the
report is meant to be printed and filed with the protocol.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import path2url

from service.forms.dates import legal_datetime
from service.forms.decisions import ALMATY
from service.forms.rendering import RUNNING_QR_CSS, TemplateFetcher, with_running_qr
from service.forms.vocabulary import FORM_NAMES, Form, Language, signer_role_label
from service.signatures.intake import Quorum, SignatureReportView, SignerResult
from signing.errors import FailureCode

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"

_TEXTS: dict[Language, dict[str, str]] = {
    "kk": {
        "title": "Электрондық цифрлық қолтаңбаларды тексеру хаттамасы",
        "document": "Құжат",
        "status": "Күйі",
        "quorum": "Кворум",
        "checked": "Тексерілген уақыты",
        "signer": "Қол қоюшы",
        "role": "Рөлі",
        "certificate": "Сертификат иесі",
        "serial": "Сертификаттың сериялық нөмірі",
        "issuer": "Сертификатты берген орталық",
        "signing_time": "Қол қойылған уақыты",
        "result": "Нәтижесі",
    },
    "ru": {
        "title": "Протокол проверки электронных цифровых подписей",
        "document": "Документ",
        "status": "Состояние",
        "quorum": "Кворум",
        "checked": "Время проверки",
        "signer": "Подписант",
        "role": "Роль",
        "certificate": "Владелец сертификата",
        "serial": "Серийный номер сертификата",
        "issuer": "Издатель сертификата",
        "signing_time": "Время подписания",
        "result": "Результат",
    },
}
_STATUSES: dict[Language, dict[str, str]] = {
    "kk": {
        "signed": "барлық қажетті қолтаңбалар қойылды",
        "awaiting_signatures": "қолтаңбалар күтілуде",
        "quorum_unknown": "кворумды тексеру мүмкін емес (комиссия тіркелмеген)",
        "valid": "жарамды",
        "invalid": "жарамсыз",
        "indeterminate": "анықталмады",
        "missing": "қол қойылмаған",
    },
    "ru": {
        "signed": "все необходимые подписи поставлены",
        "awaiting_signatures": "ожидаются подписи",
        "quorum_unknown": "кворум проверить нельзя (комиссия не зарегистрирована)",
        "valid": "действительна",
        "invalid": "недействительна",
        "indeterminate": "не определено",
        "missing": "не подписано",
    },
}
_QUORUM: dict[Language, str] = {
    "kk": "{present} мүше қатысты, комиссия құрамы {total}, кемінде {needed} қажет",
    "ru": "присутствовали {present} членов из {total}, необходимо не менее {needed}",
}


def report_json(report: SignatureReportView) -> dict[str, Any]:
    document = report.document
    return {
        "id": str(document.id),
        "registration_number": document.registration_number,
        "form": document.form.value,
        "sha256": document.pdf_sha256,
        "status": report.status,
        "signed_at": _iso(report.signed_at),
        "checked_at": report.checked_at.isoformat(),
        "quorum": quorum_json(report.quorum),
        "signers": [_signer_json(line) for line in report.signers],
    }


def quorum_json(quorum: Quorum | None) -> dict[str, Any] | None:
    if quorum is None:
        return None
    return {
        "members_total": quorum.members_total,
        "members_present": quorum.members_present,
        "needed": quorum.needed,
        "holds": quorum.holds,
    }


def _signer_json(line: SignerResult) -> dict[str, Any]:
    return {
        "name": line.name,
        "role": line.role,
        "signed": line.signed,
        "certificate_subject": line.certificate_subject,
        "certificate_serial": line.certificate_serial,
        "certificate_issuer": line.certificate_issuer,
        "signing_time": _iso(line.signing_time),
        "accepted_at": _iso(line.accepted_at),
        "result": line.status,
        "failures": [code.value for code in line.failures],
    }


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _common_name(distinguished_name: str) -> str:
    """The issuer as a person reads it: its CN (`C=KZ,CN=ҰЛТТЫҚ КУӘЛАНДЫРУШЫ ОРТАЛЫҚ (GOST)`
    → the name), else the name as it is."""
    found = re.search(r"(?:^|,)CN=((?:[^,\\]|\\.)+)", distinguished_name)
    return found.group(1).replace("\\", "") if found else distinguished_name


class ReportRenderer:
    """Prints signature reports; one per process (fonts are loaded once)."""

    def __init__(self) -> None:
        self.fetcher = TemplateFetcher([TEMPLATES])
        self.font_config = FontConfiguration()
        self._env = Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._template = self._env.get_template("signature_report.html")
        self._lock = threading.Lock()  # WeasyPrint's font objects are shared

    def render_pdf(self, report: SignatureReportView, language: Language) -> bytes:
        with self._lock:
            pdf: bytes = self._laid_out(report, language).write_pdf()
        return pdf

    def signed_copy_pdf(
        self, pages: Any, report: SignatureReportView, language: Language, verify_url: str
    ) -> bytes:
        """The printable signed copy: the document's own `pages` (laid out with the verify
        page's QR code on each), then this report as its signature sheet, the same QR code on
        each of its pages too."""
        with self._lock:
            sheet = self._laid_out(report, language, verify_url)
            combined = pages.copy([*pages.pages, *sheet.pages])
            combined.metadata.title = f"{report.document.registration_number}"
            pdf: bytes = combined.write_pdf()
        return pdf

    def _laid_out(
        self, report: SignatureReportView, language: Language, verify_url: str | None = None
    ) -> Any:
        html = self._template.render(self._context(report, language))
        stylesheets = []
        if verify_url is not None:
            html = with_running_qr(html, verify_url)
            stylesheets.append(CSS(string=RUNNING_QR_CSS, font_config=self.font_config))
        moment = report.checked_at.astimezone(ALMATY).replace(microsecond=0).isoformat()
        document = HTML(
            string=html, base_url=path2url(TEMPLATES), url_fetcher=self.fetcher
        ).render(font_config=self.font_config, stylesheets=stylesheets)
        document.metadata.created = document.metadata.modified = moment
        return document

    @staticmethod
    def _context(report: SignatureReportView, language: Language) -> dict[str, Any]:
        statuses = _STATUSES[language]

        def when(value: dt.datetime | None) -> str:
            return legal_datetime(value.astimezone(ALMATY), language) if value else ""

        quorum = ""
        if report.quorum is not None:
            q = report.quorum
            quorum = _QUORUM[language].format(
                present=q.members_present, total=q.members_total, needed=q.needed
            )
        lines = []
        for line in report.signers:
            reasons = "; ".join(FailureCode(c).message(language) for c in line.failures)
            result = statuses[line.status] + (f": {reasons}" if reasons else "")
            lines.append({
                "name": line.name,
                "role": signer_role_label(line.role, language),
                "subject": line.certificate_subject or "",
                "serial": line.certificate_serial or "",
                "issuer": _common_name(line.certificate_issuer or ""),
                "signing_time": when(line.signing_time),
                "status": line.status,
                "result": result,
            })
        return {
            "language": language,
            "t": _TEXTS[language],
            "number": report.document.registration_number,
            "form": FORM_NAMES[Form(report.document.form)][language],
            "sha256": report.document.pdf_sha256 or "",
            "status": statuses[report.status],
            "signed_at": when(report.signed_at),
            "quorum": quorum,
            "checked_at": when(report.checked_at),
            "lines": lines,
        }
