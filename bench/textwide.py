"""A wide WinDarab-style export (100 Hz, 250 channels, ten text columns): read speed and memory.

``python -m bench textwide [--minutes 6,60]`` writes a synthetic Bosch WinDarab ASCII export
per length (tab-separated, every value right-aligned to 12 characters as WinDarab does,
ten sensor-state text columns such as ``running``/``timeout``/``waitCam``) and prints, per
length, Laptrace's reader beside ``polars.read_csv`` and ``pyarrow.csv.read_csv`` of the
same file with the same delimiter and types (float64, string for the text columns), and
the reader's peak memory against the decoded float64 columns. Ratios are against polars,
measured in the same run. ``--import`` adds the end to end import (``import_file``: read,
SHA-256, lap split, then the Parquet write) beside polars' read plus its own Parquet write
of the same frame.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from bench._common import best
from bench.readers import _MEMORY_PROBE, _probe

RATE_HZ = 100
CHANNELS = 250
TEXT_COLUMNS = 10
WIDTH = 12
HEADER_LINES = 5
_STATES = ("running", "timeout", "waitCam", "init")


def write_export(path: Path, minutes: float, seed: int = 1) -> int:
    """Write the export; returns its row count."""
    rng = np.random.default_rng(seed)
    rows = int(minutes * 60 * RATE_HZ)
    period = min(rows, 6000)  # the channel rows repeat with this period (time keeps going)
    numeric = CHANNELS - 1 - TEXT_COLUMNS
    walk = rng.normal(0, 1, (period, numeric)).cumsum(axis=0) * 10
    decimals = rng.integers(0, 4, numeric)
    cols = [[f"{v:{WIDTH}.{decimals[j]}f}" for v in walk[:, j]] for j in range(numeric)]
    for k in range(TEXT_COLUMNS):
        states = rng.integers(0, len(_STATES), period // 500 + 1)
        cols.append([f"{_STATES[states[i // 500]] if k else 'No Error':>{WIDTH}}" for i in range(period)])
    tails = [("\t" + "\t".join(c[i] for c in cols) + "\r\n").encode() for i in range(period)]
    names = (
        ["xtime    [   s]"] + [f"ch{i:03d} [unit]" for i in range(numeric)] + [f"state{i}" for i in range(TEXT_COLUMNS)]
    )
    with open(path, "wb") as fh:
        fh.write(b"# BOSCH-DARAB extract file created 08.08.2020 14:22:16\r\n#\r\n# synthetic\r\n# \r\n")
        fh.write(("\t".join(names) + "\r\n").encode())
        for start in range(0, rows, period):
            fh.write(b"".join(b"%15.3f" % ((start + i) / RATE_HZ) + tails[i] for i in range(min(period, rows - start))))
    return rows


def _polars(path: Path) -> Callable[[], object]:
    import polars as pl

    keys = [f"f{i}" for i in range(CHANNELS)]
    schema = {k: (pl.String if i >= CHANNELS - TEXT_COLUMNS else pl.Float64) for i, k in enumerate(keys)}
    return lambda: pl.read_csv(path, has_header=False, skip_rows=HEADER_LINES, separator="\t", schema=schema)


def _pyarrow(path: Path) -> Callable[[], object]:
    import pyarrow as pa
    import pyarrow.csv as pcsv

    keys = [f"f{i}" for i in range(CHANNELS)]
    types = {k: (pa.string() if i >= CHANNELS - TEXT_COLUMNS else pa.float64()) for i, k in enumerate(keys)}
    # pyarrow does not trim numbers: it reads the padded export only with the spaces removed,
    # so it is timed on a copy without them (its own work, not the reader's)
    bare = path.with_suffix(".bare.txt")
    with open(path, "rb") as src, open(bare, "wb") as dst:
        for _ in range(HEADER_LINES):
            src.readline()
        while chunk := src.read(1 << 24):
            dst.write(chunk.translate(None, b" "))

    def run() -> object:
        return pcsv.read_csv(
            bare,
            read_options=pcsv.ReadOptions(column_names=keys),
            parse_options=pcsv.ParseOptions(delimiter="\t"),
            convert_options=pcsv.ConvertOptions(column_types=types),
        )

    return run


def _import_and_write(path: Path, folder: Path) -> Callable[[], object]:
    from desktop_app.importing import import_file
    from storage.parquet import ParquetTelemetryStorage

    def run() -> object:
        telemetry = import_file(path).draft.telemetry
        telemetry.session_id = 1
        return ParquetTelemetryStorage(folder).write(telemetry)

    return run


def _polars_read_and_write(path: Path, folder: Path) -> Callable[[], object]:
    read = _polars(path)

    def run() -> object:
        frame: Any = read()
        frame.write_parquet(folder / "polars.parquet")
        return None

    return run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench textwide", description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", default="6,60", help="export lengths, comma-separated (60 = 1 h)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-arrow", action="store_true")
    parser.add_argument("--import", dest="end_to_end", action="store_true", help="also time the whole import")
    args = parser.parse_args(argv)
    from desktop_app.loggers import bosch

    print(
        f"{'length':>8} {'rows':>8} {'MB':>7} {'reader s':>9} {'polars s':>9} {'arrow s':>8} "
        f"{'xpolars':>7} {'xarrow':>7} {'peak MB':>8} {'f64 MB':>8} {'x f64':>6}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for minutes in (float(m) for m in args.minutes.split(",")):
            path = Path(tmp) / f"wide_{minutes:g}min.txt"
            rows = write_export(path, minutes)
            runs = args.runs if minutes <= 10 else 1
            t_polars = best(_polars(path), runs)
            t_reader = best(lambda: bosch.read(path), runs)
            t_arrow = None if args.no_arrow else best(_pyarrow(path), runs)
            peak, decoded = _probe(_MEMORY_PROBE, str(path))
            arrow = f"{t_arrow:8.2f}" if t_arrow is not None else f"{'-':>8}"
            xarrow = f"{t_reader / t_arrow:7.2f}" if t_arrow else f"{'-':>7}"
            print(
                f"{minutes:>6g}mn {rows:>8} {path.stat().st_size / 1e6:7.0f} {t_reader:9.2f} {t_polars:9.2f} "
                f"{arrow} {t_reader / t_polars:7.2f} {xarrow} {peak / 1e6:8.0f} {decoded / 1e6:8.0f} "
                f"{peak / decoded:6.2f}",
                flush=True,
            )
            if args.end_to_end:
                out = Path(tmp) / "out"
                t_import = best(_import_and_write(path, out), runs)
                t_base = best(_polars_read_and_write(path, out), runs)
                print(
                    f"{'':>8} import + Parquet write {t_import:.2f} s; polars read + write_parquet "
                    f"{t_base:.2f} s; ratio {t_import / t_base:.2f}",
                    flush=True,
                )
            for f in Path(tmp).rglob("*"):
                if f.is_file():
                    f.unlink()
    print(
        "reader = bosch.read (the whole reader: header, block, channels); polars/arrow = read_csv of the\n"
        "same file (arrow: on a copy with the padding removed, which pyarrow cannot parse); best of\n"
        "--runs (1 for lengths over 10 min); peak = RSS high-water mark of one read in a fresh process;\n"
        "f64 = the recording's float64 columns (time + channels)."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
