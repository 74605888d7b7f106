"""Between the in-memory laps (numpy) and Arrow tables: checks, one lap -> one table, back.

The writer calls :func:`lap_sizes` on the whole session before it touches the disk, so bad
input is a ValueError naming the lap and channel and never a half-written temp file.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np
import pyarrow as pa

from storage.parquet_encoding import Compression, Encoding, choose_encoding, sample_window
from storage.parquet_schema import TelemetryFooter, check_lap_number
from storage.types import STANDARD_CHANNELS, FloatArray, LapTelemetry, SessionMetadata, SessionTelemetry


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


def float_column(values: FloatArray | None, rows: int) -> pa.Array[Any]:
    """A float64 column; NaN becomes null, ``None`` an all-null column."""
    if values is None:
        return pa.nulls(rows, pa.float64())
    # from_pandas=True: NaN becomes null, which every Parquet reader understands as "no sample"
    return pa.array(np.asarray(values, dtype=np.float64), type=pa.float64(), from_pandas=True)


def lap_table(
    lap: LapTelemetry, rows: int, schema: pa.Schema, footer: TelemetryFooter, aux_names: dict[str, str]
) -> pa.Table:
    """One lap as a table of the file's schema (absent channels: all null)."""
    arrays: list[pa.Array[Any]] = [pa.array(np.full(rows, lap.lap_number, dtype=np.int32))]
    standard = set(footer.standard_channels)
    arrays += [float_column(lap.channels.get(c) if c in standard else None, rows) for c in STANDARD_CHANNELS]
    arrays += [float_column(lap.channels.get(name), rows) for name in aux_names]
    return pa.Table.from_arrays(arrays, schema=schema)


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
    out: dict[str, Encoding] = {}
    for column in columns:
        values = lap.channels.get(in_memory[column]) if column in in_memory else None
        if values is None:
            out[column] = "PLAIN"
            continue
        out[column] = choose_encoding(np.asarray(values, np.float64)[start:stop], compression, level, typical)
    return out


def copy_footer(footer: TelemetryFooter) -> TelemetryFooter:
    """A footer the caller may edit without touching the cached one."""
    m = footer.metadata
    metadata = SessionMetadata(m.imported_at, m.source_type, m.started_at, dict(m.extra))
    return replace(footer, metadata=metadata, units=dict(footer.units), source_names=dict(footer.source_names))


def to_numpy(column: pa.ChunkedArray[Any]) -> FloatArray:
    """A column read back: float64, writable, NaN where the file has null."""
    arr = np.asarray(column.to_numpy(), dtype=np.float64)  # nulls come back as NaN
    # a column without nulls is a read-only view of Arrow's buffer; callers may edit theirs
    return arr if arr.flags.writeable else arr.copy()
