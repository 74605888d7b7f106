"""Qt-free: a :class:`Recording` -> laps (gates, beacons, counters, auto line), measured, judged.

:func:`analyse_laps` is the one call the importer needs: it splits the recording
(:func:`split_laps`), measures every lap (:func:`measure_laps`) and proposes validity
(:func:`propose_validity`).
"""

from __future__ import annotations

from dataclasses import dataclass

from desktop_app.loggers.recording import Recording
from storage.types import LapRecord

from .measure import MeasuredLap, measure_laps
from .split import NO_LAPS, LapSplit, Segment, split_laps
from .validity import format_lap_time, propose_validity

__all__ = [
    "NO_LAPS",
    "LapAnalysis",
    "LapSplit",
    "MeasuredLap",
    "Segment",
    "analyse_laps",
    "format_lap_time",
    "measure_laps",
    "propose_validity",
    "split_laps",
]


@dataclass
class LapAnalysis:
    """A recording's laps: the split (rows per lap, source, notes) and one record per lap."""

    split: LapSplit
    laps: list[LapRecord]


def analyse_laps(recording: Recording) -> LapAnalysis:
    """Split, measure and judge the laps of a recording."""
    split = split_laps(recording)
    measured = measure_laps(recording, split)
    propose_validity(measured, no_laps_found=split.source == "none")
    return LapAnalysis(split, [m.record for m in measured])
