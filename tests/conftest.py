"""Suite-wide fixtures: offscreen Qt, every data/config dir in tmp_path, the real logger files."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# Qt without a display aborts the whole process: default to offscreen before Qt loads.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from realfiles import LOGGERS


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No test touches the real per-user folders or a database URL from the environment."""
    base = tmp_path_factory.mktemp("laptrace-home")
    monkeypatch.setenv("LAPTRACE_DATA_DIR", str(base / "data"))
    monkeypatch.setenv("LAPTRACE_CONFIG_DIR", str(base / "config"))
    monkeypatch.delenv("LAPTRACE_DATABASE_URL", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(base / "xdg-data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(base / "xdg-config"))
    yield


@pytest.fixture
def loggers_dir() -> Path:
    assert LOGGERS.is_dir(), f"real logger files not found at {LOGGERS}"
    return LOGGERS
