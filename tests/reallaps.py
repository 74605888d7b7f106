"""Real logger files through the real pipeline (``import_file``), shaped for the GUI tests."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import cache

import numpy as np
from realfiles import logger_file

from desktop_app.importing import import_file
from storage.types import LapRecord, LapTelemetry

AIM = "aim_csv/aim_format_example.csv"  # 16 laps from beacons, GPS, speed/rpm/g
RACECHRONO = "racechrono_csv/session_20251231_111318_tianma_lap9_v3.csv"  # laps 8-10, GPS, throttle
MOTEC = "motec_csv/blakelyauto.csv"  # every driver channel, no GPS


@dataclass
class RealSession:
    records: list[LapRecord]
    laps: list[LapTelemetry]
    units: dict[str, str]


@cache
def _imported(relative: str) -> RealSession:
    draft = import_file(logger_file(relative)).draft
    return RealSession(draft.laps, draft.telemetry.laps, draft.telemetry.units)


def session(relative: str) -> RealSession:
    """A real file's laps; the records are fresh copies (tests change ``user_valid``)."""
    real = _imported(relative)
    return RealSession([dataclasses.replace(r) for r in real.records], real.laps, real.units)


def aim_session() -> RealSession:
    return session(AIM)


def racechrono_session() -> RealSession:
    return session(RACECHRONO)


def motec_session() -> RealSession:
    return session(MOTEC)


def with_distance_sectors(real: RealSession, count: int = 3) -> RealSession:
    """The same laps with sector times added for the timed laps, measured on their own
    telemetry at equal fractions of the lap distance (none of the real files has sector
    gates, and the table must show as many sector columns as the session has)."""
    records = []
    for record, lap in zip(real.records, real.laps):
        sectors: list[float] = []
        if record.lap_time_s is not None:
            d = np.maximum.accumulate(lap.channels["distance"])
            t = lap.channels["time"]
            marks = [float(np.interp(d[-1] * k / count, d, t)) for k in range(1, count)]
            edges = [0.0, *marks, record.lap_time_s]
            sectors = [b - a for a, b in zip(edges[:-1], edges[1:])]
        records.append(dataclasses.replace(record, sectors_s=sectors))
    return RealSession(records, real.laps, real.units)
