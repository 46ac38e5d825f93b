"""The `objects` table: document files (PDF, DOCX, CMS) kept in the database itself when
`QUJAT_STORAGE=postgresql`, so that several machines share them without a shared folder.

The table exists on every backend (empty unless that storage is chosen). Going down drops it:
move its objects out first with `qujat storage migrate --to filesystem`.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "objects",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_objects")),
    )


def downgrade() -> None:
    op.drop_table("objects")
