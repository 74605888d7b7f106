"""The window's menus and keyboard shortcuts, and the recent-files menu."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu

#: how many files the Open Recent menu remembers
RECENT_MAX = 10


@dataclass
class Actions:
    open: QAction
    save: QAction
    sessions: QAction
    settings: QAction
    quit: QAction
    recent: QMenu
    time_axis: QAction
    file_menu: QMenu


def build_menus(
    window: QMainWindow,
    *,
    on_open: Callable[[], object],
    on_save: Callable[[], object],
    on_settings: Callable[[], object],
    on_quit: Callable[[], object],
) -> Actions:
    """File (Open Ctrl+O, Open Recent, Save Ctrl+S, Settings Ctrl+,, Quit Ctrl+Q) and View
    (Sessions Ctrl+B, Plot against Time Ctrl+T)."""
    bar = window.menuBar()
    file_menu = bar.addMenu("&File")

    def action(text: str, keys: QKeySequence | QKeySequence.StandardKey | str, slot: Callable[[], object]) -> QAction:
        act = QAction(text, window)
        act.setShortcut(keys if not isinstance(keys, QKeySequence.StandardKey) else QKeySequence(keys))
        act.triggered.connect(lambda _checked=False: slot())
        return act

    open_ = action("&Open…", QKeySequence.StandardKey.Open, on_open)
    save = action("&Save", QKeySequence.StandardKey.Save, on_save)
    save.setEnabled(False)
    settings = action("Se&ttings…", QKeySequence("Ctrl+,"), on_settings)
    settings.setMenuRole(QAction.MenuRole.PreferencesRole)
    quit_ = action("&Quit", QKeySequence.StandardKey.Quit, on_quit)
    quit_.setMenuRole(QAction.MenuRole.QuitRole)
    file_menu.addAction(open_)
    recent = file_menu.addMenu("Open &Recent")
    file_menu.addAction(save)
    file_menu.addSeparator()
    file_menu.addAction(settings)
    file_menu.addSeparator()
    file_menu.addAction(quit_)
    view_menu = bar.addMenu("&View")
    sessions = QAction("&Sessions", window)
    sessions.setShortcut(QKeySequence("Ctrl+B"))
    sessions.setCheckable(True)
    view_menu.addAction(sessions)
    view_menu.addSeparator()
    time_axis = QAction("Plot against &Time", window)
    time_axis.setShortcut(QKeySequence("Ctrl+T"))
    time_axis.setCheckable(True)
    time_axis.setStatusTip("x axis: lap time instead of lap distance")
    view_menu.addAction(time_axis)
    return Actions(open_, save, sessions, settings, quit_, recent, time_axis, file_menu)


def remember(recent: list[str], path: Path) -> list[str]:
    """``recent`` with ``path`` first, without duplicates, at most :data:`RECENT_MAX`."""
    text = str(path)
    return [text, *[p for p in recent if p != text]][:RECENT_MAX]


def fill_recent(menu: QMenu, recent: list[str], open_path: Callable[[Path], None]) -> None:
    menu.clear()
    for text in recent:
        act = menu.addAction(Path(text).name)
        act.setToolTip(text)
        act.setStatusTip(text)
        act.triggered.connect(lambda _c=False, p=Path(text): open_path(p))
    menu.setEnabled(bool(recent))
