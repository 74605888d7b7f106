"""Races between processes on one catalogue (SQLite file and PostgreSQL).

* Two processes saving the same source file, released at the same moment, round after
  round: exactly one session per round, the other process refused as a duplicate naming it.
* Two ``laptrace import`` processes of the same real file at once: one exit 0, one exit 3.
* Eight processes saving different files into one catalogue: nothing lost, no
  "database is locked" (SQLite writers wait for the lock).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from draftmaker import make_draft, sha_of
from realfiles import logger_file
from sqlalchemy import Engine, func, select

from storage.db.catalog import list_sessions, reading
from storage.db.models import TelemetrySource
from storage.parquet import ParquetTelemetryStorage
from storage.sessions import recover

WORKER = Path(__file__).with_name("save_worker.py")
ROUNDS = 12


def _worker(*args: str, stdin: int = subprocess.PIPE) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(WORKER), *args],
        stdin=stdin,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_processes_saving_the_same_file_give_one_session(
    db_url: str, engine: Engine, telemetry: ParquetTelemetryStorage
) -> None:
    procs = [_worker("race", db_url, str(telemetry.root), "same", str(ROUNDS)) for _ in range(2)]
    results: list[list[str]] = [[], []]
    try:
        for r in range(ROUNDS):
            for p in procs:
                assert p.stdout is not None
                assert p.stdout.readline().split() == ["wait", str(r)]
            for p in procs:  # release both together
                assert p.stdin is not None
                p.stdin.write("go\n")
                p.stdin.flush()
            for i, p in enumerate(procs):
                assert p.stdout is not None
                results[i].append(p.stdout.readline().strip())
    finally:
        for p in procs:
            _out, err = p.communicate(timeout=120)
            assert p.returncode == 0, err
    sessions = {s.name: s for s in list_sessions(engine)}
    for r in range(ROUNDS):
        a, b = results[0][r].split(), results[1][r].split()
        assert sorted([a[2], b[2]]) == ["duplicate", "saved"], (a, b)
        assert a[3] == b[3]  # the refused one names the session the other saved
        s = sessions[f"session same{r}"]
        assert (s.id, s.status, s.row_count) == (int(a[3]), "ready", 200)
        with reading(engine) as db:
            n = db.scalar(select(func.count(TelemetrySource.id)).where(TelemetrySource.sha256 == sha_of(f"same{r}")))
        assert n == 1
    assert len(sessions) == ROUNDS
    report = recover(engine, telemetry)
    assert (report.ready, report.failed, report.orphans, report.temp_files) == ([], [], [], [])


def test_two_laptrace_imports_of_one_file_at_once(db_url: str, engine: Engine, tmp_path: Path) -> None:
    path = logger_file("vbo/session_20230326_141947_test.vbo")
    env = {**os.environ, "LAPTRACE_CONFIG_DIR": str(tmp_path / "config")}
    data = tmp_path / "data"
    cmd = [sys.executable, "-m", "desktop_app", "import", str(path), "--db", db_url, "--data-dir", str(data)]
    procs = [
        subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) for _ in range(2)
    ]
    outs = [p.communicate(timeout=300) for p in procs]
    codes = sorted(p.returncode for p in procs)
    assert codes == [0, 3], outs
    err = next(e for p, (_o, e) in zip(procs, outs, strict=True) if p.returncode == 3)
    assert "already imported as session" in err and "database is locked" not in err
    (only,) = list_sessions(engine)
    assert only.status == "ready" and only.lap_count > 0


def test_eight_processes_saving_different_files_lose_nothing(
    db_url: str, engine: Engine, telemetry: ParquetTelemetryStorage
) -> None:
    tags = [[f"w{p}n{n}" for n in range(2)] for p in range(8)]
    procs = [_worker("save", db_url, str(telemetry.root), *mine, stdin=subprocess.DEVNULL) for mine in tags]
    outputs = [p.communicate(timeout=300) for p in procs]
    for p, (_out, err) in zip(procs, outputs, strict=True):
        assert p.returncode == 0, err
        assert "locked" not in err
    sessions = {s.name: s for s in list_sessions(engine)}
    assert sorted(sessions) == sorted(f"session {t}" for mine in tags for t in mine)
    for mine in tags:
        for t in mine:
            s = sessions[f"session {t}"]
            assert s.status == "ready" and s.row_count == 200
            lap = telemetry.read_lap(s.id, 1)
            assert lap is not None
            assert list(lap.channels["speed"]) == list(make_draft(t).telemetry.laps[1].channels["speed"])
