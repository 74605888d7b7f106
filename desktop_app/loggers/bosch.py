"""Bosch WinDarab ASCII export reader (docs/formats.md#bosch-windarab-ascii).

Layout: a variable number of ``#`` comment lines, one TAB-separated names row whose
entries are ``name [unit]`` with padding (split on TAB only: entries contain spaces), then
TAB-separated, right-aligned values (parsed by :func:`.textblock.parse_file_block`).
The ``extract file created`` date is the *export* time, so it is metadata, never the
session start. ``lapctr`` is the logged lap number; ``laptrig`` pulses become beacons.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from storage.types import FloatArray

from . import timebase
from .channels import SourceChannel, build_channels, checked_lap_counter
from .recording import LoggerFileError, Recording
from .textblock import Block, BlockOptions, decode_text, parse_file_block
from .timebase import IntArray

_ENTRY = re.compile(r"^(.*?)\s*\[\s*(.*?)\s*\]\s*$")
_CREATED = re.compile(r"extract file created\s+(.+?)\s*$", re.IGNORECASE)
_WINDOW = re.compile(r"where\s+(.+?)\s*$", re.IGNORECASE)
_SOURCE = re.compile(r'data from source file\s+"?(.*?)"?\s*$', re.IGNORECASE)
#: a complete line that is neither a comment nor blank: the names row
_NAMES_ROW = re.compile(rb"(?m)^[ \t]*[^#\s][^\n]*\n")
#: the comments and names row of a real export are a few kilobytes; past this it is not one
_MAX_HEADER_BYTES = 16 << 20
#: channels in one export at most (WinDarab exports hold tens to hundreds)
_MAX_CHANNELS = 50_000
_TIME_SCALE = {"s": 1.0, "sec": 1.0, "ms": 1e-3, "us": 1e-6, "min": 60.0}


def _split_names(line: str) -> list[tuple[str, str]]:
    """``'xtime    [   s]\\tenginespeed[revo]'`` -> ``[('xtime', 's'), ('enginespeed', 'revo')]``."""
    out = []
    for entry in line.rstrip("\r\n").split("\t"):
        m = _ENTRY.match(entry)
        out.append((m.group(1).strip(), m.group(2).strip()) if m else (entry.strip(), ""))
    while out and out[-1] == ("", ""):
        out.pop()  # a trailing TAB
    return out


def _beacons(time: FloatArray, trig: FloatArray) -> list[float]:
    """Times where ``laptrig`` turns non-zero (a pulse may last several samples)."""
    on = np.nan_to_num(trig, nan=0.0) != 0
    rising = on & ~np.concatenate(([False], on[:-1]))
    return [float(t) for t in time[rising]]


@dataclass
class _Header:
    """The ``#`` comments and the names row; the numeric block starts at ``offset``."""

    comments: list[str]
    entries: list[tuple[str, str]]  #: (name, unit) per column
    names_row: int  #: 1-based line number of the names row
    offset: int  #: byte offset of the line after it


def read(path: Path) -> Recording:
    """Read a WinDarab ASCII export (see the module docstring)."""
    path = Path(path)
    raw = _read_head(path)
    header = _parse_header(path, raw)
    block = _parse_data(path, raw, header)
    del raw
    warnings = list(block.warnings)
    ti, first_s, t_us = _time_base(path, header, block, warnings)
    sources = [
        SourceChannel(name, unit, values, block.labels.get(i))
        for i, ((name, unit), values) in enumerate(zip(header.entries, block.values, strict=True))
        if i != ti and values is not None  # a text column: parse_block already warned
    ]
    block.values.clear()  # the sources hold the columns now: the time cells can go
    t_us, cols = timebase.merge_repeated(t_us, [s.values for s in sources], warnings)
    for s, v in zip(sources, cols, strict=True):
        s.values = v
    with np.errstate(over="ignore", invalid="ignore"):  # damaged cells may overflow to inf
        channels = build_channels("bosch", sources, warnings)
    time = timebase.relative_seconds(t_us)
    lap_counter = next((n for n in channels if n.lower() == "lapctr"), None)
    trig = next((c for c in channels.values() if c.source_name.lower() == "laptrig"), None)
    step = float(np.median(np.diff(time))) if time.shape[0] > 1 else 0.0
    rec = Recording(
        path=path,
        format="bosch",
        time=time,
        channels=channels,
        logger="Bosch WinDarab (ASCII export)",
        started_at=None,  # the file only has the export time
        sample_rate_hz=round(1.0 / step, 3) if step > 0 else None,
        beacons=_beacons(time, trig.values) if trig is not None else None,
        lap_counter=checked_lap_counter(channels, lap_counter, warnings),
        metadata=_metadata(header.comments, first_s, time),
        warnings=warnings,
    )
    rec.check()
    return rec


def _read_head(path: Path) -> bytes:
    """The start of the file, up to and including a complete names row (the block is streamed later)."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read(1 << 20)
            while not _NAMES_ROW.search(raw):  # the names row must be complete in the head
                if len(raw) >= _MAX_HEADER_BYTES:
                    raise LoggerFileError(
                        path,
                        f"no channel names row in the first {_MAX_HEADER_BYTES >> 20} MiB: not a WinDarab export",
                        line=raw.count(b"\n") + 1,
                    )
                more = fh.read(len(raw))
                if not more:
                    break
                raw += more
    except OSError as exc:
        raise LoggerFileError(path, f"cannot be read: {exc.strerror or exc}") from None
    return raw


def _parse_header(path: Path, raw: bytes) -> _Header:
    """The ``#`` lines, then the first other non-blank line: the names row."""
    offset = 0
    line_no = 0
    comments: list[str] = []
    names_line: str | None = None
    while offset < len(raw):
        end = raw.find(b"\n", offset)
        end = len(raw) if end < 0 else end + 1
        line = decode_text(raw[offset:end]).strip("\r\n")
        line_no += 1
        offset = end
        if line.startswith("#"):
            comments.append(line[1:].strip())
        elif line.strip():
            names_line = line
            break
    if names_line is None:
        raise LoggerFileError(path, "no channel names row after the '#' comments", line=line_no)
    if names_line.count("\t") >= _MAX_CHANNELS:
        raise LoggerFileError(
            path, f"the names row has more than {_MAX_CHANNELS:,} entries: not a WinDarab export", line=line_no
        )
    entries = _split_names(names_line)
    if not entries or not all(n for n, _ in entries):
        raise LoggerFileError(path, "the channel names row has an empty name", line=line_no)
    return _Header(comments, entries, line_no, offset)


def _parse_data(path: Path, raw: bytes, header: _Header) -> Block:
    """The TAB-separated block after the names row (a decimal comma is seen on its first row)."""
    end = raw.find(b"\n", header.offset)
    first_row = raw[header.offset : end if end >= 0 else len(raw)]
    comma = b"," in first_row and b"." not in first_row
    names = [n for n, _ in header.entries]
    options = BlockOptions(
        first_line=header.names_row + 1, ncols=len(header.entries), delimiter="\t", decimal_comma=comma, names=names
    )
    block = parse_file_block(path, header.offset, options)
    if block.row_count == 0:
        raise LoggerFileError(path, "no data rows after the channel names", line=header.names_row + 1)
    return block


def _time_column(entries: list[tuple[str, str]]) -> int | None:
    """``xtime``, else the first column with "time" in its name and a time unit."""
    lowered = [n.lower() for n, _ in entries]
    ti = next((i for i, n in enumerate(lowered) if n == "xtime"), None)
    if ti is None:
        ti = next((i for i, n in enumerate(lowered) if "time" in n and entries[i][1].lower() in _TIME_SCALE), None)
    return ti


def _time_base(path: Path, header: _Header, block: Block, warnings: list[str]) -> tuple[int, float, IntArray]:
    """The time column's index, its first value in seconds, and all of them as checked microseconds."""
    ti = _time_column(header.entries)
    raw_time = block.values[ti] if ti is not None else None
    if ti is None or raw_time is None:
        raise LoggerFileError(
            path,
            "no time axis (xtime): export from WinDarab with time as the x axis",
            line=header.names_row,
            field_name="xtime",
        )
    name, unit = header.entries[ti]
    if np.isnan(raw_time).any():
        row = int(np.flatnonzero(np.isnan(raw_time))[0])
        raise LoggerFileError(path, "time is missing", line=block.line_of(row), field_name=name)
    scale = _TIME_SCALE.get(unit.lower(), 1.0)
    seconds = raw_time * scale if scale != 1.0 else raw_time  # no copy of a column in seconds
    t_us = timebase.checked_microseconds(seconds, path, block.line_of, name)
    timebase.check_backward_steps(t_us, path, warnings, block.line_of)
    return ti, float(seconds[0]), t_us


def _metadata(comments: list[str], first_s: float, time: FloatArray) -> dict[str, str]:
    """The export's date, window and source file from the comments, and a first xtime not at 0."""
    metadata: dict[str, str] = {}
    for c in comments:
        for key, rx in (("exported", _CREATED), ("window", _WINDOW), ("source file", _SOURCE)):
            m = rx.search(c)
            if m and key not in metadata:
                metadata[key] = m.group(1)
    if time.shape[0] and first_s != 0.0:
        metadata["first xtime"] = f"{first_s:.3f}"
    return metadata
