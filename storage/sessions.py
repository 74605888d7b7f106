"""save_session(): the metadata transaction, then the Parquet file, then the status.

1. One transaction: the driver (found or created), the session with status ``writing``,
   its sources and its laps. Commit.
2. The telemetry, under the new session id, through the :class:`TelemetryStorage`
   (an atomic write: temp file, fsync, ``os.replace``).
3. Status ``ready`` with the file's size and row count; if step 2 failed, ``failed`` with
   the error, and the caller gets a :class:`SaveError` to offer Retry or Discard.

Whatever stops the process part-way, :func:`recover` (run at start-up) puts every session
back into a truthful state: a ``writing`` session whose file is complete is ``ready``, any
other is ``failed``; files without a session are reported and left alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol, runtime_checkable

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from storage.db import faults
from storage.db.catalog import (
    UNSET,
    SavedSession,
    SessionSummary,
    driver_id,
    find_duplicates,
    lap_row,
    lines_json,
    list_drivers,
    list_sessions,
    list_tracks,
    load_session,
    reading,
    run_write,
    set_lap_validity,
    source_row,
    update_session,
)
from storage.db.errors import (
    CatalogError,
    DuplicateImportError,
    SaveError,
    SessionNotFoundError,
    describe,
)
from storage.db.models import TrackSession
from storage.parquet import ParquetTelemetryStorage
from storage.parquet_resplit import settle_resplits
from storage.types import Progress, SessionDraft, SessionTelemetry, TelemetryStorage

__all__ = [
    "UNSET",
    "CatalogError",
    "DuplicateImportError",
    "RecoveryReport",
    "SaveError",
    "SavedSession",
    "SessionNotFoundError",
    "SessionSummary",
    "delete_session",
    "discard_session",
    "find_duplicates",
    "list_drivers",
    "list_sessions",
    "list_tracks",
    "load_session",
    "recover",
    "retry_telemetry",
    "save_session",
    "set_lap_validity",
    "update_session",
]


@runtime_checkable
class _FileStorage(Protocol):
    """What a file-backed storage (``ParquetTelemetryStorage``) offers beyond the protocol."""

    root: Path

    def path_for(self, session_id: int) -> Path: ...

    def session_ids(self) -> list[int]: ...

    def temp_files(self) -> list[Path]: ...


class _Footer(Protocol):
    total_points: int


@runtime_checkable
class _FooterStorage(Protocol):
    def read_footer(self, session_id: int) -> _Footer | None: ...


# --- saving --------------------------------------------------------------------------------


def save_session(
    draft: SessionDraft,
    engine: Engine,
    storage: TelemetryStorage,
    *,
    progress: Progress | None = None,
    force: bool = False,
) -> int:
    """Commit the draft's metadata, write its telemetry, and return the new session id.

    Raises :class:`DuplicateImportError` before anything is written if a source's SHA-256
    is already in the catalogue (unless ``force``), :class:`CatalogError` if the metadata
    transaction fails (nothing committed), :class:`SaveError` if the telemetry could not
    be written (the session exists, ``failed``). ``draft`` is not modified, so it can be
    handed to :func:`retry_telemetry` later.
    """
    if not force:
        _refuse_duplicates(engine, draft)
    faults.checkpoint("before_tx")
    expected_rows = draft.telemetry.total_points

    def insert(db: Session) -> int:
        row = TrackSession(
            name=draft.name,
            track=draft.track,
            vehicle=draft.vehicle,
            driver_id=driver_id(db, draft.driver),
            started_at=draft.started_at,
            started_at_local=draft.started_at is not None and draft.started_at.tzinfo is None,
            imported_at=datetime.now(UTC),
            notes=draft.notes,
            status="writing",
            row_count=expected_rows,
            lap_source=draft.lap_source,
            source_type=draft.telemetry.metadata.source_type,
            sources=[source_row(s) for s in draft.sources],
            laps=[lap_row(lap, draft.lap_source) for lap in draft.laps],
            ideal_lap_s=draft.ideal_lap_s,
            sector_source=draft.sector_source,
            timing_lines=lines_json(draft.lines),
        )
        db.add(row)
        db.flush()
        faults.checkpoint("before_commit")
        return row.id

    session_id = run_write(engine, insert)
    faults.checkpoint("after_commit")
    _write_telemetry(engine, storage, session_id, draft.telemetry, progress)
    return session_id


def _refuse_duplicates(engine: Engine, draft: SessionDraft) -> None:
    held = find_duplicates(engine, [s.sha256 for s in draft.sources])
    if not held:
        return
    src = next(s for s in draft.sources if s.sha256.lower() in held)
    session_id = held[src.sha256.lower()]
    with reading(engine) as db:
        name = db.execute(select(TrackSession.name).where(TrackSession.id == session_id)).scalar()
    raise DuplicateImportError(src.sha256.lower(), src.file_name, session_id, name or "")


def _write_telemetry(
    engine: Engine,
    storage: TelemetryStorage,
    session_id: int,
    telemetry: SessionTelemetry,
    progress: Progress | None,
) -> None:
    """Steps 2 and 3: the file, then ``ready`` (or ``failed`` and :class:`SaveError`)."""

    def report(done: int, total: int) -> None:
        faults.checkpoint("parquet")
        if progress is not None:
            progress(done, total)

    try:
        path = storage.write(replace(telemetry, session_id=session_id), report)
        size = path.stat().st_size
    except Exception as exc:
        try:
            _set_status(engine, session_id, "failed", error=describe(exc))
        except CatalogError:
            pass  # the session stays "writing": recover() will mark it failed
        raise SaveError(session_id, exc) from exc
    faults.checkpoint("before_ready")
    try:
        _set_status(
            engine,
            session_id,
            "ready",
            file_path=_relative(storage, path),
            file_size=size,
            row_count=telemetry.total_points,
        )
    except CatalogError as exc:
        # the file is complete; recover() will see that and mark the session ready
        raise SaveError(session_id, exc) from exc
    faults.checkpoint("after_ready")


def _relative(storage: TelemetryStorage, path: Path) -> str:
    if isinstance(storage, _FileStorage):
        try:
            return path.resolve().relative_to(Path(storage.root).resolve()).as_posix()
        except ValueError:
            pass
    return path.as_posix()


def _set_status(
    engine: Engine,
    session_id: int,
    status: str,
    *,
    error: str | None = None,
    file_path: str | None = None,
    file_size: int | None = None,
    row_count: int | None = None,
    only_if: str | None = None,
) -> bool:
    values: dict[str, object] = {"status": status, "error": error}
    if status == "ready":
        values.update(file_path=file_path, file_size=file_size, row_count=row_count)
    query = update(TrackSession).where(TrackSession.id == session_id).values(**values)
    if only_if is not None:
        query = query.where(TrackSession.status == only_if)

    def work(db: Session) -> bool:
        return bool(db.execute(query).rowcount)  # type: ignore[attr-defined]

    return run_write(engine, work)


def retry_telemetry(engine: Engine, storage: TelemetryStorage, session_id: int, telemetry: SessionTelemetry) -> None:
    """Write a session's telemetry again (after a :class:`SaveError`) and mark it ready.

    ``telemetry`` must be the session's (same number of rows as its laps); raises
    :class:`SaveError` again if the write fails.
    """
    with reading(engine) as db:
        expected = db.execute(select(TrackSession.row_count).where(TrackSession.id == session_id)).first()
    if expected is None:
        raise SessionNotFoundError(session_id)
    if expected[0] is not None and expected[0] != telemetry.total_points:
        raise ValueError(
            f"session {session_id} has {expected[0]} rows of telemetry, "
            f"the telemetry given has {telemetry.total_points}"
        )
    _set_status(engine, session_id, "writing")
    _write_telemetry(engine, storage, session_id, telemetry, None)


def delete_session(engine: Engine, storage: TelemetryStorage, session_id: int) -> None:
    """Delete the session's rows (laps and sources cascade), then its file.

    The file goes last: if the process stops in between, the file is an orphan that
    :func:`recover` reports, never a session pointing at a missing file. An ``OSError``
    removing the file is raised after the rows are gone (the file is then an orphan).
    """

    def work(db: Session) -> None:
        row = db.get(TrackSession, session_id)
        if row is None:
            raise SessionNotFoundError(session_id)
        db.delete(row)

    run_write(engine, work)
    faults.checkpoint("after_delete_rows")
    storage.delete(session_id)


def discard_session(engine: Engine, storage: TelemetryStorage, session_id: int) -> None:
    """Give up on a session whose telemetry could not be written (rows and any file)."""
    delete_session(engine, storage, session_id)


# --- start-up recovery ---------------------------------------------------------------------


@dataclass
class RecoveryReport:
    """What :func:`recover` did and found."""

    ready: list[int] = field(default_factory=list)  #: ``writing`` sessions now ``ready``
    failed: list[int] = field(default_factory=list)  #: ``writing`` sessions now ``failed``
    orphans: list[Path] = field(default_factory=list)  #: files no session owns (left alone)
    #: temp files of writes that were killed (or are running now): left alone too
    temp_files: list[Path] = field(default_factory=list)
    #: re-split sessions whose new file recover() put in place (the catalogue had the laps)
    resplit_finished: list[int] = field(default_factory=list)
    #: new files of re-splits that never committed (or are running now): left alone
    resplit_leftovers: list[Path] = field(default_factory=list)


def _file_rows(storage: TelemetryStorage, session_id: int) -> int | None:
    """Rows in the session's file if it is complete and readable, else None."""
    try:
        if isinstance(storage, _FooterStorage):
            footer = storage.read_footer(session_id)
            return None if footer is None else footer.total_points
        telemetry = storage.read(session_id)
        return None if telemetry is None else telemetry.total_points
    except Exception:  # noqa: BLE001 - an unreadable file is exactly what we look for
        return None


def recover(engine: Engine, storage: TelemetryStorage) -> RecoveryReport:
    """Settle sessions left ``writing`` by a stopped process, finish interrupted re-splits
    (:mod:`storage.parquet_resplit`), and list orphan files."""
    report = RecoveryReport()
    if isinstance(storage, ParquetTelemetryStorage):
        settled = settle_resplits(engine, storage)
        report.resplit_finished, report.resplit_leftovers = settled.finished, settled.leftovers
    with reading(engine) as db:
        writing = db.execute(
            select(TrackSession.id, TrackSession.row_count).where(TrackSession.status == "writing")
        ).all()
    for session_id, expected in writing:
        rows = _file_rows(storage, session_id)
        if rows is not None and (expected is None or rows == expected):
            path = storage.path_for(session_id) if isinstance(storage, _FileStorage) else None
            if _set_status(
                engine,
                session_id,
                "ready",
                file_path=None if path is None else _relative(storage, path),
                file_size=None if path is None else path.stat().st_size,
                row_count=rows,
                only_if="writing",
            ):
                report.ready.append(session_id)
            continue
        error = (
            "the telemetry file was not completed (the app stopped while saving)"
            if rows is None
            else f"the telemetry file holds {rows} rows, the session has {expected}"
        )
        if _set_status(engine, session_id, "failed", error=error, only_if="writing"):
            report.failed.append(session_id)
    if isinstance(storage, _FileStorage):
        # files first, rows second: a save running meanwhile commits its row before it
        # writes its file, so its file is never mistaken for an orphan
        on_disk = storage.session_ids()
        with reading(engine) as db:
            known = set(db.scalars(select(TrackSession.id)))
        report.orphans = [storage.path_for(i) for i in on_disk if i not in known]
        report.temp_files = storage.temp_files()
    return report
