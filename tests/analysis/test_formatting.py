"""The one lap-time format, as the GUI, the CLI and the validity reasons write it."""

from __future__ import annotations

import numpy as np
import pytest

from desktop_app.analysis.formatting import MISSING, TEXT_MISSING, format_lap_time


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.0, "0:00.000"),
        (59.9996, "1:00.000"),  # rounding carries into the minutes
        (71.928, "1:11.928"),
        (83.4567, "1:23.457"),
        (3600.5, "60:00.500"),
        (-1.5, "-0:01.500"),
        (-0.0001, "0:00.000"),  # rounds to zero: no sign
    ],
)
def test_lap_time_is_minutes_seconds_millis(seconds: float, text: str) -> None:
    assert format_lap_time(seconds) == text
    assert format_lap_time(seconds, missing=TEXT_MISSING) == text


@pytest.mark.parametrize("seconds", [None, float("nan"), float("inf")])
def test_a_missing_lap_time_is_a_dash_for_the_gui_and_a_hyphen_for_the_cli(seconds: float | None) -> None:
    assert format_lap_time(seconds) == MISSING == "–"
    assert format_lap_time(seconds, missing=TEXT_MISSING) == "-"


def test_a_numpy_value_formats_like_a_float() -> None:
    assert format_lap_time(np.float64(90.0)) == "1:30.000"
