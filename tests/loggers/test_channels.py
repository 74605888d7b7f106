from __future__ import annotations

import numpy as np
import pytest

from desktop_app.loggers.channels import SourceChannel, UnitError, build_channels, to_canonical


def test_speed_units_convert_to_kmh() -> None:
    v = np.array([10.0, np.nan])
    assert to_canonical("speed", v, "m/s")[0][0] == pytest.approx(36.0)
    assert to_canonical("speed", v, "mph")[0][0] == pytest.approx(16.09344)
    assert to_canonical("speed", v, "knots")[0][0] == pytest.approx(18.52)
    assert np.isnan(to_canonical("speed", v, "km/h")[0][1])
    with pytest.raises(UnitError):
        to_canonical("speed", v, "bar")


def test_acceleration_from_ms2_to_g() -> None:
    values, unit = to_canonical("glat", np.array([9.80665]), "m/s²")
    assert unit == "g" and values[0] == pytest.approx(1.0)


def test_first_candidate_wins_and_duplicates_stay_auxiliary() -> None:
    a = np.arange(3, dtype=np.float64)
    warnings: list[str] = []
    channels = build_channels(
        "racechrono",
        [
            SourceChannel("speed", "m/s", a),
            SourceChannel("speed", "m/s", a + 1),
            SourceChannel("Water Temp", "°C", a),
            SourceChannel("latitude", "deg", a),
        ],
        warnings,
    )
    assert list(channels) == ["lat", "speed", "speed_2", "Water Temp"]
    assert channels["speed"].standard and channels["speed"].values[1] == pytest.approx(3.6)
    assert not channels["speed_2"].standard and channels["speed_2"].unit == "m/s"
    assert channels["speed_2"].values[1] == 2.0


def test_unconvertible_candidate_is_kept_auxiliary_with_a_warning() -> None:
    warnings: list[str] = []
    channels = build_channels("motec", [SourceChannel("Vehicle Speed", "bar", np.zeros(2))], warnings)
    assert "speed" not in channels and "Vehicle Speed" in channels
    assert warnings and "Vehicle Speed" in warnings[0]
