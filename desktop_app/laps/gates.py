"""Timing lines and when the car crosses them, to a fraction of a sample.

A :class:`TimingLine` is a point and the unit vector of the direction of travel across it
(the line's normal). The car crosses the line between two consecutive GPS fixes when its
signed distance to the line (the position projected on the normal) changes sign there and
the interpolated crossing point lies within the capture radius of the line's midpoint.
The crossing time is interpolated linearly between the two fixes.

Only crossings in the direction of travel count (:func:`directed_crossings`): the line's
own orientation where it has one (``one_way``), else the direction most of its crossings
take. Passes the other way (a return section of the track running next to the line) are
kept apart so the caller can report them. See docs/laps.md#timing-lines-and-direction-of-travel.

File gates (VBO ``[laptiming]``) are turned into lines by :func:`lines_from_gate`: real
files give two points 5-10 m apart *along* the direction of travel (docs/formats.md#vbo-gates),
so the line is the perpendicular through their midpoint. The textbook reading
(the two points are the ends of a line drawn across the track) is tried as well, and
whichever reading the driven line actually crosses is used.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from desktop_app.loggers.recording import Gate
from storage.types import FloatArray

from .geodesy import to_local
from .thresholds import STATIONARY_KMH

#: how far from the line's midpoint a crossing may be (m) when nothing better is known
CAPTURE_RADIUS_M = 25.0
#: a gate drawn across the track captures over its half-length plus this (m): the car may
#: run a little wide of where the line was drawn
ACROSS_MARGIN_M = 5.0
#: a gate whose two points lie along the direction of travel says nothing about the
#: track's width: it captures over its half-length plus the half-width of a wide circuit
ALONG_MARGIN_M = 15.0
#: a step between two fixes longer than this (m) is a glitch or a dropout: no crossing on it
MAX_STEP_M = 250.0
#: the travel direction must be within ~60 degrees of the line's normal
MIN_APPROACH_COS = 0.5
#: the travel direction is measured over about this distance (m) around the crossing
APPROACH_BASELINE_M = 3.0
#: over that baseline the car must move at least this far (m): a car standing on the line
#: (in the pits) jitters across it without driving through it, and its jitter must not vote
#: on the direction of travel
MIN_APPROACH_MOVE_M = 0.5


@dataclass(frozen=True)
class TimingLine:
    """A start/finish or split line: through (lat, lon), across the unit normal (east, north)."""

    lat: float
    lon: float
    east: float
    north: float
    capture_m: float = CAPTURE_RADIUS_M
    name: str = ""
    #: only crossings along the normal count (automatic lines: the other way is another
    #: part of the track passing close by)
    one_way: bool = False


@dataclass(frozen=True)
class Crossing:
    """One crossing of a line: interpolated time, direction, distance from the midpoint."""

    time: float
    forward: bool  #: True when crossing along the line's normal
    offset_m: float  #: signed distance from the midpoint, along the line


def crossings(
    time: FloatArray,
    lat: FloatArray,
    lon: FloatArray,
    fix: npt.NDArray[np.bool_],
    line: TimingLine,
    speed: FloatArray | None = None,
) -> list[Crossing]:
    """Every crossing of ``line`` by the fixes ``fix`` marks, in time order.

    ``speed`` (km/h per row, NaN where not logged): where the logged speed says the car
    stands, a sign change is GPS wander around a car parked on the line, not a crossing.
    """
    rows = np.flatnonzero(fix)
    if rows.size < 2:
        return []
    east, north = to_local(lat[rows], lon[rows], line.lat, line.lon)
    across = east * line.east + north * line.north  # signed distance to the line
    along = -east * line.north + north * line.east  # position along the line
    side = across > 0.0
    j = np.flatnonzero(side[:-1] != side[1:])
    if j.size == 0:
        return []
    step = np.hypot(east[j + 1] - east[j], north[j + 1] - north[j])
    a0 = across[j]
    a1 = across[j + 1]
    frac = a0 / (a0 - a1)
    along_c = along[j] + frac * (along[j + 1] - along[j])
    # the direction of travel over a baseline of a few metres: at 100 Hz one step is
    # centimetres, as short as the GPS noise, and its direction means nothing
    all_steps = np.hypot(np.diff(east), np.diff(north))
    moving = all_steps[all_steps > 0.01]
    typical = float(np.median(moving)) if moving.size else 1.0
    w = min(10, max(0, int(np.ceil(APPROACH_BASELINE_M / typical)) - 1))
    lo = np.clip(j - w, 0, rows.size - 1)
    hi = np.clip(j + 1 + w, 0, rows.size - 1)
    de = east[hi] - east[lo]
    dn = north[hi] - north[lo]
    moved = np.hypot(de, dn)
    with np.errstate(invalid="ignore", divide="ignore"):
        approach = np.abs(de * line.east + dn * line.north) / moved
    keep = (step <= MAX_STEP_M) & (np.abs(along_c) <= line.capture_m) & (approach >= MIN_APPROACH_COS)
    keep &= moved >= MIN_APPROACH_MOVE_M
    t0 = time[rows[j]]
    t1 = time[rows[j + 1]]
    tc = t0 + frac * (t1 - t0)
    if speed is not None:
        logged = np.isfinite(speed)
        if int(logged.sum()) >= 2:
            at = np.interp(tc, time[logged], speed[logged])
            keep &= at >= STATIONARY_KMH
    return [Crossing(float(tc[k]), bool(a1[k] > a0[k]), float(along_c[k])) for k in np.flatnonzero(keep)]


@dataclass(frozen=True)
class LineCrossings:
    """A line's crossings split by direction: the ones that count and the ones the other way."""

    line: TimingLine
    kept: list[Crossing]
    #: passes against the direction of travel, inside the capture radius: ignored
    ignored: list[Crossing]
    #: the direction that counts (True: along the normal); None when nothing tells the two
    #: directions apart (as many crossings each way, as close to the midpoint): both count
    forward: bool | None

    @property
    def times(self) -> list[float]:
        return [c.time for c in self.kept]


def directed_crossings(
    time: FloatArray,
    lat: FloatArray,
    lon: FloatArray,
    fix: npt.NDArray[np.bool_],
    line: TimingLine,
    speed: FloatArray | None = None,
) -> LineCrossings:
    """The crossings of ``line`` in the direction of travel, and the passes the other way.

    A ``one_way`` line counts only crossings along its normal. Any other line counts the
    direction most of its crossings take. Each lap passes a return section beside the
    line once as it crosses the line once, so when the two counts differ by at most one
    the direction whose crossings pass closer to the line's midpoint wins: the line was
    placed on the driven line, the return section runs beside it.
    """
    found = crossings(time, lat, lon, fix, line, speed)
    forward: bool | None
    if line.one_way:
        forward = True
    else:
        ahead = [abs(c.offset_m) for c in found if c.forward]
        behind = [abs(c.offset_m) for c in found if not c.forward]
        if abs(len(ahead) - len(behind)) > 1 or not ahead or not behind:
            forward = None if len(ahead) == len(behind) else len(ahead) > len(behind)
        else:
            near_ahead, near_behind = float(np.median(ahead)), float(np.median(behind))
            forward = None if near_ahead == near_behind else near_ahead < near_behind
    if forward is None:
        return LineCrossings(line, found, [], None)
    kept = [c for c in found if c.forward == forward]
    ignored = [c for c in found if c.forward != forward]
    return LineCrossings(line, kept, ignored, forward)


def _gate_points(gate: Gate) -> tuple[float, float, float, float]:
    """The gate's two points in local metres around its first point: (e1, n1, e2, n2)."""
    e, n = to_local(np.array([gate.lat1, gate.lat2]), np.array([gate.long1, gate.long2]), gate.lat1, gate.long1)
    return float(e[0]), float(n[0]), float(e[1]), float(n[1])


def lines_from_gate(gate: Gate) -> list[TimingLine]:
    """Both readings of a file gate as timing lines, the one real files need first.

    1. perpendicular to the segment through its midpoint (what real VBO files need);
    2. the segment itself, captured over its half-length plus a margin (the textbook gate).
    A gate whose two points coincide gives only a line whose direction is unknown: none.
    """
    e1, n1, e2, n2 = _gate_points(gate)
    length = float(np.hypot(e2 - e1, n2 - n1))
    if not np.isfinite(length) or length < 0.01:
        return []
    ue, un = (e2 - e1) / length, (n2 - n1) / length
    mid_lat = 0.5 * (gate.lat1 + gate.lat2)
    mid_lon = 0.5 * (gate.long1 + gate.long2)
    along_travel = TimingLine(mid_lat, mid_lon, ue, un, 0.5 * length + ALONG_MARGIN_M, gate.name)
    across_track = TimingLine(mid_lat, mid_lon, -un, ue, 0.5 * length + ACROSS_MARGIN_M, gate.name)
    return [along_travel, across_track]


def line_across(lat1: float, lon1: float, lat2: float, lon2: float, name: str = "") -> TimingLine | None:
    """A line drawn across the track from point 1 to point 2 (a user's line); None if the
    two points coincide. Its direction of travel is decided by the crossings."""
    e, n = to_local(np.array([lat1, lat2]), np.array([lon1, lon2]), lat1, lon1)
    de, dn = float(e[1] - e[0]), float(n[1] - n[0])
    length = float(np.hypot(de, dn))
    if not np.isfinite(length) or length < 0.01:
        return None
    return TimingLine(
        0.5 * (lat1 + lat2), 0.5 * (lon1 + lon2), -dn / length, de / length, 0.5 * length + ACROSS_MARGIN_M, name
    )


def gate_crossings(
    time: FloatArray,
    lat: FloatArray,
    lon: FloatArray,
    fix: npt.NDArray[np.bool_],
    gate: Gate,
    speed: FloatArray | None = None,
) -> LineCrossings | None:
    """The crossings of a file gate, under whichever reading the car actually crosses.

    The along-the-travel reading (docs/formats.md#vbo-gates) wins ties; the textbook reading
    is used only when it gives strictly more crossings in the direction of travel. None for a
    gate of zero length.
    """
    best: LineCrossings | None = None
    for line in lines_from_gate(gate):
        found = directed_crossings(time, lat, lon, fix, line, speed)
        if best is None or len(found.kept) > len(best.kept):
            best = found
    return best


def distance_to_point(lat: FloatArray, lon: FloatArray, fix: npt.NDArray[np.bool_], plat: float, plon: float) -> float:
    """The closest any fix comes to a point (m); inf without fixes. For "stale gate" notes."""
    if not fix.any():
        return float("inf")
    east, north = to_local(lat[fix], lon[fix], plat, plon)
    return float(np.min(np.hypot(east, north)))
