"""MoTeC .ld reader: time and peak memory beside ``numpy.frombuffer`` over the same channel blocks.

``python -m bench motec_ld [--repeat N]`` reads the real ``motec_ld/Sample1.ld`` and a
copy whose every channel holds its samples N times over (N x 454 s, written with the same
header and channel list), and prints, best of 3:

- ``reader``: :func:`desktop_app.loggers.motec_ld.read` (header, channel list, checks,
  decode onto the union time base, laps from the lap channels, channel mapping);
- ``frombuffer``: the file's bytes read and each channel block turned into float64 with
  its scaling (``np.frombuffer(...) * num / den``), each at its own length;
- ``fb+union``: the same, each column then laid on the union time base (``np.full`` NaN and
  a strided assignment): the least numpy work that gives the reader's output.

Peak memory is the RSS high-water mark of one read in a fresh process (Linux: reset
through /proc/self/clear_refs), beside the recording's float64 columns (time + channels)
and the channels' float64 samples at their own length.
"""

from __future__ import annotations

import argparse
import struct
import sys
import tempfile
from pathlib import Path

import numpy as np

from bench._common import REPO, RSS_RESET, best, run_probe

sys.path.insert(0, str(REPO / "tests"))  # realfiles.py lives with the tests

from realfiles import logger_file

from desktop_app.loggers import motec_ld

SAMPLE = "motec_ld/Sample1.ld"


def repeated(src: Path, dest: Path, times: int) -> Path:
    """``src`` with every channel's samples repeated ``times`` times (pointers and counts moved)."""
    data = src.read_bytes()
    layout = motec_ld.read_layout(src, data)
    out = bytearray(data[: min(b.data_at for b in layout.channels if b.count)])
    for b in layout.channels:
        block = data[b.data_at : b.data_at + b.nbytes] * times
        struct.pack_into("<II", out, b.offset + 8, len(out), b.count * times)
        out += block
    dest.write_bytes(bytes(out))
    return dest


def frombuffer(path: Path, blocks: list[motec_ld.ChannelBlock]) -> list[np.ndarray]:
    data = path.read_bytes()
    cols = []
    for b in blocks:
        num, den, _ = b.factors()
        cols.append(np.frombuffer(data, b.dtype, b.count, b.data_at) * num / den)
    return cols


def frombuffer_union(path: Path, blocks: list[motec_ld.ChannelBlock]) -> list[np.ndarray]:
    top = max(b.rate for b in blocks)
    n = max(b.count * (top // b.rate) for b in blocks)
    out = []
    for b, col in zip(blocks, frombuffer(path, blocks), strict=True):
        full = np.full(n, np.nan)
        step = top // b.rate
        full[: b.count * step : step] = col
        out.append(full)
    return out


_PROBE = (
    """
import json, sys
from pathlib import Path
from desktop_app.loggers import motec_ld
"""
    + RSS_RESET
    + """
rec = motec_ld.read(Path(sys.argv[1]))
peak = status("VmHWM:") - before
own = sum(int((~__import__("numpy").isnan(c.values)).sum()) for c in rec.channels.values())
print(json.dumps({"peak": max(peak, 0), "decoded": 8 * rec.sample_count * (1 + len(rec.channels)), "own": 8 * own}))
"""
)


def _memory(path: Path) -> dict[str, int]:
    return {k: int(v) for k, v in run_probe(_PROBE, str(path)).items()}


def _row(label: str, path: Path) -> str:
    blocks = [b for b in motec_ld.read_layout(path, path.read_bytes()).channels if b.count]
    rec = motec_ld.read(path)
    t_reader = best(lambda: motec_ld.read(path))
    t_fb = best(lambda: frombuffer(path, blocks))
    t_union = best(lambda: frombuffer_union(path, blocks))
    mem = _memory(path)
    mb = 1e6
    return (
        f"{label:<22} {path.stat().st_size / mb:7.2f} {rec.sample_count:>8} {len(rec.channels):>4} "
        f"{t_reader * 1e3:9.1f} {t_fb * 1e3:9.1f} {t_union * 1e3:9.1f} {t_reader / t_fb:6.2f} {t_reader / t_union:6.2f} "
        f"{mem['peak'] / mb:8.1f} {mem['decoded'] / mb:8.1f} {mem['own'] / mb:8.1f} {mem['peak'] / mem['decoded']:6.2f}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench motec_ld", description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="the longer copy holds the samples N times")
    args = parser.parse_args(argv)
    print(
        f"{'file':<22} {'MB':>7} {'rows':>8} {'ch':>4} {'reader ms':>9} {'fb ms':>9} {'fb+u ms':>9} "
        f"{'x fb':>6} {'x fb+u':>6} {'peak MB':>8} {'f64 MB':>8} {'own MB':>8} {'x f64':>6}"
    )
    src = logger_file(SAMPLE)
    print(_row("Sample1.ld", src), flush=True)
    if args.repeat > 1:
        with tempfile.TemporaryDirectory() as tmp:
            longer = repeated(src, Path(tmp) / "Sample1_long.ld", args.repeat)
            print(_row(f"  x{args.repeat} samples", longer), flush=True)
    print(
        "reader / fb / fb+u: best of 3 in this process; fb = np.frombuffer of every channel block to\n"
        "float64 with its scaling at its own length; fb+u = the same laid on the union time base (the\n"
        "reader's output shape). x fb, x fb+u: reader time over each. peak MB: RSS high-water mark of one\n"
        "read in a fresh process; f64 MB: the recording's float64 columns (time + channels, union length);\n"
        "own MB: the channels' float64 samples at their own rates; x f64 = peak / f64 MB."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
