"""A zygote that re-splits a saved session in forked children, for the kill test.

``python resplit_worker.py zygote URL DATA_DIR`` imports everything once, then for each
stdin line ``SESSION_ID LINE_SET KILL_AT DELAY_MS`` forks a child that re-splits the
session at ``resplitcase.line_sets()[LINE_SET]`` with the kill point ``killpoints.kill_at(KILL_AT)``
(``-``: none) and, if DELAY_MS is not ``-``, is SIGKILLed after that many milliseconds;
prints ``done STATUS`` (the exit code, or minus the signal).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from resplitcase import line_sets
from zygote import serve, watched_engine

from desktop_app.laps.resplit import user_lines
from desktop_app.resplitting import resplit_session
from storage.parquet import ParquetTelemetryStorage


def _request(url: str, data_dir: str, words: list[str]) -> tuple[Callable[[], None], str, str]:
    sid, which, kill_spec, delay = words

    def work() -> None:
        engine, checkpoint = watched_engine(url, kill_spec)
        start, splits = line_sets()[int(which)]
        resplit_session(
            engine,
            ParquetTelemetryStorage(data_dir),
            int(sid),
            user_lines(start, splits),
            checkpoint=checkpoint,
        )

    return work, delay, "done"


if __name__ == "__main__":
    mode, url, data_dir = sys.argv[1:]
    raise SystemExit(serve(lambda words: _request(url, data_dir, words)))
