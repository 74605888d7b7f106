"""Merging a GPS recording with an ECU recording: time and accuracy against session length.

``python -m bench merge [--minutes 15 60 180] [--ecu-rate 20 100] [--offset 3.37] [--drift 200]``

``python -m bench merge --confidence`` instead prints the correlation confidence (the
normalised correlation peak the merge trusts above :data:`~desktop_app.merging.align.MIN_PEAK`)
over real aligned pairs (one real recording split into a GPS and an ECU file, as the merge
tests build them: three ECU formats, offsets, drifts, noise, two sources) and over
unrelated real pairs (every two real files of different runs, and their halves, with their
clocks hidden so only the traces decide; pieces shorter than ``MIN_CORRELATION_S``, which
the merge refuses for their length, left out), and where the threshold sits between the two.

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
import itertools
import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from desktop_app.loggers import Channel, Recording, read_recording
from desktop_app.merging import align, merge_recordings
from storage.types import SourceType

LOGGERS = Path(
    os.environ.get("LAPTRACE_LOGGERS_DIR", Path(__file__).resolve().parents[2] / "shared" / "data" / "loggers")
)


def _recording(name: str, fmt: SourceType, t: np.ndarray, speed: np.ndarray, extra: dict[str, np.ndarray]) -> Recording:
    channels = {"speed": Channel("speed", "speed", "km/h", True, np.asarray(speed, np.float64))}
    for key, values in extra.items():
        channels[key] = Channel(key, key, "", key in ("lat", "long", "rpm"), np.asarray(values, np.float64))
    return Recording(Path(name), fmt, np.asarray(t, np.float64), channels)


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


def _aligned_confidences(tmp: Path) -> list[tuple[str, float]]:
    """Confidence of the true match for split recordings (as the merge tests build them)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from mergecases import AIM, GATES_VBO, build_case

    from desktop_app.merging.align import common_channel, correlate

    out: list[tuple[str, float]] = []
    k = 0
    for source in (AIM, GATES_VBO):
        for fmt in ("motec", "bosch", "racechrono"):
            for offset_rows, drift, seed in ((67, 200.0, 8), (301, -150.0, 3), (1500, 0.0, 5), (11, 800.0, 13)):
                for speeds in ((True, True), (False, False)):
                    k += 1
                    case = build_case(
                        tmp / f"a{k}", source=source, ecu_format=fmt, offset_rows=offset_rows,
                        drift_ppm=drift, seed=seed, gps_speed=speeds[0], ecu_speed=speeds[1],
                    )  # fmt: skip
                    gps = replace(read_recording(case.gps), started_at=None)
                    ecu = replace(read_recording(case.ecu), started_at=None)
                    ch = common_channel(gps, ecu)
                    peak = correlate(gps, ecu, ch) if ch else None
                    if peak is not None:
                        label = f"{Path(source).parent.name}->{fmt} rows+{offset_rows} {drift:+g}ppm {ch}"
                        out.append((label, peak.value))
    return out


def _halves(rec: Recording) -> list[Recording]:
    n = rec.sample_count
    parts = [rec]
    for a, b in ((0, n // 2), (n // 2, n)):
        if b - a < 200:
            continue
        chans = {k: replace(c, values=c.values[a:b]) for k, c in rec.channels.items()}
        t = rec.time[a:b] - rec.time[a]
        parts.append(replace(rec, time=t, channels=chans, started_at=None))
    return parts


def _unrelated_confidences() -> list[tuple[str, float]]:
    """Best correlation peak between real files of different runs, clocks hidden."""
    from desktop_app.loggers import LoggerFileError
    from desktop_app.merging.align import MIN_CORRELATION_S, common_channel, correlate

    recs: list[tuple[str, Recording]] = []
    for path in sorted(p for p in LOGGERS.rglob("*") if p.is_file() and p.suffix.lower() not in (".md", ".dbc")):
        try:
            rec = read_recording(path)
        except (LoggerFileError, ModuleNotFoundError, KeyError):
            continue
        recs.append((path.name, replace(rec, started_at=None)))
    out: list[tuple[str, float]] = []
    for (na, a), (nb, b) in itertools.permutations(recs, 2):
        for i, pa in enumerate(_halves(a)):
            for j, pb in enumerate(_halves(b)):
                if min(pa.time[-1], pb.time[-1]) < MIN_CORRELATION_S:
                    continue  # refused by its length before the correlation is looked at
                ch = common_channel(pa, pb)
                peak = correlate(pa, pb, ch) if ch else None
                if peak is not None:
                    out.append((f"{na}[{i}] vs {nb}[{j}] {ch}", peak.value))
    return out


def confidence_table() -> int:
    """Print the two distributions and where MIN_PEAK sits between them."""
    from desktop_app.merging.align import MIN_PEAK

    with tempfile.TemporaryDirectory() as tmp:
        aligned = _aligned_confidences(Path(tmp))
    unrelated = _unrelated_confidences()
    print(f"{'pairs':<12} {'n':>4} {'min':>6} {'p5':>6} {'median':>6} {'p95':>6} {'max':>6}")
    for name, rows in (("aligned", aligned), ("unrelated", unrelated)):
        v = np.array([c for _, c in rows])
        print(
            f"{name:<12} {v.shape[0]:>4} {v.min():>6.3f} {np.percentile(v, 5):>6.3f} {np.median(v):>6.3f} "
            f"{np.percentile(v, 95):>6.3f} {v.max():>6.3f}"
        )
    worst_aligned = min(aligned, key=lambda r: r[1])
    best_unrelated = max(unrelated, key=lambda r: r[1])
    print(f"lowest aligned:    {worst_aligned[1]:.3f}  {worst_aligned[0]}")
    print(f"highest unrelated: {best_unrelated[1]:.3f}  {best_unrelated[0]}")
    gap = worst_aligned[1] - best_unrelated[1]
    print(
        f"MIN_PEAK = {MIN_PEAK:.3f}: {MIN_PEAK - best_unrelated[1]:+.3f} above the highest unrelated pair, "
        f"{worst_aligned[1] - MIN_PEAK:+.3f} below the lowest aligned one (gap {gap:.3f})"
    )
    return 0 if best_unrelated[1] < MIN_PEAK <= worst_aligned[1] else 1


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench merge", description=__doc__)
    ap.add_argument("--minutes", type=float, nargs="+", default=[15.0, 60.0, 180.0])
    ap.add_argument("--ecu-rate", type=float, nargs="+", default=[20.0, 100.0])
    ap.add_argument("--offset", type=float, default=3.37)
    ap.add_argument("--drift", type=float, default=200.0)
    ap.add_argument("--confidence", action="store_true", help="print the confidence calibration instead")
    args = ap.parse_args(argv)
    if args.confidence:
        return confidence_table()
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
