"""Synthetic closed tracks given as polylines, driven at a constant speed: known answers.

A track is a list of (east, north) points in metres around ``synthtrack.CENTRE``, closed
back to its first point. The car starts at ``start_m`` metres along it and drives in the
order of the points (or the reverse), so the time it passes any distance mark is known.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from synthtrack import CENTRE, GateKind, local_to_latlon

from desktop_app.laps.geodesy import from_local
from desktop_app.loggers.recording import Channel, Gate, Recording


def paperclip(straight: float = 400.0, width: float = 16.0, step: float = 1.0) -> list[tuple[float, float]]:
    """A narrow oval: north along east=0, a U-turn, south along east=width, a U-turn.

    The return leg runs ``width`` metres beside the outbound one, the other way.
    """
    r = width / 2.0
    pts: list[tuple[float, float]] = []
    for y in np.arange(-straight / 2, straight / 2, step):
        pts.append((0.0, float(y)))
    for a in np.linspace(math.pi, 0.0, 40, endpoint=False):
        pts.append((r + r * math.cos(a), straight / 2 + r * math.sin(a)))
    for y in np.arange(straight / 2, -straight / 2, -step):
        pts.append((width, float(y)))
    for a in np.linspace(0.0, -math.pi, 40, endpoint=False):
        pts.append((r + r * math.cos(a), -straight / 2 + r * math.sin(a)))
    return pts


@dataclass
class PolyTrack:
    points: list[tuple[float, float]]
    laps: float = 4.5
    speed_ms: float = 20.0
    rate_hz: float = 10.0
    start_m: float = 50.0
    reverse: bool = False
    #: (start, end) seconds with no GPS fix
    dropouts: list[tuple[float, float]] = field(default_factory=list)
    #: (from_s, to_s, speed km/h): stretches driven at another speed (pit lane); the
    #: position still follows the track at ``speed_ms``, only the logged speed changes
    slow: list[tuple[float, float, float]] = field(default_factory=list)

    def __post_init__(self) -> None:
        pts = list(reversed(self.points)) if self.reverse else list(self.points)
        e = np.array([p[0] for p in pts] + [pts[0][0]])
        n = np.array([p[1] for p in pts] + [pts[0][1]])
        self._e, self._n = e, n
        self._s = np.concatenate(([0.0], np.cumsum(np.hypot(np.diff(e), np.diff(n)))))

    @property
    def length(self) -> float:
        return float(self._s[-1])

    @property
    def lap_time(self) -> float:
        return self.length / self.speed_ms

    @property
    def duration(self) -> float:
        return self.laps * self.lap_time

    def at(self, s: float | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """East, north at distance ``s`` along the track (wrapping)."""
        m = np.mod(s, self.length)
        return np.interp(m, self._s, self._e), np.interp(m, self._s, self._n)

    def distance_of(self, east: float, north: float) -> float:
        """Distance along the track of the track point closest to (east, north)."""
        k = int(np.argmin(np.hypot(self._e - east, self._n - north)))
        return float(self._s[k])

    def passes(self, east: float, north: float) -> list[float]:
        """Times the car passes the track point closest to (east, north)."""
        d = self.distance_of(east, north)
        out: list[float] = []
        k = math.ceil((self.start_m - d) / self.length)
        while True:
            t = (d + k * self.length - self.start_m) / self.speed_ms
            if t >= self.duration:
                return out
            if t > 0:
                out.append(t)
            k += 1

    def gate_along(self, east: float, north: float, kind: GateKind = "start", name: str = "") -> Gate:
        """A VBO-style gate at the track point nearest (east, north): two points 6 m apart
        along the direction of travel."""
        d = self.distance_of(east, north)
        e0, n0 = self.at(d)
        e1, n1 = self.at(d + 1.0)
        te, tn = float(e1 - e0), float(n1 - n0)
        k = math.hypot(te, tn)
        te, tn = te / k, tn / k
        lat1, lon1 = from_local(float(e0) - 3 * te, float(n0) - 3 * tn, *CENTRE)
        lat2, lon2 = from_local(float(e0) + 3 * te, float(n0) + 3 * tn, *CENTRE)
        return Gate(kind, lat1, lon1, lat2, lon2, name)

    def across(self, east: float, north: float, half_width: float) -> tuple[float, float, float, float]:
        """Two points (lat1, lon1, lat2, lon2) of a line across the track at the track point
        nearest (east, north), ``half_width`` either side."""
        d = self.distance_of(east, north)
        e0, n0 = self.at(d)
        e1, n1 = self.at(d + 1.0)
        te, tn = float(e1 - e0), float(n1 - n0)
        k = math.hypot(te, tn)
        ne, nn = -tn / k, te / k
        a = from_local(float(e0) + half_width * ne, float(n0) + half_width * nn, *CENTRE)
        b = from_local(float(e0) - half_width * ne, float(n0) - half_width * nn, *CENTRE)
        return a[0], a[1], b[0], b[1]

    def recording(self, **extra: object) -> Recording:
        n = int(math.floor(self.duration * self.rate_hz)) + 1
        t = np.arange(n, dtype=np.float64) / self.rate_hz
        east, north = self.at(self.start_m + self.speed_ms * t)
        lat, lon = local_to_latlon(np.asarray(east), np.asarray(north))
        for a, b in self.dropouts:
            gone = (t >= a) & (t < b)
            lat[gone] = np.nan
            lon[gone] = np.nan
        speed = np.full(n, self.speed_ms * 3.6)
        for a, b, v in self.slow:
            speed[(t >= a) & (t < b)] = v
        channels = {
            "lat": Channel("lat", "lat", "deg", True, lat),
            "long": Channel("long", "long", "deg", True, lon),
            "speed": Channel("speed", "velocity", "km/h", True, speed),
            "Oil_Temp": Channel("Oil_Temp", "Oil_Temp", "C", False, 90.0 + t / 100.0),
        }
        rec = Recording(Path("track.vbo"), "vbo", t, channels, logger="synthetic", sample_rate_hz=self.rate_hz)
        for key, value in extra.items():
            setattr(rec, key, value)
        rec.check()
        return rec
