"""The issuing body's full name in Kazakh and in Russian (`organisations.name_kk`, `name_ru`),
shown beside its code on the public verify page and in its JSON.

Both are optional: a body created before this revision keeps the one `name` it was given
(its code when none was) until `qujat org set` records them. Going down drops the columns.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# plain ALTER TABLE ADD/DROP COLUMN (SQLite has both since 3.35): a batch operation would copy
# and drop `organisations`, which every token and document refers to by a foreign key


def upgrade() -> None:
    op.add_column("organisations", sa.Column("name_kk", sa.String(length=300), nullable=True))
    op.add_column("organisations", sa.Column("name_ru", sa.String(length=300), nullable=True))


def downgrade() -> None:
    op.drop_column("organisations", "name_ru")
    op.drop_column("organisations", "name_kk")
