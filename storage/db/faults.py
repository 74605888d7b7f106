"""Named crash points for the reliability tests.

``LAPTRACE_TEST_KILL_AT=<stage>:<n>`` makes the process SIGKILL itself the ``n``-th time
it reaches ``checkpoint(stage)``: the tests run a save in a subprocess with it set, at
every stage and count, then check what :func:`storage.sessions.recover` makes of the
remains. Unset (always, outside the tests), a checkpoint is one dictionary lookup.

Stages: ``sql`` (before each SQL statement the engine sends), ``commit`` (just before a
COMMIT is sent), and the ones :mod:`storage.sessions` names (``before_tx``,
``before_commit``, ``after_commit``, ``parquet`` (each progress report of the Parquet
write), ``before_ready``, ``after_ready``, ``after_delete_rows``).
"""

from __future__ import annotations

import os
import signal
from typing import Any

from sqlalchemy import Engine, event

ENV = "LAPTRACE_TEST_KILL_AT"
_counts: dict[str, int] = {}


def _target() -> tuple[str, int] | None:
    raw = os.environ.get(ENV)
    if not raw:
        return None
    stage, _, n = raw.partition(":")
    try:
        return stage, int(n or "1")
    except ValueError:
        return None


def checkpoint(stage: str) -> None:
    """Die here, without any cleanup, if the test asked for it."""
    target = _target()
    if target is None or target[0] != stage:
        return
    _counts[stage] = _counts.get(stage, 0) + 1
    if _counts[stage] == target[1]:
        os.kill(os.getpid(), getattr(signal, "SIGKILL", signal.SIGTERM))


def install_sql_hook(engine: Engine) -> None:
    """Add the ``sql`` and ``commit`` checkpoints to ``engine`` when a test asks for them."""
    target = _target()
    if target is None or target[0] not in ("sql", "commit"):
        return

    @event.listens_for(engine, "before_cursor_execute")
    def _before_execute(*_args: Any) -> None:
        checkpoint("sql")

    @event.listens_for(engine, "commit")
    def _before_commit(*_args: Any) -> None:
        checkpoint("commit")
