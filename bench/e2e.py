"""End to end: ``laptrace import`` of the 1 h x 100 Hz x 250-channel WinDarab export against
"fastest read + Parquet write" of the same file in one process.

``python -m bench e2e [--minutes 60] [--runs 1] [--export PATH]`` writes the export of
``bench/textwide.py`` (or uses ``--export``), then times, each in a fresh process so no run
warms another's caches or imports:

* ``laptrace import FILE`` (the CLI: start-up, read with the SHA-256 in the same pass, lap
  split, SQLite catalogue, the Parquet write), with a fresh data directory;
* the same pipeline's stages inside one process (read + hash + split = ``import_file``, the
  Parquet write, the catalogue), to show where the time goes;
* the baseline: ``polars.read_csv`` of the file (same delimiter and types) plus
  ``pyarrow.parquet.write_table`` of the frame (ZSTD), and plus polars' own ``write_parquet``.

Ratios are against the faster baseline, measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench._common import REPO

_STAGES = """
import json, sys, time
from pathlib import Path
t0 = time.perf_counter()
from desktop_app.importing import import_file
from storage.db import make_engine, upgrade
from storage.parquet import ParquetTelemetryStorage
from storage.sessions import clean_draft, save_session
t1 = time.perf_counter()
imported = import_file(sys.argv[1])
t2 = time.perf_counter()
root = Path(sys.argv[2])
engine = make_engine(f"sqlite:///{(root / 'laptrace.sqlite3').as_posix()}")
upgrade(engine)
storage = ParquetTelemetryStorage(root)
t3 = time.perf_counter()
draft, _ = clean_draft(imported.draft)
session_id = save_session(draft, engine, storage)
t4 = time.perf_counter()
footer = storage.read_footer(session_id)
print(json.dumps({"imports": t1 - t0, "read_split": t2 - t1, "catalogue_open": t3 - t2, "save": t4 - t3,
                  "total": t4 - t0, "float32": len(footer.decimals), "channels": footer.channel_count,
                  "laps": len(footer.laps), "bytes": storage.path_for(session_id).stat().st_size}))
"""

_BASELINE = """
import json, sys, time
t0 = time.perf_counter()
import polars as pl
import pyarrow.parquet as pq
from bench.textwide import CHANNELS, HEADER_LINES, TEXT_COLUMNS
t1 = time.perf_counter()
keys = [f"f{i}" for i in range(CHANNELS)]
schema = {k: (pl.String if i >= CHANNELS - TEXT_COLUMNS else pl.Float64) for i, k in enumerate(keys)}
frame = pl.read_csv(sys.argv[1], has_header=False, skip_rows=HEADER_LINES, separator="\\t", schema=schema)
t2 = time.perf_counter()
if sys.argv[3] == "pyarrow":
    pq.write_table(frame.to_arrow(), sys.argv[2], compression="zstd")
else:
    frame.write_parquet(sys.argv[2])
t3 = time.perf_counter()
print(json.dumps({"imports": t1 - t0, "read": t2 - t1, "write": t3 - t2, "total": t3 - t0}))
"""


def _run(args: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    out = subprocess.run(args, capture_output=True, text=True, cwd=REPO, check=False)
    wall = time.perf_counter() - start
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:3])} failed ({out.returncode}): {out.stderr[-2000:]}")
    return wall, out.stdout


def _json(stdout: str) -> dict[str, float]:
    result: dict[str, float] = json.loads(stdout.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench e2e", description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--runs", type=int, default=1, help="best of this many runs of each")
    parser.add_argument("--export", type=Path, default=None, help="an export written before (skips writing one)")
    args = parser.parse_args(argv)
    laptrace = str(Path(sys.executable).with_name("laptrace"))
    with tempfile.TemporaryDirectory(prefix="laptrace-e2e-") as tmp:
        folder = Path(tmp)
        export: Path = args.export
        if export is None:
            from bench.textwide import write_export

            export = folder / f"windarab_{args.minutes:g}min.txt"
            write_export(export, args.minutes)
        size_mb = export.stat().st_size / 1e6
        cli: list[float] = []
        stages: list[dict[str, float]] = []
        base_pa: list[dict[str, float]] = []
        base_pl: list[dict[str, float]] = []
        for run in range(args.runs):
            data = folder / f"cli{run}"
            env = {**os.environ, "LAPTRACE_DATA_DIR": str(data)}
            start = time.perf_counter()
            out = subprocess.run(
                [laptrace, "import", str(export), "--data-dir", str(data)], capture_output=True, text=True, env=env
            )
            cli.append(time.perf_counter() - start)
            if out.returncode != 0:
                raise RuntimeError(f"laptrace import failed ({out.returncode}): {out.stderr[-2000:]}")
            stage_dir = folder / f"stages{run}"
            stage_dir.mkdir()
            stages.append(_json(_run([sys.executable, "-c", _STAGES, str(export), str(stage_dir)])[1]))
            for engine, into in (("pyarrow", base_pa), ("polars", base_pl)):
                target = folder / f"{engine}{run}.parquet"
                into.append(_json(_run([sys.executable, "-c", _BASELINE, str(export), str(target), engine])[1]))
                into[-1]["bytes"] = target.stat().st_size
                target.unlink()
    best_stage = min(stages, key=lambda s: s["total"])
    pa_best = min(base_pa, key=lambda s: s["total"])
    pl_best = min(base_pl, key=lambda s: s["total"])
    base = min(pa_best, pl_best, key=lambda s: s["total"])
    print(f"\nEnd to end, {args.minutes:g} min x 100 Hz x 250 channels ({size_mb:.0f} MB text), best of {args.runs}")
    print("each in a fresh process; ratio = case / the faster baseline (goal: laptrace import <= 1.3)")
    head = f"{'case':<50} {'imports s':>9} {'read s':>8} {'write s':>8} {'total s':>8} {'MB':>6} {'ratio':>6}"
    print(head)
    print("-" * len(head))
    print(
        f"{'laptrace import (CLI, SQLite)':<50} {'':>9} {'':>8} {'':>8} {min(cli):>8.2f} {'':>6} {min(cli) / base['total']:>6.2f}"
    )
    s = best_stage
    print(
        f"{'  same pipeline in one process':<50} {s['imports']:>9.2f} {s['read_split']:>8.2f} {s['save']:>8.2f} "
        f"{s['total']:>8.2f} {s['bytes'] / 1e6:>6.1f} {s['total'] / base['total']:>6.2f}"
    )
    for label, b in (
        ("polars read + pyarrow write_table (zstd)", pa_best),
        ("polars read + polars write_parquet", pl_best),
    ):
        print(
            f"{label:<50} {b['imports']:>9.2f} {b['read']:>8.2f} {b['write']:>8.2f} {b['total']:>8.2f} "
            f"{b['bytes'] / 1e6:>6.1f} {b['total'] / base['total']:>6.2f}"
        )
    print(
        f"read s (pipeline): read + SHA-256 + lap split ({s['laps']:.0f} laps); write s (pipeline): save_session "
        f"(Parquet + catalogue); {s['float32']:.0f} of {s['channels']:.0f} channels stored as float32"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
