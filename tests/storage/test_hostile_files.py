"""Hostile files under ``telemetry/``: a FIFO, a footer nested beyond any real one, a huge
footer, 20,000 row groups, a tiny file that would expand to gigabytes, a wrong schema, a
truncated file. Each is a clear :class:`TelemetryFileError` naming the file when its session
is opened, decided from the file's trailer and metadata (nothing big is allocated), and
start-up recovery marks a session left ``writing`` with such a file failed, saying why."""

from __future__ import annotations

import os
import struct
import sys
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from draftmaker import make_draft
from sqlalchemy import Engine, update

from storage.db.catalog import load_session, run_write
from storage.db.models import TrackSession
from storage.parquet import ParquetTelemetryStorage, TelemetryFileError
from storage.sessions import recover, save_session
from storage.types import LapTelemetry, SessionMetadata, SessionTelemetry


def _opened_error(store: ParquetTelemetryStorage, session_id: int, match: str) -> None:
    path = store.path_for(session_id)
    for call in (
        lambda: store.read(session_id),
        lambda: store.read_lap(session_id, 0),
        lambda: store.read_footer(session_id),
    ):
        with pytest.raises(TelemetryFileError, match=match) as info:
            call()
        assert info.value.path == path


def _fresh(tmp_path: Path) -> ParquetTelemetryStorage:
    store = ParquetTelemetryStorage(tmp_path)
    store.folder.mkdir(parents=True)
    return store


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_a_fifo_in_place_of_the_file(tmp_path: Path) -> None:
    store = _fresh(tmp_path)
    os.mkfifo(store.path_for(7))
    # opening a FIFO for reading would block until a writer comes: refused before that
    _opened_error(store, 7, "not a regular file")


def test_a_footer_nested_beyond_any_real_one(tmp_path: Path) -> None:
    store = _fresh(tmp_path)
    body = b"\x1c" * 200_000 + b"\x00" * 200_000  # thrift structs opened 200,000 deep
    store.path_for(7).write_bytes(b"PAR1" + body + struct.pack("<I", len(body)) + b"PAR1")
    _opened_error(store, 7, "not a readable Parquet file")


def test_a_schema_nested_beyond_any_real_one(tmp_path: Path) -> None:
    store = _fresh(tmp_path)
    t: pa.DataType = pa.float64()
    for _ in range(300):
        t = pa.struct([("a", t)])
    pq.write_table(pa.table({"x": pa.array([None], type=t)}), store.path_for(7))
    _opened_error(store, 7, "nested")


def test_a_footer_larger_than_any_session_needs(tmp_path: Path) -> None:
    store = _fresh(tmp_path)
    store.max_footer_bytes = 1 << 20
    table = pa.table({"lap_number": pa.array([0], pa.int32())})
    pq.write_table(table.replace_schema_metadata({b"junk": b"x" * (3 << 20)}), store.path_for(7))
    _opened_error(store, 7, r"footer of \d+ bytes is over the limit of 1048576")


def test_twenty_thousand_row_groups(tmp_path: Path) -> None:
    store = _fresh(tmp_path)
    table = pa.table({"lap_number": pa.array(np.zeros(20_000, np.int32)), "time": pa.array(np.zeros(20_000))})
    pq.write_table(table, store.path_for(7), row_group_size=1)
    assert pq.ParquetFile(store.path_for(7)).metadata.num_row_groups == 20_000
    _opened_error(store, 7, "20000 row groups, over the limit of 10000")


def _one_long_lap(rows: int) -> SessionTelemetry:
    zeros = np.zeros(rows)
    channels = {"time": np.arange(rows, dtype=np.float64) * 0.01, "distance": zeros, "speed": zeros, "aux": zeros}
    meta = SessionMetadata(imported_at=datetime(2024, 5, 1, tzinfo=UTC), source_type="vbo")
    units = {"time": "s", "distance": "m", "speed": "km/h", "aux": "V"}
    return SessionTelemetry(
        7,
        [LapTelemetry(0, 0.0, channels)],
        auxiliary_channels=["aux"],
        units=units,
        source_names={name: name for name in channels},
        metadata=meta,
    )


def test_a_tiny_file_that_expands_to_far_more_than_its_size(tmp_path: Path) -> None:
    store = ParquetTelemetryStorage(tmp_path, compression="zstd")
    store.write(_one_long_lap(2_000_000))
    size = store.path_for(7).stat().st_size
    reader = ParquetTelemetryStorage(tmp_path)
    reader.max_lap_bytes = 16 << 20
    tracemalloc.start()
    try:
        _opened_error(reader, 7, r"lap 0 \(row group 0\) would take \d+ bytes in memory, over the limit")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # the lap decodes to 2e6 rows x (4 channels x 8 + 4) bytes = 72 MB from a small file;
    # it is refused from the metadata (read_footer too, which reads no data page), and the
    # refusal allocated nothing of that order on the Python side
    assert size * 20 < 72_000_000
    assert peak < 8 << 20


def test_a_wrong_schema(tmp_path: Path) -> None:
    store = ParquetTelemetryStorage(tmp_path)
    path = store.write(_one_long_lap(100))
    table = pq.read_table(path)
    speed = table.schema.get_field_index("speed")
    changed = table.set_column(speed, pa.field("speed", pa.string()), pa.array(["x"] * 100))
    metadata = pq.read_metadata(path).metadata
    assert metadata is not None
    footer = metadata[b"laptrace"]
    pq.write_table(changed.replace_schema_metadata({b"laptrace": footer}), path, row_group_size=100)
    _opened_error(store, 7, "channel column 'speed' is missing or not float64")


@pytest.mark.parametrize("keep", [0, 11, 100, -1, -9])
def test_truncated(tmp_path: Path, keep: int) -> None:
    store = ParquetTelemetryStorage(tmp_path)
    path = store.write(_one_long_lap(1000))
    data = path.read_bytes()
    path.write_bytes(data[:keep] if keep >= 0 else data[: len(data) + keep])
    _opened_error(store, 7, "not a readable Parquet file")


@pytest.mark.skipif(sys.platform == "win32", reason="FIFOs are POSIX")
def test_start_up_recovery_fails_a_session_with_a_hostile_file(
    engine: Engine, telemetry: ParquetTelemetryStorage
) -> None:
    ids = [save_session(make_draft(f"h{i}"), engine, telemetry) for i in range(3)]
    fifo, nested, rows = ids
    telemetry.path_for(fifo).unlink()
    os.mkfifo(telemetry.path_for(fifo))
    body = b"\x1c" * 1000 + b"\x00" * 1000
    telemetry.path_for(nested).write_bytes(b"PAR1" + body + struct.pack("<I", len(body)) + b"PAR1")
    t = pa.table({"lap_number": pa.array(np.zeros(20_000, np.int32))})
    pq.write_table(t, telemetry.path_for(rows), row_group_size=1)
    run_write(engine, lambda db: db.execute(update(TrackSession).values(status="writing")))
    report = recover(engine, telemetry)
    assert sorted(report.failed) == sorted(ids) and report.ready == []
    errors = {sid: load_session(engine, sid).summary.error or "" for sid in ids}
    assert "not a regular file" in errors[fifo]
    assert "not a readable Parquet file" in errors[nested]
    assert "20000 row groups" in errors[rows]
