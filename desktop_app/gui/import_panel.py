"""The import list: one row per dropped or opened file, read on the parallel read pool.

Each row shows the file, a progress bar and Cancel while it is read, then what was found
(laps, channels) or the reader's clear error (file, line, what) in the row itself: a batch
of bad files never opens a stack of dialogs. A file whose SHA-256 is already in the
catalogue is marked with the session that holds it. The save flow reports the save's
outcome through the same entries (Retry / Discard after a failure).

What each file is and where it stands lives in the Qt-free
:class:`~desktop_app.import_list.ImportList`; this panel shows it through
:class:`~desktop_app.gui.import_model.ImportListModel`, runs the reads, and turns the rows'
buttons into events: Cancel stops the read, Retry and Discard go out as
:attr:`ImportPanel.retryRequested` / :attr:`ImportPanel.discardRequested`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

from PySide6.QtCore import QModelIndex, QPoint, Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QListView, QMenu, QPushButton, QVBoxLayout, QWidget

from desktop_app.catalogue import Catalogue
from desktop_app.gui.catalogue import duplicate_note
from desktop_app.gui.drop import expand_paths
from desktop_app.gui.import_model import ImportListModel, ImportRow, ImportRowDelegate
from desktop_app.gui.workers import Job, JobProgress, Workers, call, reporting
from desktop_app.import_list import FINISHED, ImportEntry, ImportList, Intent, State, describe, error_text
from desktop_app.importing import ImportedFile, import_file, import_for_catalogue

# ImportEntry has been imported from here by the flows and tests since before the list
# had a module of its own
__all__ = ["ImportEntry", "ImportPanel"]


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
    #: the selection changed (the merge actions follow it)
    selectionChanged = Signal()
    #: the list's context menu is about to show (its actions should be current)
    menuAboutToShow = Signal()
    #: the user pressed Retry / Discard on a failed save's row
    retryRequested = Signal(object)
    discardRequested = Signal(object)

    def __init__(self, workers: Workers, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workers = workers
        self.catalogue: Catalogue | None = None
        self.items = ImportList()
        self.model = ImportListModel(self.items, self)
        #: the read running for each entry (by key): Qt jobs, not the list's business
        self._jobs: dict[int, Job] = {}
        #: how a file is read; tests and the benchmark keep the real one
        self.reader: Callable[..., ImportedFile] = import_file
        #: the context menu while it is open
        self.menu: QMenu | None = None

        self.list = QListView()
        self.list.setModel(self.model)
        self.delegate = ImportRowDelegate(self.list)
        self.list.setItemDelegate(self.delegate)
        # several rows can be selected (to merge them); the current row is the one shown
        self.list.setSelectionMode(QListView.SelectionMode.ExtendedSelection)
        # a new width lays the rows out again: wrapped text may need another height
        self.list.setResizeMode(QListView.ResizeMode.Adjust)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setVerticalScrollMode(QListView.ScrollMode.ScrollPerPixel)
        # the row actions (merge...) that others add to the list, in a menu that returns at
        # once (no nested event loop), wherever the list is right-clicked
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.customContextMenuRequested.connect(self._show_menu)
        self.list.selectionModel().currentChanged.connect(self._on_current_index)
        self.list.selectionModel().selectionChanged.connect(lambda *_: self.selectionChanged.emit())
        self.model.rowsInserted.connect(self._on_rows_inserted)
        self.model.dataChanged.connect(self._on_data_changed)
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

    @property
    def entries(self) -> list[ImportEntry]:
        """The entries in list order (a copy)."""
        return self.items.entries()

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
        present = {e.path: e for e in self.items if e.state not in (State.FAILED, State.CANCELLED) and e.title is None}
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
        merged_from: tuple[Path, Path] | None = None,
        replaces: ImportEntry | None = None,
    ) -> ImportEntry:
        """A row for ``path``, read on the read pool by :attr:`reader` (or by ``job``, called
        with ``progress=`` only, e.g. a merge); ``summary`` writes the row's text when done.

        A file is read as ``laptrace import`` reads it: with the open catalogue's remembered
        tracks, looked up on the worker (docs/laps.md#remembered-tracks-in-the-window)."""
        entry = ImportEntry(path, title=title, merged_from=merged_from, replaces=replaces)
        self.items.append(entry)
        if job is not None:
            task = reporting(job)
        else:
            engine = self.catalogue.engine if self.catalogue is not None else None
            task = reporting(import_for_catalogue, path, engine, reader=self.reader)
        self._jobs[entry.key] = self.workers.read(
            task,
            yielded=partial(self._on_progress, entry),
            returned=lambda imported: self._on_read(entry, imported, summary or describe),
            errored=lambda exc: self._on_failed(entry, exc),
            aborted=lambda: self._on_cancelled(entry),
            finished=lambda: self._on_job_done(entry),
        )
        return entry

    # --- the rows -----------------------------------------------------------------------
    def _on_rows_inserted(self, _parent: QModelIndex, first: int, last: int) -> None:
        for row in range(first, last + 1):
            index = self.model.index(row, 0)
            widget = ImportRow()
            widget.intent.connect(partial(self._on_intent, self.model.entry_at(row)))
            widget.show_index(index)
            self.list.setIndexWidget(index, widget)
            self.delegate.relayout(index)

    def _on_data_changed(self, top: QModelIndex, bottom: QModelIndex, *_: object) -> None:
        for row in range(top.row(), bottom.row() + 1):
            index = self.model.index(row, 0)
            widget = self.list.indexWidget(index)
            if isinstance(widget, ImportRow):
                widget.show_index(index)
                self.delegate.relayout(index)

    def row(self, entry: ImportEntry) -> ImportRow:
        """The widget that shows the entry (for tests and screenshots: it only displays)."""
        widget = self.list.indexWidget(self.model.index_of(entry))
        assert isinstance(widget, ImportRow)
        return widget

    def _on_intent(self, entry: ImportEntry, intent: str) -> None:
        if entry not in self.items:
            return
        if intent == Intent.CANCEL:
            job = self._jobs.get(entry.key)
            if job is not None:
                job.cancel()
        elif intent == Intent.RETRY:
            self.retryRequested.emit(entry)
        elif intent == Intent.DISCARD:
            self.discardRequested.emit(entry)

    def _show_menu(self, pos: QPoint) -> None:
        actions = self.list.actions()
        if not actions:
            return
        menu = QMenu(self)
        menu.addActions(actions)
        menu.aboutToShow.connect(self.menuAboutToShow)
        menu.aboutToHide.connect(partial(self._menu_closed, menu))
        self.menu = menu
        menu.popup(self.list.viewport().mapToGlobal(pos))

    def _menu_closed(self, menu: QMenu) -> None:
        if self.menu is menu:
            self.menu = None
        menu.deleteLater()  # after the chosen action has been triggered

    # --- outcomes ---------------------------------------------------------------------
    def reading(self) -> bool:
        """Whether a file is still being read."""
        return any(e.state is State.READING for e in self.items)

    def _on_job_done(self, entry: ImportEntry) -> None:
        self._jobs.pop(entry.key, None)
        if not self.reading():
            self.readsIdle.emit()

    def _on_progress(self, entry: ImportEntry, p: JobProgress) -> None:
        if p.total > 0:
            entry.set_progress(p.fraction)

    def _on_read(self, entry: ImportEntry, imported: ImportedFile, summary: Callable[[ImportedFile], str]) -> None:
        if not self.has(entry):
            return  # removed from the list while it was read
        entry.read_finished(imported, summary(imported))
        self.check_duplicates([entry])
        self.fileOpened.emit(entry.path)
        was_current = self.current() is entry  # selected while it was still reading
        self.entryReady.emit(entry)
        if was_current:
            self.currentChanged.emit(entry)

    def _on_failed(self, entry: ImportEntry, exc: Exception) -> None:
        if self.has(entry):
            entry.read_failed(error_text(entry.path, exc))

    def _on_cancelled(self, entry: ImportEntry) -> None:
        if self.has(entry):
            entry.cancelled()

    def set_catalogue(self, catalogue: Catalogue | None) -> None:
        """The catalogue is open (or changed): mark files that are already in it."""
        self.catalogue = catalogue
        self.check_duplicates([e for e in self.items if e.imported is not None])

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
        if self.has(entry):
            entry.set_duplicate(note)

    # --- selection and housekeeping ---------------------------------------------------
    def has(self, entry: ImportEntry) -> bool:
        """Whether the entry is still in the list (results may arrive after a removal)."""
        return entry in self.items

    def current(self) -> ImportEntry | None:
        index = self.list.currentIndex()
        return self.model.entry_at(index.row()) if index.isValid() else None

    def selected(self) -> list[ImportEntry]:
        """The selected entries, in list order."""
        rows = sorted(index.row() for index in self.list.selectionModel().selectedRows())
        return [self.model.entry_at(r) for r in rows]

    def select(self, entry: ImportEntry) -> None:
        self.list.setCurrentIndex(self.model.index_of(entry))

    def _on_current_index(self, *_: object) -> None:
        entry = self.current()
        self.currentChanged.emit(entry if entry is not None and entry.imported is not None else None)

    def clear_finished(self) -> None:
        """Remove failed, cancelled and saved rows (what is still reading or unsaved stays)."""
        for entry in [e for e in self.items if e.state in FINISHED]:
            self.remove(entry)

    def remove(self, entry: ImportEntry) -> None:
        job = self._jobs.pop(entry.key, None)
        if job is not None:
            job.cancel()
        self.items.remove(entry)

    def cancel_all(self) -> None:
        for job in list(self._jobs.values()):
            job.cancel()
