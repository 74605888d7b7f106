"""Property: whatever the lap source, the laps are exactly the recording, in order."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from synthtrack import Circle

from desktop_app.importing import draft_from_recording
from desktop_app.laps import split_laps
from desktop_app.loggers.recording import Channel, Recording


@st.composite
def recordings(draw: st.DrawFn) -> Recording:
    n = draw(st.integers(1, 400))
    steps = draw(st.lists(st.sampled_from([0.0, 0.01, 0.02, 0.05, 0.5, 3.0]), min_size=n - 1, max_size=n - 1))
    t = np.concatenate(([0.0], np.cumsum(steps))) if n > 1 else np.zeros(1)
    end = float(t[-1])
    beacons = draw(st.one_of(st.none(), st.lists(st.floats(-5.0, end + 5.0), max_size=12)))
    counter = draw(st.lists(st.sampled_from([np.nan, 0.0, 1.0, 2.0, 3.0, 7.0]), min_size=n, max_size=n))
    value = np.arange(n, dtype=np.float64)
    chans = {
        "lap": Channel("lap", "lap", "", False, np.array(counter, np.float64)),
        "value": Channel("value", "value", "", False, value),
    }
    if draw(st.booleans()):  # a paused-and-resumed recording (RaceChrono fragments)
        frag = np.sort(np.array(draw(st.lists(st.sampled_from([0.0, 1.0, 2.0]), min_size=n, max_size=n))))
        chans["fragment_id"] = Channel("fragment_id", "fragment_id", "", False, frag)
    rec = Recording(Path("x.csv"), "motec", t, chans, beacons=beacons)
    rec.lap_counter = draw(st.sampled_from([None, "lap"]))
    return rec


def check_partition(rec: Recording) -> None:
    split = split_laps(rec)
    segs = split.segments
    n = rec.sample_count
    assert sum(s.rows for s in segs) == n
    assert segs[0].first_row == 0 and segs[-1].end_row == n
    assert all(a.end_row == b.first_row and b.rows > 0 for a, b in zip(segs, segs[1:]))
    numbers = [s.number for s in segs]
    assert numbers == sorted(set(numbers))
    assert split.lap_index.shape == (n,)
    assert np.array_equal(split.lap_index, np.repeat(numbers, [s.rows for s in segs]))
    draft = draft_from_recording(rec, sha256="0" * 64, file_size=1)
    laps = draft.telemetry.laps
    assert [lap.lap_number for lap in laps] == [lap.lap_number for lap in draft.laps] == numbers
    assert sum(lap.samples for lap in draft.laps) == draft.telemetry.total_points == n
    # every sample's own value comes back, in order, and each lap's time restarts at its start
    for name in rec.channels:
        joined = np.concatenate([lap.channels[name] for lap in laps])
        assert np.array_equal(joined, rec.channels[name].values, equal_nan=True)
    for seg, lap in zip(segs, laps):
        assert np.allclose(lap.channels["time"] + seg.start, rec.time[seg.first_row : seg.end_row])
        assert np.all(lap.channels["time"] >= -1e-9)


@settings(max_examples=150, deadline=None)
@given(recordings())
def test_laps_partition_any_recording(rec: Recording) -> None:
    check_partition(rec)


@settings(max_examples=25, deadline=None)
@given(
    laps=st.floats(0.2, 6.0),
    rate=st.sampled_from([1.0, 5.0, 10.0, 25.0]),
    start=st.floats(-6.0, 0.0),
    noise=st.sampled_from([0.0, 0.5, 2.0]),
    gate=st.sampled_from(["none", "along", "across", "stale"]),
)
def test_laps_partition_driven_circles(laps: float, rate: float, start: float, noise: float, gate: str) -> None:
    c = Circle(laps=laps, rate_hz=rate, start_angle=start, noise_m=noise)
    gates = {
        "none": [],
        "along": [c.gate_along(0.4)],
        "across": [c.gate_across(2.0)],
        "stale": [c.gate_along(0.0, offset_m=900.0)],
    }[gate]
    check_partition(c.recording(gates=gates))
