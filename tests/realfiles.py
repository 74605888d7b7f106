"""Where the real logger files are (../shared/data/loggers beside the checkout)."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
#: the real logger files (never edited): ../shared/data/loggers beside the checkout
LOGGERS = Path(os.environ.get("LAPTRACE_LOGGERS_DIR", REPO.parent / "shared" / "data" / "loggers"))


def logger_file(relative: str) -> Path:
    """A real logger file by its path under ``shared/data/loggers`` (fails if it is missing)."""
    path = LOGGERS / relative
    assert path.is_file(), f"real logger file missing: {path}"
    return path


def all_logger_files() -> list[Path]:
    """Every real logger sample (the DBC beside the MF4 is not a logger file)."""
    return sorted(p for p in LOGGERS.rglob("*") if p.is_file() and p.suffix.lower() not in (".md", ".dbc"))
