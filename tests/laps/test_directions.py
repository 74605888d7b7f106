"""Direction-aware timing lines: a pass the other way is not a lap, and splits follow suit."""

from __future__ import annotations

import math

import numpy as np
import pytest
from polytrack import PolyTrack, paperclip
from synthtrack import Circle

from desktop_app.laps import analyse_laps
from desktop_app.laps.distance import gps_fix_mask
from desktop_app.laps.gates import crossings, gate_crossings, lines_from_gate
from desktop_app.loggers.recording import Gate, Recording


def all_passes(rec: Recording, gate: Gate) -> int:
    """Crossings of the gate's along-travel reading in both directions (what two-way gates saw)."""
    lat, lon = rec.standard("lat"), rec.standard("long")
    assert lat is not None and lon is not None
    fix = gps_fix_mask(rec)
    assert fix is not None
    return len(crossings(rec.time, lat, lon, fix, lines_from_gate(gate)[0]))


@pytest.mark.parametrize("reverse", [False, True])
def test_return_section_beside_the_gate_is_ignored_and_reported(reverse: bool) -> None:
    # the return leg runs 16 m beside the start line, the other way, inside its capture radius
    track = PolyTrack(paperclip(width=16.0), laps=5.4, reverse=reverse)
    gate = track.gate_along(0.0, 0.0, name="S/F")
    rec = track.recording(gates=[gate])
    truth = track.passes(0.0, 0.0)
    back = track.passes(16.0, 0.0)
    assert len(truth) >= 5 and len(back) >= 5
    assert all_passes(rec, gate) == len(truth) + len(back)  # the setup really has both
    a = analyse_laps(rec)
    assert a.split.source == "gate"
    assert [s.start for s in a.split.segments[1:]] == pytest.approx(truth, abs=1e-3)
    flying = [lap for lap in a.laps if lap.kind == "flying"]
    assert len(flying) == len(truth) - 1
    assert all(lap.lap_time_s == pytest.approx(track.lap_time, abs=1e-3) for lap in flying)
    assert a.laps[0].kind == "out" and a.laps[0].start_offset_s + 0.0 == 0.0
    assert a.laps[1].start_offset_s == pytest.approx(truth[0], abs=1e-3)
    note = next(n for n in a.split.notes if "the other way ignored" in n)
    assert note.startswith(f"start gate 'S/F': {len(back)} pass(es) the other way ignored")
    assert f"{back[0]:.1f}" in note


def test_both_driving_directions_give_the_same_laps() -> None:
    ways = []
    for reverse in (False, True):
        track = PolyTrack(paperclip(width=16.0), laps=4.6, reverse=reverse, start_m=120.0)
        gate = PolyTrack(paperclip(width=16.0)).gate_along(0.0, 0.0)
        rec = track.recording(gates=[gate])
        lat, lon = rec.standard("lat"), rec.standard("long")
        fix = gps_fix_mask(rec)
        assert lat is not None and lon is not None and fix is not None
        found = gate_crossings(rec.time, lat, lon, fix, gate)
        assert found is not None and len(found.ignored) >= 3
        a = analyse_laps(rec)
        ways.append(found.forward)
        assert [s.start for s in a.split.segments[1:]] == pytest.approx(track.passes(0.0, 0.0), abs=1e-3)
        flying = [lap.lap_time_s for lap in a.laps if lap.kind == "flying"]
        assert len(flying) == len(track.passes(0.0, 0.0)) - 1 >= 3
        assert flying == pytest.approx([track.lap_time] * len(flying), abs=1e-3)
    # the same gate (its points in the order the first car drove): crossed along its
    # direction one way round, against it the other
    assert ways == [True, False]


def test_split_lines_with_a_return_pass_give_every_lap_its_sectors() -> None:
    track = PolyTrack(paperclip(width=16.0), laps=5.3)
    gates = [
        track.gate_along(0.0, 0.0, "start"),
        track.gate_along(16.0, 100.0, "split", name="back straight"),  # the outbound leg passes 16 m away
        track.gate_along(0.0, 150.0, "split", name="before the hairpin"),
    ]
    a = analyse_laps(track.recording(gates=gates))
    flying = [lap for lap in a.laps if lap.kind == "flying"]
    assert len(flying) == len(track.passes(0.0, 0.0)) - 1 >= 4
    s0 = track.distance_of(0.0, 0.0)
    marks = sorted(track.distance_of(e, n) - s0 for e, n in ((16.0, 100.0), (0.0, 150.0)))
    expect = np.diff([0.0, *marks, track.length]) / track.speed_ms
    for lap in flying:
        assert lap.sectors_s == pytest.approx(expect.tolist(), abs=2e-3)
        assert sum(lap.sectors_s) == pytest.approx(lap.lap_time_s, abs=1e-9)
    assert a.split.sector_source == "file"
    assert any("split gate 'back straight'" in n and "the other way ignored" in n for n in a.split.notes)


def test_split_missed_in_a_gps_dropout_costs_that_lap_its_sectors_only() -> None:
    c = Circle(laps=5.3, start_angle=-0.3)
    split_at = c.crossing_times(math.pi / 2)
    # the car crosses S1 in the dark once: 8 s without a fix, 320 m, too long a step to
    # interpolate a crossing on
    hole = (split_at[2] - 4.0, split_at[2] + 4.0)
    c.dropouts = [hole]
    rec = c.recording(
        gates=[
            c.gate_along(0.0, "start"),
            c.gate_along(math.pi / 2, "split", name="S1"),
            c.gate_along(math.pi, "split", name="S2"),
        ],
    )
    a = analyse_laps(rec)
    timed = [lap for lap in a.laps if lap.complete]
    assert len(timed) == len(c.crossing_times()) - 1 >= 4
    hit = [lap for lap in timed if lap.start_offset_s < hole[0] < lap.start_offset_s + (lap.lap_time_s or 0)]
    assert len(hit) == 1 and hit[0].sectors_s == [] and "GPS dropout" in hit[0].reason
    q = c.lap_time / 4
    for lap in timed:
        if lap is not hit[0]:
            assert lap.sectors_s == pytest.approx([q, q, 2 * q], abs=1e-3)
            assert sum(lap.sectors_s) == pytest.approx(lap.lap_time_s, abs=1e-9)


def test_capture_radius_follows_the_gate_length() -> None:
    c = Circle(laps=3.5)

    def radial(inner: float, outer: float) -> Gate:
        lat1, lon1 = c.point(0.0, inner)
        lat2, lon2 = c.point(0.0, outer)
        return Gate("start", lat1, lon1, lat2, lon2)

    long_gate = radial(-20.0, 80.0)  # 100 m long, its midpoint 30 m outside the driven line
    assert lines_from_gate(long_gate)[1].capture_m == pytest.approx(55.0, abs=0.01)
    a = analyse_laps(c.recording(gates=[long_gate]))
    assert a.split.source == "gate" and len(a.laps) == len(c.crossing_times()) + 1
    short_gate = radial(20.0, 60.0)  # 40 m long, all of it outside the track, 40 m from it
    assert lines_from_gate(short_gate)[1].capture_m == pytest.approx(25.0, abs=0.01)
    b = analyse_laps(c.recording(gates=[short_gate]))
    assert b.split.source == "auto"
    assert any("is never crossed" in n for n in b.split.notes)


def test_standing_on_the_line_with_gps_jitter_is_no_crossing() -> None:
    # the car waits 60 s parked 2 m behind the start line, the fix wandering a metre around
    # it and across the line, then drives off and laps: the wander neither makes laps nor
    # outvotes the direction of travel
    c = Circle(laps=3.4, start_angle=-0.01)
    rec = c.recording(gates=[c.gate_along()])
    n = rec.sample_count
    rng = np.random.default_rng(3)
    wait = 600  # 60 s at 10 Hz
    lat = rec.channels["lat"].values
    lon = rec.channels["long"].values
    lat0, lon0 = c.point(-0.01)
    jitter_lat = lat0 + rng.normal(0.0, 1.0 / 111_000.0, wait)
    jitter_lon = lon0 + rng.normal(0.0, 1.0 / 78_600.0, wait)
    jitter_lat[-1], jitter_lon[-1] = lat0, lon0  # where it drives off from
    rec.time = np.concatenate((np.arange(wait) / 10.0, rec.time + wait / 10.0))
    rec.channels["lat"].values = np.concatenate((jitter_lat, lat))
    rec.channels["long"].values = np.concatenate((jitter_lon, lon))
    for key in ("speed", "rpm", "Water_Temp"):
        v = rec.channels[key].values
        rec.channels[key].values = np.concatenate((np.full(wait, 0.0 if key == "speed" else v[0]), v))
    rec.check()
    assert rec.sample_count == n + wait
    lat_all, lon_all = rec.standard("lat"), rec.standard("long")
    assert lat_all is not None and lon_all is not None
    fix = gps_fix_mask(rec)
    assert fix is not None
    line = lines_from_gate(c.gate_along())[0]
    assert len(crossings(rec.time, lat_all, lon_all, fix, line)) > 20  # the wander does cross it
    raw = crossings(rec.time, lat_all, lon_all, fix, line, rec.standard("speed"))
    assert len(raw) == len(c.crossing_times())  # but the car stands: no crossing
    a = analyse_laps(rec)
    truth = [t + wait / 10.0 for t in c.crossing_times()]
    assert [s.start for s in a.split.segments[1:]] == pytest.approx(truth, abs=1e-3)
    assert not any("the other way" in n for n in a.split.notes)
