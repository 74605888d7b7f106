"""ASAM MDF4 reader: multi-rate CANape file, raw CANedge log decoded with its DBC, rejections."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from realfiles import logger_file

from desktop_app.loggers import LoggerFileError, UnsupportedFormatError, read_recording
from desktop_app.loggers.mdf import read

CANAPE = "mf4/ASAP2_Demo_V171.mf4"
CANEDGE = "mf4/canedge_11111111_00000012_00000001.MF4"


def _samples(rec_values: np.ndarray) -> np.ndarray:
    return np.flatnonzero(np.isfinite(rec_values))


def test_canape_groups_on_one_union_time_base() -> None:
    rec = read_recording(logger_file(CANAPE))
    assert rec.format == "mdf" and rec.logger == "Vector CANape (TGT 15.0)"
    assert rec.started_at == datetime(2018, 11, 22, 14, 26, 35, 439737, tzinfo=UTC)  # 15:26:35+01:00
    assert len(rec.channels) == 37 and rec.sample_count == 38572
    assert rec.time[0] == 0.0 and np.all(np.diff(rec.time) > 0)
    assert rec.time[-1] == pytest.approx(12.414843)
    # 100 ms group: 124 samples, NaN in between (no forward fill)
    slow = rec.channels["ASAM.M.SCALAR.SBYTE.IDENTICAL.DISCRETE"]
    idx = _samples(slow.values)
    assert idx.shape[0] == 124
    np.testing.assert_allclose(rec.time[idx[:3]], [0.112758, 0.212758, 0.312758])
    np.testing.assert_array_equal(slow.values[idx[:3]], [0.0, 10.0, 20.0])
    assert np.isnan(slow.values[idx[0] + 1])
    # 10 ms group: 1,240 samples; 1 ms group: 12,402
    fast = rec.channels["ASAM.M.SCALAR.UBYTE.FORM_X_PLUS_4"]
    assert fast.unit == "rpm" and _samples(fast.values).shape[0] == 1240
    np.testing.assert_array_equal(fast.values[_samples(fast.values)[:3]], [29.0, 32.0, 34.0])
    assert _samples(rec.channels["ASAM.M.SCALAR.FLOAT64.IDENTICAL"].values).shape[0] == 12402
    assert rec.sample_rate_hz == 1000.0
    # value-to-text channels keep their raw numbers, with a warning; pure text is left out
    assert any("VTAB_RANGE_DEFAULT_VALUE" in w and "raw numbers" in w for w in rec.warnings)
    assert "$CalibrationLog" not in rec.channels
    assert rec.metadata["mdf version"] == "4.10"


def test_canedge_raw_can_decoded_with_the_dbc_beside_it() -> None:
    rec = read(logger_file(CANEDGE))
    assert any("UnFinMF" in w for w in rec.warnings)
    assert any("canmod-gps.dbc" in w for w in rec.warnings)
    assert rec.logger is not None and rec.logger.startswith("CSS Electronics CANedge")
    # header 2021-10-26 01:00:54+06:00, first decoded sample 12.9473 s later: the logger's
    # clock says 19:01:06.9473 UTC; the CANmod.gps Epoch samples (GNSS time, whole seconds,
    # each message ±0.34 s late) put that first sample at 19:00:59.3 UTC
    epoch = rec.channels["Epoch"]
    ok = np.isfinite(epoch.values)
    assert epoch.values[ok][0] == pytest.approx(1635188459.0, abs=0.01)
    assert rec.started_at is not None
    assert abs((rec.started_at - datetime(2021, 10, 25, 19, 0, 59, 316550, tzinfo=UTC)).total_seconds()) < 0.01
    logger_clock = datetime(2021, 10, 25, 19, 1, 6, 947300, tzinfo=UTC)
    assert rec.metadata["logger clock offset s"] == "+7.6"
    assert (logger_clock - rec.started_at).total_seconds() == pytest.approx(7.63, abs=0.01)
    assert rec.metadata["start from"] == "GNSS time channel 'Epoch'"
    assert "the logger's clock was 7.6 s ahead" in " ".join(rec.warnings)
    lat, lon, speed = rec.channels["lat"], rec.channels["long"], rec.channels["speed"]
    assert lat.source_name == "Latitude" and _samples(lat.values).shape[0] == 115
    assert lat.values[_samples(lat.values)[0]] == pytest.approx(41.412935)
    assert lon.values[_samples(lon.values)[0]] == pytest.approx(-92.878535)
    # Speed is m/s in the DBC: 0.03 m/s -> 0.108 km/h; the vehicle stands still
    assert speed.unit == "km/h" and speed.values[_samples(speed.values)[0]] == pytest.approx(0.108)
    assert float(np.nanmax(speed.values)) < 5.0  # GPS noise only
    # messages at the same rate have distinct timestamps: Latitude and Speed rows differ
    assert not np.array_equal(_samples(lat.values), _samples(speed.values))
    assert _samples(rec.channels["AccelerationX"].values).shape[0] == 11358
    assert rec.channels["FixType"].values[_samples(rec.channels["FixType"].values)[0]] == 3.0


def test_raw_can_without_a_dbc_is_unsupported(tmp_path: Path) -> None:
    copy = tmp_path / "log.MF4"
    shutil.copyfile(logger_file(CANEDGE), copy)
    with pytest.raises(UnsupportedFormatError, match="DBC"):
        read(copy)


def test_damaged_mdf_is_a_logger_file_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.mf4"
    bad.write_bytes(logger_file(CANAPE).read_bytes()[:64] + b"\x00" * 200)
    with pytest.raises(LoggerFileError) as info:
        read(bad)
    assert "bad.mf4" in str(info.value)


def test_repeated_names_and_overlapping_rates_on_one_time_base(tmp_path: Path) -> None:
    from asammdf import MDF, Signal

    mdf = MDF(version="4.10")
    fast_t = np.array([0.0, 0.01, 0.02, 0.03])
    slow_t = np.array([0.0, 0.025])
    mdf.append(
        [
            Signal(np.array([1.0, 2.0, 3.0, 4.0]), fast_t, name="vfzg", unit="m/s"),
            Signal(np.array([90.0, 91.0, 92.0, 93.0]), fast_t, name="toil", unit="degC"),
        ]
    )
    mdf.append(
        [
            Signal(np.array([10.0, 20.0]), slow_t, name="vfzg", unit="km/h"),
            Signal(np.array([80.0, 81.0]), slow_t, name="toil", unit="degC"),
        ]
    )
    path = tmp_path / "two.mf4"
    mdf.save(path)
    mdf.close()
    rec = read(path)
    np.testing.assert_allclose(rec.time, [0.0, 0.01, 0.02, 0.025, 0.03])
    speed, other = rec.channels["speed"], rec.channels["vfzg"]
    # the first group's vfzg is the standard speed (m/s -> km/h); the repeat stays auxiliary
    np.testing.assert_allclose(speed.values, [3.6, 7.2, 10.8, np.nan, 14.4])
    np.testing.assert_array_equal(other.values, [10.0, np.nan, np.nan, 20.0, np.nan])
    assert other.unit == "km/h" and rec.sample_rate_hz == 100.0
    np.testing.assert_array_equal(rec.channels["toil"].values, [90.0, 91.0, 92.0, np.nan, 93.0])
    np.testing.assert_array_equal(rec.channels["toil_2"].values, [80.0, np.nan, np.nan, 81.0, np.nan])


def test_mdf3_local_time_and_utc_offset(tmp_path: Path) -> None:
    # the CANape MF4 (15:26:35.439737 +01:00) as MDF 3.30, its header written as MDF 3 writers
    # do: the time stamp counts *local* nanoseconds since 1970, beside the UTC offset in hours
    from asammdf import MDF

    with MDF(logger_file(CANAPE)) as mf4:
        mdf3 = mf4.convert("3.30")
    local = datetime(2018, 11, 22, 15, 26, 35, 439737)
    mdf3.header.abs_time = int((local - datetime(1970, 1, 1)).total_seconds() * 1e6) * 1000
    mdf3.header.tz_offset = 1
    path = tmp_path / "canape.mdf"
    mdf3.save(path, overwrite=True)
    mdf3.close()
    rec = read_recording(path)
    assert rec.metadata["mdf version"] == "3.30"
    # the same instant as the MF4 of the same measurement (not 15:26:35 UTC, an hour late)
    assert rec.started_at == read_recording(logger_file(CANAPE)).started_at
    assert rec.started_at == datetime(2018, 11, 22, 14, 26, 35, 439737, tzinfo=UTC)


def test_mdf3_without_a_time_stamp_is_naive_local_time(tmp_path: Path) -> None:
    # MDF 3.00 headers have only the local date and time strings, to the second, no zone
    from asammdf import MDF

    with MDF(logger_file(CANAPE)) as mf4:
        mdf3 = mf4.convert("3.00")
    path = tmp_path / "canape300.mdf"
    mdf3.save(path, overwrite=True)
    mdf3.close()
    rec = read_recording(path)
    assert rec.metadata["mdf version"] == "3.00"
    assert rec.started_at == datetime(2018, 11, 22, 15, 26, 35) and rec.started_at.tzinfo is None
    assert "the MDF header start time has no zone: kept as local time" in rec.warnings


def test_an_mdf_without_samples_is_refused_with_the_place_to_look(tmp_path: Path) -> None:
    from asammdf import MDF, Signal

    empty = tmp_path / "empty.mf4"
    mdf = MDF(version="4.10")
    mdf.append(Signal(np.array([], dtype=np.float64), np.array([], dtype=np.float64), name="speed", unit="km/h"))
    mdf.save(empty, overwrite=True)
    with pytest.raises(LoggerFileError, match="no channel with samples") as info:
        read_recording(empty)
    assert info.value.offset is not None and 64 <= info.value.offset < empty.stat().st_size
