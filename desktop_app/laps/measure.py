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

#: below this speed (km/h) the car stands
STANDING_KMH = 5.0
#: a timed lap with this long standing (s) went through the pits
PIT_STOP_S = 5.0
#: a final lap whose last speed is below this (km/h) ended in the pits: an in-lap
IN_LAP_END_KMH = 30.0


@dataclass
class MeasuredLap:
    """A lap's record plus what validity needs to know beyond it."""

    record: LapRecord
    dropouts: list[Dropout] = field(default_factory=list)
    standing_s: float = 0.0


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


def _kind(split: LapSplit, k: int, standing: float, last_speed: float | None) -> LapKind:
    seg = split.segments[k]
    last = k == len(split.segments) - 1
    if split.source == "none":
        return "partial"
    if seg.timed:
        return "pit" if standing >= PIT_STOP_S else "flying"
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
    out: list[MeasuredLap] = []
    for k, seg in enumerate(split.segments):
        vmax, vmin, standing, last_speed = _speed_stats(speed, time, seg)
        distance: float | None = None
        if has_distance:
            d0, d1 = np.interp([seg.start, seg.end], time, dist)
            distance = float(d1 - d0)
        record = LapRecord(
            lap_number=seg.number,
            kind=_kind(split, k, standing, last_speed),
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
        out.append(MeasuredLap(record, lost, standing))
    return out
