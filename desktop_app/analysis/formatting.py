"""Display formatting shared by the lap table and the preview: lap times, deltas, units.

Data always stays in canonical units (km/h for speed); conversion happens only here, at
display time, so a unit switch never touches the model or the stored session.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal, get_args

import numpy as np

from storage.types import FloatArray

SpeedUnit = Literal["km/h", "mph"]
SPEED_UNITS: tuple[str, ...] = get_args(SpeedUnit)

#: km/h -> mph (1 mile = 1.609344 km exactly)
KMH_PER_MPH = 1.609344

#: Channels whose values are speeds in km/h and follow the display speed unit.
SPEED_CHANNELS: frozenset[str] = frozenset({"speed"})

#: Shown when a value does not exist (untimed lap, no sample...).
MISSING = "–"

#: The same for plain-text output (the CLI): an ASCII hyphen survives any terminal
#: encoding and keeps columns one character wide when piped.
TEXT_MISSING = "-"


def check_speed_unit(unit: str) -> SpeedUnit:
    """Return ``unit`` if it is a known display speed unit, else raise a clear ValueError."""
    if unit == "km/h":
        return "km/h"
    if unit == "mph":
        return "mph"
    raise ValueError(f"unknown speed unit {unit!r}: expected one of {', '.join(SPEED_UNITS)}")


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def format_lap_time(seconds: float | None, *, missing: str = MISSING) -> str:
    """``83.4567`` -> ``"1:23.457"`` (m:ss.sss); missing or non-finite -> ``missing``.

    The one lap-time format for the GUI, the CLI and the validity reasons; the CLI passes
    ``missing=TEXT_MISSING``.
    """
    if seconds is None or not math.isfinite(seconds):
        return missing
    millis = int(round(abs(seconds) * 1000.0))
    minutes, millis = divmod(millis, 60_000)
    sign = "-" if seconds < 0 and (minutes or millis) else ""
    return f"{sign}{minutes}:{millis / 1000.0:06.3f}"


def format_sector_time(seconds: float | None) -> str:
    """Sector times: ``"23.457"`` under a minute, ``m:ss.sss`` above."""
    if seconds is None or not math.isfinite(seconds):
        return MISSING
    if abs(seconds) < 59.9995:
        return f"{seconds:.3f}"
    return format_lap_time(seconds)


def format_delta(seconds: float | None) -> str:
    """A signed time difference: ``"+0.412"``, ``"-1.003"``; ``m:ss.sss`` beyond a minute."""
    if seconds is None or not math.isfinite(seconds):
        return MISSING
    sign = "-" if seconds < 0 else "+"
    if abs(seconds) < 59.9995:
        return f"{sign}{abs(seconds):.3f}"
    return sign + format_lap_time(abs(seconds))


def speed_factor(unit: SpeedUnit) -> float:
    """Multiply a km/h value by this to get ``unit``."""
    return 1.0 if unit == "km/h" else 1.0 / KMH_PER_MPH


def convert_speed(kmh: float | None, unit: SpeedUnit) -> float | None:
    """A km/h value in the display unit (None stays None)."""
    if kmh is None:
        return None
    return kmh * speed_factor(unit)


def convert_speed_array(kmh: FloatArray, unit: SpeedUnit) -> FloatArray:
    """A km/h array in the display unit (a new array when converting; NaN stays NaN)."""
    if unit == "km/h":
        return kmh
    return np.asarray(kmh * speed_factor(unit), dtype=np.float64)


def format_speed(kmh: float | None, unit: SpeedUnit) -> str:
    """``"212.4"`` in the display unit (the unit itself goes in the column header)."""
    value = convert_speed(kmh, unit)
    if not _finite(value):
        return MISSING
    assert value is not None
    return f"{value:.1f}"


def format_distance(metres: float | None) -> str:
    """Lap distance in whole metres (unit in the header): ``"4048"``."""
    if not _finite(metres):
        return MISSING
    assert metres is not None
    return f"{metres:.0f}"


def display_unit(channel: str, unit: str | None, speed_unit: SpeedUnit) -> str:
    """The unit a channel is shown in: the display speed unit for speeds, else its own."""
    if channel in SPEED_CHANNELS:
        return speed_unit
    return unit or ""


def axis_label(channel: str, unit: str | None) -> str:
    """``"speed [km/h]"``; a channel without a unit is just its name."""
    return f"{channel} [{unit}]" if unit else channel


def format_value(value: float) -> str:
    """A channel value for the cursor readout: about four significant digits."""
    if not math.isfinite(value):
        return MISSING
    magnitude = abs(value)
    if magnitude >= 1000.0 or (value == int(value) and magnitude < 1e6):
        return f"{value:.0f}"
    if magnitude >= 100.0:
        return f"{value:.1f}"
    if magnitude >= 1.0:
        return f"{value:.2f}"
    return f"{value:.3f}"


def format_coded(value: float, labels: Sequence[str] | None) -> str:
    """A channel value for the readout; a text channel's code (``labels[code]`` is its
    text) shows as that text. A value that is no code of the table stays a number."""
    if labels is not None and math.isfinite(value) and value == int(value) and 0 <= int(value) < len(labels):
        return labels[int(value)]
    return format_value(value)
