"""MoTeC i2 CSV: both real exports, locale dates, beacon variants, malformed input."""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path

import numpy as np
import pytest
from realfiles import logger_file

from desktop_app.loggers import LoggerFileError, Recording, motec, read_recording
from desktop_app.loggers.csvmeta import parse_clock, parse_date

BLAKELY = "motec_csv/blakelyauto.csv"
MAY22 = "motec_csv/May_22_2026_Peter.csv"


def _std(rec: Recording, name: str) -> np.ndarray:
    values = rec.standard(name)
    assert values is not None, f"no standard channel {name!r}"
    return values


@pytest.fixture(scope="module")
def blakely() -> Recording:
    return motec.read(logger_file(BLAKELY))


def test_blakely_rows_time_and_metadata(blakely: Recording) -> None:
    assert blakely.sample_count == 11700
    assert blakely.sample_rate_hz == 60.0
    # 3-decimal times: steps alternate 0.017/0.016, kept as printed
    assert blakely.time[:4].tolist() == [0.0, 0.017, 0.033, 0.05]
    assert blakely.time[-1] == pytest.approx(194.983)
    assert blakely.started_at == datetime(2023, 4, 4, 13, 16, 25)  # ISO date, 12-hour clock
    assert blakely.started_at.tzinfo is None
    assert blakely.track == "Grand Valley Speedway"
    assert blakely.logger == "MoTeC ADL"
    assert blakely.metadata["Vehicle"] == "IMPREZA Sedan WRX STi spec C (Type-II) '04"
    assert blakely.metadata["End Distance"] == "6108 m"
    assert blakely.warnings == []


def test_blakely_beacons_from_one_space_separated_field(blakely: Recording) -> None:
    assert blakely.beacons == [24.324, 190.167]


def test_blakely_channels_units_and_values(blakely: Recording) -> None:
    assert len(blakely.channels) == 14  # 15 columns, Time is the time base
    assert {n for n, c in blakely.channels.items() if c.standard} == {
        "distance", "speed", "rpm", "throttle", "brake", "gear", "steering", "glat", "glong",
    }  # fmt: skip
    assert blakely.channels["speed"].source_name == "Vehicle Speed"
    assert blakely.channels["brake"].unit == "bar"
    assert blakely.channels["glat"].unit == "g"
    assert blakely.channels["G Force Vert"].unit == "G"
    assert blakely.channels["Wheel Speed FL"].unit == "km/h"
    # first row; the simulator's implausible lateral g is stored as logged
    assert _std(blakely, "speed")[0] == pytest.approx(30.3)
    assert _std(blakely, "glat")[0] == pytest.approx(53.76)
    assert _std(blakely, "glat")[1] == pytest.approx(-60.16)
    assert _std(blakely, "rpm")[0] == 2016 and _std(blakely, "gear")[0] == 1
    # line 5019: 83.333 s
    i = 5000
    assert blakely.time[i] == pytest.approx(83.333)
    assert _std(blakely, "distance")[i] == 2749
    assert _std(blakely, "speed")[i] == pytest.approx(105.9)
    assert _std(blakely, "throttle")[i] == pytest.approx(99.9)
    assert _std(blakely, "steering")[i] == pytest.approx(8.6)
    assert _std(blakely, "distance")[-1] == 6108
    gears = np.unique(_std(blakely, "gear"), return_counts=True)
    assert gears[0].tolist() == [1, 2, 3, 4, 5] and gears[1].tolist() == [80, 4906, 4738, 1495, 481]


def test_may22_no_laps_no_gps_us_date() -> None:
    rec = read_recording(logger_file(MAY22))
    assert rec.format == "motec"
    assert rec.sample_count == 16701
    assert rec.time[-1] == pytest.approx(835.0)
    assert rec.beacons == []  # "Beacon Markers","": the file says there are no laps
    assert rec.started_at == datetime(2026, 5, 22, 23, 38, 16)  # 5/22/2026 is month/day
    assert rec.track == "BeaveRun" and rec.logger == "MoTeC C185"
    assert rec.metadata["Engine ID"] == "KTM SFX 450"  # right-hand column of the grid
    assert rec.sample_rate_hz == 20.0
    # an EV: "Motor Speed" stays auxiliary, nothing is standard
    assert not any(c.standard for c in rec.channels.values())
    assert [(c.name, c.unit) for c in rec.channels.values()] == [
        ("Battery Temp", "C"), ("Motor Temp", "C"), ("Engine Power", "kW"), ("Motor Speed", "rpm"),
    ]  # fmt: skip
    # line 8019: 400.000 s
    assert rec.time[8000] == pytest.approx(400.0)
    assert rec.channels["Battery Temp"].values[8000] == pytest.approx(19.0)
    assert rec.channels["Motor Temp"].values[8000] == pytest.approx(24.9)
    assert rec.channels["Engine Power"].values[8000] == pytest.approx(104.0)
    assert rec.warnings == []


# --- locale dates and clocks ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected", "ambiguous"),
    [
        ("5/22/2026", date(2026, 5, 22), False),
        ("22/5/2026", date(2026, 5, 22), False),
        ("2023-04-04", date(2023, 4, 4), False),
        ("22.05.2026", date(2026, 5, 22), False),
        ("4/5/2023", date(2023, 4, 5), True),  # month first, with a note
        ("Sunday, June 19, 2022", date(2022, 6, 19), False),
        ("6/6/2023", date(2023, 6, 6), False),  # same either way: no note
    ],
)
def test_parse_date(text: str, expected: date, ambiguous: bool) -> None:
    day, note = parse_date(text, month_first=True)
    assert day == expected
    assert (note is not None) == ambiguous


def test_parse_date_rejects_non_dates() -> None:
    assert parse_date("13/13/2023", month_first=True)[0] is None
    assert parse_date("yesterday", month_first=True)[0] is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("11:38:16 PM", time(23, 38, 16)),
        ("12:05:00 AM", time(0, 5)),
        ("12:30 PM", time(12, 30)),
        ("3:42 PM", time(15, 42)),
        ("15:42:07", time(15, 42, 7)),
        ("13:00 PM", None),
        ("25:00", None),
    ],
)
def test_parse_clock(text: str, expected: time | None) -> None:
    assert parse_clock(text) == expected


# --- synthetic variants and malformed input -----------------------------------------------

_HEAD = """"Format","MoTeC CSV File",,,"Workbook",""
"Venue","Test Track",,,"Worksheet",""
"Device","M150"
"Log Date","4/5/2023",,,"Origin Time","0.000","s"
"Log Time","9:00:00 AM",,,"Start Time","10.000","s"
"Sample Rate","10.000","Hz",,"End Time","10.300","s"
"Beacon Markers","10.150 "


"Time","Ground Speed","Engine RPM"
"s","km/h","rpm"


"""
_DATA = '"10.000","50.0","3000"\n"10.100","51.0","3100"\n"10.200","52.0","3200"\n"10.300","53.0","3300"\n'


def _write(tmp_path: Path, text: str, name: str = "motec.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.replace("\n", "\r\n").encode("utf-8"))
    return path


def test_start_time_offset_and_ambiguous_date(tmp_path: Path) -> None:
    rec = motec.read(_write(tmp_path, _HEAD + _DATA))
    assert rec.time.tolist() == pytest.approx([0.0, 0.1, 0.2, 0.3])
    assert rec.beacons == pytest.approx([0.15])  # on the recording's time base
    assert rec.started_at == datetime(2023, 4, 5, 9, 0)
    assert any("ambiguous" in w for w in rec.warnings)
    assert rec.logger == "MoTeC M150"
    assert _std(rec, "speed").tolist() == [50.0, 51.0, 52.0, 53.0]


def test_no_beacon_field_is_none(tmp_path: Path) -> None:
    rec = motec.read(_write(tmp_path, _HEAD.replace('"Beacon Markers","10.150 "\n', "") + _DATA))
    assert rec.beacons is None


def test_header_never_found(tmp_path: Path) -> None:
    with pytest.raises(LoggerFileError, match=r"motec\.csv, line 7: channel names row"):
        motec.read(_write(tmp_path, _HEAD.split('"Time"')[0].rstrip("\n") + "\n"))


def test_units_row_missing(tmp_path: Path) -> None:
    text = _HEAD.replace('"s","km/h","rpm"\n', "") + _DATA
    with pytest.raises(LoggerFileError, match=r"line 13: units row missing"):
        motec.read(_write(tmp_path, text))


def test_units_row_longer_than_names(tmp_path: Path) -> None:
    text = _HEAD.replace('"s","km/h","rpm"', '"s","km/h","rpm","bar"') + _DATA
    with pytest.raises(LoggerFileError, match=r"line 11: units row has 4 entries for 3"):
        motec.read(_write(tmp_path, text))


def test_text_in_the_time_column(tmp_path: Path) -> None:
    text = _HEAD + _DATA.replace('"10.200"', '"ten"')
    with pytest.raises(LoggerFileError, match=r"line 16: time cell is empty or not a number"):
        motec.read(_write(tmp_path, text))


def test_no_data_rows(tmp_path: Path) -> None:
    with pytest.raises(LoggerFileError, match=r"no data rows"):
        motec.read(_write(tmp_path, _HEAD))


def test_latin1_bytes_in_the_header(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes((_HEAD + _DATA).replace('"C"', '"x"').encode().replace(b"Test Track", b"Pist\xe9"))
    rec = motec.read(path)
    assert rec.track == "Pisté"


@pytest.mark.parametrize("relative", [BLAKELY, MAY22])
def test_truncated_real_files_read_or_fail_cleanly(relative: str, tmp_path: Path) -> None:
    data = logger_file(relative).read_bytes()
    for cut in (20, 150, 500, 640, 700, 900, 1100, 5000, len(data) - 4):
        path = tmp_path / f"cut{cut}.csv"
        path.write_bytes(data[:cut])
        try:
            rec = motec.read(path)
        except LoggerFileError as exc:
            assert str(path) in str(exc)
        else:
            rec.check()


@pytest.mark.parametrize("content", [b"", b"\xef\xbb\xbf", b"\r\n\r\n"])
def test_empty_files_are_rejected_cleanly(content: bytes, tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(content)
    with pytest.raises(LoggerFileError, match=r"empty\.csv.*the file is empty"):
        motec.read(path)
    with pytest.raises(LoggerFileError, match="is a folder"):
        motec.read(tmp_path)


def test_bad_sample_rate_is_ignored_with_a_warning(tmp_path: Path) -> None:
    rec = motec.read(_write(tmp_path, _HEAD.replace('"10.000","Hz"', '"-5","Hz"') + _DATA))
    assert rec.sample_rate_hz is None
    assert any("Sample Rate '-5'" in w for w in rec.warnings)


def test_damaged_names_row_fails_at_the_first_data_line(tmp_path: Path) -> None:
    data = logger_file(BLAKELY).read_bytes().replace(b'"Time","Distance"', b'"Tme","Distance"')
    path = tmp_path / "damaged.csv"
    path.write_bytes(data)
    with pytest.raises(LoggerFileError, match=r"damaged\.csv, line 19: channel names row"):
        motec.read(path)
