"""Alembic environment for the catalogue.

Run through :func:`storage.db.upgrade` / :func:`storage.db.downgrade`, which hand over an
open connection in ``config.attributes["connection"]`` (no alembic.ini: the app finds
this folder inside its own package, installed or frozen). For ``alembic revision
--autogenerate`` during development, ``-x url=sqlite:///...`` names a database instead.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from storage.db.engine import make_engine
from storage.db.models import Base


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        # SQLite cannot ALTER most things: later migrations copy-and-move tables instead
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("url")
    if not url:
        raise RuntimeError("run migrations through storage.db.upgrade(), or pass -x url=...")
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            _run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise RuntimeError("offline (SQL script) migrations are not supported")
run_migrations_online()
