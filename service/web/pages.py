"""The public HTML pages: verify by number or QR code, verify an uploaded PDF, published lists.

GET       /verify                     a form to type a number (→ /verify/{number})
GET, POST /verify/{number}[?t=…]      the verification; POST `surname` discloses the full name
GET, POST /verify/upload              a PDF (and optionally its .p7s, one signer or several)
                                      → registered or not, and each signer of the .p7s
GET       /published/{org}[.csv|.json] the attested teachers of an attesting body (p. 20)

Kazakh by default; Russian with ?lang=ru or an Accept-Language that prefers it. The IIN is
never on any of them: the pages only see `service.verification.verifier`'s public facts.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from flask import (
    Blueprint,
    Response,
    current_app,
    redirect,
    render_template,
    request,
)
from werkzeug.exceptions import RequestEntityTooLarge

from service.core.config import Settings
from service.core.errors import single
from service.forms.dates import legal_date, legal_datetime
from service.forms.decisions import ALMATY
from service.forms.vocabulary import (
    LANGUAGES,
    HeadOutcome,
    Language,
    TeacherOutcome,
    label,
    parse_category,
    signer_role_label,
)
from service.verification.verifier import (
    SIGNED_FORMS,
    Disclosure,
    PublishedEntry,
    PublishedList,
    UnknownOrganisation,
    UploadCheck,
    UploadedSignature,
    UploadedSignatureChecker,
    Verification,
    Verifier,
    published_list,
)
from service.web import texts
from service.web.spreadsheet import neutralised

bp = Blueprint("public", __name__)

MAX_TOKEN_LENGTH = 64
MAX_SURNAME_LENGTH = 100


def verifier() -> Verifier:
    found: Verifier = current_app.extensions["qujat.verifier"]
    return found


def settings() -> Settings:
    found: Settings = current_app.extensions["qujat.settings"]
    return found


def page_language() -> Language:
    chosen = request.args.get("lang")
    if chosen in LANGUAGES:
        return "ru" if chosen == "ru" else "kk"
    best = request.accept_languages.best_match(LANGUAGES, default="kk")
    return "ru" if best == "ru" else "kk"


def disclosure() -> Disclosure:
    token = request.args.get("t")
    surname = request.form.get("surname") if request.method == "POST" else None
    return Disclosure(
        token=token if token and len(token) <= MAX_TOKEN_LENGTH else None,
        surname=surname.strip() if surname and len(surname) <= MAX_SURNAME_LENGTH else None,
    )


def switch_url(language: Language) -> str:
    """This page in the other language (keeping the token, so a full name stays shown)."""
    params: dict[str, str] = {"lang": "kk" if language == "ru" else "ru"}
    token = request.args.get("t")
    if token and len(token) <= MAX_TOKEN_LENGTH:
        params["t"] = token
    return f"{request.path}?{urlencode(params)}"


def _page(template: str, status: int = 200, **context: Any) -> Response:
    language = context.pop("language", None) or page_language()
    html = render_template(
        template, language=language, t=texts.TEXTS, switch_url=switch_url(language),
        role=signer_role_label, **context
    )
    return Response(html, status, mimetype="text/html")


def _message(status: int, key: str, **params: object) -> Response:
    language = page_language()
    return _page(
        "public/message.html",
        status,
        language=language,
        title=texts.text("error", language),
        message=texts.text(key, language, **params),
    )


# --------------------------------------------------------------------------- presentation


@dataclass(frozen=True, slots=True)
class Row:
    label: str
    value: str


def _date(value: Any, language: Language) -> str:
    return legal_date(value, language) if value is not None else ""


def category_label(code: str | None, language: Language) -> str | None:
    return label(parse_category(code), language) if code else None


def outcome_label(code: str | None, form_is_heads: bool, language: Language) -> str | None:
    if not code:
        return None
    outcome = HeadOutcome(code) if form_is_heads else TeacherOutcome(code)
    return label(outcome, language)


def rows_of(found: Verification, language: Language) -> list[Row]:
    """The facts a verify page lists, in the order a reader checks them against paper."""
    if not found.found or found.form is None:
        return []

    def t(key: str) -> str:
        return texts.text(key, language)

    facts = found.facts
    rows = [
        Row(t("document_type"), texts.FORM_NAMES[found.form][language]),
        Row(t("issuing_body"), issuing_body_label(found, language)),
    ]
    if found.holder_name:
        rows.append(Row(t("holder"), found.holder_name))
    if facts.position:
        rows.append(Row(t("position"), facts.position))
    if facts.workplace:
        rows.append(Row(t("workplace"), facts.workplace))
    category = category_label(facts.category, language)
    if category:
        granted = f" ({t('grant.' + facts.grant)})" if facts.grant else ""
        rows.append(Row(t("category"), category + granted))
    outcome = outcome_label(facts.outcome, found.form.value.startswith("heads_"), language)
    if outcome:
        rows.append(Row(t("outcome"), outcome))
    if facts.decision_date:
        rows.append(Row(t("decision_date"), _date(facts.decision_date, language)))
    if facts.order_number:
        order_date = _date(facts.order_date, language)
        rows.append(Row(t("order"), f"№ {facts.order_number}, {order_date}"))
    if facts.issue_date:
        rows.append(Row(t("issue_date"), _date(facts.issue_date, language)))
    if facts.valid_until:
        rows.append(Row(t("valid_until"), _date(facts.valid_until, language)))
    return rows


def issuing_body_label(found: Verification, language: Language) -> str:
    """The issuing body's full name in the page's language with its code beside it (the code
    alone when no name was recorded)."""
    name = found.issuing_body_in(language) or ""
    code = found.organisation_code or ""
    if not name or name == code:
        return code
    return f"{name} ({code})" if code else name


def answered_at_label(found: Verification, language: Language) -> str:
    """When the answer was computed, as a reader writes it, in Asia/Almaty time."""
    if found.answered_at is None:
        return ""
    moment = found.answered_at.astimezone(ALMATY)
    return f"{legal_datetime(moment, language)} ({texts.text('almaty_time', language)})"


def signature_summary(found: Verification, language: Language) -> str:
    if not found.signatures_required:
        if found.form in SIGNED_FORMS:
            return texts.text("signatures.no_signer", language)
        return texts.text("signatures.none", language)
    if found.signed_at is not None:
        return texts.text("signatures.verified", language)
    return texts.text("signatures.awaiting", language)


def signed_when(value: dt.datetime | None, language: Language) -> str:
    return legal_datetime(value.astimezone(ALMATY), language) if value is not None else ""


def _verification_context(found: Verification, language: Language) -> dict[str, Any]:
    return {
        "found": found,
        "rows": rows_of(found, language),
        "signature_summary": signature_summary(found, language),
        "revoked_on": (
            _date(found.revocation.revoked_at.astimezone(ALMATY).date(), language)
            if found.revocation else ""
        ),
        "act_date": _date(found.revocation.act_date, language) if found.revocation else "",
        "answered_at": answered_at_label(found, language),
        "answered_at_iso": (
            found.answered_at.astimezone(ALMATY).replace(microsecond=0).isoformat()
            if found.answered_at else ""
        ),
        "signed_when": signed_when,
        "lang_param": "" if language == "kk" else "?lang=ru",
    }


# --------------------------------------------------------------------------- verify pages


@bp.get("/verify")
def verify_form() -> Response:
    typed = request.args.get("number", "").strip()
    if typed and len(typed) <= 40 and "/" not in typed:
        # percent-encoded: a typed CR/LF, "?" or "#" stays part of the number and can
        # neither split the Location header nor add a query to it
        target = f"/verify/{quote(typed, safe='')}"
        if request.args.get("lang") == "ru":
            target += "?lang=ru"
        return redirect(target, 303)  # type: ignore[return-value]
    return _page("public/verify_form.html")


@bp.route("/verify/<string:number>", methods=["GET", "POST"])
def verify(number: str) -> Response:
    language = page_language()
    offered = disclosure()
    found = verifier().verify(number, offered)
    surname_wrong = offered.surname is not None and found.found and not found.name_disclosed
    status = 200 if found.found else 404
    return _page(
        "public/verify.html",
        status,
        language=language,
        surname_wrong=surname_wrong,
        **_verification_context(found, language),
    )


# --------------------------------------------------------------------------- upload


class UploadRefused(Exception):
    """`key` names both the page's text and the API's message; `at` the form field."""

    def __init__(self, status: int, key: str, *, at: str = "pdf", **params: object) -> None:
        self.status = status
        self.key = key
        self.at = at
        self.params = params
        super().__init__(key)


UPLOAD_FIELDS = ("pdf", "p7s")


def read_upload() -> tuple[bytes, bytes | None]:
    """The uploaded PDF and optional .p7s, within QUJAT_UPLOAD_MAX_BYTES (else 413). Any other
    form field is refused (400), so a file sent under a wrong name is not silently left out."""
    limit = settings().upload_max_bytes
    if request.content_length is not None and request.content_length > limit:
        raise UploadRefused(413, "too_large", limit=limit)
    request.max_content_length = limit
    try:
        unknown = [name for name in (*request.files, *request.form) if name not in UPLOAD_FIELDS]
        if unknown:
            raise UploadRefused(400, "upload_unknown_field", at=unknown[0], field=unknown[0])
        pdf = request.files.get("pdf")
        p7s = request.files.get("p7s")
        content = pdf.read(limit + 1) if pdf is not None else b""
        signature = p7s.read(limit + 1) if p7s is not None else b""
    except RequestEntityTooLarge:
        raise UploadRefused(413, "too_large", limit=limit) from None
    if not content:
        raise UploadRefused(400, "upload_missing")
    return content, signature or None


def check_upload(content: bytes, signature: bytes | None) -> UploadCheck:
    checker: UploadedSignatureChecker = current_app.extensions["qujat.upload_signature_checker"]
    return verifier().check_upload(content, signature, signature_checker=checker)


@dataclass(frozen=True, slots=True)
class UploadedSigner:
    name: str
    role: str | None
    status: str
    signed_at: str  # as a reader writes it, in Almaty time; "" when the signature has none
    signed_at_iso: str


@dataclass(frozen=True, slots=True)
class UploadedSignatureView:
    status: str
    summary: str
    signers: list[UploadedSigner]
    signed_at_label: str


def uploaded_signature_view(
    uploaded: UploadedSignature, language: Language
) -> UploadedSignatureView:
    """What the upload page says about an uploaded .p7s: a summary, then signer by signer."""
    if uploaded.signers:
        summary = texts.text(f"uploaded_signature.{uploaded.status}", language,
                              count=len(uploaded.signers))
    elif uploaded.status == "indeterminate":
        summary = texts.text("uploaded_signature.unchecked", language)
    else:
        summary = texts.text("uploaded_signature.unreadable", language)
    signers = [
        UploadedSigner(
            c.name,
            c.role,
            c.status,
            legal_datetime(c.signed_at.astimezone(ALMATY), language) if c.signed_at else "",
            c.signed_at.isoformat() if c.signed_at else "",
        )
        for c in uploaded.signers
    ]
    return UploadedSignatureView(uploaded.status, summary, signers,
                                 texts.text("uploaded_signature.signed_at", language))


@bp.get("/verify/upload")
def upload_form() -> Response:
    return _page("public/upload.html", check=None)


@bp.post("/verify/upload")
def upload() -> Response:
    language = page_language()
    try:
        content, signature = read_upload()
    except UploadRefused as refused:
        return _message(refused.status, refused.key, **refused.params)
    checked = check_upload(content, signature)
    context: dict[str, Any] = {"check": checked, "uploaded": None}
    if checked.uploaded_signature is not None:
        context["uploaded"] = uploaded_signature_view(checked.uploaded_signature, language)
    if checked.verification is not None:
        context.update(_verification_context(checked.verification, language))
    return _page("public/upload.html", language=language, **context)


# --------------------------------------------------------------------------- published lists


@bp.get("/published/<string:name>")
def published(name: str) -> Response:
    code, _, extension = name.partition(".")
    if extension not in ("", "csv", "json"):
        return _message(404, "unknown_organisation")
    clock = verifier().clock
    try:
        listing = published_list(
            verifier().db, code.upper(), clock().astimezone(ALMATY).date()
        )
    except UnknownOrganisation:
        if extension:
            raise single(404, "unknown-organisation", "unknown_organisation") from None
        return _message(404, "unknown_organisation")
    language = page_language()
    if extension == "csv":
        return _csv(listing)
    if extension == "json":
        return _json(listing)
    return _page(
        "public/published.html",
        language=language,
        listing=listing,
        entries=[_entry_cells(e) for e in listing.entries],
        csv_url=f"/published/{listing.organisation_code}.csv?lang={language}",
        json_url=f"/published/{listing.organisation_code}.json?lang={language}",
    )


def _entry_language(entry: PublishedEntry) -> Language:
    return "ru" if entry.language == "ru" else "kk"


def _entry_cells(entry: PublishedEntry) -> list[str]:
    """A row as its certificate reads: the category in the certificate's language, beside the
    name and organisation as the certificate writes them."""
    return [
        entry.name,
        entry.workplace or "",
        category_label(entry.category, _entry_language(entry)) or "",
    ]


def _csv(listing: PublishedList) -> Response:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["name", "organisation", "category"])
    for entry in listing.entries:
        writer.writerow([neutralised(cell) for cell in _entry_cells(entry)])
    # a byte order mark: spreadsheet programs then read the Kazakh letters as UTF-8
    response = Response("\ufeff" + out.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{listing.organisation_code}-attested.csv"'
    )
    return response


def _json(listing: PublishedList) -> Response:
    body = {
        "organisation": {"code": listing.organisation_code, "name": listing.organisation_name},
        "entries": [
            {
                "name": entry.name,
                "organisation": entry.workplace,
                "category": entry.category,
                "category_label": category_label(entry.category, _entry_language(entry)),
                "language": entry.language,
            }
            for entry in listing.entries
        ],
    }
    return Response(json.dumps(body, ensure_ascii=False), mimetype="application/json")
