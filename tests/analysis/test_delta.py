"""Delta time on real laps: compared at equal (normalised) track position."""

from __future__ import annotations

import numpy as np
import pytest
from reallaps import AIM, RACECHRONO, session

from desktop_app.analysis.delta import delta_time, monotonic_profile


@pytest.mark.parametrize("relative", [AIM, RACECHRONO, "vbo/racechrono_2023Rd3_1.vbo"])
def test_delta_at_the_finish_line_is_the_lap_time_difference(relative: str) -> None:
    real = session(relative)
    laps = {lap.lap_number: lap for lap in real.laps}
    timed = [r for r in real.records if r.lap_time_s is not None and r.kind == "flying"]
    assert timed, f"{relative}: no flying lap"
    best = min(timed, key=lambda r: r.lap_time_s or 0.0)
    ref = laps[best.lap_number]
    ref_step = float(np.nanmax(np.diff(ref.channels["time"])))
    for record in timed:
        assert record.lap_time_s is not None and best.lap_time_s is not None
        lap = laps[record.lap_number]
        trace = delta_time(lap, ref)
        # the last samples are at most one sample period before each lap's finish line
        step = max(ref_step, float(np.nanmax(np.diff(lap.channels["time"]))))
        want = record.lap_time_s - best.lap_time_s
        assert abs(float(trace.delta[-1]) - want) <= step, (record.lap_number, float(trace.delta[-1]), want)
        # at the finish the delta is exactly the difference of the two last samples' times
        _, t = monotonic_profile(lap.channels["distance"], lap.channels["time"])
        _, rt = monotonic_profile(ref.channels["distance"], ref.channels["time"])
        assert float(trace.delta[-1]) == pytest.approx(float(t[-1] - rt[-1]), abs=1e-9)


def test_a_lap_measured_longer_is_compared_at_the_same_place() -> None:
    """The same lap with a distance 2 % longer (another GPS line) has no delta at all."""
    real = session(AIM)
    ref = real.laps[12]
    longer = type(ref)(ref.lap_number, ref.start_offset, {**ref.channels, "distance": ref.channels["distance"] * 1.02})
    trace = delta_time(longer, ref)
    assert trace.delta.size > 1000
    np.testing.assert_allclose(trace.delta, 0.0, atol=1e-9)
