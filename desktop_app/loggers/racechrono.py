"""RaceChrono CSV exports, formats 3 and 2 (docs/formats.md#racechrono-csv).

Format 3: key/value metadata (with a blank line inside when the track name is empty),
then three header rows found by content (names starting ``timestamp,``, units, sources),
then one row per update of any source. Format 2: one header row whose entries carry the
unit in brackets and the source as a ``*calc``/``*obd`` suffix.

Names repeat across sources (``speed`` from ``100: gps``, ``calc`` and ``200: obd``), so a
channel is keyed by name and source: the GPS one (or, without one, the first) keeps the
plain name, the others are called ``name (source)``, e.g. ``speed (calc)`` and
``speed (200: obd)``. The time base is the Unix-epoch ``timestamp``; ``started_at`` is
its first value in UTC.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from storage.types import FloatArray

from .channels import NameAllocator, SourceChannel, build_channels, checked_lap_counter
from .csvmeta import (
    HeaderLine,
    first_line,
    header_lines,
    looks_like_data,
    parse_date,
    parse_float,
    read_head,
    repair_time,
)
from .recording import Channel, LoggerFileError, Recording
from .textblock import Block, BlockOptions, parse_file_block
from .timebase import IntArray, relative_seconds

_LOGGER = re.compile(r"created using (?P<app>.+?)\s*(?:\(|$)")
#: v2 header entry: ``Speed (m/s) *calc`` -> name, unit, source
_V2_ENTRY = re.compile(r"^(?P<name>.*?)\s*(?:\((?P<unit>[^()]*)\))?\s*(?:\*(?P<source>\S+))?$")
#: columns that hold text (gate names), not numbers
_TEXT_COLUMNS = {"trap name", "trap_name"}
_FRAGMENT = {"fragment_id", "session fragment #"}
_LAP = {"lap_number", "lap #"}
_ELAPSED = {"elapsed_time", "elapsed time"}
#: plausible epoch range for started_at (2000-01-01 .. 2100-01-01)
_EPOCH_RANGE = (946_684_800.0, 4_102_444_800.0)


@dataclass
class _Column:
    name: str  #: as in the file (v2: without unit and source)
    unit: str
    source: str  #: ``100: gps``, ``calc``, ``200: obd``... ("" for session columns / v2 GPS)


def read(path: Path) -> Recording:
    """Read a RaceChrono CSV (format 3 or 2) into a :class:`Recording`."""
    lines = header_lines(read_head(path))
    first = first_line(path, lines)
    m = _LOGGER.search(first.text)
    if m is None or "RaceChrono" not in first.text:
        raise LoggerFileError(path, "not a RaceChrono CSV (first line)", line=first.number)
    logger = m["app"]
    second = next(lines, None)
    if second is None or second.fields[:1] != ["Format"] or second.fields[1:2] not in (["3"], ["2"]):
        raise LoggerFileError(path, "expected 'Format,3' or 'Format,2'", line=first.number + 1)
    version = int(second.fields[1])

    metadata: dict[str, str] = {"format": f"RaceChrono CSV v{version}"}
    names_line: HeaderLine | None = None
    last = second
    for line in lines:
        last = line
        if _is_names_row(line, version):
            names_line = line
            break
        if line.blank:  # a blank line can sit inside the metadata (empty Track name)
            continue
        if looks_like_data(line):
            break
        key, values = line.fields[0], [v for v in line.fields[1:] if v]
        if key and values and key != "Format":
            metadata[key] = " ".join(values)
    if names_line is None:
        start = "'timestamp,'" if version == 3 else "'Time (s),'"
        raise LoggerFileError(path, f"header row starting {start} not found", line=last.number)

    if version == 3:
        columns, data_line = _v3_columns(path, names_line, lines)
    else:
        columns = [_v2_column(name) for name in names_line.fields]
        data_line = names_line
    return _build(path, data_line, columns, version, logger, metadata)


def _is_names_row(line: HeaderLine, version: int) -> bool:
    if version == 3:
        return line.text.startswith("timestamp,")
    return bool(line.fields) and line.fields[0].startswith("Time (")


def _v3_columns(path: Path, names: HeaderLine, it: Iterator[HeaderLine]) -> tuple[list[_Column], HeaderLine]:
    """Names, units and sources rows of format 3; returns the columns and the sources line."""
    units: HeaderLine | None = next(it, None)
    if units is None or units.blank or parse_float(units.fields[0]) is not None:
        raise LoggerFileError(path, "units row missing after the names row", line=names.number + 1)
    sources: HeaderLine | None = next(it, None)
    if sources is None or (sources.fields and parse_float(sources.fields[0]) is not None):
        raise LoggerFileError(path, "sources row missing after the units row", line=units.number + 1)
    n = len(names.fields)
    for row, what in ((units, "units"), (sources, "sources")):
        if len(row.fields) > n:
            raise LoggerFileError(path, f"{what} row has {len(row.fields)} entries for {n} names", line=row.number)
    unit_cells = units.fields + [""] * (n - len(units.fields))
    source_cells = sources.fields + [""] * (n - len(sources.fields))
    cols = [_Column(nm, _unit(u), s) for nm, u, s in zip(names.fields, unit_cells, source_cells)]
    return cols, sources


def _v2_column(entry: str) -> _Column:
    m = _V2_ENTRY.match(entry)
    if m is None:  # pragma: no cover - the pattern matches any string
        return _Column(entry, "", "")
    return _Column(m["name"].strip() or entry, _unit(m["unit"] or ""), (m["source"] or "").strip())


def _unit(unit: str) -> str:
    """RaceChrono writes the degree sign as a dot: ``.C`` is °C."""
    u = unit.strip()
    return "°" + u[1:] if u in (".C", ".F") else u


def _is_gps(source: str, version: int) -> bool:
    return "gps" in source.lower() if version == 3 else source == ""


def _channel_names(columns: list[_Column], version: int) -> list[str]:
    """Unique names: a repeated name stays plain for its GPS source (else its first column)."""
    counts = Counter(c.name.lower() for c in columns)
    owner: dict[str, int] = {}
    for i, c in enumerate(columns):
        if counts[c.name.lower()] > 1 and _is_gps(c.source, version):
            owner.setdefault(c.name.lower(), i)
    for i, c in enumerate(columns):
        owner.setdefault(c.name.lower(), i)
    names = NameAllocator()
    out: list[str] = []
    for i, c in enumerate(columns):
        name = c.name if owner[c.name.lower()] == i else f"{c.name} ({c.source or 'gps'})"
        out.append(names.take(name))
    return out


def _build(
    path: Path,
    last_header: HeaderLine,
    columns: list[_Column],
    version: int,
    logger: str,
    metadata: dict[str, str],
) -> Recording:
    names = _channel_names(columns, version)
    block = parse_file_block(
        path, last_header.end, BlockOptions(first_line=last_header.number + 1, ncols=len(columns), names=names)
    )
    warnings = list(block.warnings)
    if block.row_count == 0:
        raise LoggerFileError(path, "no data rows after the header", line=last_header.number + 1)
    time_col = block.values[0]
    if time_col is None:
        raise LoggerFileError(path, "the time column holds text, not numbers", line=last_header.number)

    keep = _channel_columns(block, columns, names, metadata, warnings)
    values: list[FloatArray] = [v for v in (block.values[i] for i in keep) if v is not None]
    time_us, values = repair_time(path, time_col, values, block.line_of, warnings)

    by_name = {names[i].lower(): v for i, v in zip(keep, values)}
    lap_name = next((names[i] for i in keep if columns[i].name.lower() in _LAP), None)
    frag_name = next((names[i] for i in keep if columns[i].name.lower() in _FRAGMENT), None)
    if frag_name is not None:
        _report_fragments(by_name[frag_name.lower()], time_us, frag_name, warnings, metadata)

    first_s = time_us[0] / 1e6
    started_at = None
    if _EPOCH_RANGE[0] <= first_s <= _EPOCH_RANGE[1]:
        started_at = datetime.fromtimestamp(first_s, tz=UTC)
        _check_created(metadata, first_s, by_name, columns, names, keep, warnings)
    else:
        warnings.append(f"first timestamp {first_s:.3f} is not a plausible Unix time: start unknown")

    sources = [SourceChannel(names[i], columns[i].unit, v, block.labels.get(i)) for i, v in zip(keep, values)]
    channels = build_channels("racechrono", sources, warnings)
    lap_counter = _lap_counter(channels, lap_name)
    rec = Recording(
        path=path,
        format="racechrono",
        time=relative_seconds(time_us),
        channels=channels,
        logger=logger,
        started_at=started_at,
        lap_counter=checked_lap_counter(channels, lap_counter, warnings),
        track=metadata.get("Track name") or None,
        metadata=metadata,
        warnings=warnings,
    )
    rec.check()
    return rec


def _channel_columns(
    block: Block, columns: list[_Column], names: list[str], metadata: dict[str, str], warnings: list[str]
) -> list[int]:
    """The columns that become channels: numeric ones, and timing-trap names read as text.

    The first cell of every text column goes into the metadata.
    """
    keep = [i for i in range(1, len(columns)) if block.values[i] is not None]
    for i in range(1, len(columns)):
        text = block.text.get(i)
        if text is not None:
            metadata[names[i]] = text
    # text columns read as empty (all NaN) or as numbers are not channels; with text, they are
    skipped = [i for i in keep if columns[i].name.lower() in _TEXT_COLUMNS and i not in block.labels]
    for i in skipped:
        cells = block.values[i]
        assert cells is not None
        if np.isnan(cells).all():
            warnings.append(f"column {names[i]!r} (text: timing traps crossed) is empty: skipped")
        else:
            warnings.append(f"column {names[i]!r} should hold text but holds numbers: skipped")
        keep.remove(i)
    return keep


def _lap_counter(channels: dict[str, Channel], lap_name: str | None) -> str | None:
    """The channel of the lap-number column, unless it is empty throughout."""
    if lap_name is None:
        return None
    lap_ch = next(ch for ch in channels.values() if ch.source_name == lap_name)
    return lap_ch.name if np.isfinite(lap_ch.values).any() else None


def _report_fragments(
    fragment: FloatArray,
    time_us: IntArray,
    name: str,
    warnings: list[str],
    metadata: dict[str, str],
) -> None:
    """A fragment change means recording paused: say where, never join across it."""
    valid = np.flatnonzero(np.isfinite(fragment))
    if valid.shape[0] < 2:
        return
    f = fragment[valid]
    changes = np.flatnonzero(f[1:] != f[:-1])
    metadata["fragments"] = str(np.unique(f).shape[0])
    for c in changes[:5]:
        a, b = int(valid[c]), int(valid[c + 1])
        gap = (time_us[b] - time_us[a]) / 1e6
        warnings.append(
            f"recording paused: {name} changes {f[c]:g} -> {f[c + 1]:g} at "
            f"{(time_us[b] - time_us[0]) / 1e6:.3f} s after a {gap:.1f} s gap; the '{name}' "
            "channel marks the fragments, laps and distance must not be joined across them"
        )
    if changes.shape[0] > 5:
        warnings.append(f"... {changes.shape[0] - 5} more {name} changes")


def _check_created(
    metadata: dict[str, str],
    first_s: float,
    by_name: dict[str, FloatArray],
    columns: list[_Column],
    names: list[str],
    keep: list[int],
    warnings: list[str],
) -> None:
    """``Created`` (dd/mm/yyyy HH:MM) can be unrelated to the data: timestamps win; say so."""
    created = metadata.get("Created", "")
    parts = created.split()
    if len(parts) != 2:
        return
    day, _note = parse_date(parts[0], month_first=False)
    hm = parts[1].split(":")
    if day is None or len(hm) != 2 or not all(x.isdigit() for x in hm):
        return
    try:
        stamp = datetime(day.year, day.month, day.day, int(hm[0]), int(hm[1]), tzinfo=UTC)
    except ValueError:
        return
    elapsed = next((by_name[names[i].lower()] for i in keep if columns[i].name.lower() in _ELAPSED), None)
    session_start = first_s - (float(elapsed[0]) if elapsed is not None and np.isfinite(elapsed[0]) else 0.0)
    if not _EPOCH_RANGE[0] <= session_start <= _EPOCH_RANGE[1]:
        return
    if abs(stamp.timestamp() - session_start) > 180:
        warnings.append(
            f"'Created' ({created}) disagrees with the timestamps "
            f"({datetime.fromtimestamp(session_start, tz=UTC):%d/%m/%Y %H:%M} UTC): timestamps used"
        )
