"""Alembic's environment: runs on the connection `service.core.db` hands over (see
`service.core.db.alembic_config`), or on QUJAT_DATABASE_URL / the default SQLite file."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from service.core.config import Settings
from service.core.db import make_engine
from service.tables import metadata

config = context.config
target_metadata = metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things: alembic copies the table instead
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection: Connection | None = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(Settings.from_env().database_url)
    try:
        with engine.begin() as own:
            _run(own)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("qujat's migrations run online only: `qujat db upgrade`")
run_migrations_online()
