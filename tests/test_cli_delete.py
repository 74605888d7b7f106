"""``laptrace delete|discard`` and ``recover --retry`` on real logger files, SQLite and
PostgreSQL: a failed save can be discarded or imported again, and finished from its
source file when that is still there and unchanged."""

from __future__ import annotations

import errno
import json
import os
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from realfiles import logger_file
from test_cli_catalog import VBO, _run, db_args

from desktop_app.commands import exitcodes
from desktop_app.importing import import_file

__all__ = ["db_args"]  # the fixture, shared with the catalogue tests


def _sessions(capsys: pytest.CaptureFixture[str], db_args: list[str]) -> list[dict[str, object]]:
    code, out, _ = _run(capsys, "sessions", "--json", *db_args)
    assert code == exitcodes.OK
    listed: list[dict[str, object]] = json.loads(out)
    return listed


def _import_failing(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, path: Path, db_args: list[str]
) -> dict[str, object]:
    def disk_full(*_a: object, **_k: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with monkeypatch.context() as m:
        m.setattr(pq.ParquetWriter, "write_table", disk_full)
        code, out, err = _run(capsys, "import", str(path), "--json", *db_args)
    assert code == exitcodes.STORAGE_FAILURE
    assert "recover --retry" in err and "laptrace discard" in err
    doc: dict[str, object] = json.loads(out)
    assert doc["status"] == "failed"
    return doc


def test_delete_removes_rows_and_file(capsys: pytest.CaptureFixture[str], db_args: list[str]) -> None:
    code, out, _ = _run(capsys, "import", str(logger_file(VBO)), "--json", *db_args)
    doc = json.loads(out)
    sid, parquet = doc["session_id"], Path(doc["parquet_path"])
    assert code == exitcodes.OK and parquet.is_file()
    code, out, err = _run(capsys, "delete", str(sid), *db_args)
    assert code == exitcodes.OK and f"deleted session {sid}" in out
    assert not parquet.exists() and list(parquet.parent.iterdir()) == []
    assert _sessions(capsys, db_args) == []
    code, _, err = _run(capsys, "delete", str(sid), *db_args)
    assert code == exitcodes.BAD_INPUT and f"session {sid} is not in the catalogue" in err
    # the same file can be imported again now
    code, out, _ = _run(capsys, "import", str(logger_file(VBO)), "--json", *db_args)
    assert code == exitcodes.OK and json.loads(out)["session_id"] != sid


def test_a_failed_session_can_be_imported_again_and_discarded(
    capsys: pytest.CaptureFixture[str], db_args: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    failed = _import_failing(capsys, monkeypatch, logger_file(VBO), db_args)
    code, out, _ = _run(capsys, "import", str(logger_file(VBO)), "--json", *db_args)
    assert code == exitcodes.OK
    again = json.loads(out)
    assert again["status"] == "ready" and again["session_id"] != failed["session_id"]
    # ready now: a third import is a duplicate of the ready one, not of the failed one
    code, _, err = _run(capsys, "import", str(logger_file(VBO)), *db_args)
    assert code == exitcodes.DUPLICATE and f"already imported as session {again['session_id']}" in err
    # a ready session is not discarded (that is a delete)
    code, _, err = _run(capsys, "discard", str(again["session_id"]), *db_args)
    assert code == exitcodes.BAD_INPUT and "not failed" in err
    code, out, _ = _run(capsys, "discard", str(failed["session_id"]), *db_args)
    assert code == exitcodes.OK and f"discarded session {failed['session_id']}" in out
    assert [s["id"] for s in _sessions(capsys, db_args)] == [again["session_id"]]


def test_recover_retry_finishes_a_failed_save_from_its_unchanged_source(
    capsys: pytest.CaptureFixture[str], db_args: list[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    src = tmp_path / "incoming" / "run.vbo"
    src.parent.mkdir()
    shutil.copyfile(logger_file(VBO), src)
    moved = tmp_path / "incoming" / "other.vbo"
    shutil.copyfile(logger_file("vbo/session_20230326_141947_test.vbo"), moved)
    failed = _import_failing(capsys, monkeypatch, src, db_args)
    sid = failed["session_id"]
    expected = import_file(src).draft.telemetry

    code, out, _ = _run(capsys, "recover", "--retry", "--json", *db_args)
    assert code == exitcodes.OK
    doc = json.loads(out)
    assert doc["retried"] == [sid] and doc["not_retried"] == {}
    (listed,) = _sessions(capsys, db_args)
    assert listed["status"] == "ready" and listed["row_count"] == expected.total_points
    parquet = Path(str(failed["parquet_path"]))
    assert pq.ParquetFile(parquet).metadata.num_rows == expected.total_points
    # the note of where the source was is gone with the save finished
    assert sorted(p.name for p in parquet.parent.iterdir()) == [parquet.name]


def test_recover_retry_refuses_a_changed_or_missing_source(
    capsys: pytest.CaptureFixture[str], db_args: list[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    changed, gone = tmp_path / "changed.vbo", tmp_path / "gone.vbo"
    shutil.copyfile(logger_file(VBO), changed)
    failed_a = _import_failing(capsys, monkeypatch, changed, db_args)
    shutil.copyfile(logger_file("vbo/session_20230326_141947_test.vbo"), gone)
    # the same bytes as `changed`: import it with --force so both are in the catalogue
    with monkeypatch.context() as m:
        m.setattr(pq.ParquetWriter, "write_table", lambda *a, **k: (_ for _ in ()).throw(OSError("disk gone")))
        code, out, _ = _run(capsys, "import", str(gone), "--json", "--force", *db_args)
    failed_b = json.loads(out)
    with changed.open("ab") as f:
        f.write(b"\n")
    gone.unlink()
    code, out, _ = _run(capsys, "recover", "--retry", "--json", *db_args)
    assert code == exitcodes.OK
    doc = json.loads(out)
    assert doc["retried"] == []
    assert "has changed since it was imported" in doc["not_retried"][str(failed_a["session_id"])]
    assert "cannot be read" in doc["not_retried"][str(failed_b["session_id"])]
    assert {s["status"] for s in _sessions(capsys, db_args)} == {"failed"}


@pytest.mark.parametrize("bad", ["0", "-3", "abc", "1.5", "", "9" * 40, "../1"])
def test_delete_and_discard_refuse_what_is_not_a_session_id(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, bad: str
) -> None:
    for command in ("delete", "discard"):
        code, out, err = _run(capsys, command, "--data-dir", str(tmp_path / "data"), "--", bad)
        assert code == exitcodes.BAD_INPUT, (command, bad, err)
        assert "is not a session id" in err and out == ""
    assert not (tmp_path / "data").exists()
