"""The `qujat` console script: one command group per capability, each in its own module."""

from __future__ import annotations

import click

from service.cli.batches import batch_group, worker_command
from service.cli.deadlines import calendar_group, deadlines_group, mail_group
from service.cli.forms import render
from service.cli.invitations import invitations_group
from service.cli.registry import audit, db, org, registry, storage, token
from service.cli.server import serve
from service.cli.signature import signature_group
from service.cli.signatures import (
    commission_group,
    pki_group,
    sign_command,
    sign_pending_command,
)
from service.cli.trust import trust_group
from service.cli.webhooks import webhooks_group


@click.group()
@click.version_option(package_name="qujat")
def main() -> None:
    """qujat: official teacher-attestation documents for Kazakhstan."""
    # every command that records an event (revoke, mail, batches, …) queues its webhooks
    from service.webhooks.outbox import install_observer

    install_observer()


for command in (render, serve, db, token, org, registry, storage, audit, calendar_group,
                deadlines_group, mail_group, pki_group, sign_command, sign_pending_command,
                commission_group, batch_group, worker_command, trust_group, signature_group,
                webhooks_group, invitations_group):
    main.add_command(command)
