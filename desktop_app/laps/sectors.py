"""Automatic sectors for laps timed without split lines, and the ideal lap.

When no split line was used, the session gets ``AUTO_SECTORS`` sectors of equal length:
split lines across the track at equal fractions of the fastest valid lap's distance,
placed once for the session so that every lap is timed at the same places. They are
one-way lines (their orientation is the direction the fastest lap drove there), like the
automatic start/finish line. See docs/laps.md#sectors.
"""

from __future__ import annotations

import numpy as np

from desktop_app.loggers.recording import Recording
from storage.types import LapRecord

from .distance import gps_fix_mask
from .gates import TimingLine
from .geodesy import to_local
from .split import LapSplit, PlacedLine, assign_sectors, debounced, line_times

#: sectors per lap when the file has no split lines (the start/finish line and two more)
AUTO_SECTORS = 3
#: capture radius (m) of an automatic split line: the car's line on one track varies by a
#: few metres from lap to lap, another part of the track is further away
AUTO_CAPTURE_M = 15.0
#: the direction of travel at an automatic line is taken over this distance (m) either side
AUTO_BASELINE_M = 5.0


def _fastest_valid(records: list[LapRecord]) -> int | None:
    timed = [
        (rec.lap_time_s, k)
        for k, rec in enumerate(records)
        if rec.kind == "flying" and rec.proposed_valid and rec.complete and rec.lap_time_s is not None
    ]
    return min(timed)[1] if timed else None


def auto_sector_lines(recording: Recording, split: LapSplit, records: list[LapRecord]) -> list[TimingLine]:
    """Split lines at equal distances along the fastest valid lap; [] when there is none."""
    fix = gps_fix_mask(recording)
    if fix is None or split.travel.source != "gps":
        return []
    k = _fastest_valid(records)
    if k is None:
        return []
    seg = split.segments[k]
    rows = np.flatnonzero(fix[seg.first_row : seg.end_row]) + seg.first_row
    if rows.size < 2 * AUTO_SECTORS:
        return []
    lat = recording.standard("lat")
    lon = recording.standard("long")
    assert lat is not None and lon is not None
    time, dist = recording.time, split.travel.distance
    d0, d1 = (float(x) for x in np.interp([seg.start, seg.end], time, dist))
    d_rows = dist[rows]
    lines: list[TimingLine] = []
    for j in range(1, AUTO_SECTORS):
        target = d0 + (d1 - d0) * j / AUTO_SECTORS
        plat = float(np.interp(target, d_rows, lat[rows]))
        plon = float(np.interp(target, d_rows, lon[rows]))
        ahead = np.interp([target - AUTO_BASELINE_M, target + AUTO_BASELINE_M], d_rows, np.arange(rows.size))
        e, n = to_local(
            np.interp(ahead, np.arange(rows.size), lat[rows]),
            np.interp(ahead, np.arange(rows.size), lon[rows]),
            plat,
            plon,
        )
        de, dn = float(e[1] - e[0]), float(n[1] - n[0])
        norm = float(np.hypot(de, dn))
        if not np.isfinite(norm) or norm < 0.5:
            return []  # standing at the mark: no direction to cut across
        lines.append(TimingLine(plat, plon, de / norm, dn / norm, AUTO_CAPTURE_M, f"auto sector {j}", one_way=True))
    return lines


def add_auto_sectors(recording: Recording, split: LapSplit, records: list[LapRecord]) -> None:
    """Give the laps automatic sectors when no split line was used (in place)."""
    if split.source == "none" or split.sector_source != "none":
        return
    lines = auto_sector_lines(recording, split, records)
    fix = gps_fix_mask(recording)
    if not lines or fix is None:
        return
    times = [
        debounced(line_times(recording, fix, line, line.name, split.notes), recording.time, split.travel.distance)
        for line in lines
    ]
    assign_sectors(split.segments, times)
    split.lines = split.lines + [PlacedLine("split", line, "auto") for line in lines]
    split.split_times = times
    split.sector_source = "auto"
    for seg, rec in zip(split.segments, records, strict=True):
        rec.sectors_s = list(seg.sectors)


def ideal_lap(records: list[LapRecord]) -> float | None:
    """The sum of the best sector times of the valid complete laps; None without sectors."""
    count = max((len(r.sectors_s) for r in records), default=0)
    if count == 0:
        return None
    full = [r for r in records if r.complete and r.valid and len(r.sectors_s) == count]
    if not full:
        return None
    return float(sum(min(r.sectors_s[i] for r in full) for i in range(count)))
