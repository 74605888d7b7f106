"""The window as a whole: start-up (catalogue on a worker, recover, command-line paths),
shortcuts, the sessions dock, recent files."""

from __future__ import annotations

import argparse
from pathlib import Path

from gui.qt_helpers import wait_read
from PySide6.QtCore import QModelIndex, QTimer
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from realfiles import logger_file

from desktop_app.config import Config, Settings, load_settings
from desktop_app.gui import app as gui_app
from desktop_app.gui.main_window import MainWindow
from desktop_app.gui.workers import Workers
from desktop_app.importing import import_file
from storage.db import make_engine, upgrade
from storage.db.catalog import load_session
from storage.parquet import ParquetTelemetryStorage
from storage.sessions import save_session

TIANMA = "racechrono_csv/session_20251231_111318_tianma_lap9_v3.csv"


def test_shortcuts(qtbot: QtBot, workers: Workers) -> None:
    win = MainWindow(Settings(), workers)
    qtbot.addWidget(win)
    a = win.actions_
    assert a.open.shortcut() == QKeySequence(QKeySequence.StandardKey.Open)
    assert a.save.shortcut() == QKeySequence(QKeySequence.StandardKey.Save)
    assert a.quit.shortcut() == QKeySequence(QKeySequence.StandardKey.Quit)
    assert a.sessions.shortcut().toString() == "Ctrl+B"
    assert a.settings.shortcut().toString() == "Ctrl+,"
    assert not a.save.isEnabled(), "nothing to save in an empty window"
    win.show()
    assert not win.dock.isVisible()
    a.sessions.trigger()
    assert win.dock.isVisible()
    a.sessions.trigger()
    assert not win.dock.isVisible()
    assert a.time_axis.shortcut().toString() == "Ctrl+T"
    a.time_axis.trigger()
    assert win.view.preview.x_axis() == "time"
    a.time_axis.trigger()
    assert win.view.preview.x_axis() == "distance"


def test_start_window_opens_the_catalogue_on_a_worker_and_recovers(
    qtbot: QtBot, workers: Workers, config: Config
) -> None:
    # a crash left a session "writing" whose Parquet file is complete: recover() fixes it
    engine = make_engine(config.database_url)
    upgrade(engine)
    storage = ParquetTelemetryStorage(config.data_dir)
    draft = import_file(logger_file(TIANMA)).draft
    sid = save_session(draft, engine, storage)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE sessions SET status = 'writing' WHERE id = ?", (sid,))
    engine.dispose()

    win = gui_app.start_window(config, Settings(), workers)
    qtbot.addWidget(win)
    assert win.catalogue is None, "the catalogue opens on the write worker, not before the window"
    qtbot.waitUntil(lambda: win.catalogue is not None, timeout=30_000)
    assert "1 interrupted save(s) completed" in win.statusBar().currentMessage()
    assert win.catalogue is not None
    assert load_session(win.catalogue.engine, sid).summary.status == "ready"
    win.catalogue.engine.dispose()


def test_recent_files_menu_reopens_a_file(qtbot: QtBot, window: MainWindow) -> None:
    path = logger_file(TIANMA)
    window.open_paths([path])
    wait_read(qtbot, window, 1)
    actions = window.actions_.recent.actions()
    assert [act.toolTip() for act in actions] == [str(path)]
    # a file still in the list is shown again, not read twice
    window.imports.list.clearSelection()
    window.imports.list.setCurrentIndex(QModelIndex())
    actions[0].trigger()
    assert len(window.imports.entries) == 1 and window.imports.current() is window.imports.entries[0]
    # once removed from the list, the recent entry reads it again
    window.imports.remove(window.imports.entries[0])
    actions[0].trigger()
    entries = wait_read(qtbot, window, 1)
    assert [e.path for e in entries] == [path] and entries[0].state == "ready"
    assert window.settings.recent_files == [str(path)]


def test_run_gui_opens_command_line_paths(qapp: QApplication, config: Config) -> None:
    path = logger_file(TIANMA)
    seen: dict[str, object] = {}

    def check() -> None:
        windows = [w for w in qapp.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
        if windows:
            win = windows[0]
            entries = win.imports.entries
            if win.catalogue is not None and entries and all(e.state != "reading" for e in entries):
                seen["states"] = [e.state for e in entries]
                seen["paths"] = [e.path for e in entries]
                seen["data_dir"] = win.catalogue.config.data_dir
                win.close()
                return
        QTimer.singleShot(20, check)

    QTimer.singleShot(0, check)
    QTimer.singleShot(60_000, qapp.quit)  # a safety net: the test fails below if it fires
    args = argparse.Namespace(paths=[str(path)], data_dir=str(config.data_dir), database_url=config.database_url)
    code = gui_app.run_gui(args)
    assert code == 0
    assert seen.get("paths") == [Path(path)] and seen.get("states") == ["ready"]
    assert seen.get("data_dir") == config.data_dir
    assert load_settings().recent_files == [str(path)], "closing the window saves the settings"


def test_screenshot_script_saves_the_main_states(qapp: QApplication, tmp_path: Path) -> None:
    """The script runs its own event loop: run it as the user does, in its own process."""
    import importlib.util
    import subprocess
    import sys

    from PySide6.QtGui import QImage
    from realfiles import LOGGERS, REPO

    # a developer tool outside the application package: loaded from its file
    spec = importlib.util.spec_from_file_location("screenshots", REPO / "tools" / "screenshots.py")
    assert spec is not None and spec.loader is not None
    screenshots = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(screenshots)

    out = tmp_path / "shots"
    done = subprocess.run(
        [sys.executable, "-m", "tools.screenshots", str(out), "--loggers", str(LOGGERS)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    names = sorted(p.name for p in out.glob("*.png"))
    assert names == [
        "01-empty.png",
        "02-laps-and-map.png",
        "03-sessions.png",
        "04-import-error.png",
        "05-dark.png",
        "06-gg-scatter.png",
        "07-histogram.png",
        "08-map-lines.png",
        "09-map-lines-closeup.png",
        "10-text-channel.png",
    ]
    closeup = QImage(str(out / "09-map-lines-closeup.png"))  # the track map alone
    assert 0 < closeup.width() < screenshots.SIZE[0] and closeup.height() > 0
    for name in names:
        if name == "09-map-lines-closeup.png":
            continue
        image = QImage(str(out / name))
        # the whole window (at a device pixel ratio above 1 the image is larger)
        assert image.width() >= screenshots.SIZE[0]
        assert image.width() * screenshots.SIZE[1] == image.height() * screenshots.SIZE[0]


def test_a_catalogue_that_cannot_be_opened_is_reported_and_saving_stays_off(
    qtbot: QtBot, workers: Workers, tmp_path: Path
) -> None:
    # nothing listens on port 1: the connection is refused at once
    config = Config(data_dir=tmp_path / "data", database_url="postgresql+psycopg://nobody@127.0.0.1:1/none")
    win = gui_app.start_window(config, Settings(), workers)
    qtbot.addWidget(win)
    qtbot.waitUntil(lambda: "Cannot open the catalogue" in win.statusBar().currentMessage(), timeout=30_000)
    assert win.catalogue is None
    win.open_paths([logger_file(TIANMA)])
    [entry] = wait_read(qtbot, win, 1)
    assert entry.state == "ready", "files still open without a catalogue"
    assert not win.save_button.isEnabled() and not win.actions_.save.isEnabled()
