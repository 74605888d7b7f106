"""MDF reads: Laptrace's reader beside asammdf's own read of the same channels, in one run.

``python -m bench mdf [--minutes 60,10] [--copies 30]`` prints, for each case (the real MF4
files, the ASAP2 demo repeated ``--copies`` times end to end, and synthetic MDF4 files of
one 100 Hz group of float32 channels plus a 10 Hz group on a subset of its times):

- ``laptrace s``: ``mdf.read`` (best of ``--runs``);
- ``asammdf s``: ``asammdf.MDF(path)`` + ``select`` of every channel Laptrace reads, one call
  per group (for a raw bus log, ``extract_bus_logging`` with the DBC beside it first);
- ``ratio``: laptrace / asammdf;
- ``peak/dec``: the RSS high-water mark of one ``mdf.read`` in a fresh interpreter over the
  decoded columns (8 bytes x rows x (channels + time));
- ``GIL ms`` (Laptrace, asammdf): the longest a ticker thread (sleeping 1 ms at a time)
  waited beyond its sleep while the read ran: the longest the GIL was held in one piece,
  i.e. how long a GUI thread would freeze.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from bench._common import REPO, RSS_RESET, best, run_probe

sys.path.insert(0, str(REPO / "tests"))

from realfiles import logger_file

ASAP2 = "mf4/ASAP2_Demo_V171.mf4"
REAL = [ASAP2, "mf4/canedge_11111111_00000012_00000001.MF4"]


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
    del fast
    slow = [Signal(rng.normal(size=n // 10).astype(np.float32), t[::10], name=f"slow{i}") for i in range(10)]
    mdf.append(slow)
    mdf.save(path, overwrite=True)
    mdf.close()


def write_repeated(source: Path, path: Path, copies: int) -> None:
    """``source`` ``copies`` times end to end: every group's raw samples and conversions kept."""
    from asammdf import MDF, Signal

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        src = MDF(source)
        groups = []
        last = 0.0
        every: list[Any] = src.groups
        for gi, group in enumerate(every):
            wanted = [(None, gi, ci) for ci, ch in enumerate(group.channels) if ch.channel_type not in (2, 3)]
            if wanted and group.channel_group.cycles_nr:
                sigs = src.select(wanted, raw=True)
                groups.append(sigs)
                last = max(last, float(sigs[0].timestamps[-1]))
        period = float(np.ceil(last + 1.0))
        out = MDF(version="4.10")
        for sigs in groups:
            t = np.concatenate([sigs[0].timestamps + k * period for k in range(copies)])
            out.append(
                [
                    Signal(
                        np.concatenate([s.samples] * copies),
                        t,
                        name=s.name,
                        unit=s.unit,
                        conversion=s.conversion,
                        raw=True,
                        encoding=s.encoding or ("utf-8" if s.samples.dtype.kind == "S" else None),
                    )
                    for s in sigs
                ]
            )
        out.save(path, overwrite=True)
        out.close()
        src.close()


def _asammdf(path: Path) -> object:
    from asammdf import MDF

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mdf = MDF(path)
        source = mdf
        try:
            every: list[Any] = mdf.groups
            raw = [g for g in every if g.channel_group.cycles_nr]
            if raw and all(any(ch.name.startswith("CAN_") for ch in g.channels) for g in raw):
                dbcs = sorted(str(p) for p in path.parent.glob("*.dbc"))
                source = mdf.extract_bus_logging({"CAN": [(d, 0) for d in dbcs]})
            out = []
            decoded: list[Any] = source.groups
            for gi, group in enumerate(decoded):
                wanted = [(None, gi, ci) for ci, ch in enumerate(group.channels) if ch.channel_type not in (2, 3)]
                if wanted and group.channel_group.cycles_nr:
                    out.extend(source.select(wanted))
            return out
        finally:
            if source is not mdf:
                source.close()
            mdf.close()


def longest_hold(fn: Callable[[], object]) -> float:
    """The longest a 1 ms ticker thread overslept while ``fn`` ran (seconds): the GIL hold."""
    worst = 0.0
    done = threading.Event()

    def tick() -> None:
        nonlocal worst
        while not done.is_set():
            start = time.perf_counter()
            time.sleep(0.001)
            worst = max(worst, time.perf_counter() - start - 0.001)

    ticker = threading.Thread(target=tick, daemon=True)
    ticker.start()
    time.sleep(0.05)
    try:
        result = fn()  # kept until the ticker stops: freeing it is not part of the read
    finally:
        done.set()
        ticker.join()
    del result
    return worst


_MEMORY_PROBE = (
    """
import json, sys, warnings
from pathlib import Path
warnings.simplefilter("ignore")
import asammdf
from desktop_app.loggers import mdf
"""
    + RSS_RESET
    + """
rec = mdf.read(Path(sys.argv[1]))
peak = status("VmHWM:") - before
decoded = 8 * rec.sample_count * (1 + len(rec.channels))
print(json.dumps({"peak": max(peak, 0), "decoded": decoded, "rows": rec.sample_count, "channels": len(rec.channels)}))
"""
)


def measure(path: Path, runs: int) -> dict[str, Any]:
    from desktop_app.loggers import mdf

    probe = run_probe(_MEMORY_PROBE, str(path))
    return {
        "ours": best(lambda: mdf.read(path), runs),
        "theirs": best(lambda: _asammdf(path), runs),
        "gil_ours": longest_hold(lambda: mdf.read(path)),
        "gil_theirs": longest_hold(lambda: _asammdf(path)),
        **probe,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench mdf", description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", default="60,10", help="synthetic file lengths, comma-separated")
    parser.add_argument("--copies", type=int, default=30, help="the ASAP2 demo repeated this many times")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per figure (the best is shown)")
    args = parser.parse_args(argv)

    print(
        f"{'case':<34} {'MB':>6} {'rows':>9} {'ch':>4} {'laptrace s':>10} {'asammdf s':>9} {'ratio':>6} "
        f"{'peak/dec':>8} {'GIL ms':>7} {'(asammdf)':>9}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        cases: list[tuple[str, Path]] = []
        for minutes in (float(m) for m in args.minutes.split(",") if m):
            p = Path(tmp) / f"synthetic_{minutes:g}min.mf4"
            write_mdf(p, minutes)
            cases.append((f"synthetic {minutes:g} min x 250 ch", p))
        cases.append(("ASAP2 demo x1", logger_file(ASAP2)))
        if args.copies > 1:
            p = Path(tmp) / f"asap2_x{args.copies}.mf4"
            write_repeated(logger_file(ASAP2), p, args.copies)
            cases.append((f"ASAP2 demo x{args.copies}", p))
        cases.append(("CANedge (raw CAN + DBC)", logger_file(REAL[1])))
        for label, p in cases:
            m = measure(p, args.runs)
            print(
                f"{label:<34} {p.stat().st_size / 1e6:6.1f} {m['rows']:9,} {m['channels']:4} {m['ours']:10.3f} "
                f"{m['theirs']:9.3f} {m['ours'] / m['theirs']:6.2f} {m['peak'] / m['decoded']:8.2f} "
                f"{m['gil_ours'] * 1e3:7.0f} {m['gil_theirs'] * 1e3:9.0f}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
