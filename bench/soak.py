"""Soak test of the catalogue under kills and database restarts (not in the test suite).

``python -m bench soak [--minutes 20] [--processes 4] [--kill-every 3] [--restart-every 120]``

Starts a throwaway PostgreSQL cluster (``.ci/postgres.sh``), then for the given time runs
``--processes`` worker processes on one catalogue and one data directory. Each worker, like
the app, runs ``recover()`` when it starts, then loops over random operations: import a
logger file (one of a pool of copies of the repo's sample, each with its own SHA-256),
edit a lap's validity, delete a session. Meanwhile the controller SIGKILLs a random worker
every ``--kill-every`` seconds (and starts a new one) and restarts PostgreSQL in immediate
mode (no clean shutdown) every ``--restart-every`` seconds.

At the end every worker is killed, ``recover()`` runs once, and the invariants are checked:
no session left ``writing``; every ``ready`` session's file reads completely with its row
count and size; every session has its laps and its source; no orphan file, no temp file,
no half-done delete, no leftover source note; no source SHA-256 held by two sessions that
are not ``failed`` (no import here uses ``--force``). It prints the operations, kills,
restarts and violations (which must be 0), and exits 1 if there is any violation.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the worker imports the app lazily, in its own process
    from storage.types import SessionDraft

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "data" / "samples" / "session_20251231_111318_tianma_lap9_v3.csv"


# --- the worker ----------------------------------------------------------------------------


def worker(url: str, data_dir: str, pool: str, seed: int) -> int:
    """Random operations until killed; one line per operation on stdout."""
    from desktop_app.importing import import_file
    from storage.db import make_engine
    from storage.db.catalog import list_sessions, load_session, set_lap_validity
    from storage.db.errors import CatalogError, DuplicateImportError, SaveError, SessionNotFoundError
    from storage.parquet import ParquetTelemetryStorage
    from storage.sessions import delete_session, recover, save_session

    rng = random.Random(seed)
    engine = make_engine(url)
    storage = ParquetTelemetryStorage(data_dir)
    files = sorted(Path(pool).glob("*.csv"))
    drafts: dict[Path, SessionDraft] = {}

    def out(line: str) -> None:
        print(line, flush=True)

    while True:
        try:
            recover(engine, storage)  # as the app does at start
            break
        except CatalogError:
            time.sleep(0.5)
    out("started")
    while True:
        op = rng.choices(["import", "validity", "delete"], weights=[5, 3, 2])[0]
        try:
            if op == "import":
                path = rng.choice(files)
                if path not in drafts:
                    drafts[path] = import_file(path).draft
                draft = drafts[path]
                save_session(draft, engine, storage, source_paths=[path])
                out("op import saved")
            else:
                sessions = [s for s in list_sessions(engine) if s.status == "ready"]
                if not sessions:
                    out(f"op {op} none")
                    continue
                s = rng.choice(sessions)
                if op == "validity":
                    laps = load_session(engine, s.id).laps
                    if not laps:  # a ready session always has laps: a torn read is a violation
                        out(f"op {op} nolaps")
                        raise SystemExit(f"session {s.id} was read without its laps")
                    lap = rng.choice(laps)
                    set_lap_validity(engine, s.id, lap.lap_number, rng.choice([True, False, None]))
                    out("op validity done")
                else:
                    delete_session(engine, storage, s.id)
                    out("op delete done")
        except DuplicateImportError:
            out("op import duplicate")
        except SessionNotFoundError:
            out(f"op {op} gone")  # deleted by another worker meanwhile
        except (CatalogError, SaveError) as exc:
            out(f"op {op} dberror {type(exc).__name__}")
            time.sleep(0.2)


# --- the controller ------------------------------------------------------------------------


class Postgres:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        script = REPO / ".ci" / "postgres.sh"
        self.url = subprocess.run(
            ["bash", str(script), str(folder)], check=True, capture_output=True, text=True
        ).stdout.strip()
        bins = sorted(
            Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: [int(x) for x in p.parent.name.split(".")]
        )
        self.pg_ctl = str(bins[-1] / "pg_ctl") if bins else "pg_ctl"
        self.as_pg = ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []

    def _ctl(self, *args: str) -> None:
        subprocess.run(
            [*self.as_pg, self.pg_ctl, "-D", str(self.folder / "data"), *args],
            check=True,
            capture_output=True,
        )

    def restart_immediate(self) -> None:
        # -l: the server must not inherit (and hold open) the pipe this process reads
        self._ctl("restart", "-m", "immediate", "-w", "-l", str(self.folder / "server.log"))

    def stop(self) -> None:
        try:
            self._ctl("stop", "-m", "immediate")
        except subprocess.CalledProcessError:
            pass


def _make_pool(folder: Path, n: int) -> None:
    folder.mkdir(parents=True)
    data = SAMPLE.read_bytes()
    for i in range(n):
        # trailing blank lines: the same laps, another SHA-256
        (folder / f"run{i:03d}.csv").write_bytes(data + b"\n" * (i + 1))


def _spawn(url: str, data: Path, pool: Path, seed: int, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "bench.soak", "--worker", url, str(data), str(pool), str(seed)],
        cwd=REPO,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


def check(url: str, data: Path) -> tuple[list[str], dict[str, int]]:
    """Recover, then every invariant; the violations and a few counts."""
    from sqlalchemy import func, select

    from storage.db import make_engine
    from storage.db.catalog import reading
    from storage.db.models import Lap, TelemetrySource, TrackSession
    from storage.parquet import ParquetTelemetryStorage
    from storage.sessions import recover

    engine = make_engine(url)
    storage = ParquetTelemetryStorage(data)
    report = recover(engine, storage)
    bad: list[str] = []
    with reading(engine) as db:
        sessions = db.scalars(select(TrackSession)).all()
        laps = dict(db.execute(select(Lap.session_id, func.count()).group_by(Lap.session_id)).all())
        sources = db.execute(select(TelemetrySource.session_id, TelemetrySource.sha256)).all()
    by_id = {s.id: s for s in sessions}
    held: dict[str, list[int]] = {}
    for sid, sha in sources:
        if by_id[sid].status != "failed":
            held.setdefault(sha, []).append(sid)
    for sha, ids in held.items():
        if len(ids) > 1:
            bad.append(f"source {sha[:12]} held by sessions {ids} (no --force was used)")
    with_source = {sid for sid, _ in sources}
    for s in sessions:
        if s.status == "writing":
            bad.append(f"session {s.id} left writing")
        if not laps.get(s.id) or s.id not in with_source:
            bad.append(f"session {s.id} without laps or source")
        if s.status == "ready":
            path = storage.path_for(s.id)
            try:
                full = storage.read(s.id)
            except Exception as exc:  # noqa: BLE001 - a violation to report, not a crash
                bad.append(f"session {s.id}: file unreadable: {exc}")
                continue
            if full is None:
                bad.append(f"session {s.id} ready without its file")
            elif full.total_points != s.row_count or path.stat().st_size != s.file_size:
                bad.append(f"session {s.id}: file has {full.total_points} rows, catalogue {s.row_count}")
    for sid in storage.session_ids():
        if sid not in by_id or by_id[sid].status != "ready":
            bad.append(f"file {sid}.parquet without a ready session")
    bad += [f"orphan file {p}" for p in report.orphans]
    leftovers = [p.name for p in storage.folder.glob(".*")] if storage.folder.is_dir() else []
    bad += [f"leftover {name}" for name in leftovers if not name.endswith(".sources.json")]
    notes = [n for n in leftovers if n.endswith(".sources.json")]
    for name in notes:
        sid = int(name.split(".")[1])
        if sid not in by_id or by_id[sid].status != "failed":
            bad.append(f"leftover note {name}")
    engine.dispose()
    counts = {
        "sessions ready": sum(s.status == "ready" for s in sessions),
        "sessions failed": sum(s.status == "failed" for s in sessions),
        "recover: made ready": len(report.ready),
        "recover: marked failed": len(report.failed),
        "recover: deletes completed": len(report.deleted),
        "recover: temp files removed": len(report.temp_files_removed),
    }
    return bad, counts


def run(minutes: float, processes: int, kill_every: float, restart_every: float, seed: int) -> int:
    rng = random.Random(seed)
    base = Path(tempfile.mkdtemp(prefix="laptrace-soak-"))
    base.chmod(0o755)  # the server may run as another user (postgres) that must reach its folder
    pg = Postgres(base / "pg")
    data, pool, logs = base / "data", base / "pool", base / "logs"
    _make_pool(pool, 40)
    logs.mkdir()
    from storage.db import make_engine, upgrade

    engine = make_engine(pg.url)
    upgrade(engine)
    engine.dispose()
    workers: list[subprocess.Popen[bytes]] = []
    spawned = kills = restarts = 0

    def spawn() -> subprocess.Popen[bytes]:
        nonlocal spawned
        spawned += 1
        return _spawn(pg.url, data, pool, rng.randrange(1 << 30), logs / f"w{spawned}.log")

    workers = [spawn() for _ in range(processes)]
    start = time.monotonic()
    end = start + minutes * 60
    next_kill = start + kill_every * rng.uniform(0.5, 1.5)
    next_restart = start + restart_every
    try:
        while (now := time.monotonic()) < end:
            if now >= next_kill:
                i = rng.randrange(len(workers))
                workers[i].send_signal(signal.SIGKILL)
                workers[i].wait()
                kills += 1
                workers[i] = spawn()
                next_kill = now + kill_every * rng.uniform(0.5, 1.5)
            if now >= next_restart:
                pg.restart_immediate()
                restarts += 1
                next_restart = now + restart_every
            for i, w in enumerate(workers):
                if w.poll() is not None:  # a worker that ended by itself: a crash to look at
                    workers[i] = spawn()
            time.sleep(0.05)
    finally:
        for w in workers:
            w.send_signal(signal.SIGKILL)
            w.wait()
    ops: Counter[str] = Counter()
    crashes = 0
    for log in sorted(logs.glob("*.log")):
        text = log.read_text(errors="replace")
        crashes += "Traceback" in text
        for line in text.splitlines():
            if line.startswith("op "):
                ops[" ".join(line.split()[1:3])] += 1
    try:
        violations, counts = check(pg.url, data)
    finally:
        pg.stop()
    rows = [
        ("minutes", f"{minutes:g}"),
        ("worker processes", str(processes)),
        ("operations", str(sum(ops.values()))),
        *((f"  {k}", str(v)) for k, v in sorted(ops.items())),
        ("SIGKILLs", str(kills)),
        ("PostgreSQL immediate restarts", str(restarts)),
        ("worker logs with a traceback", str(crashes)),
        *((k, str(v)) for k, v in counts.items()),
        ("violations", str(len(violations))),
    ]
    width = max(len(k) for k, _ in rows)
    print(f"{'soak':<{width}}  count")
    for k, v in rows:
        print(f"{k:<{width}}  {v:>6}")
    for v in violations[:50]:
        print(f"VIOLATION: {v}")
    if not violations and not crashes:
        shutil.rmtree(base, ignore_errors=True)
    else:
        print(f"kept for inspection: {base}")
    return 1 if violations or crashes else 0


def main(argv: list[str]) -> int:
    if argv and argv[0] == "--worker":
        url, data, pool, seed = argv[1:5]
        return worker(url, data, pool, int(seed))
    p = argparse.ArgumentParser(prog="python -m bench soak", description=__doc__.splitlines()[0])
    p.add_argument("--minutes", type=float, default=20.0)
    p.add_argument("--processes", type=int, default=4)
    p.add_argument("--kill-every", type=float, default=3.0, metavar="SECONDS")
    p.add_argument("--restart-every", type=float, default=120.0, metavar="SECONDS")
    p.add_argument("--seed", type=int, default=20240501)
    a = p.parse_args(argv)
    return run(a.minutes, a.processes, a.kill_every, a.restart_every, a.seed)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
