"""`qujat trust init` and `qujat trust refresh`: the national CA's certificates in a trust folder,
and its revocation data kept current (see docs/revocation.md)."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import click


@click.group("trust")
def trust_group() -> None:
    """The trust folder: the national CA's certificates and its CRLs."""


@trust_group.command("init")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--test",
    "test",
    is_flag=True,
    help="The CA's test generation (test.pki.gov.kz) instead of production.",
)
def trust_init(directory: Path, test: bool) -> None:
    """Write the national CA's root and intermediate certificates and revocation.json (the
    CRLs it publishes) into DIRECTORY; other files there are left alone."""
    from signing.anchors import Generation, anchors, write_trust_folder

    generation: Generation = "test" if test else "production"
    written = write_trust_folder(directory, generation)
    now = datetime.now(UTC)
    for anchor in anchors(generation):
        expired = "  (expired)" if anchor.not_after < now else ""
        click.echo(
            f"{anchor.file:<26} {anchor.algorithm:<5} {anchor.role:<12} "
            f"to {anchor.not_after.date()}  sha256 {anchor.sha256[:16]}…{expired}"
        )
    click.echo(f"{len(written) - 1} certificates and revocation.json in {directory.resolve()}")
    if not test:
        click.echo(
            "the CA's current generation (root_rsa_2020, nca_rsa_2022, root_gost_2022, "
            "nca_gost_2022) is not shipped: download it from https://pki.gov.kz/cert/ "
            "into this folder"
        )
    click.echo(f"trust the folder: export QUJAT_TRUST_DIR={directory.resolve()}")


@trust_group.command("refresh")
@click.option(
    "--trust-dir",
    "trust_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=lambda: os.environ.get("QUJAT_TRUST_DIR") or None,
    help="The trust folder [default: QUJAT_TRUST_DIR].",
)
@click.option("--force", is_flag=True, help="Download every CRL, not only those due.")
def trust_refresh(trust_dir: Path | None, force: bool) -> None:
    """Download the CRLs of the trust folder that are missing or due (once; for cron), and
    print what happened to each address. Exits 1 when any download failed."""
    from signing.revocation import LiveRevocation

    if trust_dir is None:
        raise click.UsageError("give --trust-dir or set QUJAT_TRUST_DIR")
    if not Path(trust_dir).is_dir():
        raise click.UsageError(f"--trust-dir: {trust_dir} is not a folder")
    live = LiveRevocation(Path(trust_dir))
    try:
        results = live.refresh(datetime.now(UTC), force=force)
    except ValueError as error:  # a malformed revocation.json
        raise click.ClickException(str(error)) from None
    for result in results:  # failures on stderr: `> /dev/null` in cron mails only those
        click.echo(result.line(), err=result.outcome == "failed")
    failed = sum(r.outcome == "failed" for r in results)
    click.echo(f"{len(results)} addresses, {failed} failed")
    if failed:
        raise SystemExit(1)
