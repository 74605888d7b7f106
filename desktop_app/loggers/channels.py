"""Source channel names -> standard channels, and unit conversion to canonical units.

Readers report channels as the file names them, with the file's units; :func:`build_channels`
maps them (one table per format, case-insensitive, first candidate present wins), converts
standard channels to the canonical units of :mod:`storage.types` once, and keeps everything
else as an auxiliary channel under its source name (made unique when names repeat).

The names a recording's channels are saved under are decided here too, once, before
storage: :func:`saved_names` and :func:`with_saved_names` (docs/channels.md#saved-names).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from storage.errors import LaptraceError
from storage.types import CANONICAL_UNITS, RESERVED_NAMES, FloatArray

from . import aliases
from .aliases import name_key, signal_key
from .recording import Channel, Recording

G = 9.80665

#: Candidates per standard channel and format, best first. ``time`` is the readers' own
#: business (every reader returns its time base separately) and is not listed.
CHANNEL_NAMES: Mapping[str, Mapping[str, tuple[str, ...]]] = {
    "vbo": {
        "lat": ("lat",),
        "long": ("long", "lng"),
        "speed": ("velocity",),
        "rpm": ("engine_speed", "rpm-canbus", "obdii_revs", "rpm"),
        "throttle": ("throttle_pedal", "throttle_pos_1-canbus", "obdii_throttle", "throttle"),
        "brake": ("brake_pressure_front", "brakepress", "brake_pressure-canbus"),
        "gear": ("gear",),
        "steering": ("steering_angle", "steeringwh", "steering_angle_1-canbus"),
        "glat": ("latacc", "accel_lat", "lat_acc"),
        "glong": ("longacc", "accel_lon", "long_acc"),
        "distance": ("distance",),
    },
    "racechrono": {
        "distance": ("distance_traveled", "distance"),
        "lat": ("latitude",),
        "long": ("longitude",),
        "speed": ("speed",),
        "rpm": ("rpm", "engine_rpm"),
        # format 2 names (units and sources stripped by the reader) follow the v3 ones
        "throttle": ("throttle_pos", "accelerator_pos", "throttle position", "accelerator position"),
        "brake": ("brake_pos", "brake_pressure", "brake position", "brake pressure"),
        "steering": ("steering_angle", "steering angle"),
        "gear": ("gear",),
        "glat": ("lateral_acc", "lateral acceleration"),
        "glong": ("longitudinal_acc", "longitudinal acceleration"),
    },
    "aim": {
        "distance": ("distance on gps speed", "distance"),
        "lat": ("gps latitude",),
        "long": ("gps longitude",),
        "speed": ("gps speed", "speed"),
        "rpm": ("rpm", "engine rpm"),
        "throttle": ("throttle-pct", "tps", "throttle"),
        "brake": ("brk", "brake", "brake press"),
        "steering": ("steering", "steering angle"),
        "gear": ("gear",),
        "glat": ("gps latacc", "lateralacc", "accelerometerx"),
        "glong": ("gps lonacc", "inlineacc", "accelerometery"),
    },
    "motec": {
        "distance": ("distance",),
        "lat": ("gps latitude",),
        "long": ("gps longitude",),
        "speed": ("vehicle speed", "ground speed", "gps speed", "speed"),
        "rpm": ("engine rpm", "rpm"),
        "throttle": ("throttle pos", "throttle position", "throttle"),
        "brake": ("brake press", "brake pressure", "brake press front", "brake pres front"),
        "gear": ("gear",),
        "steering": ("steered angle", "steering angle"),
        "glat": ("g force lat",),
        "glong": ("g force long",),
    },
    "bosch": {
        "distance": ("xdist", "lapdist_total", "rawdist"),
        "lat": ("gps_lat",),
        "long": ("gps_long",),
        "speed": ("vfzg", "vfz_w", "speed", "vcar"),
        "rpm": ("nmot", "enginespeed", "nmot_w"),
        "throttle": ("ath", "aps", "tps", "pedal"),
        "brake": ("pbrake_f", "p_brake_f", "pbrake", "pbrake_r"),
        "gear": ("gear", "gang"),
        "steering": ("lws", "steering", "steer"),
        "glat": ("ay", "accy", "acc_y"),
        "glong": ("ax", "accx", "acc_x"),
    },
    "mdf": {
        "lat": ("latitude", "gps_lat", "gps latitude"),
        "long": ("longitude", "gps_long", "gps longitude"),
        "speed": ("speed", "vfzg", "vehicle speed", "gps speed"),
        "rpm": ("nmot", "engine_speed", "enginespeed", "rpm", "engine rpm"),
        "throttle": ("ath", "throttle", "throttle_pos"),
        "brake": ("pbrake_f", "brake_pressure", "brakepress"),
        "gear": ("gear",),
        "steering": ("lws", "steering_angle"),
        "glat": ("ay", "latacc", "accel_lat"),
        "glong": ("ax", "longacc", "accel_lon"),
        "distance": ("distance", "distancetrip", "xdist"),
    },
}

_NO_UNIT = {"", "(null)", "null", "-", "none"}


def normalise_unit(unit: str | None) -> str:
    """Trim a unit and map the spellings that mean "no unit" to ``""``."""
    if unit is None:
        return ""
    u = unit.strip().strip("[]()").strip()
    return "" if u.lower() in _NO_UNIT else u


def _speed_factor(unit: str) -> float | None:
    u = unit.lower().replace(" ", "")
    if u in ("km/h", "kmh", "kph", "kmph", "km/hr"):
        return 1.0
    if u in ("m/s", "mps", "ms"):
        return 3.6
    if u in ("mph", "mi/h"):
        return 1.609344
    if u in ("knots", "knot", "kn", "kt", "kts"):
        return 1.852
    return None


def _accel_factor(unit: str) -> float | None:
    u = unit.lower().replace(" ", "")
    if u in ("g", "gs"):
        return 1.0
    if u in ("m/s2", "m/s^2", "m/s²", "ms-2", "m/s/s"):
        return 1.0 / G
    return None


def _distance_factor(unit: str) -> float | None:
    u = unit.lower()
    return {"m": 1.0, "km": 1000.0, "mi": 1609.344, "miles": 1609.344, "ft": 0.3048}.get(u)


class UnitError(LaptraceError, ValueError):
    """A standard channel whose unit cannot be converted to the canonical unit."""


def to_canonical(standard: str, values: FloatArray, unit: str) -> tuple[FloatArray, str]:
    """Convert a standard channel's values from ``unit`` to its canonical unit.

    An empty unit is taken to be canonical already (files often leave units out). A unit
    that is known to be wrong for the channel raises :class:`UnitError`.
    """
    unit = normalise_unit(unit)
    canonical = CANONICAL_UNITS[standard]
    if canonical is None:  # brake: as logged
        return values, unit
    if unit == "" or unit.lower() == canonical.lower():
        return values, canonical
    factor: float | None
    if standard == "speed":
        factor = _speed_factor(unit)
    elif standard in ("glat", "glong"):
        factor = _accel_factor(unit)
    elif standard == "distance":
        factor = _distance_factor(unit)
    elif standard == "rpm":
        factor = 1.0 if unit.lower() in ("rpm", "revo", "1/min", "u/min", "r/min") else None
    elif standard in ("lat", "long", "steering"):
        factor = 1.0 if unit.lower() in ("deg", "°", "degrees", "degree") else None
    elif standard == "throttle":
        factor = 1.0 if unit.lower() in ("%", "pct", "percent") else None
    elif standard == "gear":
        factor = 1.0 if unit.lower() in ("gear", "#", "no", "-") else None
    else:
        factor = None
    if factor is None:
        raise UnitError(f"{standard}: cannot convert unit {unit!r} to {canonical!r}")
    if factor == 1.0:
        return values, canonical
    return values * factor, canonical


@dataclass
class SourceChannel:
    """A channel as a reader found it: source name, unit as written, values (float64)."""

    source_name: str
    unit: str
    values: FloatArray
    #: a text channel: values are codes into these labels (never a standard channel)
    labels: tuple[str, ...] | None = None


class NameAllocator:
    """Unique channel names in linear time: ``name``, else ``name_2``, ``name_3``...

    Case-insensitive. Keeps, per base name, the next suffix to try, so a file whose
    header repeats one name thousands of times costs one step per name, not a scan of
    every name taken so far.
    """

    def __init__(self, taken: Iterable[str] = ()) -> None:
        self._taken: set[str] = {t.lower() for t in taken}
        self._next: dict[str, int] = {}

    def taken(self, name: str) -> bool:
        """Whether ``name`` is already taken (case-insensitive)."""
        return name.lower() in self._taken

    def take(self, name: str) -> str:
        low = name.lower()
        if low not in self._taken:
            self._taken.add(low)
            return name
        i = self._next.get(low, 2)
        while f"{low}_{i}" in self._taken:
            i += 1
        self._next[low] = i + 1
        out = f"{name}_{i}"
        self._taken.add(out.lower())
        return out


def channel_namer(taken: Iterable[str] = ()) -> NameAllocator:
    """A :class:`NameAllocator` for names that will be saved: it keeps off ``taken`` and the
    names storage reserves (``lap_number`` and the standard channels, ignoring case)."""
    return NameAllocator([*RESERVED_NAMES, *taken])


def saved_names(names: Sequence[str]) -> list[str]:
    """The names channels called ``names`` (auxiliary ones, in order) are saved under.

    The one rule: a name is kept unless it is blank (``channel_<n>``), reserved by storage
    or already taken by an earlier one, ignoring case; then it becomes ``name_2``,
    ``name_3``... Names that keep the rule already come back unchanged, so applying it
    to saved names again changes nothing.
    """
    namer = channel_namer()
    return [namer.take(name if name.strip() else f"channel_{i + 1}") for i, name in enumerate(names)]


def with_saved_names(recording: Recording) -> Recording:
    """``recording`` with its auxiliary channels under :func:`saved_names` (and its lap
    counter following its channel); the same object when every name keeps the rule."""
    aux = [key for key, ch in recording.channels.items() if not ch.standard]
    renamed = {key: name for key, name in zip(aux, saved_names(aux), strict=True) if key != name}
    if not renamed:
        return recording
    channels: dict[str, Channel] = {}
    for key, ch in recording.channels.items():
        name = renamed.get(key, key)
        channels[name] = ch if name == key else replace(ch, name=name)
    counter = recording.lap_counter
    return replace(recording, channels=channels, lap_counter=renamed.get(counter, counter) if counter else counter)


def _find(
    standard: str,
    candidates: Iterable[str],
    keys: Mapping[str, list[int]],
    sources: Sequence[SourceChannel],
    used: set[int],
    warnings: list[str] | None,
) -> tuple[int, FloatArray, str] | None:
    """The first candidate present, unused and convertible to the canonical unit."""
    for cand in candidates:
        for idx in keys.get(name_key(cand), []):
            if idx in used or sources[idx].labels is not None:
                continue  # a text channel's codes are never a standard channel
            src = sources[idx]
            try:
                values, unit = to_canonical(standard, src.values, src.unit)
            except UnitError as exc:
                if warnings is not None:
                    warnings.append(f"channel {src.source_name!r} kept auxiliary: {exc}")
                continue
            return idx, values, unit
    return None


def build_channels(
    fmt: str,
    sources: Sequence[SourceChannel],
    warnings: list[str] | None = None,
    overrides: Mapping[str, str] | None = None,
) -> dict[str, Channel]:
    """Map a reader's channels to standard and auxiliary channels.

    ``overrides`` maps a standard channel to the source name the user picked for it.
    Candidates come in the priority order of :mod:`.aliases` (the format's own table, the
    common names, device-prefixed positions, a wheel speed as the last resort for
    ``speed``). Candidates whose unit cannot be converted stay auxiliary (with a warning)
    and the next candidate is tried. Returns channels keyed by their final name: standard
    channels first, in ``STANDARD_CHANNELS`` order, then auxiliary ones in file order.
    """
    table = CHANNEL_NAMES.get(fmt, {})
    keys: dict[str, list[int]] = {}
    for i, src in enumerate(sources):
        keys.setdefault(name_key(src.source_name), []).append(i)
    # decoded bus signals (``CCVS1.WheelBasedVehicleSpeed``) also go by their last part,
    # unless a channel is named so in full
    full = set(keys)
    for i, src in enumerate(sources):
        short = signal_key(src.source_name)
        if short is not None and short not in full:
            keys.setdefault(short, []).append(i)

    chosen: dict[str, tuple[int, FloatArray, str]] = {}
    used: set[int] = set()

    def pick(standard: str, candidates: Iterable[str]) -> bool:
        if standard in chosen:
            return True
        got = _find(standard, candidates, keys, sources, used, warnings)
        if got is None:
            return False
        chosen[standard] = got
        used.add(got[0])
        return True

    for standard in CANONICAL_UNITS:
        if standard == "time":
            continue
        if overrides and standard in overrides:
            pick(standard, (overrides[standard],))
            continue
        if not pick(standard, table.get(standard, ())):
            pick(standard, aliases.COMMON.get(standard, ()))
    if "lat" not in chosen and "long" not in chosen:
        for _prefix, lat_idx, lon_idx in aliases.position_pairs(keys):
            if lat_idx in used or lon_idx in used:
                continue
            lat = _find("lat", (sources[lat_idx].source_name,), keys, sources, used, warnings)
            lon = _find("long", (sources[lon_idx].source_name,), keys, sources, used, warnings)
            if lat is not None and lon is not None:
                chosen["lat"], chosen["long"] = lat, lon
                used.update((lat[0], lon[0]))
                break
    if "speed" not in chosen:
        for pos in aliases.WHEEL_POSITIONS:
            if pick("speed", aliases.WHEEL_SPEEDS[pos]):
                if warnings is not None:
                    name = sources[chosen["speed"][0]].source_name
                    warnings.append(
                        f"no vehicle speed channel: speed is the wheel speed {name!r} "
                        "(front wheels first; a wheel that slips or locks reads wrong)"
                    )
                break

    out: dict[str, Channel] = {}
    for standard in CANONICAL_UNITS:
        if standard not in chosen:
            continue
        idx, values, unit = chosen[standard]
        src = sources[idx]
        out[standard] = Channel(standard, src.source_name, unit, True, np.asarray(values, np.float64))
    names = NameAllocator(CANONICAL_UNITS)
    for i, src in enumerate(sources):
        if i in used:
            continue
        name = names.take(src.source_name.strip() or f"channel_{i + 1}")
        values = np.asarray(src.values, np.float64)
        out[name] = Channel(name, src.source_name, normalise_unit(src.unit), False, values, src.labels)
    return out


#: the archive's lap column is int32: a logged lap number beyond it is not a lap counter
MAX_LAP_NUMBER = 2**31 - 1


def checked_lap_counter(channels: Mapping[str, Channel], name: str | None, warnings: list[str]) -> str | None:
    """``name`` if its channel can be a lap counter (whole numbers in the archive's range), else None.

    A damaged or foreign column (a lap number of 4,294,967,295) stays an auxiliary
    channel, with a warning, and the laps come from the other sources.
    """
    if name is None or name not in channels:
        return None
    values = channels[name].values
    ok = np.isfinite(values)
    if not ok.any():
        return name
    with np.errstate(invalid="ignore"):
        worst = float(np.abs(values[ok]).max())
    if worst > MAX_LAP_NUMBER:
        warnings.append(
            f"lap counter {channels[name].source_name!r} holds {worst:.0f}, beyond any lap number "
            f"(at most {MAX_LAP_NUMBER:,}): kept as a channel, not used for laps"
        )
        return None
    return name
