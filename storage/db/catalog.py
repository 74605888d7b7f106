"""Reading and editing the catalogue: plain dataclasses in and out, never ORM objects.

Every function is one unit of work (``sessionmaker.begin()``) on the engine it is given,
with bound parameters only. This is the one place to import them from; the save
pipeline that writes files too is :mod:`storage.sessions`.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

from sqlalchemy import Engine, and_, case, func, select, true
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from storage.db.engine import read_sessionmaker, write_sessionmaker
from storage.db.errors import CatalogError, SessionNotFoundError
from storage.db.models import Driver, Lap, TelemetrySource, Track, TrackSession
from storage.types import (
    ChannelInfo,
    KnownTrack,
    LapKind,
    LapRecord,
    LapSource,
    SessionDraft,
    SourceRecord,
    SourceType,
    TrackLine,
)

T = TypeVar("T")


@dataclass(frozen=True)
class SessionSummary:
    """One row of the session list."""

    id: int
    name: str
    driver: str | None
    track: str | None
    vehicle: str | None
    started_at: datetime | None
    imported_at: datetime
    status: str  #: ``writing``, ``ready`` or ``failed``
    error: str | None
    lap_count: int
    best_lap_s: float | None  #: fastest complete, valid, timed lap
    file_path: str | None  #: relative to the data directory
    row_count: int | None
    source_type: str
    #: the sum of the best sector times of the valid complete laps
    ideal_lap_s: float | None = None


@dataclass(frozen=True)
class SavedSession:
    """A saved session's metadata; its telemetry is read lap by lap from storage."""

    summary: SessionSummary
    notes: str
    laps: list[LapRecord]
    sources: list[SourceRecord]
    lap_source: LapSource
    #: the sum of the best sector times of the valid complete laps
    ideal_lap_s: float | None = None
    #: where the sector lines came from: file, user, track, auto or none
    sector_source: str = "none"
    #: the lines the laps were timed at
    lines: list[TrackLine] = field(default_factory=list)
    #: bumped by every re-split (the Parquet footer carries the revision of its laps)
    laps_revision: int = 0
    track_id: int | None = None


class _Unset(enum.Enum):
    UNSET = "unset"


#: "leave this field as it is" in :func:`update_session`
UNSET = _Unset.UNSET


# --- units of work -------------------------------------------------------------------------


def _is_lock_error(exc: OperationalError) -> bool:
    text = str(exc.orig).lower()
    return "database is locked" in text or "database is busy" in text


def run_write(engine: Engine, work: Callable[[Session], T], *, attempts: int = 6) -> T:
    """Run ``work`` in one write transaction and commit; retry if SQLite is locked.

    SQLite writers queue on the busy timeout; if one still gets "database is locked" (a
    checkpoint or a very long writer) the whole unit of work is rolled back and run again.
    Any other database error is a :class:`CatalogError`; nothing of ``work`` is committed.
    """
    maker = write_sessionmaker(engine)
    for attempt in range(attempts):
        try:
            with maker.begin() as db:
                return work(db)
        except OperationalError as exc:
            if attempt + 1 < attempts and _is_lock_error(exc):
                time.sleep(0.05 * 2**attempt)
                continue
            raise CatalogError(f"the catalogue could not be written: {_db_message(exc)}") from exc
        except SQLAlchemyError as exc:
            raise CatalogError(f"the catalogue could not be written: {_db_message(exc)}") from exc
    raise AssertionError("unreachable")  # pragma: no cover


@contextmanager
def reading(engine: Engine) -> Iterator[Session]:
    """One read-only unit of work; database errors become :class:`CatalogError`."""
    try:
        with read_sessionmaker(engine).begin() as db:
            yield db
    except SQLAlchemyError as exc:
        raise CatalogError(f"the catalogue could not be read: {_db_message(exc)}") from exc


def _db_message(exc: SQLAlchemyError) -> str:
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


# --- text the backends accept ---------------------------------------------------------------

#: column lengths of the text fields a user or a file fills (PostgreSQL enforces them,
#: SQLite does not; the catalogue keeps to them on both)
NAME_LENGTH = 500
LABEL_LENGTH = 200
FILE_NAME_LENGTH = 1000


def clean_text(value: str, limit: int | None = None) -> tuple[str, list[str]]:
    """``value`` as every backend stores it, and what was changed.

    NUL characters (PostgreSQL refuses them in text) are removed; characters that are not
    Unicode text (lone surrogates: a file name that is not UTF-8) become U+FFFD; text
    longer than ``limit`` characters is cut there.
    """
    changes: list[str] = []
    if "\x00" in value:
        value = value.replace("\x00", "")
        changes.append("NUL characters removed")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        value = value.encode("utf-8", "replace").decode("utf-8")
        changes.append("bytes that are not UTF-8 replaced by U+FFFD")
    if limit is not None and len(value) > limit:
        changes.append(f"cut from {len(value)} to {limit} characters")
        value = value[:limit]
    return value, changes


def _clean(field: str, value: str | None, limit: int | None, warnings: list[str]) -> str | None:
    if value is None:
        return None
    cleaned, changes = clean_text(value, limit)
    if changes:
        warnings.append(f"{field}: {'; '.join(changes)}")
    return cleaned


def clean_draft(draft: SessionDraft) -> tuple[SessionDraft, list[str]]:
    """A copy of ``draft`` whose text fits the catalogue on every backend, and warnings for
    what was changed (the draft given is not modified)."""
    w: list[str] = []
    sources = [
        replace(
            src,
            file_name=_clean("source file name", src.file_name, FILE_NAME_LENGTH, w) or "",
            logger_model=_clean("logger model", src.logger_model, LABEL_LENGTH, w),
        )
        for src in draft.sources
    ]
    laps = [
        replace(lap, reason=_clean(f"lap {lap.lap_number} reason", lap.reason, None, w) or "") for lap in draft.laps
    ]
    cleaned = replace(
        draft,
        name=_clean("session name", draft.name, NAME_LENGTH, w) or "",
        driver=_clean("driver", draft.driver, LABEL_LENGTH, w),
        track=_clean("track", draft.track, LABEL_LENGTH, w),
        vehicle=_clean("vehicle", draft.vehicle, LABEL_LENGTH, w),
        notes=_clean("notes", draft.notes, None, w) or "",
        sources=sources,
        laps=laps,
    )
    return cleaned, w


# --- rows <-> dataclasses ------------------------------------------------------------------


def driver_id(db: Session, name: str | None) -> int | None:
    """The driver's id, creating the driver if needed (safe against concurrent creators)."""
    if name is None or name == "":
        return None
    name = clean_text(name, LABEL_LENGTH)[0]
    dialect = db.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    db.execute(insert(Driver).values(name=name).on_conflict_do_nothing(index_elements=["name"]))
    return db.execute(select(Driver.id).where(Driver.name == name)).scalar_one()


def source_row(src: SourceRecord) -> TelemetrySource:
    return TelemetrySource(
        source_type=src.source_type,
        file_name=src.file_name,
        file_size=src.file_size,
        sha256=src.sha256.lower(),
        logger_model=src.logger_model,
        sample_rate_hz=src.sample_rate_hz,
        channels=[asdict(c) for c in src.channels],
        time_offset_s=src.time_offset_s,
        started_at=src.started_at,
    )


def lap_row(lap: LapRecord, source: str) -> Lap:
    return Lap(
        lap_number=lap.lap_number,
        source=source,
        start_offset_s=lap.start_offset_s,
        lap_time_s=lap.lap_time_s,
        distance_m=lap.distance_m,
        samples=lap.samples,
        kind=lap.kind,
        proposed_valid=lap.proposed_valid,
        reason=lap.reason,
        user_valid=lap.user_valid,
        sectors_s=list(lap.sectors_s),
        max_speed_kmh=lap.max_speed_kmh,
        min_speed_kmh=lap.min_speed_kmh,
        complete=lap.complete,
    )


def lines_json(lines: list[TrackLine]) -> list[dict[str, Any]]:
    """Timing lines as the catalogue's JSON."""
    return [asdict(line) for line in lines]


def lines_from_json(rows: list[dict[str, Any]]) -> list[TrackLine]:
    """Timing lines back from the catalogue's JSON (keys it does not know are ignored)."""
    out: list[TrackLine] = []
    for r in rows:
        out.append(
            TrackLine(
                kind=r["kind"],
                lat1=float(r["lat1"]),
                lon1=float(r["lon1"]),
                lat2=float(r["lat2"]),
                lon2=float(r["lon2"]),
                capture_m=float(r["capture_m"]),
                origin=str(r["origin"]),
                one_way=bool(r.get("one_way", False)),
                name=str(r.get("name", "")),
            )
        )
    return out


def _source_record(row: TelemetrySource) -> SourceRecord:
    return SourceRecord(
        source_type=cast(SourceType, row.source_type),
        file_name=row.file_name,
        file_size=row.file_size,
        sha256=row.sha256,
        logger_model=row.logger_model,
        sample_rate_hz=row.sample_rate_hz,
        channels=[
            ChannelInfo(str(c["name"]), str(c["source_name"]), str(c["unit"]), bool(c["standard"]))
            for c in row.channels
        ],
        started_at=row.started_at,
        time_offset_s=row.time_offset_s,
    )


def _lap_record(row: Lap) -> LapRecord:
    return LapRecord(
        lap_number=row.lap_number,
        kind=cast(LapKind, row.kind),
        start_offset_s=row.start_offset_s,
        lap_time_s=row.lap_time_s,
        distance_m=row.distance_m,
        samples=row.samples,
        max_speed_kmh=row.max_speed_kmh,
        min_speed_kmh=row.min_speed_kmh,
        sectors_s=[float(s) for s in row.sectors_s],
        proposed_valid=row.proposed_valid,
        reason=row.reason,
        complete=row.complete,
        user_valid=row.user_valid,
    )


# --- queries -------------------------------------------------------------------------------


def _summary_query() -> Any:
    valid = func.coalesce(Lap.user_valid, Lap.proposed_valid) == true()
    timed = and_(valid, Lap.complete == true(), Lap.lap_time_s.is_not(None))
    stats = (
        select(
            Lap.session_id.label("session_id"),
            func.count(Lap.id).label("lap_count"),
            func.min(case((timed, Lap.lap_time_s))).label("best_lap_s"),
        )
        .group_by(Lap.session_id)
        .subquery()
    )
    return (
        select(TrackSession, Driver.name, stats.c.lap_count, stats.c.best_lap_s)
        .outerjoin(Driver, TrackSession.driver_id == Driver.id)
        .outerjoin(stats, stats.c.session_id == TrackSession.id)
    )


def _started_at(row: TrackSession) -> datetime | None:
    """The session start as saved: naive for a wall-clock time with no zone, else UTC."""
    if row.started_at is None or not row.started_at_local:
        return row.started_at
    return row.started_at.replace(tzinfo=None)


def _summary(row: TrackSession, driver: str | None, laps: int | None, best: float | None) -> SessionSummary:
    return SessionSummary(
        id=row.id,
        name=row.name,
        driver=driver,
        track=row.track,
        vehicle=row.vehicle,
        started_at=_started_at(row),
        imported_at=row.imported_at,
        status=row.status,
        error=row.error,
        lap_count=int(laps or 0),
        best_lap_s=best,
        file_path=row.file_path,
        row_count=row.row_count,
        source_type=row.source_type,
        ideal_lap_s=row.ideal_lap_s,
    )


def list_sessions(
    engine: Engine,
    *,
    driver: str | None = None,
    track: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[SessionSummary]:
    """Sessions, newest first; ``since``/``until`` bound the start time (import time if the
    session has no start time), inclusive."""
    when = func.coalesce(TrackSession.started_at, TrackSession.imported_at)
    query = _summary_query()
    if driver is not None:
        query = query.where(Driver.name == driver)
    if track is not None:
        query = query.where(TrackSession.track == track)
    # coalesce() takes its first argument's type, so the bound datetimes go through
    # UTCDateTime like the stored ones (naive UTC on SQLite)
    if since is not None:
        query = query.where(when >= since)
    if until is not None:
        query = query.where(when <= until)
    query = query.order_by(when.desc(), TrackSession.id.desc())
    with reading(engine) as db:
        return [_summary(*row) for row in db.execute(query).all()]


def load_session(engine: Engine, session_id: int) -> SavedSession:
    """The session's metadata, laps and sources. Raises :class:`SessionNotFoundError`."""
    with reading(engine) as db:
        row = db.execute(_summary_query().where(TrackSession.id == session_id)).first()
        if row is None:
            raise SessionNotFoundError(session_id)
        session: TrackSession = row[0]
        return SavedSession(
            summary=_summary(*row),
            notes=session.notes,
            laps=[_lap_record(lap) for lap in session.laps],
            sources=[_source_record(src) for src in session.sources],
            lap_source=cast(LapSource, session.lap_source),
            ideal_lap_s=session.ideal_lap_s,
            sector_source=session.sector_source,
            lines=lines_from_json(session.timing_lines or []),
            laps_revision=session.laps_revision,
            track_id=session.track_id,
        )


def list_drivers(engine: Engine) -> list[str]:
    with reading(engine) as db:
        return list(db.scalars(select(Driver.name).order_by(Driver.name)))


def list_tracks(engine: Engine) -> list[str]:
    with reading(engine) as db:
        query = select(TrackSession.track).where(TrackSession.track.is_not(None)).distinct()
        return sorted(t for t in db.scalars(query) if t is not None)


def held_sources(db: Session, sha256s: list[str] | tuple[str, ...] | set[str]) -> dict[str, int]:
    """Which of these SHA-256s a session that is not ``failed`` holds (lowest id), in ``db``.

    A file held only by a failed session (its telemetry was never written) can be
    imported again, so it does not count.
    """
    wanted = sorted({s.lower() for s in sha256s})
    if not wanted:
        return {}
    query = (
        select(TelemetrySource.sha256, func.min(TelemetrySource.session_id))
        .join(TrackSession, TrackSession.id == TelemetrySource.session_id)
        .where(TelemetrySource.sha256.in_(wanted), TrackSession.status != "failed")
        .group_by(TelemetrySource.sha256)
    )
    return {sha: int(sid) for sha, sid in db.execute(query).all()}


def find_duplicates(engine: Engine, sha256s: list[str] | tuple[str, ...] | set[str]) -> dict[str, int]:
    """Which of these SHA-256s the catalogue already holds, and in which session (lowest id);
    sessions that are ``failed`` do not count (see :func:`held_sources`)."""
    with reading(engine) as db:
        return held_sources(db, sha256s)


# --- edits ---------------------------------------------------------------------------------


def set_lap_validity(engine: Engine, session_id: int, lap_number: int, user_valid: bool | None) -> None:
    """Record the user's decision on a lap (None: back to the proposal)."""

    def work(db: Session) -> None:
        lap = db.execute(
            select(Lap).where(Lap.session_id == session_id, Lap.lap_number == lap_number)
        ).scalar_one_or_none()
        if lap is None:
            raise SessionNotFoundError(session_id, lap_number)
        lap.user_valid = user_valid

    run_write(engine, work)


def update_session(
    engine: Engine,
    session_id: int,
    *,
    name: str | _Unset = UNSET,
    driver: str | _Unset | None = UNSET,
    track: str | _Unset | None = UNSET,
    vehicle: str | _Unset | None = UNSET,
    started_at: datetime | _Unset | None = UNSET,
    notes: str | _Unset = UNSET,
) -> None:
    """Change the fields given; the others stay. A new driver name creates the driver."""

    def work(db: Session) -> None:
        row = db.get(TrackSession, session_id)
        if row is None:
            raise SessionNotFoundError(session_id)
        ignored: list[str] = []
        if not isinstance(name, _Unset):
            row.name = _clean("name", name, NAME_LENGTH, ignored) or ""
        if not isinstance(driver, _Unset):
            row.driver_id = driver_id(db, driver)
        if not isinstance(track, _Unset):
            row.track = _clean("track", track, LABEL_LENGTH, ignored)
        if not isinstance(vehicle, _Unset):
            row.vehicle = _clean("vehicle", vehicle, LABEL_LENGTH, ignored)
        if not isinstance(started_at, _Unset):
            row.started_at = started_at
            row.started_at_local = started_at is not None and started_at.tzinfo is None
        if not isinstance(notes, _Unset):
            row.notes = _clean("notes", notes, None, ignored) or ""

    run_write(engine, work)


# --- re-split laps and remembered tracks ---------------------------------------------------


@dataclass(frozen=True)
class NewLaps:
    """A session's laps after a re-split, as :func:`replace_laps` commits them."""

    laps: list[LapRecord]
    lap_source: LapSource
    ideal_lap_s: float | None
    sector_source: str
    lines: list[TrackLine]


def replace_laps(
    engine: Engine,
    session_id: int,
    base_revision: int,
    new: NewLaps,
    revision: int | None = None,
    *,
    file_size: int | None = None,
) -> int:
    """Replace a ``ready`` session's laps in one transaction; return the new revision
    (``revision``, by default ``base_revision + 1``).

    ``file_size``: the size of the file that will hold the new laps (it is complete and
    waiting to be swapped in when this commits).

    Refused (:class:`CatalogError`, nothing changed) when the session is not ``ready``,
    when its laps changed since ``base_revision`` (another re-split won), or when the new
    laps do not hold exactly the session's rows.
    """

    def work(db: Session) -> int:
        row = db.get(TrackSession, session_id)
        if row is None:
            raise SessionNotFoundError(session_id)
        if row.status != "ready":
            raise CatalogError(f"session {session_id} is {row.status!r}, not ready: its laps cannot be re-split")
        if revision is not None and revision <= base_revision:
            raise ValueError(f"revision {revision} does not come after {base_revision}")
        if row.laps_revision != base_revision:
            raise CatalogError(f"session {session_id}'s laps changed meanwhile (revision {row.laps_revision})")
        rows = sum(lap.samples for lap in new.laps)
        if row.row_count is not None and rows != row.row_count:
            raise CatalogError(f"session {session_id} has {row.row_count} rows, the new laps {rows}")
        # the old laps go first: (session_id, lap_number) is unique
        row.laps.clear()
        db.flush()
        row.laps.extend(lap_row(lap, new.lap_source) for lap in new.laps)
        row.lap_source = new.lap_source
        row.ideal_lap_s = new.ideal_lap_s
        row.sector_source = new.sector_source
        row.timing_lines = lines_json(new.lines)
        row.laps_revision = base_revision + 1 if revision is None else revision
        if file_size is not None:
            row.file_size = file_size
        return row.laps_revision

    return run_write(engine, work)


def laps_revision(engine: Engine, session_id: int) -> int | None:
    """The session's laps revision, or None if there is no such session."""
    with reading(engine) as db:
        value = db.execute(select(TrackSession.laps_revision).where(TrackSession.id == session_id)).scalar()
        return None if value is None else int(value)


def _set_columns(db: Session, session_id: int, values: dict[str, Any]) -> None:
    """Set columns of a session's row; a session that is not there (deleted) is skipped."""
    row = db.get(TrackSession, session_id)
    if row is not None:
        for column, value in values.items():
            setattr(row, column, value)


def set_file_size(engine: Engine, session_id: int, size: int) -> None:
    run_write(engine, lambda db: _set_columns(db, session_id, {"file_size": size}))


def known_tracks(engine: Engine) -> list[KnownTrack]:
    """Every track with its remembered lines."""
    with reading(engine) as db:
        return [
            KnownTrack(t.id, t.name, t.ref_lat, t.ref_lon, lines_from_json(t.lines))
            for t in db.scalars(select(Track).order_by(Track.id))
        ]


def remember_track(
    engine: Engine,
    name: str,
    lines: list[TrackLine],
    *,
    track_id: int | None = None,
    session_id: int | None = None,
) -> int:
    """Keep ``lines`` (a start line and its splits) for a track; return the track's id.

    ``track_id`` None creates a track named ``name`` at the start line's midpoint; else
    that track's lines are replaced. ``session_id`` is the session they came from (kept
    with each line), and the session is linked to the track.
    """
    start = next((x for x in lines if x.kind == "start"), None)
    if start is None:
        raise ValueError("a track needs a start line")
    stored = [{**asdict(x), "session_id": session_id} for x in lines]
    ref_lat, ref_lon = 0.5 * (start.lat1 + start.lat2), 0.5 * (start.lon1 + start.lon2)

    def work(db: Session) -> int:
        row = db.get(Track, track_id) if track_id is not None else None
        if row is None:
            row = Track(name=name)
            db.add(row)
        row.lines = stored
        row.ref_lat, row.ref_lon = ref_lat, ref_lon
        row.updated_at = datetime.now(UTC)
        db.flush()
        if session_id is not None:
            _set_columns(db, session_id, {"track_id": row.id})
        return row.id

    return run_write(engine, work)


def link_track(engine: Engine, session_id: int, track_id: int) -> None:
    """Record that a session was recorded at a track."""
    run_write(engine, lambda db: _set_columns(db, session_id, {"track_id": track_id}))
