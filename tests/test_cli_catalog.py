"""``laptrace import|sessions|recover`` on real logger files, SQLite and PostgreSQL."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from realfiles import logger_file
from sqlalchemy import create_engine, text, update
from sqlalchemy.engine import make_url

from desktop_app.cli import main
from desktop_app.commands import exitcodes
from storage.db import make_engine
from storage.db.catalog import run_write
from storage.db.models import TrackSession

VBO = "vbo/session_20230326_141947_test.vbo"
RACECHRONO = "racechrono_csv/session_20230918_0946_0916takata_v2.csv"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_args(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[list[str]]:
    """``--data-dir`` (and ``--db`` on PostgreSQL: a fresh schema) for every command."""
    data = ["--data-dir", str(tmp_path / "data")]
    if request.param == "sqlite":
        yield data  # the default: SQLite in the data directory
        return
    base = os.environ.get("LAPTRACE_TEST_POSTGRES_URL")
    if not base:
        if os.environ.get("LAPTRACE_REQUIRE_POSTGRES") == "1":
            pytest.fail("LAPTRACE_REQUIRE_POSTGRES=1 but LAPTRACE_TEST_POSTGRES_URL is not set")
        pytest.skip("no PostgreSQL server: set LAPTRACE_TEST_POSTGRES_URL")
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield [*data, "--db", url.render_as_string(hide_password=False)]
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def _url(db_args: list[str], tmp_path: Path) -> str:
    if "--db" in db_args:
        return db_args[db_args.index("--db") + 1]
    return f"sqlite:///{(tmp_path / 'data' / 'laptrace.sqlite3').as_posix()}"


def test_import_json_matches_inspect_and_the_parquet_file(
    capsys: pytest.CaptureFixture[str], db_args: list[str]
) -> None:
    path = str(logger_file(RACECHRONO))
    code, out, _ = _run(
        capsys,
        "import",
        path,
        "--driver",
        "Kimi",
        "--track",
        "Takata",
        "--vehicle",
        "Civic",
        "--session-name",
        "FP1",
        "--json",
        *db_args,
    )
    assert code == exitcodes.OK
    doc = json.loads(out)
    assert set(doc) >= {"session_id", "parquet_path", "status", "laps"}
    assert doc["status"] == "ready" and doc["session_name"] == "FP1"
    _, inspected, _ = _run(capsys, "inspect", "--json", path)
    assert doc["laps"] == json.loads(inspected)["files"][0]["laps"]
    meta = pq.ParquetFile(doc["parquet_path"]).metadata
    assert meta.num_rows == sum(lap["samples"] for lap in doc["laps"])
    assert meta.num_row_groups == len(doc["laps"])

    code, out, _ = _run(capsys, "sessions", "--json", *db_args)
    (listed,) = json.loads(out)
    assert (listed["id"], listed["name"], listed["driver"], listed["track"], listed["vehicle"]) == (
        doc["session_id"],
        "FP1",
        "Kimi",
        "Takata",
        "Civic",
    )
    assert listed["status"] == "ready" and listed["lap_count"] == len(doc["laps"])
    assert listed["source_type"] == "racechrono"
    assert listed["file_path"] == f"telemetry/{doc['session_id']}.parquet"
    _, out, _ = _run(capsys, "sessions", "--json", "--driver", "Nobody", *db_args)
    assert json.loads(out) == []


def test_duplicate_then_force(capsys: pytest.CaptureFixture[str], db_args: list[str]) -> None:
    path = str(logger_file(VBO))
    code, out, _ = _run(capsys, "import", path, *db_args)
    assert code == exitcodes.OK
    (line,) = [x for x in out.splitlines() if x.strip().startswith("session ")]
    first = int(line.split()[1])
    assert f"telemetry{os.sep}{first}.parquet" in out
    code, out, err = _run(capsys, "import", path, *db_args)
    assert code == exitcodes.DUPLICATE
    assert path in err and f"session {first}" in err and "--force" in err
    code, out, _ = _run(capsys, "import", path, "--force", "--json", *db_args)
    assert code == exitcodes.OK and json.loads(out)["session_id"] != first
    _, out, _ = _run(capsys, "sessions", "--json", *db_args)
    assert len(json.loads(out)) == 2


def test_bad_file_is_bad_input_and_the_others_still_import(
    capsys: pytest.CaptureFixture[str], db_args: list[str], tmp_path: Path
) -> None:
    junk = tmp_path / "junk.vbo"
    junk.write_text("this is not a logger file\n", encoding="utf-8")
    code, out, err = _run(capsys, "import", str(junk), str(logger_file(VBO)), "--json", *db_args)
    assert code == exitcodes.BAD_INPUT
    assert "junk.vbo" in err
    assert json.loads(out)["status"] == "ready"  # the good file after it was saved
    code, _, err = _run(capsys, "import", str(tmp_path / "missing.vbo"), *db_args)
    assert code == exitcodes.BAD_INPUT and "missing.vbo" in err


def test_recover_settles_a_half_saved_session(
    capsys: pytest.CaptureFixture[str], db_args: list[str], tmp_path: Path
) -> None:
    code, out, _ = _run(capsys, "import", str(logger_file(VBO)), "--json", *db_args)
    sid = json.loads(out)["session_id"]
    engine = make_engine(_url(db_args, tmp_path))
    run_write(
        engine, lambda db: db.execute(update(TrackSession).where(TrackSession.id == sid).values(status="writing"))
    )
    engine.dispose()
    code, out, _ = _run(capsys, "recover", "--json", *db_args)
    assert code == exitcodes.OK
    assert json.loads(out) == {
        "ready": [sid],
        "failed": [],
        "deleted": [],
        "in_progress": [],
        "orphans": [],
        "temp_files": [],
        "temp_files_removed": [],
        "bytes_freed": 0,
        "resplit_finished": [],
        "resplit_leftovers": [],
    }
    code, out, _ = _run(capsys, "recover", *db_args)
    assert code == exitcodes.OK and "ready: 0" in out


def test_parquet_failure_is_a_storage_failure_with_the_session_kept(
    capsys: pytest.CaptureFixture[str], db_args: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(*_a: object, **_k: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(pq.ParquetWriter, "write_table", disk_full)
    code, out, err = _run(capsys, "import", str(logger_file(VBO)), "--json", *db_args)
    assert code == exitcodes.STORAGE_FAILURE
    doc = json.loads(out)
    assert doc["status"] == "failed" and "No space left on device" in doc["error"]
    assert "No space left on device" in err and f"session {doc['session_id']}" in err
    assert not Path(doc["parquet_path"]).exists()
    monkeypatch.undo()
    _, out, _ = _run(capsys, "sessions", "--json", *db_args)
    (listed,) = json.loads(out)
    assert listed["status"] == "failed" and "No space left" in listed["error"]


def test_unreachable_database_is_a_storage_failure_without_the_password(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    url = "postgresql+psycopg://team:s3cret-pw@127.0.0.1:1/laptrace?connect_timeout=2"
    for argv in (["import", str(logger_file(VBO))], ["sessions"], ["recover"]):
        code, out, err = _run(capsys, *argv, "--db", url, "--data-dir", str(tmp_path))
        assert code == exitcodes.STORAGE_FAILURE
        assert "cannot open the catalogue" in err and "127.0.0.1" in err
        assert "s3cret-pw" not in err + out


# --- import --merge -----------------------------------------------------------------------


def _laptrace_import(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "desktop_app", "import", *map(str, args)],
        cwd=Path(__file__).resolve().parents[1],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_import_merge_saves_one_session_with_two_sources(tmp_path: Path) -> None:
    from mergecases import build_case

    from storage.db.catalog import load_session
    from storage.parquet import ParquetTelemetryStorage

    case = build_case(tmp_path, ecu_format="bosch")
    data = tmp_path / "data"
    proc = _laptrace_import(case.gps, case.ecu, "--merge", "--json", "--data-dir", data)
    assert proc.returncode == exitcodes.OK, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 1  # one session, not one per file
    doc = json.loads(lines[0])
    assert doc["status"] == "ready"
    assert doc["paths"] == [str(case.gps), str(case.ecu)]
    assert abs(doc["merge"]["offset_s"] - case.offset_s) < 0.05
    assert abs(doc["merge"]["drift_ppm"] - case.drift_ppm) < 20.0
    assert len(doc["laps"]) == 16

    engine = make_engine(f"sqlite:///{(data / 'laptrace.sqlite3').as_posix()}")
    try:
        saved = load_session(engine, doc["session_id"])
    finally:
        engine.dispose()
    assert saved.summary.source_type == "merged"
    assert [s.file_name for s in saved.sources] == ["gps.vbo", "ecu.txt"]
    assert [s.source_type for s in saved.sources] == ["vbo", "bosch"]
    gps_off, ecu_off = (s.time_offset_s for s in saved.sources)
    assert abs((ecu_off - gps_off) - case.offset_s) < 0.05
    assert "rpm" in {c.name for c in saved.sources[1].channels}
    assert len(saved.laps) == 16

    footer = ParquetTelemetryStorage(data).read_footer(doc["session_id"])
    assert footer is not None and footer.metadata.source_type == "merged"
    extra = footer.metadata.extra
    assert abs(float(extra["merge_offset_s"]) - case.offset_s) < 0.05
    per_source = json.loads(extra["merge_sources"])
    assert [s["file"] for s in per_source] == ["gps.vbo", "ecu.txt"]
    assert "speed [bosch]" in per_source[1]["channels"]
    assert "speed [bosch]" in footer.auxiliary_channels


def test_import_merge_refused_for_files_that_do_not_overlap(tmp_path: Path) -> None:
    from mergecases import build_case, original

    n = original().sample_count
    case = build_case(
        tmp_path, ecu_format="racechrono", gps_rows=slice(0, int(n * 0.45), 2), ecu_rows=slice(int(n * 0.55), n)
    )
    data = tmp_path / "data"
    proc = _laptrace_import(case.gps, case.ecu, "--merge", "--json", "--data-dir", data)
    assert proc.returncode == exitcodes.MERGE_REFUSED
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr
    assert "cannot merge gps.vbo with ecu_racechrono.csv" in proc.stderr
    assert "do not overlap in time" in proc.stderr
    # nothing was saved
    sessions = _laptrace_sessions(data)
    assert sessions == []


def _laptrace_sessions(data: Path) -> list[dict[str, object]]:
    proc = subprocess.run(
        [sys.executable, "-m", "desktop_app", "sessions", "--json", "--data-dir", str(data)],
        cwd=Path(__file__).resolve().parents[1],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == exitcodes.OK, proc.stderr
    result: list[dict[str, object]] = json.loads(proc.stdout)
    return result


def test_import_merge_needs_two_files(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = _run(capsys, "import", str(logger_file(VBO)), "--merge", "--data-dir", str(tmp_path / "data"))
    assert code == exitcodes.BAD_INPUT and out == ""
    assert "--merge takes two files" in err


def test_import_merge_offset_by_hand(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from mergecases import build_case

    case = build_case(tmp_path, drift_ppm=0.0)
    code, out, err = _run(
        capsys,
        "import",
        str(case.gps),
        str(case.ecu),
        "--merge",
        "--merge-offset",
        "3.0",
        "--json",
        "--data-dir",
        str(tmp_path / "data"),
    )
    assert code == exitcodes.OK, err
    doc = json.loads(out)
    assert doc["merge"]["method"] == "manual" and doc["merge"]["offset_s"] == 3.0
