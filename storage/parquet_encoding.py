"""Choosing each float column's Parquet encoding from a sample of its own data.

Logger channels differ a lot: a gear or status channel repeats a handful of values
(dictionary encoding wins), a quantised sensor read from text has random-looking low mantissa
bytes (BYTE_STREAM_SPLIT lets the codec squeeze the sign/exponent/high bytes), a noisy
converted channel compresses best left PLAIN. No single setting is best for every channel
(see ``bench/parquet.py``). All three are standard Parquet encodings that pyarrow, DuckDB,
Polars and pandas read.

The choice is made once per file (the writer needs it up front) from a window of each
column, up to :data:`SAMPLE_ROWS` rows from the middle of the longest lap. Nothing is
written to try: each encoding's size is *estimated* with the file's codec on the window's
bytes (PLAIN: the values; BYTE_STREAM_SPLIT: the same bytes regrouped by byte position;
dictionary: the distinct values once per row group, plus the codes), which costs a few
compressions of a small buffer per column instead of three Parquet writes. The dictionary
is charged once per *typical lap* (a row group), not once per window, because a quantised
channel's distinct values saturate: judged on the window alone, dictionary encoding loses
on exactly the long row groups where it wins. pyarrow still falls back to PLAIN by itself
when a row group's dictionary outgrows its page limit. Sessions whose typical lap is
shorter than :data:`MIN_SAMPLE_ROWS` are written PLAIN.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, get_args

import numpy as np
import pyarrow as pa

from storage.types import FloatArray

#: the codecs a file may use (pyarrow's names)
Compression = Literal["snappy", "zstd", "gzip", "brotli", "lz4", "none"]
COMPRESSIONS: tuple[str, ...] = get_args(Compression)

Encoding = Literal["RLE_DICTIONARY", "PLAIN", "BYTE_STREAM_SPLIT"]
#: in this order of preference when sizes tie: PLAIN is the cheapest to read
CANDIDATES: tuple[Encoding, ...] = ("PLAIN", "BYTE_STREAM_SPLIT", "RLE_DICTIONARY")
SAMPLE_ROWS = 16384
#: a window with at most one distinct value in this many samples is dictionary-encoded
DICTIONARY_SHARE = 8
#: BYTE_STREAM_SPLIT (or a dictionary) is chosen over PLAIN only when estimated this much smaller
SPLIT_MARGIN = 0.03
#: below this, page and footer overhead dwarf any difference: everything stays PLAIN
MIN_SAMPLE_ROWS = 64


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


def _compressed(data: bytes, compression: Compression, level: int | None) -> int:
    if compression == "none":
        return len(data)
    return len(pa.Codec(compression, compression_level=level).compress(data, asbytes=True))


def estimated_sizes(
    values: FloatArray, compression: Compression, level: int | None, lap_rows: int
) -> dict[Encoding, float]:
    """Estimated bytes per row of each candidate for a window of one column (NaN: null)."""
    present = np.ascontiguousarray(values[~np.isnan(values)], np.float64)
    if present.shape[0] == 0:
        return dict.fromkeys(CANDIDATES, 0.0)
    distinct, codes = np.unique(present, return_inverse=True)
    return _sizes(present, distinct, codes, values.shape[0], compression, level, lap_rows)


def _sizes(
    present: FloatArray,
    distinct: FloatArray,
    codes: np.ndarray,
    n: int,
    compression: Compression,
    level: int | None,
    lap_rows: int,
) -> dict[Encoding, float]:
    plain = _compressed(present.tobytes(), compression, level)
    split = _compressed(present.view(np.uint8).reshape(-1, 8).T.tobytes(), compression, level)
    width = np.uint8 if distinct.shape[0] <= 256 else np.uint16 if distinct.shape[0] <= 65536 else np.uint32
    dictionary = _compressed(codes.astype(width).tobytes(), compression, level)
    dict_once = 8 * distinct.shape[0] / max(lap_rows, n)  # one dictionary page per row group
    return {"PLAIN": plain / n, "BYTE_STREAM_SPLIT": split / n, "RLE_DICTIONARY": dictionary / n + dict_once}


def choose_encoding(values: FloatArray, compression: Compression, level: int | None, lap_rows: int) -> Encoding:
    """The candidate estimated to store ``values`` (a window of a float column) smallest.

    A column with few distinct values (a gear, a status, a quantised slow sensor: at most
    one in :data:`DICTIONARY_SHARE` of the window's samples) is dictionary-encoded: its codes
    run-length encode, which the byte-level estimate undervalues. Otherwise
    BYTE_STREAM_SPLIT (or the dictionary) must beat PLAIN by :data:`SPLIT_MARGIN`, PLAIN
    being the cheaper read.
    """
    present = np.ascontiguousarray(values[~np.isnan(values)], np.float64)
    if present.shape[0] == 0:
        return "PLAIN"  # all null: only the validity levels are written, whatever the encoding
    distinct = np.unique(present)
    if distinct.shape[0] <= max(16, present.shape[0] // DICTIONARY_SHARE):
        return "RLE_DICTIONARY"  # decided without compressing anything
    codes = np.searchsorted(distinct, present)
    sizes = _sizes(present, distinct, codes, values.shape[0], compression, level, lap_rows)
    if min(sizes["RLE_DICTIONARY"], sizes["BYTE_STREAM_SPLIT"]) > sizes["PLAIN"] * (1 - SPLIT_MARGIN):
        return "PLAIN"
    return "RLE_DICTIONARY" if sizes["RLE_DICTIONARY"] < sizes["BYTE_STREAM_SPLIT"] else "BYTE_STREAM_SPLIT"


def writer_options(encodings: dict[str, Encoding], int_columns: Sequence[str]) -> dict[str, Any]:
    """``use_dictionary`` and ``column_encoding`` for pyarrow's ParquetWriter."""
    return {
        "use_dictionary": [*int_columns, *(c for c, e in encodings.items() if e == "RLE_DICTIONARY")],
        "column_encoding": {c: e for c, e in encodings.items() if e != "RLE_DICTIONARY"} or None,
    }
