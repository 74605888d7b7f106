"""Logger readers: speed and peak memory on the real files and on 50x longer copies.

``python -m bench readers`` prints, per real file and per copy whose data block is repeated
50 times (time shifted so it keeps increasing), this reader's time beside
``pyarrow.csv.read_csv`` and ``pandas.read_csv`` on the same data block (best of 3), and
the reader's peak memory (RSS high-water mark above the level before the read, measured
in a fresh subprocess with the mark reset through /proc/self/clear_refs, so Linux only)
against the size of the decoded float64 columns (time + channels).

``python -m bench readers --fuzz [N]`` reads N damaged copies of every real file and
prints how many were read, rejected cleanly, crashed or were too slow.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))  # realfiles.py and fuzzcases.py live with the tests

from realfiles import LOGGERS, all_logger_files  # noqa: E402

REPEAT = 50
_DATA_LIKE = re.compile(rb'^\s*"?[-+]?\d')
_HHMMSS = re.compile(rb"^\d{6}[.,]\d+$")


def _split_data(raw: bytes, fmt: str) -> tuple[bytes, bytes]:
    """(header, data block): the data block is the longest run of numeric rows at the end."""
    if fmt == "vbo":
        m = re.search(rb"(?im)^\[data\][ \t]*\r?\n", raw)
        if m:
            return raw[: m.end()], raw[m.end() :]
    lines = raw.splitlines(keepends=True)
    i = len(lines)
    while i > 0 and (_DATA_LIKE.match(lines[i - 1]) or not lines[i - 1].strip()):
        i -= 1
    while i < len(lines) and not lines[i].strip():
        i += 1
    return b"".join(lines[:i]), b"".join(lines[i:])


def _delimiter(fmt: str) -> str:
    return {"vbo": " ", "bosch": "\t"}.get(fmt, ",")


def _shift_time(block: bytes, fmt: str, copy: int, span: float) -> bytes:
    """The data block with its time column moved ``copy * span`` seconds later."""
    if copy == 0:
        return block
    delim = _delimiter(fmt).encode()
    out = []
    col: int | None = None
    for line in block.splitlines(keepends=True):
        fields = line.split(delim)
        if col is None:
            col = next((i for i, f in enumerate(fields) if _HHMMSS.match(f.strip())), 0) if fmt == "vbo" else 0
        if col >= len(fields) or not fields[col].strip():
            out.append(line)
            continue
        cell = fields[col]
        text = cell.strip().strip(b'"').replace(b",", b".")
        try:
            value = float(text)
        except ValueError:
            out.append(line)
            continue
        decimals = len(text.split(b".")[1]) if b"." in text else 0
        if fmt == "vbo":
            h, rest = divmod(value, 10000)
            m, s = divmod(rest, 100)
            t = (h * 3600 + m * 60 + s + copy * span) % 86400
            h, rest = divmod(t, 3600)
            m, s = divmod(rest, 60)
            new = f"{int(h):02d}{int(m):02d}{s:0{3 + decimals}.{decimals}f}".encode()
        else:
            new = f"{value + copy * span:.{decimals}f}".encode()
        if b"," in cell and fmt == "vbo":
            new = new.replace(b".", b",")
        if cell.strip().startswith(b'"'):
            new = b'"' + new + b'"'
        tail = cell[len(cell.rstrip()) :]
        fields[col] = new + tail
        out.append(delim.join(fields))
    return b"".join(out)


def make_long(path: Path, fmt: str, folder: Path) -> Path:
    """A copy of ``path`` whose data block is repeated REPEAT times, time kept increasing."""
    from desktop_app.loggers import read_recording

    raw = path.read_bytes()
    header, block = _split_data(raw, fmt)
    if not block.endswith(b"\n"):
        block += b"\r\n" if b"\r\n" in block else b"\n"
    rec = read_recording(path)
    span = float(rec.time[-1]) + (1.0 / rec.sample_rate_hz if rec.sample_rate_hz else 1.0)
    target = folder / f"x{REPEAT}_{path.name}"
    with open(target, "wb") as fh:
        fh.write(header)
        for k in range(REPEAT):
            fh.write(_shift_time(block, fmt, k, span))
    return target


def _best(fn: Callable[[], object], runs: int = 3) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


_MEMORY_PROBE = """
import importlib, json, sys
from pathlib import Path
import pyarrow.csv, asammdf  # imports first: a warm-up read would leave memory in the allocators
from desktop_app.loggers import read_recording
for m in ("vbo", "bosch", "mdf", "racechrono", "aim", "motec"):
    try:
        importlib.import_module("desktop_app.loggers." + m)
    except ImportError:
        pass
def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) * 1024
with open("/proc/self/clear_refs", "w") as fh:
    fh.write("5")  # reset the RSS high-water mark (VmHWM) to the current RSS
before = status("VmRSS:")
rec = read_recording(Path(sys.argv[1]))
peak = status("VmHWM:") - before
decoded = 8 * rec.sample_count * (1 + len(rec.channels))
print(json.dumps({"peak": max(peak, 0), "decoded": decoded}))
"""


def _memory(path: Path) -> tuple[int, int]:
    out = subprocess.run(
        [sys.executable, "-c", _MEMORY_PROBE, str(path)], capture_output=True, text=True, cwd=REPO, check=True
    )
    data = json.loads(out.stdout.strip().splitlines()[-1])
    return int(data["peak"]), int(data["decoded"])


def _baselines(block: bytes, fmt: str) -> tuple[float | None, float | None]:
    import pandas as pd
    import pyarrow as pa
    import pyarrow.csv as pcsv

    if not block.strip():
        return None, None
    delim = _delimiter(fmt)

    def arrow() -> object:
        return pcsv.read_csv(
            io.BytesIO(block),
            read_options=pcsv.ReadOptions(autogenerate_column_names=True),
            parse_options=pcsv.ParseOptions(delimiter=delim, invalid_row_handler=lambda r: "skip"),
        )

    def pandas() -> object:
        return pd.read_csv(io.BytesIO(block), sep=delim, header=None, engine="c", on_bad_lines="skip")

    try:
        t_arrow: float | None = _best(arrow)
    except pa.ArrowInvalid:
        t_arrow = None
    try:
        t_pandas: float | None = _best(pandas)
    except Exception:  # noqa: BLE001 - a baseline that cannot parse the block is just absent
        t_pandas = None
    return t_arrow, t_pandas


def _row(path: Path, fmt: str, label: str) -> str:
    from desktop_app.loggers import read_recording

    rec = read_recording(path)
    t_reader = _best(lambda: read_recording(path))
    t_arrow = t_pandas = None
    if fmt != "mdf":
        _, block = _split_data(path.read_bytes(), fmt)
        t_arrow, t_pandas = _baselines(block, fmt)
    peak, decoded = _memory(path)

    def ms(t: float | None) -> str:
        return f"{t * 1000:9.1f}" if t is not None else f"{'-':>9}"

    ratio = f"{t_reader / t_arrow:6.2f}" if t_arrow else f"{'-':>6}"
    return (
        f"{label:<48} {rec.sample_count:>8} {len(rec.channels):>4} {path.stat().st_size / 1e6:7.2f} "
        f"{ms(t_reader)} {ms(t_arrow)} {ms(t_pandas)} {ratio} {peak / 1e6:8.1f} {decoded / 1e6:8.1f} "
        f"{peak / decoded if decoded else 0:6.2f}"
    )


def bench(files: list[Path], long: bool) -> None:
    from desktop_app.loggers import sniff

    print(
        f"{'file':<48} {'rows':>8} {'ch':>4} {'MB':>7} {'reader ms':>9} {'arrow ms':>9} "
        f"{'pandas ms':>9} {'x arrow':>6} {'peak MB':>8} {'f64 MB':>8} {'x f64':>6}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for path in files:
            fmt = sniff(path)
            label = str(path.relative_to(LOGGERS))
            print(_row(path, fmt, label), flush=True)
            if long and fmt != "mdf":
                print(_row(make_long(path, fmt, Path(tmp)), fmt, f"  x{REPEAT}"), flush=True)


def fuzz(files: list[Path], count: int) -> int:
    from fuzzcases import cases, reader_available, run_case

    totals: dict[str, int] = {}
    print(f"{'file':<56} {'tried':>6} {'read':>6} {'reject':>6} {'crash':>6} {'slow':>6}")
    problems: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        for path in files:
            if not reader_available(path):
                continue
            counts = {"read": 0, "rejected": 0, "crashed": 0, "slow": 0}
            for i, (label, data) in enumerate(cases(path.read_bytes(), path.name, count)):
                folder = Path(tmp) / f"{path.stem}_{i}"
                folder.mkdir()
                outcome, detail = run_case(path, data, folder)
                counts[outcome] += 1
                if outcome in ("crashed", "slow"):
                    problems.append(f"{path.name} {label}: {outcome}: {detail[:200]}")
            tried = sum(counts.values())
            for k, v in counts.items():
                totals[k] = totals.get(k, 0) + v
            totals["tried"] = totals.get("tried", 0) + tried
            print(
                f"{str(path.relative_to(LOGGERS)):<56} {tried:>6} {counts['read']:>6} "
                f"{counts['rejected']:>6} {counts['crashed']:>6} {counts['slow']:>6}",
                flush=True,
            )
    print(
        f"{'total':<56} {totals.get('tried', 0):>6} {totals.get('read', 0):>6} "
        f"{totals.get('rejected', 0):>6} {totals.get('crashed', 0):>6} {totals.get('slow', 0):>6}"
    )
    for p in problems:
        print("  " + p)
    return 1 if problems else 0


def main(argv: list[str] | None = None) -> int:
    """Print the readers' speed/memory table, or the fuzz counts with ``--fuzz``."""
    parser = argparse.ArgumentParser(prog="python -m bench readers", description=__doc__.split("\n")[0])
    parser.add_argument("--fuzz", type=int, nargs="?", const=40, help="damaged copies per file")
    parser.add_argument("--no-long", action="store_true", help=f"skip the x{REPEAT} copies")
    parser.add_argument("--only", default="", help="only files whose path contains this")
    args = parser.parse_args(argv)
    files = [p for p in all_logger_files() if args.only in str(p)]
    if args.fuzz:
        return fuzz(files, args.fuzz)
    bench(files, long=not args.no_long)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
