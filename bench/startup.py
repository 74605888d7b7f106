"""Start-up time to the first window, and the self-test's steps, for a source tree or a build.

``python -m bench startup`` runs ``python -m desktop_app --self-test`` a few times;
``python -m bench startup --inspect`` times ``laptrace inspect`` of a small real file instead,
against a bare interpreter start in the same run, and lists the slowest imports of that
command (``python -X importtime``) and whether Qt, SQLAlchemy, Alembic, asammdf or pandas
were imported at all;
``python -m bench startup --binary packaging/dist/laptrace/laptrace`` (or ``/usr/bin/laptrace``)
times a frozen build the same way. Each run is a fresh process, so the numbers include the
interpreter's (or the bootloader's) start, every import, and building and showing the main
window. Without a display the window is offscreen; under ``xvfb-run`` it is a real X window.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import time

#: "  ok    window   1.56 s  offscreen platform, icon ok, window shown 1.92 s after process start"
WINDOW = re.compile(r"window shown ([0-9.]+) s after (.+)$", re.MULTILINE)
STEP = re.compile(r"^  ok    (\S+(?: back)?)\s+([0-9.]+) s", re.MULTILINE)


def run_once(command: list[str]) -> tuple[float, float, dict[str, float]]:
    """(window shown after, whole process wall time, per-step seconds) for one run."""
    started = time.monotonic()
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    wall = time.monotonic() - started
    if result.returncode != 0:
        raise SystemExit(f"self-test failed (exit {result.returncode}):\n{result.stdout}{result.stderr}")
    match = WINDOW.search(result.stdout)
    if match is None:
        raise SystemExit(f"no window timing in the self-test output:\n{result.stdout}")
    steps = {name: float(seconds) for name, seconds in STEP.findall(result.stdout)}
    return float(match.group(1)), wall, steps


#: modules a command that reads one file must not import (see the CLI's lazy imports)
HEAVY = ("PySide6", "sqlalchemy", "alembic", "asammdf", "pandas", "superqt")


def inspect_startup(runs: int) -> int:
    """``laptrace inspect`` of a small file: wall time, the bare interpreter's, top imports."""
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from realfiles import logger_file

    small = str(logger_file("vbo/20210620_035615.vbo"))
    command = [sys.executable, "-m", "desktop_app.cli", "inspect", small]

    def wall(cmd: list[str]) -> float:
        started = time.monotonic()
        subprocess.run(cmd, capture_output=True, check=True)
        return time.monotonic() - started

    bare = [wall([sys.executable, "-c", "pass"]) for _ in range(runs)]
    numpy_only = [wall([sys.executable, "-c", "import numpy"]) for _ in range(runs)]
    walls = [wall(command) for _ in range(runs)]
    print(f"laptrace inspect {Path(small).name} ({runs} runs)")
    print(f"{'measure':<34}{'median':>9}{'min':>9}{'max':>9}")
    for label, values in (
        ("python -c pass (s)", bare),
        ("python -c 'import numpy' (s)", numpy_only),
        ("laptrace inspect (s)", walls),
    ):
        print(f"{label:<34}{statistics.median(values):>9.2f}{min(values):>9.2f}{max(values):>9.2f}")
    out = subprocess.run([sys.executable, "-X", "importtime", *command[1:]], capture_output=True, text=True, check=True)
    rows = []
    for line in out.stderr.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[1].strip().isdigit():
            rows.append((int(parts[1]), parts[2].rstrip()))
    top = {name.strip() for _, name in rows}
    print("heavy modules imported: " + (", ".join(h for h in HEAVY if h in top) or "none"))
    print("slowest imports (cumulative ms):")
    for cumulative, name in sorted(rows, reverse=True)[:12]:
        print(f"  {cumulative / 1000:8.1f}  {name}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench startup", description=__doc__)
    parser.add_argument("--binary", help="a frozen laptrace executable (default: this source tree)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--inspect", action="store_true", help="time `laptrace inspect` of a small file")
    args = parser.parse_args(argv)
    if args.inspect:
        return inspect_startup(args.runs)
    command = [args.binary] if args.binary else [sys.executable, "-m", "desktop_app"]
    command.append("--self-test")

    runs = [run_once(command) for _ in range(args.runs)]
    windows = [w for w, _wall, _steps in runs]
    walls = [wall for _w, wall, _steps in runs]
    print(f"start-up of {' '.join(command)} ({args.runs} runs)")
    print(f"{'measure':<34}{'median':>9}{'min':>9}{'max':>9}")
    rows = [("first window shown (s after start)", windows), ("whole self-test process (s)", walls)]
    for name in runs[0][2]:
        rows.append((f"  step {name} (s)", [steps.get(name, float("nan")) for _w, _wall, steps in runs]))
    for label, values in rows:
        print(f"{label:<34}{statistics.median(values):>9.2f}{min(values):>9.2f}{max(values):>9.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
