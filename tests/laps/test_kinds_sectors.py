"""Lap numbering and kinds (counters, the pit lane), automatic sectors and the ideal lap."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from polytrack import PolyTrack, paperclip
from synthtrack import Circle

from desktop_app.laps import analyse_laps, ideal_lap, split_laps
from desktop_app.laps.geodesy import to_local
from desktop_app.loggers.recording import Channel, Recording
from storage.types import LapRecord


def counter_recording(values: list[float]) -> Recording:
    t = np.arange(len(values), dtype=np.float64)
    chans = {"Lap": Channel("Lap", "Lap", "", False, np.array(values, np.float64))}
    return Recording(Path("run.txt"), "bosch", t, chans, lap_counter="Lap")


def test_counter_starting_at_one_makes_its_first_lap_the_out_lap() -> None:
    # WinDarab numbers the out-lap 1: here it is lap 0, and the laps that follow 1, 2
    rec = counter_recording([1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4])
    split = split_laps(rec)
    assert split.source == "counter"
    assert [(s.number, s.first_row, s.rows) for s in split.segments] == [(0, 0, 3), (1, 3, 4), (2, 7, 4), (3, 11, 2)]
    assert split.lap_index.tolist() == [0] * 3 + [1] * 4 + [2] * 4 + [3] * 2
    a = analyse_laps(rec)
    assert [(lap.lap_number, lap.kind, lap.lap_time_s) for lap in a.laps] == [
        (0, "out", None),
        (1, "flying", 4.0),
        (2, "flying", 4.0),
        (3, "in", None),
    ]
    assert any("starts at 1" in n for n in split.notes)


def test_counter_starting_at_zero_keeps_its_numbers() -> None:
    a = analyse_laps(counter_recording([0, 0, 1, 1, 1, 2, 2, 2, 3]))
    assert [(lap.lap_number, lap.kind) for lap in a.laps] == [(0, "out"), (1, "flying"), (2, "flying"), (3, "in")]


def pit_track() -> PolyTrack:
    return PolyTrack(paperclip(straight=600.0, width=40.0), laps=6.3, speed_ms=30.0, start_m=10.0)


def test_laps_into_and_out_of_the_pit_lane_are_in_and_out_laps() -> None:
    track = pit_track()
    line = track.passes(0.0, 0.0)
    # lap 2 ends in the pit lane (20 s at 50 km/h either side of the line, no stop), lap 3
    # starts there; lap 4 drives through the pit lane in its middle
    visits = [(line[2] - 20.0, line[2] + 20.0, 50.0), (line[3] + 10.0, line[3] + 28.0, 45.0)]
    track.slow = visits
    rec = track.recording(gates=[track.gate_along(0.0, 0.0)])
    a = analyse_laps(rec)
    kinds = {lap.lap_number: lap.kind for lap in a.laps}
    assert kinds[0] == "out"
    assert kinds[1] == "flying"
    assert kinds[2] == "in" and kinds[3] == "out" and kinds[4] == "pit"
    assert kinds[5] == "flying"
    by = {lap.lap_number: lap for lap in a.laps}
    assert by[2].reason == "in-lap (ends in the pit lane)" and not by[2].proposed_valid
    assert by[3].reason == "out-lap (starts in the pit lane)" and not by[3].proposed_valid
    assert by[4].reason == "through the pit lane" and not by[4].proposed_valid
    # the pit laps are still timed at the line
    assert by[3].lap_time_s == pytest.approx(track.lap_time, abs=1e-3)
    assert by[1].proposed_valid and by[5].proposed_valid


def test_a_slow_corner_is_not_the_pit_lane() -> None:
    track = pit_track()
    line = track.passes(0.0, 0.0)
    track.slow = [(line[2] - 6.0, line[2] + 6.0, 40.0)]  # 12 s slow: under the pit-visit length
    a = analyse_laps(track.recording(gates=[track.gate_along(0.0, 0.0)]))
    assert all(lap.kind == "flying" for lap in a.laps[1:-1])


def test_automatic_sectors_at_equal_distances_of_the_fastest_valid_lap() -> None:
    c = Circle(laps=5.5, start_angle=-0.5, noise_m=0.3, rate_hz=20)
    a = analyse_laps(c.recording(gates=[c.gate_along()]))
    assert a.split.sector_source == "auto"
    auto = [p for p in a.split.lines if p.origin == "auto"]
    assert [p.kind for p in auto] == ["split", "split"] and all(p.line.one_way for p in auto)
    # the lines sit a third and two thirds round the circle from the start line (angle 0)
    for p, angle in zip(auto, (2 * math.pi / 3, 4 * math.pi / 3)):
        e, n = to_local(np.array([p.line.lat]), np.array([p.line.lon]), 45.0, 7.0)
        assert math.atan2(float(n[0]), float(e[0])) % (2 * math.pi) == pytest.approx(angle, abs=0.01)
    flying = [lap for lap in a.laps if lap.kind == "flying"]
    assert len(flying) == len(c.crossing_times()) - 1 >= 4
    for lap in flying:
        assert len(lap.sectors_s) == 3
        assert lap.sectors_s == pytest.approx([c.lap_time / 3] * 3, abs=0.05)
        assert sum(lap.sectors_s) == pytest.approx(lap.lap_time_s, abs=1e-9)
    assert a.laps[0].sectors_s == [] and a.laps[-1].sectors_s == []
    best = [min(lap.sectors_s[i] for lap in flying if lap.proposed_valid) for i in range(3)]
    assert a.ideal_lap_s == pytest.approx(sum(best), abs=1e-12)
    valid = [lap.lap_time_s for lap in flying if lap.proposed_valid]
    assert a.ideal_lap_s is not None and all(t is not None for t in valid)
    assert a.ideal_lap_s <= min(t for t in valid if t is not None)


def record(number: int, sectors: list[float], valid: bool = True, complete: bool = True) -> LapRecord:
    return LapRecord(
        lap_number=number,
        kind="flying",
        start_offset_s=10.0 * number,
        lap_time_s=sum(sectors) if complete else None,
        distance_m=None,
        samples=10,
        max_speed_kmh=None,
        min_speed_kmh=None,
        sectors_s=sectors,
        proposed_valid=valid,
        reason="" if valid else "cut",
        complete=complete,
    )


def test_ideal_lap_is_the_best_sectors_of_valid_complete_laps_only() -> None:
    laps = [
        record(1, [20.0, 30.0, 25.0]),
        record(2, [21.0, 29.0, 24.5]),
        record(3, [15.0, 15.0, 15.0], valid=False),  # a cut lap: never the ideal
        record(4, [19.0, 31.0]),  # a lap missing a sector
        record(5, [22.0, 28.5, 26.0]),
    ]
    assert ideal_lap(laps) == pytest.approx(20.0 + 28.5 + 24.5)
    laps[0].user_valid = False  # the engineer's decision counts, not only the proposal
    assert ideal_lap(laps) == pytest.approx(21.0 + 28.5 + 24.5)
    assert ideal_lap([record(1, [])]) is None
    assert ideal_lap([record(1, [20.0, 30.0], valid=False)]) is None


def test_no_gps_no_automatic_sectors() -> None:
    a = analyse_laps(counter_recording([0, 0, 1, 1, 1, 2, 2, 2, 3]))
    assert a.split.sector_source == "none" and a.ideal_lap_s is None
    assert all(lap.sectors_s == [] for lap in a.laps)
