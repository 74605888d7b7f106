"""The main window: the import list and session form on the left, laps and preview on the
right, the saved-sessions browser in a dock. Each feature lives in its own module; this
one wires them together and owns nothing but the "what is shown" state.
"""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import QByteArray, Qt, QTimer
from PySide6.QtGui import QCloseEvent, QIcon
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QMainWindow,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from desktop_app.analysis.formatting import format_lap_time
from desktop_app.catalogue import Catalogue
from desktop_app.config import Config, Settings, resolve, save_settings
from desktop_app.gui.actions import build_menus, fill_recent, remember
from desktop_app.gui.catalogue import OpenedCatalogue, open_and_recover, recovery_text
from desktop_app.gui.dialogs import ask
from desktop_app.gui.drop import FileDropFilter
from desktop_app.gui.import_panel import ImportPanel
from desktop_app.gui.merge_flow import FILE_FILTERS, MergeFlow
from desktop_app.gui.resplit_flow import ResplitFlow
from desktop_app.gui.save_flow import SaveFlow
from desktop_app.gui.session_form import SessionFields, SessionForm
from desktop_app.gui.session_view import SessionView
from desktop_app.gui.sessions_browser import SessionsBrowser
from desktop_app.gui.settings_dialog import SettingsDialog
from desktop_app.gui.theme import apply_theme
from desktop_app.gui.workers import Workers, call
from desktop_app.import_list import SAVABLE, ImportEntry, State
from storage.db.catalog import SavedSession, list_drivers, list_tracks, load_session, set_lap_validity, update_session
from storage.sessions import RecoveryReport

ICON = Path(__file__).resolve().parents[2] / "resources" / "laptrace.svg"
#: how long the first file of a batch waits for the rest of the batch before it is drawn
PREVIEW_WAIT_MS = 1000


class MainWindow(QMainWindow):
    """The Laptrace window. Give it the settings and (optionally) the executors."""

    def __init__(self, settings: Settings, workers: Workers | None = None) -> None:
        super().__init__()
        self.setWindowTitle("Laptrace")
        self.setObjectName("mainWindow")
        if ICON.is_file():
            self.setWindowIcon(QIcon(str(ICON)))
        self.settings = settings
        self.workers = workers if workers is not None else Workers(parent=self)
        self.catalogue: Catalogue | None = None
        #: what the right side shows: an import entry, or a saved session
        self.entry: ImportEntry | None = None
        self.saved: SavedSession | None = None
        self._close_when_idle = False
        self._pending: ImportEntry | None = None
        #: command-line data dir and database URL, which win over the settings
        self.overrides: tuple[str | None, str | None] = (None, None)
        self._closing_ok = False

        self.imports = ImportPanel(self.workers)
        self.form = SessionForm()
        self.save_button = QPushButton("Save session")
        self.save_button.setEnabled(False)
        self.view = SessionView(self.workers)
        self.browser = SessionsBrowser(self.workers)
        self._build_layout()
        self.save_flow = SaveFlow(self, self.workers, self.imports, self.statusBar())
        self.actions_ = build_menus(
            self,
            on_open=self.open_dialog,
            on_save=self.save_current,
            on_settings=self.open_settings,
            on_quit=self.close,
        )
        self.actions_.sessions.toggled.connect(self.dock.setVisible)
        self.actions_.time_axis.toggled.connect(lambda on: self.view.preview.set_x_axis("time" if on else "distance"))
        self.dock.visibilityChanged.connect(self.actions_.sessions.setChecked)
        self.drop = FileDropFilter(self)
        self.drop.install(self)
        self.drop.pathsDropped.connect(self.open_paths)
        self._connect()
        self.merge_flow = MergeFlow(self, self.imports, self.statusBar(), lambda: None if self.saved else self.entry)
        self.merge_flow.install(self.actions_.file_menu, self.actions_.settings)
        self.resplit_flow = ResplitFlow(self, self.workers, self.view, self.statusBar())
        self.view.linesEdited.connect(self.resplit_flow.resplit)
        self.resplit_flow.changed.connect(self._catalogue_changed)
        self.refresh_recent()
        self.view.set_speed_unit(settings.speed_unit)
        self.restore_layout()
        self.statusBar().showMessage("Opening the catalogue…")

    def _build_layout(self) -> None:
        left = QWidget()
        column = QVBoxLayout(left)
        column.setContentsMargins(6, 6, 6, 6)
        column.addWidget(self.imports, 3)
        column.addWidget(self.form, 2)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.save_button)
        column.addLayout(row)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.setObjectName("mainSplitter")
        split.addWidget(left)
        split.addWidget(self.view)
        split.setStretchFactor(1, 3)
        split.setSizes([360, 1000])
        self.splitter = split
        self.setCentralWidget(split)
        self.dock = QDockWidget("Sessions", self)
        self.dock.setObjectName("sessionsDock")
        self.dock.setWidget(self.browser)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.dock)
        self.dock.hide()

    def _connect(self) -> None:
        self.imports.currentChanged.connect(self._on_import_selected)
        self.imports.entryReady.connect(self._on_entry_ready)
        self.imports.readsIdle.connect(lambda: QTimer.singleShot(0, self._show_pending))
        self.imports.fileOpened.connect(self._remember)
        self.form.edited.connect(self._on_form_edited)
        self.form.applyRequested.connect(self.apply_session_fields)
        self.save_button.clicked.connect(self.save_current)
        self.save_flow.saved.connect(lambda _e, _sid: self._update_save_button())
        self.save_flow.saved.connect(lambda e, _sid: self._on_entry_saved(e))
        self.save_flow.changed.connect(self._catalogue_changed)
        self.save_flow.changed.connect(self._update_save_button)
        self.view.validityChanged.connect(self._on_validity)
        self.browser.openRequested.connect(self.open_session)
        self.browser.compareRequested.connect(self.compare_session_lap)
        self.browser.deleted.connect(self._on_deleted)
        self.workers.busyChanged.connect(self._on_writes_busy)
        # a background job's error that no caller handles is still the user's to see
        self.workers.unhandledError.connect(lambda message, _exc: self.statusBar().showMessage(message))
        self.view.readFailed.connect(self.statusBar().showMessage)
        self.view.exportDone.connect(lambda message: self.statusBar().showMessage(message, 8000))

    # --- catalogue --------------------------------------------------------------------
    def set_catalogue(self, catalogue: Catalogue, message: str = "") -> None:
        """The catalogue is open: enable saving, the browser and duplicate checks."""
        self.catalogue = catalogue
        self.imports.set_catalogue(catalogue)
        self.save_flow.catalogue = catalogue
        self.browser.set_catalogue(catalogue)
        self._refresh_completions()
        self._update_save_button()
        self.statusBar().showMessage(message or f"Catalogue: {catalogue.config.data_dir}", 8000)

    def catalogue_failed(self, exc: Exception) -> None:
        self.statusBar().showMessage(f"Cannot open the catalogue: {exc} (see File ▸ Settings)")

    def open_catalogue(self, config: Config) -> None:
        """Connect, migrate and recover on the write thread (after any queued save), then
        switch to the new catalogue; on failure the current one stays."""
        self.workers.write(
            call(open_and_recover, config), returned=self._catalogue_opened, errored=self.catalogue_failed
        )

    def _catalogue_opened(self, result: OpenedCatalogue) -> None:
        old = self.catalogue
        note = _recovery_note(result.recovery)
        where = f"Catalogue: {result.catalogue.config.data_dir}"
        self.set_catalogue(result.catalogue, f"{where}. {note}" if note else where)
        if old is not None and old.engine is not result.catalogue.engine:
            old.engine.dispose()

    def _refresh_completions(self) -> None:
        if self.catalogue is not None:
            engine = self.catalogue.engine
            self.workers.read(
                call(lambda: (list_drivers(engine), list_tracks(engine)), what="listing drivers and tracks"),
                returned=lambda dt: self.form.set_completions(*dt),
            )

    def _catalogue_changed(self) -> None:
        self.browser.refresh()
        self._refresh_completions()

    # --- opening files ----------------------------------------------------------------
    def open_dialog(self) -> None:
        dialog = QFileDialog(self, "Open logger files")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFiles)
        dialog.setNameFilters(FILE_FILTERS)
        dialog.filesSelected.connect(lambda files: self.open_paths([Path(f) for f in files]))
        dialog.open()

    def open_paths(self, paths: list[Path]) -> None:
        """Import files and folders (the drop, Open, recent files and the command line)."""
        self.imports.add_paths([Path(p) for p in paths])

    def _remember(self, path: Path) -> None:
        self.settings.recent_files = remember(self.settings.recent_files, path)
        self.refresh_recent()

    def refresh_recent(self) -> None:
        fill_recent(self.actions_.recent, self.settings.recent_files, lambda p: self.open_paths([p]))

    def _on_entry_ready(self, entry: ImportEntry) -> None:
        # The first file read is shown; later ones wait to be clicked. While the rest of a
        # batch is still being read (at most PREVIEW_WAIT_MS) the drawing waits: plotting is
        # GUI-thread Python that would otherwise share the GIL with the parsing workers and
        # freeze the window several times longer.
        if self.entry is not None or self.saved is not None or self._pending is not None:
            return
        self._pending = entry
        if self.imports.reading():
            QTimer.singleShot(PREVIEW_WAIT_MS, self._show_pending)
        else:
            self._show_pending()

    def _show_pending(self) -> None:
        entry, self._pending = self._pending, None
        if entry is not None and self.entry is None and self.saved is None and self.imports.has(entry):
            self.imports.select(entry)

    # --- what is shown ----------------------------------------------------------------
    def _on_import_selected(self, entry: ImportEntry | None) -> None:
        if entry is None or entry.imported is None:
            return
        self.entry, self.saved = entry, None
        draft = entry.imported.draft
        self.form.show_fields(SessionFields.of_draft(draft), self._draft_heading(entry), saved=False)
        self.view.show_draft(draft)
        self._update_save_button()

    def _draft_heading(self, entry: ImportEntry) -> str:
        name = f"<b>{entry.label}</b>"
        if entry.state is State.SAVED and entry.session_id is not None:
            return f"{name} (saved as session {entry.session_id})"
        return f"{name} (not saved)"

    def _on_entry_saved(self, entry: ImportEntry) -> None:
        if self.entry is entry and self.saved is None:
            self.form.heading.setText(self._draft_heading(entry))  # no stale "(not saved)"

    def _on_form_edited(self) -> None:
        if self.entry is not None and self.entry.imported is not None and self.saved is None:
            self.form.fields().apply_to(self.entry.imported.draft)

    def open_session(self, session_id: int, message: str = "") -> None:
        """Reopen a saved session: metadata now, lap telemetry lap by lap as selected.
        ``message``: what the status bar says once it is shown (else its file)."""
        if self.catalogue is None:
            return
        self.statusBar().showMessage(f"Opening session {session_id}…")
        self.workers.read(
            call(load_session, self.catalogue.engine, session_id),
            returned=lambda saved: self._show_saved(saved, message),
            errored=lambda exc: self.statusBar().showMessage(f"Cannot open session {session_id}: {exc}"),
        )

    def compare_session_lap(self, session_id: int, as_reference: bool) -> None:
        """Let the user pick a lap of a saved session for the overlay (or as the reference)."""
        if self.catalogue is None:
            return
        self.workers.read(
            call(load_session, self.catalogue.engine, session_id),
            returned=lambda saved: self._pick_compare_lap(saved, as_reference),
            errored=lambda exc: self.statusBar().showMessage(f"Cannot open session {session_id}: {exc}"),
        )

    def _pick_compare_lap(self, saved: SavedSession, as_reference: bool) -> QInputDialog:
        laps = [lap for lap in saved.laps if lap.samples]
        items = [f"Lap {lap.lap_number}  {format_lap_time(lap.lap_time_s)}  {lap.kind}" for lap in laps]
        dialog = QInputDialog(self)
        dialog.setWindowTitle("Reference lap" if as_reference else "Overlay a lap")
        dialog.setLabelText(f"Session {saved.summary.id}: {saved.summary.name}")
        dialog.setComboBoxItems(items)
        dialog.setOption(QInputDialog.InputDialogOption.UseListViewForComboBoxItems)
        sid = saved.summary.id

        def chosen(text: str) -> None:
            if self.catalogue is not None and text in items:
                lap = laps[items.index(text)]
                self.view.compare_lap(self.catalogue.storage, sid, lap.lap_number, as_reference=as_reference)

        dialog.textValueSelected.connect(chosen)
        dialog.finished.connect(lambda _r: dialog.deleteLater())
        dialog.open()
        return dialog

    def _show_saved(self, saved: SavedSession, message: str = "") -> None:
        assert self.catalogue is not None
        s = saved.summary
        self.entry, self.saved = None, saved
        self.imports.list.clearSelection()
        fields = SessionFields(s.name, s.driver, s.track, s.vehicle, s.started_at, saved.notes)
        self.form.show_fields(fields, f"<b>Session {s.id}</b> ({s.status})", saved=True)
        units = {c.name: c.unit for src in saved.sources for c in src.channels}
        self.view.show_saved(saved.laps, units, self.catalogue.storage, s.id, saved.lines)
        self._update_save_button()
        self.statusBar().showMessage(message or f"Session {s.id}: {s.file_path or 'no telemetry file'}", 8000)

    def apply_session_fields(self) -> None:
        if self.saved is None or self.catalogue is None:
            return
        f = self.form.fields()
        sid = self.saved.summary.id
        self.form.apply.setEnabled(False)
        self.workers.write(
            call(
                update_session,
                self.catalogue.engine,
                sid,
                name=f.name,
                driver=f.driver,
                track=f.track,
                vehicle=f.vehicle,
                started_at=f.started_at,
                notes=f.notes,
            ),
            returned=lambda _r: self._on_session_updated(sid),
            errored=lambda exc: self.statusBar().showMessage(f"Cannot update session {sid}: {exc}"),
        )

    def _on_session_updated(self, session_id: int) -> None:
        self.statusBar().showMessage(f"Session {session_id} updated", 5000)
        self._catalogue_changed()

    def _on_validity(self, lap_number: int, valid: bool | None) -> None:
        # a draft's LapRecord was updated by the table model; a saved session's goes to the DB
        if self.saved is None or self.catalogue is None:
            return
        sid = self.saved.summary.id
        self.workers.write(
            call(set_lap_validity, self.catalogue.engine, sid, lap_number, valid),
            returned=lambda _r: self.statusBar().showMessage(f"Session {sid}: lap {lap_number} validity saved", 4000),
            errored=lambda exc: self.statusBar().showMessage(f"Cannot change lap {lap_number}: {exc}"),
        )

    def _on_deleted(self, session_id: int) -> None:
        if self.saved is not None and self.saved.summary.id == session_id:
            self.saved = None
            self.view.clear()
            self.form.clear()
        self.statusBar().showMessage(f"Session {session_id} deleted", 5000)
        self._refresh_completions()

    # --- save -------------------------------------------------------------------------
    def save_current(self) -> None:
        if self.entry is not None and self.saved is None:
            self._on_form_edited()  # the form's last edit goes into the draft first
            self.save_flow.save(self.entry)
            self._update_save_button()

    def _update_save_button(self) -> None:
        ok = (
            self.catalogue is not None
            and self.saved is None
            and self.entry is not None
            and self.entry.imported is not None
            and self.entry.state in SAVABLE
        )
        self.save_button.setEnabled(ok)
        self.actions_.save.setEnabled(ok)

    def _on_writes_busy(self, busy: bool) -> None:
        self._update_save_button()
        if not busy and self._close_when_idle:
            self._closing_ok = True
            QTimer.singleShot(0, self.close)

    # --- settings and layout ----------------------------------------------------------
    def open_settings(self) -> None:
        dialog = SettingsDialog(self.settings, self)
        dialog.saved.connect(self.apply_settings)
        dialog.open()

    def apply_settings(self, settings: Settings) -> None:
        """Use new settings now: units, theme, and (when they changed) the data folder and
        database. Command-line flags and environment variables still take precedence."""
        self.settings = settings
        self.view.set_speed_unit(settings.speed_unit)
        if self.catalogue is not None:
            config = resolve(self.overrides[0], self.overrides[1], settings)
            if config != self.catalogue.config:
                self.statusBar().showMessage(f"Opening the catalogue in {config.data_dir}…")
                self.open_catalogue(config)
        app = QApplication.instance()
        if isinstance(app, QApplication):
            apply_theme(app, settings.window_state.get("theme", "system"))

    def restore_layout(self) -> None:
        state = self.settings.window_state
        if "geometry" in state:
            self.restoreGeometry(QByteArray.fromBase64(state["geometry"].encode()))
        else:
            self.resize(1400, 860)
        if "state" in state:
            self.restoreState(QByteArray.fromBase64(state["state"].encode()))
        for splitter, key in ((self.splitter, "splitter"), (self.view.splitter, "lap_splitter")):
            if key in state:
                splitter.restoreState(QByteArray.fromBase64(state[key].encode()))
        if "preview" in state:  # the graphs: channels ticked, channels sharing a graph, math channels
            try:
                preview = json.loads(state["preview"])
            except ValueError:
                preview = None
            if isinstance(preview, dict):
                self.view.preview.restore_layout_state(preview)

    def store_layout(self) -> None:
        state = self.settings.window_state
        state["geometry"] = bytes(self.saveGeometry().toBase64().data()).decode()
        state["state"] = bytes(self.saveState().toBase64().data()).decode()
        state["splitter"] = bytes(self.splitter.saveState().toBase64().data()).decode()
        state["lap_splitter"] = bytes(self.view.splitter.saveState().toBase64().data()).decode()
        state["preview"] = json.dumps(self.view.preview.layout_state())

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.workers.writing and not self._closing_ok:
            event.ignore()
            if not self._close_when_idle:
                ask(
                    self,
                    "Save in progress",
                    "A session is still being saved. Close Laptrace when the save has finished?",
                    self._close_after_save,
                    yes_text="Close after saving",
                )
            return
        self.store_layout()
        try:
            save_settings(self.settings)
        except Exception as exc:  # noqa: BLE001 - closing must not fail over settings
            self.statusBar().showMessage(f"Settings not saved: {exc}")
        self.imports.cancel_all()
        self.view.clear()
        event.accept()

    def _close_after_save(self) -> None:
        self._close_when_idle = True
        self.centralWidget().setEnabled(False)
        self.statusBar().showMessage("Closing when the save has finished…")
        if not self.workers.writing:
            self._on_writes_busy(False)


def _recovery_note(report: RecoveryReport) -> str:
    """The status-bar line about start-up recovery: the saves it settled, plus the temp
    files of killed writes it removed (and the space that freed) and the half-done deletes
    it completed."""
    parts = [recovery_text(report)] if recovery_text(report) else []
    if report.temp_files_removed:
        parts.append(
            f"{len(report.temp_files_removed)} temp file(s) of interrupted writes removed "
            f"({_size(report.bytes_freed)} freed)"
        )
    if report.deleted:
        parts.append(f"{len(report.deleted)} half-done delete(s) completed")
    if report.resplit_finished:
        parts.append(f"{len(report.resplit_finished)} interrupted re-split(s) completed")
    return "; ".join(parts)


def _size(n: int) -> str:
    """A byte count as people read it (1,023 bytes, 4.2 MB)."""
    if n < 1024:
        return f"{n:,} bytes"
    value, unit = n / 1024, "KB"
    for bigger in ("MB", "GB"):
        if value < 1024:
            break
        value, unit = value / 1024, bigger
    return f"{value:.1f} {unit}"
