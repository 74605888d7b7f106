"""Laps built by hand from real logger files, for the GUI tests until import_file lands.

Small, honest readers for three real samples (column names and units as the files give
them, converted to the canonical units of storage.types): the AiM MyChron CSV (16 laps
from its beacon markers, GPS), the RaceChrono v3 Tianma export (laps 8-10 from its
lap_number column, GPS) and the MoTeC GT7 export (all driver channels, no GPS). Samples
are never invented: time and distance restart at 0 per lap, nothing is resampled.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from realfiles import logger_file
from storage.types import FloatArray, LapKind, LapRecord, LapTelemetry

AIM = "aim_csv/aim_format_example.csv"
RACECHRONO = "racechrono_csv/session_20251231_111318_tianma_lap9_v3.csv"
MOTEC = "motec_csv/blakelyauto.csv"


@dataclass
class RealSession:
    records: list[LapRecord]
    laps: list[LapTelemetry]
    units: dict[str, str]


def _rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh))


def _column(rows: list[list[str]], index: int) -> FloatArray:
    out = np.full(len(rows), np.nan)
    for i, row in enumerate(rows):
        cell = row[index].strip() if index < len(row) else ""
        if cell:
            out[i] = float(cell)
    return out


def _integrate(time: FloatArray, speed_kmh: FloatArray) -> FloatArray:
    """Distance travelled (m) from speed: the AiM and MoTeC cases with no usable distance."""
    v = np.nan_to_num(speed_kmh) / 3.6
    steps = np.diff(time, prepend=time[0]) * np.concatenate(([0.0], (v[1:] + v[:-1]) / 2))
    return np.cumsum(steps)


def _split(time: FloatArray, bounds: list[float]) -> list[tuple[int, slice]]:
    """(lap number, index range) between boundaries (the times where laps end)."""
    edges = [0, *[int(np.searchsorted(time, b)) for b in bounds], time.size]
    return [(i, slice(a, b)) for i, (a, b) in enumerate(zip(edges[:-1], edges[1:])) if b > a]


def _lap(number: int, time: FloatArray, distance: FloatArray, channels: dict[str, FloatArray], part: slice) -> LapTelemetry:
    t = time[part]
    d = distance[part]
    chans = {"time": t - t[0], "distance": d - d[0]}
    chans.update({k: v[part].copy() for k, v in channels.items()})
    return LapTelemetry(lap_number=number, start_offset=float(t[0]), channels=chans)


def _sectors(lap: LapTelemetry, lap_time: float, count: int = 3) -> list[float]:
    """Sector times at equal thirds of the lap's distance (interpolated crossing times)."""
    d = np.maximum.accumulate(lap.channels["distance"])
    t = lap.channels["time"]
    marks = [d[-1] * k / count for k in range(1, count)]
    crossings = [0.0, *[float(np.interp(m, d, t)) for m in marks], lap_time]
    return [b - a for a, b in zip(crossings[:-1], crossings[1:])]


def _records(laps: list[LapTelemetry], kinds: list[LapKind], lap_times: list[float | None]) -> list[LapRecord]:
    timed = [t for t, k in zip(lap_times, kinds) if t is not None and k == "flying"]
    best = min(timed) if timed else None
    records = []
    for lap, kind, lap_time in zip(laps, kinds, lap_times):
        speed = lap.channels.get("speed")
        valid = kind == "flying" and lap_time is not None and best is not None and lap_time <= best * 1.07
        reason = (
            f"{kind} lap"
            if kind != "flying"
            else ("within 107% of the best lap" if valid else "slower than 107% of the best lap")
        )
        records.append(
            LapRecord(
                lap_number=lap.lap_number,
                kind=kind,
                start_offset_s=lap.start_offset,
                lap_time_s=lap_time,
                distance_m=float(np.nanmax(lap.channels["distance"])),
                samples=len(lap),
                max_speed_kmh=None if speed is None else float(np.nanmax(speed)),
                min_speed_kmh=None if speed is None else float(np.nanmin(speed)),
                sectors_s=_sectors(lap, lap_time) if lap_time is not None and kind == "flying" else [],
                proposed_valid=valid,
                reason=reason,
                complete=kind in ("flying", "out", "in"),
            )
        )
    return records


def aim_session() -> RealSession:
    """The AiM MyChron file: lap 0 out-lap, laps 1-14 timed, lap 15 partial (to file end)."""
    rows = _rows(logger_file(AIM))
    beacons = [float(c) for c in rows[11][1:] if c.strip()]
    header = rows[14]
    data = [r for r in rows[17:] if r and r[0].strip()]
    col = {name: i for i, name in enumerate(header)}
    time = _column(data, col["Time"])
    channels = {
        "lat": _column(data, col["GPS Latitude"]),
        "long": _column(data, col["GPS Longitude"]),
        "speed": _column(data, col["GPS Speed"]),
        "rpm": _column(data, col["RPM"]),
        "glat": _column(data, col["GPS LatAcc"]),
        "glong": _column(data, col["GPS LonAcc"]),
        "Water Temp": _column(data, col["Water Temp"]),
    }
    distance = _integrate(time, channels["speed"])
    ends = beacons[:-1]  # the last marker is the end of the file
    laps = [_lap(n, time, distance, channels, part) for n, part in _split(time, ends)]
    kinds: list[LapKind] = ["out", *(["flying"] * (len(laps) - 2)), "partial"]
    starts = [0.0, *ends]
    lap_times: list[float | None] = [None]
    lap_times += [round(b - a, 3) for a, b in zip(starts[1:-1], starts[2:])]
    lap_times.append(None)
    units = {"time": "s", "distance": "m", "lat": "deg", "long": "deg", "speed": "km/h",
             "rpm": "rpm", "glat": "g", "glong": "g", "Water Temp": "°C"}
    return RealSession(_records(laps, kinds, lap_times), laps, units)


def racechrono_session() -> RealSession:
    """The Tianma export: end of lap 8, all of lap 9, start of lap 10."""
    rows = _rows(logger_file(RACECHRONO))
    header = rows[9]
    data = [r for r in rows[12:] if r and r[0].strip()]
    first = {name: header.index(name) for name in dict.fromkeys(header)}
    time = _column(data, first["elapsed_time"])
    lap_no = _column(data, first["lap_number"]).astype(int)
    channels = {
        "lat": _column(data, first["latitude"]),
        "long": _column(data, first["longitude"]),
        "speed": _column(data, first["speed"]) * 3.6,  # m/s in the file
        "rpm": _column(data, first["rpm"]),
        "throttle": _column(data, first["throttle_pos"]),
        "glat": _column(data, first["lateral_acc"]),
        "glong": _column(data, first["longitudinal_acc"]),
    }
    distance = _column(data, first["distance_traveled"])
    laps = []
    for number in sorted(set(lap_no.tolist())):
        idx = np.flatnonzero(lap_no == number)
        laps.append(_lap(number, time, distance, channels, slice(idx[0], idx[-1] + 1)))
    kinds: list[LapKind] = ["partial", "flying", "partial"]
    lap9 = laps[2].start_offset - laps[1].start_offset
    units = {"time": "s", "distance": "m", "lat": "deg", "long": "deg", "speed": "km/h",
             "rpm": "rpm", "throttle": "%", "glat": "g", "glong": "g"}
    return RealSession(_records(laps, kinds, [None, lap9, None]), laps, units)


def motec_session() -> RealSession:
    """The MoTeC GT7 export: every driver channel, no GPS; beacons at 24.324 and 190.167 s."""
    rows = _rows(logger_file(MOTEC))
    header_at = next(i for i, r in enumerate(rows) if r[:2] == ["Time", "Distance"])
    header, unit_row = rows[header_at], rows[header_at + 1]
    data = [r for r in rows[header_at + 2 :] if r and r[0].strip()]
    col = {name: i for i, name in enumerate(header)}
    time = _column(data, col["Time"])
    names = {"speed": "Vehicle Speed", "glong": "G Force Long", "glat": "G Force Lat",
             "throttle": "Throttle Pos", "brake": "Brake Press", "gear": "Gear",
             "rpm": "Engine RPM", "steering": "Steered Angle", "Wheel Speed FL": "Wheel Speed FL"}
    channels = {k: _column(data, col[v]) for k, v in names.items()}
    distance = _column(data, col["Distance"])
    laps = [_lap(n, time, distance, channels, part) for n, part in _split(time, [24.324, 190.167])]
    kinds: list[LapKind] = ["out", "flying", "partial"]
    units = {k: unit_row[col[v]] for k, v in names.items()}
    units.update({"time": "s", "distance": "m", "glat": "g", "glong": "g"})
    return RealSession(_records(laps, kinds, [None, round(190.167 - 24.324, 3), None]), laps, units)
