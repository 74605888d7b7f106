"""Vectorised parsing of the numeric data block of a text logger file.

Every text format (VBO, WinDarab, RaceChrono, AiM, MoTeC) ends in a big block of
delimited numbers. :func:`parse_block` hands that block to ``polars.read_csv`` (Rust,
multi-threaded: the fastest CSV reader in Python on these files, measured by
``python -m bench readers`` and ``python -m bench textwide``) instead of splitting lines
in Python, and returns one float64 numpy array per column.

Decisions (see ``docs/text-blocks.md#what-a-cell-becomes``):

- Empty cells are NaN.
- A column whose cells are ``true``/``false`` (any case) becomes 1.0/0.0.
- A column with no numeric cell at all (``b'3D-fix'``, ``running``) is a *text column*:
  its values are integer codes (0, 1, ... in order of first appearance; NaN where empty)
  and :attr:`Block.labels` holds the code-to-label table; its first non-empty cell is
  also kept in :attr:`Block.text`.
- A numeric column with a few non-numeric cells keeps its numbers; the odd cells are
  NaN and one warning names the first such line and how many there were.
- A row with the wrong number of values is an error (:class:`LoggerFileError` naming the
  file and line), except a short *last* row, which loggers write on power loss: it is
  dropped with a warning when ``allow_short_last_row`` is true.

One pass, no restarts (``docs/text-blocks.md#how-it-is-parsed-and-why``): the head of the block (a few hundred lines) is read as text first
to find the columns that hold text; the block is then parsed with those columns as text
and the others as float64. A chunk in which a float column meets a text cell after all
(polars refuses it: an exception *type*, its wording is never read) is read once more as
text, and only that chunk; a column found to hold text stays text for the rest.

Small blocks (``docs/text-blocks.md#how-it-is-parsed-and-why``): a block read in one chunk is
parsed as numbers throughout first, its head read apart only if that fails; one of at most
64 KB made of complete rows of finite numbers only is parsed by numpy's ``loadtxt``, so a
short command never imports polars (polars is imported by the functions that parse).

Speed and memory: the block streams in line-aligned chunks (``BlockSource.CHUNK``) from
the file; each chunk is parsed by polars on all cores and copied into numpy arrays
preallocated from a row estimate (pages never written are never resident), so the peak is
about the decoded columns plus one chunk's text and frame.

Rows and lines: polars turns a blank line into a row of nulls (so row *i* of a chunk is
its line *i*), and fills a short row's missing cells with nulls. Only the rows whose first
or last cell is null can be either; those lines alone are looked at in the bytes (blank:
dropped; wrong number of fields: the error or the dropped last row above).

Whitespace: polars trims numbers, and text cells are trimmed here, so padded tab, comma
and semicolon blocks are read as they are. A space-delimited block (VBO) with padding has
its runs of spaces collapsed on line-aligned chunks as they stream (newlines kept, so line
numbers survive). A block that is not valid UTF-8 is transcoded first
(:func:`decode_text`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Required, TypedDict, Unpack, overload

import numpy as np

from storage.types import FloatArray

from .recording import LoggerFileError
from .textsource import BlockSource, Buf, NotUtf8, first_row, looks_padded, nonblank_line_index

if TYPE_CHECKING:
    import polars as pl

# polars is imported by the functions that parse (``import polars as pl`` inside them), not
# here: a command that reads no text block (an MDF, an XRK, or none at all) never pays its
# import, which is a large part of a short command's start-up (bench startup --inspect)

_TRUE = "true"
_FALSE = "false"
#: blocks up to this size are read as one chunk; larger ones stream in BlockSource.CHUNK pieces
#: (measured: polars on a few-MB chunk is faster than on one large buffer, bench textwide)
_READ_WHOLE_MAX = 1 << 22
#: a block streams in chunks of ``BlockSource.CHUNK`` bytes per this many fields, up to
#: ``_WIDEST_CHUNK`` chunks' worth (measured on the 250-field export of bench/textwide.py:
#: 16 MB chunks read it in 0.87 of the time of 4 MB ones; 32 MB was no faster)
_FIELDS_PER_CHUNK = 64
_WIDEST_CHUNK = 4
#: lines of the head read as text to find the text columns before the real parse
_HEAD_LINES = 500
#: a block up to this size holding nothing but complete rows of finite numbers is parsed by
#: numpy's loadtxt (C, and numpy is imported anyway): a short command never imports polars
_PLAIN_MAX = 1 << 16
#: the bytes such a block is made of (besides its delimiter and its decimal mark)
_PLAIN_BYTES = b"0123456789+-eE \r\n"


def _polars_errors() -> tuple[type[Exception], ...]:
    """What polars raises on a chunk it refuses.

    PolarsError, and on some damaged input (an unterminated quote at the very end) a panic
    of its Rust code, which reaches Python as PanicException.
    """
    import polars as pl

    return (pl.exceptions.PolarsError, pl.exceptions.PanicException)


@dataclass
class Block:
    """A parsed data block: one entry per column, in file order."""

    #: float64 values per column (NaN where empty); a text column's are its label codes
    values: list[FloatArray | None]
    #: text columns: column index -> first non-empty cell
    text: dict[int, str] = field(default_factory=dict)
    #: text columns: column index -> labels (code ``k`` is ``labels[k]``)
    labels: dict[int, tuple[str, ...]] = field(default_factory=dict)
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
        """The file line number of parsed row ``row`` (blank lines are not rows)."""
        # no blank lines: row i is simply line i of the block
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


def _count_fields(line: bytes, delimiter: bytes) -> int:
    if delimiter == b" " or b'"' not in line:
        return line.count(delimiter) + 1
    try:
        row = next(csv.reader([line.decode("utf-8", errors="replace")], delimiter=delimiter.decode()))
    except csv.Error:
        # a stray carriage return or an unbalanced quote (damage): the parser that follows
        # reports the row at its line; counting the delimiters is the best guess of its width
        return line.count(delimiter) + 1
    return len(row)


@dataclass(frozen=True, kw_only=True)
class BlockOptions:
    """How a data block is written: one value per reader and file, fixed for the whole block."""

    #: 1-based file line number of the block's first line, used in messages
    first_line: int
    #: the number of columns the header promises
    ncols: int
    delimiter: str = ","
    decimal_comma: bool = False
    #: column names used in warnings (``c1``, ``c2``, ... when absent or of another length)
    names: Sequence[str] | None = None
    #: a short *last* row (power loss mid-row) is dropped with a warning instead of refused
    allow_short_last_row: bool = True


class BlockFields(TypedDict, total=False):
    """:class:`BlockOptions` as keywords, for a one-off call (``parse_block(data, path=..., ncols=2)``)."""

    first_line: Required[int]
    ncols: Required[int]
    delimiter: str
    decimal_comma: bool
    names: Sequence[str] | None
    allow_short_last_row: bool


def _options(options: BlockOptions | None, fields: dict[str, Any]) -> BlockOptions:
    if options is None:
        return BlockOptions(**fields)
    if fields:
        raise TypeError(f"parse options given twice: an options object and {sorted(fields)}")
    return options


_Data = bytes | bytearray | memoryview | str


@overload
def parse_block(data: _Data, options: BlockOptions, /, *, path: str | Path) -> Block: ...
@overload
def parse_block(data: _Data, /, *, path: str | Path, **fields: Unpack[BlockFields]) -> Block: ...
def parse_block(
    data: _Data,
    options: BlockOptions | None = None,
    /,
    *,
    path: str | Path,
    **fields: Any,  # BlockFields, checked by the overloads
) -> Block:
    """Parse a delimited numeric block held in memory into float64 columns.

    ``data`` is the block exactly as in the file (bytes, a view, or decoded text); ``path``
    names the file in messages; ``options`` (or the same as keywords) say how the block is
    written. Rows may end in a trailing delimiter (the extra, empty field is ignored).
    Quoted fields are understood when the delimiter is not a space.

    Raises :class:`LoggerFileError` (file, line, what) for rows with the wrong number of
    values or data that cannot be tokenised.
    """
    raw: Buf = data.encode("utf-8") if isinstance(data, str) else data if isinstance(data, bytes) else memoryview(data)
    return _parse(BlockSource(data=raw), Path(path), _options(options, fields))


@overload
def parse_file_block(path: str | Path, offset: int, options: BlockOptions, /) -> Block: ...
@overload
def parse_file_block(path: str | Path, offset: int, /, **fields: Unpack[BlockFields]) -> Block: ...
def parse_file_block(
    path: str | Path,
    offset: int,
    options: BlockOptions | None = None,
    /,
    **fields: Any,  # BlockFields, checked by the overloads
) -> Block:
    """Like :func:`parse_block`, for the block that runs from byte ``offset`` to the end of ``path``.

    The file is streamed in line-aligned chunks straight into preallocated numpy columns,
    so the text is never held in memory whole (peak ~ the decoded columns).
    """
    p = Path(path)
    return _parse(BlockSource(path=p, offset=offset), p, _options(options, fields))


@dataclass(frozen=True)
class _Options:
    """How the block is tokenised: the caller's options and what follows from the head."""

    path: Path
    layout: BlockOptions
    #: fields per row: more than ``ncols`` when rows end in a delimiter (spreadsheet padding)
    nfields: int
    delim: bytes
    names: list[str]

    @property
    def first_line(self) -> int:
        return self.layout.first_line

    @property
    def ncols(self) -> int:
        return self.layout.ncols

    @property
    def decimal_comma(self) -> bool:
        return self.layout.decimal_comma

    @property
    def allow_short_last_row(self) -> bool:
        return self.layout.allow_short_last_row

    def read(self, chunk: Buf, schema: dict[str, Any]) -> pl.DataFrame:
        import polars as pl

        return pl.read_csv(
            chunk if isinstance(chunk, bytes) else bytes(chunk),  # polars takes bytes, not views
            has_header=False,
            separator=self.delim.decode("ascii"),
            quote_char='"' if self.delim != b" " else None,
            schema=schema,
            decimal_comma=self.decimal_comma,
            truncate_ragged_lines=False,
            raise_if_empty=False,
        )


@dataclass
class _Odd:
    """Non-numeric cells met in a numeric column: how many, and the first (its line, cell)."""

    count: int = 0
    #: the first one's line, counted from the block's first line (blank lines are lines: a
    #: row index would not say where it is once blank lines are dropped)
    line: int = 0
    cell: str = ""


@dataclass
class _State:
    """What the chunks have built so far."""

    keys: list[str]
    #: per field: True while it is parsed as float64, False once it is kept as text
    numeric: list[bool]
    capacity: int
    out: list[FloatArray | None]
    #: text fields: their cells, chunk by chunk (None padding where they were numeric)
    strings: dict[int, list[pl.Series]] = field(default_factory=dict)
    odd: dict[int, _Odd] = field(default_factory=dict)
    rows: int = 0
    #: lines of the block before the current chunk
    line_base: int = 0
    #: a short row that may be the last one: (block line offset, fields, text)
    short: tuple[int, int, str] | None = None
    #: ``numeric`` is a guess (every field), not yet checked against the head
    guessed: bool = False


def _parse(source: BlockSource, p: Path, layout: BlockOptions) -> Block:
    """Padding and encoding settled first, then the one pass (:func:`_parse_source`)."""
    delim = layout.delimiter.encode("ascii")
    if layout.ncols < 1:
        raise LoggerFileError(p, "the data block has no columns", line=layout.first_line)
    if source.size() <= _READ_WHOLE_MAX:
        # a small block is read from the file once: every later look at it is in memory
        source = BlockSource(data=source.load())
        if not source.is_utf8():
            source = _transcoded(source)
    head_row = first_row(source.head())
    if not head_row:
        return Block(values=[np.empty(0, np.float64) for _ in range(layout.ncols)], first_line=layout.first_line)
    raw = source
    padded_spaces = delim == b" " and looks_padded(head_row, delim)
    if padded_spaces:
        source = source.normalised(delim)
    try:
        return _parse_source(source, p, layout)
    except NotUtf8:
        # a stray Latin-1 byte deep in a streamed block: transcode it and read it again
        # (the one case read twice; the bytes are needed as text for the messages)
        source = _transcoded(raw)
        if padded_spaces:
            source = source.normalised(delim)
        return _parse_source(source, p, layout)


def _tokeniser(source: BlockSource, p: Path, layout: BlockOptions) -> _Options:
    delim = layout.delimiter.encode("ascii")
    names = layout.names
    col_names = list(names) if names is not None and len(names) == layout.ncols else None
    # a trailing delimiter (or spreadsheet padding) gives extra empty fields on every row
    nfields = max(layout.ncols, _count_fields(first_row(source.head()), delim))
    return _Options(p, layout, nfields, delim, col_names or [f"c{i + 1}" for i in range(layout.ncols)])


def _parse_source(source: BlockSource, p: Path, layout: BlockOptions) -> Block:
    """Head types, then every chunk into the preallocated columns, then the text columns."""
    opts = _tokeniser(source, p, layout)
    plain = _plain_block(source, opts)
    if plain is not None:
        return plain
    keys = [f"f{i}" for i in range(opts.nfields)]
    whole = source.size() <= _READ_WHOLE_MAX
    one_chunk = whole and not source.transformed
    # a block read in one chunk is first read as numbers throughout (most blocks are); the
    # head is read apart only if that fails (see _read_chunk), saving a read on small files
    numeric = [True] * len(keys) if one_chunk else _head_types(_whole_lines(source), opts, keys)
    capacity = source.rows_estimate()
    # every chunk costs a copy call per field: a wide block streams in longer chunks, so a
    # 250-field export pays as few calls per row as a narrow one (its chunk still a few MB)
    source.chunk_size = BlockSource.CHUNK * min(max(opts.nfields // _FIELDS_PER_CHUNK, 1), _WIDEST_CHUNK)
    state = _State(keys=keys, numeric=numeric, capacity=capacity, out=[], guessed=one_chunk)
    _retype(state, numeric)
    chunks = [source.load()] if one_chunk else source.line_chunks(check_utf8=not whole)
    open_end = False  # the last chunk ends without a line end
    for chunk in chunks:
        if len(chunk):
            _read_chunk(chunk, opts, state)
            open_end = chunk[-1:] != b"\n"
    # every line is now counted: a row's line number needs no second pass over the bytes
    source.note_line_count(state.line_base + open_end)

    block = Block(values=[], first_line=opts.first_line, _source=source, _rows=state.rows)
    if state.short is not None:
        _drop_short_last_row(state, opts, block)
    _finish(state, opts, block)
    return block


def _plain_block(source: BlockSource, opts: _Options) -> Block | None:
    """A small block of finite numbers in complete rows, parsed by numpy; None for any other.

    Whatever is not that (text, an empty cell, quotes, a blank line, a short or long row,
    ``nan``) is left to the polars parse, which reports and repairs it. On this subset both
    give the same float64 values: both parse decimal numbers with correct rounding.
    """
    comma = opts.decimal_comma
    if source.size() > _PLAIN_MAX or opts.nfields > opts.ncols + 1 or (comma and opts.delim == b","):
        return None
    data = source.load()
    marks = b"," if comma else b"."
    if data.translate(None, _PLAIN_BYTES + marks + opts.delim):
        return None
    lines = data.split(b"\n")
    if lines and not lines[-1]:
        lines.pop()  # the block's last line end
    trailing = opts.nfields > opts.ncols  # every row ends in the delimiter (checked below)
    rows: list[str] = []
    for line in lines:
        line = line[:-1] if line.endswith(b"\r") else line
        if trailing:
            if not line.endswith(opts.delim):
                return None
            line = line[: -len(opts.delim)]
        if not line:
            return None
        rows.append(line.decode("ascii"))
    text = "\n".join(rows).replace(",", ".") if comma else "\n".join(rows)
    try:
        table = np.loadtxt(
            io.StringIO(text), dtype=np.float64, delimiter=opts.delim.decode("ascii"), comments=None, ndmin=2
        )
    except ValueError:
        return None
    if table.shape != (len(rows), opts.ncols) or not np.isfinite(table).all():
        return None
    columns = np.ascontiguousarray(table.T)  # one writeable, contiguous row per column
    source.note_line_count(len(rows))  # no blank line: a row per line
    return Block(values=list(columns), first_line=opts.first_line, _source=source, _rows=len(rows))


def _retype(state: _State, numeric: list[bool]) -> None:
    """Set which fields are float64 and which text, before any row is stored."""
    assert state.rows == 0
    state.numeric = numeric
    state.out = [np.empty(state.capacity, np.float64) if n else None for n in numeric]
    state.strings = {i: [] for i, n in enumerate(numeric) if not n}


def _whole_lines(source: BlockSource) -> bytes:
    head = source.head()
    return head[: head.rfind(b"\n") + 1] if len(head) < source.size() else head


def _drop_short_last_row(state: _State, opts: _Options, block: Block) -> None:
    assert state.short is not None
    offset, fields, _text = state.short
    block.dropped_last_row = True
    block.warnings.append(
        f"{opts.path}, line {opts.first_line + offset}: last row has {fields} of {opts.ncols} values "
        "(logging stopped mid-row?): dropped"
    )
    state.rows -= 1
    block._rows = state.rows


def _newlines(chunk: Buf) -> int:
    return bytes(chunk).count(b"\n") if isinstance(chunk, memoryview) else chunk.count(b"\n")


def _line_ends(chunk: bytes, rows: int) -> int:
    """The line ends in a chunk that parsed into ``rows`` rows.

    polars makes one row of every line, blank ones too, so the rows give the count without a
    pass over the bytes; a quoted cell may hold a line end, so a chunk with quotes is counted.
    """
    if b'"' in chunk:
        return chunk.count(b"\n")
    return rows if chunk.endswith(b"\n") else rows - 1


def _head_types(head: bytes, opts: _Options, keys: list[str]) -> list[bool]:
    """Which fields the head (whole lines) shows to be numeric (float64), read as text once."""
    import polars as pl

    # leading blank lines would make polars take a field count of one from them
    sample = b"\n".join(head.lstrip(b" \r\n").split(b"\n", _HEAD_LINES)[:_HEAD_LINES])
    try:
        frame = opts.read(sample, dict.fromkeys(keys, pl.String))
    except _polars_errors():
        return [True] * len(keys)  # the real parse finds and reports what is wrong
    # one query for all fields: a polars call costs far more than a head's worth of cells
    has_text = frame.select(_text_cells(pl.col(k), opts.decimal_comma).any().alias(k) for k in keys).row(0)
    # text (or booleans) in the head: the field is read as text throughout
    return [not text for text in has_text]


def _text_cells(col: pl.Expr, decimal_comma: bool) -> pl.Expr:
    """True for a cell that holds text: not empty once trimmed (as :func:`_trimmed`), not a number."""
    import polars as pl

    cells = col.str.strip_chars()
    nums = cells.str.replace(",", ".", literal=True) if decimal_comma else cells
    return (cells.str.len_bytes() > 0) & nums.cast(pl.Float64, strict=False).is_null()


def _trimmed(col: pl.Series) -> pl.Series:
    """Cells without padding; empty cells as null."""
    s = col.str.strip_chars()
    return s.set(s == "", None) if s.len() else s


def _as_numbers(cells: pl.Series, decimal_comma: bool) -> pl.Series:
    import polars as pl

    if decimal_comma:
        cells = cells.str.replace(",", ".", literal=True)
    return cells.cast(pl.Float64, strict=False)


def _read_chunk(chunk: Buf, opts: _Options, state: _State) -> None:
    """Parse one chunk of whole lines into the columns; ``state.line_base`` moves past it."""
    import polars as pl

    chunk = _skip_blank_head(chunk, state)
    if not len(chunk):
        return
    chunk = bytes(chunk)  # polars takes bytes: one copy of a file's view, made here once
    had_short = state.short is not None
    frame = _chunk_frame(chunk, opts, state)
    lines = _line_ends(chunk, frame.height)
    keep = _keep_rows(chunk, frame, opts, state)
    if keep is not None:
        frame = frame.filter(pl.Series(keep))
    n = frame.height
    if had_short and n:
        assert state.short is not None
        _raise_short(opts, *state.short)  # rows after the short one: it was not the last
    pos = state.rows
    if pos + n > state.capacity:  # shorter rows later than in the head: grow
        state.capacity = int((pos + n) * 1.5)
        state.out = [np.resize(c, state.capacity) if c is not None else None for c in state.out]
    for i, key in enumerate(state.keys):
        target = state.out[i]
        col = frame.get_column(key)
        if target is not None:
            target[pos : pos + n] = col.to_numpy()  # a null of a float column comes out as NaN
        else:
            state.strings[i].append(col)
    state.rows = pos + n
    state.line_base += lines


def _chunk_frame(chunk: Buf, opts: _Options, state: _State) -> pl.DataFrame:
    """The chunk as a frame: float64 fields parsed by polars, text fields as strings."""
    import polars as pl

    schema = {k: (pl.Float64 if n else pl.String) for k, n in zip(state.keys, state.numeric, strict=True)}
    try:
        return opts.read(chunk, schema)
    except _polars_errors():
        if state.guessed:
            # the block read whole is not numbers throughout: its head says which fields hold
            # text, as for a streamed block, and the chunk is read again with those as text
            state.guessed = False
            numeric = _head_types(bytes(chunk), opts, state.keys)
            if not all(numeric):
                _retype(state, numeric)
                return _chunk_frame(chunk, opts, state)
    # a text cell in a float column, or a row polars cannot split: read as text, and if
    # even that fails, split the chunk's lines in Python (the message is never parsed)
    try:
        text = opts.read(chunk, dict.fromkeys(state.keys, pl.String))
    except _polars_errors():
        text = _python_rows(chunk, opts, state)
    return _from_text(text, opts, state)


def _skip_blank_head(chunk: Buf, state: _State) -> Buf:
    """The chunk from its first non-blank line (polars takes the field count from the first line)."""
    at = 0
    while at < len(chunk):
        end = bytes(chunk[at : at + 4096]).find(b"\n")
        if end < 0:
            end = _find_newline(chunk, at)
        else:
            end += at
        line = bytes(chunk[at : end if end >= 0 else len(chunk)])
        if line.strip(b" \r"):
            break
        if end < 0:
            at = len(chunk)
            break
        state.line_base += 1
        at = end + 1
    return chunk[at:] if at else chunk


def _find_newline(chunk: Buf, at: int) -> int:
    data = chunk if isinstance(chunk, bytes) else bytes(chunk)
    return data.find(b"\n", at)


def _python_rows(chunk: Buf, opts: _Options, state: _State) -> pl.DataFrame:
    """The chunk split line by line in Python, as text: the slow path for damaged rows.

    Wrong rows are found (an error, or the short last row remembered) before anything is
    built; blank lines stay rows of nulls, as polars makes them.
    """
    import polars as pl

    _check_rows(chunk, opts, state, np.arange(_newlines(chunk) + 1))
    data = bytes(chunk).decode("utf-8", errors="replace")
    lines = data.split("\n")
    if lines and lines[-1] == "" and data.endswith("\n"):
        lines.pop()
    rows: list[list[str | None]] = []
    for li, line in enumerate(lines):
        text = line.rstrip("\r")
        if not text.strip(" "):
            rows.append([None] * opts.nfields)
            continue
        if opts.delim == b" " or '"' not in text:
            cells: list[str | None] = list(text.split(opts.delim.decode("ascii")))
        else:
            try:
                cells = list(next(csv.reader([text], delimiter=opts.delim.decode("ascii"))))
            except csv.Error as exc:  # a carriage return inside the row, an unbalanced quote
                raise LoggerFileError(
                    opts.path,
                    f"row cannot be split into values ({exc}): {text[:80]!r}",
                    line=opts.first_line + state.line_base + li,
                ) from None
        cells = [c if c != "" else None for c in cells[: opts.nfields]]
        rows.append(cells + [None] * (opts.nfields - len(cells)))
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in state.keys]
    return pl.DataFrame({k: pl.Series(k, list(c), pl.String) for k, c in zip(state.keys, columns, strict=True)})


def _from_text(frame: pl.DataFrame, opts: _Options, state: _State) -> pl.DataFrame:
    """A chunk read as text -> float64 for the numeric fields; fields found to hold text switch."""
    import polars as pl

    out: list[pl.Series] = []
    for i, key in enumerate(state.keys):
        cells = _trimmed(frame.get_column(key))
        if not state.numeric[i]:
            out.append(cells)
            continue
        nums = _as_numbers(cells, opts.decimal_comma)
        bad = cells.is_not_null() & nums.is_null()
        n_bad = int(bad.sum())
        target = state.out[i]
        assert target is not None
        if n_bad == 0:
            out.append(nums)
            continue
        if not bool(np.isfinite(target[: state.rows]).any()):
            # no number before this chunk: the column is text from here on (the final
            # conversion decides between text, booleans and numbers with odd cells); the
            # rows read before were all empty, so they are nulls of the text column
            state.numeric[i] = False
            state.out[i] = None
            state.strings[i] = [pl.Series(key, [None] * state.rows, pl.String)] if state.rows else []
            out.append(cells)
            continue
        lowered = cells.str.to_lowercase()
        is_true = (lowered == _TRUE).fill_null(False)
        is_false = (lowered == _FALSE).fill_null(False)
        if bool((is_true | is_false).any()):
            nums = pl.select(pl.when(is_true).then(1.0).when(is_false).then(0.0).otherwise(nums)).to_series()
            bad = bad & ~(is_true | is_false)
            n_bad = int(bad.sum())
            if n_bad == 0:
                out.append(nums.alias(key))
                continue
        first = int(bad.arg_true()[0])
        odd = state.odd.setdefault(i, _Odd())
        if odd.count == 0:
            # the frame still has a row per line of the chunk (blank ones are dropped later)
            odd.line, odd.cell = state.line_base + first, str(cells[first])
        odd.count += n_bad
        out.append(nums)
    return pl.DataFrame(out)


def _keep_rows(chunk: Buf, frame: pl.DataFrame, opts: _Options, state: _State) -> np.ndarray | None:
    """The rows that are not blank lines (None: all), after checking rows that may be short."""
    if frame.height == 0:
        return None
    first = frame.get_column(state.keys[0]).is_null()
    last = frame.get_column(state.keys[min(opts.ncols, opts.nfields) - 1]).is_null()
    suspects = np.flatnonzero((first | last).to_numpy())
    if suspects.shape[0] == 0:
        return None
    blank = _check_rows(chunk, opts, state, suspects)
    if blank.shape[0] == 0:
        return None
    keep = np.ones(frame.height, bool)
    keep[blank] = False
    return keep


def _line_spans(chunk: Buf) -> tuple[np.ndarray, np.ndarray]:
    arr = np.frombuffer(chunk, dtype=np.uint8)
    nl = np.flatnonzero(arr == 10)
    starts = np.concatenate(([0], nl + 1))
    ends = np.concatenate((nl, [arr.shape[0]]))
    return starts, ends


def _check_rows(chunk: Buf, opts: _Options, state: _State, lines: np.ndarray) -> np.ndarray:
    """Look at ``lines`` (chunk line offsets) in the bytes: return the blank ones; a line
    with the wrong number of fields is an error, or the short last row (remembered)."""
    starts, ends = _line_spans(chunk)
    view = memoryview(chunk)
    blank: list[int] = []
    count = starts.shape[0]
    for li in lines.tolist():
        if li >= count:
            continue
        line = bytes(view[int(starts[li]) : int(ends[li])]).rstrip(b"\r")
        if not line.strip(b" "):
            blank.append(li)
            continue
        offset = state.line_base + li
        if state.short is not None and offset > state.short[0]:
            _raise_short(opts, *state.short)  # a row after the short one: it was not the last
        fields = _count_fields(line, opts.delim)
        if fields == opts.nfields:
            continue
        text = line.decode("utf-8", errors="replace")
        is_last = not any(
            bytes(view[int(a) : int(b)]).strip(b" \r") for a, b in zip(starts[li + 1 :], ends[li + 1 :], strict=True)
        )
        if fields < opts.nfields and opts.allow_short_last_row and is_last:
            state.short = (offset, fields, text)
            continue
        raise LoggerFileError(
            opts.path, f"row has {fields} values, expected {opts.ncols}: {text[:80]!r}", line=opts.first_line + offset
        )
    return np.asarray(blank, np.int64)


def _raise_short(opts: _Options, offset: int, fields: int, text: str) -> None:
    raise LoggerFileError(
        opts.path, f"row has {fields} values, expected {opts.ncols}: {text[:80]!r}", line=opts.first_line + offset
    )


def _finish(state: _State, opts: _Options, block: Block) -> None:
    """The columns in file order: views of the preallocated arrays, text columns converted."""
    import polars as pl

    n = state.rows
    for i in range(opts.nfields):
        target = state.out[i]
        if i >= opts.ncols:
            if target is not None:
                valid = np.flatnonzero(np.isfinite(target[:n]))
                if not valid.shape[0]:
                    continue
                row = int(valid[0])
            else:
                cells = pl.concat(state.strings[i]).head(n) if state.strings[i] else pl.Series([], dtype=pl.String)
                present = cells.is_not_null()
                if not bool(present.any()):
                    continue
                row = int(present.arg_true()[0])
            raise LoggerFileError(
                opts.path,
                f"row has {opts.nfields} values but the header names {opts.ncols} columns",
                line=block.line_of(row),
            )
        if target is not None:
            block.values.append(target[:n])  # the unused tail was never written: no memory
            odd = state.odd.get(i)
            if odd is not None:
                block.warnings.append(
                    f"{opts.path}, line {opts.first_line + odd.line}: column {opts.names[i]!r} has {odd.count} "
                    f"non-numeric cell(s) (first {odd.cell!r}): read as missing values"
                )
            continue
        parts = state.strings.pop(i)
        cells = pl.concat(parts).head(n) if parts else pl.Series([], dtype=pl.String)
        block.values.append(_convert_text_column(cells, i, opts, block))


def _convert_text_column(cells: pl.Series, idx: int, opts: _Options, block: Block) -> FloatArray | None:
    """Booleans -> 1/0; numbers with odd text cells -> numbers and NaN; pure text -> codes."""
    cells = _trimmed(cells)
    lowered = cells.str.to_lowercase()
    non_empty = cells.is_not_null()
    is_true = (lowered == _TRUE).fill_null(False)
    is_false = (lowered == _FALSE).fill_null(False)
    name, path = opts.names[idx], opts.path
    nums = _as_numbers(cells, opts.decimal_comma)
    is_num = nums.is_not_null()
    n_non_empty = int(non_empty.sum())
    n_bool = int(is_true.sum()) + int(is_false.sum())
    n_num = int(is_num.sum())
    if n_non_empty == 0:
        return np.full(len(cells), np.nan)
    if n_num == 0 and n_bool == 0:
        return _codes(cells, idx, block)
    out = np.array(nums.fill_null(np.nan).to_numpy(), dtype=np.float64)
    if n_bool:
        out[is_true.to_numpy()] = 1.0
        out[is_false.to_numpy()] = 0.0
    bad = non_empty & ~(is_num | is_true | is_false)
    n_bad = int(bad.sum())
    if n_bad:
        row = int(bad.arg_true()[0])
        block.warnings.append(
            f"{path}, line {block.line_of(row)}: column {name!r} has {n_bad} non-numeric "
            f"cell(s) (first {cells[row]!r}): read as missing values"
        )
    return out


def _codes(cells: pl.Series, idx: int, block: Block) -> FloatArray:
    """A text column as codes 0, 1, ... (in order of first appearance), NaN where empty."""
    import polars as pl

    labels = cells.drop_nulls().unique(maintain_order=True)
    block.text[idx] = str(labels[0])
    block.labels[idx] = tuple(str(v) for v in labels.to_list())
    codes = cells.replace_strict(labels, pl.Series(range(len(labels)), dtype=pl.Float64), default=None)
    return np.array(codes.cast(pl.Float64).fill_null(np.nan).to_numpy(), dtype=np.float64)


def _transcoded(source: BlockSource) -> BlockSource:
    """The block decoded as :func:`decode_text` does and re-encoded as UTF-8 (held in memory)."""
    return BlockSource(data=decode_text(source.load()).encode("utf-8"))
