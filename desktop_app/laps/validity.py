"""Propose which laps are valid, each proposal with its reason in words.

Only flying laps can be valid. Among them, robust to a handful of laps:

- lap time far below the median (under 85 %): an extra crossing cut a lap short;
- lap time over 107 % of the best (the best among laps not already flagged as too short);
- lap time far above the median by the MAD (median absolute deviation, scaled to a
  standard deviation, floored at 1 % of the median so that identical laps do not make
  every tenth a "far" one);
- a GPS dropout inside the lap;
- a distance far from the median flying-lap distance (under 90 % or over 110 %).

The user's own decision is kept apart (``LapRecord.user_valid``) and never touched here.
"""

from __future__ import annotations

import numpy as np

from desktop_app.analysis.formatting import format_lap_time

from .measure import MeasuredLap

SLOW_FACTOR = 1.07
SHORT_FACTOR = 0.85
MAD_LIMIT = 3.5
MAD_FLOOR = 0.01
DISTANCE_LOW = 0.90
DISTANCE_HIGH = 1.10

_KIND_REASON = {
    "out": "out-lap (before the first timing line)",
    "in": "in-lap (not completed)",
    "partial": "partial lap (the data starts or ends inside it)",
    "pit": "stopped for {standing:.0f} s (pit stop)",
}


def propose_validity(laps: list[MeasuredLap], *, no_laps_found: bool = False) -> None:
    """Set ``proposed_valid`` and ``reason`` on every lap's record, in place."""
    flying = [m for m in laps if m.record.kind == "flying" and m.record.lap_time_s is not None]
    reasons: dict[int, list[str]] = {id(m): _lap_reasons(m, no_laps_found) for m in laps}
    if flying:
        _time_reasons(flying, reasons)
        _distance_reasons(flying, reasons)
    for m in laps:
        why = reasons[id(m)]
        m.record.proposed_valid = not why
        m.record.reason = "; ".join(why)


def _lap_reasons(m: MeasuredLap, no_laps_found: bool) -> list[str]:
    """What is wrong with a lap on its own: not a flying lap, GPS dropouts."""
    why: list[str] = []
    if m.record.kind != "flying":
        if no_laps_found:
            why.append("no laps found")
        elif m.pit_reason:
            why.append(m.pit_reason)
        else:
            why.append(_KIND_REASON[m.record.kind].format(standing=m.standing_s))
    for d in m.dropouts:
        into = max(d.start, m.record.start_offset_s) - m.record.start_offset_s
        why.append(f"GPS dropout of {d.duration:.1f} s at {into:.1f} s into the lap")
    return why


def _time_reasons(flying: list[MeasuredLap], reasons: dict[int, list[str]]) -> None:
    """Flying laps far too short, over 107 % of the best, or far off the median."""
    times = np.array([m.record.lap_time_s for m in flying], np.float64)
    median = float(np.median(times))
    sigma = max(1.4826 * float(np.median(np.abs(times - median))), MAD_FLOOR * median)
    short = times < SHORT_FACTOR * median
    for m, t in zip(np.array(flying, dtype=object)[short], times[short], strict=True):
        reasons[id(m)].append(
            f"lap time {format_lap_time(t)} is only {100 * t / median:.0f} % of the median "
            f"{format_lap_time(median)} (extra line crossing?)"
        )
    best = float(times[~short].min()) if (~short).any() else float(times.min())
    for m, t in zip(flying, times.tolist(), strict=True):
        if t > SLOW_FACTOR * best:
            reasons[id(m)].append(
                f"lap time {format_lap_time(t)} is {100 * t / best:.1f} % of the best "
                f"{format_lap_time(best)} (over 107 %)"
            )
        elif (t - median) / sigma > MAD_LIMIT:
            reasons[id(m)].append(f"lap time {format_lap_time(t)} is far off the median {format_lap_time(median)}")


def _distance_reasons(flying: list[MeasuredLap], reasons: dict[int, list[str]]) -> None:
    """Flying laps whose distance is far from the median flying lap's."""
    dists = [m.record.distance_m for m in flying if m.record.distance_m is not None]
    if not dists:
        return
    dmed = float(np.median(dists))
    for m in flying:
        lap_m = m.record.distance_m
        if lap_m is None or dmed <= 0:
            continue
        if lap_m < DISTANCE_LOW * dmed or lap_m > DISTANCE_HIGH * dmed:
            reasons[id(m)].append(f"distance {lap_m:.0f} m is {100 * lap_m / dmed:.0f} % of the median {dmed:.0f} m")
