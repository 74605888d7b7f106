"""AiM Race Studio CSV exports (docs/formats.md#aim-csv-exports).

RaceStudio quotes every field; files re-saved through a spreadsheet are unquoted and
padded with commas, with comma-only blank records. Both are read with a real CSV reader
(:mod:`csvmeta`): key/value metadata (``Session`` or ``Venue`` first) runs up to the
names row (first field ``Time``), then a units row and the data block.

``Beacon Markers`` are cumulative lap-end times, one field each; they become
:attr:`Recording.beacons` as written (so the last one usually equals ``Duration``: the
last segment is an in-lap or a partial lap) and are checked against ``Segment Times``.
``Date`` (long English) and ``Time`` (12-hour) give a naive local ``started_at``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .channels import SourceChannel, build_channels
from .csvmeta import (
    HeaderLine,
    first_line,
    header_lines,
    local_start,
    looks_like_data,
    parse_clock,
    parse_duration,
    parse_float,
    read_head,
    read_table,
    sample_rate,
)
from .recording import LoggerFileError, Recording
from .timebase import relative_seconds

#: marker differences and segment times agree to the millisecond in real files
_SEGMENT_TOLERANCE_S = 0.0015


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
    names: HeaderLine | None = None
    last = first
    for line in lines:
        last = line
        if line.blank:
            continue
        if _is_names_row(line):
            names = line
            break
        if looks_like_data(line):
            break
        if line.fields[0]:
            meta.setdefault(line.fields[0], line.fields[1:])
    if names is None:
        raise LoggerFileError(path, "channel names row (starting 'Time') not found", line=last.number)

    table = read_table(path, names, lines)
    warnings = table.warnings
    metadata = {k: ", ".join(v for v in vals if v) for k, vals in meta.items() if any(vals)}
    metadata.update(table.text)

    beacons = _beacons(meta, warnings)
    t0 = table.time_us[0] / 1e6
    if beacons is not None and t0 != 0.0:
        beacons = [b - t0 for b in beacons]  # markers count from Time = 0, our time[0] is 0

    rate = sample_rate(_first(meta, "Sample Rate"), warnings)
    started = local_start(
        _first(meta, "Date") or None, _first(meta, "Time") or None, month_first=True, warnings=warnings
    )
    sources = [SourceChannel(n, u, v) for n, u, v in zip(table.names, table.units, table.columns)]
    rec = Recording(
        path=path,
        format="aim",
        time=relative_seconds(table.time_us),
        channels=build_channels("aim", sources, warnings),
        logger=_first(meta, "Logger") or _first(meta, "Device") or "AiM",
        started_at=started,
        sample_rate_hz=rate,
        beacons=beacons,
        track=_first(meta, "Venue") or None,
        metadata=metadata,
        warnings=warnings,
    )
    rec.check()
    return rec


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
    bad = np.flatnonzero(np.abs(diffs - np.array(durations, dtype=np.float64)) > _SEGMENT_TOLERANCE_S)
    if bad.shape[0]:
        i = int(bad[0])
        warnings.append(
            f"Segment Times disagree with Beacon Markers for {bad.shape[0]} lap(s) (first: "
            f"segment {i + 1} is {segments[i]} but the markers span {diffs[i]:.3f} s); "
            "beacons used as written"
        )
    return markers
