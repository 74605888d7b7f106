"""Choosing each float column's Parquet encoding from a sample of its own data.

Logger channels differ a lot: a gear or status channel repeats a handful of values
(dictionary encoding wins), a quantised sensor read from text has random-looking low mantissa
bytes (BYTE_STREAM_SPLIT lets the codec squeeze the sign/exponent/high bytes), a noisy
converted channel compresses best left PLAIN. No single setting is best for every channel:
on the real sample files, one fixed choice left some files at over 60 % of the seed's JSON
size while the per-column choice brought every file under 45 % (see ``bench/parquet.py``).
All three are standard Parquet encodings that pyarrow, DuckDB, Polars and pandas read.

The choice is made once per file (the writer needs it up front) by writing a window of each
column, up to :data:`SAMPLE_ROWS` rows from the middle of the longest lap, with each encoding
and the file's codec, and keeping the smallest. Sessions whose typical lap is shorter than
:data:`MIN_SAMPLE_ROWS` are written PLAIN.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any, Literal, get_args

import pyarrow as pa
import pyarrow.parquet as pq

#: the codecs a file may use (pyarrow's names)
Compression = Literal["snappy", "zstd", "gzip", "brotli", "lz4", "none"]
COMPRESSIONS: tuple[str, ...] = get_args(Compression)

Encoding = Literal["RLE_DICTIONARY", "PLAIN", "BYTE_STREAM_SPLIT"]
#: in this order of preference when sizes tie: PLAIN is the cheapest to read
CANDIDATES: tuple[Encoding, ...] = ("PLAIN", "BYTE_STREAM_SPLIT", "RLE_DICTIONARY")
SAMPLE_ROWS = 16384
#: below this, page and footer overhead dwarf any difference: everything stays PLAIN
MIN_SAMPLE_ROWS = 64
_SCHEMA = pa.schema([pa.field("x", pa.float64())])


def sample_window(lap_rows: Sequence[int]) -> tuple[int, int, int] | None:
    """(lap index, start row, stop row) of the sample, or None when laps are too short.

    The window is as long as a typical (median) lap, capped at SAMPLE_ROWS, because
    dictionary encoding is per row group: a longer window would misjudge it.
    """
    if not any(lap_rows):
        return None
    longest = max(range(len(lap_rows)), key=lambda i: lap_rows[i])
    nonempty = sorted(n for n in lap_rows if n)
    length = min(nonempty[len(nonempty) // 2], SAMPLE_ROWS)
    if length < MIN_SAMPLE_ROWS:
        return None
    start = (lap_rows[longest] - length) // 2
    return longest, start, start + length


def _encoded_size(sample: pa.Array[Any], encoding: Encoding, compression: Compression, level: int | None) -> int:
    buf = io.BytesIO()
    options: dict[str, Any] = {
        "compression": compression,
        "compression_level": level,
        "write_statistics": False,
        "store_schema": False,
    }
    if encoding == "RLE_DICTIONARY":
        options["use_dictionary"] = True
    else:
        options["use_dictionary"] = False
        options["column_encoding"] = {"x": encoding}
    pq.write_table(pa.Table.from_arrays([sample], schema=_SCHEMA), buf, **options)
    return buf.tell()


def choose_encoding(sample: pa.Array[Any], compression: Compression, level: int | None) -> Encoding:
    """The candidate that stores ``sample`` (float64) smallest with this codec."""
    if sample.null_count == len(sample):
        return "PLAIN"  # all null: only the validity levels are written, whatever the encoding
    sizes = {e: _encoded_size(sample, e, compression, level) for e in CANDIDATES}
    return min(CANDIDATES, key=lambda e: sizes[e])  # min keeps the first of equals


def writer_options(encodings: dict[str, Encoding], int_columns: Sequence[str]) -> dict[str, Any]:
    """``use_dictionary`` and ``column_encoding`` for pyarrow's ParquetWriter."""
    return {
        "use_dictionary": [*int_columns, *(c for c, e in encodings.items() if e == "RLE_DICTIONARY")],
        "column_encoding": {c: e for c, e in encodings.items() if e != "RLE_DICTIONARY"} or None,
    }
