"""Math channels on real laps: the values, NaN kept, and clear errors instead of eval."""

from __future__ import annotations

import numpy as np
import pytest
from reallaps import aim_session, motec_session

from desktop_app.analysis.mathchannels import MathChannelError, evaluate, identifier, names_used


def test_expressions_over_real_channels() -> None:
    lap = motec_session().laps[1]
    ch = lap.channels
    np.testing.assert_array_equal(evaluate("speed / 3.6", ch), ch["speed"] / 3.6)
    np.testing.assert_array_equal(evaluate("rpm * gear", ch), ch["rpm"] * ch["gear"])
    np.testing.assert_array_equal(evaluate("abs(glat)", ch), np.abs(ch["glat"]))
    np.testing.assert_array_equal(evaluate("hypot(glat, glong)", ch), np.hypot(ch["glat"], ch["glong"]))
    # a channel with spaces in its name is used by its identifier
    assert identifier("Wheel Speed FL") == "Wheel_Speed_FL"
    fl = evaluate("Wheel_Speed_FL - speed", ch)
    np.testing.assert_array_equal(fl, ch["Wheel Speed FL"] - ch["speed"])
    assert names_used("Wheel_Speed_FL - abs(speed)") == {"Wheel_Speed_FL", "speed"}
    # comparisons give 1/0; a constant fills the lap
    braking = evaluate("brake > 5", ch)
    assert set(np.unique(braking)) <= {0.0, 1.0} and braking.sum() == (ch["brake"] > 5).sum()
    assert evaluate("2 * 3", ch).shape == ch["time"].shape


def test_missing_samples_stay_missing() -> None:
    lap = aim_session().laps[3]
    rpm = lap.channels["rpm"].copy()
    rpm[100:130] = np.nan  # a dropout, as a logger writes it
    out = evaluate("rpm / 1000 + speed", {**lap.channels, "rpm": rpm})
    np.testing.assert_array_equal(np.isnan(out), np.isnan(rpm))
    np.testing.assert_allclose(out[:100], rpm[:100] / 1000 + lap.channels["speed"][:100])


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("speed.__class__", "Attribute is not allowed at column 1"),
        ("__import__('os').system('true')", "unknown function at column 1"),
        ("speed[0]", "Subscript is not allowed"),
        ("lambda: 1", "Lambda is not allowed"),
        ("sped * 2", "no channel 'sped' at column 1"),
        ("speed *", "not an expression at column"),
        ("'a' + speed", "is not a number"),
        ("speed // 2", "operator FloorDiv is not allowed"),
    ],
)
def test_bad_expressions_are_clear_errors(expression: str, message: str) -> None:
    lap = aim_session().laps[3]
    with pytest.raises(MathChannelError, match="math channel") as info:
        evaluate(expression, lap.channels)
    assert message in str(info.value)
