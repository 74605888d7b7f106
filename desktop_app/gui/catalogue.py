"""The window's start-up with the catalogue, and the lines it shows about it.

:func:`open_and_recover` is the start-up job (run on the write worker): open the catalogue
(:func:`desktop_app.catalogue.open_catalogue`, as the CLI does) and run ``recover()`` so that
sessions left ``writing`` by a crash are settled before the user sees the list. The GUI
only ever holds the resulting plain :class:`~desktop_app.catalogue.Catalogue`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from desktop_app.catalogue import Catalogue, open_catalogue
from desktop_app.config import Config
from storage.db.catalog import find_duplicates, load_session
from storage.sessions import RecoveryReport, recover


@dataclass(frozen=True)
class OpenedCatalogue:
    catalogue: Catalogue
    recovery: RecoveryReport


def open_and_recover(config: Config) -> OpenedCatalogue:
    """Create the data folder, connect, migrate and recover (blocking: run it on the write worker)."""
    config.data_dir.mkdir(parents=True, exist_ok=True)
    catalogue = open_catalogue(config)
    try:
        report = recover(catalogue.engine, catalogue.storage)
    except BaseException:
        catalogue.close()
        raise
    return OpenedCatalogue(catalogue, report)


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
