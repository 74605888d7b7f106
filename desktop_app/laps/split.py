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

from dataclasses import dataclass, field, replace

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
    ignored_note,
    single_line,
    tie_note,
)
from .distance import Travel, fragment_starts, gps_fix_mask, travel
from .gates import TimingLine, directed_crossings

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


@dataclass(frozen=True)
class PlacedLine:
    """A line the laps or sectors were timed at, and where it came from.

    ``kind``: ``start``, ``finish`` or ``split``; ``origin``: ``file`` (the file's gate),
    ``user`` (an engineer's line), ``track`` (remembered for the track) or ``auto``.
    """

    kind: str
    line: TimingLine
    origin: str


@dataclass(frozen=True)
class LineSet:
    """A start/finish line and split lines to time laps at, instead of a file's own."""

    start: TimingLine
    splits: tuple[TimingLine, ...] = ()
    #: ``user`` (set by an engineer) or ``track`` (remembered for the track)
    origin: str = "user"


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
    #: the start/finish and split lines the laps and sectors were timed at
    lines: list[PlacedLine] = field(default_factory=list)
    #: crossing times of each split line (in the direction of travel, debounced)
    split_times: list[list[float]] = field(default_factory=list)
    #: where the sector lines came from: ``file``, ``user``, ``track``, ``auto`` or ``none``
    sector_source: str = "none"


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


#: a split line crossed again within this distance (m) of its last crossing is jitter on
#: the line, one crossing
SPLIT_DEBOUNCE_M = 100.0


def assign_sectors(segs: list[Segment], splits: list[list[float]]) -> None:
    """Sector times of every timed lap that crosses each split line exactly once.

    The crossings are taken in time order, so the sectors follow the driving order whatever
    order the file lists its split lines in; they add up to the lap time. A lap that misses
    a split line (a GPS dropout) or crosses one twice gets no sectors.
    """
    for seg in segs:
        seg.sectors = []
    if not splits:
        return
    for seg in segs:
        if not seg.timed:
            continue
        marks: list[float] = []
        for times in splits:
            inside = [t for t in times if seg.start < t < seg.end]
            if len(inside) != 1:
                break
            marks.append(inside[0])
        else:
            edges = [seg.start, *sorted(marks), seg.end]
            seg.sectors = [b - a for a, b in zip(edges, edges[1:], strict=False)]


def line_times(
    recording: Recording,
    fix: npt.NDArray[np.bool_],
    line: TimingLine,
    label: str,
    notes: list[str],
) -> list[float]:
    """The times ``line`` is crossed in the direction of travel, with notes for the rest."""
    lat, lon = _latlon(recording)
    found = directed_crossings(recording.time, lat, lon, fix, line, recording.standard("speed"))
    for note in (ignored_note(label, found), tie_note(label, found)):
        if note is not None:
            notes.append(note)
    return found.times


def debounced(times: list[float], time: npt.NDArray[np.float64], dist: npt.NDArray[np.float64]) -> list[float]:
    return [b.time for b in single_line(times, time, dist)]


def _from_lines(
    recording: Recording, fix: npt.NDArray[np.bool_], dist: npt.NDArray[np.float64], lines: LineSet
) -> tuple[list[Boundary], list[list[float]], list[PlacedLine], list[str]]:
    """Boundaries and split times from a :class:`LineSet`; no boundary if the start line is
    never crossed."""
    notes: list[str] = []
    who = "the track's" if lines.origin == "track" else "the"
    times = line_times(recording, fix, lines.start, f"{who} start line", notes)
    bounds = single_line(times, recording.time, dist)
    if not bounds:
        return [], [], [], notes
    placed = [PlacedLine("start", lines.start, lines.origin)]
    splits: list[list[float]] = []
    for k, line in enumerate(lines.splits, start=1):
        found = line_times(recording, fix, line, f"{who} split line {k}", notes)
        splits.append(debounced(found, recording.time, dist))
        placed.append(PlacedLine("split", line, lines.origin))
    return bounds, splits, placed, notes


@dataclass
class _Search:
    """The laps found so far while :func:`split_laps` tries one lap source after another."""

    recording: Recording
    trav: Travel
    fix: npt.NDArray[np.bool_] | None
    notes: list[str] = field(default_factory=list)
    source: LapSource = "none"
    bounds: list[Boundary] = field(default_factory=list)
    splits: list[list[float]] = field(default_factory=list)
    placed: list[PlacedLine] = field(default_factory=list)
    first_number: int | None = None

    @property
    def time(self) -> npt.NDArray[np.float64]:
        return self.recording.time

    @property
    def dist(self) -> npt.NDArray[np.float64]:
        return self.trav.distance

    @property
    def has_fix(self) -> bool:
        return self.fix is not None and bool(self.fix.any())

    @property
    def enough(self) -> bool:
        """Two samples at least: fewer hold no crossing."""
        return self.recording.sample_count >= 2


def split_laps(recording: Recording, lines: LineSet | None = None, track: LineSet | None = None) -> LapSplit:
    """Find the laps of a recording with the best lap source it offers.

    ``lines``: an engineer's lines, used instead of anything the file offers (source
    ``user``). ``track``: the lines remembered for the track the file was recorded on,
    used when the file's own gates are absent or never crossed (source ``track``).
    """
    s = _Search(recording, travel(recording), gps_fix_mask(recording))
    if lines is not None:
        if s.enough:
            _from_given_lines(s, lines)
    else:
        if s.enough and recording.gates:
            _from_file_gates(s, track)
        for attempt in (_from_track_lines, _from_beacons, _from_lap_counter, _from_auto_line):
            if s.source != "none":
                break
            attempt(s, track)
    return _finish(s)


def _from_given_lines(s: _Search, lines: LineSet) -> None:
    if s.fix is None or not s.has_fix:
        s.notes.append("the recording has no GPS position: the lines cannot be crossed")
        return
    s.bounds, s.splits, s.placed, more = _from_lines(s.recording, s.fix, s.dist, lines)
    s.notes.extend(more)
    if s.bounds:
        s.source = "user" if lines.origin == "user" else "track"
    else:
        s.notes.append("the start line is never crossed")


def _from_file_gates(s: _Search, track: LineSet | None) -> None:
    recording = s.recording
    if s.fix is None or not s.has_fix:
        s.notes.append("the file has gates but no GPS position: gates ignored")
        return
    res = from_gates(recording, s.fix, s.dist)
    s.notes.extend(res.notes)
    if not res.boundaries:
        return
    s.source, s.bounds = "gate", res.boundaries
    s.splits = [debounced(x, s.time, s.dist) for x in res.splits]
    s.placed = [PlacedLine(kind, line, "file") for kind, line in res.crossed]
    if recording.lap_counter is not None:
        # the logged counter as a cross-check (docs/formats.md#vbo-lap-counter: HD2's never moves at the line)
        counted = len(from_counter(recording))
        crossed = sum(1 for b in s.bounds if b.opens)
        if counted != crossed:
            s.notes.append(
                f"the lap counter {recording.lap_counter!r} counts {counted} new lap(s) where the "
                f"gates give {crossed}: laps from the gates"
            )
    if not s.splits and track is not None and track.splits:
        # the file's start line, the track's remembered split lines
        for k, line in enumerate(track.splits, start=1):
            found = line_times(recording, s.fix, line, f"the track's split line {k}", s.notes)
            s.splits.append(debounced(found, s.time, s.dist))
            s.placed.append(PlacedLine("split", line, "track"))


def _from_track_lines(s: _Search, track: LineSet | None) -> None:
    if track is None or s.fix is None or not s.has_fix or not s.enough:
        return
    s.bounds, s.splits, s.placed, more = _from_lines(s.recording, s.fix, s.dist, track)
    if s.bounds:
        s.source = "track"
        s.notes.extend(more)
        s.notes.append("laps from the lines remembered for this track")


def _from_beacons(s: _Search, _track: LineSet | None) -> None:
    if s.recording.beacons is None or not s.enough:
        return
    s.bounds = from_beacons(s.recording)
    if s.bounds:
        s.source = "beacon"
    else:
        s.notes.append("the beacon field holds no lap inside the recording")


def _from_lap_counter(s: _Search, _track: LineSet | None) -> None:
    recording = s.recording
    if recording.lap_counter is None or not s.enough:
        return
    s.bounds = from_counter(recording)
    if not s.bounds:
        s.notes.append(f"the lap counter {recording.lap_counter!r} never counts a new lap")
        return
    s.source = "counter"
    s.first_number = counter_first_number(recording)
    if s.first_number == 1:
        # the counter numbers the out-lap 1: the laps are numbered from 0 here
        s.first_number = None
        s.bounds = [replace(b, number=None if b.number is None else b.number - 1) for b in s.bounds]
        s.notes.append(f"the lap counter {recording.lap_counter!r} starts at 1: its first lap is lap 0")


def _from_auto_line(s: _Search, _track: LineSet | None) -> None:
    if s.fix is None or s.trav.source != "gps":
        return
    lat, lon = _latlon(s.recording)
    auto = find_auto_line(s.time, lat, lon, s.fix, s.dist)
    if auto is None:
        return
    line, _ = auto
    crossed_auto = directed_crossings(s.time, lat, lon, s.fix, line, s.recording.standard("speed"))
    s.bounds = single_line(crossed_auto.times, s.time, s.dist)
    if s.bounds:
        s.source = "auto"
        s.placed = [PlacedLine("start", line, "auto")]
        s.notes.append(f"laps from an automatic start/finish line at {line.lat:.6f}, {line.lon:.6f}")


def _finish(s: _Search) -> LapSplit:
    """The laps between the boundaries found (one untimed lap if none), with their sectors."""
    time, n, notes = s.time, s.recording.sample_count, s.notes
    source, bounds, splits, placed = s.source, s.bounds, s.splits, s.placed
    pauses = fragment_starts(s.recording) if source != "none" else []
    if pauses:
        # a lap never runs across a pause: the laps either side end and start there, untimed
        bounds = bounds + [Boundary(float(time[r]), False, False, None, True) for r in pauses]
        notes.append(f"recording paused {len(pauses)} time(s): no lap is timed across a pause")
    segs = segments_from(time, bounds, s.first_number) if n else []
    if source != "none" and len(segs) <= 1:
        source = "none"  # every boundary fell outside the data
    if source == "none":
        segs = segments_from(time, []) if n else []
        notes.append(NO_LAPS)
        splits, placed = [], []
    assign_sectors(segs, splits)
    lap_index = (
        np.repeat(np.array([g.number for g in segs], np.int32), np.array([g.rows for g in segs], np.int64))
        if segs
        else np.zeros(0, np.int32)
    )
    starts_mid = source == "counter" and s.first_number is not None and s.first_number > 1
    sector_source = "none"
    if splits:
        sector_source = next((p.origin for p in placed if p.kind == "split"), "none")
    return LapSplit(source, segs, lap_index.astype(np.int32), s.trav, notes, starts_mid, placed, splits, sector_source)


def _latlon(recording: Recording) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    lat = recording.standard("lat")
    lon = recording.standard("long")
    assert lat is not None and lon is not None
    return lat, lon
