"""``laptrace`` with no command: the window.

The window shows at once; the catalogue (engine, schema upgrade, ``recover()``) opens on the
write thread, so saves queued before it is ready simply run after it. Paths given on the
command line are imported like a drop.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from desktop_app import __version__
from desktop_app.config import Config, Settings, load_settings, resolve
from desktop_app.gui.main_window import ICON, MainWindow
from desktop_app.gui.theme import apply_theme
from desktop_app.gui.warmup import settle_heap, warm_up
from desktop_app.gui.workers import Workers


def application(argv: list[str] | None = None) -> QApplication:
    """The QApplication (created once), named and with the icon."""
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication(argv if argv is not None else sys.argv[:1])
    app.setApplicationName("Laptrace")
    app.setOrganizationName("Laptrace")
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("laptrace")
    if ICON.is_file():
        app.setWindowIcon(QIcon(str(ICON)))
    return app


def start_window(
    config: Config,
    settings: Settings,
    workers: Workers | None = None,
    overrides: tuple[str | None, str | None] = (None, None),
) -> MainWindow:
    """Build the window and start opening the catalogue on the write thread."""
    window = MainWindow(settings, workers)
    window.overrides = overrides
    window.open_catalogue(config)
    return window


def run_gui(args: argparse.Namespace) -> int:
    """Open the window (the default command). Returns the process exit code."""
    app = application()
    settings = load_settings()
    apply_theme(app, settings.window_state.get("theme", "system"))
    overrides = (getattr(args, "data_dir", None), getattr(args, "database_url", None))
    config = resolve(overrides[0], overrides[1], settings)
    warm_up()
    window = start_window(config, settings, overrides=overrides)
    settle_heap()
    window.show()
    paths = [Path(p) for p in (getattr(args, "paths", None) or [])]
    if paths:
        window.open_paths(paths)
    code = app.exec()
    window.workers.cancel_all()
    window.workers.wait()
    return int(code)
