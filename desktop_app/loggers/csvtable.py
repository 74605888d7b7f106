"""The layout AiM and MoTeC CSV exports share (docs/formats.md#csv-exports).

Both write a header of metadata records up to a names row whose first field is ``Time``,
then a units row, then the data block; only the metadata records differ (AiM: key and
values; MoTeC: a grid of two key, value, unit columns) and the way beacons are written.
What is the same is here once: finding the names row, reading the units row and the
block into a :class:`Table`, and turning the table into a :class:`Recording`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

import numpy as np

from storage.types import FloatArray

from .channels import SourceChannel, build_channels
from .csvmeta import HeaderLine, looks_like_data, parse_float, repair_time
from .recording import Channel, LoggerFileError, Recording
from .textblock import Block, BlockOptions, parse_file_block
from .timebase import IntArray, relative_seconds

_Format = Literal["aim", "motec"]
_COMMA_DECIMAL = re.compile(r"^[+-]?\d+,\d+$")


def find_names_row(
    path: Path,
    rows: Iterable[HeaderLine],
    is_names_row: Callable[[HeaderLine], bool],
    take_metadata: Callable[[HeaderLine], None],
    *,
    after: HeaderLine,
) -> HeaderLine:
    """The names row; every non-blank record before it is handed to ``take_metadata``.

    The search stops at the first record that looks like data (a damaged names row then
    fails there, not after reading every line as metadata). ``after`` is the record read
    before ``rows``, named in the message when there is no names row at all.
    """
    last = after
    for row in rows:
        last = row
        if row.blank:
            continue
        if is_names_row(row):
            return row
        if looks_like_data(row):
            break
        take_metadata(row)
    raise LoggerFileError(path, "channel names row (starting 'Time') not found", line=last.number)


@dataclass
class Table:
    """The data block of an AiM or MoTeC export: time base and the other columns."""

    time_us: IntArray
    names: list[str]  #: names of ``columns`` (the time column excluded), as in the file
    units: list[str]  #: their units as written
    columns: list[FloatArray]
    text: dict[str, str]  #: text columns: name -> first non-empty cell
    #: per column of ``columns``: the labels of a text column's codes, else None
    labels: list[tuple[str, ...] | None]
    warnings: list[str]

    def on_time_axis(self, beacons: list[float] | None) -> list[float] | None:
        """Beacon times written on the file's ``Time`` axis, moved to ours (``time[0]`` is 0)."""
        t0 = self.time_us[0] / 1e6
        if not beacons or t0 == 0.0:
            return beacons
        return [b - t0 for b in beacons]

    def channels(self, fmt: _Format) -> dict[str, Channel]:
        sources = [
            SourceChannel(n, u, v, lab) for n, u, v, lab in zip(self.names, self.units, self.columns, self.labels)
        ]
        return build_channels(fmt, sources, self.warnings)

    def recording(
        self,
        path: Path,
        fmt: _Format,
        channels: dict[str, Channel],
        *,
        logger: str,
        started_at: datetime | None,
        sample_rate_hz: float | None,
        beacons: list[float] | None,
        track: str | None,
        metadata: dict[str, str],
    ) -> Recording:
        """The checked recording; the first cell of each text column joins the metadata."""
        rec = Recording(
            path=path,
            format=fmt,
            time=relative_seconds(self.time_us),
            channels=channels,
            logger=logger,
            started_at=started_at,
            sample_rate_hz=sample_rate_hz,
            beacons=beacons,
            track=track,
            metadata={**metadata, **self.text},
            warnings=self.warnings,
        )
        rec.check()
        return rec


def read_table(path: Path, names: HeaderLine, rest: Iterator[HeaderLine]) -> Table:
    """Units row, then the data block, after a names row whose first column is the time.

    Blank lines and comma-only records between the rows are skipped; blank records inside
    the data are padding and dropped. Decimal commas (quoted ``"0,050"``) are detected on
    the first data row.
    """
    units = _units_row(path, names, rest)
    first = next((line for line in rest if not line.blank), None)
    if first is None:
        raise LoggerFileError(path, "no data rows after the units row", line=units.number + 1)
    ncols = len(names.fields)
    decimal_comma = any(_COMMA_DECIMAL.match(f) for f in first.fields)
    options = BlockOptions(first_line=first.number, ncols=ncols, names=names.fields, decimal_comma=decimal_comma)
    block = parse_file_block(path, first.start, options)
    warnings = list(block.warnings)
    if not block.values or block.values[0] is None:
        raise LoggerFileError(path, "the time column holds text, not numbers", line=first.number)
    present = [i for i, v in enumerate(block.values) if v is not None]
    kept = _drop_blank_records(path, block, present, first)
    time_col = block.values[0]
    assert time_col is not None

    def line_of(r: int) -> int:
        return block.line_of(int(kept[r]) if kept is not None else r)

    cols = [v for v in (block.values[i] for i in present if i > 0) if v is not None]
    block.values.clear()  # the Table holds the columns now: no second reference to free later
    time_us, cols = repair_time(path, time_col, cols, line_of, warnings)
    unit_cells = units.fields + [""] * (ncols - len(units.fields))
    return Table(
        time_us=time_us,
        names=[names.fields[i] for i in present if i > 0],
        units=[unit_cells[i] for i in present if i > 0],
        columns=cols,
        text={names.fields[i]: t for i, t in block.text.items()},
        labels=[block.labels.get(i) for i in present if i > 0],
        warnings=warnings,
    )


def _units_row(path: Path, names: HeaderLine, rest: Iterator[HeaderLine]) -> HeaderLine:
    """The first non-blank record after the names row: no more entries than names, not a number."""
    units = next((line for line in rest if not line.blank), None)
    if units is None or parse_float(units.fields[0]) is not None:
        where = names.number + 1 if units is None else units.number
        raise LoggerFileError(path, "units row missing after the channel names row", line=where)
    if len(units.fields) > len(names.fields):
        raise LoggerFileError(
            path, f"units row has {len(units.fields)} entries for {len(names.fields)} channel names", line=units.number
        )
    return units


def _drop_blank_records(path: Path, block: Block, present: list[int], first: HeaderLine) -> IntArray | None:
    """Comma-only records (spreadsheet padding) parse as all-empty rows: they are not samples.

    Drops them from every column in place; returns the block rows kept (None: all).
    """
    values = block.values
    blank = _blank_rows([v for v in (values[i] for i in present) if v is not None])
    if blank.all():
        raise LoggerFileError(path, "no data rows after the units row", line=first.number)
    if not blank.any():
        return None
    rows = np.flatnonzero(~blank)
    del blank
    # one column copied at a time, its full-length original dropped from the block
    for i in present:
        column = values[i]
        assert column is not None
        values[i] = column[rows]
    return rows


def _blank_rows(columns: list[FloatArray]) -> np.ndarray:
    """Rows empty in every column (the first column decides alone when it has none)."""
    blank = np.isnan(columns[0])
    for column in columns[1:]:
        if not blank.any():
            break
        blank &= np.isnan(column)
    return blank
