"""Temp files of Parquet writes: recover removes those no live writer owns and says what
it freed; a write that is running (in this process or another) keeps its temp file."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from draftmaker import make_draft
from sqlalchemy import Engine

from storage.db.catalog import list_sessions
from storage.parquet import ParquetTelemetryStorage
from storage.sessions import recover, save_session

# holds an exclusive lock on a temp file named like the writer's, until stdin closes
_HOLDER = textwrap.dedent(
    """
    import fcntl, os, sys, tempfile
    fd, name = tempfile.mkstemp(prefix=f".77.parquet.{os.getpid()}.", suffix=".tmp", dir=sys.argv[1])
    os.write(fd, b"x" * 5000)
    fcntl.flock(fd, fcntl.LOCK_EX)
    print(name, flush=True)
    sys.stdin.read()
    """
)


def _dead_pid() -> int:
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(proc.stdout)


def test_killed_writes_temp_files_are_removed_and_counted(engine: Engine, telemetry: ParquetTelemetryStorage) -> None:
    sid = save_session(make_draft("kept"), engine, telemetry)
    telemetry.folder.mkdir(parents=True, exist_ok=True)
    pid = _dead_pid()
    stale = [
        telemetry.folder / f".5.parquet.{pid}.abc123.tmp",
        telemetry.folder / ".6.parquet.k_9x.tmp",  # the name older versions used (no pid)
    ]
    stale[0].write_bytes(b"P" * 1234)
    stale[1].write_bytes(b"Q" * 100)
    report = recover(engine, telemetry)
    assert sorted(report.temp_files_removed) == sorted(stale)
    assert report.bytes_freed == 1334
    assert report.temp_files == [] and telemetry.temp_files() == []
    assert not any(p.exists() for p in stale)
    # the session's own file is untouched
    footer = telemetry.read_footer(sid)
    assert footer is not None and footer.total_points == 200


@pytest.mark.skipif(sys.platform == "win32", reason="flock is POSIX; Windows refuses to remove an open file")
def test_a_live_writer_in_another_process_keeps_its_temp_file(
    engine: Engine, telemetry: ParquetTelemetryStorage
) -> None:
    telemetry.folder.mkdir(parents=True, exist_ok=True)
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(telemetry.folder)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdin is not None
    temp = Path(holder.stdout.readline().strip())
    try:
        report = recover(engine, telemetry)
        assert report.temp_files == [temp] and report.temp_files_removed == []
        assert temp.stat().st_size == 5000
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
        holder.stdout.close()
    report = recover(engine, telemetry)
    assert report.temp_files_removed == [temp] and report.bytes_freed == 5000
    assert not temp.exists()


def test_the_running_write_of_this_process_keeps_its_temp_file(
    engine: Engine, telemetry: ParquetTelemetryStorage
) -> None:
    seen: list[tuple[list[Path], list[Path]]] = []

    def progress(done: int, total: int) -> None:
        if done == 2:
            report = recover(engine, telemetry)
            seen.append((report.temp_files, report.temp_files_removed))

    sid = save_session(make_draft("running"), engine, telemetry, progress=progress)
    (kept, removed) = seen[0]
    assert len(kept) == 1 and kept[0].name.startswith(f".{sid}.parquet.") and removed == []
    assert [s.status for s in list_sessions(engine)] == ["ready"]
    assert telemetry.temp_files() == []
    telemetry_read = telemetry.read(sid)
    assert telemetry_read is not None and telemetry_read.total_points == 200


def test_recover_leaves_a_save_of_a_live_process_alone(engine: Engine, telemetry: ParquetTelemetryStorage) -> None:
    from sqlalchemy import update

    from storage.db.catalog import run_write
    from storage.db.models import TrackSession

    sid = save_session(make_draft("live"), engine, telemetry)
    telemetry.path_for(sid).unlink()  # as if its file were still being written
    sleeper = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    assert sleeper.stdin is not None
    import socket

    mark = f"being saved by pid {sleeper.pid} on {socket.gethostname()}"
    run_write(
        engine,
        lambda db: db.execute(update(TrackSession).where(TrackSession.id == sid).values(status="writing", error=mark)),
    )
    try:
        report = recover(engine, telemetry)
        assert report.in_progress == [sid] and report.failed == []
        assert [s.status for s in list_sessions(engine)] == ["writing"]
    finally:
        sleeper.stdin.close()
        sleeper.wait(timeout=30)
    report = recover(engine, telemetry)  # its writer is gone now
    assert report.failed == [sid] and report.in_progress == []
