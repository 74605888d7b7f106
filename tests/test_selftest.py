"""The self-test every build runs: it must pass on the source tree and fail loudly on a fault."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from realfiles import REPO, logger_file

from desktop_app.commands import exitcodes, selftest_cmd

STEPS = ("window", "import", "catalogue", "save", "read back", "drivers")


def _run_cli(*args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["QT_QPA_PLATFORM"] = "offscreen"
    # The self-test must use its own temp folders: point the user's at a folder we can watch.
    env["LAPTRACE_DATA_DIR"] = str(tmp_path / "user-data")
    env["LAPTRACE_CONFIG_DIR"] = str(tmp_path / "user-config")
    return subprocess.run(
        [sys.executable, "-m", "desktop_app", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def test_bundled_sample_is_the_documented_real_file() -> None:
    sample = selftest_cmd.sample_file()
    assert sample.is_file(), sample
    original = logger_file("racechrono_csv/" + selftest_cmd.SAMPLE_NAME)
    assert hashlib.sha256(sample.read_bytes()).digest() == hashlib.sha256(original.read_bytes()).digest()
    notice = (sample.parent / "NOTICE.md").read_text(encoding="utf-8")
    assert selftest_cmd.SAMPLE_NAME in notice and "Apache" in notice
    assert (sample.parent / "LICENSE-Apache-2.0.txt").is_file()


@pytest.mark.parametrize("command", [["selftest"], ["--self-test"]], ids=["selftest", "--self-test"])
def test_self_test_passes_on_the_source_tree(command: list[str], tmp_path: Path) -> None:
    result = _run_cli(*command, tmp_path=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    for step in STEPS:
        assert any(line.split()[:2] == ["ok", step.split()[0]] for line in lines), (step, result.stdout)
    assert "3 laps" in result.stdout  # the sample holds the end of lap 8, lap 9, lap 10's start
    assert "offscreen platform, icon ok" in result.stdout
    assert lines[-1].startswith("self-test passed")
    # nothing was written to the user's folders
    assert not (tmp_path / "user-data").exists()
    assert not (tmp_path / "user-config").exists()


def test_unreadable_sample_fails_the_import_step(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.vbo"
    garbage.write_bytes(b"\x00\x01 not a logger file\n" * 50)
    out = io.StringIO()
    code = selftest_cmd.run_selftest(sample=garbage, window=False, out=out)
    report = out.getvalue()
    assert code == exitcodes.BAD_INPUT, report
    assert "FAIL  import" in report and "garbage.vbo" in report
    assert "self-test FAILED at 'import'" in report
    assert "ok    save" not in report  # nothing after a failed step runs


def test_failing_step_makes_the_command_exit_non_zero(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.csv"
    garbage.write_text("Format,Something else\n1,2,3\n", encoding="utf-8")
    result = _run_cli("selftest", "--no-window", "--sample", str(garbage), tmp_path=tmp_path)
    assert result.returncode == exitcodes.BAD_INPUT, result.stdout + result.stderr
    assert "self-test FAILED at 'import'" in result.stdout
    assert "garbage.csv" in result.stdout


def test_missing_sample_is_named(tmp_path: Path) -> None:
    out = io.StringIO()
    code = selftest_cmd.run_selftest(sample=tmp_path / "nowhere.csv", window=False, out=out)
    assert code == exitcodes.BAD_INPUT
    assert "not found" in out.getvalue() and "nowhere.csv" in out.getvalue()


def test_a_real_file_without_laps_or_gps_still_round_trips(tmp_path: Path) -> None:
    """Another real format through the same steps: the MoTeC log has no GPS and no beacons."""
    out = io.StringIO()
    code = selftest_cmd.run_selftest(sample=logger_file("motec_csv/May_22_2026_Peter.csv"), window=False, out=out)
    assert code == exitcodes.OK, out.getvalue()
    assert "rows match" in out.getvalue()


def test_process_age_is_measured_from_the_process_start() -> None:
    age, since = selftest_cmd.process_age()
    assert age >= 0.0
    if sys.platform.startswith("linux"):
        assert since == "process start"
        # this process has run at least as long as this test module has been imported
        assert age > 0.0


@pytest.mark.parametrize("variable", ["LAPTRACE_DATA_DIR", "LAPTRACE_CONFIG_DIR"])
def test_private_dirs_are_restored(variable: str, tmp_path: Path) -> None:
    before = os.environ.get(variable)
    with selftest_cmd._private_dirs(tmp_path):
        assert os.environ[variable].startswith(str(tmp_path))
    assert os.environ.get(variable) == before
