"""Robustness: damaged copies of every real logger file either read or are rejected cleanly.

Every file of ``all_logger_files()`` is truncated, has bytes flipped, or a line duplicated
or deleted (seeded, see ``tests/fuzzcases.py``). Each damaged copy must either read (and
pass ``Recording.check()``) or raise ``LoggerFileError``/``UnsupportedFormatError``: never
another exception, never a hang (a generous guard interrupts one; how long the cases take is
printed by ``python -m bench readers --fuzz``, not asserted).

Files whose reader module is not in the checkout yet (the six readers land in separate
commits) are left out, computed with ``importlib.util.find_spec`` when the tests are
collected; once the module exists, its files are fuzzed too.
The fast subset runs in the normal suite; ``-m slow`` runs many more cases per file, and
``python -m bench readers --fuzz`` prints the counts.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fuzzcases import cases, reader_available, run_case
from realfiles import LOGGERS, all_logger_files

FILES = [p for p in all_logger_files() if reader_available(p)]
IDS = [str(p.relative_to(LOGGERS)) for p in FILES]
TEXT_FILES = [p for p in FILES if p.suffix.lower() != ".mf4"]


def _fuzz(path: Path, count: int, tmp_path: Path) -> None:
    data = path.read_bytes()
    failures = []
    outcomes: dict[str, int] = {}
    for i, (label, damaged) in enumerate(cases(data, path.name, count)):
        folder = tmp_path / f"case{i}"
        folder.mkdir()
        outcome, detail = run_case(path, damaged, folder)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
        if outcome not in ("read", "rejected"):
            failures.append(f"{label}: {outcome}: {detail}")
    assert not failures, f"{path.name}: {outcomes}\n" + "\n".join(failures)
    # the fixed truncations include the empty file, which must be rejected
    assert outcomes.get("rejected", 0) >= 1


def test_every_real_file_is_fuzzed() -> None:
    # the VBO, WinDarab and MDF samples (8 files) are always part of the fuzz run
    assert sum(1 for p in FILES if p.parent.name in ("vbo", "bosch_windarab_txt", "mf4")) == 8


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_damaged_copies_read_or_are_rejected(path: Path, tmp_path: Path) -> None:
    _fuzz(path, 6, tmp_path)


@pytest.mark.parametrize("path", TEXT_FILES, ids=[str(p.relative_to(LOGGERS)) for p in TEXT_FILES])
def test_damaged_copies_through_the_streaming_path(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the real files are small enough for the read-whole path: force the streaming one
    # (used for blocks over 16 MB), padding removal included
    from desktop_app.loggers import textblock
    from desktop_app.loggers.textsource import BlockSource

    monkeypatch.setattr(textblock, "_READ_WHOLE_MAX", 0)
    monkeypatch.setattr(BlockSource, "IN_MEMORY_MAX", 0)
    _fuzz(path, 6, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_damaged_copies_read_or_are_rejected_long_run(path: Path, tmp_path: Path) -> None:
    # deselected by the default `-m "not slow"` in pyproject's addopts; run with -m slow
    _fuzz(path, 80, tmp_path)
