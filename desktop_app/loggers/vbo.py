"""Racelogic VBO reader (docs/formats.md#racelogic-vbo).

The header is handled by :mod:`.vbo_header`; the data block goes through the vectorised
:func:`.textblock.parse_block`. Conversions made here, once: ``HHMMSS.SS`` -> seconds with
midnight rollover, minutes -> degrees with longitude west-positive flipped to east-positive,
satellites masked ``& 0x3F``, ``[laptiming]`` gates -> :class:`Gate` in degrees.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

import numpy as np

from storage.types import FloatArray

from . import timebase
from .channels import SourceChannel, build_channels, checked_lap_counter
from .recording import Gate, LoggerFileError, Recording
from .textblock import Block, BlockOptions, parse_file_block
from .timebase import IntArray
from .vbo_header import DATA_LINE, GPS_CHANNELS, MAX_HEADER_BYTES, VboHeader, parse_header, split_unit, values_per_row

GateKind = Literal["start", "finish", "split"]
_LAP_COUNTERS = ("lap_number", "lapnumber", "lap number", "lap")
#: the ``File created on`` time matches the data's UTC clock if within this
_CREATED_SAME_S = 300.0
#: ... or is local time if off by a whole or half hour (to within this)
_CREATED_ZONE_S = 60.0


#: bytes of data read with the header, to count values per row and spot decimal commas
_DATA_SAMPLE = 1 << 18


def _read_head(path: Path) -> bytes:
    """The file up to ``[data]`` plus a sample of the data (the block itself is streamed later)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(1 << 20)
            while True:
                m = DATA_LINE.search(head)
                if m is not None and len(head) - m.end() >= _DATA_SAMPLE:
                    return head
                if m is None and len(head) >= MAX_HEADER_BYTES:
                    return head  # parse_header says there is no [data] line in the header
                more = fh.read(max(len(head), 1 << 20))
                if not more:
                    return head
                head += more
    except OSError as exc:
        raise LoggerFileError(path, f"cannot be read: {exc.strerror or exc}") from None


def _seconds_of_day(hhmmss: FloatArray, path: Path, line_of: Callable[[int], int]) -> FloatArray:
    """``HHMMSS.SS`` -> seconds since midnight; rejects values that are not a time of day."""
    h = np.floor(hhmmss / 10000.0)
    m = np.floor(hhmmss / 100.0) - h * 100.0
    s = hhmmss - h * 10000.0 - m * 100.0
    with np.errstate(invalid="ignore"):
        bad = ~((h >= 0) & (h < 24) & (m < 60) & (s < 60.0 + 1e-6))
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise LoggerFileError(
            path,
            f"time {float(hhmmss[row])!r} is not a time of day HHMMSS.SS",
            line=line_of(row),
            field_name="time",
        )
    return np.asarray(h * 3600.0 + m * 60.0 + s, np.float64)


def _circular(d: float) -> float:
    """A time-of-day difference folded into (-12 h, 12 h]."""
    d = (d + 43200.0) % 86400.0 - 43200.0
    return 43200.0 if d == -43200.0 else d


def _started_at(header: VboHeader, first_tod: float, warnings: list[str]) -> datetime | None:
    """The UTC start: the first sample's UTC time of day on the date of ``File created on``.

    The creation time may be local time, or written minutes after the first sample; the day
    nearest to it is taken (docs/formats.md#vbo-start-times, docs/formats.md#vbo-created-line).
    """
    created = header.created_on()
    if created is None:
        return None
    tod = created.hour * 3600 + created.minute * 60 + created.second
    d = _circular(tod - first_tod)
    if abs(d) > _CREATED_SAME_S:
        half_hours = round(d / 1800.0)
        if half_hours != 0 and abs(half_hours) <= 28 and abs(d - half_hours * 1800.0) <= _CREATED_ZONE_S:
            warnings.append(f"'File created on' is local time (UTC{half_hours / 2:+g} h): date shifted to UTC")
        else:
            # a time zone plus the minutes between the first sample and the file's creation
            # (or a clock set wrong): the date still holds, and the samples give the time
            hours, rest = divmod(abs(round(d)), 3600)
            warnings.append(
                f"'File created on' ({created:%d/%m/%Y %H:%M:%S}) is {hours} h {rest // 60:02d} min "
                f"{'before' if d < 0 else 'after'} the first sample's UTC time: the start is that UTC "
                "time on the nearest day"
            )
    # the UTC instant with the first sample's time of day nearest to the creation time
    start = created - timedelta(seconds=d)
    return start.replace(tzinfo=UTC)


_GATE_LINE = re.compile(r"^\s*(start|finish|split)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s*(.*)$", re.I)


def _gates(header: VboHeader, lat: FloatArray | None, lon: FloatArray | None, warnings: list[str]) -> list[Gate]:
    """``[laptiming]`` lines -> gates in degrees; longitude first, unless the data says otherwise."""
    parsed: list[tuple[str, tuple[float, float, float, float], str]] = []
    for line in header.lines("laptiming"):
        m = _GATE_LINE.match(line)
        if not m:
            warnings.append(f"[laptiming] line not understood, ignored: {line[:60]!r}")
            continue
        try:
            nums = tuple(float(m.group(i).replace(",", ".")) for i in range(2, 6))
        except ValueError:
            warnings.append(f"[laptiming] line not understood, ignored: {line[:60]!r}")
            continue
        name = m.group(6).lstrip().lstrip("¬").strip()
        parsed.append((m.group(1).lower(), (nums[0], nums[1], nums[2], nums[3]), name))
    if not parsed:
        return []
    # minutes -> degrees; reading A is Racelogic's (long1 lat1 long2 lat2), B latitude first
    a = [(n[1] / 60, -n[0] / 60, n[3] / 60, -n[2] / 60) for _, n, _ in parsed]
    b = [(n[0] / 60, -n[1] / 60, n[2] / 60, -n[3] / 60) for _, n, _ in parsed]
    use = a
    if lat is not None and lon is not None:
        ok = np.isfinite(lat) & np.isfinite(lon) & ((lat != 0) | (lon != 0))
        if ok.any():
            mlat, mlon = float(np.median(lat[ok])), float(np.median(lon[ok]))

            def dist(g: list[tuple[float, float, float, float]]) -> float:
                return float(np.median([abs(x[0] - mlat) + abs(x[1] - mlon) for x in g]))

            if dist(b) < dist(a) and all(abs(x[0]) <= 90 for x in b):
                use = b
                warnings.append("[laptiming] gates are written latitude first: read that way")
    kinds: dict[str, GateKind] = {"start": "start", "finish": "finish", "split": "split"}
    return [Gate(kinds[k], g[0], g[1], g[2], g[3], name) for (k, _, name), g in zip(parsed, use, strict=True)]


def _logger(header: VboHeader) -> str | None:
    for line in header.lines("comments"):
        key, _, value = line.partition(":")
        if key.strip().lower() in ("type", "device") and value.strip():
            return value.strip()
        if line.lower().startswith("generated by "):
            return line[len("generated by ") :].strip()
    comments = header.lines("comments")
    return comments[0] if comments else None


@dataclass
class _Data:
    """The parsed ``[data]`` block with the header that names its columns."""

    header: VboHeader
    block: Block
    names: list[str]  #: short column names (``[column names]`` or made up), one per value
    longs: list[str] | None  #: the long names of the ``[header]`` section, when they match


@dataclass
class _Sources:
    """The channels of the file before naming, with what the standard channels need."""

    channels: list[SourceChannel] = field(default_factory=list)
    #: other writers spell the GPS channels out (Race Telemetry Pro: 'latitude'); the vbo table
    #: lists Racelogic's short names, so the standard channels point at what this file has
    overrides: dict[str, str] = field(default_factory=dict)
    lat_deg: FloatArray | None = None
    lon_deg: FloatArray | None = None


def read(path: Path) -> Recording:
    """Read a VBO file (see the module docstring and docs/formats.md#racelogic-vbo)."""
    path = Path(path)
    data = _read_data(path)
    header, warnings = data.header, data.header.warnings
    ti = _time_column(path, data)
    t_us, first_tod = _time_base(path, data.block, ti, warnings)
    sources = _sources(data, ti, warnings)
    gates = _gates(header, sources.lat_deg, sources.lon_deg, warnings)
    t_us, cols = timebase.merge_repeated(t_us, [s.values for s in sources.channels], warnings)
    for s, v in zip(sources.channels, cols, strict=True):
        s.values = v
    with np.errstate(over="ignore", invalid="ignore"):  # damaged cells may overflow to inf
        channels = build_channels("vbo", sources.channels, warnings, sources.overrides)
    lap_counter = next((n for n in channels if n.lower() in _LAP_COUNTERS), None)
    time = timebase.relative_seconds(t_us)
    metadata, track = _metadata(header)
    rec = Recording(
        path=path,
        format="vbo",
        time=time,
        channels=channels,
        logger=_logger(header),
        started_at=_started_at(header, first_tod, warnings),
        sample_rate_hz=_sample_rate(header, time),
        gates=gates,
        beacons=None,
        lap_counter=checked_lap_counter(channels, lap_counter, warnings),
        track=track,
        metadata=metadata,
        warnings=warnings,
    )
    rec.check()
    return rec


def _read_data(path: Path) -> _Data:
    """The header, then the data block streamed from the file (its text is never whole)."""
    head = _read_head(path)
    header = parse_header(path, head)
    nvalues, comma = values_per_row(head[header.data_offset :], path, header.data_first_line)
    del head
    names, longs = header.column_names(path, nvalues)
    options = BlockOptions(
        first_line=header.data_first_line, ncols=nvalues, delimiter=" ", decimal_comma=comma, names=names
    )
    block = parse_file_block(path, header.data_offset, options)
    header.warnings.extend(block.warnings)
    if block.row_count == 0:
        raise LoggerFileError(path, "the [data] section has no rows", line=header.data_first_line)
    return _Data(header, block, names, longs)


def _time_column(path: Path, data: _Data) -> int:
    """The index of the numeric ``time`` column."""
    for i, name in enumerate(data.names):
        if split_unit(name)[0].lower() == "time":
            # the first column so named decides, numeric or not
            if data.block.values[i] is not None:
                return i
            break
    raise LoggerFileError(
        path,
        "no numeric 'time' column",
        line=data.header.section_line.get("column names", data.header.data_first_line),
        field_name="time",
    )


def _time_base(path: Path, block: Block, ti: int, warnings: list[str]) -> tuple[IntArray, float]:
    """UTC ``HHMMSS.SS`` -> microseconds past the first midnight, and the first time of day (s)."""
    time_values = block.values[ti]
    assert time_values is not None
    if np.isnan(time_values).any():
        row = int(np.flatnonzero(np.isnan(time_values))[0])
        raise LoggerFileError(path, "time is missing", line=block.line_of(row), field_name="time")
    tod = _seconds_of_day(time_values, path, block.line_of)
    first_tod = float(tod[0])
    tod = timebase.unroll_midnight(tod, warnings, block.line_of)
    t_us = timebase.checked_microseconds(tod, path, block.line_of)
    timebase.check_backward_steps(t_us, path, warnings, block.line_of)
    return t_us, first_tod


def _sources(data: _Data, ti: int, warnings: list[str]) -> _Sources:
    """Every numeric column but time, converted to the units the archive keeps."""
    block, names, longs = data.block, data.names, data.longs
    units = data.header.aligned_units(names)
    out = _Sources()
    for i, name in enumerate(names):
        values = block.values[i]
        if i == ti:
            continue
        if values is None:
            header_text = block.text.get(i, "")
            if header_text:
                warnings.append(f"column {name!r} is text ({header_text!r}): kept out of the channels")
            continue
        base, name_unit = split_unit(name)
        long_unit = split_unit(longs[i])[1] if longs is not None else None
        values, unit = _converted(base.lower(), values, name_unit or long_unit or units[i], warnings)
        _note_position(out, base, values)
        out.channels.append(SourceChannel(base, unit, values, block.labels.get(i)))
    if out.lat_deg is not None and out.lon_deg is not None:
        ok = np.isfinite(out.lat_deg) & np.isfinite(out.lon_deg)
        if ok.any() and (np.abs(out.lat_deg[ok]).max() > 90 or np.abs(out.lon_deg[ok]).max() > 180):
            warnings.append("positions outside ±90° latitude / ±180° longitude: check the file")
    return out


_LATITUDE = ("lat", "latitude")
_LONGITUDE = ("long", "lng", "longitude")
_GPS_UNITS = {"heading": "deg", "height": "m", "vert-vel": "m/s", "tsample": "s"}


def _converted(low: str, values: FloatArray, unit: str, warnings: list[str]) -> tuple[FloatArray, str]:
    """One column in archive units: minutes -> degrees (east-positive), satellites masked."""
    if low in _LATITUDE or low in _LONGITUDE:
        if not values.flags.writeable:
            values = values.copy()  # a small block read whole can be a view of Arrow's buffer
        # in place: the parsed column is ours, a copy would cost one column of memory
        if low in _LATITUDE:
            return np.divide(values, 60.0, out=values), "deg"
        return np.divide(np.negative(values, out=values), 60.0, out=values), "deg"  # VBO: positive west
    if low in ("sats", "satellites"):
        # +64 brake trigger, +128 DGPS flags share the field with the count
        with np.errstate(invalid="ignore"):
            usable = np.abs(values) < 2**31  # damaged cells stay NaN rather than wrap
        masked = np.full_like(values, np.nan)
        masked[usable] = values[usable].astype(np.int64) & 0x3F
        return masked, ""
    if low == "velocity" and not unit:
        warnings.append("speed unit not stated in the long name: Racelogic's km/h assumed")
        return values, "km/h"
    if low in GPS_CHANNELS and not unit:
        return values, _GPS_UNITS.get(low, "")
    return values, unit


def _note_position(out: _Sources, base: str, values: FloatArray) -> None:
    """Position columns: the first of each kind is the standard channel, the last feeds the gates."""
    low = base.lower()
    if low in _LATITUDE:
        out.lat_deg = values
        out.overrides.setdefault("lat", base)
    elif low in _LONGITUDE:
        out.lon_deg = values
        out.overrides.setdefault("long", base)


def _sample_rate(header: VboHeader, time: FloatArray) -> float | None:
    """``Log Rate (Hz)`` from the comments, else the median step of the data."""
    rate = header.log_rate()
    if rate is None and time.shape[0] > 1:
        step = float(np.median(np.diff(time)))
        rate = round(1.0 / step, 2) if step > 0 else None
    return rate


def _metadata(header: VboHeader) -> tuple[dict[str, str], str | None]:
    """``key: value`` comments and ``[session data]`` as metadata, and the track they name."""
    comments = header.lines("comments")
    metadata = {k.strip(): v.strip() for line in comments for k, sep, v in [line.partition(":")] if sep and k.strip()}
    for line in comments:
        if "offset" in line.lower() and ":" not in line:
            metadata.setdefault("note", line)  # e.g. 'GPS Time offset by -15 seconds': never applied
    # RaceBox writes the venue into [comments] ("Venue : NAME"); [session data] name wins
    track = next((v for k, v in metadata.items() if k.lower() == "venue" and v), None)
    for line in header.lines("session data"):
        key, _, value = line.partition(" ")
        metadata[f"session {key}"] = value.strip()
        if key.lower() == "name" and value.strip():
            track = value.strip()
    return metadata, track
