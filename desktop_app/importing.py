"""Qt-free: logger file(s) -> :class:`storage.types.SessionDraft`; the pipeline CLI and GUI share.

Contract (the GUI and the catalogue command call it):

``import_file(path, progress=None) -> ImportedFile``
    read the recording (``desktop_app.loggers.read_recording``), split it into laps, measure
    them, propose validity, and build the per-lap ``SessionTelemetry`` (session_id 0) and
    the ``SessionDraft`` (name from the file, track/started_at from the file where known,
    one ``SourceRecord`` with the file's SHA-256). ``progress(done, total)`` is called now
    and then and may raise to cancel. Raises ``LoggerFileError``/``UnsupportedFormatError``.

``import_for_catalogue(path, engine, progress=None) -> ImportedFile``
    :func:`import_file` with the catalogue's remembered tracks, read when the file is: what
    ``laptrace import`` and the window's import list read a file with, so a file recorded
    at a known track gets its lines in both (docs/laps.md#remembered-tracks-in-the-window).

``draft_from_recording(recording, sha256=..., file_size=...) -> SessionDraft``
    the same for a recording already in memory (merged recordings reuse it).

``merge_files(paths, offset_s=None, prefer=None) -> MergedImport``
    several files of one run (a GPS logger and an ECU logger) -> one draft: the files are
    aligned and merged (:mod:`desktop_app.merging`), the merged recording is split like any
    other, and the draft has one ``SourceRecord`` per file (its offset applied) with
    ``source_type`` ``merged`` and the merge's offset, drift and per-source channel lists in
    the telemetry's metadata extras. Raises ``MergeError`` when the files cannot be merged.

Channel names are decided once, here, before storage: the recording's auxiliary channels
take their saved names (:func:`desktop_app.loggers.channels.with_saved_names`: a source
channel ``Lap_Number`` is ``Lap_Number_2``, since storage reserves ``lap_number``), so the
catalogue, the draft, the recording shown and the Parquet file all use one name, and
storage only checks it (docs/channels.md#saved-names).

Per-lap telemetry: ``time`` is seconds since the lap's start (its line crossing, so the
first sample of a lap is at most one sample period after 0) and ``distance`` metres since
it; every other channel of the recording follows unchanged. Where the distance comes from
GPS, a distance channel logged by the file is kept as an auxiliary channel under its
source name, so nothing the file holds is lost.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

import numpy as np

from desktop_app.laps import LapAnalysis, LineSet, analyse_laps, ideal_lap
from desktop_app.laps.lines import line_set, track_line
from desktop_app.laps.resplit import LineError, check_crossed
from desktop_app.laps.tracks import track_for
from desktop_app.loggers import read_recording
from desktop_app.loggers.channels import channel_namer, with_saved_names
from desktop_app.loggers.recording import Channel, Recording
from desktop_app.loggers.textsource import FileDigest
from desktop_app.merging import MergeError, MergeResult, Side, merge_recordings
from storage.types import (
    ChannelInfo,
    KnownTrack,
    LapRecord,
    LapSource,
    LapTelemetry,
    Progress,
    SessionDraft,
    SessionMetadata,
    SessionTelemetry,
    SourceRecord,
    TrackLine,
)

if TYPE_CHECKING:  # the database stack loads only when a retry runs
    from sqlalchemy import Engine

    from storage.parquet import ParquetTelemetryStorage

__all__ = [
    "ImportedFile",
    "LineError",
    "MergeError",
    "MergedImport",
    "draft_from_recording",
    "file_sha256",
    "ideal_json",
    "import_file",
    "import_for_catalogue",
    "keep_validity",
    "lap_json",
    "merge_files",
    "recording_from_telemetry",
    "reread_sources",
    "resplit_draft",
    "retry_from_source",
]

_STAGES = 4


@dataclass
class ImportedFile:
    """A file read and split: its recording (for inspection) and the draft to save."""

    path: Path
    recording: Recording
    draft: SessionDraft


def file_sha256(path: str | Path) -> str:
    """The SHA-256 of the file's bytes, hex."""
    h = hashlib.sha256()
    with Path(path).open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def import_file(
    path: str | Path, progress: Progress | None = None, *, tracks: Sequence[KnownTrack] = ()
) -> ImportedFile:
    """Read a logger file and build its :class:`SessionDraft` (see the module docstring).

    ``tracks``: the catalogue's tracks, whose remembered lines split a file recorded there
    that has no gates of its own (or never crosses them): lap source ``track``.
    """
    p = Path(path)
    tick = progress or (lambda done, total: None)
    tick(0, _STAGES)
    digest = FileDigest(p)
    with digest.active():  # text readers hash the bytes as they stream them: one pass
        recording = with_saved_names(read_recording(p))
    tick(1, _STAGES)
    sha = digest.hexdigest() or file_sha256(p)
    size = p.stat().st_size
    tick(2, _STAGES)
    draft = draft_from_recording(recording, sha256=sha, file_size=size, progress=tick, tracks=tracks)
    tick(_STAGES, _STAGES)
    return ImportedFile(p, recording, draft)


def import_for_catalogue(
    path: str | Path,
    engine: Engine | None,
    progress: Progress | None = None,
    *,
    reader: Callable[..., ImportedFile] | None = None,
) -> ImportedFile:
    """Read a file for saving into the catalogue of ``engine``: :func:`import_file` with
    the catalogue's remembered tracks (none without a catalogue).

    The tracks are read now, on the caller's thread (a worker in the window), so a track
    remembered since the window opened is used. A catalogue that cannot be read does not
    stop the file from being read: it is split without remembered lines, and its warnings
    say why. ``reader``: what reads the file (``import_file``'s signature; the window's
    tests wrap it).
    """
    read = reader or import_file
    tracks: list[KnownTrack] = []
    failure: str | None = None
    if engine is not None:
        from storage.db.catalog import known_tracks
        from storage.db.errors import CatalogError

        try:
            tracks = known_tracks(engine)
        except CatalogError as exc:
            failure = f"the catalogue's tracks were not used ({exc})"
    imported = read(path, progress=progress, tracks=tracks)
    if failure is not None:
        imported.draft.warnings.insert(0, failure)
    return imported


#: the header fields the readers keep as metadata that name the driver and the vehicle, in
#: the spellings the formats use (AiM CSV says ``Racer``; MoTeC, AiM native and VBO
#: ``Driver``/``Vehicle``; MoTeC .ld adds ``Vehicle Desc``), first match wins
_DRIVER_KEYS = ("driver", "racer", "driver name")
_VEHICLE_KEYS = ("vehicle", "vehicle id", "car", "vehicle desc")
#: what loggers write in an empty driver/vehicle field
_PLACEHOLDERS = frozenset({"", "none", "n/a", "-", "unknown", "default"})


def _header_field(recording: Recording, keys: Sequence[str]) -> str | None:
    """The first non-placeholder value of one of ``keys`` in the recording's metadata."""
    by_key = {str(k).strip().lower(): v for k, v in recording.metadata.items()}
    for key in keys:
        value = str(by_key.get(key, "")).strip()
        if value.lower() not in _PLACEHOLDERS:
            return value
    return None


def _session_name(recording: Recording) -> str:
    base = (recording.track or "").strip() or recording.path.stem
    if recording.started_at is not None:
        return f"{base} {recording.started_at:%Y-%m-%d}"
    return base


def _telemetry_layout(recording: Recording, analysis: LapAnalysis) -> tuple[list[ChannelInfo], dict[str, str]]:
    """The channels of the telemetry in order, and aux name -> recording channel key."""
    trav = analysis.split.travel
    dist_source = {"gps": "GPS (derived)", "speed": f"{trav.source_name} (integrated)"}.get(
        trav.source, trav.source_name or "distance"
    )
    infos = [ChannelInfo("time", "time", "s", True), ChannelInfo("distance", dist_source, "m", True)]
    aux_from: dict[str, str] = {}
    std = [(k, ch) for k, ch in recording.channels.items() if ch.standard and k not in ("time", "distance")]
    infos += [ChannelInfo(k, ch.source_name, ch.unit, True) for k, ch in std]
    logged = recording.channels.get("distance")
    if logged is not None and logged.standard and trav.source != "logged":
        # GPS or speed gave the distance: keep the logger's own, first of the auxiliaries
        name = channel_namer(recording.channels).take(logged.source_name or "logged_distance")
        aux_from[name] = "distance"
        infos.append(ChannelInfo(name, logged.source_name, logged.unit, False))
    for key, ch in recording.channels.items():
        if not ch.standard:
            aux_from[key] = key
            infos.append(ChannelInfo(key, ch.source_name, ch.unit, False))
    return infos, aux_from


def _build_telemetry(
    recording: Recording, analysis: LapAnalysis, infos: list[ChannelInfo], aux_from: dict[str, str]
) -> SessionTelemetry:
    time = recording.time
    dist = analysis.split.travel.distance
    laps: list[LapTelemetry] = []
    for seg in analysis.split.segments:
        rows = slice(seg.first_row, seg.end_row)
        d0 = float(np.interp(seg.start, time, dist)) if analysis.split.travel.source != "none" else 0.0
        channels: dict[str, np.ndarray[Any, np.dtype[np.float64]]] = {
            "time": np.asarray(time[rows] - seg.start, np.float64),
            "distance": np.asarray(dist[rows] - d0, np.float64),
        }
        for info in infos[2:]:
            key = aux_from.get(info.name, info.name)
            channels[info.name] = recording.channels[key].values[rows]
        laps.append(LapTelemetry(seg.number, float(seg.start - time[0]), channels))
    aux = [i.name for i in infos if not i.standard]
    meta = SessionMetadata(
        imported_at=datetime.now(UTC),
        source_type=recording.format,
        started_at=recording.started_at,
        extra={
            "logger": recording.logger or "",
            "lap_source": analysis.split.source,
            "sample_rate_hz": "" if recording.sample_rate_hz is None else f"{recording.sample_rate_hz:g}",
        },
    )
    return SessionTelemetry(
        session_id=0,
        laps=laps,
        auxiliary_channels=aux,
        units={i.name: i.unit for i in infos},
        source_names={i.name: i.source_name for i in infos},
        metadata=meta,
        labels={
            i.name: labels
            for i in infos[2:]
            if not i.standard and (labels := recording.channels[aux_from.get(i.name, i.name)].labels) is not None
        },
    )


def draft_from_recording(
    recording: Recording,
    *,
    sha256: str,
    file_size: int,
    progress: Progress | None = None,
    tracks: Sequence[KnownTrack] = (),
) -> SessionDraft:
    """Split, measure and judge a recording's laps and build the draft to save.

    ``tracks``: the catalogue's tracks; the one the recording passes the start line of
    lends its lines when the file's own gates are absent or never crossed.
    """
    tick = progress or (lambda done, total: None)
    recording = with_saved_names(recording)  # the same recording when its names keep the rule
    track = track_for(recording, tracks)
    analysis = analyse_laps(recording, track=None if track is None else line_set(track.lines, "track"))
    tick(3, _STAGES)
    infos, aux_from = _telemetry_layout(recording, analysis)
    telemetry = _build_telemetry(recording, analysis, infos, aux_from)
    fields = _lap_fields(recording, analysis)
    if track is not None and fields["lap_source"] == "track":
        fields["warnings"] = _track_notes(track, fields["warnings"])
    source = SourceRecord(
        source_type=recording.format,
        file_name=recording.path.name,
        file_size=file_size,
        sha256=sha256,
        logger_model=recording.logger,
        sample_rate_hz=recording.sample_rate_hz,
        channels=infos,
        started_at=recording.started_at,
    )
    return SessionDraft(
        name=_session_name(recording),
        driver=_header_field(recording, _DRIVER_KEYS),
        track=(recording.track or "").strip() or None,
        vehicle=_header_field(recording, _VEHICLE_KEYS),
        started_at=recording.started_at,
        notes="",
        sources=[source],
        telemetry=telemetry,
        **fields,
    )


#: the lap finder's note for laps timed at a track's lines (it does not know the track)
_TRACK_NOTE = "laps from the lines remembered for this track"


def _track_notes(track: KnownTrack, warnings: list[str]) -> list[str]:
    """The notes of a file timed at ``track``'s remembered lines: which track and whose
    lines, first, where the import list's row shows it (it shows the first few notes)."""
    origins = {x.origin for x in track.lines if x.kind in ("start", "split")}
    whose = "set by an engineer" if "user" in origins else "from an earlier file's gates"
    note = f"laps from the lines remembered for track {track.name!r} ({whose})"
    return [note, *(w for w in warnings if w != _TRACK_NOTE)]


@dataclass
class MergedImport:
    """Several files of one run merged: the merge (alignment, sources) and the draft to save."""

    paths: list[Path]
    result: MergeResult
    draft: SessionDraft


def merge_files(
    paths: Sequence[str | Path],
    *,
    offset_s: float | None = None,
    prefer: Mapping[str, Side] | None = None,
    progress: Progress | None = None,
) -> MergedImport:
    """Read two files of one run, merge them and build one draft (see the module docstring).

    The first file is the primary: the merged clock is its clock. ``offset_s`` forces the
    secondary's offset (the user's choice in the preview); ``prefer`` picks the file that
    supplies a standard channel both log. Raises ``LoggerFileError`` for unreadable files and
    :class:`MergeError` for files that cannot be aligned or do not overlap.
    """
    ps = [Path(p) for p in paths]
    if len(ps) != 2:
        raise ValueError(f"merging takes two files, not {len(ps)}")
    tick = progress or (lambda done, total: None)
    tick(0, _STAGES)
    primary, secondary = (read_recording(p) for p in ps)
    tick(1, _STAGES)
    result = merge_recordings(primary, secondary, offset_s=offset_s, prefer=prefer)
    shas = [file_sha256(p) for p in ps]
    sizes = [p.stat().st_size for p in ps]
    tick(2, _STAGES)
    draft = draft_from_recording(result.recording, sha256=shas[0], file_size=sizes[0], progress=tick)
    infos = {c.name: c for c in draft.sources[0].channels}
    sources: list[SourceRecord] = []
    for src, sha, size in zip(result.sources, shas, sizes, strict=True):
        rec = src.recording
        sources.append(
            SourceRecord(
                source_type=rec.format,
                file_name=src.path.name,
                file_size=size,
                sha256=sha,
                logger_model=rec.logger,
                sample_rate_hz=rec.sample_rate_hz,
                channels=[infos["time"]] + [infos[n] for n in infos if n in src.channels],
                started_at=rec.started_at,
                time_offset_s=src.time_offset_s,
            )
        )
    draft.sources = sources
    extra = draft.telemetry.metadata.extra
    extra.update(result.recording.metadata)
    extra["sample_rate_hz"] = ""
    tick(_STAGES, _STAGES)
    return MergedImport(ps, result, draft)


def _num(x: float | None, digits: int) -> float | None:
    """A JSON-safe number: None for None, NaN and infinities."""
    if x is None or not math.isfinite(x):
        return None
    return round(float(x), digits)


def ideal_json(ideal_lap_s: float | None) -> float | None:
    """The ideal lap as ``inspect --json``, ``import --json`` and ``resplit --json`` print it."""
    return _num(ideal_lap_s, 6)


def lap_json(lap: LapRecord) -> dict[str, Any]:
    """One lap as the JSON object ``laptrace inspect --json`` and ``import --json`` print."""
    return {
        "lap_number": lap.lap_number,
        "kind": lap.kind,
        "start_s": _num(lap.start_offset_s, 6),
        "lap_time_s": _num(lap.lap_time_s, 6),
        "distance_m": _num(lap.distance_m, 3),
        "samples": lap.samples,
        "max_speed_kmh": _num(lap.max_speed_kmh, 3),
        "min_speed_kmh": _num(lap.min_speed_kmh, 3),
        "sectors_s": [_num(s, 6) for s in lap.sectors_s],
        "complete": lap.complete,
        "valid": lap.valid,
        "proposed_valid": lap.proposed_valid,
        "user_valid": lap.user_valid,
        "reason": lap.reason,
    }


# --- re-splitting ----------------------------------------------------------------------------


def recording_from_telemetry(telemetry: SessionTelemetry, name: str = "") -> Recording:
    """A saved session's telemetry as a recording again, to split it anew.

    Session time is each lap's start offset plus its own time; every channel but the
    derived ``time`` and ``distance`` comes back as it was saved, rows in file order (the
    distance is measured again from the positions, as at import).
    """
    laps = telemetry.laps
    if laps:
        time = np.concatenate([lap.start_offset + lap.channels["time"] for lap in laps]).astype(np.float64)
    else:
        time = np.zeros(0, np.float64)
    if time.size:
        time = time - time[0]
    aux = set(telemetry.auxiliary_channels)
    channels: dict[str, Channel] = {}
    for key in telemetry.channel_names:
        if key in ("time", "distance"):
            continue
        values = np.concatenate([lap.channels[key] for lap in laps]) if laps else np.zeros(0, np.float64)
        channels[key] = Channel(
            key,
            telemetry.source_names.get(key, key),
            telemetry.units.get(key, ""),
            key not in aux,
            np.asarray(values, np.float64),
        )
    meta = telemetry.metadata
    rate = meta.extra.get("sample_rate_hz", "")
    return Recording(
        path=Path(name or f"session {telemetry.session_id}"),
        format=meta.source_type,
        time=time,
        channels=channels,
        logger=meta.extra.get("logger") or None,
        started_at=meta.started_at,
        sample_rate_hz=float(rate) if rate else None,
    )


def resplit_draft(recording: Recording, draft: SessionDraft, lines: LineSet) -> SessionDraft:
    """The draft of ``recording`` split anew at an engineer's ``lines`` (not saved).

    Raises :class:`~desktop_app.laps.resplit.LineError` if the car never crosses a line.
    The sources, names and metadata extras of ``draft`` are kept.
    """
    check_crossed(recording, lines)
    analysis = analyse_laps(recording, lines)
    infos, aux_from = _telemetry_layout(recording, analysis)
    telemetry = _build_telemetry(recording, analysis, infos, aux_from)
    old = draft.telemetry
    extra = {**old.metadata.extra, "lap_source": analysis.split.source}
    telemetry = dataclasses.replace(
        telemetry,
        session_id=old.session_id,
        metadata=dataclasses.replace(old.metadata, extra=extra),
    )
    fields = _lap_fields(recording, analysis)
    if keep_validity(draft.laps, fields["laps"], recording):
        fields["ideal_lap_s"] = ideal_lap(fields["laps"])  # the ideal lap follows the ticks
    return dataclasses.replace(draft, telemetry=telemetry, **fields)


def _lap_spans(laps: Sequence[LapRecord], duration: float) -> list[tuple[float, float]]:
    """Each lap's (start, end) in seconds since the recording's start: a lap ends where the
    next begins (the laps partition the recording), the last at the recording's end."""
    starts = [lap.start_offset_s for lap in laps]
    return list(zip(starts, [*starts[1:], duration], strict=True))


def keep_validity(old: Sequence[LapRecord], new: Sequence[LapRecord], recording: Recording) -> int:
    """Carry the engineer's validity ticks (``user_valid``) from ``old`` laps to the ``new``
    laps of the same recording split anew; returns how many were carried.

    A new lap keeps the tick of the old lap it is the same lap as: one that starts and ends
    within one sample period of it (a line moved by less than a sample's travel cuts the
    same samples). A lap the new lines cut differently has no tick: the proposal stands.
    """
    time = recording.time
    if time.size < 2 or not new or all(lap.user_valid is None for lap in old):
        return 0
    duration = float(time[-1] - time[0])
    ticked = [
        (span, lap) for span, lap in zip(_lap_spans(old, duration), old, strict=True) if lap.user_valid is not None
    ]
    tolerance = float(np.median(np.diff(time))) * (1.0 + 1e-6)
    carried = 0
    for (start, end), lap in zip(_lap_spans(new, duration), new, strict=True):
        for (s, e), before in ticked:
            if abs(s - start) <= tolerance and abs(e - end) <= tolerance:
                lap.user_valid = before.user_valid
                carried += 1
                break
    return carried


class _LapFields(TypedDict):
    """The draft's fields that follow from the lap split (typed, so ``**`` is checked)."""

    lap_source: LapSource
    laps: list[LapRecord]
    warnings: list[str]
    ideal_lap_s: float | None
    lines: list[TrackLine]
    sector_source: str


def _lap_fields(recording: Recording, analysis: LapAnalysis) -> _LapFields:
    """The draft's fields that follow from how the recording was split into laps."""
    return {
        "lap_source": analysis.split.source,
        "laps": analysis.laps,
        "warnings": list(recording.warnings) + list(analysis.split.notes),
        "ideal_lap_s": analysis.ideal_lap_s,
        "lines": [track_line(p) for p in analysis.split.lines],
        "sector_source": analysis.split.sector_source,
    }


def reread_sources(
    paths: list[Path], saved_offsets: Sequence[float], tracks: Sequence[KnownTrack] = ()
) -> SessionTelemetry:
    """The telemetry of a session's source files, read and split again as at import (with
    the tracks' remembered lines, as an import splits a file; merged files with the offset
    the catalogue holds between them)."""
    if len(paths) == 1:
        return import_file(paths[0], tracks=tracks).draft.telemetry
    offset = saved_offsets[1] - saved_offsets[0] if len(saved_offsets) >= 2 else None
    return merge_files(paths, offset_s=offset).draft.telemetry


def retry_from_source(engine: Engine, storage: ParquetTelemetryStorage, session_id: int) -> None:
    """Finish the ``failed`` save of ``session_id`` from its source files, read again.

    Raises :class:`storage.sessions.RetryRefusedError` (files moved or changed, session not
    failed), ``LoggerFileError`` or ``OSError`` from the read, ``SaveError`` from the save.
    """
    from functools import partial

    from storage.db.catalog import known_tracks, load_session
    from storage.sessions import retry_from_sources

    offsets = [src.time_offset_s for src in load_session(engine, session_id).sources]
    reread = partial(reread_sources, saved_offsets=offsets, tracks=known_tracks(engine))
    retry_from_sources(engine, storage, session_id, reread)
