"""Working-day calendar overrides, deadlines and the e-mail outbox."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=16)


def _timestamp(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _document_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["document_id"], ["documents.id"], name=op.f(f"fk_{table}_document_id_documents")
    )


def upgrade() -> None:
    op.create_table(
        "calendar_overrides",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("working", sa.Boolean(), nullable=False),
        _timestamp("created_at"),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_calendar_overrides")),
    )
    op.create_table(
        "deadlines",
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind", _enum("deadline_kind", "notice", "delivery", "publication"), nullable=False
        ),
        sa.Column("start_event", sa.String(length=32), nullable=False),
        _timestamp("starts_at"),
        sa.Column("working_days", sa.Integer(), nullable=False),
        _timestamp("due_at"),
        _timestamp("met_at", nullable=True),
        _document_fk("deadlines"),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisations.id"],
            name=op.f("fk_deadlines_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("document_id", name=op.f("pk_deadlines")),
    )
    op.create_index(
        "ix_deadlines_open", "deadlines", ["organisation_id", "met_at", "due_at"], unique=False
    )
    op.create_table(
        "mail_outbox",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column(
            "status", _enum("mail_status", "queued", "sending", "sent", "failed"), nullable=False
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _timestamp("next_attempt_at"),
        _timestamp("lease_until", nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        _timestamp("created_at"),
        _timestamp("sent_at", nullable=True),
        _document_fk("mail_outbox"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_outbox")),
        sa.UniqueConstraint(
            "document_id", "sequence", name="uq_mail_outbox_document_sequence"
        ),
    )
    op.create_index(
        "ix_mail_outbox_ready", "mail_outbox", ["status", "next_attempt_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_mail_outbox_ready", table_name="mail_outbox")
    op.drop_table("mail_outbox")
    op.drop_index("ix_deadlines_open", table_name="deadlines")
    op.drop_table("deadlines")
    op.drop_table("calendar_overrides")
