"""`qujat render`: a form rendered from a request file, without the registry."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from service.core.messages import MESSAGE_LANGUAGES
from service.forms.decisions import InvalidDecision

if TYPE_CHECKING:
    pass

from service.cli.common import fail_invalid


@click.command("render")
@click.argument("request_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Where to write the document; .pdf or .docx decides the format.",
)
@click.option(
    "--messages",
    type=click.Choice(MESSAGE_LANGUAGES),
    default="en",
    show_default=True,
    help="Language of error messages.",
)
def render(request_file: Path, output: Path, messages: str) -> None:
    """Render REQUEST_FILE ({"form", "language", "decision"}) to a PDF or DOCX file."""
    from service import shared_renderer
    from service.api.body import parse_json_bytes
    from service.core.errors import Problem
    from service.forms.decisions import parse_request

    fmt = output.suffix.lower().lstrip(".")
    if fmt not in ("pdf", "docx"):
        raise click.BadParameter("the output must end in .pdf or .docx", param_hint="-o")
    try:
        payload: Any = parse_json_bytes(request_file.read_bytes())
    except Problem as problem:
        raise click.ClickException(f"{request_file}: {problem.detail}") from None
    if isinstance(payload, dict):
        payload = {**payload, "format": fmt}
    try:
        form, language, _, decision = parse_request(payload)
    except InvalidDecision as error:
        fail_invalid(error, messages)
    renderer = shared_renderer()
    if fmt == "pdf":
        content = renderer.render_pdf(form, language, decision)
    else:
        content = renderer.render_docx(form, language, decision)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(content)
    click.echo(f"{output} ({len(content):,} bytes, {form.value}, {language})")
