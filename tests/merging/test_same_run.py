"""The merge refuses files of different runs, says which test failed, and yields to --merge-offset."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from mergecases import GATES_VBO, build_case
from realfiles import logger_file

from desktop_app.loggers import read_recording
from desktop_app.merging import MergeError, merge_recordings
from desktop_app.merging.align import MIN_PEAK

ROAD_AMERICA = "vbo/25IR05_RdAm_FP1_Run05_TL.vbo"
SIMULATOR = "motec_csv/blakelyauto.csv"


def test_road_america_and_a_simulator_file_of_another_day_are_refused_by_date() -> None:
    vbo = read_recording(logger_file(ROAD_AMERICA))  # 2025-08-01 19:52 UTC
    sim = read_recording(logger_file(SIMULATOR))  # 2023-04-04, local time
    with pytest.raises(MergeError) as err:
        merge_recordings(vbo, sim)
    msg = str(err.value)
    assert "different runs (date test)" in msg
    assert "2025-08-01 19:52 UTC" in msg and "2023-04-04" in msg and "(local time)" in msg
    assert "--merge-offset" in msg


def test_without_dates_the_correlation_test_refuses_them() -> None:
    # the same pair with the dates hidden merged at 0.70 before: the peak is far below
    # what one run's files reach
    vbo = replace(read_recording(logger_file(ROAD_AMERICA)), started_at=None)
    sim = replace(read_recording(logger_file(SIMULATOR)), started_at=None)
    with pytest.raises(MergeError) as err:
        merge_recordings(vbo, sim)
    msg = str(err.value)
    assert "(correlation test)" in msg and f"needs {MIN_PEAK:.3f}" in msg


def test_a_forced_offset_still_merges_them() -> None:
    vbo = read_recording(logger_file(ROAD_AMERICA))
    sim = read_recording(logger_file(SIMULATOR))
    result = merge_recordings(vbo, sim, offset_s=10.0)
    assert result.alignment.method == "manual" and result.alignment.offset_s == 10.0
    assert [src.rows.shape[0] for src in result.sources] == [vbo.sample_count, sim.sample_count]


def test_files_recorded_far_apart_are_refused_by_position(tmp_path: Path) -> None:
    kart = build_case(tmp_path, ecu_format="motec")
    gps = read_recording(kart.gps)  # Saskatchewan, 50.5 N 104.5 W
    other = replace(read_recording(logger_file(ROAD_AMERICA)), started_at=None)  # Wisconsin
    with pytest.raises(MergeError) as err:
        merge_recordings(gps, other)
    msg = str(err.value)
    assert "different runs (position test)" in msg and "km apart" in msg
    # 50.519 N 104.495 W to 43.8 N 88.0 W: about 1,460 km
    km = float(msg.split("recorded ")[1].split(" km")[0].replace(",", ""))
    assert 1350 < km < 1550


def test_files_at_different_tracks_are_refused_by_track(tmp_path: Path) -> None:
    # the RaceChrono VBO names its track (野沢); an ECU export of the kart log names 'SSKC'
    vbo = replace(read_recording(logger_file(GATES_VBO)), started_at=None)
    case = build_case(tmp_path, ecu_format="motec")
    ecu = read_recording(case.ecu)
    assert vbo.track == "野沢" and ecu.track == "SSKC"
    with pytest.raises(MergeError) as err:
        merge_recordings(vbo, ecu)
    assert "different runs (track test)" in str(err.value) and "'野沢'" in str(err.value)


def test_a_short_file_is_not_matched_by_its_trace_alone(tmp_path: Path) -> None:
    # the 18 s VBOX 3i file fits somewhere in any long session (0.97 against the simulator log)
    short = replace(read_recording(logger_file("vbo/Example_File.VBO")), started_at=None)
    sim = replace(read_recording(logger_file(SIMULATOR)), started_at=None)
    with pytest.raises(MergeError) as err:
        merge_recordings(sim, short)
    assert "(correlation test)" in str(err.value) and "too short" in str(err.value)


def test_one_run_split_in_two_still_merges(tmp_path: Path) -> None:
    case = build_case(tmp_path, ecu_format="motec")
    result = merge_recordings(read_recording(case.gps), read_recording(case.ecu))
    assert result.alignment.confidence >= MIN_PEAK
    assert abs(result.alignment.offset_s - case.offset_s) < 0.05
