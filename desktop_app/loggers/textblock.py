"""Vectorised parsing of the numeric data block of a text logger file.

Every text format (VBO, WinDarab, RaceChrono, AiM, MoTeC) ends in a big block of
delimited numbers. :func:`parse_block` hands that block to ``pyarrow.csv`` (C++,
multi-threaded) instead of splitting lines in Python, and returns one float64 numpy
array per column.

Decisions (docs/formats.md#text-and-numbers):

- Empty cells are NaN.
- A column whose cells are ``true``/``false`` (any case) becomes 1.0/0.0.
- A column with no numeric cell at all (``b'3D-fix'``, free text) is a *text column*:
  its values are ``None`` in :attr:`Block.values`, its first non-empty cell is kept in
  :attr:`Block.text` for metadata, and a warning says it was skipped.
- A numeric column with a few non-numeric cells keeps its numbers; the odd cells are
  NaN and one warning names the first such line and how many there were.
- A row with the wrong number of values is an error (:class:`LoggerFileError` naming the
  file and line), except a short *last* row, which loggers write on power loss: it is
  dropped with a warning when ``allow_short_last_row`` is true.

Speed and memory: blocks up to 4 MB go whole through the multi-threaded ``read_csv``.
Larger ones (:func:`parse_file_block` streams them straight from the file) are cut into
line-aligned chunks of a few MB, each parsed by the threaded ``read_csv`` and copied into
numpy arrays preallocated from a row estimate (pages never written are never resident),
so the peak is about the decoded columns plus one chunk's text and table, never text +
Arrow table + numpy copies at once.

Whitespace: pyarrow does not trim numbers, so when the first row shows padding it is
removed on line-aligned chunks as they stream (``bytes.replace``; regular expressions
only for a space delimiter). Line numbers survive: newlines are never removed. Decimal
commas are pyarrow's ``decimal_point=','``; a block that is not valid UTF-8 is transcoded
first (pyarrow's bad-row report decodes the row as UTF-8).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from storage.types import FloatArray

from .recording import LoggerFileError
from .textsource import BlockSource, Buf, NotUtf8, first_row, looks_padded, nonblank_line_index

_TRUE = {"true"}
_FALSE = {"false"}
#: what pyarrow's float parser accepts, after trimming (used for mixed columns)
_NUMBER = r"^[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?|nan|NaN|inf|-inf|Inf)$"
_COLUMN_ERROR = re.compile(r"In CSV column #(\d+)")
#: pyarrow streaming block: small enough that the batches in flight stay small beside the
#: decoded columns, large enough to keep the per-batch overhead negligible
_BLOCK_SIZE = 1 << 20
_THREADS = True
#: blocks up to this size are read whole by the threaded read_csv, larger ones in chunks
_READ_WHOLE_MAX = 1 << 22
#: pyarrow.compute untyped: pyarrow-stubs' overloads reject valid chains of ChunkedArray results
_pc: Any = pc


@dataclass
class Block:
    """A parsed data block: one entry per column, in file order."""

    #: float64 values per column (NaN where empty); None for a text column
    values: list[FloatArray | None]
    #: text columns: column index -> first non-empty cell
    text: dict[int, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    #: file line number (1-based) of the block's first line
    first_line: int = 1
    dropped_last_row: bool = False
    _source: BlockSource | None = field(default=None, repr=False)
    _line_starts: np.ndarray | None = field(default=None, repr=False)
    _rows: int = 0

    @property
    def row_count(self) -> int:
        return self._rows

    def line_of(self, row: int) -> int:
        """The file line number of parsed row ``row`` (blank lines are skipped by the parser)."""
        # pyarrow skips blank lines: if there are none, row i is simply line i of the block
        if self._source is None or self._source.line_count() == self._rows + self.dropped_last_row:
            return self.first_line + row
        if self._line_starts is None:
            self._line_starts = nonblank_line_index(self._source.load())
        if not 0 <= row < self._line_starts.shape[0]:
            return self.first_line + row
        return self.first_line + int(self._line_starts[row])


def decode_text(raw: bytes) -> str:
    """UTF-8 (BOM stripped), else cp1252, else latin-1: never fails (docs/formats.md#text-and-numbers)."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    for encoding in ("utf-8", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")


def _line_of_text(data: Buf, text: str) -> int:
    """0-based line offset within the (normalised) block of the first line equal to ``text``."""
    needle = text.encode("utf-8", errors="replace")
    for i, line in enumerate(bytes(data).split(b"\n")):
        if line.rstrip(b"\r") == needle:
            return i
    return 0


def _count_fields(line: bytes, delimiter: bytes) -> int:
    if delimiter == b" " or b'"' not in line:
        return line.count(delimiter) + 1
    row = next(csv.reader([line.decode("utf-8", errors="replace")], delimiter=delimiter.decode()))
    return len(row)


def _convert_text_column(col: pa.ChunkedArray[Any], idx: int, name: str, block: Block, path: Path) -> FloatArray | None:
    """Booleans -> 1/0; numbers with odd text cells -> numbers and NaN; pure text -> None."""
    strings = _pc.utf8_trim_whitespace(col.cast(pa.string()))
    lowered = _pc.utf8_lower(strings)
    non_empty = _pc.fill_null(_pc.not_equal(strings, ""), False)
    is_true = _pc.fill_null(_pc.is_in(lowered, value_set=pa.array(sorted(_TRUE))), False)
    is_false = _pc.fill_null(_pc.is_in(lowered, value_set=pa.array(sorted(_FALSE))), False)
    is_num = _pc.fill_null(_pc.match_substring_regex(strings, _NUMBER), False)
    n_non_empty = _pc.sum(non_empty).as_py() or 0
    n_bool = (_pc.sum(is_true).as_py() or 0) + (_pc.sum(is_false).as_py() or 0)
    n_num = _pc.sum(is_num).as_py() or 0
    if n_non_empty == 0:
        return np.full(len(col), np.nan)
    if n_num == 0 and n_bool == 0:
        first = _pc.filter(strings, non_empty)[0].as_py()
        block.text[idx] = str(first)
        block.warnings.append(f"column {name!r} holds text ({first!r}), not numbers: kept as metadata, not a channel")
        return None
    nums = _pc.cast(_pc.if_else(is_num, strings, pa.scalar(None, pa.string())), pa.float64())
    out = np.array(_pc.fill_null(nums, np.nan).to_numpy(zero_copy_only=False), dtype=np.float64)
    if n_bool:
        out[np.asarray(is_true.to_numpy(zero_copy_only=False), dtype=bool)] = 1.0
        out[np.asarray(is_false.to_numpy(zero_copy_only=False), dtype=bool)] = 0.0
    bad = _pc.and_(non_empty, _pc.invert(_pc.or_(is_num, _pc.or_(is_true, is_false))))
    n_bad = _pc.sum(bad).as_py() or 0
    if n_bad:
        row = int(np.flatnonzero(np.asarray(bad.to_numpy(zero_copy_only=False), dtype=bool))[0])
        cell = strings[row].as_py()
        block.warnings.append(
            f"{path}, line {block.line_of(row)}: column {name!r} has {n_bad} non-numeric "
            f"cell(s) (first {cell!r}): read as missing values"
        )
    return out


def parse_block(
    data: bytes | bytearray | memoryview | str,
    *,
    path: str | Path,
    first_line: int,
    ncols: int,
    delimiter: str = ",",
    decimal_comma: bool = False,
    names: list[str] | None = None,
    allow_short_last_row: bool = True,
) -> Block:
    """Parse a delimited numeric block held in memory into float64 columns.

    ``data`` is the block exactly as in the file (bytes, a view, or decoded text);
    ``first_line`` is the 1-based file line number of its first line, used in messages;
    ``ncols`` the number of columns the header promises; ``names`` (optional) the column
    names used in warnings. Rows may end in a trailing delimiter (the extra, empty field
    is ignored). Quoted fields are understood when the delimiter is not a space.

    Raises :class:`LoggerFileError` (file, line, what) for rows with the wrong number of
    values or data pyarrow cannot tokenise.
    """
    raw: Buf = data.encode("utf-8") if isinstance(data, str) else data if isinstance(data, bytes) else memoryview(data)
    return _parse(
        BlockSource(data=raw), Path(path), first_line, ncols, delimiter, decimal_comma, names, allow_short_last_row
    )


def parse_file_block(
    path: str | Path,
    offset: int,
    *,
    first_line: int,
    ncols: int,
    delimiter: str = ",",
    decimal_comma: bool = False,
    names: list[str] | None = None,
    allow_short_last_row: bool = True,
) -> Block:
    """Like :func:`parse_block`, for the block that runs from byte ``offset`` to the end of ``path``.

    The file is streamed through pyarrow in blocks straight into preallocated numpy
    columns, so the text is never held in memory whole (peak ~ the decoded columns).
    """
    p = Path(path)
    return _parse(
        BlockSource(path=p, offset=offset), p, first_line, ncols, delimiter, decimal_comma, names, allow_short_last_row
    )


def _parse(
    source: BlockSource,
    p: Path,
    first_line: int,
    ncols: int,
    delimiter: str,
    decimal_comma: bool,
    names: list[str] | None,
    allow_short_last_row: bool,
) -> Block:
    delim = delimiter.encode("ascii")
    if ncols < 1:
        raise LoggerFileError(p, "the data block has no columns", line=first_line)
    col_names = names if names is not None and len(names) == ncols else [f"c{i + 1}" for i in range(ncols)]
    head_row = first_row(source.head())
    if not head_row:
        return Block(values=[np.empty(0, np.float64) for _ in range(ncols)], first_line=first_line)
    # fast path: hand the bytes to pyarrow untouched; normalise padding only when needed
    raw = source
    # a stray Latin-1 byte would make pyarrow's bad-row report itself fail: transcode. A
    # block read whole is checked here; a chunked one chunk by chunk as it is parsed
    # (NotUtf8 below), which saves a pass over the file
    if source.size() <= _READ_WHOLE_MAX and not source.is_utf8():
        source = raw = _transcoded(source)
    normalised = looks_padded(head_row, delim)
    if normalised:
        source = source.normalised(delim)
    block = Block(values=[], first_line=first_line, _source=source)

    bad_rows: list[pcsv.InvalidRow] = []

    def on_invalid(row: pcsv.InvalidRow) -> Literal["skip", "error"]:
        bad_rows.append(row)
        return "error" if len(bad_rows) > 1 else "skip"

    parse = pcsv.ParseOptions(
        delimiter=delimiter, quote_char='"' if delim != b" " else False, invalid_row_handler=on_invalid
    )

    def start(src: BlockSource) -> tuple[int, list[str], dict[str, pa.DataType]]:
        # a trailing delimiter (or spreadsheet padding) gives extra empty fields on every row
        n = max(ncols, _count_fields(first_row(src.head()), delim))
        keys = [f"f{i}" for i in range(n)]
        return n, keys, {k: pa.float64() for k in keys}

    nfields, internal, types = start(source)
    result: tuple[list[FloatArray | list[Any]], int] | None = None
    for _attempt in range(2 * nfields + 4):
        bad_rows.clear()
        convert = pcsv.ConvertOptions(
            column_types=types,
            decimal_point="," if decimal_comma else ".",
            strings_can_be_null=True,
            quoted_strings_can_be_null=True,
        )
        try:
            result = _stream(source, internal, types, parse, convert)
        except NotUtf8:
            source = raw = _transcoded(raw)
            if normalised:
                source = source.normalised(delim)
            block._source = source
            nfields, internal, types = start(source)
            continue
        except pa.ArrowInvalid as exc:
            m = _COLUMN_ERROR.search(str(exc))
            if not normalised:
                normalised = True
                source = block._source = source.normalised(delim)
                nfields, internal, types = start(source)
                continue
            if bad_rows and (len(bad_rows) > 1 or m is None):
                _raise_bad_row(p, source.load(), first_line, bad_rows[0], ncols)
            if m is None or int(m.group(1)) >= nfields or types[internal[int(m.group(1))]] == pa.string():
                raise LoggerFileError(p, f"unreadable data block: {exc}", line=first_line) from None
            types[internal[int(m.group(1))]] = pa.string()
            continue
        if bad_rows and not normalised:
            normalised = True
            source = block._source = source.normalised(delim)
            nfields, internal, types = start(source)
            result = None
            continue
        break
    if result is None:
        raise LoggerFileError(p, "unreadable data block", line=first_line)

    if bad_rows:
        bad = bad_rows[0]
        text = source.load()
        offset = _line_of_text(text, bad.text)
        rows_where = nonblank_line_index(text)
        is_last = rows_where.shape[0] > 0 and offset >= int(rows_where[-1])
        if not (allow_short_last_row and is_last and bad.actual_columns < bad.expected_columns):
            _raise_bad_row(p, text, first_line, bad, ncols)
        del text
        block.dropped_last_row = True
        block.warnings.append(
            f"{p}, line {first_line + offset}: last row has {bad.actual_columns} of "
            f"{ncols} values (logging stopped mid-row?): dropped"
        )

    columns, block._rows = result
    for i in range(nfields):
        col = columns[i]
        if i >= ncols:
            valid = np.flatnonzero(np.isfinite(col)) if isinstance(col, np.ndarray) else np.array([0])
            if isinstance(col, list) or valid.shape[0]:
                raise LoggerFileError(
                    p,
                    f"row has {nfields} values but the header names {ncols} columns",
                    line=block.line_of(int(valid[0])),
                )
            continue
        if isinstance(col, np.ndarray):
            block.values.append(col)
        else:
            chunked = pa.chunked_array(col, pa.string()) if col else pa.chunked_array([], pa.string())
            block.values.append(_convert_text_column(chunked, i, col_names[i], block, p))
    return block


def _transcoded(source: BlockSource) -> BlockSource:
    """The block decoded as :func:`decode_text` does and re-encoded as UTF-8 (held in memory)."""
    return BlockSource(data=decode_text(source.load()).encode("utf-8"))


def _stream(
    source: BlockSource,
    keys: list[str],
    types: dict[str, pa.DataType],
    parse: pcsv.ParseOptions,
    convert: pcsv.ConvertOptions,
) -> tuple[list[FloatArray | list[Any]], int]:
    """Read the block into float64 arrays (string columns as Arrow chunks).

    Blocks up to :data:`_READ_WHOLE_MAX` bytes go whole through the multi-threaded
    ``read_csv`` (the transient Arrow table is small in absolute terms). Larger ones are
    parsed in line-aligned chunks (each by the threaded ``read_csv``) into preallocated
    arrays, so never more than the decoded columns plus one chunk are in memory.
    """
    if source.size() <= _READ_WHOLE_MAX and not source.transformed:
        table = pcsv.read_csv(
            source.open(),
            read_options=pcsv.ReadOptions(column_names=keys, use_threads=_THREADS),
            parse_options=parse,
            convert_options=convert,
        )
        rows = table.num_rows
        columns = table.columns
        del table
        whole: list[FloatArray | list[Any]] = []
        for i, key in enumerate(keys):
            col, columns[i] = columns[i], pa.chunked_array([], pa.float64())  # free as we go
            if types[key] == pa.float64():
                if col.null_count:
                    col = _pc.fill_null(col, np.nan)
                whole.append(np.asarray(col.to_numpy(), dtype=np.float64))
            else:
                whole.append(list(col.chunks))
        return whole, rows
    capacity = source.rows_estimate()
    out: list[FloatArray | list[Any]] = [
        np.empty(capacity, np.float64) if types[k] == pa.float64() else [] for k in keys
    ]
    read = pcsv.ReadOptions(column_names=keys, block_size=_BLOCK_SIZE, use_threads=_THREADS)
    pos = 0
    # line-aligned chunks of a few MB, each parsed by the threaded read_csv (the streaming
    # open_csv parses on one thread only: ~2x slower); the chunk's table is copied into the
    # preallocated columns and dropped, so at most one chunk's text and table are in flight
    for chunk in source.line_chunks(check_utf8=True):
        if not len(chunk):
            continue  # read_csv calls empty input an empty file (blank lines are no rows)
        stream: Any = pa.BufferReader(chunk)  # pyarrow-stubs type read_csv's input as a Python file only
        table = pcsv.read_csv(stream, read_options=read, parse_options=parse, convert_options=convert)
        n = table.num_rows
        if pos + n > capacity:  # shorter rows later than in the head: grow
            capacity = int((pos + n) * 1.5)
            out = [np.resize(c, capacity) if isinstance(c, np.ndarray) else c for c in out]
        for i, target in enumerate(out):
            col = table.column(i)
            if isinstance(target, np.ndarray):
                at = pos
                for arr in col.chunks:
                    # a view of the Arrow buffer when there are no nulls, NaN-filled otherwise
                    target[at : at + len(arr)] = arr.to_numpy(zero_copy_only=False)
                    at += len(arr)
            else:
                target.extend(col.chunks)
        pos += n
        del table
    # views: the unused tail of each array was never written, so it costs no memory
    return [c[:pos] if isinstance(c, np.ndarray) else c for c in out], pos


def _raise_bad_row(p: Path, text: Buf, first_line: int, bad: pcsv.InvalidRow, ncols: int) -> None:
    offset = _line_of_text(text, bad.text)
    raise LoggerFileError(
        p,
        f"row has {bad.actual_columns} values, expected {ncols}: {bad.text[:80]!r}",
        line=first_line + offset,
    )
