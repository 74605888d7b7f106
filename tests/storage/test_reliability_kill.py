"""SIGKILL the saving process at every checkpoint of the save, then recover.

A zygote subprocess (``save_worker.py zygote``) forks one child per kill point; the child
saves a small session with a kill point (``killpoints.kill_at``) and SIGKILLs itself there (or the
zygote kills it after a random delay). After each kill the test runs ``recover()`` and
checks the invariants: no session is left ``writing``; every ``ready`` session has a
complete, readable file with its row count; no partial file under a final name; a session
is in the catalogue whole (all laps, its source) or not at all; everything committed
before is still there; and saving again (or retrying the telemetry) succeeds.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from draftmaker import make_draft, sha_of
from sqlalchemy import Engine, func, select
from zygote import Zygote as WarmWorker
from zygote import counting_engine

from storage.db.catalog import load_session, reading
from storage.db.models import Lap, TelemetrySource, TrackSession
from storage.parquet import ParquetTelemetryStorage
from storage.sessions import recover, retry_telemetry, save_session

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL and fork are POSIX")

WORKER = Path(__file__).with_name("save_worker.py")
LAPS = 4  # make_draft's default: the Parquet write reports progress LAPS + 1 times
#: named checkpoints and what recover() must make of a session killed there
NAMED: dict[str, str | None] = {
    "before_tx:1": None,  # None: the session is not in the catalogue at all
    "before_commit:1": None,
    "after_commit:1": "failed",
    **{f"parquet:{n}": "failed" for n in range(1, LAPS + 2)},
    "before_ready:1": "ready",  # the file is complete: recover() finds it so
    "after_ready:1": "ready",
}
RANDOM_KILLS = 8


class Zygote(WarmWorker):
    def __init__(self, url: str, data_dir: Path) -> None:
        super().__init__(WORKER, url, data_dir)

    def run(self, tag: str, kill_at: str, delay_ms: int | None = None, action: str = "save") -> int:
        done, got_tag, code = self.request(tag, kill_at, "-" if delay_ms is None else delay_ms, action)
        assert (done, got_tag) == ("done", tag)
        return int(code)


def _count_statements(url: str, storage: ParquetTelemetryStorage) -> tuple[int, int]:
    """SQL statements and COMMITs of one save, counted in this process."""
    engine, counts = counting_engine(url)
    save_session(make_draft("probe"), engine, storage)
    engine.dispose()
    return counts["sql"], counts["commit"]


def _session_of(engine: Engine, tag: str) -> TrackSession | None:
    with reading(engine) as db:
        return db.execute(select(TrackSession).where(TrackSession.name == f"session {tag}")).scalar()


def _check_invariants(engine: Engine, storage: ParquetTelemetryStorage, committed: dict[int, int]) -> None:
    with reading(engine) as db:
        sessions = db.scalars(select(TrackSession)).all()
        laps = dict(db.execute(select(Lap.session_id, func.count()).group_by(Lap.session_id)).all())
        sources = dict(
            db.execute(select(TelemetrySource.session_id, func.count()).group_by(TelemetrySource.session_id)).all()
        )
    by_id = {s.id: s for s in sessions}
    for s in sessions:
        assert s.status in ("ready", "failed"), f"session {s.id} left {s.status}"
        assert laps.get(s.id) == LAPS and sources.get(s.id) == 1, f"session {s.id} is partial"
        if s.status == "ready" and s.id not in committed:  # (committed ones: checked below)
            path = storage.path_for(s.id)
            assert s.file_path == f"telemetry/{s.id}.parquet"
            assert s.file_size == path.stat().st_size
            assert pq.ParquetFile(path).metadata.num_rows == s.row_count == LAPS * 50
            full = storage.read(s.id)
            assert full is not None and full.total_points == s.row_count
    # nothing committed and settled before is lost or changed
    for sid, rows in committed.items():
        assert sid in by_id and by_id[sid].status == "ready" and by_id[sid].row_count == rows
        assert by_id[sid].file_size == storage.path_for(sid).stat().st_size
    # every file under a final name is complete and belongs to a ready session
    for sid in storage.session_ids():
        assert sid in by_id and by_id[sid].status == "ready", f"stray file for session {sid}"


def test_sigkill_at_every_checkpoint_then_recover(
    db_url: str, engine: Engine, telemetry: ParquetTelemetryStorage
) -> None:
    n_sql, n_commit = _count_statements(db_url, telemetry)
    assert n_sql >= 6 and n_commit >= 2
    points: list[tuple[str, int | None]] = [(p, None) for p in NAMED]
    points += [(f"sql:{n}", None) for n in range(1, n_sql + 1)]
    points += [(f"commit:{n}", None) for n in range(1, n_commit + 1)]
    rng = random.Random(20240501)
    points += [("-", rng.randrange(0, 80)) for _ in range(RANDOM_KILLS)]

    committed = {s.id: s.row_count for s in [_session_of(engine, "probe")] if s and s.row_count}
    zygote = Zygote(db_url, telemetry.root)
    killed = parquet_kills = 0
    outcomes: dict[str, int] = {"absent": 0, "failed": 0, "ready": 0}
    try:
        for i, (kill_at, delay) in enumerate(points):
            tag = f"k{i}"
            code = zygote.run(tag, kill_at, delay)
            if kill_at != "-":
                assert code == -9, f"{kill_at}: the child was not killed there (exit {code})"
            killed += code == -9
            report = recover(engine, telemetry)
            assert report.orphans == []
            # a write killed mid-way leaves its temp file, never a file under the final
            # name; recover removes it (its writer is dead) and says how much it freed
            if kill_at.startswith("parquet:"):
                parquet_kills += 1
                assert len(report.temp_files_removed) == 1 and report.bytes_freed > 0
            assert all(p.name.startswith(".") and p.suffix == ".tmp" for p in report.temp_files_removed)
            assert report.temp_files == [] and telemetry.temp_files() == []
            _check_invariants(engine, telemetry, committed)

            row = _session_of(engine, tag)
            state = "absent" if row is None else row.status
            outcomes[state] += 1
            if kill_at in NAMED:
                assert state == (NAMED[kill_at] or "absent"), f"killed at {kill_at}: {state}"
            draft = make_draft(tag)
            if row is None:
                # nothing of it was committed: no stray source blocks a new save
                with reading(engine) as db:
                    assert db.scalar(select(TelemetrySource.id).where(TelemetrySource.sha256 == sha_of(tag))) is None
                sid = save_session(draft, engine, telemetry)
            else:
                sid = row.id
                if row.status == "failed":
                    assert row.error and "not completed" in row.error
                    assert not telemetry.exists(sid)
                    retry_telemetry(engine, telemetry, sid, draft.telemetry)
            saved = load_session(engine, sid)
            assert saved.summary.status == "ready" and saved.laps == draft.laps
            lap = telemetry.read_lap(sid, 2)
            assert lap is not None and list(lap.channels["speed"]) == list(draft.telemetry.laps[2].channels["speed"])
            committed[sid] = saved.summary.row_count or 0
            _check_invariants(engine, telemetry, committed)
    finally:
        zygote.close()
    summary = f"{len(points)} points, {killed} kills, outcomes {outcomes}"
    assert killed >= len(points) - RANDOM_KILLS, summary
    assert killed >= 25, summary
    # the points cover all three outcomes
    assert all(outcomes.values()), outcomes


def test_sigkill_while_deleting_then_recover_leaves_the_session_whole_or_gone(
    db_url: str, engine: Engine, telemetry: ParquetTelemetryStorage
) -> None:
    """The file is set aside first, the rows go next, the file last: a kill part-way
    leaves the whole session (killed before the file was set aside) or, once recover()
    has completed the delete, neither rows nor file; never a session without its file,
    never an orphan file."""
    points = ["after_set_aside:1", "after_delete_rows:1", "commit:2", "commit:3", *(f"sql:{n}" for n in range(1, 5))]
    zygote = Zygote(db_url, telemetry.root)
    outcomes = {"whole": 0, "gone": 0}
    try:
        for i, kill_at in enumerate(points):
            tag = f"d{i}"
            assert zygote.run(tag, "-") == 0
            before = _session_of(engine, tag)
            assert before is not None
            code = zygote.run(tag, kill_at, action="delete")
            assert code in (-9, 0), kill_at
            report = recover(engine, telemetry)
            assert report.orphans == []
            row = _session_of(engine, tag)
            aside = telemetry.folder / f".{before.id}.parquet.deleting"
            assert not aside.exists()
            if row is None:
                outcomes["gone"] += 1
                assert not telemetry.exists(before.id)
                with reading(engine) as db:
                    assert db.scalar(select(func.count(Lap.id)).where(Lap.session_id == before.id)) == 0
                if code == -9 and kill_at.startswith(("after_", "commit")):
                    assert report.deleted == [before.id]
            else:
                outcomes["whole"] += 1
                assert row.status == "ready" and telemetry.exists(row.id)
                assert load_session(engine, row.id).laps == make_draft(tag).laps
                full = telemetry.read(row.id)
                assert full is not None and full.total_points == row.row_count
            if kill_at in ("after_set_aside:1", "after_delete_rows:1", "commit:3"):
                assert row is None, kill_at
    finally:
        zygote.close()
    assert all(outcomes.values()), outcomes
