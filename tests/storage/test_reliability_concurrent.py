"""Four processes saving different files into one catalogue at once (PostgreSQL, and one
SQLite file): all succeed, distinct ids, nothing lost. They also start on an empty
database together, so the schema migration at start-up is raced as well."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
from draftmaker import make_draft
from sqlalchemy import Engine

from storage.db import current_revision, head_revision
from storage.db.catalog import list_sessions, load_session
from storage.parquet import ParquetTelemetryStorage
from storage.sessions import recover

WORKER = Path(__file__).with_name("save_worker.py")
PROCESSES = 4
SAVES_EACH = 3


def test_four_processes_save_at_once(db_url: str, bare_engine: Engine, telemetry: ParquetTelemetryStorage) -> None:
    assert current_revision(bare_engine) is None  # each worker migrates at start
    tags = [[f"p{p}s{s}" for s in range(SAVES_EACH)] for p in range(PROCESSES)]
    procs = [
        subprocess.Popen(
            [sys.executable, str(WORKER), "save", db_url, str(telemetry.root), *mine],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for mine in tags
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    for p, (_out, err) in zip(procs, outputs, strict=True):
        assert p.returncode == 0, err
    saved = dict(
        (line.split()[1], int(line.split()[2]))
        for out, _ in outputs
        for line in out.splitlines()
        if line.startswith("saved ")
    )
    every_tag = [t for mine in tags for t in mine]
    assert sorted(saved) == sorted(every_tag)
    assert len(set(saved.values())) == len(every_tag)  # distinct ids

    assert current_revision(bare_engine) == head_revision()
    sessions = {s.id: s for s in list_sessions(bare_engine)}
    assert sorted(sessions) == sorted(saved.values())
    for tag, sid in saved.items():
        s = sessions[sid]
        assert (s.name, s.status, s.row_count) == (f"session {tag}", "ready", 200)
        assert pq.ParquetFile(telemetry.path_for(sid)).metadata.num_rows == 200
        assert load_session(bare_engine, sid).laps == make_draft(tag).laps
    report = recover(bare_engine, telemetry)
    assert (report.ready, report.failed, report.orphans) == ([], [], [])
    assert telemetry.temp_files() == []
