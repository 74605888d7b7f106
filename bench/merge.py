"""Merging a GPS recording with an ECU recording: time and accuracy against session length.

``python -m bench merge [--minutes 15 60 180] [--ecu-rate 20 100] [--offset 3.37] [--drift 200]``

The recordings are built in memory from the real AiM kart log (``aim_csv``): its GPS speed,
repeated (each time a few per cent faster or slower) to the session length, sampled at 10 Hz for the GPS recording and,
with noise, at ``--ecu-rate`` for the ECU recording, whose clock starts ``--offset`` s
later and runs ``--drift`` ppm fast. (The ECU values at its own sample times are the
source trace interpolated: a bench input, never stored data.) For each size: the time to
align (correlation + drift windows) and to merge (union time base, channels), the merged
row count, and the errors of the recovered offset and drift. ``merge s`` is
``merge_recordings`` (which aligns again) minus the ``align`` time: the union time base
and the channels. Prints a table; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

from desktop_app.loggers import Channel, Recording, read_recording
from desktop_app.merging import align, merge_recordings

LOGGERS = Path(
    os.environ.get("LAPTRACE_LOGGERS_DIR", Path(__file__).resolve().parents[2] / "shared" / "data" / "loggers")
)


def _recording(name: str, fmt: str, t: np.ndarray, speed: np.ndarray, extra: dict[str, np.ndarray]) -> Recording:
    channels = {"speed": Channel("speed", "speed", "km/h", True, np.asarray(speed, np.float64))}
    for key, values in extra.items():
        channels[key] = Channel(key, key, "", key in ("lat", "long", "rpm"), np.asarray(values, np.float64))
    return Recording(Path(name), fmt, np.asarray(t, np.float64), channels)  # type: ignore[arg-type]


def _pair(minutes: float, ecu_rate: float, offset: float, drift_ppm: float) -> tuple[Recording, Recording]:
    src = read_recording(LOGGERS / "aim_csv" / "aim_format_example.csv")
    base_t, base_v = src.time, src.channels["speed"].values
    period = float(base_t[-1]) + 0.05
    total = minutes * 60.0
    reps = int(np.ceil((total + offset + 10) / (0.9 * period)))
    rng = np.random.default_rng(1)
    # each repetition a little faster or slower than the last, as real stints are: an exact
    # repeat would be ambiguous (and the merge rightly refuses ambiguous traces)
    stretch = 1.0 + 0.03 * rng.standard_normal(reps)
    starts = np.concatenate(([0.0], np.cumsum(period * stretch)[:-1]))
    t_src = np.concatenate([s0 + base_t * k for s0, k in zip(starts, stretch, strict=True)])
    v_src = np.concatenate([base_v / k for k in stretch])
    gps_t = np.arange(0.0, total, 0.1)
    gps_v = np.interp(gps_t, t_src, v_src)
    ecu_own = np.arange(0.0, total - offset, 1.0 / ecu_rate)
    ecu_true = offset + (1 + drift_ppm * 1e-6) * ecu_own
    ecu_v = np.interp(ecu_true, t_src, v_src) + rng.normal(0, 0.4, ecu_own.shape[0])
    gps = _recording(
        "gps.vbo", "vbo", gps_t, gps_v, {"lat": np.full_like(gps_t, 50.5), "long": np.full_like(gps_t, -104.5)}
    )
    ecu = _recording("ecu.csv", "motec", ecu_own, ecu_v, {"rpm": ecu_v * 60.0})
    return gps, ecu


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench merge", description=__doc__)
    ap.add_argument("--minutes", type=float, nargs="+", default=[15.0, 60.0, 180.0])
    ap.add_argument("--ecu-rate", type=float, nargs="+", default=[20.0, 100.0])
    ap.add_argument("--offset", type=float, default=3.37)
    ap.add_argument("--drift", type=float, default=200.0)
    args = ap.parse_args(argv)
    print(
        f"{'minutes':>7} {'ecu Hz':>6} {'rows gps':>9} {'rows ecu':>9} {'merged':>9} "
        f"{'align s':>8} {'merge s':>8} {'offset err ms':>13} {'drift err ppm':>13} {'conf':>6}"
    )
    for minutes in args.minutes:
        for rate in args.ecu_rate:
            gps, ecu = _pair(minutes, rate, args.offset, args.drift)
            t0 = time.perf_counter()
            a = align(gps, ecu)
            t1 = time.perf_counter()
            merged = merge_recordings(gps, ecu)
            t2 = time.perf_counter()
            print(
                f"{minutes:>7g} {rate:>6g} {gps.sample_count:>9} {ecu.sample_count:>9} "
                f"{merged.recording.sample_count:>9} {t1 - t0:>8.2f} {t2 - t1 - (t1 - t0):>8.2f} "
                f"{(a.offset_s - args.offset) * 1e3:>13.1f} {a.drift_ppm - args.drift:>13.1f} "
                f"{a.confidence:>6.3f}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
