"""The `qujat` console script."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from service.decisions import InvalidDecision
from service.messages import MESSAGE_LANGUAGES, message


def _fail_invalid(error: InvalidDecision, language: str) -> None:
    click.echo(f"invalid decision ({len(error.violations)} problem(s)):", err=True)
    for v in error.violations:
        text = message(v.code, language, dict(v.params))  # type: ignore[arg-type]
        click.echo(f"  {v.pointer or '/'}: {text} [{v.code}]", err=True)
    sys.exit(2)


@click.group()
@click.version_option(package_name="qujat")
def main() -> None:
    """qujat: official teacher-attestation documents for Kazakhstan."""


@main.command()
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
    from service.api.render import parse_request
    from service.errors import Problem

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
        _fail_invalid(error, messages)
    renderer = shared_renderer()
    if fmt == "pdf":
        content = renderer.render_pdf(form, language, decision)
    else:
        content = renderer.render_docx(form, language, decision)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(content)
    click.echo(f"{output} ({len(content):,} bytes, {form.value}, {language})")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int)
def serve(host: str, port: int, workers: int) -> None:
    """Run the service with gunicorn (settings come from QUJAT_* environment variables)."""
    from gunicorn.app.base import BaseApplication

    from service import create_app

    app = create_app()

    class _Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("accesslog", "-")

        def load(self) -> Any:
            return app

    click.echo(f"qujat listening on http://{host}:{port} ({workers} workers)")
    _Server().run()
