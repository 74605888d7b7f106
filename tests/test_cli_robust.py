"""The CLI at its edges, on SQLite and PostgreSQL: long and NUL-laden text is stored
cleaned with a warning, a status update lost after a complete file says how to finish,
a closed stdout ends quietly, ``--json`` stdout stays one document, non-UTF-8 file names
import, FIFOs and devices are refused up front, a reader bug names its file."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from realfiles import logger_file
from sqlalchemy import Engine
from test_cli_catalog import VBO, _run, db_args

from desktop_app.commands import catalog_cmd, exitcodes, inspect_cmd
from desktop_app.importing import ImportedFile, import_file
from storage import sessions as sessions_module
from storage.db.errors import CatalogError

__all__ = ["db_args"]

ENV = {**os.environ, "PYTHONIOENCODING": "utf-8"}


def _laptrace(*args: str | Path | bytes, tmp_path: Path) -> subprocess.CompletedProcess[bytes]:
    env = {**ENV, "LAPTRACE_CONFIG_DIR": str(tmp_path / "config")}
    return subprocess.run(
        [sys.executable, "-m", "desktop_app", *map(os.fsencode, args)],
        capture_output=True,
        env=env,
        timeout=300,
    )


def test_long_names_and_nul_from_flags_are_stored_cleaned_with_a_warning(
    capsys: pytest.CaptureFixture[str], db_args: list[str]
) -> None:
    argv = [
        "import",
        str(logger_file(VBO)),
        "--driver",
        "D" * 300,
        "--track",
        "Spa\x00Francorchamps",
        "--vehicle",
        "V" * 250,
        "--session-name",
        "N" * 600,
        "--json",
    ]
    code, out, err = _run(capsys, *argv, *db_args)
    assert code == exitcodes.OK, err
    assert "driver: cut from 300 to 200 characters" in err
    assert "track: NUL characters removed" in err
    assert "session name: cut from 600 to 500 characters" in err
    sid = json.loads(out)["session_id"]
    _, out, _ = _run(capsys, "sessions", "--json", *db_args)
    (s,) = json.loads(out)
    assert (s["id"], s["driver"], s["track"], s["vehicle"], s["name"]) == (
        sid,
        "D" * 200,
        "SpaFrancorchamps",
        "V" * 200,
        "N" * 500,
    )
    assert s["status"] == "ready"


def test_a_lost_final_status_update_says_the_file_is_complete(
    capsys: pytest.CaptureFixture[str], db_args: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    real = sessions_module._set_status

    def drop_on_ready(
        engine: Engine,
        session_id: int,
        status: str,
        *,
        error: str | None = None,
        file_path: str | None = None,
        file_size: int | None = None,
        row_count: int | None = None,
        only_if: str | None = None,
    ) -> bool:
        if status == "ready" and only_if is None:
            raise CatalogError("the catalogue could not be written: server closed the connection unexpectedly")
        return real(
            engine,
            session_id,
            status,
            error=error,
            file_path=file_path,
            file_size=file_size,
            row_count=row_count,
            only_if=only_if,
        )

    with monkeypatch.context() as m:
        m.setattr(sessions_module, "_set_status", drop_on_ready)
        code, out, err = _run(capsys, "import", str(logger_file(VBO)), "--json", *db_args)
    assert code == exitcodes.STORAGE_FAILURE
    doc = json.loads(out)
    assert "the telemetry file is complete" in err and "laptrace recover" in err
    assert "server closed the connection" in err
    assert Path(doc["parquet_path"]).is_file()
    code, out, _ = _run(capsys, "recover", "--json", *db_args)
    assert json.loads(out)["ready"] == [doc["session_id"]]
    _, out, _ = _run(capsys, "sessions", "--json", *db_args)
    (s,) = json.loads(out)
    assert s["status"] == "ready" and s["lap_count"] == len(doc["laps"])


def test_sessions_into_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert _laptrace("import", logger_file(VBO), "--data-dir", data, tmp_path=tmp_path).returncode == 0
    for argv in (["sessions"], ["sessions", "--json"], ["recover"]):
        env = {**ENV, "LAPTRACE_CONFIG_DIR": str(tmp_path / "config")}
        proc = subprocess.Popen(
            [sys.executable, "-m", "desktop_app", *argv, "--data-dir", str(data)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()  # the reader is gone before the first line (like `| head -0`)
        err = proc.stderr.read().decode()
        proc.stderr.close()
        assert proc.wait(timeout=120) == 0, err
        assert "BrokenPipe" not in err and "Traceback" not in err and err == ""


def _noisy(real: object) -> object:
    def wrapper(path: str | Path, *a: object, **k: object) -> ImportedFile:
        print("canmatrix says hello")  # Python-level print
        os.write(1, b"native code writes to fd 1\n")
        return import_file(path)

    return wrapper


@pytest.mark.parametrize("command", ["inspect", "import"])
def test_json_stdout_is_one_document_when_libraries_print(
    capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, command: str
) -> None:
    from desktop_app.cli import main

    module = inspect_cmd if command == "inspect" else catalog_cmd
    monkeypatch.setattr(module, "import_file", _noisy(import_file))
    extra = [] if command == "inspect" else ["--data-dir", str(tmp_path / "data")]
    code = main([command, str(logger_file(VBO)), "--json", *extra])
    out, err = capfd.readouterr()
    assert code == exitcodes.OK, err
    doc = json.loads(out)  # one JSON document, nothing else
    assert (doc["files"][0] if command == "inspect" else doc)["path"] == str(logger_file(VBO))
    assert "canmatrix says hello" in err and "native code writes to fd 1" in err


def test_a_file_name_that_is_not_utf8_imports_like_any_other(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    odd = os.path.join(os.fsencode(folder), b"caf\xe9 \xff run.vbo")
    shutil.copyfile(logger_file(VBO), odd)
    data = tmp_path / "data"
    shown = inspect = _laptrace("inspect", odd, "--json", tmp_path=tmp_path)
    assert inspect.returncode == 0, inspect.stderr
    assert len(json.loads(inspect.stdout)["files"][0]["laps"]) > 0
    for extra in ([], ["--json"]):
        shown = _laptrace("import", odd, *extra, "--force", "--data-dir", data, tmp_path=tmp_path)
        assert shown.returncode == 0, shown.stderr
        assert b"Traceback" not in shown.stderr
    listed = _laptrace("sessions", "--json", "--data-dir", data, tmp_path=tmp_path)
    rows = json.loads(listed.stdout)
    assert [r["status"] for r in rows] == ["ready", "ready"]
    assert all(r["lap_count"] > 0 for r in rows)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_a_fifo_or_device_is_refused_up_front(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.vbo"
    os.mkfifo(fifo)
    data = tmp_path / "data"
    for target, kind in (
        (fifo, "a FIFO (named pipe)"),
        (Path(os.devnull), "a character device"),
        (tmp_path, "a directory"),
    ):
        commands: tuple[list[str | Path], ...] = (["inspect", target], ["import", target, "--data-dir", data])
        for argv in commands:
            # the timeout guards against a hang (a FIFO opened for reading blocks)
            proc = _laptrace(*argv, tmp_path=tmp_path)
            assert proc.returncode == exitcodes.BAD_INPUT, proc.stderr
            assert f"{target}: is {kind}, not a logger file".encode() in proc.stderr
    merged = _laptrace("import", logger_file(VBO), fifo, "--merge", "--data-dir", data, tmp_path=tmp_path)
    assert merged.returncode == exitcodes.BAD_INPUT and b"is a FIFO" in merged.stderr
    assert not (data / "telemetry").exists() or list((data / "telemetry").iterdir()) == []


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (ZeroDivisionError("division by zero"), "{name}: could not be read (ZeroDivisionError: division by zero)"),
        (PermissionError(13, "Permission denied"), "{name}: Permission denied"),
    ],
    ids=["reader-bug", "system-error"],
)
def test_an_unexpected_reader_error_names_the_file(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    error: Exception,
    expected: str,
) -> None:
    def broken(*a: object, **k: object) -> ImportedFile:
        raise error

    monkeypatch.setattr(catalog_cmd, "import_file", broken)
    name = str(logger_file(VBO))
    code, _out, err = _run(capsys, "import", name, "--data-dir", str(tmp_path / "data"))
    assert code == exitcodes.BAD_INPUT
    assert f"laptrace import: {expected.format(name=name)}\n" in err


def test_an_unexpected_error_in_a_merge_names_its_files(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    gps, ecu = str(logger_file(VBO)), str(logger_file("motec_ld/Sample1.ld"))
    errors: list[Exception] = [
        ZeroDivisionError("division by zero"),
        PermissionError(13, "Permission denied", ecu),
        PermissionError(13, "Permission denied"),
    ]

    def broken(*a: object, **k: object) -> object:
        raise errors.pop(0)

    monkeypatch.setattr(catalog_cmd, "merge_files", broken)
    expected = [
        f"{gps} + {ecu}: could not be read (ZeroDivisionError: division by zero)",
        f"{ecu}: Permission denied",  # the file the system error names
        f"{gps} + {ecu}: Permission denied",
    ]
    for line in expected:
        code, _out, err = _run(capsys, "import", gps, ecu, "--merge", "--data-dir", str(tmp_path / "data"))
        assert code == exitcodes.BAD_INPUT
        assert f"laptrace import: {line}\n" in err  # the whole line: which files it names matters
    assert not (tmp_path / "data" / "telemetry").exists() or not list((tmp_path / "data" / "telemetry").iterdir())
