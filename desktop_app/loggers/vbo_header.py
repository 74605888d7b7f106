"""The text part of a Racelogic VBO file: everything above ``[data]`` (docs/formats.md#racelogic-vbo).

Kept apart from :mod:`.vbo` (which parses the data block) because the header has most of
the traps: decoding, sections in any case and order, the ``File created on`` line, column
names that disagree with the data, units in long names and misaligned ``[channel units]``.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from .channels import normalise_unit
from .recording import LoggerFileError
from .textblock import decode_text as decode

#: the ``[data]`` line (any case, maybe a BOM); shared with the reader's head scan
DATA_LINE = re.compile(rb"(?im)^(?:\xef\xbb\xbf)?[ \t]*\[data\][ \t]*\r?$")
_SECTION = re.compile(r"^\s*\[([^\]]+)\]\s*$")
_CREATED = re.compile(
    r"file created on\s+(\d{1,2})/(\d{1,2})/(\d{4})\s*(?:@|at)?\s*(\d{1,2}):(\d{2})(?::(\d{2}))?",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?$")
#: a VBO header (everything above ``[data]``) longer than this is not one: real headers are
#: a few kilobytes, and the reader must not load a whole file looking for ``[data]``
MAX_HEADER_BYTES = 16 << 20
#: more values per data row than this is not a logger's row (real VBOs have under 100)
MAX_VALUES_PER_ROW = 10_000
_LOG_RATE = re.compile(r"log\s*rate\s*\(hz\)\s*:\s*([\d.,]+)", re.IGNORECASE)

#: a unit written as the last word of a long (or short) name: ``velocity kmh``, ``long accel g``
NAME_UNITS = {
    "kmh": "km/h",
    "km/h": "km/h",
    "kph": "km/h",
    "knots": "knots",
    "kts": "knots",
    "mph": "mph",
    "g": "g",
    "m/s": "m/s",
    "m/s2": "m/s2",
    "m/s^2": "m/s^2",
}

#: Racelogic GPS-engine channels (and the names other writers use for them): units come from
#: the format itself, never from ``[channel units]`` (docs/formats.md#vbo-header)
GPS_CHANNELS = {
    "sats", "satellites", "time", "lat", "latitude", "long", "lng", "longitude", "velocity",
    "heading", "height", "vert-vel", "tsample", "solution_type", "avifileindex", "avitime",
    "event-1", "event-2", "glonass_sats", "gps_sats", "velocity_quality",
}  # fmt: skip


def split_unit(name: str) -> tuple[str, str | None]:
    """``'velocity kmh'`` -> ``('velocity', 'km/h')``; names without a unit word unchanged."""
    parts = name.strip().rsplit(None, 1)
    if len(parts) == 2 and parts[1].lower() in NAME_UNITS:
        return parts[0].strip(), NAME_UNITS[parts[1].lower()]
    return name.strip(), None


@dataclass
class VboHeader:
    """What the header says, with the data block located in the raw bytes."""

    data_offset: int  #: byte offset of the first data line
    data_first_line: int  #: its 1-based line number
    preamble: list[str] = field(default_factory=list)
    sections: dict[str, list[str]] = field(default_factory=dict)
    #: 1-based line number of each section's ``[name]`` line
    section_line: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def lines(self, name: str) -> list[str]:
        """Non-blank, stripped lines of a section (case-insensitive name)."""
        return [ln.strip() for ln in self.sections.get(name, []) if ln.strip()]

    def created_on(self) -> datetime | None:
        """The naive date-time of the ``File created on`` line, if it is there and valid."""
        for line in self.preamble:
            m = _CREATED.search(line)
            if m:
                d, mo, y, h, mi, s = (int(g) if g else 0 for g in m.groups())
                try:
                    return datetime(y, mo, d, h, mi, s)
                except ValueError:
                    self.warnings.append(f"'File created on' date {m.group(0)!r} is not a valid date")
                    return None
        return None

    def log_rate(self) -> float | None:
        """``Log Rate (Hz) : 100.00`` from ``[comments]``, if present."""
        for line in self.lines("comments"):
            m = _LOG_RATE.search(line)
            if m:
                try:
                    rate = float(m.group(1).replace(",", "."))
                except ValueError:
                    return None
                return rate if rate > 0 else None
        return None

    def column_names(self, path: Path, nvalues: int) -> tuple[list[str], list[str] | None]:
        """Reconcile column names with the data (docs/formats.md#vbo-header).

        Returns (names, long names paired by position or None). Raises
        :class:`LoggerFileError` with the three counts when nothing matches.
        """
        raw = [ln.strip() for ln in self.sections.get("column names", []) if ln.strip()]
        names_lines = []
        for ln in raw:
            tokens = ln.split()
            if tokens and all(_NUMBER.match(t) for t in tokens):
                # Example_File.VBO has a stray data-like row right after its names
                self.warnings.append(f"a row of numbers inside [column names] ignored: {ln[:40]!r}…")
                continue
            names_lines.append(ln)
        if len(names_lines) > 1:
            short = names_lines
        elif names_lines:
            short = names_lines[0].split()
        else:
            short = []
        long_names = self.lines("header")
        longs = long_names if len(long_names) == nvalues else None
        if len(short) == nvalues:
            return short, longs
        if longs is not None:
            if short:
                self.warnings.append(
                    f"[column names] has {len(short)} names for {nvalues} values per row: names taken from [header]"
                )
            return list(longs), longs
        raise LoggerFileError(
            path,
            f"cannot match names to data: [column names] has {len(short)} names, "
            f"[header] {len(long_names)} lines, data rows {nvalues} values",
            line=self.section_line.get("column names", self.section_line.get("header", self.data_first_line)),
            field_name="column names",
        )

    def aligned_units(self, names: list[str]) -> list[str]:
        """``[channel units]`` aligned to the last columns, best effort (docs/formats.md#vbo-header).

        Never used for GPS channels (or secondary-antenna copies, ``_lat``...); units that
        look like text rather than a unit are dropped.
        """
        units = [u.strip() for u in self.sections.get("channel units", [])]
        while units and not units[-1]:
            units.pop()
        out = [""] * len(names)
        if not units:
            return out
        start = len(names) - len(units)
        for i, unit in enumerate(units):
            col = start + i
            if col < 0 or col >= len(names):
                continue
            name = names[col].strip().lower()
            if name in GPS_CHANNELS or name.startswith("_"):
                continue
            u = normalise_unit(unit)
            if len(u) > 10 or "(" in u or " " in u:
                continue  # e.g. '°_(Degree': not a unit we can use
            out[col] = u
        return out


def parse_header(path: Path, raw: bytes) -> VboHeader:
    """Split the header into sections and locate ``[data]``."""
    m = DATA_LINE.search(raw)
    if m is None:
        lines = raw.count(b"\n") + (0 if raw.endswith(b"\n") else 1)
        raise LoggerFileError(
            path,
            f"no [data] section in the {'file' if len(raw) < MAX_HEADER_BYTES else 'header'} "
            f"(read to line {lines}): not a complete VBO file",
            line=lines,
            field_name="[data]",
        )
    end = m.end()
    if raw[end : end + 1] == b"\n":
        end += 1
    first_line = raw.count(b"\n", 0, end) + 1
    header = VboHeader(data_offset=end, data_first_line=first_line)
    current: list[str] = header.preamble
    for number, line in enumerate(decode(raw[: m.start()]).split("\n"), start=1):
        line = line.rstrip("\r")
        sm = _SECTION.match(line)
        if sm:
            name = sm.group(1).strip().lower()
            current = header.sections.setdefault(name, [])
            header.section_line.setdefault(name, number)
            continue
        current.append(line)
    return header


def values_per_row(data: bytes | memoryview, path: Path, first_line: int) -> tuple[int, bool]:
    """(most common value count over the first rows, decimal comma?).

    See docs/formats.md#vbo-header (the count) and docs/formats.md#vbo-data-rows (the commas).
    """
    counts: Counter[int] = Counter()
    comma = False
    for i, line in enumerate(bytes(data[:200_000]).split(b"\n", 50)[:50]):
        tokens = line.split()
        if not tokens:
            continue
        counts[len(tokens)] += 1
        if i < 5 and any(re.fullmatch(rb"[+-]?\d{6},\d+", t) for t in tokens[:8]):
            comma = True
    if not counts:
        raise LoggerFileError(path, "the [data] section has no rows", line=first_line)
    nvalues = counts.most_common(1)[0][0]
    if nvalues > MAX_VALUES_PER_ROW:
        raise LoggerFileError(
            path,
            f"data rows have {nvalues:,} values, more than a logger writes ({MAX_VALUES_PER_ROW:,})",
            line=first_line,
        )
    return nvalues, comma
