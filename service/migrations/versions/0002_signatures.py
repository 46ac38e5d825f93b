"""Commissions, signature requirements and signatures (issue: per-member signatures)."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamp(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "commissions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("spec_json", sa.Text(), nullable=False),
        sa.Column("spec_sha256", sa.String(length=64), nullable=False),
        sa.Column("members", sa.Integer(), nullable=False),
        sa.Column("term_end", sa.Date(), nullable=False),
        _timestamp("created_at"),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisations.id"],
            name=op.f("fk_commissions_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commissions")),
        sa.UniqueConstraint("organisation_id", "spec_sha256", name="uq_commissions_spec"),
    )
    op.create_table(
        "signing_states",
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("commission_id", sa.Uuid(), nullable=True),
        sa.Column("members_total", sa.Integer(), nullable=True),
        _timestamp("signed_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"],
            name=op.f("fk_signing_states_document_id_documents"),
        ),
        sa.ForeignKeyConstraint(
            ["commission_id"], ["commissions.id"],
            name=op.f("fk_signing_states_commission_id_commissions"),
        ),
        sa.PrimaryKeyConstraint("document_id", name=op.f("pk_signing_states")),
    )
    op.create_table(
        "signature_requirements",
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("iin", sa.String(length=12), nullable=False),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=24), nullable=False),
        sa.Column("name", sa.String(length=320), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"], ["signing_states.document_id"],
            name=op.f("fk_signature_requirements_document_id_signing_states"),
        ),
        sa.PrimaryKeyConstraint("document_id", "iin", name=op.f("pk_signature_requirements")),
    )
    op.create_table(
        "signatures",
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("iin", sa.String(length=12), nullable=False),
        sa.Column("cms_sha256", sa.String(length=64), nullable=False),
        sa.Column("certificate_serial", sa.String(length=80), nullable=False),
        sa.Column("certificate_sha256", sa.String(length=64), nullable=False),
        sa.Column("signer_name", sa.String(length=320), nullable=False),
        _timestamp("signing_time", nullable=True),
        _timestamp("accepted_at"),
        sa.Column("report_json", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"], ["signing_states.document_id"],
            name=op.f("fk_signatures_document_id_signing_states"),
        ),
        sa.PrimaryKeyConstraint("document_id", "iin", name=op.f("pk_signatures")),
    )


def downgrade() -> None:
    for table in ("signatures", "signature_requirements", "signing_states", "commissions"):
        op.drop_table(table)
