"""Processes that save small sessions, for the kill and concurrency tests.

``python save_worker.py save URL DATA_DIR TAG...``
    saves ``make_draft(TAG)`` for each tag into the catalogue at URL with Parquet under
    DATA_DIR, printing ``saved TAG ID`` after each.

``python save_worker.py zygote URL DATA_DIR``
    imports everything once, then for each stdin line ``TAG KILL_AT DELAY_MS [ACTION]``
    forks a child that saves ``make_draft(TAG)`` (ACTION ``save``, the default) or deletes
    the session named ``session TAG`` (ACTION ``delete``) with the kill point
    ``killpoints.kill_at(KILL_AT)`` (``-``: none) and, if DELAY_MS is not ``-``, is
    SIGKILLed by the zygote after that many milliseconds; prints ``done TAG STATUS``
    (STATUS: the exit code, or minus the signal).
    Forking a warm process makes a kill point cost milliseconds instead of a Python start.

``python save_worker.py race URL DATA_DIR TAG ROUNDS``
    for each round r: builds ``make_draft(f"{TAG}{r}")``, prints ``wait r``, blocks until
    a line arrives on stdin, then saves it and prints ``round r saved ID`` or
    ``round r duplicate ID`` (the session holding it). Two of these given the same TAG
    and released together race the duplicate check.
"""

from __future__ import annotations

import os
import signal
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from draftmaker import make_draft
from killpoints import kill_at, watch_sql

from storage.db import make_engine, upgrade
from storage.db.catalog import list_sessions
from storage.db.errors import DuplicateImportError
from storage.parquet import ParquetTelemetryStorage
from storage.sessions import delete_session, save_session


def save(url: str, data_dir: str, tags: list[str]) -> int:
    engine = make_engine(url)
    upgrade(engine)  # as the app does at start (a no-op at head)
    storage = ParquetTelemetryStorage(data_dir)
    for tag in tags:
        session_id = save_session(make_draft(tag), engine, storage)
        print(f"saved {tag} {session_id}", flush=True)
    engine.dispose()
    return 0


def _child(url: str, data_dir: str, tag: str, kill_spec: str, action: str) -> None:
    try:
        checkpoint = None if kill_spec == "-" else kill_at(kill_spec)
        engine = make_engine(url)
        if checkpoint is not None:
            watch_sql(engine, checkpoint)
        storage = ParquetTelemetryStorage(data_dir)
        if action == "delete":
            (session_id,) = [s.id for s in list_sessions(engine) if s.name == f"session {tag}"]
            delete_session(engine, storage, session_id, checkpoint=checkpoint)
        else:
            save_session(make_draft(tag), engine, storage, checkpoint=checkpoint)
        os._exit(0)
    except BaseException:  # noqa: BLE001 - report and leave, never return into the zygote
        traceback.print_exc()
        os._exit(1)


def zygote(url: str, data_dir: str) -> int:
    print("ready", flush=True)
    for line in sys.stdin:
        tag, kill_at, delay, *action = line.split()
        pid = os.fork()
        if pid == 0:
            _child(url, data_dir, tag, kill_at, action[0] if action else "save")
        if delay != "-":
            time.sleep(int(delay) / 1000)
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        _, status = os.waitpid(pid, 0)
        code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
        print(f"done {tag} {code}", flush=True)
    return 0


def race(url: str, data_dir: str, tag: str, rounds: int) -> int:
    engine = make_engine(url)
    upgrade(engine)
    storage = ParquetTelemetryStorage(data_dir)
    for r in range(rounds):
        draft = make_draft(f"{tag}{r}")
        print(f"wait {r}", flush=True)
        sys.stdin.readline()
        try:
            session_id = save_session(draft, engine, storage)
        except DuplicateImportError as exc:
            print(f"round {r} duplicate {exc.session_id}", flush=True)
        else:
            print(f"round {r} saved {session_id}", flush=True)
    engine.dispose()
    return 0


def main(argv: list[str]) -> int:
    mode, url, data_dir, *tags = argv
    if mode == "race":
        return race(url, data_dir, tags[0], int(tags[1]))
    return save(url, data_dir, tags) if mode == "save" else zygote(url, data_dir)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
