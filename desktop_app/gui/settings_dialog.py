"""Settings: data folder, database URL (password to the OS keyring), display units, theme.

The dialog edits a copy of :class:`desktop_app.config.Settings`; on OK it is saved with
:func:`desktop_app.config.save_settings`, which moves a password typed here into the OS
keyring and writes the URL without it. If no keyring is available the settings are not
saved and the dialog says why: a password never lands in the settings file.
"""

from __future__ import annotations

import copy

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from desktop_app.config import Settings, default_data_dir, save_settings

THEMES = ("system", "light", "dark")


def url_with_password(url: str, password: str) -> str:
    """``url`` with ``password`` set (for save_settings to move into the keyring)."""
    if not url or not password:
        return url
    return make_url(url).set(password=password).render_as_string(hide_password=False)


class SettingsDialog(QDialog):
    """Edits settings; ``saved(object)`` carries the new :class:`Settings` after OK."""

    saved = Signal(object)

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setObjectName("settingsDialog")
        self._settings = copy.deepcopy(settings)
        self.data_dir = QLineEdit(settings.data_dir or "")
        self.data_dir.setPlaceholderText(str(default_data_dir()))
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        folder = QHBoxLayout()
        folder.addWidget(self.data_dir, 1)
        folder.addWidget(browse)
        self.database_url = QLineEdit(settings.database_url or "")
        self.database_url.setPlaceholderText("empty: SQLite in the data folder; or postgresql+psycopg://user@host/db")
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("PostgreSQL password (kept in the OS keyring)")
        self.speed_unit = QComboBox()
        self.speed_unit.addItems(["km/h", "mph"])
        self.speed_unit.setCurrentText(settings.speed_unit)
        self.theme = QComboBox()
        self.theme.addItems(list(THEMES))
        self.theme.setCurrentText(settings.window_state.get("theme", "system"))
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #d03030;")
        note = QLabel(
            "A new data folder or database is opened at once (a --data-dir/--db flag or the "
            "LAPTRACE_DATA_DIR/LAPTRACE_DATABASE_URL variables still win)."
        )
        note.setWordWrap(True)

        form = QFormLayout()
        form.addRow("Data folder", folder)
        form.addRow("Database URL", self.database_url)
        form.addRow("Password", self.password)
        form.addRow("Speed", self.speed_unit)
        form.addRow("Theme", self.theme)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.resize(560, self.sizeHint().height())

    def _browse(self) -> None:
        dialog = QFileDialog(self, "Data folder", self.data_dir.text() or str(default_data_dir()))
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.fileSelected.connect(self.data_dir.setText)
        dialog.open()

    def settings(self) -> Settings:
        """The settings as the dialog shows them (the password still in the URL)."""
        s = copy.deepcopy(self._settings)
        s.data_dir = self.data_dir.text().strip() or None
        url = self.database_url.text().strip()
        s.database_url = url_with_password(url, self.password.text()) if url else None
        s.speed_unit = self.speed_unit.currentText()
        s.window_state["theme"] = self.theme.currentText()
        return s

    def accept(self) -> None:
        try:
            s = self.settings()
            save_settings(s)
        except ArgumentError as exc:
            self.error.setText(f"Database URL: {exc}")
            return
        except Exception as exc:  # noqa: BLE001 - keyring backends raise their own types
            self.error.setText(f"Settings not saved: {type(exc).__name__}: {exc}")
            return
        self.saved.emit(s)
        super().accept()
