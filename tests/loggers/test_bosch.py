"""Bosch WinDarab ASCII export reader: the real export, then comments, commas, laps, errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from realfiles import logger_file

from desktop_app.loggers import LoggerFileError, read_recording
from desktop_app.loggers.bosch import read


def test_real_export_values_units_and_metadata() -> None:
    rec = read_recording(logger_file("bosch_windarab_txt/sim_data.txt"))
    assert rec.format == "bosch" and rec.sample_count == 12013
    assert list(rec.channels) == ["rpm"]  # enginespeed [revo] is engine speed
    rpm = rec.channels["rpm"]
    assert rpm.source_name == "enginespeed" and rpm.unit == "rpm"
    # first rows: 0.000 10073.340 / 0.010 10097.824; last: 120.120 10042.407
    np.testing.assert_allclose(rpm.values[:2], [10073.34, 10097.824])
    assert rpm.values[-1] == pytest.approx(10042.407)
    assert rec.time[1] == pytest.approx(0.01) and rec.time[-1] == pytest.approx(120.12)
    assert rec.sample_rate_hz == 100.0
    assert rec.started_at is None  # only the export time is known
    assert rec.metadata["exported"] == "08.08.2020 14:22:16"
    assert rec.metadata["window"] == "0.000 <= xtime <= 120.129"
    assert rec.beacons is None and rec.lap_counter is None and rec.warnings == []


def _write(tmp_path: Path, text: str, name: str = "x.txt") -> Path:
    p = tmp_path / name
    p.write_bytes(text.replace("\n", "\r\n").encode("cp1252"))
    return p


HEAD = "# BOSCH-DARAB extract file created 08.08.2020 14:22:16\n#\n# a third comment\n# \n"


def test_comma_decimals_cp1252_units_lap_channels_and_text(tmp_path: Path) -> None:
    names = "xtime    [   s]\tvfzg [km/h]\tT_oil [°C]\tlapctr\tlaptrig\tstate\n"
    rows = [
        "   10,000\t  100,5\t  90,0\t  1\t  1\t  OK",
        "   10,010\t  101,5\t  90,1\t  1\t  0\t  OK",
        "   10,020\t       \t  90,2\t  2\t  1\t  OK",
        "   10,030\t  103,5\t  90,3\t  2\t  0\t  OK",
    ]
    rec = read(_write(tmp_path, HEAD + names + "\n".join(rows)))
    np.testing.assert_allclose(rec.time, [0.0, 0.01, 0.02, 0.03])
    speed = rec.standard("speed")
    assert speed is not None and speed[0] == 100.5 and np.isnan(speed[2])
    assert rec.channels["T_oil"].unit == "°C"
    assert rec.lap_counter == "lapctr"
    assert rec.beacons == pytest.approx([0.0, 0.02])
    # a text column is a channel of codes with its labels
    assert rec.channels["state"].labels == ("OK",)
    np.testing.assert_array_equal(rec.channels["state"].values, [0.0, 0.0, 0.0, 0.0])
    assert rec.metadata["first xtime"] == "10.000"


def test_wrong_value_count_names_the_line(tmp_path: Path) -> None:
    p = _write(tmp_path, HEAD + "xtime [s]\tnmot [rpm]\n0.0\t1\n0.1\t2\t3\n0.2\t3\n", "bad.txt")
    with pytest.raises(LoggerFileError) as info:
        read(p)
    assert info.value.line == 7 and "3 values, expected 2" in str(info.value)


def test_no_time_axis_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(LoggerFileError, match="no time axis"):
        read(_write(tmp_path, HEAD + "xdist [m]\tnmot [rpm]\n0.0\t1\n"))


def test_only_comments_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(LoggerFileError, match="no channel names row"):
        read(_write(tmp_path, HEAD))
