"""AiM native logs: our reader beside libxrk's own read of the same file.

``python -m bench xrk`` prints, for the real ``.xrk`` and an ``.xrz`` made from it (zlib,
in a temporary folder), the best of 5 wall and CPU times of

- ``read_recording`` (libxrk's Rust decoder, the checks of ``desktop_app/loggers/xrk.py``
  and the union time base with every channel as float64),
- ``libxrk.aim_xrk`` (libxrk's default, Cython decoder: per-channel Arrow tables only),
- ``libxrk._aim_xrk_rs.aim_xrk`` (the Rust decoder alone),

with our time as a ratio of each, and the peak memory of each (RSS high-water mark above
the level before the read, in a fresh subprocess with the mark reset through
``/proc/self/clear_refs``, so Linux only) beside the decoded float64 columns of the
recording (rows x (channels + time) x 8 bytes). Aims: within 1.3x of libxrk's read, peak
memory within 2x of the decoded columns. libxrk's reads run inside the same output
capture as ours, so its console remarks cost both sides alike.
"""

from __future__ import annotations

import sys
import tempfile
import time
import zlib
from collections.abc import Callable
from pathlib import Path

from bench._common import REPO, RSS_RESET, run_probe

sys.path.insert(0, str(REPO / "tests"))  # realfiles.py lives with the tests

from realfiles import logger_file

RUNS = 5

_PROBE = (
    """
import json, sys
from pathlib import Path
import pyarrow  # imports first: a warm-up read would leave memory in the allocators
import libxrk, libxrk._aim_xrk_rs
from desktop_app.loggers import read_recording
from desktop_app.loggers.xrk import _captured_output
which, path = sys.argv[1], sys.argv[2]
"""
    + RSS_RESET
    + """
decoded = 0
if which == "ours":
    rec = read_recording(Path(path))
    decoded = 8 * rec.sample_count * (1 + len(rec.channels))
else:
    fn = libxrk.aim_xrk if which == "libxrk" else libxrk._aim_xrk_rs.aim_xrk
    with _captured_output():
        log = fn(path)
peak = status("VmHWM:") - before
print(json.dumps({"peak": max(peak, 0), "decoded": decoded}))
"""
)


def _best(fn: Callable[[], object], runs: int = RUNS) -> tuple[float, float]:
    """Best wall time and best CPU time (all threads) of ``runs`` calls."""
    wall = cpu = float("inf")
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        wall = min(wall, time.perf_counter() - start)
        cpu = min(cpu, time.process_time() - start_cpu)
    return wall, cpu


def _peak(which: str, path: Path) -> tuple[int, int]:
    data = run_probe(_PROBE, which, str(path))
    return int(data["peak"]), int(data["decoded"])


def main(argv: list[str]) -> int:
    import libxrk
    import libxrk._aim_xrk_rs

    from desktop_app.loggers import read_recording
    from desktop_app.loggers.xrk import _captured_output

    def quiet(fn: Callable[[str], object], path: Path) -> Callable[[], object]:
        def run() -> object:
            with _captured_output():
                return fn(str(path))

        return run

    source = logger_file("aim_xrk/test.xrk")
    mib = 1 << 20
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        xrz = Path(tmp) / "test.xrz"
        xrz.write_bytes(zlib.compress(source.read_bytes(), 6))
        for path in (source, xrz):
            read_recording(path)  # warm: imports, page cache
            t_ours = _best(lambda: read_recording(path))
            t_cy = _best(quiet(libxrk.aim_xrk, path))
            t_rs = _best(quiet(libxrk._aim_xrk_rs.aim_xrk, path))
            peak_ours, decoded = _peak("ours", path)
            peak_cy, _ = _peak("libxrk", path)
            peak_rs, _ = _peak("rust", path)
            rows.append((path.name, path.stat().st_size, *t_ours, *t_cy, *t_rs, peak_ours, peak_cy, peak_rs, decoded))
    print(f"AiM native logs, best of {RUNS} (wall and CPU time) and peak RSS above the start (memory)\n")
    head = (
        f"{'file':<9} {'MiB':>4} | {'ours s':>6} {'libxrk':>6} {'rust':>6} {'/libxrk':>7} {'/rust':>6} | "
        f"{'cpu ours':>8} {'libxrk':>6} {'rust':>6} {'/libxrk':>7} | "
        f"{'ours MiB':>8} {'libxrk':>6} {'rust':>5} {'f64 cols':>8} {'peak/cols':>9}"
    )
    print(head)
    print("-" * len(head))
    for name, size, ours, c_ours, cy, c_cy, rs, c_rs, p_ours, p_cy, p_rs, decoded in rows:
        print(
            f"{name:<9} {size / mib:>4.1f} | {ours:>6.3f} {cy:>6.3f} {rs:>6.3f} {ours / cy:>6.2f}x {ours / rs:>5.2f}x | "
            f"{c_ours:>8.3f} {c_cy:>6.3f} {c_rs:>6.3f} {c_ours / c_cy:>6.2f}x | "
            f"{p_ours / mib:>8.1f} {p_cy / mib:>6.1f} {p_rs / mib:>5.1f} {decoded / mib:>8.1f} {p_ours / decoded:>8.2f}x"
        )
    print(
        "\n/libxrk, /rust: our time over libxrk's default read and over its Rust decoder alone "
        "(aim: within 1.3x of libxrk); CPU time is less disturbed by other processes than wall time; "
        "peak/cols: our peak over the decoded float64 columns (aim: within 2x)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
