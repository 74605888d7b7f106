"""Two aligned recordings -> one merged :class:`Recording` on the union of their time bases.

Rules (docs/formats.md#time-base): the secondary's timestamps are mapped onto the primary's clock
(offset and drift from :mod:`.align`), both are compared as integer microseconds, and the
merged time axis is their sorted union; rows merge only on exactly equal timestamps. Every
sample of either file lands in exactly one row, nothing is interpolated or filled: a
channel is NaN wherever its own file has no sample.

Standard-channel clashes (both files log ``speed``): the standard channel comes from the
better source, the other stays as an auxiliary channel named ``speed [<source>]``; so does
a channel the other file named alike, or one named like a column storage reserves
(``Lap_Number``). The merged names keep the saved-name rule
(docs/channels.md#saved-names), so the import saves them as they are. Position
and speed (``lat``, ``long``, ``speed``, ``distance``) come from the GPS file (the one with
``lat``/``long``), everything else from the other one, unless ``prefer`` says otherwise.
Gates come from the GPS file; beacons and the lap counter from the other (shifted onto the
merged clock).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

import numpy as np

from desktop_app.loggers.channels import channel_namer
from desktop_app.loggers.recording import Channel, Recording
from desktop_app.loggers.timebase import to_microseconds
from storage.errors import LaptraceError
from storage.types import STANDARD_CHANNELS, FloatArray

from .align import MIN_OVERLAP_S, Alignment, AlignmentError, align

Side = Literal["primary", "secondary"]
SIDES: tuple[Side, Side] = ("primary", "secondary")
#: standard channels the GPS file supplies when both files have them
GPS_CHANNELS: frozenset[str] = frozenset({"lat", "long", "speed", "distance"})


class MergeError(LaptraceError):
    """Two files that cannot be merged into one session; the message names both and why."""

    def __init__(self, primary: Path, secondary: Path, reason: str) -> None:
        self.primary = Path(primary)
        self.secondary = Path(secondary)
        self.reason = reason
        super().__init__(f"cannot merge {self.primary.name} with {self.secondary.name}: {reason}")


@dataclass
class SourceChannels:
    """Which merged channels came from one file, and where its clock sits on the merged one."""

    path: Path
    recording: Recording
    label: str  #: the suffix its clashing channels carry, e.g. ``bosch``
    channels: dict[str, str]  #: merged channel name -> the file's channel key
    time_offset_s: float  #: added to this file's (drift-corrected) time to get merged time
    rows: np.ndarray  #: the merged row of each of this file's samples, in file order


@dataclass
class MergeResult:
    """The merged recording, how the files were aligned, and what came from which file."""

    recording: Recording
    alignment: Alignment
    sources: list[SourceChannels]
    warnings: list[str] = field(default_factory=list)

    @property
    def offset_s(self) -> float:
        return self.alignment.offset_s

    @property
    def drift_ppm(self) -> float:
        return self.alignment.drift_ppm


def _has_gps(rec: Recording) -> bool:
    return rec.standard("lat") is not None and rec.standard("long") is not None


def _labels(primary: Recording, secondary: Recording) -> tuple[str, str]:
    if primary.format != secondary.format:
        return primary.format, secondary.format
    a, b = primary.path.stem, secondary.path.stem
    return (a, b) if a != b else ("1", "2")


def _owner(name: str, gps_side: Side | None, prefer: Mapping[str, Side]) -> Side:
    """Which file's channel becomes the standard ``name`` when both have it."""
    if name in prefer:
        return prefer[name]
    if gps_side is None:
        return "primary"
    other: Side = "secondary" if gps_side == "primary" else "primary"
    return gps_side if name in GPS_CHANNELS else other


def _unique_rows(t_us: np.ndarray, rec: Recording, what: str) -> None:
    if np.unique(t_us).shape[0] != t_us.shape[0]:
        raise AlignmentError(
            f"{rec.path.name} has repeated timestamps {what}: its samples cannot be placed one per row"
        )


_Sides = dict[Side, tuple[Recording, np.ndarray, str]]


def merge_recordings(
    primary: Recording,
    secondary: Recording,
    *,
    offset_s: float | None = None,
    prefer: Mapping[str, Side] | None = None,
) -> MergeResult:
    """Align ``secondary`` to ``primary`` and merge them (see the module docstring).

    ``offset_s`` forces the offset (seconds added to the secondary's clock); ``prefer``
    maps a standard channel to the file that supplies it when both have it. Raises
    :class:`MergeError` when the files cannot be aligned or do not overlap in time.
    """
    alignment, union, p_rows, s_rows = _common_rows(primary, secondary, offset_s)
    t0 = int(union[0])
    gps_side: Side | None = None
    if _has_gps(primary):
        gps_side = "primary"
    elif _has_gps(secondary):
        gps_side = "secondary"
    labels = _labels(primary, secondary)
    sides: _Sides = {
        "primary": (primary, p_rows, labels[0]),
        "secondary": (secondary, s_rows, labels[1]),
    }
    channels, owned = _merged_channels(sides, gps_side, dict(prefer or {}), union.shape[0])

    p_offset = -t0 / 1e6
    s_offset = alignment.offset_s - t0 / 1e6
    gps_rec = primary if gps_side != "secondary" else secondary
    other_rec = secondary if gps_rec is primary else primary
    warnings = [f"{primary.path.name}: {w}" for w in primary.warnings]
    warnings += [f"{secondary.path.name}: {w}" for w in secondary.warnings]
    warnings += alignment.warnings
    sources = [
        SourceChannels(primary.path, primary, labels[0], owned["primary"], p_offset, p_rows),
        SourceChannels(secondary.path, secondary, labels[1], owned["secondary"], s_offset, s_rows),
    ]
    merged = Recording(
        path=primary.path,
        format="merged",
        time=np.asarray((union - t0) / 1e6, np.float64),
        channels=channels,
        logger=" + ".join(r.logger or r.format for r in (primary, secondary)),
        started_at=_started_at(primary, secondary, alignment, t0 / 1e6),
        sample_rate_hz=None,
        gates=list(gps_rec.gates) or list(other_rec.gates),
        beacons=_beacons(other_rec, gps_rec, secondary, alignment, p_offset, s_offset),
        lap_counter=_counter(other_rec, owned, sides) or _counter(gps_rec, owned, sides),
        track=primary.track or secondary.track,
        metadata=merge_metadata(alignment, sources),
        warnings=warnings,
    )
    merged.check()
    return MergeResult(merged, alignment, sources, warnings)


def _common_rows(
    primary: Recording, secondary: Recording, offset_s: float | None
) -> tuple[Alignment, np.ndarray, np.ndarray, np.ndarray]:
    """The alignment, the union of both files' times (microseconds on the primary's clock)
    and where each file's samples fall in it."""
    try:
        alignment = align(primary, secondary, offset_s=offset_s)
        mapped = alignment.to_primary(secondary.time)
        _check_overlap(primary.time, mapped, alignment.offset_s)
        p_us = to_microseconds(primary.time)
        s_us = to_microseconds(mapped)
        _unique_rows(p_us, primary, "")
        _unique_rows(s_us, secondary, "once put on the other file's clock")
    except AlignmentError as exc:
        raise MergeError(primary.path, secondary.path, str(exc)) from exc
    union = np.unique(np.concatenate([p_us, s_us]))
    return alignment, union, np.searchsorted(union, p_us), np.searchsorted(union, s_us)


def _merged_channels(
    sides: _Sides, gps_side: Side | None, prefer: dict[str, Side], n: int
) -> tuple[dict[str, Channel], dict[Side, dict[str, str]]]:
    """Every channel of both files on the common rows, and which merged name is whose."""
    primary, secondary = sides["primary"][0], sides["secondary"][0]
    both = {k for k, ch in primary.channels.items() if ch.standard} & {
        k for k, ch in secondary.channels.items() if ch.standard
    }
    channels: dict[str, Channel] = {}
    owned: dict[Side, dict[str, str]] = {"primary": {}, "secondary": {}}
    # standard channels first, in storage order, from their owner
    for name in STANDARD_CHANNELS:
        for side in SIDES:
            rec, rows, _ = sides[side]
            ch = rec.channels.get(name)
            if ch is None or not ch.standard:
                continue
            if name in both and _owner(name, gps_side, prefer) != side:
                continue
            channels[name] = _placed(ch, name, rows, n, standard=True)
            owned[side][name] = name
    names = channel_namer(channels)
    for side in SIDES:
        rec, rows, label = sides[side]
        kept = set(owned[side].values())
        for key, ch in rec.channels.items():
            if key in kept:
                continue
            base = key
            if ch.standard or names.taken(key):
                base = f"{key} [{label}]"
            name = names.take(base)
            channels[name] = _placed(ch, name, rows, n, standard=False)
            owned[side][name] = key
    return channels, owned


def _beacons(
    other_rec: Recording,
    gps_rec: Recording,
    secondary: Recording,
    alignment: Alignment,
    p_offset: float,
    s_offset: float,
) -> list[float] | None:
    """The beacon times on the merged clock, from the file without GPS first."""
    source = other_rec if other_rec.beacons is not None else gps_rec
    if source.beacons is None:
        return None
    off, scale = (s_offset, alignment.scale) if source is secondary else (p_offset, 1.0)
    return [off + scale * b for b in source.beacons]


def _started_at(primary: Recording, secondary: Recording, alignment: Alignment, t0: float) -> datetime | None:
    """The merged start: from a file whose start is UTC (tz-aware) first, else a local one."""
    from_primary = None if primary.started_at is None else primary.started_at + timedelta(seconds=t0)
    from_secondary = None
    if secondary.started_at is not None:
        from_secondary = secondary.started_at + timedelta(seconds=t0 - alignment.offset_s)
    for candidate in (from_primary, from_secondary):
        if candidate is not None and candidate.tzinfo is not None:
            return candidate
    return from_primary or from_secondary


def _counter(
    rec: Recording, owned: dict[Side, dict[str, str]], sides: dict[Side, tuple[Recording, np.ndarray, str]]
) -> str | None:
    if rec.lap_counter is None:
        return None
    side: Side = "primary" if sides["primary"][0] is rec else "secondary"
    return next((m for m, k in owned[side].items() if k == rec.lap_counter), None)


def _placed(ch: Channel, name: str, rows: np.ndarray, n: int, *, standard: bool) -> Channel:
    values: FloatArray = np.full(n, np.nan)
    values[rows] = ch.values
    return Channel(name, ch.source_name, ch.unit, standard, values)


def _check_overlap(p_time: FloatArray, s_mapped: FloatArray, offset_s: float) -> None:
    p0, p1 = float(p_time.min()), float(p_time.max())
    s0, s1 = float(s_mapped.min()), float(s_mapped.max())
    overlap = min(p1, s1) - max(p0, s0)
    need = min(MIN_OVERLAP_S, 0.5 * min(p1 - p0, s1 - s0))
    if overlap < need:
        where = "no common time at all" if overlap <= 0 else f"only {overlap:.1f} s in common"
        raise AlignmentError(
            f"the files do not overlap in time ({where} at an offset of {offset_s:+.3f} s; needs {need:.1f} s)"
        )


def merge_metadata(alignment: Alignment, sources: list[SourceChannels]) -> dict[str, str]:
    """Text metadata describing the merge (it goes to the Parquet footer's extras)."""
    doc = [
        {
            "file": s.path.name,
            "format": s.recording.format,
            "time_offset_s": round(s.time_offset_s, 6),
            "channels": sorted(s.channels),
        }
        for s in sources
    ]
    return {
        "merge_offset_s": f"{alignment.offset_s:.6f}",
        "merge_drift_ppm": f"{alignment.drift_ppm:.3f}",
        "merge_confidence": f"{alignment.confidence:.4f}",
        "merge_method": alignment.method,
        "merge_channel": alignment.channel or "",
        "merge_sources": json.dumps(doc, ensure_ascii=False),
    }
