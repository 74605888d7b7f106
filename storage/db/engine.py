"""Engines for the catalogue: SQLite (the embedded default) or PostgreSQL (teams).

``make_engine(url)`` gives an engine configured for safe concurrent use:

* SQLite: the parent folder is created, WAL journal (readers never block the writer),
  ``foreign_keys=ON`` (SQLite ignores ``ON DELETE CASCADE`` otherwise), a busy timeout,
  and transactions that start with ``BEGIN IMMEDIATE`` when opened through
  :func:`write_sessionmaker`, so two writers queue on the busy timeout instead of failing
  with "database is locked" when a read transaction is upgraded to a write one.
* PostgreSQL (``postgresql+psycopg://``): ``pool_pre_ping`` so a connection the server
  dropped is replaced instead of failing the next unit of work.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.orm import Session, sessionmaker

#: how long an SQLite writer waits for another one before giving up (milliseconds)
SQLITE_BUSY_TIMEOUT_MS = 30_000
#: how long to wait for a PostgreSQL server to answer a new connection (seconds)
PG_CONNECT_TIMEOUT_S = 10
_IMMEDIATE = "laptrace_sqlite_immediate"


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url`` (``sqlite:///path`` or ``postgresql+psycopg://...``)."""
    u = make_url(url)
    if u.drivername.startswith("sqlite"):
        if u.database and u.database != ":memory:" and not u.database.startswith("file:"):
            Path(u.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        connect_args = dict(kwargs.pop("connect_args", {}))
        connect_args.setdefault("timeout", SQLITE_BUSY_TIMEOUT_MS / 1000)
        engine = create_engine(u, connect_args=connect_args, **kwargs)
        _configure_sqlite(engine)
    else:
        kwargs.setdefault("pool_pre_ping", True)
        if u.drivername.startswith("postgresql") and "connect_timeout" not in u.query:
            # an unreachable server is an error after a while, not a frozen app
            connect_args = dict(kwargs.pop("connect_args", {}))
            connect_args.setdefault("connect_timeout", PG_CONNECT_TIMEOUT_S)
            kwargs["connect_args"] = connect_args
        engine = create_engine(u, **kwargs)
    return engine


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event emit BEGIN itself (the pysqlite recipe), so that
        # write units of work can ask for BEGIN IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS:d}")
            # FULL: a committed transaction survives a power cut, not only a killed process
            cursor.execute("PRAGMA synchronous=FULL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get(_IMMEDIATE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def write_engine(engine: Engine) -> Engine:
    """``engine`` whose transactions take SQLite's write lock up front (no-op elsewhere)."""
    if is_sqlite(engine):
        return engine.execution_options(**{_IMMEDIATE: True})
    return engine


def read_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Sessions for read-only units of work (``with maker.begin() as db: ...``).

    Every statement of one unit sees the same snapshot: a session's row, its laps and its
    sources are read by several statements, and under PostgreSQL's default READ COMMITTED a
    delete committed between them would give a session without laps. REPEATABLE READ takes
    the snapshot at the first statement (a read-only transaction is never refused for it).
    SQLite's deferred BEGIN in WAL mode already keeps one snapshot per transaction.
    """
    if engine.dialect.name == "postgresql":
        return sessionmaker(engine.execution_options(isolation_level="REPEATABLE READ"), expire_on_commit=False)
    return sessionmaker(engine, expire_on_commit=False)


def write_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Sessions for units of work that write (SQLite: ``BEGIN IMMEDIATE``)."""
    return sessionmaker(write_engine(engine), expire_on_commit=False)
