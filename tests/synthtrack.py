"""Synthetic recordings with known answers: a circle driven N times at a constant speed.

The circle (radius ``radius`` m) is centred at ``CENTRE``; the car drives counter-clockwise
from angle ``start_angle`` (rad, 0 = due east of the centre, where the car heads north).
A start/finish line at angle ``line_angle`` is crossed at the known times
``(line_angle + 2 pi k - start_angle) * radius / speed``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from desktop_app.laps.geodesy import from_local, radii_of_curvature
from desktop_app.loggers.recording import Channel, Gate, Recording

#: what :attr:`Gate.kind` may be
GateKind = Literal["start", "finish", "split"]

CENTRE = (45.0, 7.0)


def local_to_latlon(east: np.ndarray, north: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised from_local around CENTRE."""
    lat0, lon0 = CENTRE
    m, n = radii_of_curvature(lat0)
    lat = lat0 + np.degrees(north / m)
    lon = lon0 + np.degrees(east / (n * math.cos(math.radians(lat0))))
    return np.asarray(lat, np.float64), np.asarray(lon, np.float64)


def _wander(rng: np.random.Generator, n: int, sigma: float, dt: float, tau: float = 1.0) -> np.ndarray:
    rho = math.exp(-dt / tau)
    e = rng.normal(0.0, sigma * math.sqrt(1.0 - rho * rho), n)
    e[0] = rng.normal(0.0, sigma)
    out = np.empty(n)
    acc = 0.0
    for i in range(n):
        acc = rho * acc + e[i] if i else e[0]
        out[i] = acc
    return out


@dataclass
class Circle:
    laps: float = 5.3
    rate_hz: float = 10.0
    speed_ms: float = 40.0
    radius: float = 200.0
    start_angle: float = -1.0
    noise_m: float = 0.0
    #: sample-to-sample jitter (m) on top, as at high rates
    jitter_m: float = 0.0
    seed: int = 1
    #: (start, end) seconds with no GPS fix (NaN positions)
    dropouts: list[tuple[float, float]] = field(default_factory=list)

    @property
    def lap_time(self) -> float:
        return 2 * math.pi * self.radius / self.speed_ms

    @property
    def duration(self) -> float:
        return self.laps * self.lap_time

    def crossing_times(self, line_angle: float = 0.0) -> list[float]:
        """When the car passes the angle ``line_angle`` (strictly inside the recording)."""
        out: list[float] = []
        k = math.ceil((self.start_angle - line_angle) / (2 * math.pi))
        while True:
            t = (line_angle + 2 * math.pi * k - self.start_angle) * self.radius / self.speed_ms
            if t >= self.duration:
                return out
            if t > 0:
                out.append(t)
            k += 1

    def point(self, angle: float, offset_m: float = 0.0) -> tuple[float, float]:
        """lat, lon of the point at ``angle`` on the circle, ``offset_m`` outwards."""
        r = self.radius + offset_m
        return from_local(r * math.cos(angle), r * math.sin(angle), *CENTRE)

    def gate_along(self, angle: float = 0.0, kind: GateKind = "start", offset_m: float = 0.0, name: str = "") -> Gate:
        """A VBO-style gate: two points 6 m apart along the direction of travel (FORMATS 2.7)."""
        r = self.radius + offset_m
        e, n = r * math.cos(angle), r * math.sin(angle)
        te, tn = -math.sin(angle), math.cos(angle)  # travel direction
        lat1, lon1 = from_local(e - 3 * te, n - 3 * tn, *CENTRE)
        lat2, lon2 = from_local(e + 3 * te, n + 3 * tn, *CENTRE)
        return Gate(kind, lat1, lon1, lat2, lon2, name)

    def gate_across(self, angle: float = 0.0, kind: GateKind = "start", half_width: float = 12.0) -> Gate:
        """A textbook gate: a segment across the track, from inside to outside."""
        lat1, lon1 = self.point(angle, -half_width)
        lat2, lon2 = self.point(angle, +half_width)
        return Gate(kind, lat1, lon1, lat2, lon2)

    def recording(self, **extra: object) -> Recording:
        n = int(math.floor(self.duration * self.rate_hz)) + 1
        t = np.arange(n, dtype=np.float64) / self.rate_hz
        ang = self.start_angle + self.speed_ms * t / self.radius
        east = self.radius * np.cos(ang)
        north = self.radius * np.sin(ang)
        if self.noise_m:
            # GPS error wanders rather than jumps: AR(1) noise, 1 s correlation time
            rng = np.random.default_rng(self.seed)
            east = east + _wander(rng, n, self.noise_m, 1.0 / self.rate_hz)
            north = north + _wander(rng, n, self.noise_m, 1.0 / self.rate_hz)
        if self.jitter_m:
            rng = np.random.default_rng(self.seed + 1)
            east = east + rng.normal(0.0, self.jitter_m, n)
            north = north + rng.normal(0.0, self.jitter_m, n)
        lat, lon = local_to_latlon(east, north)
        for a, b in self.dropouts:
            gone = (t >= a) & (t < b)
            lat[gone] = np.nan
            lon[gone] = np.nan
        speed = np.full(n, self.speed_ms * 3.6)
        channels = {
            "lat": Channel("lat", "lat", "deg", True, lat),
            "long": Channel("long", "long", "deg", True, lon),
            "speed": Channel("speed", "velocity", "km/h", True, speed),
            "rpm": Channel("rpm", "Engine_Speed", "rpm", True, 6000 + 10 * np.sin(t)),
            "Water_Temp": Channel("Water_Temp", "Water_Temp", "C", False, np.full(n, 85.0)),
        }
        rec = Recording(
            path=Path("circle.vbo"),
            format="vbo",
            time=t,
            channels=channels,
            logger="synthetic",
            sample_rate_hz=self.rate_hz,
        )
        for key, value in extra.items():
            setattr(rec, key, value)
        rec.check()
        return rec
