"""AiM Race Studio CSV exports (docs/formats.md#aim-csv-exports).

RaceStudio quotes every field; files re-saved through a spreadsheet are unquoted and
padded with commas, with comma-only blank records. Both are read with a real CSV reader
(:mod:`csvmeta`, :mod:`csvtable`): key/value metadata (``Session`` or ``Venue`` first) runs up to the
names row (first field ``Time``), then a units row and the data block.

``Beacon Markers`` are cumulative lap-end times, one field each; they become
:attr:`Recording.beacons` as written (so the last one usually equals ``Duration``: the
last segment is an in-lap or a partial lap) and are checked against ``Segment Times``.
``Date`` (long English) and ``Time`` (12-hour) give a naive local ``started_at``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .csvmeta import (
    HeaderLine,
    first_line,
    header_lines,
    local_start,
    parse_clock,
    parse_duration,
    parse_float,
    read_head,
    sample_rate,
)
from .csvtable import find_names_row, read_table
from .recording import LoggerFileError, Recording

#: a ``Duration`` longer than the data by more than this (s) says the export is cut
_CUT_SLACK_S = 1.0


def _is_names_row(line: HeaderLine) -> bool:
    """``Time,GPS Speed,...``; the metadata ``Time,3:42 PM`` (a clock) is not it."""
    f = line.fields
    return len(f) >= 2 and f[0] == "Time" and (len(f) > 2 or parse_clock(f[1]) is None)


def read(path: Path) -> Recording:
    """Read an AiM CSV export (quoted or padded) into a :class:`Recording`."""
    lines = header_lines(read_head(path))
    first = first_line(path, lines)
    if first.fields[:2] != ["Format", "AiM CSV File"]:
        raise LoggerFileError(path, "not an AiM CSV export (expected 'Format,AiM CSV File')", line=1)

    meta: dict[str, list[str]] = {}

    def take(line: HeaderLine) -> None:
        if line.fields[0]:
            meta.setdefault(line.fields[0], line.fields[1:])

    names = find_names_row(path, lines, _is_names_row, take, after=first)
    table = read_table(path, names, lines)
    warnings = table.warnings
    beacons = table.on_time_axis(_beacons(meta, warnings))  # markers count from Time = 0
    rate = sample_rate(_first(meta, "Sample Rate"), warnings)
    _check_duration(meta, table.time_us, rate, warnings)
    started = local_start(
        _first(meta, "Date") or None, _first(meta, "Time") or None, month_first=True, warnings=warnings
    )
    return table.recording(
        path,
        "aim",
        table.channels("aim"),
        logger=_first(meta, "Logger") or _first(meta, "Device") or "AiM",
        started_at=started,
        sample_rate_hz=rate,
        beacons=beacons,
        track=_first(meta, "Venue") or None,
        metadata={k: ", ".join(v for v in vals if v) for k, vals in meta.items() if any(vals)},
    )


def _first(meta: dict[str, list[str]], key: str) -> str:
    values = meta.get(key)
    return values[0] if values else ""


def _beacons(meta: dict[str, list[str]], warnings: list[str]) -> list[float] | None:
    """``Beacon Markers`` as floats, checked against ``Segment Times``; None if absent."""
    if "Beacon Markers" not in meta:
        return None
    raw = [v for v in meta["Beacon Markers"] if v]
    markers: list[float] = []
    for cell in raw:
        value = parse_float(cell)
        if value is None:
            warnings.append(f"Beacon Markers: {cell!r} is not a time; beacons ignored")
            return None
        markers.append(value)
    if any(b < a for a, b in zip(markers, markers[1:])):
        warnings.append("Beacon Markers are not in increasing order; kept as written")
    segments = [v for v in meta.get("Segment Times", []) if v]
    if not segments:
        return markers
    durations = [parse_duration(s) for s in segments]
    if len(durations) != len(markers) or any(d is None for d in durations):
        warnings.append(
            f"Segment Times ({len(segments)}) do not match Beacon Markers ({len(markers)}): beacons used as written"
        )
        return markers
    diffs = np.diff(np.concatenate(([0.0], markers)))
    # compared at the precision they are printed with (Race Studio writes segment times to
    # 0.001 s or to 0.1 s): half a unit of the segment's last digit, plus half a unit of
    # each of the two markers that bound it
    steps = [_step(c) for c in raw]
    tolerance = np.array(
        [0.5 * (_step(seg) + steps[i] + (steps[i - 1] if i else 0.0)) + 1e-9 for i, seg in enumerate(segments)]
    )
    bad = np.flatnonzero(np.abs(diffs - np.array(durations, dtype=np.float64)) > tolerance)
    if bad.shape[0]:
        i = int(bad[0])
        warnings.append(
            f"Segment Times disagree with Beacon Markers for {bad.shape[0]} lap(s) (first: "
            f"segment {i + 1} is {segments[i]} but the markers span {diffs[i]:.3f} s); "
            "beacons used as written"
        )
    return markers


def _step(cell: str) -> float:
    """The unit of the last printed digit of a time such as ``1:17.2`` (0.1) or ``77.200`` (0.001)."""
    _, dot, decimals = cell.strip().rpartition(".")
    return 10.0 ** -len(decimals) if dot and decimals.isdigit() else 1.0


def _check_duration(meta: dict[str, list[str]], time_us: np.ndarray, rate: float | None, warnings: list[str]) -> None:
    """Warn when the data ends long before the ``Duration`` the header states: a cut export."""
    text = _first(meta, "Duration")
    duration = parse_duration(text) if text else None
    if duration is None or time_us.shape[0] == 0:
        return
    end = float(time_us[-1]) / 1e6
    slack = max(_CUT_SLACK_S, 5.0 / rate) if rate else _CUT_SLACK_S
    if duration - end > slack:
        warnings.append(
            f"the data ends at {end:.3f} s but Duration is {text} ({duration:.3f} s): the export is cut, "
            f"{duration - end:.1f} s of the session are not in the file"
        )
