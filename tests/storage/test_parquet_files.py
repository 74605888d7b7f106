"""The Parquet files themselves: other tools read them as is, the footer and lap index are
right, read_lap touches one row group, writes are atomic, bad files are named in errors."""

from __future__ import annotations

import io
import json
import os
import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from storage.parquet import ParquetTelemetryStorage, TelemetryFileError
from storage.types import STANDARD_CHANNELS, LapTelemetry, SessionMetadata, SessionTelemetry

LAP_ROWS = [250, 0, 1, 400, 120]
#: as the pipeline names them: a source channel ``Speed`` is saved as ``Speed_2``
AUX = ["Öltemp °C", "新トラップ", "Speed_2", "oil pressure"]


def make_session(
    session_id: int = 7, lap_rows: list[int] | None = None, aux: list[str] | None = None
) -> SessionTelemetry:
    """Laps of known sizes with speed, rpm and auxiliary channels; lap k starts at 100*k s."""
    lap_rows = LAP_ROWS if lap_rows is None else lap_rows
    aux = AUX if aux is None else aux
    rng = np.random.default_rng(session_id)
    laps = []
    for k, n in enumerate(lap_rows):
        t = np.arange(n) * 0.04
        speed = 100 + 20 * np.sin(t)
        speed[::7] = np.nan  # gaps: null in the file
        ch = {
            "time": t,
            "distance": np.cumsum(speed / 3.6 * 0.04),
            "speed": speed,
            "rpm": rng.uniform(3000, 9000, n),
            "gear": np.repeat(rng.integers(1, 7, n // 50 + 1), 50)[:n].astype(np.float64),
        }
        ch.update({name: rng.normal(size=n) for name in aux})
        laps.append(LapTelemetry(k, 100.0 * k, ch))
    units = {"time": "s", "distance": "m", "speed": "km/h", "rpm": "rpm", "gear": "", **{a: "°C" for a in aux}}
    sources = {"speed": "Velocity", "rpm": "Engine Speed", **{a: a for a in aux}}
    if "Speed_2" in sources:
        sources["Speed_2"] = "Speed"
    return SessionTelemetry(
        session_id=session_id,
        laps=laps,
        auxiliary_channels=list(aux),
        units=units,
        source_names=sources,
        metadata=SessionMetadata(
            imported_at=datetime(2026, 6, 1, 9, 0, tzinfo=UTC),
            source_type="merged",
            started_at=datetime(2026, 6, 1, 8, 0, tzinfo=UTC),
            extra={"logger": "VBOX 3i + Bosch"},
        ),
    )


@pytest.fixture
def written(tmp_path: Path) -> tuple[ParquetTelemetryStorage, Path, SessionTelemetry]:
    store = ParquetTelemetryStorage(tmp_path)
    telemetry = make_session()
    return store, store.write(telemetry), telemetry


# --- other tools read the file as is -----------------------------------------------------------

FILE_COLUMNS = ["lap_number", *STANDARD_CHANNELS, "Öltemp °C", "新トラップ", "Speed_2", "oil pressure"]
#: the gear numbers survive float32 (decimals 0); every other channel here is float noise
FLOAT32_COLUMNS = ["gear"]
FLOAT64_COLUMNS = [c for c in FILE_COLUMNS[1:] if c not in FLOAT32_COLUMNS]


def test_pyarrow_reads_types_units_and_rows(written: tuple[ParquetTelemetryStorage, Path, SessionTelemetry]) -> None:
    _, path, telemetry = written
    table = pq.read_table(path)
    assert table.column_names == FILE_COLUMNS
    assert table.schema.field("lap_number").type == pa.int32() and not table.schema.field("lap_number").nullable
    assert all(table.schema.field(c).type == pa.float64() for c in FLOAT64_COLUMNS)
    assert all(table.schema.field(c).type == pa.float32() for c in FLOAT32_COLUMNS)
    assert (table.schema.field("gear").metadata or {})[b"decimals"] == b"0"
    assert table.num_rows == sum(LAP_ROWS)
    assert table.column("speed").null_count == sum(len(range(0, n, 7)) for n in LAP_ROWS)
    assert table.column("glat").null_count == sum(LAP_ROWS)
    meta = {f.name: f.metadata or {} for f in table.schema}
    assert meta["speed"] == {b"unit": b"km/h", b"source_name": b"Velocity"}
    assert meta["Öltemp °C"][b"unit"] == "°C".encode()
    assert meta["Speed_2"] == {b"unit": "°C".encode(), b"source_name": b"Speed"}
    speed = table.column("speed").to_numpy()
    np.testing.assert_array_equal(speed, np.concatenate([lap.channels["speed"] for lap in telemetry.laps]))


def test_duckdb_reads_it_and_queries_per_lap(written: tuple[ParquetTelemetryStorage, Path, SessionTelemetry]) -> None:
    _, path, telemetry = written
    con = duckdb.connect()
    described = con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(path)]).fetchall()
    types = {row[0]: row[1] for row in described}
    assert list(types) == FILE_COLUMNS
    assert types["lap_number"] == "INTEGER" and {types[c] for c in FLOAT64_COLUMNS} == {"DOUBLE"}
    assert {types[c] for c in FLOAT32_COLUMNS} == {"FLOAT"}
    per_lap = con.execute(
        "SELECT lap_number, count(*), count(speed), max(time) FROM read_parquet(?) GROUP BY 1 ORDER BY 1", [str(path)]
    ).fetchall()
    nonempty = [(k, n) for k, n in enumerate(LAP_ROWS) if n]
    assert [(k, n) for k, n, *_ in per_lap] == nonempty
    for (k, n), (_, _, speed_count, max_time) in zip(nonempty, per_lap, strict=True):
        assert speed_count == n - len(range(0, n, 7))
        assert max_time == pytest.approx(telemetry.laps[k].channels["time"].max())
    one = con.execute('SELECT "新トラップ" FROM read_parquet(?) WHERE lap_number = 3', [str(path)]).fetchnumpy()
    np.testing.assert_array_equal(one["新トラップ"], telemetry.laps[3].channels["新トラップ"])
    kv = con.execute("SELECT key, value FROM parquet_kv_metadata(?)", [str(path)]).fetchall()
    footer = json.loads(dict((bytes(k), bytes(v)) for k, v in kv)[b"laptrace"])
    assert footer["session_id"] == 7


def test_polars_reads_it(written: tuple[ParquetTelemetryStorage, Path, SessionTelemetry]) -> None:
    _, path, _ = written
    df = pl.read_parquet(path)
    assert df.columns == FILE_COLUMNS
    assert df.schema["lap_number"] == pl.Int32
    assert all(df.schema[c] == pl.Float64 for c in FLOAT64_COLUMNS)
    assert all(df.schema[c] == pl.Float32 for c in FLOAT32_COLUMNS)
    assert df.height == sum(LAP_ROWS)
    counts = df.group_by("lap_number").len().sort("lap_number")
    assert counts.rows() == [(k, n) for k, n in enumerate(LAP_ROWS) if n]
    assert df["rpm"].null_count() == 0 and df["lat"].null_count() == df.height
    lazy = pl.scan_parquet(path).filter(pl.col("lap_number") == 2).collect()
    assert lazy.height == 1


def test_pandas_reads_it(written: tuple[ParquetTelemetryStorage, Path, SessionTelemetry]) -> None:
    _, path, telemetry = written
    df = pd.read_parquet(path)
    assert list(df.columns) == FILE_COLUMNS
    assert df["lap_number"].dtype == np.int32
    assert all(df[c].dtype == np.float64 for c in FLOAT64_COLUMNS)
    assert all(df[c].dtype == np.float32 for c in FLOAT32_COLUMNS)
    assert len(df) == sum(LAP_ROWS)
    assert df["speed"].isna().sum() == sum(len(range(0, n, 7)) for n in LAP_ROWS)
    lap4 = df[df["lap_number"] == 4]
    np.testing.assert_array_equal(lap4["oil pressure"].to_numpy(), telemetry.laps[4].channels["oil pressure"])


def test_every_encoding_the_writer_picks_is_read_by_every_tool(
    written: tuple[ParquetTelemetryStorage, Path, SessionTelemetry],
) -> None:
    """The writer picks PLAIN, BYTE_STREAM_SPLIT or dictionary per column (parquet_encoding):
    the file must use all three here, and every tool must read each back exactly."""
    _, path, telemetry = written
    rg = pq.read_metadata(path).row_group(0)
    encodings = {rg.column(i).path_in_schema: set(rg.column(i).encodings) for i in range(rg.num_columns)}
    assert "RLE_DICTIONARY" in encodings["gear"]  # few distinct values
    assert "BYTE_STREAM_SPLIT" in encodings["rpm"]  # uniform in a range: the high bytes repeat
    assert encodings["oil pressure"] == {"PLAIN", "RLE"}  # normal noise: nothing to gain (RLE: nulls)
    want = {c: np.concatenate([lap.channels[c] for lap in telemetry.laps]) for c in ("gear", "rpm", "oil pressure")}
    duck = duckdb.connect().execute('SELECT gear, rpm, "oil pressure" FROM read_parquet(?)', [str(path)]).fetchnumpy()
    polars = pl.read_parquet(path, columns=list(want))
    pandas = pd.read_parquet(path, columns=list(want))
    for c, values in want.items():
        np.testing.assert_array_equal(np.asarray(duck[c], dtype=np.float64), values)
        np.testing.assert_array_equal(polars[c].to_numpy(), values)
        np.testing.assert_array_equal(pandas[c].to_numpy(), values)


# --- footer and lap index ----------------------------------------------------------------------


def test_footer_and_lap_index(written: tuple[ParquetTelemetryStorage, Path, SessionTelemetry]) -> None:
    store, path, _ = written
    meta = pq.read_metadata(path)
    assert meta.num_row_groups == len(LAP_ROWS)  # one row group per lap, the empty one too
    assert [meta.row_group(i).num_rows for i in range(meta.num_row_groups)] == LAP_ROWS
    for i in range(meta.num_row_groups):
        assert meta.row_group(i).column(0).compression == "ZSTD"  # the default codec
        stats = meta.row_group(i).column(0).statistics
        if LAP_ROWS[i]:  # each row group holds exactly its lap: DuckDB can skip the others
            assert stats is not None and stats.min == stats.max == i

    assert meta.metadata is not None
    doc = json.loads(meta.metadata[b"laptrace"])
    assert doc["format_version"] == 2
    assert doc["session_id"] == 7
    assert doc["source_type"] == "merged"
    assert doc["imported_at"] == "2026-06-01T09:00:00+00:00"
    assert doc["started_at"] == "2026-06-01T08:00:00+00:00"
    assert doc["channel_count"] == 5 + len(AUX)
    assert doc["total_points"] == sum(LAP_ROWS)
    assert doc["standard_channels"] == ["time", "distance", "speed", "rpm", "gear"]
    assert doc["auxiliary_channels"] == ["Öltemp °C", "新トラップ", "Speed_2", "oil pressure"]
    assert doc["units"]["Speed_2"] == "°C" and doc["source_names"]["Speed_2"] == "Speed"
    assert doc["extra"] == {"logger": "VBOX 3i + Bosch"}
    assert doc["laps"] == [
        {"lap_number": k, "row_group": k, "rows": n, "start_offset": 100.0 * k} for k, n in enumerate(LAP_ROWS)
    ]

    footer = store.read_footer(7)
    assert footer is not None
    assert footer.total_points == sum(LAP_ROWS) and footer.channel_count == 9
    assert [(e.lap_number, e.row_group, e.rows) for e in footer.laps] == [(k, k, n) for k, n in enumerate(LAP_ROWS)]
    assert footer.metadata.source_type == "merged"


# --- read_lap reads one row group --------------------------------------------------------------


class CountingFile(io.FileIO):
    """A file that counts the bytes pyarrow pulls out of it."""

    def __init__(self, path: str | Path) -> None:
        super().__init__(path, "rb")
        self.bytes_read = 0

    def read(self, size: int | None = -1) -> bytes:
        data = super().read(size)
        self.bytes_read += len(data)
        return data

    def readinto(self, buffer: Any) -> int:
        n = super().readinto(buffer) or 0
        self.bytes_read += n
        return n


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[list[CountingFile], list[Any]]]:
    """Every ParquetFile the storage opens reads through a CountingFile; row-group reads are logged."""
    files: list[CountingFile] = []
    groups: list[Any] = []
    real_file = pq.ParquetFile
    real_read_row_group = pq.ParquetFile.read_row_group

    def opener(source: str | Path, **kwargs: Any) -> pq.ParquetFile:
        files.append(CountingFile(source))
        return real_file(files[-1], **kwargs)

    def read_row_group(self: pq.ParquetFile, i: int, *args: Any, **kwargs: Any) -> pa.Table:
        groups.append(i)
        return real_read_row_group(self, i, *args, **kwargs)

    monkeypatch.setattr(pq.ParquetFile, "read_row_group", read_row_group)
    monkeypatch.setattr(pq, "ParquetFile", opener)
    yield files, groups
    for f in files:
        f.close()


def test_read_lap_reads_only_that_lap(tmp_path: Path, counted: tuple[list[CountingFile], list[Any]]) -> None:
    files, groups = counted
    store = ParquetTelemetryStorage(tmp_path)
    path = store.write(make_session(lap_rows=[5000] * 20, aux=[f"aux {i}" for i in range(8)]))
    size = path.stat().st_size

    lap = store.read_lap(7, 13)
    assert lap is not None and lap.lap_number == 13 and len(lap) == 5000
    # through the lap index pyarrow is handed a footer of lap 13's row group alone
    assert len(groups) == 1
    lap_bytes = files[-1].bytes_read
    # one lap is a twentieth of the data; the footer and one row group are all that is read
    assert lap_bytes < size / 8, (lap_bytes, size)

    groups.clear()
    whole = store.read(7)
    assert whole is not None and groups == list(range(20))
    assert files[-1].bytes_read >= 0.9 * size  # the counter does see a whole read
    np.testing.assert_array_equal(whole.laps[13].channels["aux 3"], lap.channels["aux 3"])


def test_a_second_read_lap_does_not_parse_the_footer_again(
    tmp_path: Path, counted: tuple[list[CountingFile], list[Any]]
) -> None:
    files, _ = counted
    store = ParquetTelemetryStorage(tmp_path)
    store.write(make_session(lap_rows=[3000] * 60, aux=[f"aux {i}" for i in range(20)]))
    assert store.read_lap(7, 30) is not None
    first = files[-1].bytes_read
    assert store.read_lap(7, 30) is not None
    again = files[-1].bytes_read
    meta = pq.read_metadata(store.path_for(7))
    group = meta.row_group(30)
    lap_data = sum(group.column(i).total_compressed_size for i in range(group.num_columns))
    # the lap index hands pyarrow that lap's footer: the file's footer is not read at all,
    # the first time or again; only the lap's column chunks are
    assert first == again <= lap_data  # the footer (meta.serialized_size) would not fit
    assert store.read_footer(7) is not None  # now the whole footer is parsed and cached
    assert store.read_lap(7, 30) is not None
    assert files[-1].bytes_read <= lap_data  # and not read again


def test_cached_footers_follow_the_file(tmp_path: Path) -> None:
    store = ParquetTelemetryStorage(tmp_path)
    first = make_session(lap_rows=[50, 60])
    store.write(first)
    footer = store.read_footer(7)
    assert footer is not None
    footer.units["speed"] = "mph"  # editing a returned footer does not reach the cache
    footer.metadata.extra["x"] = "y"
    again = store.read_footer(7)
    assert again is not None and again.units["speed"] == "km/h" and "x" not in again.metadata.extra

    second = make_session(lap_rows=[50, 60])
    for changed in second.laps:
        changed.channels["rpm"] = changed.channels["rpm"] + 1.0  # same shape, same size, new values
    store.write(second)
    lap = store.read_lap(7, 1)
    assert lap is not None
    np.testing.assert_array_equal(lap.channels["rpm"], second.laps[1].channels["rpm"])

    path = store.path_for(7)
    path.write_bytes(path.read_bytes()[:-10])  # damaged after it was cached
    with pytest.raises(TelemetryFileError, match="not a readable Parquet file"):
        store.read_lap(7, 1)
    path.unlink()
    assert store.read_lap(7, 1) is None


# --- atomic writes -------------------------------------------------------------------------------


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


class Boom(Exception):
    pass


def raising(exc: BaseException) -> Callable[..., None]:
    def fail(*args: object) -> None:
        raise exc

    return fail


def cancel_after(laps: int, checks: Callable[[], None] | None = None) -> Callable[[int, int], None]:
    def progress(done: int, total: int) -> None:
        if checks is not None:
            checks()
        if done == laps:
            raise Boom(f"cancelled after lap {done} of {total}")

    return progress


def test_failed_first_write_leaves_nothing(tmp_path: Path) -> None:
    store = ParquetTelemetryStorage(tmp_path)
    final = store.path_for(7)
    seen: list[list[str]] = []

    def during() -> None:  # mid-write: only a hidden temp file in the same folder
        assert not final.exists()
        seen.append(leftovers(store.folder))

    with pytest.raises(Boom):
        store.write(make_session(), cancel_after(2, during))
    assert seen and all(
        len(names) == 1 and names[0].startswith(".7.parquet.") and names[0].endswith(".tmp") for names in seen
    )
    assert leftovers(store.folder) == []
    assert store.read(7) is None


@pytest.fixture
def older(tmp_path: Path) -> tuple[ParquetTelemetryStorage, bytes]:
    store = ParquetTelemetryStorage(tmp_path)
    store.write(make_session(lap_rows=[10, 20]))
    return store, store.path_for(7).read_bytes()


def assert_older_intact(store: ParquetTelemetryStorage, old: bytes) -> None:
    assert store.path_for(7).read_bytes() == old
    assert leftovers(store.folder) == ["7.parquet"]
    got = store.read(7)
    assert got is not None and [len(lap) for lap in got.laps] == [10, 20]


def test_cancelled_rewrite_keeps_the_older_file(older: tuple[ParquetTelemetryStorage, bytes]) -> None:
    store, old = older

    def during() -> None:
        assert store.path_for(7).read_bytes() == old

    with pytest.raises(Boom):
        store.write(make_session(), cancel_after(2, during))
    assert_older_intact(store, old)


@pytest.mark.parametrize("with_older", [False, True])
@pytest.mark.parametrize("failing", ["write_table", "fsync", "replace", "interrupt"])
def test_failures_mid_write_are_clean(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: str, with_older: bool
) -> None:
    store = ParquetTelemetryStorage(tmp_path)
    old = b""
    if with_older:
        store.write(make_session(lap_rows=[10, 20]))
        old = store.path_for(7).read_bytes()
    calls = {"n": 0}

    def third_write_table(*args: Any, **kwargs: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError("disk full")
        real_write_table(*args, **kwargs)

    real_write_table = pq.ParquetWriter.write_table
    expected: type[BaseException] = OSError
    if failing == "write_table":
        monkeypatch.setattr(pq.ParquetWriter, "write_table", third_write_table)
    elif failing == "fsync":
        monkeypatch.setattr(os, "fsync", raising(OSError("fsync failed")))
    elif failing == "replace":
        monkeypatch.setattr(os, "replace", raising(PermissionError("file in use")))
    else:
        expected = KeyboardInterrupt

        def interrupt(done: int, total: int) -> None:
            if done == 3:
                raise KeyboardInterrupt

    with pytest.raises(expected):
        store.write(make_session(), interrupt if failing == "interrupt" else None)
    monkeypatch.undo()
    if with_older:
        assert_older_intact(store, old)
    else:
        assert leftovers(store.folder) == []


def test_write_streams_one_lap_at_a_time(tmp_path: Path) -> None:
    """Arrow memory held between laps stays near one lap, whatever the session's length:
    the session is never concatenated into one table."""
    telemetry = make_session(lap_rows=[5000] * 30, aux=[f"aux {i}" for i in range(16)])
    lap_bytes = sum(v.nbytes for v in telemetry.laps[0].channels.values())
    held: list[int] = []
    # relative to what Arrow already holds: earlier tests in the process may keep buffers alive
    baseline = pa.total_allocated_bytes()
    ParquetTelemetryStorage(tmp_path).write(
        telemetry, lambda done, total: held.append(pa.total_allocated_bytes() - baseline)
    )
    assert len(held) == 31
    assert max(held) < 2 * lap_bytes, (max(held), lap_bytes)  # the whole session is 30 laps


def test_folder_is_created(tmp_path: Path) -> None:
    store = ParquetTelemetryStorage(tmp_path / "a" / "b")
    assert store.write(make_session(lap_rows=[3])).is_file()


# --- corrupt, truncated and foreign files --------------------------------------------------------


def expect_file_error(store: ParquetTelemetryStorage, path: Path, match: str) -> None:
    for call in (lambda: store.read(7), lambda: store.read_lap(7, 0), lambda: store.read_footer(7)):
        with pytest.raises(TelemetryFileError, match=match) as info:
            call()
        assert info.value.path == path
        assert str(path) in str(info.value)


@pytest.mark.parametrize("cut", [1, 8, 100, 0.5, 0.9])
def test_truncated_file(written: tuple[ParquetTelemetryStorage, Path, SessionTelemetry], cut: float) -> None:
    store, path, _ = written
    data = path.read_bytes()
    keep = len(data) - cut if isinstance(cut, int) else int(len(data) * cut)
    path.write_bytes(data[:keep])
    expect_file_error(store, path, "not a readable Parquet file")


NOISE = np.random.default_rng(0).bytes(5000)


@pytest.mark.parametrize(
    "content", [b"", b"PAR1", NOISE, b"PAR1" + NOISE + b"PAR1"], ids=["empty", "magic", "noise", "framed"]
)
def test_random_bytes(tmp_path: Path, content: bytes) -> None:
    store = ParquetTelemetryStorage(tmp_path)
    store.folder.mkdir()
    store.path_for(7).write_bytes(content)
    expect_file_error(store, store.path_for(7), "not a readable Parquet file")


def test_foreign_parquet_file(tmp_path: Path) -> None:
    store = ParquetTelemetryStorage(tmp_path)
    store.folder.mkdir()
    pq.write_table(pa.table({"lap_number": pa.array([0, 0], pa.int32()), "time": [0.0, 0.1]}), store.path_for(7))
    expect_file_error(store, store.path_for(7), "not a Laptrace telemetry file")


@pytest.mark.parametrize(
    ("footer", "match"),
    [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"format_version": 99}', "format version 99"),
        (b'{"format_version": 1, "source_type": "vbo"}', "imported_at"),
    ],
)
def test_bad_footer(written: tuple[ParquetTelemetryStorage, Path, SessionTelemetry], footer: bytes, match: str) -> None:
    store, path, _ = written
    table = pq.read_table(path)
    pq.write_table(table.replace_schema_metadata({b"laptrace": footer}), path)
    expect_file_error(store, path, match)


def test_lap_index_not_matching_the_row_groups(written: tuple[ParquetTelemetryStorage, Path, SessionTelemetry]) -> None:
    store, path, _ = written
    metadata = pq.read_metadata(path).metadata
    assert metadata is not None
    doc = json.loads(metadata[b"laptrace"])
    table = pq.read_table(path)  # rewritten as one row group: the lap index no longer fits
    pq.write_table(table.replace_schema_metadata({b"laptrace": json.dumps(doc).encode()}), path)
    expect_file_error(store, path, "footer lists 5 laps but the file has 1 row groups")


def test_file_of_another_session(written: tuple[ParquetTelemetryStorage, Path, SessionTelemetry]) -> None:
    store, path, _ = written
    shutil.copy(path, store.path_for(8))
    with pytest.raises(TelemetryFileError, match="holds session 7, not 8") as info:
        store.read(8)
    assert info.value.path == store.path_for(8)


def test_flipped_byte_in_the_data_is_caught(written: tuple[ParquetTelemetryStorage, Path, SessionTelemetry]) -> None:
    store, path, _ = written
    chunk = pq.read_metadata(path).row_group(3).column(FILE_COLUMNS.index("rpm"))
    start = min(o for o in (chunk.dictionary_page_offset, chunk.data_page_offset) if o is not None)
    data = bytearray(path.read_bytes())
    data[start + chunk.total_compressed_size * 2 // 3] ^= 0x40
    path.write_bytes(bytes(data))
    with pytest.raises(TelemetryFileError, match=r"lap 3 .row group 3. cannot be read") as info:
        store.read_lap(7, 3)
    assert str(path) in str(info.value)
    with pytest.raises(TelemetryFileError):
        store.read(7)
    assert store.read_lap(7, 4) is not None  # the other laps are still readable
