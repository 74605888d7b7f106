"""End-to-end import and the catalogue vs the seed's old storage.

``python -m bench catalog [--files PATH...] [--minutes 60] [--rate 100] [--channels 250]
[--no-synthetic] [--repeat 5]``

For every real logger file (``../shared/data/loggers`` or ``LAPTRACE_LOGGERS_DIR``):

* ``laptrace import FILE`` end to end in a fresh process (wall time, peak RSS), SQLite;
* the split, in this process: read (``read_recording``), laps (``import_file`` minus the
  read), commit (``save_session`` up to the Parquet write's first progress report), and
  Parquet (the rest: the write, fsync, rename and the status update);
* side by side, the seed's old storage, the same telemetry as PostgreSQL ``float8[]``
  arrays (one row per lap and channel): the table's size (``pg_total_relation_size``, with
  TOAST and index) and the time to read one lap back into arrays, against the Parquet
  file's size and ``read_lap`` time (median of ``--repeat``, the longest lap).

Then the same (save split, peak RSS, both storages) for a synthetic 1 h, 100 Hz,
250-channel session saved in a fresh process (there is no logger file that size: it starts
from the in-memory draft, so its "read" and "laps" are blank). PostgreSQL comes from
``LAPTRACE_TEST_POSTGRES_URL`` or a throwaway server started with ``.ci/postgres.sh``.
Prints a table; asserts nothing.
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
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
LOGGERS = Path(os.environ.get("LAPTRACE_LOGGERS_DIR", REPO.parent / "shared" / "data" / "loggers"))


@contextmanager
def postgres() -> Iterator[str]:
    """The benchmark's PostgreSQL URL: the test server's, or a throwaway one."""
    url = os.environ.get("LAPTRACE_TEST_POSTGRES_URL")
    if url:
        yield url
        return
    folder = Path(tempfile.mkdtemp(prefix="laptrace-bench-pg-"))
    out = subprocess.run(
        ["bash", str(REPO / ".ci" / "postgres.sh"), str(folder)], check=True, capture_output=True, text=True
    )
    try:
        yield out.stdout.strip().splitlines()[-1]
    finally:
        pg_ctl = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))[-1]
        cmd = [str(pg_ctl), "-D", str(folder / "data"), "-m", "immediate", "stop"]
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


def median_time(repeat: int, fn: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


# --- the seed's old storage ----------------------------------------------------------------


def old_storage(pg_url: str, telemetry: Any, lap_number: int, repeat: int) -> dict[str, float]:
    """Store ``telemetry`` as float8[] per lap and channel; size and one-lap read time."""
    import psycopg

    conninfo = pg_url.replace("postgresql+psycopg://", "postgresql://", 1)
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
        conn.execute(f'SET search_path TO "{schema}"')
        try:
            conn.execute(
                "CREATE TABLE lap_channel_data (session_id int NOT NULL, lap_number int NOT NULL,"
                " channel text NOT NULL, vals float8[] NOT NULL,"
                " PRIMARY KEY (session_id, lap_number, channel))"
            )
            t0 = time.perf_counter()
            with conn.transaction(), conn.cursor() as cur:
                for lap in telemetry.laps:
                    cur.executemany(
                        "INSERT INTO lap_channel_data VALUES (%s, %s, %s, %b)",
                        [(1, lap.lap_number, name, values.tolist()) for name, values in lap.channels.items()],
                    )
            insert_s = time.perf_counter() - t0
            conn.execute("VACUUM ANALYZE lap_channel_data")
            size = conn.execute("SELECT pg_total_relation_size('lap_channel_data')").fetchone()

            def read_lap() -> dict[str, np.ndarray[Any, Any]]:
                rows = conn.execute(
                    "SELECT channel, vals FROM lap_channel_data WHERE session_id = %s AND lap_number = %s",
                    (1, lap_number),
                    binary=True,
                ).fetchall()
                return {name: np.asarray(vals, dtype=np.float64) for name, vals in rows}

            assert len(read_lap()) == len(telemetry.laps[0].channels)
            read_s = median_time(repeat, read_lap)
        finally:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    return {"pg_mb": (size[0] if size else 0) / 2**20, "pg_lap_ms": read_s * 1000, "pg_insert_s": insert_s}


# --- one session ----------------------------------------------------------------------------


def measure_save(draft: Any, workdir: Path, pg_url: str, repeat: int) -> dict[str, float]:
    """Save split (commit / Parquet) into SQLite + Parquet, and both storages' size and lap read."""
    from storage.db import make_engine, upgrade
    from storage.parquet import ParquetTelemetryStorage
    from storage.sessions import save_session

    engine = make_engine(f"sqlite:///{(workdir / 'laptrace.sqlite3').as_posix()}")
    upgrade(engine)
    storage = ParquetTelemetryStorage(workdir)
    # the save pipeline's checkpoints double as timing marks
    marks: dict[str, float] = {}

    def mark(stage: str) -> None:
        marks.setdefault(stage, time.perf_counter())

    try:
        t0 = time.perf_counter()
        sid = save_session(draft, engine, storage, force=True, checkpoint=mark)
        t1 = time.perf_counter()
    finally:
        engine.dispose()
    lap = max(draft.telemetry.laps, key=len).lap_number
    out = {
        "commit_s": marks["after_commit"] - t0,
        "parquet_s": t1 - marks["after_commit"],
        "parquet_mb": storage.path_for(sid).stat().st_size / 2**20,
        "parquet_lap_ms": median_time(repeat, lambda: storage.read_lap(sid, lap)) * 1000,
    }
    out.update(old_storage(pg_url, draft.telemetry, lap, repeat))
    return out


#: Runs a command and prints its exit code and peak RSS. Linux carries a process's peak RSS
#: across fork and exec, so a child of this (large) process would report our peak; a child
#: of this small launcher reports its own.
_LAUNCHER = """
import os, subprocess, sys, time
t0 = time.perf_counter()
p = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE)
out = p.stdout.read()
_, status, usage = os.wait4(p.pid, 0)
wall = time.perf_counter() - t0
sys.stderr.buffer.write(out)
print(os.waitstatus_to_exitcode(status), usage.ru_maxrss, wall)
"""


def run_measured(cmd: list[str], env: dict[str, str] | None = None) -> tuple[int, float, float, str]:
    """Exit code, peak RSS (MB), wall seconds and stdout of ``cmd`` in a fresh process."""
    out = subprocess.run(
        [sys.executable, "-c", _LAUNCHER, *cmd], env=env, cwd=REPO, capture_output=True, text=True, check=True
    )
    code, maxrss, wall = out.stdout.split()
    scale = 1 if sys.platform == "darwin" else 1024
    return int(code), int(maxrss) * scale / 2**20, float(wall), out.stderr


def end_to_end(path: Path, workdir: Path) -> tuple[float, float, int]:
    """``laptrace import FILE`` in a fresh process: wall seconds, peak RSS MB, exit code."""
    env = dict(os.environ, LAPTRACE_CONFIG_DIR=str(workdir / "config"))
    env.pop("LAPTRACE_DATABASE_URL", None)
    code, peak, wall, _ = run_measured(
        [sys.executable, "-m", "desktop_app", "import", str(path), "--data-dir", str(workdir / "e2e")], env
    )
    return wall, peak, code


def measure_file(path: Path, pg_url: str, repeat: int) -> dict[str, Any]:
    from desktop_app.importing import import_file

    row: dict[str, Any] = {"name": path.name, "mb_in": path.stat().st_size / 2**20}
    with tempfile.TemporaryDirectory(prefix="laptrace-bench-") as tmp:
        work = Path(tmp)
        row["e2e_s"], row["peak_mb"], code = end_to_end(path, work)
        if code != 0:
            row["error"] = f"laptrace import exited {code}"
            return row
        # import_file reports: 1 = read, 2 = SHA-256 taken, 4 = laps split and measured
        ticks: dict[int, float] = {}

        def tick(done: int, _total: int) -> None:
            ticks.setdefault(done, time.perf_counter())

        t0 = time.perf_counter()
        draft = import_file(path, progress=tick).draft
        row["read_s"], row["laps_s"] = ticks[1] - t0, ticks[4] - ticks[2]
        row.update(samples=draft.telemetry.total_points, channels=draft.telemetry.channel_count, laps=len(draft.laps))
        row.update(measure_save(draft, work / "split", pg_url, repeat))
    return row


def synthetic_draft(minutes: float, rate: float, channels: int) -> Any:
    from storage.types import (
        ChannelInfo,
        LapRecord,
        LapTelemetry,
        SessionDraft,
        SessionMetadata,
        SessionTelemetry,
        SourceRecord,
    )

    lap_s, n_total = 120.0, int(minutes * 60 * rate)
    per_lap = int(lap_s * rate)
    rng = np.random.default_rng(1)
    aux = [f"aux_{i:03d}" for i in range(channels - 12)]
    laps: list[LapTelemetry] = []
    records: list[LapRecord] = []
    start = 0
    while start < n_total:
        n = min(per_lap, n_total - start)
        t = np.arange(n) / rate
        chans = {"time": t, "distance": np.cumsum(np.full(n, 50.0 / rate))}
        for name in ("lat", "long", "speed", "rpm", "throttle", "brake", "gear", "steering", "glat", "glong"):
            chans[name] = rng.normal(100.0, 10.0, n)
        for name in aux:
            chans[name] = np.round(rng.normal(0.0, 1.0, n), 3)  # logged at a sensor's resolution
        k = len(laps)
        laps.append(LapTelemetry(k, start / rate, chans))
        records.append(
            LapRecord(
                k,
                "flying",
                start / rate,
                n / rate,
                float(chans["distance"][-1]),
                n,
                None,
                None,
                [],
                True,
                "",
                complete=n == per_lap,
            )
        )
        start += n
    when = datetime(2024, 1, 1, tzinfo=UTC)
    units = {name: "x" for name in laps[0].channels}
    telemetry = SessionTelemetry(
        0,
        laps,
        aux,
        units,
        {u: u for u in units},
        SessionMetadata(imported_at=when, source_type="vbo", started_at=when),
    )
    source = SourceRecord(
        "vbo",
        "synthetic.vbo",
        0,
        uuid.uuid4().hex * 2,
        None,
        rate,
        [ChannelInfo(c, c, "x", c not in aux) for c in units],
        when,
    )
    return SessionDraft("synthetic", None, None, None, when, "", "gate", [source], records, telemetry)


def _synthetic_worker(args: argparse.Namespace, pg_url: str) -> int:
    t0 = time.perf_counter()
    draft = synthetic_draft(args.minutes, args.rate, args.channels)
    build_s = time.perf_counter() - t0
    with tempfile.TemporaryDirectory(prefix="laptrace-bench-") as tmp:
        row: dict[str, Any] = dict(measure_save(draft, Path(tmp), pg_url, args.repeat))
    row.update(
        name=f"synthetic {args.minutes:g} min {args.rate:g} Hz {args.channels} ch",
        samples=draft.telemetry.total_points,
        channels=draft.telemetry.channel_count,
        laps=len(draft.laps),
        build_s=build_s,
        mb_in=sum(a.nbytes for lap in draft.telemetry.laps for a in lap.channels.values()) / 2**20,
    )
    print(json.dumps(row))
    return 0


def _fmt(row: dict[str, Any], key: str, spec: str) -> str:
    value = row.get(key)
    return "-" if value is None else format(value, spec)


COLUMNS = [
    ("name", "file", "<46", "s"),
    ("mb_in", "in MB", ">7", ".2f"),
    ("samples", "rows", ">9", "d"),
    ("channels", "ch", ">4", "d"),
    ("laps", "laps", ">4", "d"),
    ("e2e_s", "e2e s", ">6", ".2f"),
    ("peak_mb", "peak MB", ">8", ".0f"),
    ("read_s", "read s", ">7", ".3f"),
    ("laps_s", "laps s", ">7", ".3f"),
    ("commit_s", "commit s", ">8", ".3f"),
    ("parquet_s", "parq s", ">7", ".3f"),
    ("parquet_mb", "parq MB", ">8", ".2f"),
    ("parquet_lap_ms", "parq lap ms", ">11", ".1f"),
    ("pg_mb", "pg[] MB", ">8", ".2f"),
    ("pg_lap_ms", "pg lap ms", ">9", ".1f"),
    ("pg_insert_s", "pg ins s", ">8", ".2f"),
]


def print_header() -> None:
    print("  ".join(format(title, align) for _, title, align, _ in COLUMNS), flush=True)


def print_row(row: dict[str, Any]) -> None:
    cells = []
    for key, _, align, spec in COLUMNS:
        cell = str(row.get(key, "-"))[-46:] if spec == "s" else _fmt(row, key, spec)
        cells.append(format(cell, align))
    print("  ".join(cells) + (f"  ({row['error']})" if "error" in row else ""), flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench catalog", description=__doc__.split("\n")[0])
    parser.add_argument("--files", nargs="*", type=Path, help="logger files (default: every real one)")
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--channels", type=int, default=250)
    parser.add_argument("--no-synthetic", action="store_true")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--synthetic-worker", metavar="PG_URL", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.synthetic_worker:
        return _synthetic_worker(args, args.synthetic_worker)

    files = (
        args.files
        if args.files is not None
        else sorted(p for p in LOGGERS.rglob("*") if p.is_file() and p.suffix.lower() not in (".md", ".dbc"))
    )
    rows: list[dict[str, Any]] = []
    print_header()
    with postgres() as pg_url:
        for path in files:
            try:
                rows.append(measure_file(path, pg_url, args.repeat))
            except Exception as exc:  # noqa: BLE001 - one unreadable file does not stop the bench
                rows.append({"name": path.name, "error": f"{type(exc).__name__}: {exc}"})
            print_row(rows[-1])
        if not args.no_synthetic:
            cmd = [
                sys.executable,
                "-m",
                "bench",
                "catalog",
                "--synthetic-worker",
                pg_url,
                "--minutes",
                str(args.minutes),
                "--rate",
                str(args.rate),
                "--channels",
                str(args.channels),
                "--repeat",
                str(args.repeat),
            ]
            code, peak, _wall, out = run_measured(cmd)
            if code != 0:
                rows.append({"name": "synthetic", "error": f"worker exited {code}"})
            else:
                row = json.loads(out.strip().splitlines()[-1])
                # e2e: building the draft in memory plus saving it (not the old-storage part)
                row.update(e2e_s=row["build_s"] + row["commit_s"] + row["parquet_s"], peak_mb=peak)
                rows.append(row)
            print_row(rows[-1])
    print(
        "e2e: `laptrace import FILE` in a new process (SQLite), incl. Python start; synthetic: building "
        "the draft in memory + saving it.\npeak MB: peak RSS of that process (synthetic: including "
        "the old-storage insert). "
        "commit: duplicate check + metadata transaction; parq s: Parquet write + fsync + rename + status update.\n"
        "parq/pg lap ms: median time to read the longest lap back (Parquet read_lap vs SELECT of "
        "its float8[] rows per channel). pg[] MB: pg_total_relation_size (heap + TOAST + index)."
    )
    return 0
