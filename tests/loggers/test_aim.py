"""AiM CSV: the real padded export, a synthetic quoted RaceStudio file, malformed input."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from realfiles import logger_file

from desktop_app.loggers import LoggerFileError, Recording, aim, read_recording

REAL = "aim_csv/aim_format_example.csv"


def _std(rec: Recording, name: str) -> np.ndarray:
    values = rec.standard(name)
    assert values is not None, f"no standard channel {name!r}"
    return values


@pytest.fixture(scope="module")
def real() -> Recording:
    return aim.read(logger_file(REAL))


def test_real_rows_time_grid_and_channels(real: Recording) -> None:
    assert real.sample_count == 19020
    assert real.sample_rate_hz == 20.0
    assert real.time[0] == 0.0 and real.time[-1] == pytest.approx(950.95)
    assert np.allclose(np.diff(real.time), 0.05)
    # 24 columns: Time is the time base
    assert len(real.channels) == 23
    assert real.format == "aim" and real.logger == "AiM"
    assert real.warnings == []


def test_real_first_and_middle_samples(real: Recording) -> None:
    assert _std(real, "speed")[0] == pytest.approx(1.4676)
    assert real.channels["speed"].unit == "km/h" and real.channels["speed"].source_name == "GPS Speed"
    assert _std(real, "lat")[0] == pytest.approx(50.51938948)
    assert _std(real, "long")[0] == pytest.approx(-104.49508287)  # east positive: west is negative
    assert _std(real, "rpm")[4] == 289  # 0.200 s
    # line 9500 of the file: 474.100 s
    i = 9482
    assert real.time[i] == pytest.approx(474.1)
    assert _std(real, "speed")[i] == pytest.approx(65.7299)
    assert _std(real, "lat")[i] == pytest.approx(50.52019133)
    assert _std(real, "long")[i] == pytest.approx(-104.49430748)
    assert _std(real, "glat")[i] == pytest.approx(-0.5648)
    assert _std(real, "glong")[i] == pytest.approx(0.2722)
    assert _std(real, "rpm")[i] == 7858
    assert real.channels["Water Temp"].values[i] == pytest.approx(76.8)


def test_real_units(real: Recording) -> None:
    assert real.channels["Water Temp"].unit == "°C"
    assert real.channels["Logger Temperature"].unit == "°C"
    assert real.channels["GPS Nsat"].unit == ""  # written as " "
    assert real.channels["GyroX"].unit == "deg/s"
    assert real.channels["Int Batt Voltage"].unit == "V"
    assert real.channels["glat"].unit == "g"


def test_real_metadata_start_and_beacons(real: Recording) -> None:
    assert real.started_at == datetime(2022, 6, 19, 15, 42)  # naive local: no zone in the file
    assert real.started_at.tzinfo is None
    assert real.track == "SSKC"
    assert real.metadata["Vehicle"] == "143"
    assert real.metadata["Racer"] == "Nicholas Thorne"
    assert real.beacons is not None and len(real.beacons) == 16
    assert real.beacons[0] == 77.2 and real.beacons[1] == 149.128
    assert real.beacons[-1] == 951.0 == float(real.metadata["Duration"])  # last = Duration


# --- a quoted RaceStudio-style export ----------------------------------------------------

_QUOTED = """"Format","AiM CSV File"
"Session","Practice 2"
"Vehicle","Kart 7"
"Racer","A. Driver"
"Championship",""
"Comment",""
"Date","Saturday, March 2, 2024"
"Time","9:05 AM"
"Sample Rate","10"
"Duration","0.400"
"Segment","Session"
"Beacon Markers","0.150","0.300"
"Segment Times","0:00.150","0:00.250"

"Time","GPS Speed","RPM","Water Temp","GPS Latitude","GPS Longitude"
"s","mph","rpm","C","deg","deg"

"0.000","10.0","5000","60.5","50.1","-104.2"
"0.100","20.0","5100","60.6","50.2","-104.3"
"0.200","30.0","","60.7","50.3","-104.4"
"0.300","40.0","5300","60.8","50.4","-104.5"
"""


def _write(tmp_path: Path, text: str, name: str = "aim.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.replace("\n", "\r\n").encode("utf-8"))
    return path


def test_quoted_racestudio_variant(tmp_path: Path) -> None:
    rec = read_recording(_write(tmp_path, _QUOTED))
    assert rec.format == "aim"
    assert rec.sample_count == 4 and rec.time.tolist() == pytest.approx([0.0, 0.1, 0.2, 0.3])
    assert rec.started_at == datetime(2024, 3, 2, 9, 5)
    assert rec.metadata["Session"] == "Practice 2"
    assert rec.track is None  # no Venue
    assert rec.sample_rate_hz == 10.0
    # imperial export: read the units row, never assume km/h
    assert _std(rec, "speed").tolist() == pytest.approx([16.09344, 32.18688, 48.28032, 64.37376])
    rpm = _std(rec, "rpm")
    assert np.isnan(rpm[2]) and rpm[3] == 5300
    assert rec.channels["Water Temp"].unit == "C"
    assert rec.beacons == [0.15, 0.3]
    # segment 2 says 0.250 s but the markers span 0.150 s
    assert any("Segment Times disagree" in w and "segment 2" in w for w in rec.warnings)


def test_decimal_commas_in_quoted_fields(tmp_path: Path) -> None:
    head, data = _QUOTED.split('"s","mph"')
    head = head.replace('"0.150","0.300"', '"0,150","0,300"').replace('"10"', '"10,000"')
    head = head.replace('"0:00.150","0:00.250"', '"0:00,150","0:00,150"')
    rec = aim.read(_write(tmp_path, head + '"s","mph"' + data.replace(".", ",")))
    assert rec.sample_rate_hz == 10.0 and rec.beacons == [0.15, 0.3]
    assert rec.warnings == []  # segment times now agree with the markers
    assert rec.time.tolist() == pytest.approx([0.0, 0.1, 0.2, 0.3])
    assert _std(rec, "speed")[0] == pytest.approx(10.0 * 1.609344)
    assert _std(rec, "lat").tolist() == pytest.approx([50.1, 50.2, 50.3, 50.4])
    assert rec.channels["Water Temp"].values[3] == pytest.approx(60.8)


def test_comma_only_records_inside_the_data_are_padding(tmp_path: Path) -> None:
    text = _QUOTED.replace('"0.200"', ',,,,,\n"0.200"')
    rec = aim.read(_write(tmp_path, text))
    assert rec.sample_count == 4


def test_no_beacon_field_means_unknown(tmp_path: Path) -> None:
    text = "\n".join(line for line in _QUOTED.splitlines() if not line.startswith(('"Beacon', '"Segment Times')))
    rec = aim.read(_write(tmp_path, text))
    assert rec.beacons is None


def test_duplicated_data_line_is_dropped_with_a_warning(tmp_path: Path) -> None:
    line = '"0.100","20.0","5100","60.6","50.2","-104.3"\n'
    rec = aim.read(_write(tmp_path, _QUOTED.replace(line, line + line)))
    assert rec.sample_count == 4
    assert any("identical" in w for w in rec.warnings)


# --- malformed input ----------------------------------------------------------------------


def test_names_row_never_found(tmp_path: Path) -> None:
    text = _QUOTED.split('"Time","GPS Speed"')[0]
    with pytest.raises(LoggerFileError, match=r"aim\.csv, line 14: channel names row"):
        aim.read(_write(tmp_path, text))


def test_units_row_missing(tmp_path: Path) -> None:
    text = _QUOTED.replace('"s","mph","rpm","C","deg","deg"\n\n', "")
    with pytest.raises(LoggerFileError, match=r"line 16: units row missing"):
        aim.read(_write(tmp_path, text))


def test_time_cell_not_a_number(tmp_path: Path) -> None:
    text = _QUOTED.replace('"0.300","40.0"', '"x","40.0"')
    with pytest.raises(LoggerFileError, match=r"line 21: time cell is empty or not a number"):
        aim.read(_write(tmp_path, text))


def test_row_with_missing_values_in_the_middle(tmp_path: Path) -> None:
    text = _QUOTED.replace('"0.100","20.0","5100","60.6","50.2","-104.3"', '"0.100","20.0"')
    with pytest.raises(LoggerFileError, match=r"line 19: row has 2 values"):
        aim.read(_write(tmp_path, text))


def test_truncated_last_row_is_dropped_with_a_warning(tmp_path: Path) -> None:
    text = _QUOTED.rstrip("\n")[:-12]
    rec = aim.read(_write(tmp_path, text))
    assert rec.sample_count == 3
    assert any("last row" in w for w in rec.warnings)


def test_truncated_real_file_reads_or_fails_cleanly(tmp_path: Path) -> None:
    data = logger_file(REAL).read_bytes()
    for cut in (30, 300, 1200, 1500, 2400, 2600, 40_000, len(data) - 5):
        path = tmp_path / f"cut{cut}.csv"
        path.write_bytes(data[:cut])
        try:
            rec = aim.read(path)
        except LoggerFileError as exc:
            assert str(path) in str(exc)
        else:
            rec.check()


@pytest.mark.parametrize("content", [b"", b"\xef\xbb\xbf", b"\r\n\r\n"])
def test_empty_files_are_rejected_cleanly(content: bytes, tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(content)
    with pytest.raises(LoggerFileError, match=r"empty\.csv.*the file is empty"):
        aim.read(path)
    with pytest.raises(LoggerFileError, match="is a folder"):
        aim.read(tmp_path)


def test_damaged_names_row_fails_at_the_first_data_line(tmp_path: Path) -> None:
    data = logger_file(REAL).read_bytes().replace(b"Time,GPS Speed", b"Tyme,GPS Speed")
    path = tmp_path / "damaged.csv"
    path.write_bytes(data)
    with pytest.raises(LoggerFileError, match=r"damaged\.csv, line 18: channel names row"):
        aim.read(path)


# --- warnings that are true: printed precision, cut exports --------------------------------


def _real_with(tmp_path: Path, segment_times: str | None = None, keep_rows: int | None = None) -> Path:
    """The real export with its Segment Times line replaced, or its data cut after ``keep_rows``."""
    lines = logger_file(REAL).read_bytes().decode("utf-8").split("\r\n")
    if segment_times is not None:
        i = next(k for k, line in enumerate(lines) if line.startswith("Segment Times,"))
        lines[i] = segment_times
    if keep_rows is not None:
        first = next(k for k, line in enumerate(lines) if line.startswith("0.000,"))
        lines = lines[: first + keep_rows]
    path = tmp_path / "aim.csv"
    path.write_bytes("\r\n".join(lines).encode("utf-8"))
    return path


def _tenths(real: Recording) -> list[str]:
    """The real file's lap durations as Race Studio prints them to 0.1 s (m:ss.s)."""
    assert real.beacons is not None
    bounds = [0.0, *real.beacons]
    out = []
    for a, b in zip(bounds, bounds[1:]):
        d = round(b - a, 1)
        out.append(f"{int(d // 60)}:{d % 60:04.1f}")
    return out


def test_segment_times_printed_to_a_tenth_agree_with_the_markers(real: Recording, tmp_path: Path) -> None:
    segments = _tenths(real)
    assert segments[:3] == ["1:17.2", "1:11.9", "1:02.3"]
    rec = read_recording(_real_with(tmp_path, "Segment Times," + ",".join(segments) + ",,,,,,,"))
    assert not any("Segment Times" in w for w in rec.warnings)
    assert rec.beacons == real.beacons


def test_a_segment_time_off_by_more_than_its_precision_still_warns(real: Recording, tmp_path: Path) -> None:
    segments = _tenths(real)
    segments[4] = "0:59.1"  # the markers span 58.843 s: 0.26 s off, beyond the 0.05 s of a tenth
    rec = read_recording(_real_with(tmp_path, "Segment Times," + ",".join(segments)))
    warning = next(w for w in rec.warnings if "Segment Times disagree" in w)
    assert "for 1 lap(s)" in warning and "segment 5 is 0:59.1" in warning


def test_an_export_cut_long_before_its_duration_says_so(tmp_path: Path) -> None:
    rec = read_recording(_real_with(tmp_path, keep_rows=6000))  # 300 s of the 951 s session
    assert rec.time[-1] == pytest.approx(299.95)
    assert any("the data ends at 299.950 s but Duration is 951" in w and "the export is cut" in w for w in rec.warnings)


def test_the_real_export_is_not_called_cut(real: Recording) -> None:
    # its data ends at 950.95 s, one sample before the 951 s Duration
    assert real.time[-1] == pytest.approx(950.95)
    assert not any("cut" in w for w in real.warnings) and real.warnings == []
