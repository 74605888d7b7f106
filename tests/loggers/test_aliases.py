"""Standard channels under their vendors' names: every alias, its priority, and real-file cases."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from mergecases import write_vbo
from realfiles import logger_file

from desktop_app.loggers import read_recording
from desktop_app.loggers.aliases import COMMON, POSITION_DEVICES, WHEEL_POSITIONS, WHEEL_SPEEDS
from desktop_app.loggers.channels import SourceChannel, build_channels
from storage.types import CANONICAL_UNITS

_VALUES = np.array([1.0, 2.0, np.nan, 4.0])
_ALL = [(std, name) for std, names in COMMON.items() for name in names]


def _spelled(name: str) -> list[str]:
    """The ways files write a name: as listed, upper case with '_', title case with spaces."""
    return [name, name.upper().replace(" ", "_"), name.title()]


@pytest.mark.parametrize(("standard", "alias"), _ALL, ids=[f"{s}:{a}" for s, a in _ALL])
def test_every_common_alias_becomes_its_standard_channel(standard: str, alias: str) -> None:
    unit = CANONICAL_UNITS[standard] or ""
    for spelling in _spelled(alias):
        other = SourceChannel("Water Temp", "C", _VALUES)
        # an unknown format: no format table, only the common one
        channels = build_channels("none", [other, SourceChannel(spelling, unit, _VALUES)], [])
        assert channels[standard].source_name == spelling and channels[standard].standard
        np.testing.assert_array_equal(channels[standard].values, _VALUES)
        assert not channels["Water Temp"].standard


@pytest.mark.parametrize("position", WHEEL_POSITIONS)
def test_every_wheel_speed_name_is_the_speed_fallback(position: str) -> None:
    for name in WHEEL_SPEEDS[position]:
        for spelling in _spelled(name):
            warnings: list[str] = []
            channels = build_channels("none", [SourceChannel(spelling, "m/s", _VALUES)], warnings)
            assert channels["speed"].source_name == spelling
            assert channels["speed"].values[0] == pytest.approx(3.6)
            assert any(repr(spelling) in w and "wheel speed" in w for w in warnings)


def test_a_vehicle_speed_beats_the_wheel_speeds_and_front_wheels_come_first() -> None:
    wheels = [SourceChannel(f"vwheel_{p}", "km/h", _VALUES + i) for i, p in enumerate(("rr", "rl", "fr", "fl"))]
    warnings: list[str] = []
    channels = build_channels("bosch", wheels, warnings)
    assert channels["speed"].source_name == "vwheel_fl" and channels["speed"].values[0] == 4.0
    assert [c.source_name for c in channels.values() if not c.standard] == ["vwheel_rr", "vwheel_rl", "vwheel_fr"]
    warnings = []
    channels = build_channels("bosch", [*wheels, SourceChannel("vfzg", "km/h", _VALUES)], warnings)
    assert channels["speed"].source_name == "vfzg" and not any("wheel speed" in w for w in warnings)
    # without the front wheels a rear one is taken
    channels = build_channels("bosch", wheels[:2], [])
    assert channels["speed"].source_name == "vwheel_rl"


@pytest.mark.parametrize("device", POSITION_DEVICES)
def test_every_device_prefix_gives_a_position_pair(device: str) -> None:
    for lat_name, lon_name in ((f"{device}_LAT", f"{device}_LONG"), (f"{device.upper()}1 Latitude", f"{device}1_lon")):
        channels = build_channels(
            "bosch",
            [SourceChannel(lon_name, "deg", _VALUES + 10), SourceChannel(lat_name, "deg", _VALUES)],
            [],
        )
        assert channels["lat"].source_name == lat_name and channels["long"].source_name == lon_name


def test_a_prefixed_position_needs_both_axes_of_one_device() -> None:
    channels = build_channels(
        "bosch", [SourceChannel("IMU_LAT", "deg", _VALUES), SourceChannel("INS_LONG", "deg", _VALUES)], []
    )
    assert "lat" not in channels and "long" not in channels
    # a prefix that is not a positioning device is not a position
    channels = build_channels(
        "bosch", [SourceChannel("Tyre_LAT", "deg", _VALUES), SourceChannel("Tyre_LONG", "deg", _VALUES)], []
    )
    assert "lat" not in channels


def test_the_format_table_comes_before_the_common_names() -> None:
    # RaceChrono's own table has "speed"; the common table would take "vehicle speed" first
    chans = build_channels(
        "racechrono", [SourceChannel("vehicle speed", "km/h", _VALUES), SourceChannel("speed", "km/h", _VALUES + 1)]
    )
    assert chans["speed"].source_name == "speed"


def test_decoded_bus_signals_match_by_their_last_part() -> None:
    channels = build_channels(
        "mdf",
        [
            SourceChannel("CAN1.CCVS1.WheelBasedVehicleSpeed", "km/h", _VALUES),
            SourceChannel("CAN1.EEC1.EngineSpeed", "rpm", _VALUES * 1000),
        ],
        [],
    )
    assert channels["speed"].source_name == "CAN1.CCVS1.WheelBasedVehicleSpeed"
    assert channels["rpm"].source_name == "CAN1.EEC1.EngineSpeed"


def _aim() -> tuple[object, dict[str, np.ndarray]]:
    rec = read_recording(logger_file("aim_csv/aim_format_example.csv"))
    return rec, {k: rec.channels[k].values for k in ("lat", "long", "speed", "glat", "glong", "rpm")}


def test_windarab_export_with_imu_position_and_wheel_speeds(tmp_path: Path) -> None:
    # a WinDarab ASCII export of a car with an IMU and wheel sensors, from the real AiM log
    rec, ch = _aim()
    t = rec.time  # type: ignore[attr-defined]
    cols = {
        "xtime": ("s", t),
        "IMU_LAT": ("deg", ch["lat"]),
        "IMU_LONG": ("deg", ch["long"]),
        "vwheel_rr": ("km/h", ch["speed"] * 1.02),
        "vwheel_fl": ("km/h", ch["speed"]),
        "nmot": ("revo", ch["rpm"]),
    }
    lines = [
        "# BOSCH-DARAB extract file created 19.06.2022 22:10:11",
        "#",
        "\t".join(f"{n}[{u}]" for n, (u, _) in cols.items()),
    ]
    arrays = [v for _, v in cols.values()]
    lines += ["\t".join(f"{a[i]:15.8f}" for a in arrays) for i in range(t.shape[0])]
    path = tmp_path / "imu.txt"
    path.write_text("\r\n".join(lines), encoding="utf-8")
    got = read_recording(path)
    assert got.channels["lat"].source_name == "IMU_LAT" and got.channels["long"].source_name == "IMU_LONG"
    assert got.channels["speed"].source_name == "vwheel_fl"
    assert "no vehicle speed channel: speed is the wheel speed 'vwheel_fl'" in " ".join(got.warnings)
    # the AiM log's first position and GPS speed, now standard channels
    assert got.channels["lat"].values[0] == pytest.approx(50.51938948)
    assert got.channels["long"].values[0] == pytest.approx(-104.49508287)
    assert got.channels["speed"].values[0] == pytest.approx(1.4676)
    assert not got.channels["vwheel_rr"].standard


def test_vbox_sport_accelerations_are_glong_and_glat(tmp_path: Path) -> None:
    # VBOX Sport files name their channels in [header] only ("long accel g", "lat accel g")
    rec, ch = _aim()
    t = rec.time[::2]  # type: ignore[attr-defined]
    path = tmp_path / "sport.vbo"
    write_vbo(path, t, datetime(2022, 6, 19, 21, 42, 0, tzinfo=UTC), {k: v[::2] for k, v in ch.items()})
    text = path.read_bytes().decode("utf-8")
    head, _, rest = text.partition("[column names]")
    path.write_bytes((head + "[column names]\r\n" + rest.split("\r\n", 2)[2]).encode("utf-8"))
    got = read_recording(path)
    assert got.channels["glong"].source_name == "long accel" and got.channels["glong"].unit == "g"
    assert got.channels["glat"].source_name == "lat accel"
    assert got.channels["glat"].values[100] == pytest.approx(ch["glat"][200], abs=0.0005)
    assert got.channels["glong"].values[100] == pytest.approx(ch["glong"][200], abs=0.0005)


def test_j1939_and_obd_speeds_in_a_decoded_can_log(tmp_path: Path) -> None:
    # a decoded CAN log as an MF4, its speed from the real CANedge log's GNSS speed (m/s)
    from asammdf import MDF, Signal

    src = read_recording(logger_file("mf4/canedge_11111111_00000012_00000001.MF4"))
    speed = src.channels["speed"].values
    ok = np.isfinite(speed)
    t = src.time[ok]
    for name, unit, values in (
        ("WheelBasedVehicleSpeed", "km/h", speed[ok]),
        ("S1_PID_0D_VehicleSpeed", "km/h", speed[ok]),
    ):
        mdf = MDF(version="4.10")
        mdf.append([Signal(values, t, name=name, unit=unit), Signal(values * 40, t, name="EngineSpeed", unit="rpm")])
        path = tmp_path / f"{name}.mf4"
        mdf.save(path, overwrite=True)
        mdf.close()
        got = read_recording(path)
        assert got.channels["speed"].source_name == name
        np.testing.assert_allclose(got.channels["speed"].values, speed[ok])
        assert got.channels["rpm"].source_name == "EngineSpeed"
