"""`qujat signature verify FILE`: verify any CMS or NCALayer-signed XML, as NCANode does.

Exit 0 when every signature is valid, 1 when any is not (invalid or indeterminate), 2 for a
usage error. `--json` prints the report of `signing.inspect.AnyReport.to_json`.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import click

# labels of the readable report, by language
_LABELS: dict[str, dict[str, str]] = {
    "kk": {
        "format": "Пішім",
        "signer": "Қол қоюшы",
        "result": "Нәтиже",
        "intact": "Математика",
        "yes": "дұрыс",
        "no": "бұзылған",
        "unchecked": "тексерілмеді",
        "algorithm": "Алгоритм",
        "iin": "ЖСН",
        "bin": "БСН",
        "signing_time": "Қол қойылған уақыт",
        "judged_at": "Тексерілген сәт",
        "certificate": "Сертификат",
        "issuer": "Берген",
        "valid_from": "Жарамды",
        "why": "Себебі",
        "signed": "Қол қойылғаны",
        "none": "Қолтаңба жоқ",
        "valid": "жарамды",
        "invalid": "жарамсыз",
        "indeterminate": "анықталмады",
    },
    "ru": {
        "format": "Формат",
        "signer": "Подписант",
        "result": "Итог",
        "intact": "Математика",
        "yes": "верна",
        "no": "нарушена",
        "unchecked": "не проверена",
        "algorithm": "Алгоритм",
        "iin": "ИИН",
        "bin": "БИН",
        "signing_time": "Время подписания",
        "judged_at": "Проверено на момент",
        "certificate": "Сертификат",
        "issuer": "Издатель",
        "valid_from": "Действует",
        "why": "Причина",
        "signed": "Подписано",
        "none": "Подписей нет",
        "valid": "действительна",
        "invalid": "недействительна",
        "indeterminate": "не удалось установить",
    },
    "en": {
        "format": "Format",
        "signer": "Signer",
        "result": "Result",
        "intact": "Mathematics",
        "yes": "intact",
        "no": "broken",
        "unchecked": "not checked",
        "algorithm": "Algorithm",
        "iin": "IIN",
        "bin": "BIN",
        "signing_time": "Signing time",
        "judged_at": "Judged at",
        "certificate": "Certificate",
        "issuer": "Issuer",
        "valid_from": "Valid",
        "why": "Why",
        "signed": "Signed",
        "none": "No signature",
        "valid": "valid",
        "invalid": "invalid",
        "indeterminate": "indeterminate",
    },
}


@click.group("signature")
def signature_group() -> None:
    """Verify signatures that qujat did not collect: any CMS, or XML signed by NCALayer."""


@signature_group.command("verify")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--content",
    "content_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The signed document of a detached CMS.",
)
@click.option(
    "--trust-dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="CA certificates and CRLs to trust [default: $QUJAT_TRUST_DIR].",
)
@click.option(
    "--at",
    "at_text",
    default="now",
    show_default=True,
    metavar="WHEN",
    help="When to judge the certificates: now, signing-time or an ISO-8601 "
    "date/date-time (UTC without an offset).",
)
@click.option(
    "--revocation",
    type=click.Choice(["require", "soft-fail", "off"]),
    default=None,
    help="Revocation checking [default: $QUJAT_REVOCATION or require].",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option(
    "--messages",
    type=click.Choice(["kk", "ru", "en"]),
    default="en",
    show_default=True,
    help="The language of the readable report.",
)
def verify_command(
    file: Path,
    content_file: Path | None,
    trust_dir: Path | None,
    at_text: str,
    revocation: str | None,
    as_json: bool,
    messages: str,
) -> None:
    """Verify every signature in FILE: CMS (DER, PEM or base64; attached or detached; one
    signer or many) or an XML document with enveloped XMLDSig signatures."""
    from signing import TrustAnchors
    from signing.inspect import At, looks_like_xml, verify_any
    from signing.trust import RevocationMode, RevocationPolicy

    try:
        at = At.parse(at_text)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--at") from None
    folder = trust_dir or _env_path("QUJAT_TRUST_DIR")
    if folder is None:
        raise click.UsageError("a trust folder is needed: --trust-dir or QUJAT_TRUST_DIR")
    mode = revocation or os.environ.get("QUJAT_REVOCATION") or "require"
    try:
        policy = RevocationPolicy(mode=RevocationMode(mode))
    except ValueError:
        raise click.BadParameter(
            f"{mode!r} (from QUJAT_REVOCATION)", param_hint="--revocation"
        ) from None
    try:
        trust = TrustAnchors.from_folder(folder)
    except ValueError as error:
        raise click.UsageError(f"trust folder {folder}: {error}") from None
    data = file.read_bytes()
    if content_file is not None and looks_like_xml(data):
        raise click.BadParameter(
            "is for a detached CMS; an XML signature is inside its document", param_hint="--content"
        )
    content = content_file.read_bytes() if content_file is not None else None
    report = verify_any(data, content, trust=trust, at=at, revocation=policy)
    if as_json:
        click.echo(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    else:
        _print_report(report.to_json(), messages)
    sys.exit(0 if report.ok else 1)


def _env_path(name: str) -> Path | None:
    value = os.environ.get(name)
    if not value:
        return None
    path = Path(value)
    if not path.is_dir():
        raise click.UsageError(f"{name}={value} is not a folder")
    return path


def _print_report(body: dict[str, Any], lang: str) -> None:
    from signing.errors import FailureCode

    labels = _LABELS[lang]
    click.echo(
        f"{labels['format']}: {body['format'].upper()}  "
        f"{labels['result']}: {labels[body['result']]}"
    )
    for code in body["codes"]:
        click.echo(f"  {labels['why']}: {FailureCode(code).message(lang)}  [{code}]")  # type: ignore[arg-type]
    if not body["signers"] and not body["codes"]:
        click.echo(labels["none"])
    for number, signer in enumerate(body["signers"], start=1):
        click.echo(f"{labels['signer']} {number}: {signer['subject'] or '—'}")
        intact = "yes" if signer["intact"] else "no"
        if not signer["intact"] and "no_content" in signer["codes"]:
            intact = "unchecked"
        click.echo(
            f"  {labels['result']}: {labels[signer['result']]}; "
            f"{labels['intact']}: {labels[intact]}; "
            f"{labels['algorithm']}: {signer['algorithm']}"
        )
        if signer["iin"] or signer["bin"]:
            click.echo(
                f"  {labels['iin']}: {signer['iin'] or '—'}  "
                f"{labels['bin']}: {signer['bin'] or '—'}"
            )
        if signer.get("signed"):
            click.echo(f"  {labels['signed']}: {signer['signed']}")
        click.echo(
            f"  {labels['signing_time']}: {signer['signing_time'] or '—'}; "
            f"{labels['judged_at']}: {signer['judged_at']}"
        )
        certificate = signer["certificate"]
        if certificate:
            click.echo(
                f"  {labels['certificate']}: {certificate['serial']}; "
                f"{labels['issuer']}: {certificate['issuer']}; "
                f"{labels['valid_from']}: {certificate['not_before']} — "
                f"{certificate['not_after']}"
            )
        for code in signer["codes"]:
            text = FailureCode(code).message(lang)  # type: ignore[arg-type]
            click.echo(f"  {labels['why']}: {text}  [{code}]")
