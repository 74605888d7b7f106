"""A catalogue already at the newest revision opens without Alembic; any other is migrated."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine

import storage.db
from storage.db import HEAD_REVISION, current_revision, downgrade, head_revision, make_engine, upgrade

REPO = Path(__file__).resolve().parents[2]


def test_the_known_head_is_alembics_head() -> None:
    assert head_revision() == HEAD_REVISION


def test_a_catalogue_at_head_is_not_migrated_and_an_older_one_is(
    bare_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    migrations: list[str] = []
    real = storage.db._migrate

    def counting(engine: Engine, target: str, up: bool) -> None:
        migrations.append(target)
        real(engine, target, up)

    monkeypatch.setattr(storage.db, "_migrate", counting)
    upgrade(bare_engine)  # a new catalogue: migrated
    assert migrations == ["head"] and current_revision(bare_engine) == HEAD_REVISION
    upgrade(bare_engine)  # at head: nothing to do
    assert migrations == ["head"]
    downgrade(bare_engine, "0001")
    upgrade(bare_engine)  # an older catalogue: migrated to head
    assert migrations == ["head", "0001", "head"] and current_revision(bare_engine) == HEAD_REVISION


_MODULES_AFTER_SESSIONS = """
import json, sys
from desktop_app.cli import main
code = main(["sessions", "--json", "--db", sys.argv[1], "--data-dir", sys.argv[2]])
print(json.dumps({"code": code, "alembic": any(m.split(".")[0] == "alembic" for m in sys.modules)}), file=sys.stderr)
"""


def test_a_command_on_an_up_to_date_catalogue_does_not_import_alembic(tmp_path: Path) -> None:
    url = f"sqlite:///{(tmp_path / 'laptrace.sqlite3').as_posix()}"
    upgrade(make_engine(url))
    proc = subprocess.run(
        [sys.executable, "-c", _MODULES_AFTER_SESSIONS, url, str(tmp_path / "data")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    report = json.loads(proc.stderr.strip().splitlines()[-1])
    assert report == {"code": 0, "alembic": False}, proc.stderr
    assert json.loads(proc.stdout) == []
