"""The import list: one row per dropped or opened file, read on the parallel read pool.

Each row shows the file, a progress bar and Cancel while it is read, then what was found
(laps, channels) or the reader's clear error (file, line, what) in the row itself: a batch
of bad files never opens a stack of dialogs. A file whose SHA-256 is already in the
catalogue is marked with the session that holds it. The save flow reuses the row for the
save's outcome (Retry / Discard after a failure).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Literal

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from desktop_app.catalogue import Catalogue
from desktop_app.gui.catalogue import duplicate_note
from desktop_app.gui.drop import expand_paths
from desktop_app.gui.workers import Job, JobProgress, Workers, call, reporting
from desktop_app.importing import ImportedFile, import_file
from desktop_app.loggers import LoggerFileError
from desktop_app.merging import MergeError

State = Literal["reading", "ready", "failed", "cancelled", "saving", "saved", "save-failed"]

_ids = itertools.count(1)


@dataclass
class ImportEntry:
    """One file in the list and what became of it (plain data, GUI thread only)."""

    path: Path
    state: State = "reading"
    imported: ImportedFile | None = None
    error: str | None = None
    duplicate: str | None = None
    #: the session row a save created (set on success, and on a failed Parquet write)
    session_id: int | None = None
    key: int = 0
    #: what the row's name says (the file name unless set, e.g. ``merged: A + B``)
    title: str | None = None

    def __post_init__(self) -> None:
        self.key = next(_ids)


def error_text(path: Path, exc: BaseException) -> str:
    """The message a row shows: the reader's own (it names file, line, what) or a labelled one."""
    if isinstance(exc, (LoggerFileError, MergeError)):
        return str(exc)
    return f"{path}: unexpected {type(exc).__name__}: {exc}"


class ImportRow(QWidget):
    """The widget of one list row."""

    def __init__(self, entry: ImportEntry, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.name = QLabel(f"<b>{entry.title or entry.path.name}</b>")
        self.name.setToolTip(str(entry.path))
        self.status = QLabel("reading…")
        self.status.setWordWrap(True)
        # The labels take no mouse input, so a click anywhere on the row selects it and a
        # right-click opens the list's (merge) menu; and they never ask for more width than
        # the list has, so a long file name or path cannot widen the left pane.
        for label in (self.name, self.status):
            label.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
            label.setMinimumWidth(0)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.note.hide()
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.progress.setMaximumHeight(12)
        self.progress.setTextVisible(False)
        self.cancel = QPushButton("Cancel")
        self.retry = QPushButton("Retry")
        self.discard = QPushButton("Discard")
        for button in (self.retry, self.discard):
            button.hide()

        top = QHBoxLayout()
        top.addWidget(self.name, 1)
        top.addWidget(self.cancel)
        top.addWidget(self.retry)
        top.addWidget(self.discard)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.setSpacing(2)
        layout.addLayout(top)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.note)

    def set_progress(self, p: JobProgress) -> None:
        if p.total > 0:
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(p.fraction * 1000))

    def show_done(self, text: str, *, error: bool = False) -> None:
        self.progress.hide()
        self.cancel.hide()
        self.status.setText(text)
        self.status.setStyleSheet("color: #d03030;" if error else "")

    def show_note(self, text: str | None) -> None:
        self.note.setText(text or "")
        self.note.setStyleSheet("color: #c07000;")
        self.note.setVisible(bool(text))


class ImportPanel(QWidget):
    """The import list. ``currentChanged(object)`` carries the selected :class:`ImportEntry`
    once it is read (None when the selection has nothing to show)."""

    currentChanged = Signal(object)
    #: an entry finished reading successfully (the window shows the first one)
    entryReady = Signal(object)
    #: paths that were read successfully (for the recent-files menu)
    fileOpened = Signal(object)
    #: the last file being read has finished (read, failed or cancelled)
    readsIdle = Signal()

    def __init__(self, workers: Workers, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workers = workers
        self.catalogue: Catalogue | None = None
        self.entries: list[ImportEntry] = []
        self._rows: dict[int, ImportRow] = {}
        self._items: dict[int, QListWidgetItem] = {}
        self._jobs: dict[int, Job] = {}
        self._summaries: dict[int, Callable[[ImportedFile], str]] = {}
        #: how a file is read; tests and the benchmark keep the real one
        self.reader: Callable[..., ImportedFile] = import_file

        self.list = QListWidget()
        # several rows can be selected (to merge them); the current row is the one shown
        self.list.setSelectionMode(QListWidget.SelectionMode.ExtendedSelection)
        self.list.currentItemChanged.connect(self._on_current_item)
        self.summary = QLabel("Drop logger files or folders anywhere on the window, or use File ▸ Open.")
        self.summary.setWordWrap(True)
        clear = QPushButton("Clear finished")
        clear.clicked.connect(self.clear_finished)
        head = QHBoxLayout()
        head.addWidget(self.summary, 1)
        head.addWidget(clear)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(head)
        layout.addWidget(self.list, 1)

    # --- adding files -----------------------------------------------------------------
    def add_paths(self, paths: list[Path]) -> None:
        """Import these files and folders (folders are expanded on a worker)."""
        if not paths:
            return
        if any(p.is_dir() for p in paths):
            self.workers.read(
                call(expand_paths, list(paths)),
                returned=self._on_expanded,
                errored=lambda exc: self.summary.setText(f"Cannot list the dropped folder: {exc}"),
            )
        else:
            self._on_expanded((list(paths), 0))

    def _on_expanded(self, result: tuple[list[Path], int]) -> None:
        files, skipped = result
        # a file already in the list (and not failed) is shown again, not read twice
        # (a row with its own title, e.g. a merge, is not the file itself)
        present = {e.path: e for e in self.entries if e.state not in ("failed", "cancelled") and e.title is None}
        for path in files:
            if path in present:
                self.select(present[path])
            else:
                self.add_file(path)
        if skipped:
            self.summary.setText(f"Skipped {skipped} file(s) in the folder(s) that are not logger files.")

    def add_file(
        self,
        path: Path,
        *,
        job: Callable[..., ImportedFile] | None = None,
        title: str | None = None,
        summary: Callable[[ImportedFile], str] | None = None,
    ) -> ImportEntry:
        """A row for ``path``, read on the read pool by :attr:`reader` (or by ``job``, called
        with ``progress=`` only, e.g. a merge); ``summary`` writes the row's text when done."""
        entry = ImportEntry(path, title=title)
        if summary is not None:
            self._summaries[entry.key] = summary
        row = ImportRow(entry)
        item = QListWidgetItem()
        item.setData(Qt.ItemDataRole.UserRole, entry.key)
        item.setSizeHint(row.sizeHint())
        self.list.addItem(item)
        self.list.setItemWidget(item, row)
        self.entries.append(entry)
        self._rows[entry.key] = row
        self._items[entry.key] = item
        func, args = (job, ()) if job is not None else (self.reader, (path,))
        running = self.workers.read(
            reporting(func, *args),
            yielded=row.set_progress,
            returned=lambda imported: self._on_read(entry, imported),
            errored=lambda exc: self._on_failed(entry, exc),
            aborted=lambda: self._on_cancelled(entry),
            finished=lambda: self._on_job_done(entry),
        )
        self._jobs[entry.key] = running
        row.cancel.clicked.connect(running.cancel)
        return entry

    # --- outcomes ---------------------------------------------------------------------
    def reading(self) -> bool:
        """Whether a file is still being read."""
        return any(e.state == "reading" for e in self.entries)

    def _on_job_done(self, entry: ImportEntry) -> None:
        self._jobs.pop(entry.key, None)
        if not self.reading():
            self.readsIdle.emit()

    def _on_read(self, entry: ImportEntry, imported: ImportedFile) -> None:
        if not self.has(entry):
            return  # removed from the list while it was read
        entry.imported = imported
        entry.state = "ready"
        self.row(entry).show_done(self._summaries.get(entry.key, describe)(imported))
        self._resize(entry)
        self.check_duplicates([entry])
        self.fileOpened.emit(entry.path)
        was_current = self.current() is entry  # selected while it was still reading
        self.entryReady.emit(entry)
        if was_current:
            self.currentChanged.emit(entry)

    def _on_failed(self, entry: ImportEntry, exc: Exception) -> None:
        if not self.has(entry):
            return
        entry.state = "failed"
        entry.error = error_text(entry.path, exc)
        self.row(entry).show_done(entry.error, error=True)
        self._resize(entry)

    def _on_cancelled(self, entry: ImportEntry) -> None:
        if not self.has(entry):
            return
        entry.state = "cancelled"
        self.row(entry).show_done("cancelled")
        self._resize(entry)

    def set_catalogue(self, catalogue: Catalogue | None) -> None:
        """The catalogue is open (or changed): mark files that are already in it."""
        self.catalogue = catalogue
        self.check_duplicates([e for e in self.entries if e.imported is not None])

    def check_duplicates(self, entries: list[ImportEntry]) -> None:
        catalogue = self.catalogue
        if catalogue is None:
            return
        for entry in entries:
            if entry.imported is None or not entry.imported.draft.sources:
                continue
            sha = entry.imported.draft.sources[0].sha256
            self.workers.read(
                call(duplicate_note, catalogue.engine, sha),
                returned=partial(self._on_duplicate, entry),
                errored=partial(self._on_duplicate_failed, entry),
            )

    def _on_duplicate_failed(self, entry: ImportEntry, exc: Exception) -> None:
        self._on_duplicate(entry, f"catalogue check failed: {exc}")

    def _on_duplicate(self, entry: ImportEntry, note: str | None) -> None:
        if not self.has(entry):
            return
        entry.duplicate = note
        self.row(entry).show_note(note)
        self._resize(entry)

    # --- selection and housekeeping ---------------------------------------------------
    def row(self, entry: ImportEntry) -> ImportRow:
        return self._rows[entry.key]

    def has(self, entry: ImportEntry) -> bool:
        """Whether the entry is still in the list (results may arrive after a removal)."""
        return entry.key in self._rows

    def current(self) -> ImportEntry | None:
        item = self.list.currentItem()
        if item is None:
            return None
        key = item.data(Qt.ItemDataRole.UserRole)
        return next((e for e in self.entries if e.key == key), None)

    def selected(self) -> list[ImportEntry]:
        """The selected entries, in list order."""
        rows = sorted(self.list.row(item) for item in self.list.selectedItems())
        keys = [self.list.item(r).data(Qt.ItemDataRole.UserRole) for r in rows]
        by_key = {e.key: e for e in self.entries}
        return [by_key[k] for k in keys if k in by_key]

    def select(self, entry: ImportEntry) -> None:
        self.list.setCurrentItem(self._items[entry.key])

    def _on_current_item(self, *_: object) -> None:
        entry = self.current()
        self.currentChanged.emit(entry if entry is not None and entry.imported is not None else None)

    def _resize(self, entry: ImportEntry) -> None:
        # wrapped labels: ask for the height at the list's real width, not the widget's guess
        row = self.row(entry)
        width = max(200, self.list.viewport().width())
        layout = row.layout()
        height = layout.heightForWidth(width) if layout is not None and layout.hasHeightForWidth() else -1
        hint = row.sizeHint()
        self._items[entry.key].setSizeHint(QSize(width, height if height > 0 else hint.height()))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        for entry in self.entries:
            self._resize(entry)

    def clear_finished(self) -> None:
        """Remove failed, cancelled and saved rows (what is still reading or unsaved stays)."""
        for entry in [e for e in self.entries if e.state in ("failed", "cancelled", "saved")]:
            self.remove(entry)

    def remove(self, entry: ImportEntry) -> None:
        job = self._jobs.pop(entry.key, None)
        if job is not None:
            job.cancel()
        item = self._items.pop(entry.key)
        self.list.takeItem(self.list.row(item))
        self._rows.pop(entry.key).deleteLater()
        self._summaries.pop(entry.key, None)
        self.entries.remove(entry)

    def cancel_all(self) -> None:
        for job in list(self._jobs.values()):
            job.cancel()


def describe(imported: ImportedFile) -> str:
    """One line about what a file holds: laps, channels, rate, duration."""
    draft = imported.draft
    tel = draft.telemetry
    timed = [lap for lap in draft.laps if lap.lap_time_s is not None and lap.complete]
    source = draft.sources[0] if draft.sources else None
    parts = [f"{len(draft.laps)} laps ({len(timed)} timed)", f"{tel.channel_count} channels"]
    if source is not None:
        parts.insert(0, source.source_type)
        if source.sample_rate_hz:
            parts.append(f"{source.sample_rate_hz:g} Hz")
    if draft.track:
        parts.append(draft.track)
    text = " · ".join(parts)
    if draft.warnings:
        text += "\n" + "\n".join(f"⚠ {w}" for w in draft.warnings[:3])
    return text
