"""Qt-free: re-split a saved session at an engineer's lines, and keep lines for tracks.

The GUI (on a worker) and ``laptrace resplit`` call :func:`resplit_session`; the laps are
computed from the session's Parquet file alone (:func:`desktop_app.importing.recording_from_telemetry`)
and committed by :func:`storage.parquet_resplit.commit_resplit`. For a recording not yet
saved, :func:`desktop_app.importing.resplit_draft` is the whole job. Lines are parsed and
checked by :mod:`desktop_app.laps.resplit`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from desktop_app.importing import recording_from_telemetry, resplit_draft
from desktop_app.laps import LineSet
from desktop_app.laps.tracks import track_for
from desktop_app.loggers.recording import Recording
from storage.db.catalog import NewLaps, known_tracks, link_track, load_session, remember_track
from storage.db.errors import CatalogError
from storage.parquet import ParquetTelemetryStorage
from storage.parquet_resplit import commit_resplit, file_revision
from storage.sessions import save_session
from storage.types import Checkpoint, KnownTrack, Progress, SessionDraft, TrackLine


@dataclass
class Resplit:
    """A saved session split anew: its id, new revision, laps and telemetry."""

    session_id: int
    revision: int
    draft: SessionDraft
    parquet_path: Path


def resplit_session(
    engine: Engine,
    storage: ParquetTelemetryStorage,
    session_id: int,
    lines: LineSet,
    *,
    remember: bool = True,
    checkpoint: Checkpoint | None = None,
) -> Resplit:
    """Split a saved session anew from its Parquet file alone, and commit the new laps.

    The new laps replace the old ones in the catalogue and in the file (see
    :mod:`storage.parquet_resplit` for why a crash at any point leaves both agreeing).
    ``remember``: keep the lines for the session's track, for later files recorded there.
    ``checkpoint`` is handed to the commit (the crash tests' kill points).
    Raises :class:`LineError` (nothing changed) for a line the car never crosses,
    ``SessionNotFoundError`` and ``CatalogError`` from the catalogue.
    """
    saved = load_session(engine, session_id)
    draft = preview_resplit(engine, storage, session_id, lines)
    new = NewLaps(draft.laps, draft.lap_source, draft.ideal_lap_s, draft.sector_source, draft.lines)
    revision = commit_resplit(
        engine, storage, session_id, saved.laps_revision, draft.telemetry, new, checkpoint=checkpoint
    )
    if remember:
        remember_lines(engine, session_id, draft.track or draft.name, draft.lines, saved.track_id)
    return Resplit(session_id, revision, draft, storage.path_for(session_id))


def preview_resplit(engine: Engine, storage: ParquetTelemetryStorage, session_id: int, lines: LineSet) -> SessionDraft:
    """A saved session split anew at ``lines``, from its Parquet file alone, nothing saved:
    what the window shows while the engineer moves a line. Raises like
    :func:`resplit_session`."""
    saved = load_session(engine, session_id)
    if saved.summary.status != "ready":
        raise CatalogError(f"session {session_id} is {saved.summary.status!r}: only a ready session can be re-split")
    telemetry = storage.read(session_id)
    if telemetry is None:
        raise CatalogError(f"session {session_id} has no telemetry file")
    if file_revision(telemetry.metadata) != saved.laps_revision:
        # a re-split committed its laps and has not put its file in place yet (running, or
        # stopped: recover finishes it); starting another now could lose one of the two
        raise CatalogError(
            f"session {session_id}: a re-split is being finished (its file is not in place yet); "
            "try again, or run laptrace recover if no other Laptrace is running"
        )
    recording = recording_from_telemetry(telemetry, saved.summary.name)
    base = SessionDraft(
        name=saved.summary.name,
        driver=saved.summary.driver,
        track=saved.summary.track,
        vehicle=saved.summary.vehicle,
        started_at=saved.summary.started_at,
        notes=saved.notes,
        lap_source=saved.lap_source,
        sources=saved.sources,
        laps=saved.laps,
        telemetry=telemetry,
    )
    draft = resplit_draft(recording, base, lines)
    return draft


def remember_lines(
    engine: Engine, session_id: int, name: str, lines: Sequence[TrackLine], track_id: int | None = None
) -> int | None:
    """Keep the start line and the split lines a session was timed at for its track.

    Only lines from the file (gates the car crossed) or an engineer are kept; automatic
    lines and a track's own lines are not news. Returns the track's id, or None when
    there was nothing to keep.
    """
    kept = [x for x in lines if x.origin in ("file", "user") and x.kind in ("start", "split")]
    if not any(x.kind == "start" for x in kept):
        return None
    return remember_track(engine, name, kept, track_id=track_id, session_id=session_id)


def remember_import(
    engine: Engine, session_id: int, recording: Recording, draft: SessionDraft, tracks: Sequence[KnownTrack]
) -> int | None:
    """After an import: link the session to the track it was recorded at, and keep the
    file's gates the car crossed for that track.

    A file's gates create the track when none is known there, and replace lines that came
    from an earlier file; they never replace lines an engineer set.
    """
    known = track_for(recording, tracks)
    if draft.lap_source == "gate" and (known is None or all(x.origin == "file" for x in known.lines)):
        name = known.name if known is not None else draft.track or draft.name
        return remember_lines(engine, session_id, name, draft.lines, None if known is None else known.id)
    if known is not None:
        link_track(engine, session_id, known.id)
        return known.id
    return None


def save_remembering(
    draft: SessionDraft,
    recording: Recording,
    engine: Engine,
    storage: ParquetTelemetryStorage,
    *,
    progress: Progress | None = None,
    force: bool = False,
    source_paths: Sequence[str | Path] | None = None,
) -> tuple[int, str | None]:
    """Save a draft as ``laptrace import`` does (the window's Save): the session, then the
    track it was recorded at (:func:`remember_import`), so a later file there is split at
    the same lines. Returns the session id and, when the track could not be kept, why.

    The track is kept in its own transaction after the session's: a catalogue that cannot
    keep it leaves the saved session as it is.
    """
    session_id = save_session(draft, engine, storage, progress=progress, force=force, source_paths=source_paths)
    try:
        remember_import(engine, session_id, recording, draft, known_tracks(engine))
    except CatalogError as exc:
        return session_id, f"its track was not remembered ({exc})"
    return session_id, None
