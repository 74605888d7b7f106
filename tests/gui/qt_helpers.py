"""Helpers for GUI tests: simulated drops, waiting for reads, answering questions."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget
from pytestqt.qtbot import QtBot

from desktop_app.gui.drop import file_url
from desktop_app.gui.import_panel import ImportEntry
from desktop_app.gui.main_window import MainWindow
from desktop_app.gui.preview import PreviewWidget


def drop_files(target: QWidget, paths: list[Path]) -> tuple[bool, bool]:
    """Simulate dragging ``paths`` onto ``target``: (enter accepted, drop accepted)."""
    mime = QMimeData()
    mime.setUrls([file_url(p) for p in paths])  # as a file manager writes them
    enter = QDragEnterEvent(
        QPoint(20, 20), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    QApplication.sendEvent(target, enter)
    drop = QDropEvent(
        QPointF(20, 20), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    QApplication.sendEvent(target, drop)
    return enter.isAccepted(), drop.isAccepted()


def wait_read(qtbot: QtBot, win: MainWindow, count: int, timeout: int = 60_000) -> list[ImportEntry]:
    """Wait until ``count`` files are in the list and none is still reading."""

    def done() -> bool:
        entries = win.imports.entries
        return len(entries) >= count and all(e.state != "reading" for e in entries)

    qtbot.waitUntil(done, timeout=timeout)
    return list(win.imports.entries)


def wait_state(qtbot: QtBot, entry: ImportEntry, states: tuple[str, ...], timeout: int = 60_000) -> str:
    """Wait until ``entry`` is in one of ``states``; the state it reached.

    Assert on the returned state rather than on ``entry.state`` again when an earlier assert
    pinned ``entry.state`` to one value: the type checker keeps that narrowing across the wait.
    """
    qtbot.waitUntil(lambda: entry.state in states, timeout=timeout)
    return entry.state


def question_box(win: QWidget) -> QMessageBox | None:
    """The open (window-modal) question, if any."""
    boxes = [b for b in win.findChildren(QMessageBox) if b.isVisible()]
    return boxes[-1] if boxes else None


def click(box: QMessageBox, text: str) -> None:
    button = next(b for b in box.buttons() if b.text() == text)
    button.click()


def wait_drawn(qtbot: QtBot, preview: PreviewWidget) -> None:
    """Wait until the preview's last draw has filled every plot row (one per event-loop turn)."""
    qtbot.waitUntil(lambda: not preview.plots.drawing(), timeout=10_000)
