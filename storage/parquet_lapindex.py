"""Reading one lap without parsing the whole Parquet footer (docs/storage.md#the-lap-index).

A session's Parquet footer holds the metadata of every row group (lap) and column; a 24 h
session's is a few MB, and parsing it costs far more than reading one lap. So the writer
places a small *lap index* between the last row group and the footer:

    PAR1 | row groups | index JSON | u32 index length | "LTIX" | footer | u32 footer length | PAR1

Parquet readers find the footer from the file's end and the data through the footer's
offsets, so they never see those bytes. The index names, per lap, where its ``RowGroup``
entry lies inside the serialized footer (Thrift compact protocol); the footer's parts
before and after the row-group list plus that one entry make a valid footer with a single
row group whose offsets still point into this file. :func:`lap_footer` builds it, and
pyarrow reads the lap through it, so a lap read costs the same for a 20 min and a 24 h
session. Any doubt about the index (a file written otherwise, a mismatch) means the caller
falls back to the whole footer, which is checked in full.
"""

from __future__ import annotations

import json
import os
import struct
from dataclasses import dataclass
from typing import Any

MAGIC = b"LTIX"
#: an index larger than this is not ours
MAX_INDEX_BYTES = 16 << 20

# Thrift compact protocol type codes
_STOP, _TRUE, _FALSE, _BYTE, _I16, _I32, _I64, _DOUBLE, _BINARY, _LIST, _SET, _MAP, _STRUCT, _UUID = range(14)
_ROW_GROUPS = 4  #: FileMetaData field id of the row-group list


class _Reader:
    """Just enough of the Thrift compact protocol to skip values and find their extents."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def byte(self) -> int:
        b = self.data[self.pos]
        self.pos += 1
        return b

    def varint(self) -> int:
        shift = result = 0
        while True:
            b = self.byte()
            result |= (b & 0x7F) << shift
            if b < 0x80:
                return result
            shift += 7

    def skip(self, kind: int) -> None:
        if kind in (_TRUE, _FALSE):
            return
        if kind == _BYTE:
            self.pos += 1
        elif kind in (_I16, _I32, _I64):
            self.varint()
        elif kind == _DOUBLE:
            self.pos += 8
        elif kind == _BINARY:
            n = self.varint()
            self.pos += n
        elif kind in (_LIST, _SET):
            size, elem = self.list_header()
            for _ in range(size):
                self.skip_element(elem)
        elif kind == _MAP:
            size = self.varint()
            if size:
                types = self.byte()
                for _ in range(size):
                    self.skip_element(types >> 4)
                    self.skip_element(types & 0x0F)
        elif kind == _STRUCT:
            self.skip_struct()
        elif kind == _UUID:
            self.pos += 16
        else:
            raise ValueError(f"unknown Thrift type {kind} at byte {self.pos}")
        if self.pos > len(self.data):
            raise ValueError("Thrift value runs past the footer's end")

    def skip_element(self, kind: int) -> None:
        if kind in (_TRUE, _FALSE):  # booleans in containers take one byte each
            self.pos += 1
        else:
            self.skip(kind)

    def list_header(self) -> tuple[int, int]:
        b = self.byte()
        size = b >> 4
        if size == 15:
            size = self.varint()
        return size, b & 0x0F

    def field(self, last: int) -> tuple[int, int]:
        """(field id, type) of the next field; type 0 at the struct's end."""
        b = self.byte()
        if b == _STOP:
            return 0, _STOP
        delta = b >> 4
        if delta:
            return last + delta, b & 0x0F
        raw = self.varint()
        return (raw >> 1) ^ -(raw & 1), b & 0x0F

    def skip_struct(self) -> None:
        last = 0
        while True:
            fid, kind = self.field(last)
            if kind == _STOP:
                return
            self.skip(kind)
            last = fid


def row_group_spans(footer: bytes) -> tuple[int, int, list[tuple[int, int]]]:
    """Where the row-group list lies in a serialized FileMetaData: (start of its list
    header, end of its last element, each element's [start, end))."""
    r = _Reader(footer)
    last = 0
    while True:
        fid, kind = r.field(last)
        if kind == _STOP:
            raise ValueError("the footer has no row-group list")
        if fid == _ROW_GROUPS and kind == _LIST:
            head = r.pos
            size, elem = r.list_header()
            if elem != _STRUCT:
                raise ValueError("the footer's row groups are not structs")
            spans = []
            for _ in range(size):
                start = r.pos
                r.skip_struct()
                spans.append((start, r.pos))
            return head, r.pos, spans
        r.skip(kind)
        last = fid


def index_block(footer: bytes, session_id: int, channels: list[str], laps: list[tuple[int, int, float]]) -> bytes:
    """The bytes to place right before ``footer``: the lap index of ``laps`` ((lap number,
    rows, start offset) per row group) and the channels a lap read returns. Columnar, so a
    reader parses it with one ``json.loads`` and looks at one lap's entries only."""
    head, end, spans = row_group_spans(footer)
    if len(spans) != len(laps):
        raise ValueError(f"footer has {len(spans)} row groups for {len(laps)} laps")
    doc = {
        "session_id": session_id,
        "footer_bytes": len(footer),
        "list": [head, end],
        "channels": channels,
        "lap_number": [number for number, _, _ in laps],
        "rows": [rows for _, rows, _ in laps],
        "start_offset": [offset for _, _, offset in laps],
        "entry": [start for start, _ in spans] + [end],  #: entry k is [entry[k], entry[k + 1])
    }
    raw = json.dumps(doc, ensure_ascii=True, separators=(",", ":")).encode("ascii")
    return raw + struct.pack("<I", len(raw)) + MAGIC


@dataclass(frozen=True)
class LapEntry:
    row_group: int
    rows: int
    start: int  #: its RowGroup entry is footer[start:stop]
    stop: int
    start_offset: float


@dataclass(frozen=True)
class LapIndex:
    footer_start: int
    footer_bytes: int
    list_span: tuple[int, int]
    channels: list[str]
    numbers: list[Any]
    doc: dict[str, Any]

    def lap(self, lap_number: int) -> LapEntry | None:
        """The lap's entry; None if the index does not list it. ValueError for an entry that
        does not fit (the caller reads the whole footer then)."""
        try:
            k = self.numbers.index(lap_number)
        except ValueError:
            return None
        rows, offset = self.doc["rows"][k], self.doc["start_offset"][k]
        start, stop = self.doc["entry"][k], self.doc["entry"][k + 1]
        head, end = self.list_span
        if type(rows) is not int or type(start) is not int or type(stop) is not int or rows < 0:
            raise ValueError("bad lap index entry")
        if type(offset) not in (int, float) or not head < start < stop <= end:
            raise ValueError("bad lap index entry")
        return LapEntry(k, rows, start, stop, float(offset))


def read_index(fd: int, size: int, session_id: int) -> LapIndex | None:
    """The lap index of an open file of ``size`` bytes, or None if it has none (or one
    that does not fit the file: the caller then reads the whole footer)."""
    if size < 24:
        return None
    tail = os.pread(fd, 8, size - 8)
    if len(tail) != 8 or tail[4:] != b"PAR1":
        return None
    footer_bytes = int.from_bytes(tail[:4], "little")
    footer_start = size - 8 - footer_bytes
    if footer_start < 12:
        return None
    trailer = os.pread(fd, 8, footer_start - 8)
    if len(trailer) != 8 or trailer[4:] != MAGIC:
        return None
    length = int.from_bytes(trailer[:4], "little")
    if length > min(MAX_INDEX_BYTES, footer_start - 12):
        return None
    try:
        doc = json.loads(os.pread(fd, length, footer_start - 8 - length))
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    if not isinstance(doc, dict) or doc.get("session_id") != session_id or doc.get("footer_bytes") != footer_bytes:
        return None
    span = doc.get("list")
    if not isinstance(span, list) or len(span) != 2 or not all(type(v) is int for v in span):
        return None
    head, end = span
    channels = doc.get("channels")
    if not isinstance(channels, list) or not all(isinstance(c, str) for c in channels):
        return None
    numbers = doc.get("lap_number")
    if not isinstance(numbers, list) or not 0 <= head < end <= footer_bytes:
        return None
    columns = [doc.get(k) for k in ("rows", "start_offset")]
    if not all(isinstance(c, list) and len(c) == len(numbers) for c in columns):
        return None
    entries = doc.get("entry")
    if not isinstance(entries, list) or len(entries) != len(numbers) + 1:
        return None
    return LapIndex(footer_start, footer_bytes, (head, end), channels, numbers, doc)


def lap_footer(fd: int, index: LapIndex, start: int, stop: int) -> bytes:
    """A Parquet file tail (``PAR1`` + footer + length + ``PAR1``) whose footer has only the
    row group at ``[start, stop)`` of the file's footer; its offsets point into the file."""
    head, end = index.list_span
    base = index.footer_start
    before = os.pread(fd, head, base)
    entry = os.pread(fd, stop - start, base + start)
    after = os.pread(fd, index.footer_bytes - end, base + end)
    footer = before + bytes([0x10 | _STRUCT]) + entry + after  # a list of one struct
    return b"PAR1" + footer + struct.pack("<I", len(footer)) + b"PAR1"
