"""Drops only collect paths; folders are expanded (off the GUI thread) to logger files."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot
from realfiles import LOGGERS, all_logger_files, logger_file

from desktop_app.gui.drop import FileDropFilter, expand_paths


def _mime(paths: list[Path]) -> QMimeData:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    return mime


def test_drop_emits_paths_after_the_event_returns(qtbot: QtBot) -> None:
    widget = QWidget()
    qtbot.addWidget(widget)
    drop = FileDropFilter(widget)
    drop.install(widget)
    got: list[list[Path]] = []
    drop.pathsDropped.connect(got.append)
    files = [logger_file("vbo/Example_File.VBO"), LOGGERS / "motec_csv"]
    mime = _mime(files)
    enter = QDragEnterEvent(
        QPoint(5, 5), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    QApplication.sendEvent(widget, enter)
    assert enter.isAccepted()
    drop_event = QDropEvent(
        QPointF(5, 5), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    QApplication.sendEvent(widget, drop_event)
    assert drop_event.isAccepted()
    assert got == [], "the drop handler must defer its work"
    qtbot.waitUntil(lambda: bool(got), timeout=2000)
    assert got == [files]


def test_drag_without_files_is_refused(qtbot: QtBot) -> None:
    widget = QWidget()
    qtbot.addWidget(widget)
    FileDropFilter(widget).install(widget)
    mime = QMimeData()
    mime.setText("not a file")
    enter = QDragEnterEvent(
        QPoint(5, 5), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    enter.ignore()
    QApplication.sendEvent(widget, enter)
    assert not enter.isAccepted()


def test_folder_expands_to_its_logger_files_only() -> None:
    files, skipped = expand_paths([LOGGERS])
    expected = [p for p in all_logger_files() if not p.name.startswith(".")]
    assert sorted(files) == sorted(expected)
    # SOURCES.md and the DBC beside the MF4 are not logger files
    assert skipped >= 2
    assert all(p.suffix.lower() not in (".md", ".dbc") for p in files)


def test_a_motec_folder_gives_the_ld_and_not_its_ldx(tmp_path: Path) -> None:
    ld = tmp_path / "Sample1.ld"
    ld.write_bytes((LOGGERS / "motec_ld" / "Sample1.ld").read_bytes())
    (tmp_path / "Sample1.ldx").write_text('<?xml version="1.0"?>\n<LDXFile/>\n', encoding="ascii")
    files, skipped = expand_paths([tmp_path])
    assert files == [ld] and skipped == 1  # the .ldx is read with its .ld


def test_named_file_is_kept_even_if_bad(tmp_path: Path) -> None:
    bad = tmp_path / "notes.md"
    bad.write_text("hello")
    files, skipped = expand_paths([bad, bad])
    assert files == [bad] and skipped == 0


def test_a_folder_keeps_a_recognised_format_it_cannot_read_and_skips_unknown_text(tmp_path: Path) -> None:
    """A WinDarab binary (.bmsbin) gets its row with the advice; plain text and UTF-16 text
    that look like no logger are skipped, by the error's type rather than its wording."""
    binary = tmp_path / "run.bmsbin"
    binary.write_bytes(b"\x00\x01\x02")
    (tmp_path / "notes.csv").write_bytes(b"hello,world\n1,2\n")
    (tmp_path / "wide.txt").write_bytes("lap,time\n1,2\n".encode("utf-16"))
    files, skipped = expand_paths([tmp_path])
    assert files == [binary] and skipped == 2
