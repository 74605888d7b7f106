"""Import scaling: time and peak memory of ``import_file`` + the Parquet write at 1x-64x a real file.

``python -m bench scaling [--only NAME] [--factors 1,4,16,64]`` builds copies of real text
logger files whose data block is repeated (time kept increasing, as ``bench readers``
does) and imports each in a fresh process: read with the SHA-256 in the same pass, lap
split, Parquet write. Per copy it prints seconds and peak RSS, and both per million samples
against the 1x copy: linear scaling keeps the ratios near 1 (a quadratic step would double
them at every 4x).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from bench._common import REPO, RSS_RESET, run_probe
from bench.readers import make_long

sys.path.insert(0, str(REPO / "tests"))
from realfiles import logger_file

FILES = ("bosch_windarab_txt/sim_data.txt", "vbo/25IR05_RdAm_FP1_Run05_TL.vbo")

_PROBE = (
    """
import json, sys, time
from pathlib import Path
from desktop_app.importing import import_file
from storage.parquet import ParquetTelemetryStorage
"""
    + RSS_RESET
    + """
start = time.perf_counter()
telemetry = import_file(Path(sys.argv[1])).draft.telemetry
telemetry.session_id = 1
ParquetTelemetryStorage(Path(sys.argv[2])).write(telemetry)
elapsed = time.perf_counter() - start
print(json.dumps({"s": elapsed, "peak": status("VmHWM:") - before, "points": telemetry.total_points}))
"""
)


def _probe(path: Path, out: Path) -> dict[str, float]:
    best: dict[str, float] | None = None
    for _ in range(2):
        got = run_probe(_PROBE, str(path), str(out))
        if best is None or got["s"] < best["s"]:
            best = got
    assert best is not None
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench scaling", description=__doc__.split("\n")[0])
    parser.add_argument("--only", default="", help="only files whose path contains this")
    parser.add_argument("--factors", default="1,4,16,64")
    args = parser.parse_args(argv)
    from desktop_app.loggers import sniff

    factors = [int(f) for f in args.factors.split(",")]
    print(
        f"{'file':<40} {'x':>4} {'rows':>10} {'s':>8} {'peak MB':>8} {'s/Mrow':>10} {'MB/Mrow':>10} {'vs 1x s':>8} {'vs 1x MB':>8}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for name in (f for f in FILES if args.only in f):
            path = logger_file(name)
            base: tuple[float, float] | None = None
            for factor in factors:
                copy = path if factor == 1 else make_long(path, sniff(path), Path(tmp), factor)
                got = _probe(copy, Path(tmp) / "out")
                per_s = got["s"] / got["points"] * 1e6
                per_mb = got["peak"] / 1e6 / got["points"] * 1e6
                if base is None:
                    base = (per_s, per_mb)
                print(
                    f"{Path(name).name:<40} {factor:>4} {int(got['points']):>10} {got['s']:8.2f} {got['peak'] / 1e6:8.0f} "
                    f"{per_s:10.2f} {per_mb:10.1f} {per_s / base[0]:8.2f} {per_mb / base[1]:8.2f}",
                    flush=True,
                )
                if copy != path:
                    copy.unlink()
    print(
        "s and peak: best of 2 fresh processes; per Mrow = per million rows (samples of the time base);\n"
        "vs 1x = that figure over the 1x copy's (1.00 = linear)."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
