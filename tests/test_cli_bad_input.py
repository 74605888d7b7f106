"""Every flag and argument of every ``laptrace`` command, given empty, huge, non-UTF-8,
negative, NaN and path-traversal values: a clear error (or, for free text such as a
driver's name, the value stored cleaned), never a traceback, and a refused command
changes nothing under the test's folder (catalogue, telemetry, config, working folder).

The commands and their options are read from the parsers, so a new command or flag is
covered without editing this test.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest
from realfiles import logger_file

from desktop_app.cli import COMMANDS, build_parser, main
from desktop_app.commands import exitcodes

VBO = "vbo/session_20230326_141947_test.vbo"
BAD_VALUES = {
    "empty": "",
    "huge": "x" * 100_000,
    "non-utf8": os.fsdecode(b"caf\xe9\xff"),
    "negative": "-1",
    "nan": "nan",
    "traversal": "../../../../etc/passwd",
    "nul": "a\x00b",
}
#: commands that need more than this test can give in-process (a window, a packaged build)
SKIP = {"selftest"}
CODES = {exitcodes.OK, exitcodes.BAD_INPUT, exitcodes.DUPLICATE, exitcodes.STORAGE_FAILURE, exitcodes.MERGE_REFUSED}


def _subparser(command: str) -> argparse.ArgumentParser:
    parser = build_parser(command)
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    chosen: argparse.ArgumentParser = sub.choices[command]
    return chosen


def _value_actions(command: str) -> list[argparse.Action]:
    return [
        a
        for a in _subparser(command)._actions
        if not isinstance(a, (argparse._HelpAction, argparse._StoreTrueAction, argparse._StoreConstAction))
        and a.nargs != 0
    ]


def _cases() -> list[tuple[str, str, str]]:
    cases = []
    for command in sorted(set(COMMANDS) - SKIP):
        for action in _value_actions(command):
            name = action.option_strings[-1] if action.option_strings else action.dest
            cases += [(command, name, label) for label in BAD_VALUES]
    return cases


def _baseline(command: str, data: Path) -> tuple[list[str], dict[str, list[str]]]:
    """Valid positional arguments and options of ``command`` (before the bad one goes in)."""
    positional: dict[str, list[str]] = {
        "files": [str(logger_file(VBO))],
        "session_id": ["1"],
    }
    options = [] if command == "inspect" else ["--data-dir", str(data)]
    return options, positional


def _snapshot(root: Path) -> dict[str, str]:
    state: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        rel = str(path.relative_to(root))
        if path.is_file() and not path.name.endswith(("-wal", "-shm")):
            state[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
        elif path.is_dir():
            state[rel] = "dir"
    return state


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder with one imported session (id 1), copied for each case."""
    root = tmp_path_factory.mktemp("seed")
    data = root / "data"
    os.environ["LAPTRACE_CONFIG_DIR"] = str(root / "config")
    try:
        assert main(["import", str(logger_file(VBO)), "--data-dir", str(data)]) == 0
    finally:
        del os.environ["LAPTRACE_CONFIG_DIR"]
    return data


def _sessions(data: Path) -> list[dict[str, object]]:
    from storage.db import make_engine
    from storage.db.catalog import list_sessions

    engine = make_engine(f"sqlite:///{(data / 'laptrace.sqlite3').as_posix()}")
    try:
        return [{"id": s.id, "name": s.name, "status": s.status, "driver": s.driver} for s in list_sessions(engine)]
    finally:
        engine.dispose()


@pytest.mark.parametrize(("command", "arg", "label"), _cases())
def test_bad_value(
    command: str,
    arg: str,
    label: str,
    seeded: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = tmp_path / "root"
    work = root / "a" / "b" / "c" / "d" / "e"  # deep enough that ../../../../ stays inside
    work.mkdir(parents=True)
    data = root / "data"
    shutil.copytree(seeded, data)
    monkeypatch.chdir(work)
    monkeypatch.setenv("LAPTRACE_CONFIG_DIR", str(root / "config"))
    monkeypatch.delenv("LAPTRACE_DATABASE_URL", raising=False)
    monkeypatch.delenv("LAPTRACE_DATA_DIR", raising=False)
    bad = BAD_VALUES[label]
    options, positional = _baseline(command, data)
    if arg.startswith("--"):
        if arg in options:
            i = options.index(arg)
            options = [*options[:i], *options[i + 2 :]]
        options = [*options, f"{arg}={bad}"]
        if arg == "--merge-offset":
            options.append("--merge")
            positional["files"] = [str(logger_file(VBO)), str(logger_file(VBO))]
    else:
        positional[arg] = [bad]
    pos = [v for a in _value_actions(command) if not a.option_strings for v in positional[a.dest]]
    argv = [command, *options, "--", *pos]
    before = _snapshot(root)
    sessions_before = _sessions(data)
    by_argparse = False
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse refused it: usage and the reason on stderr
        code = exc.code if isinstance(exc.code, int) else 2
        by_argparse = True
    out, err = capsys.readouterr()
    assert "Traceback" not in err + out
    assert code in CODES, (argv[:3], code, err[-300:])
    if code != exitcodes.OK:
        assert err.strip(), "a refusal says why"
        assert "laptrace" in err, err[:300]
        assert by_argparse or len(err) < 2000, err[:300]  # argparse quotes the value back whole
        assert _snapshot(root) == before, f"{command} {arg}={label!r} refused but changed files"
        assert _sessions(data) == sessions_before
    if command == "import":
        refused_always = {"--merge-offset": {"empty", "huge", "non-utf8", "nan", "traversal", "nul"}}
        must_refuse = refused_always.get(arg, set())
        if arg in ("--db", "--data-dir") or arg == "files":
            must_refuse = {"empty", "huge", "non-utf8", "negative", "nan", "traversal", "nul"}
            if arg == "--data-dir":
                must_refuse -= {"negative", "nan", "traversal", "non-utf8"}  # any folder is a valid choice
        if arg == "--session-name":
            must_refuse = {"empty"}
        if label in must_refuse:
            assert code != exitcodes.OK, (arg, label, out[:200])
    if command in ("delete", "discard") and arg == "session_id":
        assert code == exitcodes.BAD_INPUT and "is not a session id" in err
    if command in ("sessions", "recover") and code == exitcodes.OK:
        assert _snapshot(data) == {k[5:]: v for k, v in before.items() if k.startswith("data/")}


def test_every_command_is_covered() -> None:
    cases = _cases()
    for command in set(COMMANDS) - SKIP:
        expected = {(a.option_strings[-1] if a.option_strings else a.dest) for a in _value_actions(command)}
        assert {arg for c, arg, _ in cases if c == command} == expected
    assert json.dumps(sorted(set(COMMANDS) - SKIP))  # commands found through the parsers
