"""Shared pieces of the bench scripts: best-of timing and the fresh-process peak-memory probe.

A probe is a short Python program run with ``python -c`` in a fresh interpreter (so one
read's memory is not mixed with the bench's own), whose last line of output is a JSON object.
Its code imports what it needs first, then :data:`RSS_RESET`, then does the work and prints
``status("VmHWM:") - before`` among its figures. Linux only (``/proc/self``).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]

#: Probe code placed after the probe's imports (a warm-up import would otherwise count
#: towards the peak): ``status(key)`` gives a /proc/self/status figure in bytes, and the RSS
#: high-water mark (VmHWM) is reset to the current RSS, kept as ``before``.
RSS_RESET = """
def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) * 1024
with open("/proc/self/clear_refs", "w") as fh:
    fh.write("5")  # reset the RSS high-water mark (VmHWM) to the current RSS
before = status("VmRSS:")
"""


def best(fn: Callable[[], object], runs: int = 3) -> float:
    """The shortest wall time of ``runs`` calls of ``fn``, in seconds."""
    shortest = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        shortest = min(shortest, time.perf_counter() - start)
    return shortest


def run_probe(code: str, *args: str) -> dict[str, Any]:
    """Run probe ``code`` with ``args`` in a fresh interpreter at the repo root; its last JSON line."""
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=REPO, check=False)
    lines = out.stdout.strip().splitlines()
    if not lines:
        raise RuntimeError(f"probe failed (exit {out.returncode}): {out.stderr[-2000:]}")
    # the figures are printed before exit: an occasional abort while pyarrow's and
    # asammdf's threads are torn down at interpreter exit (exit -6, "terminate called
    # without an active exception") does not void them, so the exit code is not checked
    result: dict[str, Any] = json.loads(lines[-1])
    return result
