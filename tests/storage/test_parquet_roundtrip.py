"""ParquetTelemetryStorage: what is written comes back exactly; bad input is refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import hypothesis.extra.numpy as hnp
import numpy as np
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storage.parquet import ParquetTelemetryStorage
from storage.parquet_schema import ChannelNameError
from storage.types import (
    CANONICAL_UNITS,
    RESERVED_NAMES,
    STANDARD_CHANNELS,
    LapTelemetry,
    SessionMetadata,
    SessionTelemetry,
    TelemetryStorage,
)

AWKWARD_NAMES = [
    "Öltemp °C",
    "新トラップ",
    "Oil Temp",
    "oil temp",
    "OIL TEMP",
    "Oil Temp_2",
    "Speed_2",
    "lap_number_2",
    " padded ",
    "a.b[c]",
    'quote"name',
]


def session(
    laps: list[tuple[int, float, dict[str, np.ndarray]]],
    aux: list[str],
    session_id: int = 1,
    units: dict[str, str] | None = None,
    sources: dict[str, str] | None = None,
) -> SessionTelemetry:
    return SessionTelemetry(
        session_id=session_id,
        laps=[LapTelemetry(n, off, ch) for n, off, ch in laps],
        auxiliary_channels=aux,
        units=units if units is not None else {},
        source_names=sources if sources is not None else {},
        metadata=SessionMetadata(
            imported_at=datetime(2026, 5, 1, 12, 30, 15, 123456, tzinfo=UTC),
            source_type="vbo",
            started_at=datetime(2026, 5, 1, 10, 0, 0),
            extra={"logger": "VBOX 3i", "note": "Nürburgring — 新"},
        ),
    )


def simple_lap(n: int, extra: dict[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    ch = {"time": np.arange(n) * 0.04, "distance": np.arange(n) * 1.1}
    ch.update(extra or {})
    return ch


def assert_same_values(got: np.ndarray, want: np.ndarray, what: str) -> None:
    """Equal element for element, NaN equal to NaN, and -0.0 kept apart from 0.0."""
    assert got.dtype == np.float64, what
    assert got.shape == want.shape, what
    assert np.array_equal(got, want, equal_nan=True), what
    real = ~np.isnan(want)
    assert np.array_equal(np.signbit(got[real]), np.signbit(want[real])), what


# --- hypothesis round trip ------------------------------------------------------------------

nan_pattern = st.sampled_from(["none", "all", "random"])


@st.composite
def channel_values(draw: st.DrawFn, n: int) -> np.ndarray:
    values = draw(hnp.arrays(np.float64, n, elements=st.floats(allow_nan=False, allow_infinity=True, width=64)))
    pattern = draw(nan_pattern)
    if pattern == "all":
        values[:] = np.nan
    elif pattern == "random" and n:
        mask = draw(hnp.arrays(np.bool_, n))
        values[mask] = np.nan
    return values


@st.composite
def sessions(draw: st.DrawFn) -> SessionTelemetry:
    standard = draw(st.lists(st.sampled_from(STANDARD_CHANNELS[2:]), unique=True, max_size=10))
    name_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12)
    # names as the pipeline gives them: not blank, not reserved, unique ignoring case
    aux = draw(
        st.lists(
            st.sampled_from(AWKWARD_NAMES)
            | name_text.filter(lambda s: bool(s.strip()) and s.lower() not in RESERVED_NAMES),
            unique_by=str.lower,
            max_size=6,
        )
    )
    lap_numbers = draw(st.lists(st.integers(-5, 2**31 - 1), unique=True, max_size=5))
    laps = []
    for number in lap_numbers:
        n = draw(st.sampled_from([0, 1]) | st.integers(0, 40) | st.integers(64, 200))
        offset = draw(st.floats(-1e6, 1e6, allow_nan=False))
        channels = {c: draw(channel_values(n)) for c in ("time", "distance", *standard, *aux)}
        laps.append((number, offset, channels))
    units = {c: draw(st.sampled_from(["", "°C", "km/h", "bar", "新"])) for c in ("time", "distance", *standard, *aux)}
    sources = {c: f"src {c}" for c in (*standard, *aux) if draw(st.booleans())}
    return session(laps, aux, session_id=draw(st.integers(1, 10**12)), units=units, sources=sources)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(telemetry=sessions())
def test_round_trip_gives_back_exactly_what_was_written(tmp_path: Path, telemetry: SessionTelemetry) -> None:
    store = ParquetTelemetryStorage(tmp_path)
    store.write(telemetry)
    got = store.read(telemetry.session_id)
    assert got is not None

    # the file's names are the names given: nothing renamed, nothing dropped
    aux = telemetry.auxiliary_channels
    assert got.auxiliary_channels == aux
    assert pq.read_schema(store.path_for(telemetry.session_id)).names == ["lap_number", *STANDARD_CHANNELS, *aux]

    standard_present = {c for lap in telemetry.laps for c in lap.channels} - set(aux)
    standard = [c for c in STANDARD_CHANNELS if c in standard_present or c in ("time", "distance")]

    assert [lap.lap_number for lap in got.laps] == [lap.lap_number for lap in telemetry.laps]
    assert [lap.start_offset for lap in got.laps] == [lap.start_offset for lap in telemetry.laps]
    for want_lap, got_lap in zip(telemetry.laps, got.laps, strict=True):
        assert list(got_lap.channels) == standard + aux
        for name, values in want_lap.channels.items():
            got_values = got_lap.channels[name]
            assert got_values.flags.writeable
            assert_same_values(got_values, values, f"lap {want_lap.lap_number} {name!r}")

    # units and source names of every channel come back as given
    assert got.units == telemetry.units
    assert got.source_names == telemetry.source_names
    assert got.metadata == telemetry.metadata
    assert got.channel_count == len(standard) + len(aux) == telemetry.channel_count
    assert got.total_points == telemetry.total_points
    footer = store.read_footer(telemetry.session_id)
    assert footer is not None
    assert (footer.channel_count, footer.total_points) == (got.channel_count, got.total_points)
    assert [(e.lap_number, e.rows, e.start_offset) for e in footer.laps] == [
        (lap.lap_number, len(lap), lap.start_offset) for lap in telemetry.laps
    ]

    # read_lap agrees with read for every lap
    for lap in got.laps:
        one = store.read_lap(telemetry.session_id, lap.lap_number)
        assert one is not None and one.lap_number == lap.lap_number and one.start_offset == lap.start_offset
        for name, values in lap.channels.items():
            assert_same_values(one.channels[name], values, name)


# --- the protocol and its edges ---------------------------------------------------------------


def test_storage_satisfies_the_protocol(tmp_path: Path) -> None:
    assert isinstance(ParquetTelemetryStorage(tmp_path), TelemetryStorage)


def test_file_lives_under_root_telemetry(tmp_path: Path) -> None:
    store = ParquetTelemetryStorage(tmp_path / "data")
    path = store.write(session([(0, 0.0, simple_lap(3))], [], session_id=42))
    assert path == tmp_path / "data" / "telemetry" / "42.parquet" == store.path_for(42)
    assert path.is_file()
    assert store.exists(42) and not store.exists(43)
    assert store.session_ids() == [42]


def test_missing_session_and_missing_lap_are_none(tmp_path: Path) -> None:
    store = ParquetTelemetryStorage(tmp_path)
    assert store.read(5) is None
    assert store.read_lap(5, 0) is None
    assert store.read_footer(5) is None
    store.write(session([(0, 0.0, simple_lap(3)), (1, 10.0, simple_lap(2))], [], session_id=5))
    assert store.read_lap(5, 2) is None
    lap = store.read_lap(5, 1)
    assert lap is not None and len(lap) == 2


def test_delete(tmp_path: Path) -> None:
    store = ParquetTelemetryStorage(tmp_path)
    assert store.delete(3) is False
    store.write(session([(0, 0.0, simple_lap(3))], [], session_id=3))
    assert store.delete(3) is True
    assert not store.exists(3) and store.read(3) is None
    assert store.delete(3) is False


def test_session_without_laps_round_trips(tmp_path: Path) -> None:
    store = ParquetTelemetryStorage(tmp_path)
    store.write(session([], ["Oil"], units={"Oil": "°C"}))
    got = store.read(1)
    assert got is not None
    assert got.laps == [] and got.auxiliary_channels == ["Oil"] and got.units == {"Oil": "°C"}
    assert pq.read_metadata(store.path_for(1)).num_rows == 0


def test_absent_standard_channels_are_null_columns_and_not_read_back(tmp_path: Path) -> None:
    store = ParquetTelemetryStorage(tmp_path)
    store.write(session([(0, 0.0, simple_lap(4, {"speed": np.full(4, 100.0)}))], []))
    table = pq.read_table(store.path_for(1))
    assert table.column_names == ["lap_number", *STANDARD_CHANNELS]
    assert table.column("rpm").null_count == 4 and table.column("speed").null_count == 0
    got = store.read(1)
    assert got is not None and list(got.laps[0].channels) == ["time", "distance", "speed"]


def test_a_lap_missing_a_session_channel_reads_back_as_nan(tmp_path: Path) -> None:
    store = ParquetTelemetryStorage(tmp_path)
    laps = [(0, 0.0, simple_lap(2, {"rpm": np.array([1.0, 2.0]), "Oil": np.ones(2)})), (1, 5.0, simple_lap(3))]
    store.write(session(laps, ["Oil"]))
    lap = store.read_lap(1, 1)
    assert lap is not None
    assert np.isnan(lap.channels["rpm"]).all() and np.isnan(lap.channels["Oil"]).all()


def test_integer_arrays_are_stored_as_float64(tmp_path: Path) -> None:
    store = ParquetTelemetryStorage(tmp_path)
    store.write(session([(0, 0.0, simple_lap(3, {"gear": np.array([1, 2, 3])}))], []))
    lap = store.read_lap(1, 0)
    assert lap is not None and lap.channels["gear"].dtype == np.float64
    assert lap.channels["gear"].tolist() == [1.0, 2.0, 3.0]


def test_progress_reports_laps_written(tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    laps = [(i, float(i), simple_lap(i)) for i in range(3)]
    ParquetTelemetryStorage(tmp_path).write(session(laps, []), lambda done, total: calls.append((done, total)))
    assert calls == [(0, 3), (1, 3), (2, 3), (3, 3)]


def test_units_default_to_canonical_in_field_metadata(tmp_path: Path) -> None:
    store = ParquetTelemetryStorage(tmp_path)
    store.write(session([(0, 0.0, simple_lap(2, {"speed": np.ones(2)}))], [], units={"time": "s"}))
    schema = pq.read_schema(store.path_for(1))
    for name, unit in CANONICAL_UNITS.items():
        meta = schema.field(name).metadata or {}
        assert meta.get(b"unit") == (None if unit is None else unit.encode()), name
    got = store.read(1)
    assert got is not None and got.units == {"time": "s"}  # the footer keeps what was given


def test_zstd_is_configurable(tmp_path: Path) -> None:
    store = ParquetTelemetryStorage(tmp_path, compression="zstd", compression_level=5)
    store.write(session([(0, 0.0, simple_lap(100))], []))
    column = pq.read_metadata(store.path_for(1)).row_group(0).column(1)
    assert column.compression == "ZSTD"
    with pytest.raises(ValueError, match="compression"):
        ParquetTelemetryStorage(tmp_path, compression="rar")


def test_storage_has_no_root_of_its_own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # where data lives is the caller's decision (the app's configuration): the environment
    # variable the app reads changes nothing here
    monkeypatch.setenv("LAPTRACE_DATA_DIR", str(tmp_path / "env-data"))
    with pytest.raises(TypeError):
        ParquetTelemetryStorage()  # type: ignore[call-arg]
    path = ParquetTelemetryStorage(tmp_path / "given").write(session([(0, 0.0, simple_lap(3))], [], session_id=9))
    assert path == tmp_path / "given" / "telemetry" / "9.parquet"
    assert not (tmp_path / "env-data").exists()


@pytest.mark.parametrize("bad_id", [0, -1, True, False, "5", "../5", 5.0, None])
def test_session_ids_must_be_positive_integers(tmp_path: Path, bad_id: object) -> None:
    store = ParquetTelemetryStorage(tmp_path)
    for call in (store.path_for, store.read, store.exists, store.delete, store.read_footer):
        with pytest.raises(ValueError, match="session id"):
            call(bad_id)  # type: ignore[arg-type]  # a wrong type on purpose
    with pytest.raises(ValueError, match="session id"):
        store.read_lap(bad_id, 0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="session id"):
        store.write(session([], [], session_id=bad_id))  # type: ignore[arg-type]
    assert not (tmp_path / "telemetry").exists()


def _bad(n: int = 3) -> dict[str, np.ndarray]:
    return simple_lap(n)


@pytest.mark.parametrize(
    ("laps", "aux", "match"),
    [
        ([(0, 0.0, {**_bad(), "speed": np.ones(2)})], [], r"lap 0: channel 'speed' has shape \(2,\)"),
        ([(0, 0.0, _bad()), (0, 1.0, _bad())], [], "lap 0 appears twice"),
        ([(0, 0.0, {**_bad(), "Oil": np.ones(3)})], [], "'Oil' is neither standard nor listed"),
        ([(0, 0.0, {"time": np.ones(3)})], [], "lap 0 has no 'distance' channel"),
        ([(0, float("nan"), _bad())], [], "start offset nan is not finite"),
        ([(2**31, 0.0, _bad())], [], "does not fit in int32"),
        ([(True, 0.0, _bad())], [], "is not an integer"),
        ([(0, 0.0, {**_bad(), "speed": np.array(["a", "b", "c"])})], [], "holds <U1, not numbers"),
        ([(0, 0.0, {**_bad(), "speed": np.ones((3, 1))})], [], r"has shape \(3, 1\)"),
        ([(0, 0.0, _bad())], ["time"], "'time' is a standard channel"),
        ([(0, 0.0, {**_bad(), "Oil": np.ones(3)})], ["Oil", "Oil"], "listed twice"),
    ],
)
def test_bad_telemetry_is_refused_before_anything_is_written(
    tmp_path: Path, laps: list[tuple[int, float, dict[str, np.ndarray]]], aux: list[str], match: str
) -> None:
    store = ParquetTelemetryStorage(tmp_path)
    with pytest.raises(ValueError, match=match):
        store.write(session(laps, aux))
    assert not (tmp_path / "telemetry").exists()


@pytest.mark.parametrize(
    ("aux", "match"),
    [
        (["lap_number"], r"'lap_number': 'lap_number' is a column storage reserves"),
        (["Lap_Number"], r"'Lap_Number': 'lap_number' is a column storage reserves"),
        (["Oil", "Speed"], r"'Speed': 'speed' is a column storage reserves"),
        (["RPM"], r"'RPM': 'rpm' is a column storage reserves"),
        (["gear"], r"'gear': 'gear' is a column storage reserves"),
        (["Oil Temp", "OIL TEMP"], r"'Oil Temp' and 'OIL TEMP' are one column name ignoring case"),
        (["Oil", "   "], r"auxiliary channel #2: the name '   ' is blank"),
        ([""], r"auxiliary channel #1: the name '' is blank"),
    ],
)
def test_storage_refuses_names_it_would_have_to_change(tmp_path: Path, aux: list[str], match: str) -> None:
    # the pipeline names channels (docs/channels.md#saved-names); storage never renames
    store = ParquetTelemetryStorage(tmp_path)
    kept = store.write(session([(0, 0.0, simple_lap(3, {"Oil": np.ones(3)}))], ["Oil"]))
    before = kept.read_bytes()
    laps = [(0, 0.0, simple_lap(3, {name: np.full(3, float(i)) for i, name in enumerate(aux)}))]
    with pytest.raises(ChannelNameError, match=match):
        store.write(session(laps, aux))
    assert kept.read_bytes() == before  # the saved file is untouched, no temp file left
    assert store.temp_files() == [] and store.session_ids() == [1]


def test_bad_metadata_is_refused(tmp_path: Path) -> None:
    store = ParquetTelemetryStorage(tmp_path)
    t = session([(0, 0.0, _bad())], [])
    t.metadata.source_type = "csv"  # type: ignore[assignment]
    with pytest.raises(ValueError, match="source_type 'csv'"):
        store.write(t)
    t = session([(0, 0.0, _bad())], [])
    t.metadata.extra = {"n": 5}  # type: ignore[dict-item]
    with pytest.raises(ValueError, match=r"metadata.extra\['n'\] must be a string"):
        store.write(t)


def test_dates_keep_their_time_zone(tmp_path: Path) -> None:
    store = ParquetTelemetryStorage(tmp_path)
    t = session([(0, 0.0, _bad())], [])
    t.metadata.imported_at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=2)))
    store.write(t)
    got = store.read(1)
    assert got is not None
    assert got.metadata.imported_at.utcoffset() == timedelta(hours=2)
    assert got.metadata.imported_at == t.metadata.imported_at
    assert got.metadata.started_at == datetime(2026, 5, 1, 10, 0, 0) and got.metadata.started_at.tzinfo is None
