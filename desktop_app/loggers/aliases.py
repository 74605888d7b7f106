"""Names loggers of every make use for the standard channels (see ``docs/channels.md``).

:mod:`.channels` first tries the reader's own table (the names that format's writer uses,
best first). When a standard channel is still missing, these tables are tried, in this
order, for every format: a decoded CAN log in an MF4, a WinDarab export of a car with an
IMU, a VBOX Sport file all name channels the way their *device* does, not the way the
file format usually does.

Priority, for each standard channel (the first candidate present wins):

1. the format's own table (:data:`.channels.CHANNEL_NAMES`);
2. :data:`COMMON` below, in the order listed (vehicle speed before ground or GPS speed,
   then J1939 and OBD-II bus speeds);
3. for ``lat``/``long`` only: a pair of channels ``<prefix>_LAT`` / ``<prefix>_LONG``
   whose prefix names a positioning device (:data:`POSITION_DEVICES`), both from the same
   prefix;
4. for ``speed`` only: one wheel speed (:data:`WHEEL_SPEEDS`), front wheels first (most
   race cars drive the rear wheels, so a front wheel turns at road speed), with a warning
   naming it. A wheel speed is never averaged or otherwise combined: it stays one logged
   channel, standard under the name ``speed``.

Names are compared without case, with runs of spaces, ``_`` and ``-`` treated alike, and a
decoded bus signal (``CCVS1.WheelBasedVehicleSpeed``) is also tried by its last
dot-separated part.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

#: Device-independent names for the standard channels (matched after :func:`name_key`).
COMMON: Mapping[str, tuple[str, ...]] = {
    "lat": (
        "latitude",  # RaceChrono, MDF/CANedge decoded GNSS, Race Telemetry Pro VBO
        "lat",  # Racelogic
        "gps latitude",  # AiM, MoTeC
        "gps lat",  # Bosch WinDarab (GPS_Lat)
        "gnss latitude",
        "gnss lat",
        "position lat",
        "pos lat",
    ),
    "long": (
        "longitude",
        "long",
        "lng",
        "lon",
        "gps longitude",
        "gps long",
        "gps lon",
        "gnss longitude",
        "gnss long",
        "gnss lon",
        "position lon",
        "pos lon",
    ),
    "speed": (
        "vehicle speed",  # MoTeC, OBD-II PID 0x0D "Vehicle speed", CANedge OBD DBC VehicleSpeed
        "vehiclespeed",
        "vehicle speed kph",
        "car speed",
        "ground speed",  # MoTeC
        "speed",  # RaceChrono, MDF decoded GNSS
        "velocity",  # Racelogic
        "gps speed",  # AiM, MoTeC
        "speed over ground",  # MoTeC, NMEA
        "gnss speed",
        "vfzg",  # Bosch
        "wheelbasedvehiclespeed",  # J1939 SPN 84, message CCVS1 (PGN 65265)
        "wheel based vehicle speed",
        "s1 pid 0d vehiclespeed",  # OBD-II mode 01 PID 0x0D, as CSS Electronics' OBD DBC names it
        "pid 0d vehiclespeed",
        "obd vehicle speed",
        "obd speed",  # RaceChrono, RaceCapture OBD-II channels
        "obdii speed",  # Racelogic OBD-II module
        "obd2 speed",
        "speed obd",
    ),
    "glat": (
        "lat accel",  # VBOX Sport / Performance Box ("lat accel g")
        "lateral acceleration",
        "lateral acc",
        "g force lat",
        "gps latacc",
        "latacc",
        "accel lat",
    ),
    "glong": (
        "long accel",  # VBOX Sport / Performance Box ("long accel g")
        "longitudinal acceleration",
        "longitudinal acc",
        "g force long",
        "gps lonacc",
        "longacc",
        "accel lon",
        "accel long",
    ),
    "rpm": ("engine speed", "engine rpm", "rpm", "enginespeed", "engine revs", "s1 pid 0c enginerpm", "obd rpm"),
    "distance": ("distance", "distance travelled", "distance traveled", "trip distance"),
}

#: Words that mark a channel prefix as a positioning device (``IMU_LAT``, ``GNSS1_LONG``,
#: ``ADMA_Lat``): GPS/GNSS receivers and the inertial units that fuse them.
POSITION_DEVICES = ("gps", "gnss", "imu", "ins", "dgps", "rtk", "adma", "oxts", "rt", "vbox", "gpsimu", "nav")

_POSITION = re.compile(r"^(?P<prefix>.+?)[ ](?P<axis>lat|latitude|long|lon|lng|longitude)$")
_LAT_WORDS = ("lat", "latitude")

#: wheel positions in the order they are used as ``speed`` (front wheels first)
WHEEL_POSITIONS = ("fl", "fr", "rl", "rr")
_WHEEL_POSITION_WORDS = {
    "fl": ("fl", "front left", "lf", "left front", "vl"),
    "fr": ("fr", "front right", "rf", "right front", "vr"),
    "rl": ("rl", "rear left", "lr", "left rear", "hl"),
    "rr": ("rr", "rear right", "rr", "right rear", "hr"),
}
#: ways of writing "wheel speed" before the position: Bosch ``vwheel_fl``/``v_wheel_fl``,
#: MoTeC ``Wheel Speed FL``, AiM ``WheelSpd FL``, generic ``wheel_speed_fl`` and ``WSS FL``
_WHEEL_WORDS = ("vwheel", "v wheel", "wheel speed", "wheelspeed", "wheel spd", "wheelspd", "wss", "speed wheel")


def _wheel_names() -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for pos in WHEEL_POSITIONS:
        names: list[str] = []
        for word in _WHEEL_WORDS:
            for p in _WHEEL_POSITION_WORDS[pos]:
                names.append(f"{word} {p}")
                if " " not in p:
                    names.append(f"{word}{p}")
        out[pos] = tuple(dict.fromkeys(names))
    return out


#: wheel position -> the names it goes by (after :func:`name_key`)
WHEEL_SPEEDS: Mapping[str, tuple[str, ...]] = _wheel_names()

_SEPARATORS = re.compile(r"[\s_\-]+")


def name_key(name: str) -> str:
    """A source name as the tables compare it: lower case, ``_``/``-``/spaces as one space."""
    return _SEPARATORS.sub(" ", name.strip().lower()).strip()


def signal_key(name: str) -> str | None:
    """The last dot-separated part of a decoded bus signal's name (``CCVS1.Speed``), if any."""
    if "." not in name:
        return None
    last = name.rsplit(".", 1)[1]
    return name_key(last) if last.strip() and not last.strip().isdigit() else None


def position_pairs(keys: Mapping[str, list[int]]) -> list[tuple[str, int, int]]:
    """``(prefix, lat index, long index)`` for every device prefix that has both axes.

    ``keys`` maps :func:`name_key` names to source indices. Pairs come in source order of
    their latitude channel; only prefixes made of :data:`POSITION_DEVICES` words (with an
    optional number: ``gnss1``) count.
    """
    lat: dict[str, int] = {}
    lon: dict[str, int] = {}
    for key, idxs in keys.items():
        m = _POSITION.match(key)
        if m is None or not _is_device(m["prefix"]):
            continue
        side = lat if m["axis"] in _LAT_WORDS else lon
        side.setdefault(m["prefix"], idxs[0])
    pairs = [(p, i, lon[p]) for p, i in lat.items() if p in lon]
    return sorted(pairs, key=lambda x: x[1])


def _is_device(prefix: str) -> bool:
    words = prefix.split(" ")
    return bool(words) and all(w.rstrip("0123456789") in POSITION_DEVICES for w in words)
