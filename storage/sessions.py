"""save_session(): the metadata transaction, then the Parquet file, then the status.

1. One transaction: the driver (found or created), the session with status ``writing``,
   its sources and its laps. Commit.
2. The telemetry, under the new session id, through the
   :class:`~storage.parquet.ParquetTelemetryStorage` (an atomic write: temp file, fsync,
   ``os.replace``).
3. Status ``ready`` with the file's size and row count; if step 2 failed, ``failed`` with
   the error, and the caller gets a :class:`SaveError` to offer Retry or Discard.

Whatever stops the process part-way, :func:`recover` (run at start-up) puts every session
back into a truthful state: a ``writing`` session whose file is complete is ``ready``, any
other is ``failed``; files without a session are reported and left alone.

The catalogue's reads and edits (``list_sessions``, ``load_session``...) live in
:mod:`storage.db.catalog`, its errors in :mod:`storage.db.errors`; this module holds what
touches both the catalogue and the files. ``checkpoint`` (optional, from the caller) is
told each named step as it is reached (docs/storage.md#checkpoints).
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import stat
import threading
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, select, text, update
from sqlalchemy.orm import Session

from storage.db.catalog import (
    clean_draft,
    driver_id,
    held_sources,
    lap_row,
    lines_json,
    load_session,
    reading,
    run_write,
    source_row,
)
from storage.db.errors import (
    CatalogError,
    DuplicateImportError,
    SaveError,
    SessionNotFoundError,
    describe,
)
from storage.db.models import TrackSession
from storage.errors import StorageError
from storage.parquet import ParquetTelemetryStorage, fsync_dir
from storage.parquet_resplit import settle_resplits
from storage.parquet_schema import column_names
from storage.types import Checkpoint, Progress, SessionDraft, SessionTelemetry

__all__ = [
    "NotDiscardableError",
    "RecoveryReport",
    "RetryRefusedError",
    "delete_session",
    "discard_session",
    "recover",
    "retry_from_sources",
    "retry_telemetry",
    "save_session",
]


def _nowhere(stage: str) -> None:
    """The checkpoint of a caller that gave none."""


# --- saving --------------------------------------------------------------------------------


def save_session(
    draft: SessionDraft,
    engine: Engine,
    storage: ParquetTelemetryStorage,
    *,
    progress: Progress | None = None,
    force: bool = False,
    source_paths: Sequence[str | Path] | None = None,
    checkpoint: Checkpoint | None = None,
) -> int:
    """Commit the draft's metadata, write its telemetry, and return the new session id.

    Raises :class:`DuplicateImportError` before anything is written if a source's SHA-256
    is already in the catalogue (unless ``force``), ``ChannelNameError`` before anything is
    written for a channel name the file cannot hold as given (docs/storage.md#channel-names), :class:`CatalogError` if the metadata
    transaction fails (nothing committed), :class:`SaveError` if the telemetry could not
    be written (the session exists, ``failed``). ``draft`` is not modified, so it can be
    handed to :func:`retry_telemetry` later. ``source_paths`` (the files the draft was
    read from, in the order of its sources) are noted beside the telemetry until the
    save is complete, so that :func:`retry_from_sources` can finish it after a crash.
    """
    at = checkpoint or _nowhere
    at("before_tx")
    draft, _ = clean_draft(draft)  # callers that show warnings clean it first themselves
    column_names(draft.telemetry)  # names storage would refuse: refused before anything is committed

    def insert(db: Session) -> int:
        if not force:
            # checked in the transaction that inserts, under a lock two importers of the
            # same file share, so only one of them can pass (docs/storage.md)
            _lock_sources(db, [s.sha256 for s in draft.sources])
            _refuse_duplicates(db, draft)
        row = _new_row(db, draft)
        db.add(row)
        db.flush()
        at("before_commit")
        return row.id

    session_id = run_write(engine, insert)
    at("after_commit")
    with _saving_lock:
        _saving.add(session_id)
    try:
        if source_paths is not None:
            _write_note(storage, session_id, draft, source_paths)
        _write_telemetry(engine, storage, session_id, draft.telemetry, progress, at)
    finally:
        with _saving_lock:
            _saving.discard(session_id)
    return session_id


def _new_row(db: Session, draft: SessionDraft) -> TrackSession:
    """The catalogue row of a session being saved: ``writing``, its writer named in ``error``."""
    return TrackSession(
        name=draft.name,
        track=draft.track,
        vehicle=draft.vehicle,
        driver_id=driver_id(db, draft.driver),
        started_at=draft.started_at,
        started_at_local=draft.started_at is not None and draft.started_at.tzinfo is None,
        imported_at=datetime.now(UTC),
        notes=draft.notes,
        status="writing",
        error=_writer_mark(),
        row_count=draft.telemetry.total_points,
        lap_source=draft.lap_source,
        source_type=draft.telemetry.metadata.source_type,
        sources=[source_row(s) for s in draft.sources],
        laps=[lap_row(lap, draft.lap_source) for lap in draft.laps],
        ideal_lap_s=draft.ideal_lap_s,
        sector_source=draft.sector_source,
        timing_lines=lines_json(draft.lines),
    )


#: while a session is ``writing``, its error column names the writer (docs/storage.md)
_WRITER = "being saved by pid "
#: a save by a process on another machine is settled by recover only after this long
FOREIGN_WRITER_GRACE = timedelta(hours=6)


def _writer_mark() -> str:
    return f"{_WRITER}{os.getpid()} on {socket.gethostname()}"


#: sessions this process is saving right now (a mark with our own pid is alive only for these)
_saving: set[int] = set()
_saving_lock = threading.Lock()


def _writer_alive(session_id: int, mark: str | None, imported_at: datetime | None) -> bool:
    """Whether the process that marked a ``writing`` session may still be saving it."""
    if not mark or not mark.startswith(_WRITER):
        return False
    pid_text, _, host = mark[len(_WRITER) :].partition(" on ")
    if host != socket.gethostname():
        # no way to ask another machine: leave its save alone for a while
        return imported_at is not None and datetime.now(UTC) - imported_at < FOREIGN_WRITER_GRACE
    if not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        with _saving_lock:
            return session_id in _saving
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _lock_sources(db: Session, sha256s: list[str]) -> None:
    """Serialise the transactions that save these sources.

    SQLite: the write transaction is ``BEGIN IMMEDIATE`` already, one writer at a time.
    PostgreSQL: a transaction-level advisory lock per SHA-256 (sorted, so two sessions
    sharing several sources cannot deadlock), released at commit or rollback; the check
    that follows runs after the other transaction committed and sees its rows.
    """
    if db.get_bind().dialect.name != "postgresql":
        return
    for sha in sorted({s.lower() for s in sha256s}):
        db.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _lock_key(sha)})


def _lock_key(sha256: str) -> int:
    """A signed 64-bit advisory-lock key from a SHA-256 (hashed again if it is not hex)."""
    digest = hashlib.sha256(sha256.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _refuse_duplicates(db: Session, draft: SessionDraft) -> None:
    held = held_sources(db, [s.sha256 for s in draft.sources])
    if not held:
        return
    src = next(s for s in draft.sources if s.sha256.lower() in held)
    session_id = held[src.sha256.lower()]
    name = db.execute(select(TrackSession.name).where(TrackSession.id == session_id)).scalar()
    raise DuplicateImportError(src.sha256.lower(), src.file_name, session_id, name or "")


def _write_telemetry(
    engine: Engine,
    storage: ParquetTelemetryStorage,
    session_id: int,
    telemetry: SessionTelemetry,
    progress: Progress | None,
    at: Checkpoint,
) -> None:
    """Steps 2 and 3: the file, then ``ready`` (or ``failed`` and :class:`SaveError`)."""

    def report(done: int, total: int) -> None:
        at("parquet")
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
    at("before_ready")
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
        raise SaveError(session_id, exc, file_complete=True) from exc
    at("after_ready")
    _remove_note(storage, session_id)


def _relative(storage: ParquetTelemetryStorage, path: Path) -> str:
    try:
        return path.resolve().relative_to(storage.root.resolve()).as_posix()
    except ValueError:
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


def retry_telemetry(
    engine: Engine,
    storage: ParquetTelemetryStorage,
    session_id: int,
    telemetry: SessionTelemetry,
    *,
    checkpoint: Checkpoint | None = None,
) -> None:
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
    with _saving_lock:
        _saving.add(session_id)
    try:
        _set_status(engine, session_id, "writing", error=_writer_mark())
        _write_telemetry(engine, storage, session_id, telemetry, None, checkpoint or _nowhere)
    finally:
        with _saving_lock:
            _saving.discard(session_id)


def delete_session(
    engine: Engine, storage: ParquetTelemetryStorage, session_id: int, *, checkpoint: Checkpoint | None = None
) -> None:
    """Delete the session: its file set aside, its rows (laps and sources cascade), the file.

    Crash-safe order: the file is first renamed to ``.<id>.parquet.deleting`` (so nothing
    opens it any more), then the rows go in one transaction, then the renamed file. If the
    process stops in between, :func:`recover` finds the renamed file and completes the
    delete. An ``OSError`` removing the file is raised after the rows are gone.
    """
    with reading(engine) as db:
        if db.get(TrackSession, session_id) is None:
            raise SessionNotFoundError(session_id)
    at = checkpoint or _nowhere
    aside = _set_aside(storage, session_id)
    at("after_set_aside")
    try:
        _delete_rows(engine, session_id)
    except SessionNotFoundError:
        pass  # deleted meanwhile by another process: finish removing the file
    except CatalogError:
        # the rows are still there (nothing was committed): put the file back
        with suppress(FileNotFoundError):
            os.replace(aside, storage.path_for(session_id))
        raise
    at("after_delete_rows")
    _remove_note(storage, session_id)
    aside.unlink(missing_ok=True)
    fsync_dir(aside.parent)


def _delete_rows(engine: Engine, session_id: int) -> None:
    def work(db: Session) -> None:
        row = db.get(TrackSession, session_id)
        if row is None:
            raise SessionNotFoundError(session_id)
        db.delete(row)

    run_write(engine, work)


class NotDiscardableError(StorageError):
    """Only a session whose telemetry was never written can be discarded."""

    def __init__(self, session_id: int, status: str) -> None:
        self.session_id = session_id
        self.status = status
        super().__init__(
            f"session {session_id} is {status}, not failed: only a failed save can be discarded "
            "(delete a saved session instead)"
        )


def discard_session(engine: Engine, storage: ParquetTelemetryStorage, session_id: int) -> None:
    """Give up on a session whose telemetry could not be written (rows and any file).

    Refuses (:class:`NotDiscardableError`) a ``ready`` session: that is a delete.
    """
    with reading(engine) as db:
        status = db.execute(select(TrackSession.status).where(TrackSession.id == session_id)).scalar()
    if status is None:
        raise SessionNotFoundError(session_id)
    if status == "ready":
        raise NotDiscardableError(session_id, status)
    delete_session(engine, storage, session_id)


# --- files beside the telemetry: set-aside deletes, source notes -----------------------------

_ASIDE = ".deleting"
_NOTE = ".sources.json"


def _aside_path(storage: ParquetTelemetryStorage, session_id: int) -> Path:
    return storage.folder / f".{session_id}.parquet{_ASIDE}"


def _set_aside(storage: ParquetTelemetryStorage, session_id: int) -> Path:
    """Rename the session's file out of the way; the new path."""
    aside = _aside_path(storage, session_id)
    try:
        os.replace(storage.path_for(session_id), aside)
    except FileNotFoundError:
        return aside  # no file (a failed save), or set aside by an earlier attempt
    fsync_dir(aside.parent)
    return aside


def _pending_deletes(storage: ParquetTelemetryStorage) -> list[int]:
    folder = storage.folder
    if not folder.is_dir():
        return []
    ids = (p.name[1 : -len(".parquet" + _ASIDE)] for p in folder.glob(f".*.parquet{_ASIDE}"))
    return sorted(int(i) for i in ids if i.isdigit() and int(i) > 0)


def _note_path(storage: ParquetTelemetryStorage, session_id: int) -> Path:
    return storage.folder / f".{session_id}{_NOTE}"


def _write_note(
    storage: ParquetTelemetryStorage, session_id: int, draft: SessionDraft, paths: Sequence[str | Path]
) -> None:
    """Note where the draft's sources are (absolute paths, SHA-256) until the save is done.

    Best effort: without the note a failed save can still be retried by hand.
    """
    note = _note_path(storage, session_id)
    if len(paths) != len(draft.sources):
        return
    doc = {
        "session_id": session_id,
        "sources": [
            {"path": os.fsencode(Path(p).resolve()).hex(), "sha256": src.sha256.lower()}
            for p, src in zip(paths, draft.sources, strict=True)
        ],
    }
    with suppress(OSError):
        note.parent.mkdir(parents=True, exist_ok=True)
        tmp = note.with_name(note.name + f".{os.getpid()}.part")
        tmp.write_text(json.dumps(doc), encoding="utf-8")
        os.replace(tmp, note)


def _read_note(storage: ParquetTelemetryStorage, session_id: int) -> list[tuple[Path, str]] | None:
    note = _note_path(storage, session_id)
    try:
        st = note.stat()
        if not stat.S_ISREG(st.st_mode) or st.st_size > 1 << 20:
            return None
        doc = json.loads(note.read_text(encoding="utf-8"))
        if doc.get("session_id") != session_id:
            return None
        return [(Path(os.fsdecode(bytes.fromhex(str(s["path"])))), str(s["sha256"])) for s in doc["sources"]]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _remove_note(storage: ParquetTelemetryStorage, session_id: int) -> None:
    with suppress(OSError):
        _note_path(storage, session_id).unlink(missing_ok=True)


def _notes(storage: ParquetTelemetryStorage) -> list[int]:
    folder = storage.folder
    if not folder.is_dir():
        return []
    ids = (p.name[1 : -len(_NOTE)] for p in folder.glob(f".*{_NOTE}"))
    return sorted(int(i) for i in ids if i.isdigit() and int(i) > 0)


# --- finishing a failed save from its source files ------------------------------------------


class RetryRefusedError(StorageError):
    """A failed save cannot be finished from its source files (moved, changed, unknown)."""


def retry_from_sources(
    engine: Engine,
    storage: ParquetTelemetryStorage,
    session_id: int,
    reread: Callable[[list[Path]], SessionTelemetry],
) -> None:
    """Finish a ``failed`` save by reading its source files again.

    The paths come from the note :func:`save_session` left; each file must still be there
    with the SHA-256 the catalogue holds. ``reread(paths)`` builds the telemetry again (the
    app's import pipeline, which storage does not know); it must have the session's row
    count. Raises :class:`RetryRefusedError` with the reason, or :class:`SaveError`.
    """
    saved = load_session(engine, session_id)
    if saved.summary.status != "failed":
        raise RetryRefusedError(f"session {session_id} is {saved.summary.status}, not failed")
    noted = _read_note(storage, session_id)
    if noted is None:
        raise RetryRefusedError(f"session {session_id}: where its source files were is not known")
    known = [s.sha256.lower() for s in saved.sources]
    if sorted(sha for _, sha in noted) != sorted(known):
        raise RetryRefusedError(f"session {session_id}: the noted source files do not match the catalogue")
    for path, sha in noted:
        try:
            actual = _sha256_of(path)
        except OSError as exc:
            raise RetryRefusedError(f"session {session_id}: source {path} cannot be read ({exc})") from exc
        if actual != sha:
            raise RetryRefusedError(f"session {session_id}: source {path} has changed since it was imported")
    telemetry = reread([p for p, _ in noted])
    retry_telemetry(engine, storage, session_id, telemetry)
    _remove_note(storage, session_id)


def _sha256_of(path: Path) -> str:
    st = os.stat(path)
    if not stat.S_ISREG(st.st_mode):
        raise OSError(f"{path} is not a regular file")
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# --- start-up recovery ---------------------------------------------------------------------


@dataclass
class RecoveryReport:
    """What :func:`recover` did and found."""

    ready: list[int] = field(default_factory=list)  #: ``writing`` sessions now ``ready``
    deleted: list[int] = field(default_factory=list)  #: half-done deletes completed
    #: ``writing`` sessions whose writer is still running: left alone
    in_progress: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)  #: ``writing`` sessions now ``failed``
    orphans: list[Path] = field(default_factory=list)  #: files no session owns (left alone)
    #: temp files of writes still running (their writer is alive): left alone
    temp_files: list[Path] = field(default_factory=list)
    #: temp files of writes that were killed, removed
    temp_files_removed: list[Path] = field(default_factory=list)
    bytes_freed: int = 0  #: their total size
    #: re-split sessions whose new file recover() put in place (the catalogue had the laps)
    resplit_finished: list[int] = field(default_factory=list)
    #: new files of re-splits that never committed (or are running now): left alone
    resplit_leftovers: list[Path] = field(default_factory=list)


def _file_rows(storage: ParquetTelemetryStorage, session_id: int) -> tuple[int | None, str | None]:
    """Rows in the session's file if it is complete and readable, else None and why."""
    try:
        footer = storage.read_footer(session_id)
        return (None, None) if footer is None else (footer.total_points, None)
    except Exception as exc:  # noqa: BLE001 - an unreadable file is exactly what we look for
        return None, describe(exc)


def recover(engine: Engine, storage: ParquetTelemetryStorage) -> RecoveryReport:
    """Settle sessions left ``writing`` by a stopped process, finish interrupted re-splits
    (:mod:`storage.parquet_resplit`), and list orphan files."""
    report = RecoveryReport()
    settled = settle_resplits(engine, storage)
    report.resplit_finished, report.resplit_leftovers = settled.finished, settled.leftovers
    with reading(engine) as db:
        writing = db.execute(
            select(TrackSession.id, TrackSession.row_count, TrackSession.error, TrackSession.imported_at).where(
                TrackSession.status == "writing"
            )
        ).all()
    for session_id, expected, mark, imported_at in writing:
        if _writer_alive(session_id, mark, imported_at):
            report.in_progress.append(session_id)
        else:
            _settle_writing(engine, storage, session_id, expected, report)
    for session_id in _pending_deletes(storage):
        # a delete stopped after setting the file aside: the user asked for it, finish it
        with suppress(SessionNotFoundError):
            _delete_rows(engine, session_id)
        _remove_note(storage, session_id)
        _aside_path(storage, session_id).unlink(missing_ok=True)
        report.deleted.append(session_id)
    # files first, rows second: a save running meanwhile commits its row before it
    # writes its file, so its file is never mistaken for an orphan
    on_disk = storage.session_ids()
    noted = _notes(storage)
    with reading(engine) as db:
        known = set(db.scalars(select(TrackSession.id)))
        unfinished = set(db.scalars(select(TrackSession.id).where(TrackSession.status != "ready")))
    for session_id in noted:
        if session_id not in unfinished:  # saved since, or deleted: nothing to finish
            _remove_note(storage, session_id)
    report.orphans = [storage.path_for(i) for i in on_disk if i not in known]
    removed, report.temp_files = storage.remove_stale_temp_files()
    report.temp_files_removed = [p for p, _ in removed]
    report.bytes_freed = sum(n for _, n in removed)
    return report


def _settle_writing(
    engine: Engine, storage: ParquetTelemetryStorage, session_id: int, expected: int | None, report: RecoveryReport
) -> None:
    """A session left ``writing`` by a dead writer: ``ready`` if its file is complete, else ``failed``."""
    rows, unreadable = _file_rows(storage, session_id)
    if rows is not None and (expected is None or rows == expected):
        path = storage.path_for(session_id)
        if _set_status(
            engine,
            session_id,
            "ready",
            file_path=_relative(storage, path),
            file_size=path.stat().st_size,
            row_count=rows,
            only_if="writing",
        ):
            report.ready.append(session_id)
        return
    if unreadable is not None:
        error = f"the telemetry file cannot be read: {unreadable}"
    elif rows is None:
        error = (
            "the telemetry file was not completed (the app stopped while saving); "
            "'laptrace recover --retry' finishes it from the source file"
        )
    else:
        error = f"the telemetry file holds {rows} rows, the session has {expected}"
    if _set_status(engine, session_id, "failed", error=error, only_if="writing"):
        report.failed.append(session_id)
