"""Kill points for the crash tests: a checkpoint that SIGKILLs the process at a named step.

``kill_at("parquet:3")`` gives a :data:`storage.types.Checkpoint` that kills the process,
without any cleanup, the third time the save pipeline reaches ``parquet``. The workers
hand it to ``save_session``/``delete_session``/``resplit_session``; :func:`watch_sql` adds
the engine's own steps: ``sql`` (before each statement) and ``commit`` (before a COMMIT).
"""

from __future__ import annotations

import os
import signal
from typing import Any

from sqlalchemy import Engine, event

from storage.types import Checkpoint


def kill_at(spec: str) -> Checkpoint:
    """``STAGE[:N]``: die the ``N``-th time (default 1) ``STAGE`` is reached."""
    stage, _, n = spec.partition(":")
    target = int(n or "1")
    count = 0

    def checkpoint(reached: str) -> None:
        nonlocal count
        if reached != stage:
            return
        count += 1
        if count == target:
            os.kill(os.getpid(), getattr(signal, "SIGKILL", signal.SIGTERM))

    return checkpoint


def watch_sql(engine: Engine, checkpoint: Checkpoint) -> None:
    """Tell ``checkpoint`` ``sql`` before each statement ``engine`` sends, ``commit`` before each COMMIT."""

    @event.listens_for(engine, "before_cursor_execute")
    def _before_execute(*_args: Any) -> None:
        checkpoint("sql")

    @event.listens_for(engine, "commit")
    def _before_commit(*_args: Any) -> None:
        checkpoint("commit")
