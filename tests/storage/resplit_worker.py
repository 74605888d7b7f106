"""A zygote that re-splits a saved session in forked children, for the kill test.

``python resplit_worker.py zygote URL DATA_DIR`` imports everything once, then for each
stdin line ``SESSION_ID LINE_SET KILL_AT DELAY_MS`` forks a child that re-splits the
session at ``resplitcase.line_sets()[LINE_SET]`` with the kill point ``killpoints.kill_at(KILL_AT)``
(``-``: none) and, if DELAY_MS is not ``-``, is SIGKILLed after that many milliseconds;
prints ``done STATUS`` (the exit code, or minus the signal).
"""

from __future__ import annotations

import os
import signal
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from killpoints import kill_at, watch_sql
from resplitcase import line_sets

from desktop_app.laps.resplit import user_lines
from desktop_app.resplitting import resplit_session
from storage.db import make_engine
from storage.parquet import ParquetTelemetryStorage


def _child(url: str, data_dir: str, session_id: int, which: int, kill_spec: str) -> None:
    try:
        checkpoint = None if kill_spec == "-" else kill_at(kill_spec)
        engine = make_engine(url)
        if checkpoint is not None:
            watch_sql(engine, checkpoint)
        start, splits = line_sets()[which]
        resplit_session(
            engine,
            ParquetTelemetryStorage(data_dir),
            session_id,
            user_lines(start, splits),
            checkpoint=checkpoint,
        )
        os._exit(0)
    except BaseException:  # noqa: BLE001 - report and leave, never return into the zygote
        traceback.print_exc()
        os._exit(1)


def zygote(url: str, data_dir: str) -> int:
    print("ready", flush=True)
    for line in sys.stdin:
        sid, which, kill_at, delay = line.split()
        pid = os.fork()
        if pid == 0:
            _child(url, data_dir, int(sid), int(which), kill_at)
        if delay != "-":
            time.sleep(int(delay) / 1000)
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        _, status = os.waitpid(pid, 0)
        code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
        print(f"done {code}", flush=True)
    return 0


if __name__ == "__main__":
    mode, url, data_dir = sys.argv[1:]
    raise SystemExit(zygote(url, data_dir))
