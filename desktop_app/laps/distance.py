"""The distance travelled since the first sample, per row, and where the GPS fix was lost.

Best source first: GPS positions integrated on the WGS84 ellipsoid; else a logged distance
channel; else the speed integrated over time; else nothing (NaN). Rows between fixes get
the distance interpolated in time between the fixes either side: this is a derived
channel, computed for every row so that each lap's ``distance`` can restart at 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from desktop_app.loggers.recording import Recording
from storage.types import FloatArray

from .geodesy import step_lengths
from .thresholds import STATIONARY_KMH

#: a gap between fixes longer than this (s, and 5 median fix intervals) is a dropout
DROPOUT_MIN_S = 1.0


@dataclass(frozen=True)
class Travel:
    """Cumulative distance per row (m, starting at 0) and how it was obtained."""

    distance: FloatArray
    #: "gps" | "logged" | "speed" | "none"
    source: str
    #: the source channel's name in the file ("" for gps/none)
    source_name: str


def gps_fix_mask(recording: Recording) -> npt.NDArray[np.bool_] | None:
    """Rows with a usable position, or None if the recording has no GPS channels.

    (0, 0) is how several loggers write "no fix"; it is never a real circuit.
    """
    lat = recording.standard("lat")
    lon = recording.standard("long")
    if lat is None or lon is None:
        return None
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) <= 90.0) & (np.abs(lon) <= 360.0)
        ok &= ~((lat == 0.0) & (lon == 0.0))
    return np.asarray(ok, np.bool_)


#: channels (source names, lower case) numbering the stretches of a paused-and-resumed
#: recording (RaceChrono): distance and laps are never joined across a change
FRAGMENT_CHANNELS = ("fragment_id", "session fragment #")


def fragments(recording: Recording) -> npt.NDArray[np.int64] | None:
    """The fragment number of every row (carried over empty cells), or None without one."""
    ch = next((c for c in recording.channels.values() if c.source_name.strip().lower() in FRAGMENT_CHANNELS), None)
    if ch is None:
        return None
    ok = np.isfinite(ch.values)
    if not ok.any():
        return None
    # carry each value forward over empty cells (and the first value back to the start)
    last = np.maximum.accumulate(np.where(ok, np.arange(ok.size), -1))
    last[last < 0] = int(np.flatnonzero(ok)[0])
    return np.asarray(ch.values[last], np.float64).astype(np.int64)


def fragment_starts(recording: Recording) -> list[int]:
    """Rows where a new fragment begins (recording resumed after a pause)."""
    frag = fragments(recording)
    if frag is None:
        return []
    return [int(r) for r in np.flatnonzero(frag[1:] != frag[:-1]) + 1]


def _gps_distance(recording: Recording, fix: npt.NDArray[np.bool_]) -> FloatArray:
    lat = recording.standard("lat")
    lon = recording.standard("long")
    assert lat is not None and lon is not None
    rows = np.flatnonzero(fix)
    steps = step_lengths(lat[rows], lon[rows])
    speed = recording.standard("speed")
    has_speed = speed is not None and int(np.isfinite(speed).sum()) >= 2
    if speed is not None and has_speed and steps.size:
        # the speed at each fix, from the speed channel's own samples (on a union time base,
        # MDF, the GPS speed message is not on the position's rows)
        ok = np.isfinite(speed)
        sp = np.interp(recording.time[rows], recording.time[ok], speed[ok])
        with np.errstate(invalid="ignore"):
            standing = (sp[:-1] < STATIONARY_KMH) & (sp[1:] < STATIONARY_KMH)
        steps = np.where(standing, 0.0, steps)
    frag = fragments(recording)
    if frag is not None and steps.size:
        steps = np.where(frag[rows][1:] != frag[rows][:-1], 0.0, steps)  # paused: not driven
    cum = np.concatenate(([0.0], np.cumsum(steps)))
    return np.asarray(np.interp(recording.time, recording.time[rows], cum), np.float64)


def _from_valid(time: FloatArray, values: FloatArray) -> FloatArray | None:
    ok = np.isfinite(values)
    if int(ok.sum()) < 2:
        return None
    out = np.interp(time, time[ok], values[ok])
    return np.asarray(out - out[0], np.float64)


def travel(recording: Recording) -> Travel:
    """The cumulative distance of every row, from the best source the recording has."""
    n = recording.sample_count
    fix = gps_fix_mask(recording)
    if fix is not None and int(fix.sum()) >= 2:
        return Travel(_gps_distance(recording, fix), "gps", "")
    logged = recording.channels.get("distance")
    if logged is not None and logged.standard:
        d = _from_valid(recording.time, logged.values)
        if d is not None:
            return Travel(d, "logged", logged.source_name)
    speed = recording.channels.get("speed")
    if speed is not None and speed.standard:
        ok = np.isfinite(speed.values)
        if int(ok.sum()) >= 2:
            t = recording.time[ok]
            v = speed.values[ok] / 3.6
            steps = 0.5 * (v[1:] + v[:-1]) * np.diff(t)
            frag = fragments(recording)
            if frag is not None:
                steps = np.where(frag[ok][1:] != frag[ok][:-1], 0.0, steps)
            cum = np.concatenate(([0.0], np.cumsum(steps)))
            d = np.asarray(np.interp(recording.time, t, cum), np.float64)
            return Travel(d, "speed", speed.source_name)
    return Travel(np.full(n, np.nan), "none", "")


@dataclass(frozen=True)
class Dropout:
    """A stretch without a GPS fix: from the last fix before to the first fix after."""

    start: float
    end: float

    @property
    def duration(self) -> float:
        return self.end - self.start


def gps_dropouts(recording: Recording) -> list[Dropout]:
    """Gaps between consecutive fixes longer than 1 s and 5 median fix intervals.

    Only gaps inside the GPS-covered span count: a recording whose GPS starts late (the
    logger was on before the fix) has no dropout at its start, and a file without GPS has
    none at all.
    """
    fix = gps_fix_mask(recording)
    if fix is None:
        return []
    t = recording.time[fix]
    if t.size < 3:
        return []
    gaps = np.diff(t)
    positive = gaps[gaps > 0]
    median = float(np.median(positive)) if positive.size else 0.0
    limit = max(DROPOUT_MIN_S, 5.0 * median)
    idx = np.flatnonzero(gaps > limit)
    return [Dropout(float(t[i]), float(t[i + 1])) for i in idx]
