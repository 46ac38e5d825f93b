"""The e-mail outbox's `awaiting_signatures` state: an extract's e-mail waits for the
signatures its document requires (the status column grows to hold the longer value).

Messages already queued for a document that still waits for a signature move to the new
state, so that no unsigned document leaves once this revision is in; going down moves them
back to `queued`.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CONSTRAINT = "ck_mail_outbox_mail_status"
BEFORE = ("queued", "sending", "sent", "failed")
AFTER = ("awaiting_signatures", *BEFORE)
UNSIGNED = "document_id IN (SELECT document_id FROM signing_states WHERE signed_at IS NULL)"


def _restate(values: Sequence[str], length: int, existing_length: int) -> None:
    """The status column's length and CHECK constraint (on SQLite the table is copied)."""
    allowed = ", ".join(f"'{value}'" for value in values)
    with op.batch_alter_table("mail_outbox") as batch:
        batch.drop_constraint(op.f(CONSTRAINT), type_="check")
        batch.alter_column(
            "status",
            existing_type=sa.String(length=existing_length),
            type_=sa.String(length=length),
            existing_nullable=False,
        )
        batch.create_check_constraint(op.f(CONSTRAINT), f"status IN ({allowed})")


def upgrade() -> None:
    _restate(AFTER, 24, 16)
    op.execute(
        "UPDATE mail_outbox SET status = 'awaiting_signatures' "
        f"WHERE status = 'queued' AND {UNSIGNED}"
    )


def downgrade() -> None:
    op.execute("UPDATE mail_outbox SET status = 'queued' WHERE status = 'awaiting_signatures'")
    _restate(BEFORE, 16, 24)
