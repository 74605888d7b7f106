"""The session form: name, driver (completed from the catalogue), track, vehicle, date, notes.

It edits a plain :class:`SessionFields`; the window copies the fields into the draft (before
Save) or sends them to ``update_session`` (for a saved session, with Apply).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from PySide6.QtCore import QDate, QDateTime, QStringListModel, Qt, QTime, Signal
from PySide6.QtWidgets import (
    QCompleter,
    QDateTimeEdit,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from storage.types import SessionDraft

#: QDateTimeEdit cannot be empty: its minimum stands for "unknown" (shown as "unknown").
_UNKNOWN = QDateTime(QDate(1900, 1, 1), QTime(0, 0))


@dataclass
class SessionFields:
    """The editable fields of a session (draft or saved)."""

    name: str
    driver: str | None
    track: str | None
    vehicle: str | None
    started_at: datetime | None
    notes: str

    @classmethod
    def of_draft(cls, draft: SessionDraft) -> SessionFields:
        return cls(draft.name, draft.driver, draft.track, draft.vehicle, draft.started_at, draft.notes)

    def apply_to(self, draft: SessionDraft) -> None:
        draft.name = self.name
        draft.driver = self.driver
        draft.track = self.track
        draft.vehicle = self.vehicle
        draft.started_at = self.started_at
        draft.notes = self.notes


def _completer(model: QStringListModel, parent: QWidget) -> QCompleter:
    completer = QCompleter(model, parent)
    completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
    completer.setFilterMode(Qt.MatchFlag.MatchContains)
    return completer


class SessionForm(QWidget):
    """Form over :class:`SessionFields`. ``edited`` fires on every user change; in "saved"
    mode an Apply button emits ``applyRequested``."""

    edited = Signal()
    applyRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._original: datetime | None = None  # returned as is while the date is not edited
        self._loading = False
        self.heading = QLabel()
        self.name = QLineEdit()
        self.driver = QLineEdit()
        self.driver.setPlaceholderText("who drove")
        self.drivers = QStringListModel(self)
        self.driver.setCompleter(_completer(self.drivers, self))
        self.track = QLineEdit()
        self.tracks = QStringListModel(self)
        self.track.setCompleter(_completer(self.tracks, self))
        self.vehicle = QLineEdit()
        self.started = QDateTimeEdit()
        self.started.setCalendarPopup(True)
        self.started.setDisplayFormat("yyyy-MM-dd HH:mm:ss")
        self.started.setMinimumDateTime(_UNKNOWN)
        self.started.setSpecialValueText("unknown")
        self.started.setDateTime(_UNKNOWN)
        self.notes = QPlainTextEdit()
        self.notes.setPlaceholderText("notes: setup, conditions, what to look at")
        self.notes.setMaximumHeight(80)
        self.apply = QPushButton("Apply changes")
        self.apply.clicked.connect(self.applyRequested)
        self.apply.hide()

        form = QFormLayout()
        form.addRow("Name", self.name)
        form.addRow("Driver", self.driver)
        form.addRow("Track", self.track)
        form.addRow("Vehicle", self.vehicle)
        form.addRow("Date", self.started)
        form.addRow("Notes", self.notes)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.apply)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.heading)
        layout.addLayout(form)
        layout.addLayout(buttons)

        for line in (self.name, self.driver, self.track, self.vehicle):
            line.textEdited.connect(self._changed)
        self.started.dateTimeChanged.connect(self._changed)
        self.notes.textChanged.connect(self._changed)
        self.setEnabled(False)

    def set_completions(self, drivers: list[str], tracks: list[str]) -> None:
        self.drivers.setStringList(drivers)
        self.tracks.setStringList(tracks)

    def show_fields(self, fields: SessionFields, heading: str, *, saved: bool) -> None:
        """Show these fields; ``saved`` shows Apply (edits go to the catalogue)."""
        self._loading = True
        try:
            self.heading.setText(heading)
            self.name.setText(fields.name)
            self.driver.setText(fields.driver or "")
            self.track.setText(fields.track or "")
            self.vehicle.setText(fields.vehicle or "")
            self._original = fields.started_at
            if fields.started_at is None:
                self.started.setDateTime(_UNKNOWN)
            else:
                s = fields.started_at
                self.started.setDateTime(QDateTime(QDate(s.year, s.month, s.day), QTime(s.hour, s.minute, s.second)))
            self.notes.setPlainText(fields.notes)
        finally:
            self._loading = False
        self.apply.setVisible(saved)
        self.apply.setEnabled(False)
        self.setEnabled(True)

    def fields(self) -> SessionFields:
        """What the form says now (blank texts are None)."""
        qdt = self.started.dateTime()
        started: datetime | None = None
        if qdt != _UNKNOWN:
            d, t = qdt.date(), qdt.time()
            tz = self._original.tzinfo if self._original else None
            started = datetime(d.year(), d.month(), d.day(), t.hour(), t.minute(), t.second(), tzinfo=tz)
            if self._original is not None and started == self._original.replace(microsecond=0):
                started = self._original  # untouched: keep sub-second precision
        return SessionFields(
            name=self.name.text().strip() or "session",
            driver=self.driver.text().strip() or None,
            track=self.track.text().strip() or None,
            vehicle=self.vehicle.text().strip() or None,
            started_at=started,
            notes=self.notes.toPlainText(),
        )

    def clear(self) -> None:
        self.show_fields(SessionFields("", None, None, None, None, ""), "", saved=False)
        self.setEnabled(False)

    def _changed(self, *_: object) -> None:
        if not self._loading:
            self.apply.setEnabled(True)
            self.edited.emit()
