"""GUI fixtures: executors drained after each test, a real catalogue, the main window."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from gui.qt_helpers import click, question_box
from PySide6.QtCore import QThreadPool
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from desktop_app.catalogue import Catalogue
from desktop_app.config import Config, Settings
from desktop_app.gui.catalogue import open_and_recover
from desktop_app.gui.main_window import MainWindow
from desktop_app.gui.warmup import settle_heap, warm_up
from desktop_app.gui.workers import Workers


@pytest.fixture
def workers(qapp: object) -> Iterator[Workers]:
    """Real thread pools; the test fails if a job is still running after it (a leaked thread)."""
    w = Workers()
    yield w
    w.cancel_all()
    assert w.wait(30_000), "worker threads still running 30 s after the test"
    assert QThreadPool.globalInstance().waitForDone(30_000)


@pytest.fixture
def config(tmp_path: Path) -> Config:
    data = tmp_path / "data"
    return Config(data_dir=data, database_url=f"sqlite:///{(data / 'laptrace.sqlite3').as_posix()}")


@pytest.fixture
def catalogue(config: Config) -> Iterator[Catalogue]:
    """A real SQLite catalogue and Parquet folder in tmp_path (migrated, recovered)."""
    cat = open_and_recover(config).catalogue
    yield cat
    cat.engine.dispose()


@pytest.fixture
def window(qtbot: QtBot, workers: Workers, catalogue: Catalogue) -> Iterator[MainWindow]:
    win = MainWindow(Settings(), workers)
    qtbot.addWidget(win)
    win.set_catalogue(catalogue)
    win.resize(1400, 900)
    settle_heap()  # as run_gui does once the window is built
    yield win
    win.imports.cancel_all()
    workers.wait(30_000)


@pytest.fixture
def answer(qtbot: QtBot) -> Callable[[QWidget, str], None]:
    """Wait for the question on ``win`` and click the button labelled ``text``."""

    def _answer(win: QWidget, text: str) -> None:
        qtbot.waitUntil(lambda: question_box(win) is not None, timeout=10_000)
        box = question_box(win)
        assert box is not None
        click(box, text)

    return _answer


@pytest.fixture(scope="session", autouse=True)
def _warm_imports() -> None:
    """What the app does before its window shows: import the pipeline's lazy modules."""
    warm_up()
