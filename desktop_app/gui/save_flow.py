"""Save: ``save_remembering`` (the session, then its track) on the single write thread, with its outcome in the import entry.

The draft's metadata is snapshotted on the GUI thread (the form's fields, each lap's
decision) before the job is scheduled; telemetry arrays are never edited by the GUI so they
are shared, not copied. Progress shows in the status bar; the window stays usable. A failed
Parquet write leaves the session ``failed``: the row offers Retry (``retry_telemetry`` with
the draft still in memory) and Discard (``discard_session``), whose presses come from the
panel as intents. A source file already in the catalogue asks whether to save it again
anyway (``force=True``). This flow moves the entry through its state machine
(docs/architecture.md#the-import-list) and never touches a row's widgets.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QLabel, QProgressBar, QStatusBar, QWidget

from desktop_app.catalogue import Catalogue
from desktop_app.gui.dialogs import ask
from desktop_app.gui.import_panel import ImportPanel
from desktop_app.gui.workers import JobProgress, Workers, call, reporting
from desktop_app.import_list import SAVABLE, ImportEntry, State
from desktop_app.resplitting import save_remembering
from storage.db.errors import DuplicateImportError, SaveError
from storage.sessions import discard_session, retry_telemetry
from storage.types import SessionDraft


def snapshot(draft: SessionDraft) -> SessionDraft:
    """A copy of the draft's metadata for the write thread (telemetry shared, read-only)."""
    return dataclasses.replace(
        draft,
        laps=[dataclasses.replace(lap, sectors_s=list(lap.sectors_s)) for lap in draft.laps],
        sources=list(draft.sources),
        warnings=list(draft.warnings),
    )


class SaveFlow(QObject):
    """Runs saves, retries and discards, and shows their outcome."""

    saved = Signal(object, int)  # entry, session id
    changed = Signal()  # the catalogue changed (saved, discarded)

    def __init__(self, window: QWidget, workers: Workers, panel: ImportPanel, status: QStatusBar) -> None:
        super().__init__(window)
        self.window = window
        self.workers = workers
        self.panel = panel
        self.catalogue: Catalogue | None = None
        self.status = status
        self.bar = QProgressBar()
        self.bar.setMaximumWidth(220)
        self.bar.setRange(0, 1000)
        self.bar.setFormat("saving %p%")
        self.bar.hide()
        self.label = QLabel()
        status.addPermanentWidget(self.label)
        status.addPermanentWidget(self.bar)
        workers.busyChanged.connect(self._on_busy)
        panel.retryRequested.connect(self.retry)
        panel.discardRequested.connect(self.discard)

    # --- actions ----------------------------------------------------------------------
    def save(self, entry: ImportEntry, *, force: bool = False) -> bool:
        """Save one imported file; False if there is nothing to save (yet)."""
        catalogue = self.catalogue
        if catalogue is None or entry.imported is None or entry.state not in SAVABLE:
            return False
        if entry.state is State.SAVE_FAILED and entry.session_id is not None:
            # a session row exists already: only its telemetry is missing
            self.retry(entry)
            return True
        entry.save_started()
        draft = snapshot(entry.imported.draft)
        self.label.setText(f"Saving {entry.path.name}…")
        self.workers.write(
            reporting(
                save_remembering,
                draft,
                entry.imported.recording,
                catalogue.engine,
                catalogue.storage,
                force=force,
                source_paths=list(entry.paths),
            ),
            yielded=self._on_progress,
            returned=lambda result: self._on_saved(entry, *result),
            errored=lambda exc: self._on_error(entry, exc),
        )
        return True

    def retry(self, entry: ImportEntry) -> None:
        """Write the telemetry again for a session whose Parquet write failed."""
        catalogue = self.catalogue
        if catalogue is None or entry.imported is None:
            return
        if entry.session_id is None:
            self.save(entry)  # the save failed before it made a session row: save again
            return
        sid = entry.session_id
        entry.retry()
        telemetry = dataclasses.replace(entry.imported.draft.telemetry, session_id=sid)
        self.workers.write(
            call(retry_telemetry, catalogue.engine, catalogue.storage, sid, telemetry),
            returned=lambda _r: self._on_saved(entry, sid),
            errored=lambda exc: self._on_error(entry, exc),
        )

    def discard(self, entry: ImportEntry) -> None:
        """Give up a failed save: remove its session row (and any partial file)."""
        catalogue = self.catalogue
        if catalogue is None or entry.session_id is None:
            self._discarded(entry)
            return
        entry.discard_started()
        self.workers.write(
            call(discard_session, catalogue.engine, catalogue.storage, entry.session_id),
            returned=lambda _r: self._discarded(entry),
            errored=lambda exc: self._on_discard_error(entry, exc),
        )

    # --- outcomes ---------------------------------------------------------------------
    def _on_progress(self, p: object) -> None:
        if isinstance(p, JobProgress):
            self.bar.setValue(int(p.fraction * 1000))

    def _on_saved(self, entry: ImportEntry, session_id: int, note: str | None = None) -> None:
        path = self._path(session_id)
        entry.saved(session_id, path)
        said = f"Saved {entry.path.name} as session {session_id}: {path}"
        self.label.setText(said if note is None else f"{said}; {note}")
        self.saved.emit(entry, session_id)
        self.changed.emit()

    def _on_error(self, entry: ImportEntry, exc: Exception) -> None:
        if isinstance(exc, DuplicateImportError):
            entry.save_refused(f"already in catalogue: session {exc.session_id} {exc.session_name!r}")
            if not self.panel.has(entry):
                return  # the row was removed while saving: nobody to ask
            ask(
                self.window,
                "Already saved",
                f"{exc.file_name} is already in the catalogue as session {exc.session_id} "
                f"{exc.session_name!r}.\nSave it again as a new session anyway?",
                lambda: self.save(entry, force=True),
                yes_text="Save anyway",
            )
            return
        row_id = exc.session_id if isinstance(exc, SaveError) else None
        entry.save_failed(f"save failed: {exc}", session_id=row_id)
        if not self.panel.has(entry):
            return  # the row was removed while saving: the outcome stays on the entry
        self.label.setText(f"Saving {entry.path.name} failed")
        if entry.session_id is not None:
            self.changed.emit()

    def _on_discard_error(self, entry: ImportEntry, exc: Exception) -> None:
        entry.discard_failed(f"discard failed: {exc}")
        self.label.setText(f"Discarding the failed save of {entry.path.name} failed")

    def _discarded(self, entry: ImportEntry) -> None:
        entry.discarded()
        self.label.setText(f"Discarded the failed save of {entry.path.name}")
        self.changed.emit()

    def _path(self, session_id: int) -> Path | str:
        return self.catalogue.storage.path_for(session_id) if self.catalogue else "?"

    def _on_busy(self, busy: bool) -> None:
        self.bar.setVisible(busy)
        if busy:
            self.bar.setValue(0)
