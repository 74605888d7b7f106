"""RaceChrono CSV v3 and v2: the three real files, synthetic variants, malformed input."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from realfiles import logger_file

from desktop_app.loggers import LoggerFileError, Recording, racechrono, read_recording

TIANMA = "racechrono_csv/session_20251231_111318_tianma_lap9_v3.csv"
LOGGING = "racechrono_csv/Short_RaceChrono_Offical_App_Data.csv"
TAKATA = "racechrono_csv/session_20230918_0946_0916takata_v2.csv"


def _std(rec: Recording, name: str) -> np.ndarray:
    values = rec.standard(name)
    assert values is not None, f"no standard channel {name!r}"
    return values


@pytest.fixture(scope="module")
def tianma() -> Recording:
    return racechrono.read(logger_file(TIANMA))


def test_tianma_rows_after_dropping_the_89_repeated_timestamps(tianma: Recording) -> None:
    # 3,850 data rows, 89 of them repeat the previous timestamp with identical values
    assert tianma.sample_count == 3850 - 89
    assert any("89 repeated row(s) identical" in w for w in tianma.warnings)
    assert np.all(np.diff(tianma.time) > 0)
    assert tianma.time[0] == 0.0
    assert tianma.time[-1] == pytest.approx(1767150881.72 - 1767150797.44)


def test_tianma_first_sample_and_started_at(tianma: Recording) -> None:
    assert tianma.started_at == datetime(2025, 12, 31, 3, 13, 17, 440000, tzinfo=UTC)
    assert _std(tianma, "lat")[0] == pytest.approx(31.0781678)
    assert _std(tianma, "long")[0] == pytest.approx(121.1164132)
    # the GPS speed (source "100: gps") is the standard one, m/s -> km/h
    assert _std(tianma, "speed")[0] == pytest.approx(33.453 * 3.6)
    assert tianma.channels["speed"].unit == "km/h"
    assert _std(tianma, "rpm")[0] == pytest.approx(3544.02065)
    assert _std(tianma, "throttle")[0] == pytest.approx(64.99739)
    assert _std(tianma, "glat")[0] == pytest.approx(0.35977)
    assert _std(tianma, "distance")[0] == pytest.approx(17834.748)


def test_tianma_sample_1000(tianma: Recording) -> None:
    # the 1,000th distinct timestamp is file line 1037
    i = 999
    assert tianma.time[i] == pytest.approx(1767150822.4 - 1767150797.44)
    assert _std(tianma, "lat")[i] == pytest.approx(31.075792)
    assert _std(tianma, "long")[i] == pytest.approx(121.1151092)
    assert _std(tianma, "speed")[i] == pytest.approx(23.044 * 3.6)
    assert tianma.channels["lap_number"].values[i] == 9


def test_tianma_repeated_names_are_told_apart_by_source(tianma: Recording) -> None:
    # 26 columns, the timestamp is the time base
    assert len(tianma.channels) == 25
    calc, obd = tianma.channels["speed (calc)"], tianma.channels["speed (200: obd)"]
    assert not calc.standard and calc.unit == "m/s" and calc.values[0] == pytest.approx(33.411)
    assert not obd.standard and obd.unit == "m/s" and obd.values[0] == pytest.approx(18.82739)
    assert tianma.channels["device_update_rate"].values[0] == 25.0  # GPS
    assert tianma.channels["device_update_rate (calc)"].values[0] == 20.0
    assert tianma.channels["combined_acc"].unit == "G"
    assert tianma.channels["altitude_precision"].unit == "DOP"


def test_tianma_laps_track_and_metadata(tianma: Recording) -> None:
    assert tianma.lap_counter == "lap_number"
    laps = Counter(tianma.channels["lap_number"].values.astype(int).tolist())
    # distinct timestamps per lap: the end of lap 8, lap 9, the start of lap 10
    assert laps == {8: 160, 9: 3310, 10: 291}
    assert tianma.track == "Tianma"
    assert tianma.logger == "RaceChrono Pro v9.1.3"
    assert tianma.metadata["Session title"] == "Tianma"
    assert tianma.metadata["Session type"] == "Lap timing"
    assert tianma.metadata["Created"] == "31/12/2025 02:54"
    assert tianma.format == "racechrono"
    assert tianma.channels["fragment_id"].values.max() == 0
    assert len(tianma.warnings) == 1


def test_data_logging_session_blank_metadata_line_and_late_rpm() -> None:
    rec = read_recording(logger_file(LOGGING))
    assert rec.sample_count == 1958 - 10
    assert rec.started_at == datetime(2026, 2, 9, 19, 20, 2, 50000, tzinfo=UTC)
    assert rec.track is None  # the Track name line is an empty line
    assert rec.metadata["Session type"] == "Data logging"
    assert rec.metadata["Session title"] == "53, Bannings Way, Hobsonville, Auckland, Auckland, NZ"
    assert rec.lap_counter is None  # lap_number is empty on every row
    assert np.isnan(rec.channels["lap_number"].values).all()
    assert _std(rec, "lat")[0] == pytest.approx(-36.8013221)
    assert _std(rec, "long")[0] == pytest.approx(174.6481289)
    rpm = _std(rec, "rpm")
    assert rec.channels["rpm"].source_name == "rpm"
    # CAN rpm starts on row 173: empty cells stay empty, nothing is filled
    assert np.isnan(rpm[:172]).all() and not np.isnan(rpm[172:]).any()
    assert rpm[-1] == pytest.approx(1237.8125)
    # the 500th distinct timestamp (line 514): interpolated fractional satellites kept
    assert rec.time[499] == pytest.approx(10.553)
    assert rec.channels["satellites"].values[499] == pytest.approx(17.382)
    assert len(rec.channels) == 20


@pytest.fixture(scope="module")
def takata() -> Recording:
    return racechrono.read(logger_file(TAKATA))


def test_v2_header_units_sources_and_values(takata: Recording) -> None:
    assert takata.logger == "RaceChrono v8.0.8"
    assert takata.metadata["format"] == "RaceChrono CSV v2"
    assert takata.track == "0916タカタ"
    assert takata.started_at == datetime(2023, 9, 18, 0, 58, 53, 983000, tzinfo=UTC)
    assert _std(takata, "speed")[0] == pytest.approx(99.999 * 3.6)
    assert takata.channels["speed"].source_name == "Speed"  # GPS: no suffix
    assert takata.channels["Speed (calc)"].unit == "m/s"
    assert takata.channels["Speed (obd)"].unit == "m/s"
    assert _std(takata, "rpm")[0] == 714
    assert _std(takata, "throttle")[0] == pytest.approx(13.3)
    assert _std(takata, "lat")[0] == pytest.approx(34.7476217)
    assert _std(takata, "distance")[0] == pytest.approx(5494.805)
    coolant = takata.channels["Coolant temperature"]
    assert coolant.unit == "°C" and coolant.values[0] == 98.0  # ".C" is a flattened degree sign
    assert takata.channels["Device update rate (gyro)"].values[0] == pytest.approx(50.8)
    assert "Trap name" not in takata.channels
    assert any("'Trap name'" in w for w in takata.warnings)
    # 39 columns: time base and the text column are not channels
    assert len(takata.channels) == 37


def test_v2_repeated_timestamp_is_merged(takata: Recording) -> None:
    assert takata.sample_count == 9
    assert any("complementary" in w for w in takata.warnings)
    # 1694998734.000: the first row has the GPS cells, both have the gyro cells
    i = int(np.flatnonzero(np.isclose(takata.time, 0.017))[0])
    assert takata.channels["Satellites"].values[i] == 10
    assert takata.channels["X rate of rotation"].values[i] == pytest.approx(-60.045)
    assert _std(takata, "speed")[i] == 0.0


def test_v2_fragment_change_is_reported_and_kept(takata: Recording) -> None:
    fragment = takata.channels["Session fragment #"].values
    assert fragment.tolist() == [0, 0, 0, 0, 0, 0, 1, 1, 1]
    gap = takata.time[6] - takata.time[5]
    assert gap == pytest.approx(1695000305.601 - 1694998734.150)  # about 26 minutes
    assert any("fragment" in w and "1571.5 s gap" in w for w in takata.warnings)
    # elapsed time restarts with the fragment; the file's values are kept
    assert takata.channels["Elapsed time"].values[6] == pytest.approx(0.001)


# --- synthetic variants -------------------------------------------------------------------

_V3_HEAD = """This file is created using RaceChrono Pro v9.1.3 ( http://racechrono.com/ ).
Format,3
Session title,"Test"
Session type,Lap timing
Track name,"Somewhere"
Created,01/01/2024,10:00
Note,

timestamp,fragment_id,lap_number,speed,rpm,rpm,coolant_temp
unix time,,,m/s,rpm,rpm,.C
,,,100: gps,200: obd,200: canbus,200: obd
"""


def _write(tmp_path: Path, text: str, name: str = "x.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


def test_repeated_name_without_gps_source_and_conflicting_repeats(tmp_path: Path) -> None:
    rows = (
        "1704103200.00,0,1,10.0,1000,1001,80\n"
        "1704103200.00,0,1,10.0,1000,1005,80\n"  # same time, different rpm: conflict
        "1704103200.10,0,1,,1100,,\n"
        "1704103200.10,0,1,11.0,,1101,81\n"  # complementary cells
        "1704103200.20,0,2,12.0,1200,1201,82\n"
    )
    rec = racechrono.read(_write(tmp_path, _V3_HEAD + rows))
    assert rec.sample_count == 3
    # no GPS copy of "rpm": the first keeps the plain name and becomes the standard channel
    assert rec.channels["rpm"].standard and rec.channels["rpm"].source_name == "rpm"
    assert rec.channels["rpm (200: canbus)"].values.tolist() == [1001, 1101, 1201]
    assert _std(rec, "speed").tolist() == pytest.approx([36.0, 39.6, 43.2])
    assert rec.channels["coolant_temp"].unit == "°C"
    assert any("conflicting" in w for w in rec.warnings)
    assert any("complementary" in w for w in rec.warnings)
    assert rec.track == "Somewhere"
    assert not any("'Created'" in w for w in rec.warnings)  # 10:00 UTC matches the data


def test_created_far_from_the_timestamps_is_reported(tmp_path: Path) -> None:
    text = _V3_HEAD.replace("01/01/2024,10:00", "05/03/2023,08:00")
    rec = racechrono.read(_write(tmp_path, text + "1704103200.00,0,1,10.0,1000,1001,80\n"))
    assert rec.started_at == datetime(2024, 1, 1, 10, 0, tzinfo=UTC)  # the timestamp wins
    assert any("'Created' (05/03/2023 08:00) disagrees" in w for w in rec.warnings)


def test_crlf_bom_and_no_final_newline(tmp_path: Path) -> None:
    text = _V3_HEAD + "1704103200.00,0,1,10.0,1000,1001,80\n1704103200.05,0,1,10.5,1000,1001,80"
    path = tmp_path / "crlf.csv"
    path.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode())
    rec = read_recording(path)
    assert rec.sample_count == 2 and rec.time.tolist() == pytest.approx([0.0, 0.05])


# --- malformed input ----------------------------------------------------------------------


def test_header_never_found(tmp_path: Path) -> None:
    path = _write(tmp_path, _V3_HEAD.split("timestamp,")[0])
    with pytest.raises(LoggerFileError, match=r"line 8: header row starting 'timestamp,' not found"):
        racechrono.read(path)


def test_units_row_missing(tmp_path: Path) -> None:
    lines = _V3_HEAD.splitlines()
    text = "\n".join(lines[:9]) + "\n1704103200.00,0,1,10.0,1000,1001,80\n"
    with pytest.raises(LoggerFileError, match=r"line 10: units row missing"):
        racechrono.read(_write(tmp_path, text))


def test_sources_row_missing(tmp_path: Path) -> None:
    lines = _V3_HEAD.splitlines()
    text = "\n".join(lines[:10]) + "\n1704103200.00,0,1,10.0,1000,1001,80\n"
    with pytest.raises(LoggerFileError, match=r"line 11: sources row missing"):
        racechrono.read(_write(tmp_path, text))


def test_time_cell_not_a_number(tmp_path: Path) -> None:
    rows = "1704103200.00,0,1,10.0,1000,1001,80\nabc,0,1,10.0,1000,1001,80\n"
    with pytest.raises(LoggerFileError, match=r"x\.csv, line 13: time cell is empty or not a number"):
        racechrono.read(_write(tmp_path, _V3_HEAD + rows))


def test_row_with_extra_values_in_the_middle(tmp_path: Path) -> None:
    rows = (
        "1704103200.00,0,1,10.0,1000,1001,80\n"
        "1704103200.05,0,1,10.0,1000,1001,80,7,7\n"
        "1704103200.10,0,1,10.0,1000,1001,80\n"
    )
    with pytest.raises(LoggerFileError, match=r"line 13"):
        racechrono.read(_write(tmp_path, _V3_HEAD + rows))


def test_odd_cell_in_a_numeric_column_is_missing_with_a_warning(tmp_path: Path) -> None:
    rows = "1704103200.00,0,1,10.0,1000,1001,80\n1704103200.05,0,1,fast,1000,1001,80\n"
    rec = racechrono.read(_write(tmp_path, _V3_HEAD + rows))
    assert np.isnan(_std(rec, "speed")[1])
    assert any("line 13" in w and "non-numeric" in w for w in rec.warnings)


def test_big_backward_step_is_an_error_not_sorted(tmp_path: Path) -> None:
    rows = "1704103200.00,0,1,10.0,1000,1001,80\n1704103100.00,0,1,10.0,1000,1001,80\n"
    with pytest.raises(LoggerFileError, match=r"line 13: time goes back"):
        racechrono.read(_write(tmp_path, _V3_HEAD + rows))


def test_wrong_format_line_and_no_data(tmp_path: Path) -> None:
    with pytest.raises(LoggerFileError, match=r"line 2: expected 'Format,3' or 'Format,2'"):
        racechrono.read(_write(tmp_path, _V3_HEAD.replace("Format,3", "Format,7")))
    with pytest.raises(LoggerFileError, match=r"no data rows"):
        racechrono.read(_write(tmp_path, _V3_HEAD))


@pytest.mark.parametrize("relative", [TIANMA, LOGGING, TAKATA])
def test_truncated_real_files_read_or_fail_cleanly(relative: str, tmp_path: Path) -> None:
    data = logger_file(relative).read_bytes()
    for cut in (60, 200, 520, 700, 1000, 1500, 2500, len(data) // 2, len(data) - 7):
        path = tmp_path / f"cut{cut}.csv"
        path.write_bytes(data[:cut])
        try:
            rec = racechrono.read(path)
        except LoggerFileError as exc:
            assert str(path) in str(exc)
        else:
            rec.check()
            assert rec.sample_count >= 1


@pytest.mark.parametrize("content", [b"", b"\xef\xbb\xbf", b"\r\n\r\n"])
def test_empty_files_are_rejected_cleanly(content: bytes, tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(content)
    with pytest.raises(LoggerFileError, match=r"empty\.csv.*the file is empty"):
        racechrono.read(path)
    with pytest.raises(LoggerFileError, match="is a folder"):
        racechrono.read(tmp_path)


_V2 = """This file is created using RaceChrono v8.0.8 ( http://racechrono.com/ ).
Format,2,"Format 1 = static columns","Format 2 = new format with dynamic columns"
Session title,"Test"
Track name,"Takata"
Created,18/09/2023,00:46
Note,

Time (s),Session fragment #,Lap #,Trap name,Speed (m/s),Speed (m/s) *obd,Latitude (deg),Longitude (deg)
1694998733.90,0,3,,10.0,9.0,34.7,132.7
1694998734.00,0,4,Start/Finish,11.0,10.0,34.8,132.8
1694998734.10,0,4,,12.0,11.0,34.9,132.9
"""


def test_v2_lap_counter_and_trap_names_kept_as_a_text_channel(tmp_path: Path) -> None:
    rec = racechrono.read(_write(tmp_path, _V2))
    assert rec.lap_counter == "Lap #"
    assert rec.channels["Lap #"].values.tolist() == [3, 4, 4]
    trap = rec.channels["Trap name"]
    assert trap.labels == ("Start/Finish",)
    assert {trap.labels[int(c)] for c in trap.values[np.isfinite(trap.values)]} == {"Start/Finish"}
    assert rec.metadata["Trap name"] == "Start/Finish"
    assert _std(rec, "speed").tolist() == pytest.approx([36.0, 39.6, 43.2])
    assert rec.channels["Speed (obd)"].values.tolist() == [9.0, 10.0, 11.0]
    assert rec.track == "Takata"


def test_damaged_names_row_fails_at_the_first_data_line(tmp_path: Path) -> None:
    data = logger_file(TIANMA).read_bytes().replace(b"timestamp,fragment_id", b"timestanp,fragment_id")
    path = tmp_path / "damaged.csv"
    path.write_bytes(data)
    with pytest.raises(LoggerFileError, match=r"damaged\.csv, line 13: header row starting 'timestamp,'"):
        racechrono.read(path)
