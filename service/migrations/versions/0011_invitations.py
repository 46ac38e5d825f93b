"""Signing invitations (`signing_invitations`): one link per signer of a document, kept as the
SHA-256 of its token, with its expiry, revocation, use and the reminders sent for it.

Going down drops the table: the links handed out stop working.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "signing_invitations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("iin", sa.String(length=12), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reminders_sent", sa.Integer(), nullable=False),
        sa.Column("last_reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["document_id"], ["signing_states.document_id"],
            name=op.f("fk_signing_invitations_document_id_signing_states"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signing_invitations")),
        sa.UniqueConstraint("token_sha256", name=op.f("uq_signing_invitations_token_sha256")),
    )
    op.create_index(
        "ix_signing_invitations_document", "signing_invitations", ["document_id", "iin"]
    )


def downgrade() -> None:
    op.drop_index("ix_signing_invitations_document", table_name="signing_invitations")
    op.drop_table("signing_invitations")
