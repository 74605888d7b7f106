"""Qt-free: a :class:`Recording` -> laps (gates, beacons, counters, auto line), measured, judged.

:func:`analyse_laps` is the one call the importer needs: it splits the recording
(:func:`split_laps`), measures every lap (:func:`measure_laps`), proposes validity
(:func:`propose_validity`), adds automatic sectors where the file has no split lines and
sums the ideal lap. The rules are in docs/laps.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from desktop_app.loggers.recording import Recording
from storage.types import LapRecord

from .measure import MeasuredLap, measure_laps
from .sectors import add_auto_sectors, ideal_lap
from .split import NO_LAPS, LapSplit, LineSet, PlacedLine, Segment, split_laps
from .validity import propose_validity

__all__ = [
    "NO_LAPS",
    "LapAnalysis",
    "LapSplit",
    "LineSet",
    "MeasuredLap",
    "PlacedLine",
    "Segment",
    "analyse_laps",
    "ideal_lap",
    "measure_laps",
    "propose_validity",
    "split_laps",
]


@dataclass
class LapAnalysis:
    """A recording's laps: the split (rows per lap, source, notes) and one record per lap."""

    split: LapSplit
    laps: list[LapRecord]
    #: the sum of the best sector times of the valid complete laps (None without sectors)
    ideal_lap_s: float | None = None


def analyse_laps(recording: Recording, lines: LineSet | None = None, track: LineSet | None = None) -> LapAnalysis:
    """Split, measure and judge the laps of a recording.

    ``lines``: an engineer's start/finish and split lines instead of the file's own;
    ``track``: the lines remembered for the track, for a file whose gates are absent or
    never crossed (see :func:`split_laps`). Without any split line the laps get automatic
    sectors (:mod:`.sectors`).
    """
    split = split_laps(recording, lines, track)
    measured = measure_laps(recording, split)
    propose_validity(measured, no_laps_found=split.source == "none")
    records = [m.record for m in measured]
    add_auto_sectors(recording, split, records)
    return LapAnalysis(split, records, ideal_lap(records))
