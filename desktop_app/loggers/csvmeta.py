"""Shared header parsing for the CSV loggers (RaceChrono, AiM, MoTeC): docs/formats.md#csv-exports.

These formats put a few lines of metadata (key/value records, a names row, a units row)
in front of one big numeric block. The header is small, so it is read here line by line
with the standard ``csv`` module (it handles quoting); the numeric block is left to the
vectorised block parser (:mod:`textblock`). Also here: the locale dates and 12-hour
clock times these headers carry, and the check of the time column before the repairs of
:mod:`timebase`. The names / units / data layout AiM and MoTeC share is :mod:`.csvtable`.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path

import numpy as np

from storage.types import FloatArray

from . import timebase
from .recording import LoggerFileError
from .textblock import decode_text
from .timebase import IntArray

_BOM = b"\xef\xbb\xbf"
#: a header line (metadata, names, units) longer than this is not one: the longest real
#: names rows are a few kilobytes (a 20,000-channel row is about 400 KB)
MAX_HEADER_LINE_BYTES = 4 << 20
#: fields per header row at most: real exports have a few hundred channels
MAX_FIELDS = 50_000


@dataclass(frozen=True)
class HeaderLine:
    """One line of a file's header: 1-based number, byte span, decoded text, CSV fields."""

    number: int
    start: int  #: byte offset of the line's first byte
    end: int  #: byte offset just past its line ending (the next line's start)
    text: str  #: decoded, without the line ending
    fields: list[str]  #: CSV fields, unquoted and trimmed, trailing empty fields dropped

    @property
    def blank(self) -> bool:
        """True for an empty line and for a record made of empty fields only (``,,,,``)."""
        return not self.fields


class FileHead:
    """The start of a logger file, read on demand: enough for its header lines.

    The data block after the header stays on disk; the readers hand its byte offset to
    :func:`.textblock.parse_file_block`, which streams it, so a big file is never held in
    memory whole.
    """

    STEP = 1 << 16

    def __init__(self, path: Path) -> None:
        self.path = path
        self.data = b""
        self.complete = False
        if path.is_dir():
            raise LoggerFileError(path, "is a folder, not a logger file")
        self.more()
        # an empty file, or one of only whitespace: nothing to read
        while not self.data.strip() and not self.complete:
            self.more()
        if not self.data.strip():
            raise LoggerFileError(path, "the file is empty", offset=0)

    def more(self) -> None:
        """Read the next part of the file (as much again as is held, at least :attr:`STEP`)."""
        if self.complete:
            return
        try:
            with open(self.path, "rb") as fh:
                fh.seek(len(self.data))
                chunk = fh.read(max(self.STEP, len(self.data)))
        except FileNotFoundError:
            raise LoggerFileError(self.path, "no such file") from None
        except OSError as exc:
            raise LoggerFileError(self.path, f"cannot be read: {exc.strerror or exc}") from None
        self.data += chunk
        self.complete = not chunk


def read_head(path: Path) -> FileHead:
    """The head of ``path`` (see :class:`FileHead`); :class:`LoggerFileError` if it cannot be read or is empty."""
    return FileHead(path)


def split_fields(text: str) -> list[str]:
    """CSV fields of one record: unquoted, trimmed, trailing empty (padding) fields dropped."""
    try:
        row = next(csv.reader([text], strict=False), [])
    except csv.Error:
        # e.g. a NUL byte on old Pythons: fall back to a plain split, the caller validates
        row = text.split(",")
    fields = [f.strip() for f in row]
    while fields and not fields[-1]:
        fields.pop()
    return fields


def header_lines(head: FileHead, start: int = 0) -> Iterator[HeaderLine]:
    """Lines of the file from byte ``start`` (a BOM at 0 is skipped), parsed as CSV records.

    A generator that reads the file further only as lines are pulled, so a reader stops
    reading as soon as its header is complete and the numeric block is never split into
    Python lines.
    """
    pos = start
    if pos == 0 and head.data.startswith(_BOM):
        pos = len(_BOM)
    number = 0
    while True:
        nl = head.data.find(b"\n", pos)
        if nl < 0 and not head.complete:
            if len(head.data) - pos > MAX_HEADER_LINE_BYTES:
                _too_long(head.path, number + 1)
            head.more()
            continue
        data = head.data
        size = len(data)
        if pos >= size:
            return
        number += 1
        end = size if nl < 0 else nl + 1
        if end - pos > MAX_HEADER_LINE_BYTES:
            _too_long(head.path, number)
        raw = data[pos : (size if nl < 0 else nl)].rstrip(b"\r")
        text = decode_text(raw)  # the BOM is already skipped, so this decodes only
        # counted before the CSV split: a million-field row is refused without building it
        fields = split_fields(text) if raw.count(b",") < MAX_FIELDS else [""] * (raw.count(b",") + 1)
        if len(fields) > MAX_FIELDS:
            raise LoggerFileError(
                head.path,
                f"line has {len(fields):,} fields, more than a logger writes ({MAX_FIELDS:,} at most)",
                line=number,
            )
        yield HeaderLine(number, pos, end, text, fields)
        pos = end


def _too_long(path: Path, number: int) -> None:
    raise LoggerFileError(
        path,
        f"line is longer than {MAX_HEADER_LINE_BYTES >> 20} MiB before the data begins: not a logger's header line",
        line=number,
    )


def first_line(path: Path, lines: Iterator[HeaderLine]) -> HeaderLine:
    """The first line, or :class:`LoggerFileError` when there is none (a lone BOM)."""
    line = next(lines, None)
    if line is None:
        raise LoggerFileError(path, "the file is empty", offset=0)
    return line


def looks_like_data(line: HeaderLine) -> bool:
    """A record that starts with a number and has several fields: the data has begun.

    Readers stop their header search there, so a file whose names row is damaged fails
    at the first data line instead of after reading every line as metadata.
    """
    return len(line.fields) > 2 and parse_float(line.fields[0]) is not None


def keyvalue(fields: list[str], key_at: int = 0) -> tuple[str, str] | None:
    """``(key, value)`` from fields ``key_at`` and ``key_at + 1``; None when the key is empty."""
    if len(fields) <= key_at or not fields[key_at]:
        return None
    value = fields[key_at + 1] if len(fields) > key_at + 1 else ""
    return fields[key_at], value


# --- dates and clock times -------------------------------------------------------------

_CLOCK = re.compile(
    r"^(?P<h>\d{1,2}):(?P<m>\d{2})(?::(?P<s>\d{2})(?:\.(?P<f>\d{1,6}))?)?"
    r"\s*(?P<ampm>[AaPp]\.?\s*[Mm]\.?)?$"
)
_NUMERIC_DATE = re.compile(r"^(?P<a>\d{1,4})[/.\-](?P<b>\d{1,2})[/.\-](?P<c>\d{1,4})$")
_LONG_DATE_FORMATS = ("%A, %B %d, %Y", "%B %d, %Y", "%A, %d %B %Y", "%d %B %Y", "%a, %b %d, %Y", "%b %d, %Y")


def parse_clock(text: str) -> time | None:
    """A wall-clock time: ``3:42 PM``, ``11:38:16 PM``, ``15:42``, ``15:42:07.5``; None if not one."""
    m = _CLOCK.match(text.strip())
    if m is None:
        return None
    hour, minute = int(m["h"]), int(m["m"])
    second = int(m["s"] or 0)
    micro = int((m["f"] or "0").ljust(6, "0"))
    if m["ampm"]:
        if not 1 <= hour <= 12:
            return None
        pm = m["ampm"][0] in "Pp"
        hour = hour % 12 + (12 if pm else 0)
    if hour > 23 or minute > 59 or second > 59:
        return None
    return time(hour, minute, second, micro)


def parse_date(text: str, *, month_first: bool) -> tuple[date | None, str | None]:
    """A locale date: ISO, ``5/22/2026``, ``22.05.2026``, ``Sunday, June 19, 2022``...

    Returns ``(date, note)``. ``month_first`` says how to read an ambiguous numeric date
    (both parts <= 12): the writer's usual order; ``note`` then says it was a guess.
    ``(None, reason)`` when the text is not a date.
    """
    text = text.strip()
    if not text:
        return None, "no date"
    m = _NUMERIC_DATE.match(text)
    if m is None:
        # strptime is slow (a regex per format) and a numeric date never has a month name
        for fmt in _LONG_DATE_FORMATS:
            try:
                return datetime.strptime(text, fmt).date(), None
            except ValueError:
                continue
        return None, f"unrecognised date {text!r}"
    a, b, c = (int(m[k]) for k in ("a", "b", "c"))
    note = None
    if len(m["a"]) == 4:  # ISO order year-month-day
        year, month, day = a, b, c
    else:
        year = c + 2000 if c < 100 else c
        if a > 12 >= b:
            day, month = a, b
        elif b > 12 >= a:
            month, day = a, b
        else:
            month, day = (a, b) if month_first else (b, a)
            if a != b:
                order = "month/day" if month_first else "day/month"
                note = f"date {text!r} is ambiguous; read as {order}/year"
    try:
        return date(year, month, day), note
    except ValueError:
        return None, f"invalid date {text!r}"


def local_start(
    date_text: str | None, clock_text: str | None, *, month_first: bool, warnings: list[str]
) -> datetime | None:
    """Naive local start from a date and a clock field (AiM, MoTeC: no zone, docs/formats.md#session-start).

    Anything unparsable becomes a warning and ``None``: a missing start never stops an
    import.
    """
    if not date_text:
        return None
    day, note = parse_date(date_text, month_first=month_first)
    if day is None:
        warnings.append(f"session start unknown: {note}")
        return None
    if note:
        warnings.append(note)
    clock = parse_clock(clock_text) if clock_text else None
    if clock_text and clock is None:
        warnings.append(f"session start time {clock_text!r} not understood; using midnight")
    return datetime.combine(day, clock or time(0))


def parse_float(text: str) -> float | None:
    """A number written with ``.`` or a lone decimal comma; None if it is not one."""
    t = text.strip()
    if t.count(",") == 1 and "." not in t:
        t = t.replace(",", ".")
    try:
        value = float(t)
    except ValueError:
        return None
    return value if value == value and abs(value) != float("inf") else None


def sample_rate(text: str, warnings: list[str]) -> float | None:
    """A ``Sample Rate`` field in Hz; None (with a warning if it was not empty) unless > 0."""
    if not text:
        return None
    value = parse_float(text)
    if value is None or value <= 0:
        warnings.append(f"Sample Rate {text!r} is not a rate in Hz: ignored")
        return None
    return value


def parse_duration(text: str) -> float | None:
    """Seconds from ``m:ss.sss``, ``h:mm:ss.sss`` or a plain number; None if not a duration."""
    parts = text.strip().split(":")
    if not 1 <= len(parts) <= 3:
        return None
    total = 0.0
    for part in parts:
        value = parse_float(part)
        if value is None or value < 0:
            return None
        total = total * 60.0 + value
    return total


# --- time base (docs/formats.md#time-base; the repairs themselves live in timebase.py) ---

#: beyond this many seconds the conversion to integer microseconds could overflow, and
#: no logger writes such a time
MAX_ABS_SECONDS = 1e12


def repair_time(
    path: Path,
    seconds: FloatArray,
    columns: list[FloatArray],
    line_of: Callable[[int], int],
    warnings: list[str],
) -> tuple[IntArray, list[FloatArray]]:
    """Time cells -> integer microseconds, repeated rows folded, backward steps checked.

    ``line_of`` maps a row index of ``seconds`` to its file line, for the messages. A
    missing (NaN) or absurd time cell makes its row unplaceable: an error, not a repair.
    """
    bad = ~np.isfinite(seconds) | (np.abs(seconds) > MAX_ABS_SECONDS)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        value = float(seconds[row])
        what = "empty or not a number" if not np.isfinite(value) else f"out of range ({value:g})"
        raise LoggerFileError(path, f"time cell is {what}", line=line_of(row))
    time_us = timebase.to_microseconds(seconds)
    kept = np.flatnonzero(np.concatenate(([True], time_us[1:] != time_us[:-1])))
    time_us, columns = timebase.merge_repeated(time_us, columns, warnings)
    timebase.check_backward_steps(time_us, path, warnings, lambda i: line_of(int(kept[i])))
    return time_us, columns
