"""A recording cut into lap segments: every row in exactly one lap, the lap source recorded.

Sources, best first: the file's gates, its beacons, a logged lap counter, an automatic
start/finish line (GPS files only), else the whole recording is lap 0 and the user is told
"no laps found". A source that yields no boundary (a stale gate far from the driven line,
an empty beacon field, a counter that never moves) hands over to the next one, with a note
saying why.

Rows ``[first_row, end_row)`` of each :class:`Segment` are the samples with
``start <= time < next start``: the samples before the first boundary are lap 0 (the
out-lap), the ones after the last boundary the final, incomplete lap.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from desktop_app.loggers.recording import Recording
from storage.types import LapSource

from .auto import find_auto_line
from .boundaries import (
    Boundary,
    counter_first_number,
    from_beacons,
    from_counter,
    from_gates,
    single_line,
)
from .distance import Travel, fragment_starts, gps_fix_mask, travel
from .gates import crossings

NO_LAPS = "no laps found: the whole recording is lap 0"


@dataclass
class Segment:
    """One lap: rows ``[first_row, end_row)``, from ``start`` to ``end`` (s, session time)."""

    number: int
    first_row: int
    end_row: int
    start: float
    end: float
    #: starts at a boundary that opens a timed lap / ends at one that closes it
    opened: bool
    closed: bool
    sectors: list[float] = field(default_factory=list)
    #: the segment starts where the recording resumed after a pause / ends where it paused
    after_pause: bool = False
    before_pause: bool = False

    @property
    def timed(self) -> bool:
        """A complete lap: it runs from one timing boundary to the next."""
        return self.opened and self.closed

    @property
    def rows(self) -> int:
        return self.end_row - self.first_row


@dataclass
class LapSplit:
    """The laps of one recording and how they were found."""

    source: LapSource
    segments: list[Segment]
    #: the lap number of every row of the recording
    lap_index: npt.NDArray[np.int32]
    travel: Travel
    notes: list[str]
    #: the file starts inside a numbered lap (a one-lap export), so lap 0 is not an out-lap
    starts_mid_lap: bool = False


def _merge_same_row(bounds: list[Boundary], rows: npt.NDArray[np.intp], n: int) -> list[tuple[Boundary, int]]:
    """Boundaries that start a non-empty lap; two between the same samples become one."""
    kept: list[tuple[Boundary, int]] = []
    for b, r in zip(bounds, rows.tolist(), strict=True):
        if r <= 0 or r >= n:
            continue
        if kept and r <= kept[-1][1]:
            prev, prow = kept[-1]
            pause = prev.pause or b.pause
            merged = Boundary(prev.time, b.opens and not pause, prev.closes or b.closes, prev.number, pause)
            kept[-1] = (merged, prow)
            continue
        kept.append((b, r))
    return kept


def segments_from(
    time: npt.NDArray[np.float64], bounds: list[Boundary], first_number: int | None = None
) -> list[Segment]:
    """Cut rows at the boundaries; numbers from the boundaries if consistent, else 0, 1, 2..."""
    n = int(time.shape[0])
    bounds = sorted(bounds, key=lambda b: b.time)
    rows = np.searchsorted(time, np.array([b.time for b in bounds], np.float64), side="left")
    kept = _merge_same_row(bounds, rows, n)
    numbers = [first_number or 0] + [b.number if b.number is not None else -1 for b, _ in kept]
    if any(b.number is None for b, _ in kept) or any(a >= b for a, b in zip(numbers, numbers[1:], strict=False)):
        numbers = list(range(len(kept) + 1))
    segs: list[Segment] = []
    starts = [0] + [r for _, r in kept]
    ends = [r for _, r in kept] + [n]
    for k, (first, end) in enumerate(zip(starts, ends, strict=True)):
        segs.append(
            Segment(
                number=numbers[k],
                first_row=first,
                end_row=end,
                start=float(time[0]) if k == 0 else kept[k - 1][0].time,
                end=kept[k][0].time if k < len(kept) else float(time[-1]),
                opened=k > 0 and kept[k - 1][0].opens,
                closed=k < len(kept) and kept[k][0].closes,
                after_pause=k > 0 and kept[k - 1][0].pause,
                before_pause=k < len(kept) and kept[k][0].pause,
            )
        )
    return segs


def _sectors(segs: list[Segment], splits: list[list[float]]) -> None:
    """Sector times of timed laps that cross every split gate, in file order."""
    if not splits:
        return
    for seg in segs:
        if not seg.timed:
            continue
        marks = [seg.start]
        for times in splits:
            later = [t for t in times if marks[-1] < t < seg.end]
            if not later:
                break
            marks.append(later[0])
        if len(marks) == len(splits) + 1:
            marks.append(seg.end)
            seg.sectors = [b - a for a, b in zip(marks, marks[1:], strict=False)]


def split_laps(recording: Recording) -> LapSplit:
    """Find the laps of a recording with the best lap source it offers."""
    time = recording.time
    n = recording.sample_count
    trav = travel(recording)
    dist = trav.distance
    notes: list[str] = []
    fix = gps_fix_mask(recording)
    source: LapSource = "none"
    bounds: list[Boundary] = []
    splits: list[list[float]] = []
    first_number: int | None = None

    if n >= 2 and recording.gates:
        if fix is None or not fix.any():
            notes.append("the file has gates but no GPS position: gates ignored")
        else:
            res = from_gates(recording, fix, dist)
            notes.extend(res.notes)
            if res.boundaries:
                source, bounds, splits = "gate", res.boundaries, res.splits
    if source == "gate" and recording.lap_counter is not None:
        # the logged counter as a cross-check (docs/formats.md#vbo-lap-counter: HD2's never moves at the line)
        counted = len(from_counter(recording))
        crossed = sum(1 for b in bounds if b.opens)
        if counted != crossed:
            notes.append(
                f"the lap counter {recording.lap_counter!r} counts {counted} new lap(s) where the "
                f"gates give {crossed}: laps from the gates"
            )
    if source == "none" and recording.beacons is not None and n >= 2:
        bounds = from_beacons(recording)
        if bounds:
            source = "beacon"
        else:
            notes.append("the beacon field holds no lap inside the recording")
    if source == "none" and recording.lap_counter is not None and n >= 2:
        bounds = from_counter(recording)
        if bounds:
            source = "counter"
            first_number = counter_first_number(recording)
        else:
            notes.append(f"the lap counter {recording.lap_counter!r} never counts a new lap")
    if source == "none" and fix is not None and trav.source == "gps":
        found = find_auto_line(time, *_latlon(recording), fix, dist)
        if found is not None:
            line, _ = found
            lat, lon = _latlon(recording)
            bounds = single_line([c.time for c in crossings(time, lat, lon, fix, line)], time, dist)
            if bounds:
                source = "auto"
                notes.append(f"laps from an automatic start/finish line at {line.lat:.6f}, {line.lon:.6f}")

    pauses = fragment_starts(recording) if source != "none" else []
    if pauses:
        # a lap never runs across a pause: the laps either side end and start there, untimed
        bounds = bounds + [Boundary(float(time[r]), False, False, None, True) for r in pauses]
        notes.append(f"recording paused {len(pauses)} time(s): no lap is timed across a pause")
    segs = segments_from(time, bounds, first_number) if n else []
    if source != "none" and len(segs) <= 1:
        source = "none"  # every boundary fell outside the data
    if source == "none":
        segs = segments_from(time, []) if n else []
        notes.append(NO_LAPS)
    _sectors(segs, splits)
    lap_index = (
        np.repeat(np.array([s.number for s in segs], np.int32), np.array([s.rows for s in segs], np.int64))
        if segs
        else np.zeros(0, np.int32)
    )
    starts_mid = source == "counter" and first_number is not None and first_number > 1
    return LapSplit(source, segs, lap_index.astype(np.int32), trav, notes, starts_mid)


def _latlon(recording: Recording) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    lat = recording.standard("lat")
    lon = recording.standard("long")
    assert lat is not None and lon is not None
    return lat, lon
