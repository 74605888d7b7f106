"""The lap index: read_lap parses one row group's footer, gives the same lap as the whole
footer would, and falls back to the whole footer whenever the index does not fit the file."""

from __future__ import annotations

import json
import struct
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from storage import parquet_lapindex
from storage.parquet import ParquetTelemetryStorage
from storage.parquet_lapindex import MAGIC, read_index, row_group_spans
from storage.types import FloatArray, LapTelemetry, SessionMetadata, SessionTelemetry

LAPS = [300, 0, 1, 250, 400, 400, 75]  #: laps 4 and 5 are as long


def make_session(lap_rows: list[int]) -> SessionTelemetry:
    """Session 7: laps of known sizes, lap k starting at 100*k s, NaN gaps, a gear channel."""
    rng = np.random.default_rng(7)
    laps = []
    for k, n in enumerate(lap_rows):
        time: FloatArray = np.arange(n, dtype=np.float64) * 0.04
        speed: FloatArray = 100 + 20 * np.sin(time)
        speed[::7] = np.nan
        channels = {
            "time": time,
            "distance": np.cumsum(speed / 3.6 * 0.04),
            "speed": speed,
            "rpm": rng.uniform(3000, 9000, n),
            "gear": np.repeat(rng.integers(1, 7, n // 50 + 1), 50)[:n].astype(np.float64),
            "oil": np.round(rng.normal(90, 5, n), 1),
        }
        laps.append(LapTelemetry(k, 100.0 * k, channels))
    return SessionTelemetry(
        session_id=7,
        laps=laps,
        auxiliary_channels=["oil"],
        units={"oil": "°C"},
        source_names={"oil": "Oil Temp"},
        metadata=SessionMetadata(datetime(2026, 6, 1, 9, 0, tzinfo=UTC), "vbo"),
    )


def _same_laps(a: LapTelemetry, b: LapTelemetry) -> None:
    assert (a.lap_number, a.start_offset, list(a.channels)) == (b.lap_number, b.start_offset, list(b.channels))
    for name, values in a.channels.items():
        want: FloatArray = b.channels[name]
        assert np.array_equal(values, want, equal_nan=True), name


def _index_doc(path: Path) -> tuple[dict[str, object], int, int]:
    """The index JSON of a file, its offset and the footer's offset."""
    data = path.read_bytes()
    footer_start = len(data) - 8 - int.from_bytes(data[-8:-4], "little")
    assert data[footer_start - 4 : footer_start] == MAGIC
    length = int.from_bytes(data[footer_start - 8 : footer_start - 4], "little")
    start = footer_start - 8 - length
    return json.loads(data[start : footer_start - 8]), start, footer_start


@pytest.fixture
def written(tmp_path: Path) -> tuple[Path, SessionTelemetry]:
    telemetry = make_session(lap_rows=LAPS)
    ParquetTelemetryStorage(tmp_path).write(telemetry)
    return tmp_path, telemetry


def test_every_lap_through_the_index_is_the_lap_the_whole_footer_gives(
    written: tuple[Path, SessionTelemetry], monkeypatch: pytest.MonkeyPatch
) -> None:
    root, telemetry = written
    whole = ParquetTelemetryStorage(root).read(7)
    assert whole is not None
    used: list[int] = []
    real = parquet_lapindex.lap_footer

    def counting(fd: int, index: parquet_lapindex.LapIndex, start: int, stop: int) -> bytes:
        used.append(start)
        return real(fd, index, start, stop)

    monkeypatch.setattr("storage.parquet.lap_footer", counting)
    for want in whole.laps:
        got = ParquetTelemetryStorage(root).read_lap(7, want.lap_number)  # fresh: nothing cached
        assert got is not None
        _same_laps(got, want)
    assert len(used) == len(LAPS)  # each went through the index
    assert ParquetTelemetryStorage(root).read_lap(7, 99) is None
    np.testing.assert_array_equal(whole.laps[3].channels["rpm"], telemetry.laps[3].channels["rpm"])
    assert whole.laps[4].channels["oil"].tolist() == telemetry.laps[4].channels["oil"].tolist()


def test_the_index_locates_each_row_group_in_the_footer(written: tuple[Path, SessionTelemetry]) -> None:
    root, _ = written
    path = ParquetTelemetryStorage(root).path_for(7)
    doc, _, footer_start = _index_doc(path)
    data = path.read_bytes()
    footer = data[footer_start:-8]
    head, end, spans = row_group_spans(footer)
    assert doc["list"] == [head, end] and doc["footer_bytes"] == len(footer) and doc["session_id"] == 7
    entries = [s for s, _ in spans] + [end]
    assert (doc["lap_number"], doc["rows"], doc["entry"]) == (list(range(len(LAPS))), LAPS, entries)
    assert doc["start_offset"] == [100.0 * k for k in range(len(LAPS))]
    # pyarrow sees the same footer as before the index was put in: the tools read it as is
    meta = pq.read_metadata(path)
    assert meta.num_row_groups == len(LAPS) and meta.serialized_size == len(footer)


def _patch_index(path: Path, edit: dict[str, object]) -> None:
    doc, start, footer_start = _index_doc(path)
    doc.update(edit)
    raw = json.dumps(doc).encode()
    data = path.read_bytes()
    path.write_bytes(data[:start] + raw + struct.pack("<I", len(raw)) + MAGIC + data[footer_start:])


@pytest.mark.parametrize(
    "edit",
    [
        {"session_id": 8},
        {"footer_bytes": 10},
        {"list": [0, 5]},
        {"lap_number": "none"},
        {"rows": [1, 2]},
        {"entry": []},
        {"channels": [1, 2]},
    ],
    ids=["session", "footer-size", "list", "laps", "rows", "entries", "channels"],
)
def test_an_index_that_does_not_fit_is_not_used(
    written: tuple[Path, SessionTelemetry], edit: dict[str, object]
) -> None:
    root, _ = written
    store = ParquetTelemetryStorage(root)
    path = store.path_for(7)
    want = store.read(7)
    assert want is not None
    _patch_index(path, edit)
    fd = path.open("rb")
    try:
        index = read_index(fd.fileno(), path.stat().st_size, 7)
        if index is not None:  # read, but lap 4's entry is refused
            with pytest.raises(ValueError, match="bad lap index entry"):
                index.lap(4)
    finally:
        fd.close()
    got = ParquetTelemetryStorage(root).read_lap(7, 4)  # through the whole footer
    assert got is not None
    _same_laps(got, want.laps[4])


def test_an_index_pointing_at_another_lap_is_not_believed(written: tuple[Path, SessionTelemetry]) -> None:
    root, _ = written
    store = ParquetTelemetryStorage(root)
    path = store.path_for(7)
    want = store.read(7)
    assert want is not None
    doc, _, _ = _index_doc(path)
    numbers = doc["lap_number"]
    assert isinstance(numbers, list)
    numbers[4], numbers[5] = numbers[5], numbers[4]  # the index sends lap 4 to lap 5's row group
    _patch_index(path, {"lap_number": numbers})
    fd = path.open("rb")
    try:
        index = read_index(fd.fileno(), path.stat().st_size, 7)
    finally:
        fd.close()
    entry = None if index is None else index.lap(4)
    assert entry is not None and entry.row_group == 5 and entry.rows == 400  # well-formed, and wrong
    got = ParquetTelemetryStorage(root).read_lap(7, 4)
    assert got is not None
    _same_laps(got, want.laps[4])  # the lap column's statistics gave it away: whole footer


def test_a_file_without_an_index_still_reads_lap_by_lap(written: tuple[Path, SessionTelemetry]) -> None:
    """Files written before the lap index existed, or rewritten by another tool."""
    root, _ = written
    store = ParquetTelemetryStorage(root)
    path = store.path_for(7)
    want = store.read(7)
    assert want is not None
    source = pq.ParquetFile(path)
    groups = [source.read_row_group(i) for i in range(source.num_row_groups)]
    kv = {k: v for k, v in (source.metadata.metadata or {}).items() if k != b"ARROW:schema"}
    schema = source.schema_arrow.with_metadata(kv)
    source.close()
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        for group in groups:
            writer.write_table(group, row_group_size=max(group.num_rows, 1))
    assert MAGIC not in path.read_bytes()[-pq.read_metadata(path).serialized_size - 16 :]
    for lap in want.laps:
        got = ParquetTelemetryStorage(root).read_lap(7, lap.lap_number)
        assert got is not None
        _same_laps(got, lap)


def test_a_session_without_laps_has_an_empty_index(tmp_path: Path) -> None:
    telemetry = SessionTelemetry(
        session_id=3,
        laps=[],
        auxiliary_channels=[],
        units={},
        source_names={},
        metadata=SessionMetadata(datetime(2026, 1, 1, tzinfo=UTC), "vbo"),
    )
    store = ParquetTelemetryStorage(tmp_path)
    path = store.write(telemetry)
    doc, _, _ = _index_doc(path)
    assert doc["lap_number"] == [] and len(doc["entry"]) == 1  # type: ignore[arg-type]
    assert ParquetTelemetryStorage(tmp_path).read_lap(3, 0) is None
