"""Racelogic VBO reader: the five real files, then the traps of docs/formats.md#vbo-checklist on small files."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from realfiles import logger_file

from desktop_app.loggers import LoggerFileError, read_recording
from desktop_app.loggers.vbo import read

HD2 = "vbo/25IR05_RdAm_FP1_Run05_TL.vbo"
VB3I = "vbo/Example_File.VBO"
RC = "vbo/racechrono_2023Rd3_1.vbo"
RC_TEST = "vbo/session_20230326_141947_test.vbo"
RTP = "vbo/20210620_035615.vbo"


def test_hd2_values_units_gate_lap_counter_and_local_date() -> None:
    rec = read(logger_file(HD2))
    assert rec.format == "vbo" and rec.sample_count == 5586 and len(rec.channels) == 32
    assert rec.time[0] == 0.0 and rec.time[-1] == pytest.approx(223.4)
    assert rec.sample_rate_hz == 25.0
    # first row: 195220.880 +2627.80213200 +5279.38671000 053.338
    assert rec.standard("lat")[0] == pytest.approx(2627.802132 / 60)  # type: ignore[index]
    assert rec.standard("long")[0] == pytest.approx(-5279.38671 / 60)  # type: ignore[index]
    assert rec.standard("speed")[0] == pytest.approx(53.338)  # type: ignore[index]
    assert rec.channels["speed"].unit == "km/h"
    # [channel units] aligned from the end: Engine_Speed=RPM, Brake_Pressure_Front=bar
    assert rec.channels["rpm"].source_name == "Engine_Speed" and rec.channels["rpm"].unit == "rpm"
    assert rec.channels["brake"].unit == "bar"
    assert rec.channels["Ambient_Temperature"].unit == "°C"
    assert rec.channels["avitime"].unit == ""  # a GPS/video channel: never from [channel units]
    # 'File created on 01/08/2025 @ 14:52:19' is local time, 5 h behind the UTC data
    assert rec.started_at == datetime(2025, 8, 1, 19, 52, 20, 880000, tzinfo=UTC)
    assert any("local time" in w for w in rec.warnings)
    (gate,) = rec.gates
    assert gate.kind == "start" and gate.name == "Start / Finish"
    assert gate.lat1 == pytest.approx(2627.874410 / 60) and gate.long1 == pytest.approx(-5279.378270 / 60)
    assert gate.lat2 == pytest.approx(2627.877020 / 60) and gate.long2 == pytest.approx(-5279.378320 / 60)
    assert rec.lap_counter == "Lap_Number"
    laps = rec.channels["Lap_Number"].values
    zero = np.flatnonzero(laps == 0)
    assert rec.time[zero[0]] == pytest.approx(197.6) and rec.time[zero[-1]] == pytest.approx(201.16)
    assert rec.logger is not None and rec.logger.startswith("VBVDHD2")


def test_3i_latin1_units_duplicates_and_log_rate() -> None:
    rec = read(logger_file(VB3I))
    assert rec.sample_count == 1833 and len(rec.channels) == 48
    assert rec.sample_rate_hz == 100.0  # 'Log Rate (Hz) : 100.00'
    assert rec.started_at == datetime(2016, 3, 1, 14, 26, 19, 860000, tzinfo=UTC)
    assert rec.channels["Temp"].unit == "°C"  # a Latin-1 0xB0 in the file
    assert rec.channels["brake"].source_name == "BrakePress" and rec.channels["brake"].unit == "Bar"
    assert rec.channels["steering"].source_name == "SteeringWh"
    assert "SteeringWh" in rec.channels  # the second SteeringWh stays, as an auxiliary channel
    # secondary-antenna copies never take a (misaligned) unit from [channel units]
    assert rec.channels["_long"].unit == ""
    assert rec.channels["_velocity"].unit == "km/h"  # from the long name '_velocity kmh'
    assert float(np.nanmax(rec.standard("speed"))) < 1.5  # type: ignore[arg-type]
    assert rec.metadata["note"] == "GPS Time offset by -15 seconds"
    assert rec.gates == []


def test_racechrono_midnight_rollover_and_two_gates() -> None:
    rec = read(logger_file(RC))
    assert rec.sample_count == 11865 and len(rec.channels) == 25
    assert rec.started_at == datetime(2023, 6, 3, 23, 54, 7, 800000, tzinfo=UTC)
    (rollover,) = [w for w in rec.warnings if "midnight" in w]
    assert "line 3568" in rollover
    row = 3568 - 46  # data starts on line 46
    np.testing.assert_allclose(rec.time[row - 1 : row + 1], [352.1, 352.2])
    assert np.all(np.diff(rec.time) > 0)
    assert rec.time[-1] == pytest.approx(1186.4)
    # line 3568: +2218.196870 -08308.026650 (east of Greenwich: negative in VBO)
    assert rec.standard("lat")[row] == pytest.approx(2218.19687 / 60)  # type: ignore[index]
    assert rec.standard("long")[row] == pytest.approx(8308.02665 / 60)  # type: ignore[index]
    assert [g.kind for g in rec.gates] == ["start", "finish"]
    assert [g.name for g in rec.gates] == ["新トラップ", "ゴール"]
    assert rec.gates[0].long1 == pytest.approx(8308.020460 / 60) and rec.gates[0].lat1 == pytest.approx(
        2218.210230 / 60
    )
    assert rec.track == "野沢" and rec.logger == "RaceChrono Pro v7.6.5"
    assert rec.channels["glat"].source_name == "latacc" and rec.channels["combined_acc"].unit == "g"


def test_racechrono_one_row_with_splits_and_unrelated_date() -> None:
    rec = read(logger_file(RC_TEST))
    assert rec.sample_count == 1 and len(rec.channels) == 55
    assert [g.kind for g in rec.gates] == ["start"] + ["split"] * 6 + ["finish"]
    assert rec.gates[3].name == "新トラップ (3)"
    # 'File created on 25/03/2023 at 22:56:56' vs data 05:19:47 UTC: neither the same time nor
    # a whole zone away, but the date holds: 05:19:47 UTC on the nearest day is 26/03, the
    # session's date in the file name (14:19:47 in Japan)
    assert rec.started_at == datetime(2023, 3, 26, 5, 19, 47, 400000, tzinfo=UTC)
    assert "is 6 h 22 min before the first sample's UTC time" in " ".join(rec.warnings)
    assert rec.channels["rpm"].source_name == "rpm-canbus"
    assert rec.channels["wheel_speed_1-canbus"].unit == "km/h"


def test_race_telemetry_pro_comma_decimals_and_one_name_per_line() -> None:
    rec = read_recording(logger_file(RTP))
    assert rec.sample_count == 2 and len(rec.channels) == 19
    np.testing.assert_allclose(rec.time, [0.0, 0.1])
    assert rec.standard("lat")[0] == pytest.approx(3305.14092 / 60)  # type: ignore[index]
    assert rec.standard("long")[0] == pytest.approx(4380.1089 / 60)  # type: ignore[index]
    assert rec.channels["speed"].unit == "km/h"  # the column is named 'velocity kmh'
    assert rec.channels["rpm"].source_name == "OBDII_Revs"
    assert rec.sample_rate_hz == 10.0 and rec.started_at is None
    assert rec.logger is not None and rec.logger.startswith("Race Telemetry Pro")


# --- the traps, on small files -------------------------------------------------------------

HEAD = "File created on 03/06/2023 at 23:59:59\n\n[header]\nsatellites\ntime\nlatitude\nlongitude\nvelocity knots\n"


def _vbo(tmp_path: Path, body: str, *, head: str = HEAD, encoding: str = "utf-8", name: str = "t.vbo") -> Path:
    p = tmp_path / name
    p.write_bytes((head + body).encode(encoding))
    return p


def test_knots_sats_flags_crlf_bom_and_short_last_row(tmp_path: Path) -> None:
    body = (
        "\n[COLUMN NAMES]\nsats time lat long velocity\n[Data]\n"
        "075 235959.90 +3000.0 -6000.0 010.000 \n"
        "011 000000.00 +3000.0 -6000.0 020.000 \n"
        "011 000000"
    )
    p = tmp_path / "t.vbo"
    p.write_bytes(b"\xef\xbb\xbf" + (HEAD + body).replace("\n", "\r\n").encode())
    rec = read(p)
    assert rec.sample_count == 2
    np.testing.assert_allclose(rec.standard("speed"), [18.52, 37.04])  # type: ignore[arg-type]
    np.testing.assert_array_equal(rec.channels["sats"].values, [11, 11])  # 75 & 0x3F
    assert rec.standard("long")[0] == 100.0  # type: ignore[index]
    assert any("line 15" in w and "dropped" in w for w in rec.warnings)
    assert any("midnight" in w for w in rec.warnings)
    assert rec.started_at == datetime(2023, 6, 3, 23, 59, 59, 900000, tzinfo=UTC)


def test_latitude_first_gates_are_detected_from_the_data(tmp_path: Path) -> None:
    body = (
        "[laptiming]\nStart +3000.0 -6000.0 +3000.1 -6000.1 \xac Line\n"
        "[column names]\nsats time lat long velocity\n[data]\n"
        "011 120000.00 +3000.0 -6000.0 010.000\n"
    )
    rec = read(_vbo(tmp_path, body, encoding="cp1252"))
    (gate,) = rec.gates
    assert gate.lat1 == pytest.approx(50.0) and gate.long1 == pytest.approx(100.0) and gate.name == "Line"
    assert any("latitude first" in w for w in rec.warnings)


def test_repeated_rows_are_merged_with_a_warning(tmp_path: Path) -> None:
    body = "[column names]\nsats time lat long velocity\n[data]\n" + (
        "011 120000.00 +3000.0 -6000.0 010.000\n" * 2 + "011 120000.10 +3000.0 -6000.0 011.000\n"
    )
    rec = read(_vbo(tmp_path, body))
    np.testing.assert_allclose(rec.time, [0.0, 0.1])
    assert any("identical" in w for w in rec.warnings)


@pytest.mark.parametrize(
    ("body", "line", "what"),
    [
        (
            "[column names]\nsats time lat long velocity\n[data]\n011 120000.00 +1 +2 3\n011 120000.10 +1 +2 3 4 5\n011 120000.20 +1 +2 3\n",
            13,
            "7 values, expected 5",
        ),
        (
            "[column names]\nsats time lat long velocity\n[data]\n011 120000.00 +1 +2 3\n011 110000.00 +1 +2 3\n",
            13,
            "time goes back",
        ),
        ("[column names]\nsats time lat long velocity\n[data]\n011 126100.00 +1 +2 3\n", 12, "not a time of day"),
    ],
)
def test_malformed_rows_name_file_and_line(tmp_path: Path, body: str, line: int, what: str) -> None:
    p = _vbo(tmp_path, body, name="bad.vbo")
    with pytest.raises(LoggerFileError) as info:
        read(p)
    assert info.value.line == line and what in str(info.value) and "bad.vbo" in str(info.value)


def test_names_that_match_nothing_are_rejected_with_the_counts(tmp_path: Path) -> None:
    p = _vbo(tmp_path, "[column names]\nsats time lat\n[data]\n011 120000.00 +1 +2 3 4\n")
    with pytest.raises(LoggerFileError, match="3 names, \\[header\\] 5 lines, data rows 6 values"):
        read(p)


def test_no_data_section_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(LoggerFileError, match=r"no \[data\] section"):
        read(_vbo(tmp_path, "[column names]\nsats time\n"))


def _recreated(tmp_path: Path, source: str, created: str, comments: list[str] | None = None) -> Path:
    """A real VBO with another ``File created on`` line (and extra [comments] lines)."""
    raw = logger_file(source).read_bytes()
    first, rest = raw.split(b"\n", 1)
    eol = b"\r\n" if first.endswith(b"\r") else b"\n"
    if comments:
        rest = rest.replace(b"[comments]" + eol, b"[comments]" + eol + eol.join(c.encode() for c in comments) + eol, 1)
    path = tmp_path / Path(source).name
    path.write_bytes(f"File created on {created}".encode() + eol + rest)
    return path


def test_file_created_minutes_after_the_first_sample_keeps_its_date(tmp_path: Path) -> None:
    # the RaceChrono VBO starts 23:54:07.80 UTC on 03/06/2023 and crosses midnight; a file
    # created 26 min later, after midnight, still dates the session 03/06
    rec = read(_recreated(tmp_path, RC, "04/06/2023 at 00:20:00"))
    assert rec.started_at == datetime(2023, 6, 3, 23, 54, 7, 800000, tzinfo=UTC)
    assert "is 0 h 25 min after the first sample's UTC time" in " ".join(rec.warnings)
    # a time zone plus minutes: created 14:52:19 local (UTC-5) for data from 19:52:20.88 UTC,
    # here written 17 min later
    rec = read(_recreated(tmp_path, HD2, "01/08/2025 @ 15:09:40"))
    assert rec.started_at == datetime(2025, 8, 1, 19, 52, 20, 880000, tzinfo=UTC)


def test_racebox_venue_in_the_comments_is_the_track(tmp_path: Path) -> None:
    lines = ["Generated by RaceBox", "Venue : Road America", "Driver : Someone"]
    rec = read(_recreated(tmp_path, HD2, "01/08/2025 @ 14:52:19", lines))
    assert rec.track == "Road America" and rec.metadata["Venue"] == "Road America"
    # [session data] name, where a writer gives both, wins (RaceChrono's own field)
    rc = read(_recreated(tmp_path, RC, "03/06/2023 at 23:54:07", ["VENUE : Somewhere else"]))
    assert rc.track == "野沢" and rc.metadata["VENUE"] == "Somewhere else"
