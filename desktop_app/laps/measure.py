"""Measure each lap segment: time, distance, speeds, kind, GPS dropouts.

Validity is proposed afterwards (:mod:`.validity`), from these measures of all laps.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from desktop_app.loggers.recording import Recording
from storage.types import FloatArray, LapKind, LapRecord

from .distance import Dropout, gps_dropouts
from .split import LapSplit, Segment
from .thresholds import STANDING_KMH

#: a timed lap with this long standing (s) went through the pits
PIT_STOP_S = 5.0
#: a final lap whose last speed is below this (km/h) ended in the pits: an in-lap
IN_LAP_END_KMH = 30.0
#: the pit lane's speed: at most this (km/h), and at most PIT_SPEED_SHARE of the
#: session's typical speed on the move (a kart's typical speed is a car's pit limit)
PIT_LANE_KMH = 60.0
PIT_SPEED_SHARE = 0.5
#: a pit-lane visit: at least this long (s) without a break at or under the pit speed
PIT_VISIT_S = 15.0


@dataclass(frozen=True)
class PitVisit:
    """A long stretch at pit-lane speed or standing, in session time."""

    start: float
    end: float


def pit_visits(time: FloatArray, speed: FloatArray | None) -> list[PitVisit]:
    """Stretches of at least PIT_VISIT_S at or under the pit-lane speed (docs/laps.md#kinds-out-flying-in-pit-partial)."""
    if speed is None:
        return []
    ok = np.isfinite(speed)
    if int(ok.sum()) < 2:
        return []
    tt, vv = time[ok], speed[ok]
    moving = vv[vv >= STANDING_KMH]
    if moving.size == 0:
        return []
    limit = min(PIT_LANE_KMH, PIT_SPEED_SHARE * float(np.median(moving)))
    slow = vv <= limit
    edges = np.flatnonzero(np.diff(np.concatenate(([0], slow.astype(np.int8), [0]))))
    out: list[PitVisit] = []
    for a, b in zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True):
        t0, t1 = float(tt[a]), float(tt[b - 1])
        if t1 - t0 >= PIT_VISIT_S:
            out.append(PitVisit(t0, t1))
    return out


def _pit_kind(seg: Segment, visits: list[PitVisit]) -> LapKind | None:
    """A timed lap that starts or ends in the pit lane: ``out``, ``in`` or ``pit``."""
    inside = [v for v in visits if v.end > seg.start and v.start < seg.end]
    if not inside:
        return None
    starts_in = any(v.start <= seg.start for v in inside)
    ends_in = any(v.end >= seg.end for v in inside)
    if starts_in and not ends_in:
        return "out"
    if ends_in and not starts_in:
        return "in"
    return "pit"


@dataclass
class MeasuredLap:
    """A lap's record plus what validity needs to know beyond it."""

    record: LapRecord
    dropouts: list[Dropout] = field(default_factory=list)
    standing_s: float = 0.0
    #: why a timed lap is not a flying lap, when it starts or ends in the pit lane
    pit_reason: str = ""


def _speed_stats(
    speed: FloatArray | None, time: FloatArray, seg: Segment
) -> tuple[float | None, float | None, float, float | None]:
    """max, min, time standing (s), last speed of the segment (km/h)."""
    if speed is None or seg.rows == 0:
        return None, None, 0.0, None
    v = speed[seg.first_row : seg.end_row]
    t = time[seg.first_row : seg.end_row]
    ok = np.isfinite(v)
    if not ok.any():
        return None, None, 0.0, None
    vv, tt = v[ok], t[ok]
    dt = np.diff(tt)
    slow = (vv[:-1] < STANDING_KMH) & (vv[1:] < STANDING_KMH)
    standing = float(dt[slow].sum()) if dt.size else 0.0
    return float(vv.max()), float(vv.min()), standing, float(vv[-1])


def _kind(split: LapSplit, k: int, standing: float, last_speed: float | None, visits: list[PitVisit]) -> LapKind:
    seg = split.segments[k]
    last = k == len(split.segments) - 1
    if split.source == "none":
        return "partial"
    if seg.timed:
        if standing >= PIT_STOP_S:
            return "pit"
        return _pit_kind(seg, visits) or "flying"
    if k == 0:
        return "partial" if split.starts_mid_lap else "out"
    if seg.after_pause:
        return "out"  # the recording resumed: the car sets off again
    if last and last_speed is not None and last_speed >= IN_LAP_END_KMH:
        return "partial"  # the data stops while the car is at speed: cut, not driven in
    return "in"


def measure_laps(recording: Recording, split: LapSplit) -> list[MeasuredLap]:
    """One :class:`MeasuredLap` per segment, in order (validity not yet proposed)."""
    time = recording.time
    dist = split.travel.distance
    has_distance = split.travel.source != "none"
    speed = recording.standard("speed")
    dropouts = gps_dropouts(recording)
    visits = pit_visits(time, speed)
    out: list[MeasuredLap] = []
    for k, seg in enumerate(split.segments):
        vmax, vmin, standing, last_speed = _speed_stats(speed, time, seg)
        distance: float | None = None
        if has_distance:
            d0, d1 = np.interp([seg.start, seg.end], time, dist)
            distance = float(d1 - d0)
        record = LapRecord(
            lap_number=seg.number,
            kind=_kind(split, k, standing, last_speed, visits),
            start_offset_s=float(seg.start - time[0]),
            lap_time_s=float(seg.end - seg.start) if seg.timed else None,
            distance_m=distance,
            samples=seg.rows,
            max_speed_kmh=vmax,
            min_speed_kmh=vmin,
            sectors_s=list(seg.sectors),
            proposed_valid=True,
            reason="",
            complete=seg.timed,
        )
        lost = [d for d in dropouts if d.end > seg.start and d.start < seg.end]
        pit_reason = ""
        if seg.timed and standing < PIT_STOP_S and record.kind != "flying":
            pit_reason = {
                "out": "out-lap (starts in the pit lane)",
                "in": "in-lap (ends in the pit lane)",
                "pit": "through the pit lane",
            }[record.kind]
        out.append(MeasuredLap(record, lost, standing, pit_reason))
    return out
