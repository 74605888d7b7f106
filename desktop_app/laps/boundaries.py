"""Lap boundaries from each lap source: file gates, beacons, a lap counter, an automatic line.

A :class:`Boundary` is a time at which one lap segment ends and the next begins.
``opens`` says a timed lap starts there, ``closes`` that a timed lap ends there: a single
start/finish line does both at every crossing; with separate Start and Finish gates a
Start crossing only opens and a Finish crossing only closes (the stretch from a Finish to
the next Start is a transfer, not a lap).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from desktop_app.loggers.recording import Gate, Recording
from storage.types import FloatArray

from .gates import LineCrossings, TimingLine, distance_to_point, gate_crossings
from .geodesy import geodesic_distance
from .thresholds import MIN_LAP_M, MIN_LAP_S

#: Start and Finish gates closer than this (m) are one start/finish line
SAME_LINE_M = 10.0


@dataclass(frozen=True)
class Boundary:
    time: float
    opens: bool = True
    closes: bool = True
    #: lap number of the segment that starts here (counters); None: numbered in order
    number: int | None = None
    #: the recording resumes here after a pause (a new fragment): no lap runs across it
    pause: bool = False


def _far_enough(t_prev: float, t: float, time: FloatArray, dist: FloatArray) -> bool:
    """Whether a lap from t_prev to t is long enough to be one (distance, else time)."""
    d = np.interp([t_prev, t], time, dist)
    if np.all(np.isfinite(d)):
        return bool(d[1] - d[0] >= MIN_LAP_M)
    return t - t_prev >= MIN_LAP_S


def single_line(times: Sequence[float], time: FloatArray, dist: FloatArray) -> list[Boundary]:
    """Crossings of one start/finish line as boundaries, debounced (MIN_LAP_M apart)."""
    out: list[Boundary] = []
    for t in sorted(times):
        if out and not _far_enough(out[-1].time, t, time, dist):
            continue
        out.append(Boundary(t))
    return out


def start_finish(
    starts: Sequence[float], finishes: Sequence[float], time: FloatArray, dist: FloatArray
) -> list[Boundary]:
    """Separate Start and Finish lines: a lap runs from a Start to the next Finish far enough on."""
    events = sorted([(t, "s") for t in starts] + [(t, "f") for t in finishes])
    out: list[Boundary] = []
    open_at: float | None = None
    for t, kind in events:
        if kind == "s":
            if out and not _far_enough(out[-1].time, t, time, dist):
                continue  # jitter on the line, or the Start just behind a Finish crossed
            out.append(Boundary(t, opens=True, closes=False))
            open_at = t
        elif open_at is not None and _far_enough(open_at, t, time, dist):
            out.append(Boundary(t, opens=False, closes=True))
            open_at = None
    return out


@dataclass
class GateResult:
    boundaries: list[Boundary]
    #: split crossing times per split gate, in file order
    splits: list[list[float]]
    notes: list[str]
    #: the lines the car really crossed, as (kind, line): what a track can remember
    crossed: list[tuple[str, TimingLine]] = field(default_factory=list)


def _midpoint_gap(a: Gate, b: Gate) -> float:
    mid = geodesic_distance(
        0.5 * (a.lat1 + a.lat2), 0.5 * (a.long1 + a.long2), 0.5 * (b.lat1 + b.lat2), 0.5 * (b.long1 + b.long2)
    )
    return float(mid)


def ignored_note(label: str, found: LineCrossings) -> str | None:
    """The warning for passes the other way, or None when there were none."""
    if not found.ignored:
        return None
    at = ", ".join(f"{c.time:.1f}" for c in found.ignored[:5])
    more = ", ..." if len(found.ignored) > 5 else ""
    return (
        f"{label}: {len(found.ignored)} pass(es) the other way ignored (at {at}{more} s; "
        f"{len(found.kept)} crossing(s) in the direction of travel)"
    )


def tie_note(label: str, found: LineCrossings) -> str | None:
    if found.forward is None and len(found.kept) >= 2:
        return f"{label} is crossed as often each way, as close to its midpoint: both directions count"
    return None


def from_gates(recording: Recording, fix: npt.NDArray[np.bool_], dist: FloatArray) -> GateResult:
    """Boundaries from the file's gates; none (with a note per gate) if no gate is crossed."""
    lat = recording.standard("lat")
    lon = recording.standard("long")
    notes: list[str] = []
    if lat is None or lon is None or not recording.gates:
        return GateResult([], [], notes)
    t = recording.time
    starts = [g for g in recording.gates if g.kind == "start"]
    finishes = [g for g in recording.gates if g.kind == "finish"]
    split_gates = [g for g in recording.gates if g.kind == "split"]
    if not starts:
        starts, finishes = finishes, []
    if finishes and all(_midpoint_gap(s, f) < SAME_LINE_M for s in starts for f in finishes):
        finishes = []
    crossed_lines: list[tuple[str, TimingLine]] = []

    def crossed(g: Gate, kind: str) -> list[float]:
        label = f"{g.kind} gate {g.name.strip()!r}" if g.name.strip() else f"{g.kind} gate"
        found = gate_crossings(t, lat, lon, fix, g, recording.standard("speed"))
        if found is None or not found.kept:
            miss = distance_to_point(lat, lon, fix, 0.5 * (g.lat1 + g.lat2), 0.5 * (g.long1 + g.long2))
            notes.append(f"{label} is never crossed (the car comes no closer than {miss:.0f} m): ignored")
            return []
        for note in (ignored_note(label, found), tie_note(label, found)):
            if note is not None:
                notes.append(note)
        crossed_lines.append((kind, found.line))
        return found.times

    start_times = sorted(x for g in starts for x in crossed(g, "start"))
    finish_times = sorted(x for g in finishes for x in crossed(g, "finish"))
    if finishes:
        bounds = start_finish(start_times, finish_times, t, dist)
    else:
        bounds = single_line(start_times, t, dist)
    splits = [sorted(crossed(g, "split")) for g in split_gates] if bounds else []
    return GateResult(bounds, splits, notes, crossed_lines if bounds else [])


def from_beacons(recording: Recording) -> list[Boundary]:
    """Beacon times (cumulative lap ends) strictly inside the recording as boundaries.

    A marker at or after the last sample is the end of the data, not a lap boundary (AiM
    writes the session's duration as its last marker).
    """
    if not recording.beacons or recording.sample_count == 0:
        return []
    t0, t1 = float(recording.time[0]), float(recording.time[-1])
    times = sorted({float(b) for b in recording.beacons if np.isfinite(b) and t0 < b < t1})
    return [Boundary(b) for b in times]


def from_counter(recording: Recording) -> list[Boundary]:
    """Boundaries where a logged lap number goes up; resets and glitches are ignored.

    The first segment carries the counter's first value when the file starts inside a
    numbered lap (a one-lap export); rows before the first numbered row are lap 0. A
    counter that drops (to 0 while standing, HD2) and comes back to where it was does not
    start a lap: only a value above every earlier one does.
    """
    name = recording.lap_counter
    if name is None or name not in recording.channels:
        return []
    values = recording.channels[name].values
    t = recording.time
    ok = np.flatnonzero(np.isfinite(values))
    if ok.size == 0:
        return []
    vals = values[ok]
    out: list[Boundary] = []
    if ok[0] > 0:
        out.append(Boundary(float(t[ok[0]]), number=int(round(float(vals[0])))))
    highest = float(vals[0])
    for k in np.flatnonzero(np.diff(vals) > 0) + 1:
        v = float(vals[k])
        # a one-row spike is a glitch: the new value must hold on the next row too
        held = k + 1 >= vals.size or float(vals[k + 1]) >= v
        if v > highest and held:
            highest = v
            out.append(Boundary(float(t[ok[k]]), number=int(round(v))))
    return out


def counter_first_number(recording: Recording) -> int | None:
    """The lap counter's value on the first row, when the file starts inside a numbered lap."""
    name = recording.lap_counter
    if name is None or name not in recording.channels:
        return None
    v = recording.channels[name].values
    if v.size and np.isfinite(v[0]) and v[0] > 0:
        return int(round(float(v[0])))
    return None
