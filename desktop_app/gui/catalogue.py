"""The catalogue the window works with: the database engine, the Parquet storage, the config.

:func:`open_catalogue` is the start-up job (run on the write worker): make the engine,
bring the schema up to date, and run ``recover()`` so that sessions left ``writing`` by a
crash are settled before the user sees the list. The GUI only ever holds the resulting
plain :class:`Catalogue`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from desktop_app.config import Config
from storage.db import make_engine, upgrade
from storage.parquet import ParquetTelemetryStorage
from storage.sessions import RecoveryReport, find_duplicates, load_session, recover


@dataclass(frozen=True)
class Catalogue:
    """Where saved sessions live: the SQL catalogue and the Parquet folder."""

    config: Config
    engine: Engine
    storage: ParquetTelemetryStorage


@dataclass(frozen=True)
class OpenedCatalogue:
    catalogue: Catalogue
    recovery: RecoveryReport


def open_catalogue(config: Config) -> OpenedCatalogue:
    """Connect, migrate and recover (blocking: run it on the write worker)."""
    config.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(config.database_url)
    upgrade(engine)
    storage = ParquetTelemetryStorage(config.data_dir)
    report = recover(engine, storage)
    return OpenedCatalogue(Catalogue(config, engine, storage), report)


def duplicate_note(engine: Engine, sha256: str) -> str | None:
    """ "already in catalogue: session N 'name'" for a source file saved before, else None."""
    found = find_duplicates(engine, [sha256])
    session_id = found.get(sha256)
    if session_id is None:
        return None
    name = load_session(engine, session_id).summary.name
    return f"already in catalogue: session {session_id} {name!r}"


def recovery_text(report: RecoveryReport) -> str:
    """One status-bar line about what start-up recovery did (empty if nothing)."""
    parts: list[str] = []
    if report.ready:
        parts.append(f"{len(report.ready)} interrupted save(s) completed")
    if report.failed:
        parts.append(f"{len(report.failed)} interrupted save(s) marked failed")
    if report.orphans:
        parts.append(f"{len(report.orphans)} telemetry file(s) without a session (kept)")
    return "; ".join(parts)
