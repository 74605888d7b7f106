"""Timing lines to and from the catalogue's :class:`storage.types.TrackLine`.

A :class:`~.gates.TimingLine` is a midpoint, a unit normal and a capture radius; the
catalogue keeps two points across the track (what the map draws and an engineer places)
plus the capture radius, so a line comes back exactly as it was timed.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Literal, cast

from storage.types import TrackLine

from .gates import ACROSS_MARGIN_M, TimingLine, line_across
from .geodesy import from_local
from .split import LineSet, PlacedLine

#: a line drawn on the map is at least this wide either side of its midpoint (m)
MIN_HALF_WIDTH_M = 5.0


def track_line(placed: PlacedLine) -> TrackLine:
    """The catalogue's form of a line the laps were timed at."""
    line = placed.line
    half = max(MIN_HALF_WIDTH_M, line.capture_m - ACROSS_MARGIN_M)
    # along the line, point 1 -> point 2, is the normal turned right: (north, -east)
    e1, n1 = -half * line.north, half * line.east
    lat1, lon1 = from_local(e1, n1, line.lat, line.lon)
    lat2, lon2 = from_local(-e1, -n1, line.lat, line.lon)
    kind = cast(Literal["start", "finish", "split"], placed.kind)
    return TrackLine(kind, lat1, lon1, lat2, lon2, line.capture_m, placed.origin, line.one_way, line.name)


def timing_line(stored: TrackLine) -> TimingLine | None:
    """The timing line a stored line describes; None for one of zero length."""
    line = line_across(stored.lat1, stored.lon1, stored.lat2, stored.lon2, stored.name)
    if line is None:
        return None
    return replace(line, capture_m=stored.capture_m, one_way=stored.one_way)


def line_set(stored: list[TrackLine], origin: str) -> LineSet | None:
    """A :class:`LineSet` from stored lines (the start line and the splits in order)."""
    start = next((timing_line(s) for s in stored if s.kind == "start"), None)
    if start is None:
        return None
    splits = tuple(x for x in (timing_line(s) for s in stored if s.kind == "split") if x is not None)
    return LineSet(start, splits, origin)
