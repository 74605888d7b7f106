"""MoTeC i2 CSV exports (docs/formats.md#motec-csv-exports).

The header is a grid of two key/value columns (key, value, unit at fields 0-2 and
4-6), then blank-line separated blocks: names, units, data, every data field quoted.
``Beacon Markers`` is one field of space-separated times with a trailing space; an
empty field means the file has no laps (``beacons == []``). ``Log Date`` follows the
PC's locale (``5/22/2026`` is month/day) and ``Log Time`` is 12-hour: a naive local
``started_at``. Values are stored as logged, plausible or not.
"""

from __future__ import annotations

import itertools
from pathlib import Path

from .csvmeta import HeaderLine, first_line, header_lines, keyvalue, local_start, parse_float, read_head, sample_rate
from .csvtable import find_names_row, read_table
from .recording import LoggerFileError, Recording


def read(path: Path) -> Recording:
    """Read a MoTeC i2 CSV export into a :class:`Recording`."""
    lines = header_lines(read_head(path))
    first = first_line(path, lines)
    if first.fields[:2] != ["Format", "MoTeC CSV File"]:
        raise LoggerFileError(path, "not a MoTeC CSV export (expected 'Format','MoTeC CSV File')", line=1)

    meta: dict[str, tuple[str, str]] = {}  # key -> (value, unit)

    def take(row: HeaderLine) -> None:
        for at in (0, 4):  # the grid's two key, value, unit columns
            kv = keyvalue(row.fields, at)
            if kv is not None:
                unit = row.fields[at + 2] if len(row.fields) > at + 2 else ""
                meta.setdefault(kv[0], (kv[1], unit))

    def is_names_row(row: HeaderLine) -> bool:
        return row.fields[0] == "Time" and row.number > 1

    names = find_names_row(path, itertools.chain([first], lines), is_names_row, take, after=first)
    table = read_table(path, names, lines)
    warnings = table.warnings
    beacons = table.on_time_axis(_beacons(meta, warnings))  # markers are on the file's Time axis
    channels = table.channels("motec")
    started = local_start(
        _value(meta, "Log Date") or None, _value(meta, "Log Time") or None, month_first=True, warnings=warnings
    )
    return table.recording(
        path,
        "motec",
        channels,
        logger=logger_name(_value(meta, "Device")),
        started_at=started,
        sample_rate_hz=sample_rate(_value(meta, "Sample Rate"), warnings),
        beacons=beacons,
        track=_value(meta, "Venue") or None,
        metadata={k: f"{v} {u}".strip() for k, (v, u) in meta.items() if v and k != "Format"},
    )


def logger_name(device: str) -> str:
    """The logger as the CSV export and the native ``.ld`` both name it (``MoTeC ADL``)."""
    return f"MoTeC {device}" if device else "MoTeC"


def _value(meta: dict[str, tuple[str, str]], key: str) -> str:
    return meta.get(key, ("", ""))[0]


def _beacons(meta: dict[str, tuple[str, str]], warnings: list[str]) -> list[float] | None:
    """The one space-separated ``Beacon Markers`` field; ``[]`` if empty, None if absent."""
    if "Beacon Markers" not in meta:
        return None
    markers: list[float] = []
    for cell in meta["Beacon Markers"][0].split():
        value = parse_float(cell)
        if value is None:
            warnings.append(f"Beacon Markers: {cell!r} is not a time; beacons ignored")
            return None
        markers.append(value)
    if any(b < a for a, b in zip(markers, markers[1:])):
        warnings.append("Beacon Markers are not in increasing order; kept as written")
    return markers
