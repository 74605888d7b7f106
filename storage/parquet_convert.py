"""Between the in-memory laps (numpy) and Arrow tables: checks, one lap -> one table, back.

The writer calls :func:`lap_sizes` on the whole session before it touches the disk, so bad
input is a ValueError naming the lap and channel and never a half-written temp file.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any, TypeVar, cast

import numpy as np
import pyarrow as pa

from storage.parquet_decimals import float32_decimals
from storage.parquet_encoding import Compression, Encoding, choose_encoding, sample_window
from storage.parquet_schema import TelemetryFooter, check_lap_number
from storage.types import STANDARD_CHANNELS, FloatArray, LapTelemetry, SessionMetadata, SessionTelemetry

_T = TypeVar("_T")


def lap_sizes(telemetry: SessionTelemetry, aux_names: dict[str, str]) -> list[int]:
    """Check every lap before anything touches the disk; return each lap's sample count."""
    seen: set[int] = set()
    rows: list[int] = []
    for i, lap in enumerate(telemetry.laps):
        where = f"lap #{i + 1}"
        number = check_lap_number(lap.lap_number, where)
        where = f"lap {number}"
        if number in seen:
            raise ValueError(f"{where} appears twice in the session")
        seen.add(number)
        try:
            offset = float(lap.start_offset)
        except (TypeError, ValueError):
            raise ValueError(f"{where}: start offset {lap.start_offset!r} is not a number") from None
        if not math.isfinite(offset):
            raise ValueError(f"{where}: start offset {offset} is not finite")
        for required in ("time", "distance"):
            if required not in lap.channels:
                raise ValueError(f"{where} has no {required!r} channel")
        time = np.asarray(lap.channels["time"])
        if time.ndim != 1:
            raise ValueError(f"{where}: channel 'time' has shape {time.shape}, expected one dimension")
        n = time.shape[0]
        for name, values in lap.channels.items():
            if name not in aux_names and name not in STANDARD_CHANNELS:
                raise ValueError(f"{where}: channel {name!r} is neither standard nor listed in auxiliary_channels")
            arr = np.asarray(values)
            if arr.ndim != 1 or arr.shape[0] != n:
                raise ValueError(f"{where}: channel {name!r} has shape {arr.shape}, expected ({n},) like 'time'")
            if arr.dtype.kind not in "fiub":
                raise ValueError(f"{where}: channel {name!r} holds {arr.dtype}, not numbers")
        rows.append(n)
    return rows


def float_column(values: FloatArray | None, rows: int, decimals: int | None = None) -> pa.Array[Any]:
    """A float64 column, or float32 when ``decimals`` is given; NaN becomes null, ``None``
    an all-null column."""
    kind = pa.float64() if decimals is None else pa.float32()
    if values is None:
        return pa.nulls(rows, kind)
    data = np.ascontiguousarray(values, dtype=np.float64 if decimals is None else np.float32)
    nan = np.isnan(data)
    nulls = int(np.count_nonzero(nan))
    # NaN becomes null, which every Parquet reader understands as "no sample". The buffers
    # are handed over as they are (no copy of a float64 column; pa.array would also import
    # pandas).
    validity = None if nulls == 0 else pa.py_buffer(cast(Any, np.packbits(~nan, bitorder="little")))
    return pa.Array.from_buffers(kind, rows, [validity, pa.py_buffer(cast(Any, data))], null_count=nulls)


def lap_table(
    lap: LapTelemetry, rows: int, schema: pa.Schema, footer: TelemetryFooter, aux_names: dict[str, str]
) -> pa.Table:
    """One lap as a table of the file's schema (absent channels: all null)."""
    arrays: list[pa.Array[Any]] = [pa.array(np.full(rows, lap.lap_number, dtype=np.int32))]
    standard = set(footer.standard_channels)
    narrow = footer.decimals
    arrays += [
        float_column(lap.channels.get(c) if c in standard else None, rows, narrow.get(c)) for c in STANDARD_CHANNELS
    ]
    arrays += [float_column(lap.channels.get(name), rows, narrow.get(col)) for name, col in aux_names.items()]
    return pa.Table.from_arrays(arrays, schema=schema)


def narrow_columns(telemetry: SessionTelemetry, footer: TelemetryFooter, aux_names: dict[str, str]) -> dict[str, int]:
    """The columns to store as float32 and their decimals (storage.parquet_decimals)."""
    in_memory = {c: c for c in footer.standard_channels} | {col: name for name, col in aux_names.items()}

    def decimals(name: str) -> int | None:
        return float32_decimals([lap.channels[name] for lap in telemetry.laps if name in lap.channels])

    found = _on_all_cores(decimals, list(in_memory.values()))
    return {column: d for column, d in zip(in_memory, found, strict=True) if d is not None}


def _on_all_cores(fn: Callable[[str], _T], items: list[str]) -> list[_T]:
    """``[fn(x) for x in items]``, on a thread per core: the per-column work is numpy and
    codec calls that release the GIL."""
    if len(items) < 8 or (os.cpu_count() or 1) < 2:
        return [fn(x) for x in items]
    with ThreadPoolExecutor(max_workers=os.cpu_count()) as pool:
        return list(pool.map(fn, items))


def choose_encodings(
    telemetry: SessionTelemetry,
    rows: list[int],
    footer: TelemetryFooter,
    aux_names: dict[str, str],
    compression: Compression,
    level: int | None,
) -> dict[str, Encoding]:
    """Each float column's encoding, tried on a window of the session (parquet_encoding)."""
    in_memory = {c: c for c in footer.standard_channels} | {col: name for name, col in aux_names.items()}
    columns = [*STANDARD_CHANNELS, *footer.auxiliary_channels]
    window = sample_window(rows)
    if window is None:
        return dict.fromkeys(columns, "PLAIN")
    i, start, stop = window
    lap = telemetry.laps[i]
    typical = sorted(n for n in rows if n)[len([n for n in rows if n]) // 2]

    def choose(column: str) -> Encoding:
        values = lap.channels.get(in_memory[column]) if column in in_memory else None
        if values is None:
            return "PLAIN"
        sample: np.ndarray[Any, Any] = np.asarray(values, np.float64)[start:stop]
        if column in footer.decimals:
            sample = sample.astype(np.float32)
        return choose_encoding(sample, compression, level, typical)

    return dict(zip(columns, _on_all_cores(choose, columns), strict=True))


def copy_footer(footer: TelemetryFooter) -> TelemetryFooter:
    """A footer the caller may edit without touching the cached one."""
    m = footer.metadata
    metadata = SessionMetadata(m.imported_at, m.source_type, m.started_at, dict(m.extra))
    return replace(
        footer,
        metadata=metadata,
        units=dict(footer.units),
        source_names=dict(footer.source_names),
        decimals=dict(footer.decimals),
    )


def to_numpy(column: pa.ChunkedArray[Any], decimals: int | None = None) -> FloatArray:
    """A column read back: float64, writable, NaN where the file has null; a float32 column
    with ``decimals`` rounded back to the float64 values that were written."""
    out = np.empty(len(column), np.float64)
    pos = 0
    # straight from Arrow's buffers: ChunkedArray.to_numpy would import pandas
    for chunk in column.chunks:
        n = len(chunk)
        validity, data = chunk.buffers()[:2]
        dtype: type[np.floating[Any]] = np.float32 if chunk.type == pa.float32() else np.float64
        if data is None:  # an all-null column may come without a data buffer
            out[pos : pos + n] = np.nan
        else:
            out[pos : pos + n] = np.frombuffer(cast(Any, data), dtype, count=chunk.offset + n)[chunk.offset :]
            if chunk.null_count:
                mask = np.frombuffer(cast(Any, validity), np.uint8)
                bits = np.unpackbits(mask, count=chunk.offset + n, bitorder="little")
                out[pos : pos + n][bits[chunk.offset :] == 0] = np.nan
        pos += n
    if decimals is not None:
        with np.errstate(over="ignore", invalid="ignore"):
            np.round(out, decimals, out=out)
    return out
