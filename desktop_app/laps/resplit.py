"""An engineer's lines: parsed, checked against the driven line, ready for :func:`split_laps`.

A line is given as two points across the track, ``LAT,LON,LAT,LON`` in degrees (north and
east positive). It is refused, with a message saying which line and why, when it is not
four numbers, when its two points coincide, or when the car never crosses it (the driven
line passes nowhere near it). Nothing is split until every line passes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from desktop_app.loggers.recording import Recording
from storage.errors import LaptraceError

from .distance import gps_fix_mask
from .gates import TimingLine, directed_crossings, distance_to_point, line_across
from .split import LineSet

LinePoints = tuple[float, float, float, float]


class LineError(LaptraceError, ValueError):
    """A start or split line that cannot be used; the message names the line. Bad input:
    the ``resplit`` command exits with ``BAD_INPUT``."""


def _shown(text: str, limit: int = 60) -> str:
    """The value as a message quotes it: a huge one cut short."""
    return repr(text if len(text) <= limit else text[:limit] + "...")


def parse_line(text: str, label: str) -> LinePoints:
    """``LAT,LON,LAT,LON`` -> four degrees; :class:`LineError` naming ``label`` otherwise."""
    parts = [p.strip() for p in text.split(",")]
    quoted = _shown(text)
    if len(parts) != 4:
        raise LineError(f"{label} {quoted}: expected four numbers LAT,LON,LAT,LON, got {len(parts)} field(s)")
    values: list[float] = []
    for k, p in enumerate(parts, start=1):
        try:
            v = float(p)
        except ValueError:
            raise LineError(f"{label} {quoted}: field {k} ({_shown(p, 20)}) is not a number") from None
        if not math.isfinite(v):
            raise LineError(f"{label} {quoted}: field {k} ({_shown(p, 20)}) is not a finite number")
        values.append(v)
    lat1, lon1, lat2, lon2 = values
    for k, lat in ((1, lat1), (3, lat2)):
        if abs(lat) > 90.0:
            raise LineError(f"{label} {quoted}: field {k} is a latitude, {lat} is outside -90..90")
    for k, lon in ((2, lon1), (4, lon2)):
        if abs(lon) > 180.0:
            raise LineError(f"{label} {quoted}: field {k} is a longitude, {lon} is outside -180..180")
    return lat1, lon1, lat2, lon2


def _timing_line(points: LinePoints, label: str) -> TimingLine:
    line = line_across(*points, name=label)
    if line is None:
        raise LineError(f"{label}: its two points are the same place (a line of zero length)")
    return line


def user_lines(start: LinePoints, splits: Sequence[LinePoints] = ()) -> LineSet:
    """The engineer's start line and split lines; :class:`LineError` for a zero-length one."""
    first = _timing_line(start, "start line")
    rest = tuple(_timing_line(p, f"split line {k}") for k, p in enumerate(splits, start=1))
    return LineSet(first, rest, "user")


def check_crossed(recording: Recording, lines: LineSet) -> None:
    """:class:`LineError` unless the car crosses the start line and every split line."""
    lat, lon = recording.standard("lat"), recording.standard("long")
    fix = gps_fix_mask(recording)
    if lat is None or lon is None or fix is None or not fix.any():
        raise LineError("the recording has no GPS position: lines cannot be crossed")
    named = [("start line", lines.start)] + [(f"split line {k}", s) for k, s in enumerate(lines.splits, start=1)]
    for label, line in named:
        if directed_crossings(recording.time, lat, lon, fix, line, recording.standard("speed")).kept:
            continue
        miss = distance_to_point(lat, lon, fix, line.lat, line.lon)
        where = f"{line.lat:.6f},{line.lon:.6f}"
        if np.isfinite(miss) and miss <= line.capture_m:
            raise LineError(f"{label} at {where} is never crossed: the car passes it without crossing it")
        raise LineError(
            f"{label} at {where} is nowhere near the driven line (the car comes no closer than {miss:.0f} m)"
        )
