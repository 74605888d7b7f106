"""Parquet storage benchmark: size against the seed's JSON arrays, SNAPPY vs ZSTD, write and
read throughput, and read_lap latency for a 20 min against a 24 h session.

``python -m bench parquet [--quick] [--no-real]``. ``--sizes`` prints only the archive size
table: every real logger file imported as the app imports it (its laps, float32 where
lossless), Laptrace's file against pyarrow's defaults for the same data, PostgreSQL
``float8[]`` arrays per lap and channel (estimated), and the source file under ``zstd -19``;
``--export MIN`` adds the synthetic WinDarab export of ``bench/textwide.py``. Synthetic sessions are shaped like real
ones (smooth quantised signals, a GPS loop, slow channels with NaN between their samples);
every real logger file the readers can read is benchmarked too, as one lap-0 session.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from bench._common import best
from storage.parquet import ParquetTelemetryStorage
from storage.types import (
    CANONICAL_UNITS,
    STANDARD_CHANNELS,
    FloatArray,
    LapTelemetry,
    SessionMetadata,
    SessionTelemetry,
)

LOGGERS = Path(
    os.environ.get("LAPTRACE_LOGGERS_DIR", Path(__file__).resolve().parents[1].parent / "shared" / "data" / "loggers")
)
LAP_SECONDS = 120.0  # synthetic laps: about two minutes


# --- synthetic sessions ----------------------------------------------------------------------


def _smooth(rng: np.random.Generator, n: int, width: int) -> FloatArray:
    """Band-limited noise in [-1, 1]: a random walk smoothed by a moving average."""
    walk = np.cumsum(rng.normal(size=n + width))
    kernel = np.ones(width) / width
    smooth = np.convolve(walk, kernel, mode="valid")[:n]
    smooth -= smooth.mean()
    peak = np.abs(smooth).max() or 1.0
    return np.asarray(smooth / peak, dtype=np.float64)


def _quantise(values: FloatArray, step: float) -> FloatArray:
    # loggers store scaled integers: values sit on a grid, which is what makes them compress
    return np.round(values / step) * step


def synthetic_session(session_id: int, hours: float, rate_hz: float, channels: int, seed: int = 1) -> SessionTelemetry:
    """A session of ``hours`` at ``rate_hz`` with ``channels`` channels (12 standard + aux)."""
    rng = np.random.default_rng(seed)
    n = int(hours * 3600 * rate_hz)
    t = np.arange(n) / rate_hz
    lap_rows = int(LAP_SECONDS * rate_hz)
    phase = 2 * np.pi * (t % LAP_SECONDS) / LAP_SECONDS
    speed = _quantise(150 + 70 * np.sin(3 * phase) + 10 * _smooth(rng, n, int(rate_hz * 2) + 1), 0.01)
    gear = np.clip(np.round(speed / 45), 1, 6)
    data: dict[str, FloatArray] = {
        "lat": _quantise(50.33 + 0.004 * np.sin(phase) + 1e-6 * rng.normal(size=n), 1e-7),
        "long": _quantise(6.94 + 0.006 * np.cos(phase) + 1e-6 * rng.normal(size=n), 1e-7),
        "speed": speed,
        "rpm": _quantise(speed * 60 / gear + 40 * rng.normal(size=n), 1.0),
        "throttle": _quantise(np.clip(50 + 60 * np.cos(3 * phase), 0, 100), 0.1),
        "brake": _quantise(np.clip(-40 * np.cos(3 * phase) - 10, 0, None), 0.01),
        "gear": gear,
        "steering": _quantise(90 * np.sin(5 * phase) + 3 * _smooth(rng, n, 11), 0.1),
        "glat": _quantise(1.8 * np.sin(5 * phase) + 0.05 * rng.normal(size=n), 0.001),
        "glong": _quantise(np.gradient(speed) * rate_hz / 35.3, 0.001),
    }
    aux: dict[str, FloatArray] = {}
    for i in range(channels - len(STANDARD_CHANNELS)):
        kind = i % 5
        if kind == 3:  # a slow channel (1..10 Hz) on the fast time base: NaN between samples
            values = np.full(n, np.nan)
            every = max(1, int(rate_hz / rng.choice([1, 2, 5, 10])))
            values[::every] = _quantise(80 + 20 * _smooth(rng, n, int(rate_hz * 30))[::every], 0.1)
        elif kind == 4:  # a status or flag channel
            values = np.repeat(rng.integers(0, 4, n // 500 + 1).astype(np.float64), 500)[:n]
        else:  # a fast physical sensor with some noise, on a sensor-resolution grid
            scale = 10.0 ** rng.integers(0, 3)
            values = _quantise(scale * (_smooth(rng, n, 25) + 0.01 * rng.normal(size=n)), scale / 1000)
        aux[f"aux_{i:03d} sensor"] = values

    laps = []
    for k, start in enumerate(range(0, n, lap_rows)):
        sl = slice(start, min(start + lap_rows, n))
        lap_t = t[sl] - t[start]
        channels_k = {"time": lap_t, "distance": _quantise(np.cumsum(speed[sl] / 3.6 / rate_hz), 0.01)}
        channels_k.update({c: v[sl] for c, v in data.items()})
        channels_k.update({c: v[sl] for c, v in aux.items()})
        laps.append(LapTelemetry(k, float(t[start]), channels_k))
    units = {c: u for c, u in CANONICAL_UNITS.items() if u is not None}
    units.update({c: "V" for c in aux})
    return SessionTelemetry(
        session_id=session_id,
        laps=laps,
        auxiliary_channels=list(aux),
        units=units,
        source_names={c: c for c in [*STANDARD_CHANNELS, *aux]},
        metadata=SessionMetadata(datetime.now(UTC), "vbo"),
    )


def real_sessions() -> Iterator[tuple[str, SessionTelemetry]]:
    """Every real logger file the readers can read, as one lap-0 session; others are skipped."""
    try:
        from desktop_app.loggers import read_recording
    except ImportError as exc:  # the readers are optional here
        print(f"(real files skipped: {exc})", file=sys.stderr)
        return
    files = sorted(p for p in LOGGERS.rglob("*") if p.is_file() and p.suffix.lower() not in (".md", ".dbc"))
    for i, path in enumerate(files, start=100):
        try:
            rec = read_recording(path)
        except Exception as exc:  # noqa: BLE001 - a reader still being written must not stop the bench
            print(f"(skipped {path.name}: {type(exc).__name__}: {exc})", file=sys.stderr)
            continue
        nan = np.full(rec.sample_count, np.nan)
        channels = {"time": rec.time, "distance": nan}
        channels.update({c.name: c.values for c in rec.channels.values()})
        aux = [c.name for c in rec.channels.values() if not c.standard]
        telemetry = SessionTelemetry(
            session_id=i,
            laps=[LapTelemetry(0, 0.0, channels)],
            auxiliary_channels=aux,
            units={c.name: c.unit for c in rec.channels.values()},
            source_names={c.name: c.source_name for c in rec.channels.values()},
            metadata=SessionMetadata(datetime.now(UTC), rec.format, rec.started_at),
        )
        yield f"{path.parent.name}/{path.name}", telemetry


# --- measuring -------------------------------------------------------------------------------


def json_size(telemetry: SessionTelemetry) -> int:
    """Bytes of the seed's storage: per lap, ``json.dumps`` of {channel: [values]} (NaN: null)."""
    total = 0
    for lap in telemetry.laps:
        nans = sum(int(np.isnan(v).sum()) for v in lap.channels.values())
        # json writes NaN as "NaN" (3 chars); valid JSON needs "null" (4)
        total += len(json.dumps({c: v.tolist() for c, v in lap.channels.items()})) + nans
    return total


def data_bytes(telemetry: SessionTelemetry) -> int:
    return sum(v.nbytes for lap in telemetry.laps for v in lap.channels.values())


@dataclass
class Row:
    name: str
    rows: int
    channels: int
    json_mb: float
    sizes: dict[str, float]  #: codec -> MB ("fixed": SNAPPY with every column dictionary-encoded)
    write_s: dict[str, float]
    read_s: dict[str, float]
    data_mb: float


def measure(name: str, telemetry: SessionTelemetry, folder: Path, repeat: int) -> Row:
    sizes: dict[str, float] = {}
    write_s: dict[str, float] = {}
    read_s: dict[str, float] = {}
    for codec in ("snappy", "zstd"):
        store = ParquetTelemetryStorage(folder / codec, compression=codec)
        write_s[codec] = best(lambda: store.write(telemetry), repeat)
        sizes[codec] = store.path_for(telemetry.session_id).stat().st_size / 1e6
        read_s[codec] = best(lambda: store.read(telemetry.session_id), repeat)
        store.delete(telemetry.session_id)
    fixed = ParquetTelemetryStorage(folder / "fixed", adaptive_encoding=False)
    sizes["fixed"] = fixed.write(telemetry).stat().st_size / 1e6
    fixed.delete(telemetry.session_id)
    return Row(
        name,
        telemetry.total_points,
        telemetry.channel_count,
        json_size(telemetry) / 1e6,
        sizes,
        write_s,
        read_s,
        data_bytes(telemetry) / 1e6,
    )


def lap_latency(folder: Path, telemetry: SessionTelemetry, calls: int) -> tuple[float, float, float, float]:
    """Median ms over laps spread through the session: read_lap on a fresh storage object
    (footer parsed: "cold"), read_lap again (footer cached: "warm"), read_footer cold, and
    the whole read."""
    store = ParquetTelemetryStorage(folder)
    store.write(telemetry)
    numbers = [lap.lap_number for lap in telemetry.laps]
    picks = [numbers[int(i * (len(numbers) - 1) / max(1, calls - 1))] for i in range(calls)]
    cold, warm, footer = [], [], []
    for k in picks:
        fresh = ParquetTelemetryStorage(folder)
        start = time.perf_counter()
        lap = fresh.read_lap(telemetry.session_id, k)
        cold.append((time.perf_counter() - start) * 1e3)
        assert lap is not None and lap.lap_number == k
        start = time.perf_counter()
        fresh.read_lap(telemetry.session_id, k)
        warm.append((time.perf_counter() - start) * 1e3)
        start = time.perf_counter()
        ParquetTelemetryStorage(folder).read_footer(telemetry.session_id)
        footer.append((time.perf_counter() - start) * 1e3)
    whole = best(lambda: store.read(telemetry.session_id), 1) * 1e3
    return statistics.median(cold), statistics.median(warm), statistics.median(footer), whole


# --- the archive against what it replaced ----------------------------------------------------

#: PostgreSQL float8[] per (session, lap, channel) row: the array header (varlena 4, ndim 4,
#: data offset 4, element type 4, dimension and lower bound 8), the heap tuple (header 24,
#: line pointer 4, two int4 keys and the channel name, ~24) and, arrays being over 2 KB, the
#: TOAST pointer (18) and per-1996-byte chunk row (~46: tuple header, chunk id, sequence).
#: pglz leaves float noise uncompressed (it needs 25 % savings), so 8 bytes per value.
_PG_ROW = 24 + 24 + 4 + 24 + 18
_PG_CHUNK = 46


def pg_float8_bytes(telemetry: SessionTelemetry) -> int:
    total = 0
    for lap in telemetry.laps:
        for values in lap.channels.values():
            data = 8 * len(values)
            total += _PG_ROW + data + _PG_CHUNK * -(-data // 1996)
    return total


def pyarrow_default_bytes(telemetry: SessionTelemetry, folder: Path) -> int:
    """The same columns (lap_number + float64 channels) through ``pq.write_table`` defaults."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    names = list(dict.fromkeys(c for lap in telemetry.laps for c in lap.channels))
    columns: dict[str, Any] = {
        "lap_number": np.concatenate([np.full(len(lap), lap.lap_number, np.int32) for lap in telemetry.laps])
    }
    for name in names:
        parts = [lap.channels.get(name, np.full(len(lap), np.nan)) for lap in telemetry.laps]
        columns[name] = pa.array(np.concatenate(parts), from_pandas=True)
    path = folder / "pyarrow-defaults.parquet"
    pq.write_table(pa.table(columns), path)
    size = path.stat().st_size
    path.unlink()
    return size


def zstd19_bytes(path: Path) -> int | None:
    """The source file under ``zstd -19`` (the CLI), or None without it."""
    zstd = shutil.which("zstd")
    if zstd is None:
        return None
    with path.open("rb") as src:
        out = subprocess.run([zstd, "-19", "-T1", "-c"], stdin=src, capture_output=True, check=True)
    return len(out.stdout)


@dataclass
class SizeRow:
    name: str
    rows: int
    channels: int
    float32: int
    laptrace: int
    pyarrow: int
    pg: int
    zstd19: int | None


def measure_archive(name: str, source: Path, folder: Path) -> SizeRow:
    from desktop_app.importing import import_file

    telemetry = import_file(source).draft.telemetry
    telemetry.session_id = 1
    store = ParquetTelemetryStorage(folder)
    path = store.write(telemetry)
    footer = store.read_footer(1)
    assert footer is not None
    row = SizeRow(
        name,
        telemetry.total_points,
        telemetry.channel_count,
        len(footer.decimals),
        path.stat().st_size,
        pyarrow_default_bytes(telemetry, folder),
        pg_float8_bytes(telemetry),
        zstd19_bytes(source),
    )
    store.delete(1)
    return row


def print_archive(rows: list[SizeRow]) -> None:
    print("\nArchive size: Laptrace's Parquet (ZSTD, per-column encoding, float32 where lossless) against")
    print("pyarrow's defaults (float64, SNAPPY, dictionary) for the same data, PostgreSQL float8[] per lap and")
    print("channel (estimate), and the source file under zstd -19. Goals: x zstd19 <= 1.5, x pyarrow < 1, x pg < 1")
    head = (
        f"{'file':<52} {'rows x ch':>13} {'f32':>4} {'Laptrace KB':>11} {'pyarrow KB':>10} {'x pyarrow':>9} "
        f"{'float8[] KB':>11} {'x pg':>5} {'zstd-19 KB':>10} {'x zstd19':>8}"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        z = f"{r.zstd19 / 1e3:>10.0f} {r.laptrace / r.zstd19:>8.2f}" if r.zstd19 else f"{'-':>10} {'-':>8}"
        print(
            f"{r.name[:52]:<52} {f'{r.rows} x {r.channels}':>13} {r.float32:>4} {r.laptrace / 1e3:>11.0f} "
            f"{r.pyarrow / 1e3:>10.0f} {r.laptrace / r.pyarrow:>9.2f} {r.pg / 1e3:>11.0f} {r.laptrace / r.pg:>5.2f} {z}"
        )
    print("f32: channels stored as float32 (of ch); every ratio is Laptrace / the other, measured in this run")


def archive_sizes(export_minutes: float | None) -> int:
    with tempfile.TemporaryDirectory(prefix="laptrace-bench-") as tmp:
        folder = Path(tmp)
        rows: list[SizeRow] = []
        files = sorted(p for p in LOGGERS.rglob("*") if p.is_file() and p.suffix.lower() not in (".md", ".dbc"))
        for path in files:
            print(f"... {path.name}", file=sys.stderr, flush=True)
            try:
                rows.append(measure_archive(f"{path.parent.name}/{path.name}", path, folder))
            except Exception as exc:  # noqa: BLE001 - one unreadable file must not stop the table
                print(f"(skipped {path.name}: {type(exc).__name__}: {exc})", file=sys.stderr)
        if export_minutes:
            from bench.textwide import write_export

            export = folder / f"windarab_{export_minutes:g}min.txt"
            print(f"... export {export_minutes:g} min (zstd -19 of it takes minutes)", file=sys.stderr, flush=True)
            write_export(export, export_minutes)
            rows.append(measure_archive(f"synthetic WinDarab export {export_minutes:g} min x 250 ch", export, folder))
        print_archive(rows)
    return 0


# --- one lap, cold: a fresh process, the file dropped from the page cache ----------------------

_COLD_LAP = """
import json, os, sys, time
from storage.parquet import ParquetTelemetryStorage
root, session, lap, warm = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
if warm != "-":  # a lap of another file first: the code is warm, this file is not
    assert ParquetTelemetryStorage(warm).read_lap(session, 0) is not None
store = ParquetTelemetryStorage(root)
path = store.path_for(session)
fd = os.open(path, os.O_RDONLY)
os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)  # evict its (clean) pages: a cold read
os.close(fd)
start = time.perf_counter()
got = store.read_lap(session, lap)
elapsed = time.perf_counter() - start
assert got is not None and got.lap_number == lap
print(json.dumps({"ms": elapsed * 1e3, "rows": len(got)}))
"""


def cold_lap_ms(root: Path, session_id: int, laps: list[int], warm: Path | None) -> float:
    """Median ms of read_lap, each lap in a new process with the file evicted from the cache
    (``warm``: after one read_lap of that other file, so the first call's set-up is not timed)."""
    import subprocess

    times: list[float] = []
    for lap in laps:
        out = subprocess.run(
            [sys.executable, "-c", _COLD_LAP, str(root), str(session_id), str(lap), str(warm or "-")],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).resolve().parents[1],
        )
        times.append(float(json.loads(out.stdout.strip().splitlines()[-1])["ms"]))
    return statistics.median(times)


def lap_read_ratio(quick: bool) -> None:
    day_hours = 4.0 if quick else 24.0
    print("\nread_lap cold (new process, file evicted from the page cache; median of 9 laps spread out)")
    print("first: the process's first read_lap; file cold: after a read_lap of another file (code warm)")
    head = (
        f"{'session':<28} {'laps':>5} {'file MB':>8} {'footer KB':>9} {'first ms':>9} {'ratio':>6} "
        f"{'file cold ms':>12} {'ratio':>6}"
    )
    print(head)
    print("-" * len(head))
    with tempfile.TemporaryDirectory(prefix="laptrace-bench-") as tmp:
        other = Path(tmp) / "other"
        ParquetTelemetryStorage(other).write(synthetic_session(3, 0.05, 25, 33))
        base: tuple[float, float] | None = None
        for label, hours in (("20 min @ 25 Hz, 33 ch", 1 / 3), (f"{day_hours:g} h @ 25 Hz, 33 ch", day_hours)):
            print(f"... {label}", file=sys.stderr, flush=True)
            telemetry = synthetic_session(3, hours, 25, 33)
            root = Path(tmp) / f"{hours:g}"
            path = ParquetTelemetryStorage(root).write(telemetry)
            numbers = [lap.lap_number for lap in telemetry.laps]
            picks = sorted({numbers[int(i * (len(numbers) - 1) / 8)] for i in range(9)})
            first, cold = cold_lap_ms(root, 3, picks, None), cold_lap_ms(root, 3, picks, other)
            base = base or (first, cold)
            import pyarrow.parquet as pq

            footer = pq.read_metadata(path).serialized_size / 1e3
            print(
                f"{label:<28} {len(numbers):>5} {path.stat().st_size / 1e6:>8.1f} {footer:>9.0f} {first:>9.1f} "
                f"{first / base[0]:>6.2f} {cold:>12.1f} {cold / base[1]:>6.2f}"
            )
            del telemetry
    print("ratio: against the 20 min session in this run (goal: <= 2)")


# --- tables ----------------------------------------------------------------------------------


def print_sizes(rows: list[Row]) -> None:
    print("\nSize: the seed's JSON arrays against Parquet (ratio = Parquet / JSON; seed: <= 50 %, aim: <= 15 %)")
    print("'fixed': SNAPPY with pyarrow's default encoding (all dictionary) instead of the per-column choice")
    head = (
        f"{'case':<46} {'rows x ch':>15} {'float64 MB':>10} {'JSON MB':>9} {'SNAPPY MB':>9} {'ratio':>6} "
        f"{'ZSTD MB':>8} {'ratio':>6} {'fixed':>6}"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        print(
            f"{r.name[:46]:<46} {f'{r.rows} x {r.channels}':>15} {r.data_mb:>10.2f} {r.json_mb:>9.2f} "
            f"{r.sizes['snappy']:>9.3f} {r.sizes['snappy'] / r.json_mb:>6.1%} "
            f"{r.sizes['zstd']:>8.3f} {r.sizes['zstd'] / r.json_mb:>6.1%} {r.sizes['fixed'] / r.json_mb:>6.1%}"
        )


def print_speeds(rows: list[Row]) -> None:
    print("\nThroughput (MB/s of float64 data in memory; rows/s), best of the repeats")
    head = f"{'case':<46} {'codec':<6} {'write MB/s':>10} {'write rows/s':>13} {'read MB/s':>10} {'read rows/s':>12}"
    print(head)
    print("-" * len(head))
    for r in rows:
        for codec in ("snappy", "zstd"):
            w, rd = r.write_s[codec], r.read_s[codec]
            print(
                f"{r.name[:46]:<46} {codec:<6} {r.data_mb / w:>10.0f} {r.rows / w:>13,.0f} "
                f"{r.data_mb / rd:>10.0f} {r.rows / rd:>12,.0f}"
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench parquet", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller sessions, one repeat (~30 s)")
    parser.add_argument("--no-real", action="store_true", help="skip the real logger files")
    parser.add_argument("--sizes", action="store_true", help="only the archive size table")
    parser.add_argument("--lap-read", action="store_true", help="only the cold read_lap table (20 min vs 24 h)")
    parser.add_argument("--export", type=float, default=None, help="--sizes: add the WinDarab export of MIN minutes")
    args = parser.parse_args(argv)
    if args.sizes:
        return archive_sizes(args.export)
    if args.lap_read:
        lap_read_ratio(args.quick)
        return 0
    quick: bool = args.quick
    repeat = 1 if quick else 3

    cases: list[tuple[str, Callable[[], SessionTelemetry]]] = [
        ("synthetic 20 min @ 25 Hz, 33 ch", lambda: synthetic_session(1, 1 / 3, 25, 33)),
        (
            "synthetic 10 min @ 100 Hz, 250 ch" if quick else "synthetic 1 h @ 100 Hz, 250 ch",
            lambda: synthetic_session(2, 1 / 6 if quick else 1.0, 100, 250),
        ),
    ]
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="laptrace-bench-") as tmp:
        folder = Path(tmp)
        # warm up (imports, pyarrow's thread pools, codecs) so the first case is not penalised
        measure("warm-up", synthetic_session(9, 0.02, 25, 33), folder, 1)
        for name, make in cases:
            print(f"... {name}", file=sys.stderr, flush=True)
            telemetry = make()
            big = data_bytes(telemetry) > 200e6  # one repeat keeps a full run near 3 minutes
            rows.append(measure(name, telemetry, folder, 1 if big else repeat))
            del telemetry
        if not args.no_real:
            for name, telemetry in real_sessions():
                rows.append(measure(f"real {name}", telemetry, folder, repeat))
        print_sizes(rows)
        print_speeds(rows)

        day_hours = 4.0 if quick else 24.0
        print(f"... read_lap latency: 20 min vs {day_hours:g} h", file=sys.stderr, flush=True)
        print(
            f"\nread_lap latency (median ms over 9 laps spread through the session, SNAPPY; laps of {LAP_SECONDS:g} s)"
        )
        print("cold: a fresh storage object parses the footer first; warm: the footer is cached")
        head = (
            f"{'session':<28} {'laps':>5} {'rows':>9} {'file MB':>8} {'read_lap cold':>14} "
            f"{'read_lap warm':>14} {'footer only':>12} {'whole read':>11}"
        )
        print(head)
        print("-" * len(head))
        for label, hours in (("20 min @ 25 Hz, 33 ch", 1 / 3), (f"{day_hours:g} h @ 25 Hz, 33 ch", day_hours)):
            telemetry = synthetic_session(3, hours, 25, 33)
            latency = folder / "latency"
            cold, warm, footer, whole = lap_latency(latency, telemetry, 9)
            store = ParquetTelemetryStorage(latency)
            size = store.path_for(3).stat().st_size / 1e6
            print(
                f"{label:<28} {len(telemetry.laps):>5} {telemetry.total_points:>9} {size:>8.1f} {cold:>14.1f} "
                f"{warm:>14.1f} {footer:>12.1f} {whole:>11.0f}"
            )
            store.delete(3)
            del telemetry
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
