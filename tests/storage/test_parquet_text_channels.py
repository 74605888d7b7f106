"""Text channels in the archive: codes in the column, the code-to-label table in the field
metadata, given back by the storage helper; other tools read the codes as numbers."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pyarrow.parquet as pq
from realfiles import logger_file

from desktop_app.importing import import_file
from storage.parquet import ParquetTelemetryStorage
from storage.parquet_schema import labels_of

STATES = ("running", "timeout", "waitCam")


def _windarab_with_states(tmp_path: Path) -> tuple[Path, list[str]]:
    """The real WinDarab export with two text columns added: a sensor state that changes
    during the run, and an error state that never does."""
    lines = logger_file("bosch_windarab_txt/sim_data.txt").read_bytes().split(b"\r\n")
    names = next(i for i, line in enumerate(lines) if line.startswith(b"xtime"))
    out, states = [], []
    for i, line in enumerate(lines):
        if i == names:
            line += b"\tcam_state\terror_state"
        elif i > names and line.strip():
            state = STATES[((i - names) // 1000) % len(STATES)]
            states.append(state)
            line += b"\t%12s\t%12s" % (state.encode(), b"No Error")
        out.append(line)
    path = tmp_path / "sim_data_states.txt"
    path.write_bytes(b"\r\n".join(out))
    return path, states


def test_text_columns_are_kept_as_codes_with_labels_through_the_archive(tmp_path: Path) -> None:
    path, states = _windarab_with_states(tmp_path)
    imported = import_file(path)
    rec = imported.recording
    cam = rec.channels["cam_state"]
    assert cam.labels == STATES
    assert [cam.labels[int(c)] for c in cam.values] == states  # every sample, in file order
    assert rec.channels["error_state"].labels == ("No Error",)  # inner space kept

    telemetry = imported.draft.telemetry
    telemetry.session_id = 41
    storage = ParquetTelemetryStorage(tmp_path / "data")
    file = storage.write(telemetry)
    back = storage.read(41)
    assert back is not None and back.labels == {"cam_state": STATES, "error_state": ("No Error",)}
    codes = np.concatenate([lap.channels["cam_state"] for lap in back.laps])
    assert [STATES[int(c)] for c in codes] == states
    # the table is field metadata; the column itself is numeric for any Parquet reader
    assert labels_of(pq.read_schema(file))["cam_state"] == STATES
    frame = pl.read_parquet(file, columns=["cam_state"])
    assert frame["cam_state"].to_list()[:3] == [0.0, 0.0, 0.0] and frame["cam_state"].max() == 2.0
    counted = duckdb.sql(f"select count(*) from '{file}' where cam_state = 1")
    assert counted is not None  # a query, so a relation (None is for statements)
    got = counted.fetchall()
    assert got == [(states.count("timeout"),)]


def test_a_file_without_text_channels_has_no_labels(tmp_path: Path) -> None:
    imported = import_file(logger_file("bosch_windarab_txt/sim_data.txt"))
    imported.draft.telemetry.session_id = 3
    storage = ParquetTelemetryStorage(tmp_path)
    file = storage.write(imported.draft.telemetry)
    assert labels_of(pq.read_schema(file)) == {}
    back = storage.read(3)
    assert back is not None and back.labels == {}


def test_read_labels_gives_the_tables_without_reading_samples(tmp_path: Path) -> None:
    path, _ = _windarab_with_states(tmp_path)
    telemetry = import_file(path).draft.telemetry
    telemetry.session_id = 7
    storage = ParquetTelemetryStorage(tmp_path / "data")
    storage.write(telemetry)
    assert storage.read_labels(7) == {"cam_state": STATES, "error_state": ("No Error",)}
    assert storage.read_labels(8) == {}  # no such session file
