"""A warm process that forks one child per request, for the kill tests.

The worker side (:func:`serve`) runs in ``save_worker.py``/``resplit_worker.py``: it
imports everything once, then for each stdin line forks a child that does the work with a
kill point and, if a delay is given, SIGKILLs it after that many milliseconds. The test
side (:class:`Zygote`) starts such a worker and sends it lines. Forking a warm process
makes a kill point cost milliseconds instead of a Python start.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import IO

from killpoints import kill_at, watch_sql
from sqlalchemy import Engine, event

from storage.db import make_engine
from storage.types import Checkpoint


def watched_engine(url: str, kill_spec: str) -> tuple[Engine, Checkpoint | None]:
    """An engine whose statements and commits reach the kill point ``kill_spec`` (``-``: none)."""
    checkpoint = None if kill_spec == "-" else kill_at(kill_spec)
    engine = make_engine(url)
    if checkpoint is not None:
        watch_sql(engine, checkpoint)
    return engine, checkpoint


def _child(work: Callable[[], None]) -> None:
    try:
        work()
        os._exit(0)
    except BaseException:  # noqa: BLE001 - report and leave, never return into the zygote
        traceback.print_exc()
        os._exit(1)


def serve(parse: Callable[[list[str]], tuple[Callable[[], None], str | None, str]]) -> int:
    """For each stdin line, ``parse(words)`` gives the child's work, the delay before the
    SIGKILL (None or ``-``: none) and the reply's prefix; prints ``PREFIX STATUS`` (the
    child's exit code, or minus the signal)."""
    print("ready", flush=True)
    for line in sys.stdin:
        work, delay, reply = parse(line.split())
        pid = os.fork()
        if pid == 0:
            _child(work)
        if delay not in (None, "-"):
            time.sleep(int(delay) / 1000)
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        _, status = os.waitpid(pid, 0)
        code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
        print(f"{reply} {code}", flush=True)
    return 0


class Zygote:
    """The test's end of a worker started as ``WORKER zygote URL DATA_DIR``."""

    def __init__(self, worker: Path, url: str, data_dir: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(worker), "zygote", url, str(data_dir)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._line() == "ready"

    def _line(self) -> str:
        out: IO[str] | None = self.proc.stdout
        assert out is not None
        line = out.readline().strip()
        assert line, f"the zygote died (exit {self.proc.poll()})"
        return line

    def request(self, *words: object) -> list[str]:
        """Send one line of ``words``; the reply's words."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(" ".join(str(w) for w in words) + "\n")
        self.proc.stdin.flush()
        return self._line().split()

    def close(self) -> None:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.close()
        code = self.proc.wait(timeout=30)
        self.proc.stdout.close()
        assert code == 0


def counting_engine(url: str) -> tuple[Engine, dict[str, int]]:
    """An engine that counts the SQL statements (``sql``) and COMMITs (``commit``) it sends."""
    engine = make_engine(url)
    counts = {"sql": 0, "commit": 0}

    def bump(key: str) -> Callable[..., None]:
        return lambda *_a: counts.__setitem__(key, counts[key] + 1)

    event.listen(engine, "before_cursor_execute", bump("sql"))
    event.listen(engine, "commit", bump("commit"))
    return engine, counts
