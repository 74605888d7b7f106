"""GUI fixtures: executors drained after each test, a real catalogue, the main window.

The executors run their jobs on the GUI thread, one per event-loop turn (``QueuedRunner``),
unless the test is marked ``@pytest.mark.threaded(reason=...)``: then they are real thread
pools. Only a test whose subject is the threads (which thread ran a job, the GUI turning
while a job runs, a cancel in the middle of a run) is marked; see docs/architecture.md#testing.
"""

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
from desktop_app.gui.preview import PreviewWidget
from desktop_app.gui.warmup import settle_heap, warm_up
from desktop_app.gui.workers import QueuedRunner, Workers


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "threaded(reason): the GUI executors are real thread pools for this test (its subject is the threads)",
    )


@pytest.fixture
def workers(qapp: object, request: pytest.FixtureRequest) -> Iterator[Workers]:
    """The GUI's executors: jobs on the GUI thread, in order, one per event-loop turn; real
    thread pools for a test marked ``threaded`` (which must say why). Afterwards what is left
    is cancelled and waited for; a thread still busy then fails the test (a leaked thread)."""
    marker = request.node.get_closest_marker("threaded")
    if marker is None:
        w = Workers(reads=QueuedRunner(), writes=QueuedRunner())
    else:
        if not marker.kwargs.get("reason"):
            raise pytest.UsageError(f"{request.node.nodeid}: @pytest.mark.threaded needs a reason=")
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
def preview(qtbot: QtBot) -> PreviewWidget:
    """A preview on its own, at a typical size (not shown: a test shows it when it must)."""
    widget = PreviewWidget()
    qtbot.addWidget(widget)
    widget.resize(1200, 800)
    return widget


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
