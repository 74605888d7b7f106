"""The saved-sessions browser: filter by driver, track and date; open; delete (asks first);
for a failed save, retry it from its source files or discard it (asks first).

Listing runs on the read pool; deleting, discarding and retrying run on the write thread. The model holds plain
``SessionSummary`` dataclasses, never ORM objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from functools import partial
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QDate, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy import Engine

from desktop_app.analysis.formatting import format_lap_time
from desktop_app.catalogue import Catalogue
from desktop_app.gui.dialogs import ask
from desktop_app.gui.tables import fit_columns
from desktop_app.gui.workers import Workers, call
from desktop_app.importing import retry_from_source
from storage.db.catalog import SessionSummary, list_drivers, list_sessions, list_tracks
from storage.sessions import delete_session, discard_session

_Index = QModelIndex | QPersistentModelIndex
_ANY = "(any)"
COLUMNS = ("id", "name", "driver", "track", "vehicle", "date", "laps", "best", "status")


@dataclass(frozen=True)
class Listing:
    sessions: list[SessionSummary]
    drivers: list[str]
    tracks: list[str]


def fetch_listing(
    engine: Engine, driver: str | None, track: str | None, since: datetime | None, until: datetime | None
) -> Listing:
    """Sessions matching the filters plus the filter choices (a read-pool job)."""
    return Listing(
        list_sessions(engine, driver=driver, track=track, since=since, until=until),
        list_drivers(engine),
        list_tracks(engine),
    )


class SessionListModel(QAbstractTableModel):
    """Saved sessions, one per row."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rows: list[SessionSummary] = []

    def set_sessions(self, sessions: list[SessionSummary]) -> None:
        self.beginResetModel()
        self._rows = list(sessions)
        self.endResetModel()

    def session_at(self, row: int) -> SessionSummary:
        return self._rows[row]

    def text(self, row: int, column: int) -> str:
        """What the cell at ``row``, ``column`` shows."""
        return self._display(self._rows[row], COLUMNS[column])

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt signature
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(COLUMNS)
        ):
            return COLUMNS[section].capitalize() if section else "#"
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        s = self._rows[index.row()]
        key = COLUMNS[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(s, key)
        if role == Qt.ItemDataRole.ToolTipRole:
            if key == "status" and s.error:
                return s.error
            return s.file_path if key == "name" else None
        if role == Qt.ItemDataRole.TextAlignmentRole and key in ("id", "laps", "best"):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    @staticmethod
    def _display(s: SessionSummary, key: str) -> str:
        if key == "id":
            return str(s.id)
        if key == "date":
            when = s.started_at or s.imported_at
            return when.strftime("%Y-%m-%d %H:%M") if when else ""
        if key == "laps":
            return str(s.lap_count)
        if key == "best":
            return format_lap_time(s.best_lap_s) if s.best_lap_s is not None else ""
        value = getattr(s, key)
        return "" if value is None else str(value)


class SessionsBrowser(QWidget):
    """Filters, the session list and its actions. ``openRequested(int)`` carries a session id."""

    openRequested = Signal(int)
    #: (session id, as the reference): the user wants one of its laps in the overlay
    compareRequested = Signal(int, bool)
    listed = Signal()
    deleted = Signal(int)
    #: (session id, done): a retry from the source files finished (True) or was refused
    retried = Signal(int, bool)

    def __init__(self, workers: Workers, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workers = workers
        self.catalogue: Catalogue | None = None
        self.model = SessionListModel(self)
        self.driver = QComboBox()
        self.track = QComboBox()
        for combo in (self.driver, self.track):
            combo.addItem(_ANY)
            combo.setMinimumContentsLength(10)
            combo.currentIndexChanged.connect(self.refresh)
        self.use_since = QCheckBox("from")
        self.since = QDateEdit(QDate.currentDate().addMonths(-1))
        self.use_until = QCheckBox("to")
        self.until = QDateEdit(QDate.currentDate())
        for check, edit in ((self.use_since, self.since), (self.use_until, self.until)):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
            edit.setEnabled(False)
            check.toggled.connect(edit.setEnabled)
            check.toggled.connect(self.refresh)
            edit.dateChanged.connect(partial(self._on_date, check))

        self.view = QTableView()
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.verticalHeader().setVisible(False)
        # sized from the texts once per listing (gui/tables.py), not by ResizeToContents
        self.view.horizontalHeader().setStretchLastSection(True)
        self.view.doubleClicked.connect(lambda _i: self.open_selected())
        self.open_button = QPushButton("Open")
        self.open_button.clicked.connect(self.open_selected)
        self.delete_button = QPushButton("Delete…")
        self.delete_button.clicked.connect(self.delete_selected)
        self.retry_button = QPushButton("Retry from source")
        self.retry_button.setToolTip("Finish this failed save by reading its source files again")
        self.retry_button.clicked.connect(self.retry_selected)
        self.discard_button = QPushButton("Discard…")
        self.discard_button.setToolTip("Remove this failed save from the catalogue")
        self.discard_button.clicked.connect(self.discard_selected)
        self.compare_button = QPushButton("Overlay a lap…")
        self.compare_button.setToolTip("Add a lap of this session to the laps on show")
        self.compare_button.clicked.connect(lambda: self._compare(False))
        self.reference_button = QPushButton("Reference lap…")
        self.reference_button.setToolTip("Measure the delta against a lap of this session")
        self.reference_button.clicked.connect(lambda: self._compare(True))
        refresh = QPushButton("Refresh")
        refresh.clicked.connect(self.refresh)
        self.info = QLabel()

        filters = QHBoxLayout()
        for widget in (
            QLabel("Driver"),
            self.driver,
            QLabel("Track"),
            self.track,
            self.use_since,
            self.since,
            self.use_until,
            self.until,
        ):
            filters.addWidget(widget)
        filters.addStretch(1)
        actions = QHBoxLayout()
        actions.addWidget(self.info, 1)
        for button in (
            refresh,
            self.retry_button,
            self.discard_button,
            self.delete_button,
            self.compare_button,
            self.reference_button,
            self.open_button,
        ):
            actions.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addWidget(self.view, 1)
        layout.addLayout(actions)
        self.view.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())
        self.model.modelReset.connect(self._update_buttons)
        self.model.modelReset.connect(self._fit_columns)
        self._update_buttons()
        self._filling = False
        self._note = ""  # what the last action said, shown with the next listing
        self._generation = 0  # only the newest listing is shown (reads may finish out of order)

    def _fit_columns(self) -> None:
        fit_columns(self.view, self.model, self.model.text)

    def _on_date(self, check: QCheckBox, _date: QDate) -> None:
        if check.isChecked():
            self.refresh()

    def set_catalogue(self, catalogue: Catalogue | None) -> None:
        self.catalogue = catalogue
        self.refresh()

    def refresh(self, *_: object) -> None:
        """List the sessions matching the filters (on the read pool)."""
        if self.catalogue is None or self._filling:
            return
        since = _day(self.since.date(), time.min) if self.use_since.isChecked() else None
        until = _day(self.until.date(), time.max) if self.use_until.isChecked() else None
        self._generation += 1
        self.workers.read(
            call(fetch_listing, self.catalogue.engine, _choice(self.driver), _choice(self.track), since, until),
            returned=partial(self._on_listing, self._generation),
            errored=lambda exc: self.info.setText(f"cannot list sessions: {exc}"),
        )

    def _on_listing(self, generation: int, listing: Listing) -> None:
        if generation != self._generation:
            return  # a newer refresh is on its way
        self._filling = True
        try:
            for combo, values in ((self.driver, listing.drivers), (self.track, listing.tracks)):
                current = combo.currentText()
                combo.clear()
                combo.addItems([_ANY, *values])
                combo.setCurrentIndex(max(0, combo.findText(current)))
        finally:
            self._filling = False
        self.model.set_sessions(listing.sessions)
        count = f"{len(listing.sessions)} session(s)"
        self.info.setText(f"{self._note} · {count}" if self._note else count)
        self._note = ""
        self.listed.emit()

    def _update_buttons(self) -> None:
        s = self.selected()
        failed = s is not None and s.status == "failed"
        self.retry_button.setEnabled(failed)
        self.discard_button.setEnabled(failed)

    def selected(self) -> SessionSummary | None:
        rows = self.view.selectionModel().selectedRows()
        return self.model.session_at(rows[0].row()) if rows else None

    def open_selected(self) -> None:
        s = self.selected()
        if s is not None:
            self.openRequested.emit(s.id)

    def _compare(self, as_reference: bool) -> None:
        s = self.selected()
        if s is not None:
            self.compareRequested.emit(s.id, as_reference)

    def delete_selected(self) -> None:
        s = self.selected()
        if s is None or self.catalogue is None:
            return
        ask(
            self,
            "Delete session",
            f"Delete session {s.id} {s.name!r} ({s.lap_count} laps) and its telemetry file?\nThis cannot be undone.",
            lambda: self._delete(s.id),
            yes_text="Delete",
        )

    def _delete(self, session_id: int) -> None:
        if self.catalogue is None:
            return
        cat = self.catalogue
        self.workers.write(
            call(delete_session, cat.engine, cat.storage, session_id),
            returned=lambda _r: self._on_deleted(session_id),
            errored=lambda exc: self.info.setText(f"cannot delete session {session_id}: {exc}"),
        )

    def _on_deleted(self, session_id: int) -> None:
        self.deleted.emit(session_id)
        self.refresh()

    def retry_selected(self) -> None:
        """Finish the selected failed save from its source files, read again (write thread)."""
        s = self.selected()
        if s is None or s.status != "failed" or self.catalogue is None:
            return
        cat, session_id = self.catalogue, s.id
        self.retry_button.setEnabled(False)
        self.info.setText(f"retrying session {session_id} from its source files…")
        self.workers.write(
            call(retry_from_source, cat.engine, cat.storage, session_id, what=f"retrying session {session_id}"),
            returned=lambda _r: self._on_retried(session_id, f"session {session_id} saved from its source files"),
            errored=lambda exc: self._on_retried(session_id, f"cannot retry: {exc}", done=False),
        )

    def _on_retried(self, session_id: int, message: str, *, done: bool = True) -> None:
        self._note = message  # kept in front of the count when the new listing arrives
        self.info.setText(message)
        self.refresh()
        self.retried.emit(session_id, done)

    def discard_selected(self) -> None:
        s = self.selected()
        if s is None or s.status != "failed" or self.catalogue is None:
            return
        ask(
            self,
            "Discard session",
            f"Discard the failed save of session {s.id} {s.name!r}?\nIts source files are not touched.",
            lambda: self._discard(s.id),
            yes_text="Discard",
        )

    def _discard(self, session_id: int) -> None:
        if self.catalogue is None:
            return
        cat = self.catalogue
        self.workers.write(
            call(discard_session, cat.engine, cat.storage, session_id),
            returned=lambda _r: self._on_deleted(session_id),
            errored=lambda exc: self.info.setText(f"cannot discard session {session_id}: {exc}"),
        )


def _day(d: QDate, t: time) -> datetime:
    return datetime.combine(date(d.year(), d.month(), d.day()), t)


def _choice(combo: QComboBox) -> str | None:
    text = combo.currentText()
    return None if text in ("", _ANY) else text
