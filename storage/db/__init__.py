"""The catalogue: SQLAlchemy 2.0 models, engine setup and Alembic migrations.

``make_engine(url)`` opens SQLite or PostgreSQL; ``upgrade(engine)`` brings the schema to
the newest revision (the app and the CLI call it at start, so an older catalogue is
migrated in place); ``downgrade(engine, revision)`` goes back.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

if TYPE_CHECKING:
    from alembic.config import Config

from storage.db.engine import make_engine, write_engine
from storage.db.models import Base

__all__ = [
    "HEAD_REVISION",
    "Base",
    "alembic_config",
    "current_revision",
    "downgrade",
    "head_revision",
    "make_engine",
    "upgrade",
]

#: The newest migration's revision (a test checks it is Alembic's head). A catalogue already
#: there is opened without importing Alembic, which costs every command a fifth of a second.
HEAD_REVISION = "0002"

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
#: any constant: serialises concurrent upgrades of one PostgreSQL database
_PG_LOCK_KEY = 0x4C415054


def alembic_config() -> Config:
    """A programmatic Alembic config pointing at this package's migrations folder."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def _migrate(engine: Engine, target: str, up: bool) -> None:
    from alembic import command

    cfg = alembic_config()
    # BEGIN IMMEDIATE on SQLite and an advisory lock on PostgreSQL: several processes
    # starting at once on a fresh catalogue migrate it one after the other.
    with write_engine(engine).begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
        cfg.attributes["connection"] = conn
        if up:
            command.upgrade(cfg, target)
        else:
            command.downgrade(cfg, target)


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the catalogue up to ``revision`` (default: the newest)."""
    if revision == "head" and _stored_revision(engine) == HEAD_REVISION:
        return
    _migrate(engine, revision, up=True)


def _stored_revision(engine: Engine) -> str | None:
    """The revision in the catalogue's ``alembic_version`` table, read without Alembic;
    None when there is no such table (a new catalogue) or it holds no single row."""
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT version_num FROM alembic_version")).all()
    except DBAPIError:
        return None
    return str(rows[0][0]) if len(rows) == 1 else None


def downgrade(engine: Engine, revision: str) -> None:
    """Migrate the catalogue down to ``revision`` (``"base"``: drop every table)."""
    _migrate(engine, revision, up=False)


def current_revision(engine: Engine) -> str | None:
    """The catalogue's revision, or None for an empty database."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    """The newest revision this version of the app knows."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()
