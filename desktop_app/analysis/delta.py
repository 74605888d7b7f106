"""Delta time against a reference lap, compared at equal track position.

Two laps never cover exactly the same distance: GPS or wheel-speed distance drifts by a few
metres a lap, and a lap that is 0.5 % longer compared on raw distance would reach the finish
line "behind" the reference by the time that 0.5 % takes. So each lap's distance is
normalised to the reference lap's: a sample at fraction ``f`` of the lap's own distance is
compared with the reference at fraction ``f`` of the reference's distance. At the finish
line both are at fraction 1, and the delta is the difference of their last samples' times,
i.e. of the lap times (to within one sample each). See ``docs/analysis.md``.

Distance from GPS can step backwards or stand still; both laps are reduced to the samples
where the distance reaches a new maximum (``np.maximum.accumulate``), i.e. "the first time
the car got here", which makes the reference against itself exactly zero.
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
    """Delta of ``lap`` against ``reference`` at equal (normalised) track position.

    Raises ``KeyError`` naming the lap if either lacks ``time`` or ``distance``. Laps with
    fewer than two distinct distances have no delta (empty trace).
    """
    for which in (lap, reference):
        for name in ("time", "distance"):
            if name not in which.channels:
                raise KeyError(f"lap {which.lap_number} has no {name!r} channel")
    d, t = monotonic_profile(lap.channels["distance"], lap.channels["time"])
    rd, rt = monotonic_profile(reference.channels["distance"], reference.channels["time"])
    empty = np.empty(0, dtype=np.float64)
    if rd.size < 2 or d.size < 2:
        return DeltaTrace(empty, empty, empty)
    span, ref_span = float(d[-1] - d[0]), float(rd[-1] - rd[0])
    if not span > 0.0 or not ref_span > 0.0:
        return DeltaTrace(empty, empty, empty)
    # the same place on track: the same fraction of each lap's own distance
    position = rd[0] + (d - d[0]) * (ref_span / span)
    ref_time = np.interp(position, rd, rt)
    return DeltaTrace(distance=d, time=t, delta=np.asarray(t - ref_time, dtype=np.float64))
