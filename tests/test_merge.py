"""Merging a GPS logger file with an ECU logger file of the same run.

The cases are cut from one real recording (tests/mergecases.py): a 10 Hz VBO with the GPS
channels, and a 20 Hz MoTeC / Bosch / RaceChrono file with the engine channels, a noisy
wheel speed and the lap markers, started later and logged by a drifting clock.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from mergecases import GATES_VBO, EcuFormat, build_case, original

from desktop_app.importing import merge_files
from desktop_app.laps import analyse_laps
from desktop_app.loggers import Recording, read_recording
from desktop_app.loggers.timebase import to_microseconds
from desktop_app.merging import MergeError, merge_recordings
from storage.types import LapRecord

GPS_PERIOD = 0.1
ECU_PERIOD = 0.05


def _read(case_gps: Path, case_ecu: Path) -> tuple[Recording, Recording]:
    return read_recording(case_gps), read_recording(case_ecu)


@pytest.mark.parametrize("ecu_format", ["motec", "bosch"])
def test_offset_and_drift_recovered_by_correlation(tmp_path: Path, ecu_format: EcuFormat) -> None:
    case = build_case(tmp_path, ecu_format=ecu_format, drift_ppm=200.0)
    gps, ecu = _read(case.gps, case.ecu)
    assert gps.started_at is not None and gps.started_at.tzinfo is not None
    assert ecu.started_at is None or ecu.started_at.tzinfo is None  # no absolute time to lean on
    result = merge_recordings(gps, ecu)
    a = result.alignment
    assert a.method == "correlation" and a.channel == "speed"
    assert abs(a.offset_s - case.offset_s) < ECU_PERIOD
    assert abs(a.drift_ppm - case.drift_ppm) < 20.0
    assert a.confidence > 0.95 and a.margin > 0.1
    # at the end of the run, the mapped ECU clock is still within a sample of the truth
    end = float(ecu.time[-1])
    truth = case.offset_s + (1 + case.drift_ppm * 1e-6) * end
    assert abs(float(a.to_primary(np.array([end]))[0]) - truth) < ECU_PERIOD


def test_no_drift_is_not_invented(tmp_path: Path) -> None:
    case = build_case(tmp_path, drift_ppm=0.0, offset_rows=91)
    result = merge_recordings(*_read(case.gps, case.ecu))
    assert result.alignment.drift_ppm == 0.0
    assert abs(result.alignment.offset_s - case.offset_s) < ECU_PERIOD


def test_every_sample_of_both_files_lands_once_on_the_union(tmp_path: Path) -> None:
    case = build_case(tmp_path, ecu_format="motec")
    gps, ecu = _read(case.gps, case.ecu)
    result = merge_recordings(gps, ecu)
    merged = result.recording
    a = result.alignment
    p_us = to_microseconds(gps.time)
    s_us = to_microseconds(a.to_primary(ecu.time))
    union = np.unique(np.concatenate([p_us, s_us]))
    assert merged.sample_count == union.shape[0]
    assert merged.time[0] == 0.0 and np.all(np.diff(merged.time) > 0)
    assert merged.format == "merged"
    by_source = {s.path: s for s in result.sources}
    for rec, us in ((gps, p_us), (ecu, s_us)):
        src = by_source[rec.path]
        rows = np.searchsorted(union, us)
        assert np.array_equal(src.rows, rows)
        elsewhere = np.ones(merged.sample_count, bool)
        elsewhere[rows] = False
        for merged_name, key in src.channels.items():
            values = merged.channels[merged_name].values
            assert np.array_equal(values[rows], rec.channels[key].values, equal_nan=True), merged_name
            assert np.isnan(values[elsewhere]).all(), f"{merged_name} invented samples"
        # every channel of the file is somewhere in the merged recording
        assert sorted(src.channels.values()) == sorted(rec.channels)
    # the clash: GPS speed is the standard one, the ECU's is kept under its source's name
    assert merged.channels["speed"].source_name == gps.channels["speed"].source_name
    assert merged.channels["speed [motec]"].source_name == "Vehicle Speed"
    assert not merged.channels["speed [motec]"].standard
    assert merged.channels["rpm"].standard and merged.channels["rpm"].source_name == "Engine RPM"
    meta = json.loads(merged.metadata["merge_sources"])
    assert [m["file"] for m in meta] == ["gps.vbo", "ecu.csv"]
    assert "speed [motec]" in meta[1]["channels"] and "lat" in meta[0]["channels"]


def test_prefer_picks_the_ecu_speed(tmp_path: Path) -> None:
    case = build_case(tmp_path, ecu_format="bosch")
    merged = merge_recordings(*_read(case.gps, case.ecu), prefer={"speed": "secondary"}).recording
    assert merged.channels["speed"].source_name == "vfzg"
    assert merged.channels["speed [vbo]"].source_name == "velocity"


@pytest.mark.parametrize("ecu_format", ["motec", "bosch"])
def test_merged_laps_match_the_original(tmp_path: Path, ecu_format: EcuFormat) -> None:
    case = build_case(tmp_path, ecu_format=ecu_format)
    gps, ecu = _read(case.gps, case.ecu)
    merged = merge_recordings(gps, ecu).recording
    want = analyse_laps(original())
    got = analyse_laps(merged)
    assert got.split.source == want.split.source == "beacon"  # markers from the ECU file
    assert len(got.laps) == len(want.laps) == 16
    _same_laps(want.laps, got.laps, ECU_PERIOD)


@pytest.mark.parametrize("drift_ppm", [0.0, 200.0])
def test_absolute_time_used_and_checked(tmp_path: Path, drift_ppm: float) -> None:
    case = build_case(tmp_path, ecu_format="racechrono", drift_ppm=drift_ppm)
    gps, ecu = _read(case.gps, case.ecu)
    assert ecu.started_at is not None and ecu.started_at.tzinfo is not None
    a = merge_recordings(gps, ecu).alignment
    assert a.method == "absolute+correlation"
    assert a.absolute_offset_s is not None and abs(a.absolute_offset_s - case.offset_s) < 0.01
    assert a.offset_s == a.absolute_offset_s
    assert a.correlation_offset_s is not None and abs(a.correlation_offset_s - case.offset_s) < ECU_PERIOD
    assert abs(a.drift_ppm - drift_ppm) < 20.0
    assert not any("clocks" in w for w in a.warnings)


def test_lying_clock_loses_to_the_correlation(tmp_path: Path) -> None:
    case = build_case(tmp_path, ecu_format="racechrono", drift_ppm=0.0, ecu_clock_error_s=4.0)
    a = merge_recordings(*_read(case.gps, case.ecu)).alignment
    assert a.absolute_offset_s is not None and abs(a.absolute_offset_s - case.offset_s - 4.0) < 0.01
    assert a.method == "correlation"
    assert abs(a.offset_s - case.offset_s) < ECU_PERIOD
    assert any("clocks disagree" in w for w in a.warnings)


def test_manual_offset_is_used(tmp_path: Path) -> None:
    case = build_case(tmp_path, drift_ppm=0.0)
    a = merge_recordings(*_read(case.gps, case.ecu), offset_s=2.5).alignment
    assert a.method == "manual" and a.offset_s == 2.5
    assert a.correlation_offset_s is not None and abs(a.correlation_offset_s - case.offset_s) < ECU_PERIOD


def test_files_that_do_not_overlap_are_refused(tmp_path: Path) -> None:
    n = original().sample_count
    case = build_case(
        tmp_path,
        ecu_format="racechrono",  # absolute UTC times in both files
        gps_rows=slice(0, int(n * 0.45), 2),
        ecu_rows=slice(int(n * 0.55), n),
    )
    with pytest.raises(MergeError) as err:
        merge_recordings(*_read(case.gps, case.ecu))
    msg = str(err.value)
    assert "cannot merge gps.vbo with ecu_racechrono.csv" in msg
    assert "do not overlap in time" in msg


def test_a_manual_offset_that_leaves_no_overlap_is_refused(tmp_path: Path) -> None:
    case = build_case(tmp_path, drift_ppm=0.0)
    with pytest.raises(MergeError, match="do not overlap in time"):
        merge_recordings(*_read(case.gps, case.ecu), offset_s=2000.0)


def test_files_of_different_runs_are_refused(tmp_path: Path) -> None:
    kart = build_case(tmp_path / "kart", ecu_format="motec")
    other = build_case(tmp_path / "other", source=GATES_VBO, ecu_format="motec")
    gps, ecu = _read(kart.gps, other.ecu)
    assert gps.started_at is not None and (ecu.started_at is None or ecu.started_at.tzinfo is None)
    with pytest.raises(MergeError) as err:
        merge_recordings(gps, ecu)
    assert "speed traces do not match well enough" in str(err.value)


def test_no_common_channel_and_no_absolute_time_is_refused(tmp_path: Path) -> None:
    case = build_case(tmp_path, ecu_format="bosch", ecu_speed=False, gps_speed=False)
    with pytest.raises(MergeError, match=r"gps\.vbo with ecu\.txt: no absolute start time"):
        merge_recordings(*_read(case.gps, case.ecu))


def test_merge_files_builds_one_draft_with_two_sources(tmp_path: Path) -> None:
    case = build_case(tmp_path, ecu_format="bosch")
    merged = merge_files([case.gps, case.ecu])
    draft = merged.draft
    assert draft.telemetry.metadata.source_type == "merged"
    assert [s.source_type for s in draft.sources] == ["vbo", "bosch"]
    assert [s.file_name for s in draft.sources] == ["gps.vbo", "ecu.txt"]
    offsets = [s.time_offset_s for s in draft.sources]
    assert abs((offsets[1] - offsets[0]) - case.offset_s) < ECU_PERIOD
    extra = draft.telemetry.metadata.extra
    assert abs(float(extra["merge_offset_s"]) - case.offset_s) < ECU_PERIOD
    assert abs(float(extra["merge_drift_ppm"]) - case.drift_ppm) < 20.0
    assert {c.name for c in draft.sources[1].channels} >= {"rpm", "speed [bosch]"}
    assert {c.name for c in draft.sources[0].channels} >= {"lat", "long", "speed"}
    assert draft.telemetry.total_points == merged.result.recording.sample_count
    assert len(draft.laps) == 16


def _same_laps(want: list[LapRecord], got: list[LapRecord], period: float) -> None:
    assert [g.lap_number for g in got] == [w.lap_number for w in want]
    for w, g in zip(want, got, strict=True):
        if w.lap_time_s is None:
            assert g.lap_time_s is None
        else:
            assert g.lap_time_s is not None and abs(g.lap_time_s - w.lap_time_s) <= period


def test_gates_come_from_the_gps_file(tmp_path: Path) -> None:
    case = build_case(tmp_path, source=GATES_VBO, ecu_format="bosch", offset_rows=123)
    gps, ecu = _read(case.gps, case.ecu)
    assert len(gps.gates) == 2 and not ecu.gates
    result = merge_recordings(gps, ecu)
    assert abs(result.alignment.offset_s - case.offset_s) < 0.2  # the ECU logs at 5 Hz here
    want = analyse_laps(original(GATES_VBO))
    got = analyse_laps(result.recording)
    assert got.split.source == want.split.source == "gate"
    _same_laps(want.laps, got.laps, GPS_PERIOD)
    assert any(lap.lap_time_s is not None for lap in got.laps)


def test_ecu_file_first_still_takes_position_from_the_gps_file(tmp_path: Path) -> None:
    case = build_case(tmp_path, ecu_format="motec", drift_ppm=0.0)
    gps, ecu = _read(case.gps, case.ecu)
    result = merge_recordings(ecu, gps)  # the ECU's clock is the merged clock now
    merged = result.recording
    assert abs(result.alignment.offset_s + case.offset_s) < ECU_PERIOD
    assert merged.channels["speed"].source_name == "velocity"  # the GPS speed
    assert merged.channels["speed [motec]"].source_name == "Vehicle Speed"
    # the UTC start comes from the GPS file, not the MoTeC file's naive local time
    assert merged.started_at is not None and merged.started_at.tzinfo is not None
    assert gps.started_at is not None
    assert abs((merged.started_at - gps.started_at).total_seconds()) < 1e-3
    _same_laps(analyse_laps(original()).laps, analyse_laps(merged).laps, ECU_PERIOD)


def test_without_speed_in_both_the_longitudinal_acceleration_aligns(tmp_path: Path) -> None:
    case = build_case(tmp_path, source=GATES_VBO, ecu_format="bosch", gps_speed=False, ecu_speed=False, drift_ppm=0.0)
    gps, ecu = _read(case.gps, case.ecu)
    assert gps.standard("speed") is None and ecu.standard("speed") is None
    a = merge_recordings(gps, ecu).alignment
    assert a.channel == "glong" and a.method == "correlation"
    assert abs(a.offset_s - case.offset_s) < GPS_PERIOD
