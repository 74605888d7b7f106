"""Drag and drop of files and folders: the handler only collects paths.

The event filter accepts ``text/uri-list`` drags, turns the URLs into local paths and hands
them on with ``QTimer.singleShot(0, ...)`` so the drop returns at once; it opens nothing.
Folders are expanded later, on a worker, by :func:`expand_paths` (Qt-free).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import quote_from_bytes, unquote_to_bytes

from PySide6.QtCore import QByteArray, QEvent, QMimeData, QObject, QTimer, QUrl, Signal
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent

from desktop_app.loggers import (
    LoggerFileError,
    UnknownFormatError,
    UnsupportedFormatError,
    sniff,
)

#: Files in a dropped folder that are never logger files (skipped without a row). A MoTeC
#: ``.ldx`` holds the laps of the ``.ld`` beside it, which reads it: not a file of its own.
_NOT_LOGGER_SUFFIXES = {".md", ".dbc", ".pdf", ".png", ".jpg", ".jpeg", ".json", ".html", ".ldx"}


def local_paths(mime: QMimeData) -> list[Path]:
    """The local files and folders a drag carries (remote URLs are ignored)."""
    if not mime.hasUrls():
        return []
    return [url_path(url) for url in mime.urls() if url.isLocalFile()]


def url_path(url: QUrl) -> Path:
    """The local path of a ``file:`` URL, byte for byte.

    A POSIX file name may be any bytes; a file manager percent-encodes them in the URL.
    ``QUrl.toLocalFile`` decodes them as UTF-8 and replaces the rest, naming a file that
    does not exist, so the bytes are decoded here the way Python names such a file.
    """
    if os.name == "nt":
        return Path(url.toLocalFile())
    encoded = url.path(QUrl.ComponentFormattingOption.FullyEncoded)
    return Path(os.fsdecode(unquote_to_bytes(encoded)))


def file_url(path: Path) -> QUrl:
    """The ``file:`` URL of ``path`` as a file manager writes it (its bytes percent-encoded)."""
    if os.name == "nt":
        return QUrl.fromLocalFile(str(path))
    raw = os.fsencode(os.path.abspath(path))
    return QUrl.fromEncoded(QByteArray(b"file://" + quote_from_bytes(raw).encode("ascii")))


def expand_paths(paths: Iterable[Path]) -> tuple[list[Path], int]:
    """Files to import from dropped paths, and how many folder entries were skipped.

    A file named directly is always kept (a bad one gets its error row). Inside a folder
    (searched recursively, hidden entries skipped) only files that look like logger files
    are kept: those the sniffer recognises, or recognises as a format we do not read (so the
    user learns what to export instead). Runs on a worker: it reads file heads.
    """
    files: list[Path] = []
    skipped = 0
    seen: set[Path] = set()
    for path in paths:
        if path.is_dir():
            for entry in sorted(path.rglob("*")):
                rel = entry.relative_to(path)
                if any(part.startswith(".") for part in rel.parts) or not entry.is_file():
                    continue
                if entry.suffix.lower() in _NOT_LOGGER_SUFFIXES or not _looks_like_logger(entry):
                    skipped += 1
                    continue
                if entry not in seen:
                    seen.add(entry)
                    files.append(entry)
        elif path not in seen:
            seen.add(path)
            files.append(path)
    return files, skipped


def _looks_like_logger(path: Path) -> bool:
    try:
        sniff(path)
    except UnknownFormatError:
        return False
    except UnsupportedFormatError:
        # Recognised as a logger format we do not read: keep it, its row says what to do.
        return True
    except LoggerFileError:
        return False
    return True


class FileDropFilter(QObject):
    """Event filter that makes a widget accept dropped files and folders.

    ``pathsDropped(list)`` (of :class:`~pathlib.Path`) is emitted on the next event-loop
    turn after the drop.
    """

    pathsDropped = Signal(list)

    def install(self, widget: QObject) -> None:
        widget.setAcceptDrops(True)  # type: ignore[attr-defined]
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind in (QEvent.Type.DragEnter, QEvent.Type.DragMove):
            assert isinstance(event, (QDragEnterEvent, QDragMoveEvent))
            if local_paths(event.mimeData()):
                event.acceptProposedAction()
                return True
            return False
        if kind == QEvent.Type.Drop:
            assert isinstance(event, QDropEvent)
            paths = local_paths(event.mimeData())
            if not paths:
                return False
            event.acceptProposedAction()
            # Defer: the drop returns to the drag source at once; the work starts later.
            QTimer.singleShot(0, lambda: self.pathsDropped.emit(paths))
            return True
        return super().eventFilter(watched, event)
