"""An automatic start/finish line for GPS files that bring none: where the car keeps coming back.

The driven line is resampled every few metres of travel (so standing still adds nothing).
For candidate points along it, the passes are counted: visits to within a few metres of
the point, heading the same way (so an out-and-back road does not count), each visit
separated from the previous one by a whole lap's worth of driving, and with the driven
line matching 50 and 100 m before and after it (so that two parallel stretches of a
twisty kart track are not taken for one place passed twice a lap). The point passed most
often wins, ties going to the fastest point (start/finish lines sit on straights, where
the direction of travel is well defined). The line goes through it, across the local
direction of travel. Fewer than two passes anywhere means the file does not loop: no line,
never invented laps.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from storage.types import FloatArray

from .gates import TimingLine
from .geodesy import from_local, to_local
from .thresholds import MIN_AUTO_LAP_M

#: spacing of the resampled driven line (m)
RESAMPLE_M = 5.0
#: how close (m) a pass must come to the candidate point
PASS_RADIUS_M = 15.0
#: the heading of a pass must be within this angle of the candidate's
PASS_MAX_ANGLE_DEG = 45.0
#: the driven line must match this far (m) before and after a pass
SHAPE_M = (50.0, 100.0)
_SHAPE_STEPS = tuple(int(round(m / RESAMPLE_M)) for m in SHAPE_M)
#: at most this many candidate points are scored (long sessions use a coarser stride)
MAX_CANDIDATES = 3000


def _resample(
    time: FloatArray, east: FloatArray, north: FloatArray, dist: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Points every RESAMPLE_M metres of travel: (east, north, time, distance)."""
    marks = np.arange(0.0, float(dist[-1]), RESAMPLE_M)
    idx = np.clip(np.searchsorted(dist, marks, side="left"), 0, dist.size - 1)
    idx = np.unique(idx)
    return east[idx], north[idx], time[idx], dist[idx]


@dataclass(frozen=True)
class _Driven:
    """The driven line resampled every ``RESAMPLE_M``: positions, headings, a grid of cells."""

    east: FloatArray
    north: FloatArray
    dist: FloatArray
    he: FloatArray  #: heading, east part of a unit vector (0 where standing)
    hn: FloatArray
    moving: npt.NDArray[np.bool_]
    speed: FloatArray
    ce: npt.NDArray[np.int64]  #: the cell of each point, ``PASS_RADIUS_M`` wide
    cn: npt.NDArray[np.int64]
    cells: dict[tuple[int, int], npt.NDArray[np.int64]]

    @classmethod
    def of(cls, east: FloatArray, north: FloatArray, t: FloatArray, dist: FloatArray) -> _Driven:
        # heading from the neighbours on either side; unit vectors
        he = np.gradient(east)
        hn = np.gradient(north)
        norm = np.hypot(he, hn)
        moving = norm > 0.5
        he = np.where(moving, he / np.where(moving, norm, 1.0), 0.0)
        hn = np.where(moving, hn / np.where(moving, norm, 1.0), 0.0)
        dt = np.gradient(t)
        with np.errstate(divide="ignore", invalid="ignore"):
            speed = np.where(dt > 0, RESAMPLE_M / dt, 0.0)
        cells: dict[tuple[int, int], list[int]] = defaultdict(list)
        ce = np.floor(east / PASS_RADIUS_M).astype(np.int64)
        cn = np.floor(north / PASS_RADIUS_M).astype(np.int64)
        for i, key in enumerate(zip(ce.tolist(), cn.tolist(), strict=True)):
            cells[key].append(i)
        cell_arrays = {k: np.asarray(v, np.int64) for k, v in cells.items()}
        return cls(east, north, dist, he, hn, moving, speed, ce, cn, cell_arrays)

    def passes(self, c: int, cos_max: float) -> int:
        """How many times the driven line passes point ``c`` in its direction."""
        east, north, he, hn, ce, cn = self.east, self.north, self.he, self.hn, self.ce, self.cn
        near = [
            self.cells[(ce[c] + a, cn[c] + b)]
            for a in (-1, 0, 1)
            for b in (-1, 0, 1)
            if (ce[c] + a, cn[c] + b) in self.cells
        ]
        idx = np.concatenate(near)
        ok = (np.hypot(east[idx] - east[c], north[idx] - north[c]) <= PASS_RADIUS_M) & (
            he[idx] * he[c] + hn[idx] * hn[c] >= cos_max
        )
        # the same place, not a parallel stretch of another part of the track: the driven
        # line must also match SHAPE_M before and after the point
        for k in _SHAPE_STEPS:
            for sign in (-1, 1):
                j, jc = idx + sign * k, c + sign * k
                if not 0 <= jc < east.size:
                    continue
                inside = (j >= 0) & (j < east.size)
                jj = np.clip(j, 0, east.size - 1)
                close = np.hypot(east[jj] - east[jc], north[jj] - north[jc]) <= 2.0 * PASS_RADIUS_M
                ok &= close | ~inside
        d = np.sort(self.dist[idx[ok]])
        return 1 + int(np.count_nonzero(np.diff(d) > MIN_AUTO_LAP_M)) if d.size else 0


def find_auto_line(
    time: FloatArray,
    lat: FloatArray,
    lon: FloatArray,
    fix: npt.NDArray[np.bool_],
    distance: FloatArray,
) -> tuple[TimingLine, int] | None:
    """The most recurrent point of the driven line as a timing line, with its pass count.

    ``distance`` is the cumulative GPS distance per row. None when no point is passed at
    least twice (the file does not loop).
    """
    rows = np.flatnonzero(fix)
    if rows.size < 10:
        return None
    lat0 = float(np.median(lat[rows]))
    lon0 = float(np.median(lon[rows]))
    e_all, n_all = to_local(lat[rows], lon[rows], lat0, lon0)
    d_rows = distance[rows]
    if float(d_rows[-1] - d_rows[0]) < 2.0 * MIN_AUTO_LAP_M:
        return None
    east, north, t, dist = _resample(time[rows], e_all, n_all, d_rows - d_rows[0])
    if east.size < 5:
        return None
    driven = _Driven.of(east, north, t, dist)
    stride = max(1, int(np.ceil(east.size / MAX_CANDIDATES)))
    cos_max = float(np.cos(np.radians(PASS_MAX_ANGLE_DEG)))
    best: tuple[int, float, int] | None = None  # (passes, speed, index)
    for c in range(0, east.size, stride):
        if not driven.moving[c]:
            continue
        passes = driven.passes(c, cos_max)
        score = (passes, float(driven.speed[c]), -c)
        if best is None or score > (best[0], best[1], -best[2]):
            best = (passes, float(driven.speed[c]), c)
    if best is None or best[0] < 2:
        return None
    c = best[2]
    lat_c, lon_c = from_local(float(east[c]), float(north[c]), lat0, lon0)
    line = TimingLine(lat_c, lon_c, float(driven.he[c]), float(driven.hn[c]), PASS_RADIUS_M, "auto", one_way=True)
    return line, best[0]
