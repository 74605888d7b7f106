"""float32 columns: a channel is narrowed only when it reads back bit for bit, every tool's
``round(x, decimals)`` gives the value written, and version 1 files still read."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import hypothesis.extra.numpy as hnp
import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from realfiles import logger_file

from desktop_app.importing import import_file
from storage.parquet import ParquetTelemetryStorage, TelemetryFileError
from storage.parquet_decimals import FLOAT32_SPAN, float32_decimals
from storage.types import FloatArray, LapTelemetry, SessionMetadata, SessionTelemetry


def one_channel_session(laps: list[FloatArray], session_id: int = 1) -> SessionTelemetry:
    out = []
    for k, values in enumerate(laps):
        n = values.shape[0]
        time: FloatArray = np.arange(n, dtype=np.float64) * 0.1
        out.append(LapTelemetry(k, 10.0 * k, {"time": time, "distance": np.zeros(n), "x": values}))
    return SessionTelemetry(
        session_id=session_id,
        laps=out,
        auxiliary_channels=["x"],
        units={"x": "V"},
        source_names={"x": "X"},
        metadata=SessionMetadata(datetime(2026, 7, 1, tzinfo=UTC), "vbo"),
    )


def assert_bits_equal(got: FloatArray, want: FloatArray, what: str) -> None:
    """The same float64 bits where there is a value, NaN where there was NaN."""
    assert got.dtype == np.float64 and got.shape == want.shape, what
    nan = np.isnan(want)
    assert np.array_equal(np.isnan(got), nan), what
    assert np.array_equal(got[~nan].view(np.uint64), want[~nan].view(np.uint64)), what


# --- the property: float64 as given, or float32 that reads back bit for bit -----------------------


def _from_text(draw: st.DrawFn, n: int) -> FloatArray:
    """Values as a text reader makes them: float(text) of numbers with a few decimals."""
    decimals = draw(st.integers(0, 8))
    scale = draw(st.sampled_from([1, 10, 1000, 10**5, 10**7]))
    ints = draw(hnp.arrays(np.int64, n, elements=st.integers(-scale * 10**decimals, scale * 10**decimals)))
    return np.array([float(f"{m / 10**decimals:.{decimals}f}") for m in ints.tolist()], dtype=np.float64)


@st.composite
def column_values(draw: st.DrawFn) -> FloatArray:
    n = draw(st.integers(0, 300))
    kind = draw(st.sampled_from(["text", "any", "integers", "zeros"]))
    if kind == "text":
        values = _from_text(draw, n)
    elif kind == "integers":
        values = draw(hnp.arrays(np.int64, n, elements=st.integers(-(2**30), 2**30))).astype(np.float64)
    elif kind == "zeros":
        values = np.array(draw(st.lists(st.sampled_from([0.0, -0.0, 1.0, -1.0]), min_size=n, max_size=n)))
    else:
        values = draw(hnp.arrays(np.float64, n, elements=st.floats(allow_nan=True, allow_infinity=True, width=64)))
    if n and draw(st.booleans()):
        values[draw(hnp.arrays(np.bool_, n))] = np.nan
    return values


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(laps=st.lists(column_values(), min_size=1, max_size=3))
def test_a_column_stays_float64_or_comes_back_bit_identical(tmp_path: Path, laps: list[FloatArray]) -> None:
    store = ParquetTelemetryStorage(tmp_path)
    path = store.write(one_channel_session(laps))
    field = pq.read_schema(path).field("x")
    decimals = (field.metadata or {}).get(b"decimals")
    assert field.type == (pa.float64() if decimals is None else pa.float32())
    got = store.read(1)
    assert got is not None
    for lap, want in zip(got.laps, laps, strict=True):
        assert_bits_equal(lap.channels["x"], want, f"lap {lap.lap_number}, stored as {field.type}")
    if decimals is not None:  # narrowed: every value has at most that many decimals
        present = np.concatenate([v[~np.isnan(v)] for v in laps])
        assert np.array_equal(np.round(present, int(decimals)), present)
        assert float(np.max(np.abs(present), initial=0.0)) * 10.0 ** int(decimals) < FLOAT32_SPAN


def test_which_columns_are_narrowed() -> None:
    text = np.array([float(f"{m / 1000:.3f}") for m in range(-4_000_000, 4_000_001, 997)])
    assert float32_decimals([text]) == 3
    assert float32_decimals([np.array([1.0, 2.0]), np.array([0.5, np.nan])]) == 1  # the laps' largest
    assert float32_decimals([np.array([50.1234567, 50.1234568])]) is None  # latitude: 7 decimals
    assert float32_decimals([np.array([4194.303])]) == 3
    assert float32_decimals([np.array([4194.304])]) is None  # float32 too coarse for 3 decimals there
    assert float32_decimals([np.array([1.0, np.inf])]) is None
    assert float32_decimals([np.full(5, np.nan)]) is None  # nothing to gain
    noise: FloatArray = np.arange(1000, dtype=np.float64) * 0.1 + 1e-9
    assert float32_decimals([noise]) is None  # float noise
    assert float32_decimals([np.array([]), np.array([7.0])]) == 0


# --- a real session: which channels, and every tool gives the values back with round() -------------


@pytest.fixture(scope="module")
def motec(tmp_path_factory: pytest.TempPathFactory) -> tuple[ParquetTelemetryStorage, Path, SessionTelemetry]:
    telemetry = import_file(logger_file("motec_csv/blakelyauto.csv")).draft.telemetry
    telemetry.session_id = 5
    store = ParquetTelemetryStorage(tmp_path_factory.mktemp("motec"))
    return store, store.write(telemetry), telemetry


def _column(telemetry: SessionTelemetry, name: str) -> FloatArray:
    return np.concatenate([lap.channels[name] for lap in telemetry.laps])


def test_a_real_session_narrows_its_text_channels_and_reads_back_exactly(
    motec: tuple[ParquetTelemetryStorage, Path, SessionTelemetry],
) -> None:
    store, path, telemetry = motec
    schema = pq.read_schema(path)
    narrowed = {f.name: int((f.metadata or {})[b"decimals"]) for f in schema if f.type == pa.float32()}
    # the decimals the export writes ("30.3" km/h, "3.74" bar, "2016" rpm, "-0.01" G, ...);
    # the lap clock and distance (the lap's start subtracted) stay float64
    assert narrowed == {
        "speed": 1,
        "rpm": 0,
        "throttle": 1,
        "brake": 2,
        "gear": 0,
        "steering": 1,
        "glat": 2,
        "glong": 2,
        "G Force Vert": 2,
        "Wheel Speed FL": 1,
        "Wheel Speed FR": 1,
        "Wheel Speed RL": 1,
        "Wheel Speed RR": 1,
    }
    assert schema.field("time").type == schema.field("distance").type == pa.float64()
    assert len(telemetry.laps) == 3 and telemetry.total_points == 11700
    got = store.read(5)
    assert got is not None
    for want_lap, got_lap in zip(telemetry.laps, got.laps, strict=True):
        for name, values in want_lap.channels.items():
            assert_bits_equal(got_lap.channels[name], values, f"lap {want_lap.lap_number} {name}")
        one = store.read_lap(5, want_lap.lap_number)
        assert one is not None
        assert_bits_equal(one.channels["speed"], want_lap.channels["speed"], "read_lap speed")
    assert got.laps[0].channels["speed"][:3].tolist() == [30.3, 30.9, 31.3]  # the file's first rows


def test_every_tool_reads_the_float32_columns_and_round_gives_the_values(
    motec: tuple[ParquetTelemetryStorage, Path, SessionTelemetry],
) -> None:
    _, path, telemetry = motec
    speed = _column(telemetry, "speed")
    brake = _column(telemetry, "brake")
    con = duckdb.connect()
    described = con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(path)]).fetchall()
    types = {row[0]: row[1] for row in described}
    assert types["speed"] == types["brake"] == "FLOAT" and types["time"] == "DOUBLE"
    duck = con.execute(
        "SELECT round(speed::DOUBLE, 1) AS s, round(brake::DOUBLE, 2) AS b FROM read_parquet(?)", [str(path)]
    ).fetchnumpy()
    polars = pl.read_parquet(path, columns=["speed", "brake"]).select(
        pl.col("speed").cast(pl.Float64).round(1), pl.col("brake").cast(pl.Float64).round(2)
    )
    pandas = pd.read_parquet(path, columns=["speed", "brake"]).astype("float64")
    arrow = pq.read_table(path, columns=["speed", "brake"])
    for tool, got_speed, got_brake in (
        ("duckdb", np.asarray(duck["s"], np.float64), np.asarray(duck["b"], np.float64)),
        ("polars", polars["speed"].to_numpy(), polars["brake"].to_numpy()),
        ("pandas", pandas["speed"].round(1).to_numpy(), pandas["brake"].round(2).to_numpy()),
        (
            "pyarrow",
            pc.round(pc.cast(arrow.column("speed"), pa.float64()), 1).to_numpy(),
            pc.round(pc.cast(arrow.column("brake"), pa.float64()), 2).to_numpy(),
        ),
    ):
        assert_bits_equal(np.asarray(got_speed, np.float64), speed, f"{tool} speed")
        assert_bits_equal(np.asarray(got_brake, np.float64), brake, f"{tool} brake")
    # without round() a tool sees the float32 value, within a quarter of the last decimal
    raw = arrow.column("brake").to_numpy().astype(np.float64)
    assert np.count_nonzero(brake) > 500 and np.max(np.abs(raw - brake)) < 0.25 * 10**-2


# --- older files and broken float32 columns ------------------------------------------------------


def _rewrite(path: Path, schema: pa.Schema, version: int | None = None) -> None:
    """Rewrite ``path`` with ``schema`` (same row groups), optionally as footer ``version``."""
    source = pq.ParquetFile(path)
    # the stored Arrow schema is the writer's to make (the old one would override ``schema``)
    meta = {k: v for k, v in (source.metadata.metadata or {}).items() if k != b"ARROW:schema"}
    if version is not None:
        doc = json.loads(meta[b"laptrace"])
        doc["format_version"] = version
        meta[b"laptrace"] = json.dumps(doc).encode()
    schema = schema.with_metadata(meta)
    groups = [source.read_row_group(i) for i in range(source.num_row_groups)]
    source.close()
    with pq.ParquetWriter(path, schema) as writer:
        for group in groups:
            writer.write_table(group.cast(schema), row_group_size=max(group.num_rows, 1))


def test_a_version_1_file_still_reads(tmp_path: Path) -> None:
    """Version 1 files are all float64: written without narrowing and marked version 1, as
    the previous release wrote them, they read back as they were."""
    laps = [np.array([1.5, 2.25, np.nan]), np.array([3.0, 4.0])]
    old = ParquetTelemetryStorage(tmp_path, narrow_floats=False)
    path = old.write(one_channel_session(laps))
    _rewrite(path, pq.read_schema(path), version=1)
    assert json.loads((pq.read_metadata(path).metadata or {})[b"laptrace"])["format_version"] == 1
    got = ParquetTelemetryStorage(tmp_path).read(1)
    assert got is not None and got.laps[1].channels["x"].tolist() == [3.0, 4.0]
    assert_bits_equal(got.laps[0].channels["x"], laps[0], "lap 0")


def _narrowed_file(tmp_path: Path) -> tuple[ParquetTelemetryStorage, Path, pa.Schema]:
    store = ParquetTelemetryStorage(tmp_path)
    path = store.write(one_channel_session([np.array([1.5, 2.25, 3.0])]))
    schema = pq.read_schema(path)
    assert schema.field("x").type == pa.float32()
    return store, path, schema


def test_float32_in_a_version_1_file_is_refused(tmp_path: Path) -> None:
    store, path, schema = _narrowed_file(tmp_path)
    _rewrite(path, schema, version=1)
    with pytest.raises(TelemetryFileError, match=r"format version 1 file with float32 columns"):
        store.read(1)


@pytest.mark.parametrize(
    ("metadata", "kind", "match"),
    [
        ({b"unit": b"V"}, pa.float32(), r"'x' is float with decimals 'missing'"),
        ({b"decimals": b"9"}, pa.float32(), r"'x' is float with decimals '9'"),
        ({b"decimals": b"-1"}, pa.float32(), r"'x' is float with decimals '-1'"),
        ({b"decimals": b"2"}, pa.float64(), r"'x' is double with decimals '2'"),
    ],
)
def test_a_bad_float32_column_is_named(
    tmp_path: Path, metadata: dict[bytes, bytes], kind: pa.DataType, match: str
) -> None:
    store, path, schema = _narrowed_file(tmp_path)
    i = schema.get_field_index("x")
    _rewrite(path, schema.set(i, pa.field("x", kind, metadata=metadata)))
    with pytest.raises(TelemetryFileError, match=match) as err:
        store.read(1)
    assert str(path) in str(err.value)
