"""Lap finding on synthetic circles with known crossing times (see tests/synthtrack.py)."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import pytest
from synthtrack import Circle, GateKind

from desktop_app.laps import NO_LAPS, analyse_laps, split_laps
from desktop_app.laps.split import Segment
from desktop_app.loggers.recording import Channel, Gate, Recording


def assert_partition(rec: Recording, split_segments: list[Segment], lap_index: npt.NDArray[np.int32]) -> None:
    """Every row in exactly one lap, in order, rows in = rows out."""
    assert sum(s.rows for s in split_segments) == rec.sample_count
    assert lap_index.shape == (rec.sample_count,)
    assert split_segments[0].first_row == 0 and split_segments[-1].end_row == rec.sample_count
    for a, b in zip(split_segments, split_segments[1:]):
        assert a.end_row == b.first_row and b.rows > 0 and a.number < b.number
        assert rec.time[b.first_row - 1] < b.start <= rec.time[b.first_row]


@pytest.mark.parametrize("reading", ["along", "across"])
def test_gate_laps_are_exact_without_noise(reading: str) -> None:
    c = Circle(laps=5.3, rate_hz=10)
    gate = c.gate_along() if reading == "along" else c.gate_across()
    rec = c.recording(gates=[gate])
    a = analyse_laps(rec)
    assert a.split.source == "gate"
    truth = c.crossing_times()
    assert [s.start for s in a.split.segments[1:]] == pytest.approx(truth, abs=1e-4)
    kinds = [lap.kind for lap in a.laps]
    assert kinds == ["out"] + ["flying"] * (len(truth) - 1) + ["partial"]
    for lap in a.laps[1:-1]:
        assert lap.lap_time_s == pytest.approx(c.lap_time, abs=1e-3)
        assert lap.distance_m == pytest.approx(2 * math.pi * c.radius, rel=1e-4)
        assert lap.proposed_valid and lap.reason == ""
        assert lap.max_speed_kmh == pytest.approx(144.0)
    assert a.laps[0].lap_time_s is None and not a.laps[0].proposed_valid
    assert not a.laps[-1].complete and a.laps[-1].lap_time_s is None
    assert_partition(rec, a.split.segments, a.split.lap_index)


def test_crossing_is_interpolated_between_samples() -> None:
    # at 1 Hz the car moves 40 m between fixes; the crossing still lands within a millisecond
    c = Circle(laps=4.2, rate_hz=1.0, speed_ms=40.0, radius=300.0, start_angle=-0.77)
    rec = c.recording(gates=[c.gate_along(angle=0.3)])
    split = split_laps(rec)
    starts = [s.start for s in split.segments[1:]]
    assert starts == pytest.approx(c.crossing_times(0.3), abs=2e-3)
    # and none of them is on a sample: sub-sample accuracy is real
    assert all(abs(t - round(t)) > 0.01 for t in starts)


def test_noisy_gps_gives_lap_times_within_fifty_ms() -> None:
    c = Circle(laps=8.5, rate_hz=25, noise_m=0.3)
    a = analyse_laps(c.recording(gates=[c.gate_along(angle=1.0)]))
    flying = [lap for lap in a.laps if lap.kind == "flying"]
    assert len(flying) == len(c.crossing_times(1.0)) - 1 == 8
    for lap in flying:
        assert lap.lap_time_s == pytest.approx(c.lap_time, abs=0.05)
        # noise lengthens an integrated path a little, never by a percent
        assert lap.distance_m == pytest.approx(2 * math.pi * c.radius, rel=0.01)
        assert lap.proposed_valid


def test_gate_off_the_driven_line_by_ten_metres_is_still_crossed() -> None:
    c = Circle(laps=3.5)
    a = analyse_laps(c.recording(gates=[c.gate_along(offset_m=10.0)]))
    assert a.split.source == "gate" and len(a.laps) == 5


def test_stale_gate_falls_back_to_the_next_source_with_a_note() -> None:
    c = Circle(laps=3.5)
    beacons = [10.0, 40.0, 70.0]
    rec = c.recording(gates=[c.gate_along(offset_m=4000.0, name="old track")], beacons=beacons)
    a = analyse_laps(rec)
    assert a.split.source == "beacon"
    assert [s.start for s in a.split.segments[1:]] == beacons
    assert any("'old track'" in n and "never crossed" in n for n in a.split.notes)
    assert [lap.lap_time_s for lap in a.laps] == [None, 30.0, 30.0, None]


def test_stale_gate_without_other_source_uses_the_automatic_line() -> None:
    c = Circle(laps=4.5)
    a = analyse_laps(c.recording(gates=[c.gate_along(offset_m=100.0)]))
    assert a.split.source == "auto"
    # wherever the automatic line is, the car crosses it every lap_time seconds
    first = a.split.segments[1].start
    line_angle = c.start_angle + c.speed_ms * first / c.radius
    truth = c.crossing_times(line_angle)
    assert [s.start for s in a.split.segments[1:]] == pytest.approx(truth, abs=1e-3)
    flying = [lap for lap in a.laps if lap.kind == "flying"]
    assert len(flying) == len(truth) - 1 >= 3
    assert all(lap.lap_time_s == pytest.approx(c.lap_time, abs=1e-3) for lap in flying)


def test_automatic_line_on_a_noisy_loop() -> None:
    c = Circle(laps=6.2, rate_hz=20, noise_m=1.0, radius=150.0, speed_ms=30.0)
    a = analyse_laps(c.recording())
    assert a.split.source == "auto"
    flying = [lap for lap in a.laps if lap.kind == "flying"]
    assert len(flying) in (5, 6)
    assert all(lap.lap_time_s == pytest.approx(c.lap_time, abs=0.05) for lap in flying)


def straight_recording(back_and_forth: bool) -> Recording:
    """A drag run (or an out-and-back road): 2 km straight north, maybe driven back."""
    v, rate = 30.0, 10.0
    t = np.arange(0, 2000 / v, 1 / rate)
    north = v * t
    if back_and_forth:
        t = np.concatenate([t, t[-1] + 1 / rate + t])
        north = np.concatenate([north, north[-1] - north])
    east = np.zeros_like(north)
    lat = 45.0 + np.degrees(north / 6_367_000.0)
    lon = 7.0 + np.degrees(east / 4_500_000.0)
    chans = {
        "lat": Channel("lat", "lat", "deg", True, lat),
        "long": Channel("long", "long", "deg", True, lon),
        "speed": Channel("speed", "speed", "km/h", True, np.full(t.size, v * 3.6)),
    }
    return Recording(path=__import__("pathlib").Path("run.vbo"), format="vbo", time=t, channels=chans)


@pytest.mark.parametrize("back_and_forth", [False, True])
def test_no_loop_means_no_laps_never_invented(back_and_forth: bool) -> None:
    rec = straight_recording(back_and_forth)
    a = analyse_laps(rec)
    assert a.split.source == "none"
    assert len(a.laps) == 1 and a.laps[0].lap_number == 0 and a.laps[0].kind == "partial"
    assert a.laps[0].samples == rec.sample_count
    assert NO_LAPS in a.split.notes and a.laps[0].reason == "no laps found"
    assert a.laps[0].distance_m == pytest.approx(4000.0 if back_and_forth else 2000.0, rel=2e-3)


def test_standing_car_is_one_lap_zero_without_distance_creep() -> None:
    n = 3000
    rng = np.random.default_rng(5)
    lat = 45.0 + rng.normal(0, 1e-5, n)  # ~1 m of GPS wander while parked
    lon = 7.0 + rng.normal(0, 1e-5, n)
    chans = {
        "lat": Channel("lat", "lat", "deg", True, lat),
        "long": Channel("long", "long", "deg", True, lon),
        "speed": Channel("speed", "speed", "km/h", True, np.full(n, 0.3)),
    }
    rec = Recording(path=__import__("pathlib").Path("p.vbo"), format="vbo", time=np.arange(n) / 10.0, channels=chans)
    a = analyse_laps(rec)
    assert a.split.source == "none" and len(a.laps) == 1
    assert a.laps[0].distance_m == 0.0


def test_start_and_finish_pairs() -> None:
    # a lap runs from a Start crossing to the next Finish crossing (here half a circle on)
    c = Circle(laps=3.6, start_angle=-0.5)
    rec = c.recording(gates=[c.gate_along(0.0, "start"), c.gate_along(math.pi, "finish")])
    a = analyse_laps(rec)
    assert a.split.source == "gate"
    starts, finishes = c.crossing_times(0.0), c.crossing_times(math.pi)
    assert len(starts) == len(finishes) == 4 and starts[0] < finishes[0]
    timed = [lap for lap in a.laps if lap.complete]
    assert [lap.lap_time_s for lap in timed] == pytest.approx([f - s for s, f in zip(starts, finishes)], abs=1e-3)
    assert all(lap.lap_time_s == pytest.approx(c.lap_time / 2, abs=1e-3) for lap in timed)
    # the stretches from a Finish to the next Start are transfers, not laps; the data
    # ends at speed shortly after the last Finish: a partial lap
    assert [lap.kind for lap in a.laps] == ["out"] + ["flying", "in"] * 3 + ["flying", "partial"]
    assert_partition(rec, a.split.segments, a.split.lap_index)


def test_out_and_back_with_a_finish_just_past_the_start() -> None:
    # docs/formats.md#vbo-gates (racechrono_2023Rd3_1.vbo): the Finish is 15 m past the Start and is
    # crossed right after it on the way out; the lap ends when the car comes back over it
    rec = straight_recording(back_and_forth=True)
    lat0 = 45.0

    def gate(kind: GateKind, north: float) -> Gate:
        a = lat0 + math.degrees((north - 3.0) / 6_367_000.0)
        b = lat0 + math.degrees((north + 3.0) / 6_367_000.0)
        return Gate(kind, a, 7.0, b, 7.0)

    rec.gates = [gate("start", 100.0), gate("finish", 115.0)]
    a = analyse_laps(rec)
    assert a.split.source == "gate"
    assert [lap.kind for lap in a.laps] == ["out", "flying", "partial"]
    v = 30.0
    turn = float(rec.time[rec.time.size // 2 - 1])  # the U-turn: the car is at v * turn metres
    back_at_finish = turn + 0.1 + (v * turn - 115.0) / v
    assert a.laps[1].start_offset_s == pytest.approx(100.0 / v, abs=1e-3)
    assert a.laps[1].lap_time_s == pytest.approx(back_at_finish - 100.0 / v, abs=1e-3)
    assert a.laps[1].distance_m == pytest.approx(2 * v * turn - 215.0, rel=1e-3)


def test_splits_give_sectors_in_file_order() -> None:
    c = Circle(laps=3.3, start_angle=-0.3)
    gates = [
        c.gate_along(0.0, "start"),
        c.gate_along(math.pi / 2, "split", name="S1"),
        c.gate_along(3 * math.pi / 2, "split", name="S2"),
    ]
    a = analyse_laps(c.recording(gates=gates))
    flying = [lap for lap in a.laps if lap.kind == "flying"]
    assert len(flying) == len(c.crossing_times(0.0)) - 1 == 3
    q = c.lap_time / 4
    for lap in flying:
        assert lap.sectors_s == pytest.approx([q, 2 * q, q], abs=1e-3)
        assert sum(lap.sectors_s) == pytest.approx(lap.lap_time_s, abs=1e-9)
    assert a.laps[0].sectors_s == [] and a.laps[-1].sectors_s == []


def test_dropout_makes_the_lap_invalid_with_its_reason() -> None:
    c = Circle(laps=5.5, start_angle=-0.5, dropouts=[(60.0, 63.5)])
    a = analyse_laps(c.recording(gates=[c.gate_along()]))
    by_number = {lap.lap_number: lap for lap in a.laps}
    hit = [lap for lap in a.laps if lap.start_offset_s < 60.0 < lap.start_offset_s + (lap.lap_time_s or 0)]
    assert len(hit) == 1 and hit[0].kind == "flying"
    assert not hit[0].proposed_valid and "GPS dropout of 3.6 s" in hit[0].reason
    others = [lap for lap in a.laps if lap.kind == "flying" and lap is not hit[0]]
    assert others and all(lap.proposed_valid for lap in others)
    # the lap time across the dropout is still right: the crossings are outside it
    assert hit[0].lap_time_s == pytest.approx(c.lap_time, abs=1e-3)
    assert by_number[0].kind == "out"


def test_beacons_outside_the_recording_are_ignored_and_the_last_is_the_end() -> None:
    c = Circle(laps=3.0)
    rec = c.recording(beacons=[-5.0, 30.0, 60.0, c.duration + 1.0])
    a = analyse_laps(rec)
    assert a.split.source == "beacon" and [s.start for s in a.split.segments] == [0.0, 30.0, 60.0]


def test_empty_beacon_field_falls_through() -> None:
    c = Circle(laps=3.2)
    a = analyse_laps(c.recording(beacons=[]))
    assert a.split.source == "auto"
    assert "the beacon field holds no lap inside the recording" in a.split.notes


def counter_recording(values: list[float], rate: float = 1.0) -> Recording:
    t = np.arange(len(values)) / rate
    chans = {"Lap_Number": Channel("Lap_Number", "Lap_Number", "", False, np.array(values, np.float64))}
    return Recording(
        path=__import__("pathlib").Path("c.vbo"), format="vbo", time=t, channels=chans, lap_counter="Lap_Number"
    )


def test_counter_increments_are_lap_starts_and_glitches_are_ignored() -> None:
    nan = math.nan
    # leading empty rows = lap 0; a drop to 0 and back (HD2) and a one-row spike are ignored
    values = [nan, nan, 1, 1, 1, 0, 0, 1, 2, 2, 9, 2, 2, 3, 3, nan, 3]
    rec = counter_recording(values)
    split = split_laps(rec)
    assert split.source == "counter"
    assert [(s.number, s.first_row) for s in split.segments] == [(0, 0), (1, 2), (2, 8), (3, 13)]
    assert split.lap_index.tolist() == [0, 0] + [1] * 6 + [2] * 5 + [3] * 4
    a = analyse_laps(rec)
    assert [lap.kind for lap in a.laps] == ["out", "flying", "flying", "in"]
    assert [lap.lap_time_s for lap in a.laps] == [None, 6.0, 5.0, None]


def test_counter_that_starts_inside_a_lap_keeps_the_file_numbers() -> None:
    rec = counter_recording([8, 8, 9, 9, 9, 10, 10])
    a = analyse_laps(rec)
    assert [(lap.lap_number, lap.kind, lap.samples) for lap in a.laps] == [
        (8, "partial", 2),
        (9, "flying", 3),
        (10, "in", 2),
    ]


def test_counter_that_never_counts_is_no_lap_source() -> None:
    split = split_laps(counter_recording([1, 1, 0, 0, 1, 1]))
    assert split.source == "none" and len(split.segments) == 1
    assert "never counts a new lap" in split.notes[0]


def test_gates_win_over_beacons_and_counter() -> None:
    c = Circle(laps=3.5)
    rec = c.recording(gates=[c.gate_along()], beacons=[12.0, 50.0])
    assert split_laps(rec).source == "gate"


def test_pit_stop_inside_a_timed_lap() -> None:
    c = Circle(laps=4.5)
    rec = c.recording(beacons=[20.0, 50.0, 80.0, 110.0])
    speed = rec.channels["speed"].values
    speed[(rec.time > 60.0) & (rec.time < 70.0)] = 0.0  # stands 10 s inside lap 2
    a = analyse_laps(rec)
    lap2 = a.laps[2]
    assert lap2.kind == "pit" and not lap2.proposed_valid and "stopped for 10 s" in lap2.reason
    assert lap2.min_speed_kmh == 0.0


def test_no_lap_and_no_distance_across_a_paused_recording() -> None:
    # RaceChrono: recording paused at 70 s and resumed 10 minutes later somewhere else on
    # the track (fragment 0 -> 1); docs/formats.md#racechrono-fragments: never join laps or distance across it
    c = Circle(laps=5.5, start_angle=-0.5)
    rec = c.recording(gates=[c.gate_along()])
    after = rec.time >= 70.0
    frag = np.where(after, 1.0, 0.0)
    rec.channels["fragment_id"] = Channel("fragment_id", "fragment_id", "", False, frag)
    rec.time = np.where(after, rec.time + 600.0, rec.time)
    # and the car was moved: the resumed data starts 1 rad further round
    ang = c.start_angle + c.speed_ms * (rec.time - np.where(after, 600.0 - 1.0 * c.radius / c.speed_ms, 0.0)) / c.radius
    from synthtrack import local_to_latlon

    lat, lon = local_to_latlon(c.radius * np.cos(ang), c.radius * np.sin(ang))
    rec.channels["lat"].values[:] = lat
    rec.channels["long"].values[:] = lon
    a = analyse_laps(rec)
    assert a.split.source == "gate"
    assert any("paused" in n for n in a.split.notes)
    resumed = int(np.flatnonzero(after)[0])
    seg_at = [s for s in a.split.segments if s.first_row == resumed]
    assert len(seg_at) == 1 and seg_at[0].after_pause
    for lap, seg in zip(a.laps, a.split.segments):
        assert not (seg.first_row < resumed < seg.end_row)  # nothing straddles the pause
        if lap.complete:
            assert lap.lap_time_s == pytest.approx(c.lap_time, abs=1e-3)
            assert lap.distance_m == pytest.approx(2 * math.pi * c.radius, rel=1e-4)
    k = a.split.segments.index(seg_at[0])
    assert a.laps[k].kind == "out" and a.laps[k - 1].kind == "in"
    # the distance is what was driven: no 1-rad chord across the pause
    driven = c.speed_ms * (rec.time[-1] - 600.0 - 0.1)
    total = sum(lap.distance_m for lap in a.laps if lap.distance_m is not None)
    assert total == pytest.approx(driven, rel=1e-3)


@pytest.mark.parametrize("with_gate", [True, False])
def test_high_rate_jitter_misses_no_crossing(with_gate: bool) -> None:
    # at 100 Hz a step is 40 cm, barely more than the jitter: the direction of travel at a
    # crossing must come from a longer baseline, or crossings get lost
    c = Circle(laps=12.3, rate_hz=100, jitter_m=0.2, noise_m=0.3)
    rec = c.recording(gates=[c.gate_along(0.5)] if with_gate else [])
    a = analyse_laps(rec)
    assert a.split.source == ("gate" if with_gate else "auto")
    line_angle = c.start_angle + c.speed_ms * a.split.segments[1].start / c.radius
    flying = [lap for lap in a.laps if lap.kind == "flying"]
    assert len(flying) == len(c.crossing_times(line_angle)) - 1 >= 11
    assert all(lap.lap_time_s == pytest.approx(c.lap_time, abs=0.05) for lap in flying)
