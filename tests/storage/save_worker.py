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
    (:mod:`zygote`: forking a warm process makes a kill point cost milliseconds.)

``python save_worker.py race URL DATA_DIR TAG ROUNDS``
    for each round r: builds ``make_draft(f"{TAG}{r}")``, prints ``wait r``, blocks until
    a line arrives on stdin, then saves it and prints ``round r saved ID`` or
    ``round r duplicate ID`` (the session holding it). Two of these given the same TAG
    and released together race the duplicate check.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from draftmaker import make_draft
from zygote import serve, watched_engine

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


def _request(url: str, data_dir: str, words: list[str]) -> tuple[Callable[[], None], str, str]:
    tag, kill_spec, delay, *action = words

    def work() -> None:
        engine, checkpoint = watched_engine(url, kill_spec)
        storage = ParquetTelemetryStorage(data_dir)
        if action and action[0] == "delete":
            (session_id,) = [s.id for s in list_sessions(engine) if s.name == f"session {tag}"]
            delete_session(engine, storage, session_id, checkpoint=checkpoint)
        else:
            save_session(make_draft(tag), engine, storage, checkpoint=checkpoint)

    return work, delay, f"done {tag}"


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
    if mode == "save":
        return save(url, data_dir, tags)
    return serve(lambda words: _request(url, data_dir, words))


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
