"""MDF reads: Laptrace's reader beside asammdf's own read of the same channels, in one run.

``python -m bench mdf [--minutes 10]`` prints, for the real MF4 files and for a synthetic
MDF4 (one 100 Hz group of float32 channels plus a 10 Hz group on a subset of its times),
the time of ``mdf.read`` and of ``asammdf.MDF(path)`` + ``select`` of every channel (best of
3), and their ratio.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np

from bench._common import REPO, best

sys.path.insert(0, str(REPO / "tests"))

from realfiles import logger_file

REAL = ["mf4/ASAP2_Demo_V171.mf4"]


def write_mdf(path: Path, minutes: float, channels: int = 250) -> None:
    from asammdf import MDF, Signal

    rng = np.random.default_rng(1)
    n = int(minutes * 60 * 100)
    t = np.arange(n) / 100.0
    mdf = MDF(version="4.10")
    fast = [
        Signal(rng.normal(size=n).cumsum().astype(np.float32), t, name=f"fast{i:03d}") for i in range(channels - 10)
    ]
    mdf.append(fast)
    slow = [Signal(rng.normal(size=n // 10).astype(np.float32), t[::10], name=f"slow{i}") for i in range(10)]
    mdf.append(slow)
    mdf.save(path, overwrite=True)
    mdf.close()


def _asammdf(path: Path) -> object:
    from asammdf import MDF
    from asammdf.blocks import mdf_v4

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mdf = MDF(path)
        try:
            out = []
            for gi, group in enumerate(mdf.groups):
                # every file here is MDF 4 (channel types 2 and 3 are its master channels)
                assert isinstance(group, mdf_v4.Group)
                wanted = [(None, gi, ci) for ci, ch in enumerate(group.channels) if ch.channel_type not in (2, 3)]
                if wanted and group.channel_group.cycles_nr:
                    out.extend(mdf.select(wanted))
            return out
        finally:
            mdf.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench mdf", description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", default="10", help="synthetic file lengths, comma-separated")
    args = parser.parse_args(argv)
    from desktop_app.loggers import mdf

    print(f"{'file':<40} {'MB':>7} {'laptrace s':>10} {'asammdf s':>10} {'ratio':>6}")
    with tempfile.TemporaryDirectory() as tmp:
        paths = [logger_file(r) for r in REAL]
        for minutes in (float(m) for m in args.minutes.split(",")):
            p = Path(tmp) / f"synthetic_{minutes:g}min.mf4"
            write_mdf(p, minutes)
            paths.append(p)
        for p in paths:
            ours = best(lambda: mdf.read(p))
            theirs = best(lambda: _asammdf(p))
            print(
                f"{p.name:<40} {p.stat().st_size / 1e6:7.1f} {ours:10.3f} {theirs:10.3f} {ours / theirs:6.2f}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
