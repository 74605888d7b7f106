"""Delta time against a reference lap, computed on distance (Qt-free numpy).

For every distance the compared lap reaches, the delta is its own time there minus the
reference's time at the same distance (interpolated along the reference). Distance from
GPS can step backwards or stand still; both laps are reduced to the samples where the
distance reaches a new maximum (``np.maximum.accumulate``), i.e. "the first time the car got
here", which makes the reference against itself exactly zero.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from storage.types import FloatArray, LapTelemetry


@dataclass(frozen=True)
class DeltaTrace:
    """The delta of one lap against the reference, sampled at the lap's own samples.

    ``distance`` and ``time`` are the compared lap's (strictly increasing distance), so the
    trace can be drawn against either x axis; ``delta`` is seconds (positive = slower).
    """

    distance: FloatArray
    time: FloatArray
    delta: FloatArray


def monotonic_profile(distance: FloatArray, time: FloatArray) -> tuple[FloatArray, FloatArray]:
    """The (distance, time) samples at which distance reaches a new maximum.

    Samples with a NaN distance or time are dropped first (no sample, not zero).
    """
    finite = np.isfinite(distance) & np.isfinite(time)
    d = np.maximum.accumulate(distance[finite])
    t = time[finite]
    if d.size == 0:
        return d, t
    keep = np.empty(d.size, dtype=bool)
    keep[0] = True
    np.greater(d[1:], d[:-1], out=keep[1:])
    return d[keep], t[keep]


def delta_time(lap: LapTelemetry, reference: LapTelemetry) -> DeltaTrace:
    """Delta of ``lap`` against ``reference`` on distance.

    Only distances the reference also covered are kept (no extrapolation past its end).
    Raises ``KeyError`` naming the lap if either lacks ``time`` or ``distance``.
    """
    for which in (lap, reference):
        for name in ("time", "distance"):
            if name not in which.channels:
                raise KeyError(f"lap {which.lap_number} has no {name!r} channel")
    d, t = monotonic_profile(lap.channels["distance"], lap.channels["time"])
    rd, rt = monotonic_profile(reference.channels["distance"], reference.channels["time"])
    if rd.size < 2 or d.size == 0:
        empty = np.empty(0, dtype=np.float64)
        return DeltaTrace(empty, empty, empty)
    inside = (d >= rd[0]) & (d <= rd[-1])
    d, t = d[inside], t[inside]
    ref_time = np.interp(d, rd, rt)
    return DeltaTrace(distance=d, time=t, delta=np.asarray(t - ref_time, dtype=np.float64))
