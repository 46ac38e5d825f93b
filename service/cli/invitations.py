"""`qujat invitations …`: reminders to signers who have not signed."""

from __future__ import annotations

import click

from service.cli.common import load_settings, open_database


@click.group("invitations")
def invitations_group() -> None:
    """Signing invitations: links per signer and reminders."""


@invitations_group.command("remind")
def invitations_remind() -> None:
    """E-mail a reminder (with a fresh link) to every invited signer who is late, once."""
    from service.forms.decisions import system_clock
    from service.invitations.reminders import reminders_of

    settings = load_settings()
    database = open_database(settings)
    try:
        sent = reminders_of(database, settings, system_clock).remind()
    finally:
        database.dispose()
    click.echo(f"sent {sent} reminder(s)")
