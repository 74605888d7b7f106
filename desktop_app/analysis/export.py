"""Laps to CSV: every sample of every selected lap, with the units in the header.

One row per sample, laps one after another: ``lap``, ``time [s]`` (lap time), ``distance
[m]``, then every other channel as ``name [unit]``. A missing sample (NaN) is an empty field,
never a filled-in value. The file is written next to its destination and renamed into place,
so a failed export leaves neither a half-written file nor a temporary one.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv

from storage.types import LapTelemetry


def header(name: str, unit: str | None) -> str:
    return f"{name} [{unit}]" if unit else name


def laps_table(laps: Sequence[LapTelemetry], units: Mapping[str, str]) -> pa.Table:
    """The laps as one table (columns in first-seen order; a lap without a channel: empty)."""
    names: dict[str, None] = {"time": None, "distance": None}
    for lap in laps:
        names.update(dict.fromkeys(lap.channels))
    columns: dict[str, pa.Array[pa.Scalar[pa.DataType]]] = {
        "lap": pa.array(np.concatenate([np.full(len(lap), lap.lap_number, dtype=np.int64) for lap in laps]))
        if laps
        else pa.array([], pa.int64())
    }
    default_units = {"time": "s", "distance": "m"}
    for name in names:
        parts = [lap.channels.get(name, np.full(len(lap), np.nan)) for lap in laps]
        values = np.concatenate(parts) if parts else np.empty(0)
        columns[header(name, units.get(name) or default_units.get(name))] = pa.array(values, from_pandas=True)
    return pa.table(columns)


def write_laps_csv(path: str | Path, laps: Sequence[LapTelemetry], units: Mapping[str, str]) -> Path:
    """Write ``laps`` to ``path`` (atomically); returns the path."""
    target = Path(path)
    table = laps_table(laps, units)
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    os.close(fd)
    try:
        pa_csv.write_csv(table, temp)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return target
