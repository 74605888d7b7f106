"""Logger readers: speed and peak memory on the real files and on 10x and 100x longer copies.

``python -m bench readers`` prints one table: per real file, and per copy whose data block
is repeated 10 and 100 times (``--repeat``; time shifted so it keeps increasing), the
reader's time beside ``polars.read_csv``, ``pyarrow.csv.read_csv`` and ``pandas.read_csv``
on the same data block (best of 3). The
baseline is like for like: the block alone, with the reader's own delimiter, decimal point
and column types (float64; string where the reader had to read a column as text), found
by recording the reader's parse call. Peak memory (RSS high-water mark above the level
before the read, in a fresh subprocess with the mark reset through /proc/self/clear_refs,
so Linux only) is measured for the reader and for read_csv of the block, and compared
with the decoded float64 columns.

``python -m bench readers --fuzz [N]`` reads N damaged copies of every real file and
prints how many were read, rejected cleanly (and how many of those name a line or byte
offset), crashed or were too slow, and the run's peak memory.

``python -m bench readers --wide`` times channel-name de-duplication and a whole read
against the header's width (1,000 to 20,000 repeated names).
"""

from __future__ import annotations

import argparse
import io
import json
import re
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench._common import REPO, RSS_RESET, best, run_probe

sys.path.insert(0, str(REPO / "tests"))  # realfiles.py and fuzzcases.py live with the tests

from realfiles import LOGGERS, all_logger_files

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


def make_long(path: Path, fmt: str, folder: Path, repeat: int = REPEAT) -> Path:
    """A copy of ``path`` whose data block is repeated ``repeat`` times, time kept increasing."""
    from desktop_app.loggers import read_recording

    raw = path.read_bytes()
    header, block = _split_data(raw, fmt)
    if not block.endswith(b"\n"):
        block += b"\r\n" if b"\r\n" in block else b"\n"
    rec = read_recording(path)
    span = float(rec.time[-1]) + (1.0 / rec.sample_rate_hz if rec.sample_rate_hz else 1.0)
    target = folder / f"x{repeat}_{path.name}"
    with open(target, "wb") as fh:
        fh.write(header)
        for k in range(repeat):
            fh.write(_shift_time(block, fmt, k, span))
    return target


_PROBE_HEAD = (
    """
import importlib, json, sys
from pathlib import Path
import pyarrow as pa, pyarrow.csv as pcsv, asammdf  # imports first: a warm-up read would leave memory in the allocators
from desktop_app.loggers import read_recording
for m in ("vbo", "bosch", "mdf", "racechrono", "aim", "motec"):
    try:
        importlib.import_module("desktop_app.loggers." + m)
    except ImportError:
        pass
"""
    + RSS_RESET
)

_MEMORY_PROBE = (
    _PROBE_HEAD
    + """
rec = read_recording(Path(sys.argv[1]))
peak = status("VmHWM:") - before
decoded = 8 * rec.sample_count * (1 + len(rec.channels))
print(json.dumps({"peak": max(peak, 0), "decoded": decoded}))
"""
)

#: pyarrow.csv.read_csv on a file holding only the data block, with the reader's options
_ARROW_PROBE = (
    _PROBE_HEAD
    + """
opts = json.loads(sys.argv[2])
table = pcsv.read_csv(sys.argv[1], **{k: getattr(pcsv, v[0])(**v[1]) for k, v in opts.items()})
peak = status("VmHWM:") - before
print(json.dumps({"peak": max(peak, 0), "decoded": 0}))
"""
)


def _probe(code: str, *args: str) -> tuple[int, int]:
    data = run_probe(code, *args)
    return int(data["peak"]), int(data["decoded"])


@dataclass
class _Parse:
    """How the reader parsed the data block (recorded from textblock): the baseline uses the same."""

    offset: int
    delimiter: str
    decimal_comma: bool
    ncols: int
    #: bytes of the float64 columns the parser decoded (rows in the file x numeric columns)
    decoded: int = 0


def _reader_parse(path: Path) -> _Parse | None:
    """Read ``path`` once, recording where its data block starts and how it was parsed."""
    from desktop_app.loggers import read_recording, textblock

    seen: list[_Parse] = []
    original = textblock._parse

    def spy(source: Any, p: Path, options: textblock.BlockOptions) -> Any:
        offset = getattr(source, "_offset", 0)
        data = getattr(source, "_data", None)
        if data is not None:  # a block handed over in memory: it runs to the end of the file
            offset = path.stat().st_size - len(data)
        block = original(source, p, options)
        numeric = sum(v is not None for v in block.values)
        decoded = 8 * block.row_count * numeric
        seen.append(_Parse(offset, options.delimiter, options.decimal_comma, options.ncols, decoded))
        return block

    setattr(textblock, "_parse", spy)  # noqa: B010 - a bench-only spy on the parse call
    try:
        read_recording(path)
    finally:
        setattr(textblock, "_parse", original)  # noqa: B010
    return seen[0] if seen else None


def _arrow_options(block: bytes, how: _Parse, types: dict[int, str]) -> dict[str, tuple[str, dict[str, Any]]]:
    """read_csv options as the reader sets them: float64 columns (string where a cell is text)."""
    first = next((ln for ln in block.splitlines() if ln.strip()), b"")
    nfields = max(how.ncols, first.count(how.delimiter.encode()) + 1)
    keys = [f"f{i}" for i in range(nfields)]
    return {
        "read_options": ("ReadOptions", {"column_names": keys}),
        "parse_options": (
            "ParseOptions",
            {"delimiter": how.delimiter, "quote_char": '"' if how.delimiter != " " else False},
        ),
        "convert_options": (
            "ConvertOptions",
            {
                "column_types": {k: types.get(i, "float64") for i, k in enumerate(keys)},
                "decimal_point": "," if how.decimal_comma else ".",
                "strings_can_be_null": True,
                "quoted_strings_can_be_null": True,
            },
        ),
    }


def _arrow_reader(block: bytes, how: _Parse) -> tuple[Callable[[], object], dict[str, Any]] | None:
    """A like-for-like ``pyarrow.csv.read_csv`` of the block, or None if pyarrow cannot parse it."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    types: dict[int, str] = {}
    for _ in range(64):
        opts = _arrow_options(block, how, types)
        kwargs = {k: getattr(pcsv, v[0])(**v[1]) for k, v in opts.items()}

        def run(kw: dict[str, Any] = kwargs) -> object:
            return pcsv.read_csv(io.BytesIO(block), **kw)

        try:
            run()
        except pa.ArrowInvalid as exc:
            m = re.search(r"In CSV column #(\d+)", str(exc))
            if m is None or int(m.group(1)) in types:
                return None
            types[int(m.group(1))] = "string"  # as the reader does for a column with text cells
            continue
        return run, opts
    return None


def _polars_reader(block: bytes, how: _Parse, opts: dict[str, Any]) -> Callable[[], object]:
    """``polars.read_csv`` of the block with the same delimiter, decimal point and column types."""
    import polars as pl

    types = opts["convert_options"][1]["column_types"]
    schema = {k: (pl.String if t == "string" else pl.Float64) for k, t in types.items()}

    def run() -> object:
        return pl.read_csv(
            block,
            has_header=False,
            separator=how.delimiter,
            quote_char='"' if how.delimiter != " " else None,
            schema=schema,
            decimal_comma=how.decimal_comma,
            truncate_ragged_lines=True,
        )

    return run


def _pandas_reader(block: bytes, how: _Parse) -> Callable[[], object]:
    import pandas as pd

    def run() -> object:
        return pd.read_csv(
            io.BytesIO(block),
            sep=how.delimiter,
            header=None,
            decimal="," if how.decimal_comma else ".",
            engine="c",
            on_bad_lines="skip",
            skipinitialspace=True,
        )

    return run


def _row(path: Path, label: str, folder: Path) -> str:
    from desktop_app.loggers import read_recording

    how = _reader_parse(path)
    rec = read_recording(path)
    # small files are timed more often: on a shared machine their best of 3 is mostly noise
    runs = 7 if path.stat().st_size < 8e6 else 3
    t_reader = best(lambda: read_recording(path), runs)
    t_arrow = t_pandas = t_polars = None
    arrow_peak: int | None = None
    note = ""
    if how is not None:
        from desktop_app.loggers.textsource import looks_padded, normalise

        with open(path, "rb") as fh:
            fh.seek(how.offset)
            block = fh.read()
        # polars trims numbers itself: like the reader, it parses a padded tab, comma or
        # semicolon block as it is (only a space-delimited block must lose its padding first)
        as_read = block if how.delimiter != " " else None
        first = next((ln for ln in block[: 1 << 16].splitlines() if ln.strip()), b"")
        if looks_padded(first, how.delimiter.encode()):
            # fixed-width padding: pyarrow does not trim numbers (it would read text); time
            # it on the block with the padding already removed (the reader's work not counted)
            block = normalise(block, how.delimiter.encode())
            note = "*"
        arrow = _arrow_reader(block, how)
        if arrow is not None:
            run, opts = arrow
            t_arrow = best(run, runs)
            data_file = folder / f"block_{path.name}"
            data_file.write_bytes(block)
            arrow_peak, _ = _probe(_ARROW_PROBE, str(data_file), json.dumps(opts))
            data_file.unlink()
            try:
                t_polars = best(_polars_reader(as_read or block, how, opts), runs)
            except Exception:  # noqa: BLE001 - a baseline that cannot parse the block is just absent
                t_polars = None
        try:
            t_pandas = best(_pandas_reader(block, how), runs)
        except Exception:  # noqa: BLE001 - a baseline that cannot parse the block is just absent
            t_pandas = None
        del block, as_read
    peak, decoded = _probe(_MEMORY_PROBE, str(path))
    blk = how.decoded if how is not None else 0

    def ms(t: float | None) -> str:
        return f"{t * 1000:9.1f}" if t is not None else f"{'-':>9}"

    def ratio(a: float | None, b: float | None) -> str:
        return f"{a / b:6.2f}" if a is not None and b else f"{'-':>6}"

    arrow_mb = f"{arrow_peak / 1e6:8.1f}" if arrow_peak is not None else f"{'-':>8}"
    return (
        f"{label + note:<50} {rec.sample_count:>8} {len(rec.channels):>4} {path.stat().st_size / 1e6:7.2f} "
        f"{ms(t_reader)} {ms(t_polars)} {ms(t_arrow)} {ms(t_pandas)} {ratio(t_reader, t_polars)} "
        f"{ratio(t_reader, t_arrow)} {ratio(t_reader, t_pandas)} "
        f"{peak / 1e6:8.1f} {arrow_mb} {decoded / 1e6:8.1f} {ratio(peak, decoded)} {ratio(peak, blk or None)}"
    )


def bench(files: list[Path], repeats: list[int]) -> None:
    """One table: every real file, then its copies with the data block repeated ``repeats`` times."""
    from desktop_app.loggers import sniff

    print(
        f"{'file':<50} {'rows':>8} {'ch':>4} {'MB':>7} {'reader ms':>9} {'polars ms':>9} {'arrow ms':>9} "
        f"{'pandas ms':>9} {'xpolar':>6} {'xarrow':>6} {'xpanda':>6} {'peak MB':>8} {'arrowMB':>8} {'f64 MB':>8} "
        f"{'x f64':>6} {'x blk':>6}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for path in files:
            fmt = sniff(path)
            label = str(path.relative_to(LOGGERS))
            print(_row(path, label, Path(tmp)), flush=True)
            text_block = _reader_parse(path) is not None  # binary formats have no text block to repeat
            for repeat in repeats if text_block else []:
                longer = make_long(path, fmt, Path(tmp), repeat)
                print(_row(longer, f"  x{repeat}", Path(tmp)), flush=True)
                longer.unlink()
    print(
        "reader/polars/arrow/pandas: best of 7 (files under 8 MB) or 3; polars/arrow = polars.read_csv/pyarrow.csv.read_csv on the\n"
        "data block alone with the reader's options (delimiter, decimal point, float64 columns, string\n"
        "where a column holds text); xpolar/xarrow/xpanda = reader time / that baseline's;\n"
        "* = padded numbers pyarrow cannot parse: arrow and pandas timed on the block with padding already\n"
        "removed (polars on the block as it is, as the reader parses it, unless it is space-delimited).\n"
        "peak MB = RSS high-water mark of one read in a fresh process (arrowMB: read_csv of the block\n"
        "file); f64 MB = the recording's float64 columns (time + channels); x f64 = peak / f64;\n"
        "x blk = peak / the float64 columns the parser decoded (more rows than the recording where\n"
        "repeated timestamps are merged, as in RaceChrono's multi-source rows)."
    )


#: a damaged copy that takes longer than this to read or reject is listed (something quadratic)
SLOW_CASE_S = 5.0


def fuzz(files: list[Path], count: int) -> int:
    from fuzzcases import cases, reader_available, run_case

    kinds = ("read", "rejected", "crashed", "hung", "slow")
    totals = dict.fromkeys(kinds, 0)
    print(
        f"{'file':<56} {'tried':>6} {'read':>6} {'reject':>6} {'w/ loc':>6} {'crash':>6} {'hung':>6} "
        f"{'slow':>6} {'max s':>6}"
    )
    located_total = 0
    problems: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        for path in files:
            if not reader_available(path):
                continue
            counts = dict.fromkeys(kinds, 0)
            located = 0
            longest = 0.0
            for i, (label, data) in enumerate(cases(path.read_bytes(), path.name, count)):
                folder = Path(tmp) / f"{path.stem}_{i}"
                folder.mkdir()
                start = time.perf_counter()
                outcome, detail = run_case(path, data, folder)
                elapsed = time.perf_counter() - start
                longest = max(longest, elapsed)
                counts[outcome] += 1
                # a rejection names a line or byte offset unless run_case marks it "unlocated"
                located += outcome == "rejected" and not detail.startswith("unlocated: ")
                if elapsed > SLOW_CASE_S:
                    counts["slow"] += 1
                    problems.append(f"{path.name} {label}: slow: {elapsed:.1f} s ({outcome})")
                if outcome in ("crashed", "hung"):
                    problems.append(f"{path.name} {label}: {outcome}: {detail[:200]}")
            for k, v in counts.items():
                totals[k] += v
            tried = sum(counts[k] for k in kinds[:4])
            print(
                f"{path.relative_to(LOGGERS)!s:<56} {tried:>6} {counts['read']:>6} "
                f"{counts['rejected']:>6} {located:>6} {counts['crashed']:>6} {counts['hung']:>6} "
                f"{counts['slow']:>6} {longest:>6.1f}",
                flush=True,
            )
            located_total += located
    tried = sum(totals[k] for k in kinds[:4])
    print(
        f"{'total':<56} {tried:>6} {totals['read']:>6} {totals['rejected']:>6} {located_total:>6} "
        f"{totals['crashed']:>6} {totals['hung']:>6} {totals['slow']:>6}"
    )
    share = located_total / totals["rejected"] if totals["rejected"] else 1.0
    print(f"rejections naming a line or byte offset: {located_total} of {totals['rejected']} ({share:.0%})")
    import resource

    # every case runs in this process: its high-water mark bounds every single input's peak
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of the whole run (an upper bound for every input): {peak_mb:.0f} MB")
    for p in problems:
        print("  " + p)
    return 1 if problems else 0


def wide() -> int:
    """Channel-name de-duplication and a whole read against the number of (repeated) names.

    The real AiM export with its water temperature column repeated to N names (20 data
    rows): ``build_channels`` alone and the whole read; time per name should stay flat
    (linear), where the old de-duplication grew with N (quadratic).
    """
    import numpy as np

    from desktop_app.loggers import read_recording
    from desktop_app.loggers.channels import SourceChannel, build_channels

    lines = (LOGGERS / "aim_csv" / "aim_format_example.csv").read_bytes().decode("utf-8").split("\r\n")
    names_at = next(i for i, line in enumerate(lines) if line.startswith("Time,GPS Speed"))

    def old_unique(name: str, taken: set[str]) -> str:
        # the de-duplication before NameAllocator: every call lowers every name taken so far
        lowered = {t.lower() for t in taken}
        if name.lower() not in lowered:
            return name
        i = 2
        while f"{name}_{i}".lower() in lowered:
            i += 1
        return f"{name}_{i}"

    def old_names(n: int) -> None:
        taken: set[str] = set()
        for _ in range(n):
            taken.add(old_unique("Water Temp", taken))

    read_recording(LOGGERS / "aim_csv" / "aim_format_example.csv")  # imports and caches warm
    print(f"{'names':>7} {'build ms':>9} {'us/name':>8} {'old ms':>9} {'x old':>6} {'read ms':>9} {'us/name':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        for n in (1_000, 5_000, 20_000):
            sources = [SourceChannel("Water Temp", "C", np.zeros(20)) for _ in range(n)]
            t_build = best(lambda: build_channels("aim", sources, []))
            # the old way, names only (quadratic: 20,000 names would take minutes)
            t_old = best(lambda: old_names(n), runs=1) if n <= 5_000 else None
            extra = n - 23
            cut = list(lines[: names_at + 23])
            cut[names_at] += ",Water Temp" * extra
            cut[names_at + 1] += ",C" * extra
            for i in range(names_at + 3, names_at + 23):
                cut[i] += ("," + cut[i].split(",")[15]) * extra
            path = Path(tmp) / f"wide{n}.csv"
            path.write_bytes("\r\n".join(cut).encode("utf-8"))
            t_read = best(lambda: read_recording(path), runs=1)
            per = t_build / n * 1e6
            old = f"{t_old * 1e3:>9.1f} {t_old / t_build:>6.1f}" if t_old is not None else f"{'-':>9} {'-':>6}"
            print(f"{n:>7} {t_build * 1e3:>9.1f} {per:>8.1f} {old} {t_read * 1e3:>9.1f} {t_read / n * 1e6:>8.1f}")
    print(
        "build = channels.build_channels (mapping and de-duplication) on N channels all named 'Water Temp';\n"
        "old = the previous de-duplication on the same names alone (x old = old / build); read = the whole\n"
        "read of the AiM export widened to N names (20 rows; most of it is the data block's parse)"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    """Print the readers' speed/memory table, or the fuzz counts with ``--fuzz``."""
    parser = argparse.ArgumentParser(prog="python -m bench readers", description=__doc__.split("\n")[0])
    parser.add_argument("--fuzz", type=int, nargs="?", const=40, help="damaged copies per file")
    parser.add_argument("--no-long", action="store_true", help="skip the longer copies")
    parser.add_argument("--repeat", default="10,100", help="lengths of the longer copies (comma-separated)")
    parser.add_argument("--only", default="", help="only files whose path contains this")
    parser.add_argument("--wide", action="store_true", help="channel-name de-duplication against header width")
    args = parser.parse_args(argv)
    if args.wide:
        return wide()
    files = [p for p in all_logger_files() if args.only in str(p)]
    if args.fuzz:
        return fuzz(files, args.fuzz)
    bench(files, [] if args.no_long else [int(r) for r in args.repeat.split(",")])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
