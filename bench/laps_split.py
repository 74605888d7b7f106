"""How long lap finding and draft building take on long sessions (synthetic circuits).

``python -m bench laps_split [--hours H] [--rate HZ]`` prints one row per lap source:
a 200 m-radius circle driven at 144 km/h for H hours at HZ, with a file gate, with beacons,
and with nothing (the automatic start/finish line).
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import numpy as np

from desktop_app.importing import draft_from_recording
from desktop_app.laps import analyse_laps
from desktop_app.laps.geodesy import from_local, radii_of_curvature
from desktop_app.loggers.recording import Channel, Gate, Recording

RADIUS = 200.0
SPEED = 40.0
LAT0, LON0 = 45.0, 7.0


def circle(hours: float, rate: float) -> Recording:
    t = np.arange(int(hours * 3600 * rate)) / rate
    ang = -1.0 + SPEED * t / RADIUS
    m, n = radii_of_curvature(LAT0)
    rng = np.random.default_rng(0)
    lat = LAT0 + np.degrees((RADIUS * np.sin(ang) + rng.normal(0, 0.2, t.size)) / m)
    lon = LON0 + np.degrees((RADIUS * np.cos(ang) + rng.normal(0, 0.2, t.size)) / (n * math.cos(math.radians(LAT0))))
    chans = {
        "lat": Channel("lat", "lat", "deg", True, lat),
        "long": Channel("long", "long", "deg", True, lon),
        "speed": Channel("speed", "velocity", "km/h", True, np.full(t.size, SPEED * 3.6)),
        "rpm": Channel("rpm", "rpm", "rpm", True, np.full(t.size, 6000.0)),
    }
    return Recording(Path("bench.vbo"), "vbo", t, chans, sample_rate_hz=rate)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench laps_split")
    parser.add_argument("--hours", type=float, default=2.0)
    parser.add_argument("--rate", type=float, default=100.0)
    args = parser.parse_args(argv)
    lap_time = 2 * math.pi * RADIUS / SPEED
    a1 = from_local(RADIUS - 0.0, -3.0, LAT0, LON0)
    a2 = from_local(RADIUS - 0.0, 3.0, LAT0, LON0)
    gate = Gate("start", a1[0], a1[1], a2[0], a2[1])
    print(f"{args.hours:g} h at {args.rate:g} Hz, lap {lap_time:.1f} s")
    print(f"{'source':<8} {'rows':>9} {'laps':>5} {'split+measure s':>16} {'draft s':>8}")
    for label in ("gate", "beacon", "auto"):
        rec = circle(args.hours, args.rate)
        if label == "gate":
            rec.gates = [gate]
        elif label == "beacon":
            rec.beacons = list(np.arange(5.0, float(rec.time[-1]), lap_time))
        t0 = time.perf_counter()
        analysis = analyse_laps(rec)
        t1 = time.perf_counter()
        draft_from_recording(rec, sha256="0" * 64, file_size=0)
        t2 = time.perf_counter()
        print(
            f"{analysis.split.source:<8} {rec.sample_count:>9} {len(analysis.laps):>5} {t1 - t0:>16.2f} {t2 - t1:>8.2f}"
        )
    return 0
