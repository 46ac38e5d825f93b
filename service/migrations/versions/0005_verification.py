"""Public verification: revocations, supersessions, the public facts of each document, and
an index to find a document by the hash of its PDF."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _document_fk(table: str, column: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], ["documents.id"], name=op.f(f"fk_{table}_{column}_documents")
    )


def upgrade() -> None:
    op.create_table(
        "revocations",
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("act_number", sa.String(length=64), nullable=False),
        sa.Column("act_date", sa.Date(), nullable=False),
        sa.Column("token_id", sa.Integer(), nullable=False),
        _document_fk("revocations", "document_id"),
        sa.ForeignKeyConstraint(
            ["token_id"], ["api_tokens.id"], name=op.f("fk_revocations_token_id_api_tokens")
        ),
        sa.PrimaryKeyConstraint("document_id", name=op.f("pk_revocations")),
    )
    op.create_table(
        "supersessions",
        sa.Column("old_document_id", sa.Uuid(), nullable=False),
        sa.Column("new_document_id", sa.Uuid(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        _document_fk("supersessions", "old_document_id"),
        _document_fk("supersessions", "new_document_id"),
        sa.PrimaryKeyConstraint("old_document_id", name=op.f("pk_supersessions")),
        sa.UniqueConstraint("new_document_id", name=op.f("uq_supersessions_new_document_id")),
    )
    op.create_table(
        "document_facts",
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("surname", sa.String(length=200), nullable=True),
        sa.Column("given_name", sa.String(length=200), nullable=True),
        sa.Column("patronymic", sa.String(length=200), nullable=True),
        sa.Column("position", sa.Text(), nullable=True),
        sa.Column("workplace", sa.Text(), nullable=True),
        sa.Column("category", sa.String(length=16), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("grant", sa.String(length=16), nullable=True),
        sa.Column("decision_date", sa.Date(), nullable=True),
        sa.Column("order_number", sa.String(length=64), nullable=True),
        sa.Column("order_date", sa.Date(), nullable=True),
        sa.Column("issue_date", sa.Date(), nullable=True),
        sa.Column("valid_until", sa.Date(), nullable=True),
        _document_fk("document_facts", "document_id"),
        sa.PrimaryKeyConstraint("document_id", name=op.f("pk_document_facts")),
    )
    op.create_index("ix_documents_pdf_sha256", "documents", ["pdf_sha256"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_documents_pdf_sha256", table_name="documents")
    for table in ("document_facts", "supersessions", "revocations"):
        op.drop_table(table)
