"""Settings: saved to the settings file, passwords to the keyring only, layout remembered."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import keyring
import memkeyring
import pytest
from keyring.errors import NoKeyringError
from memkeyring import MemoryKeyring
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from realfiles import logger_file
from sqlalchemy.engine import make_url

from desktop_app.catalogue import Catalogue
from desktop_app.config import KEYRING_SERVICE, Settings, config_dir, load_settings, resolve
from desktop_app.gui.main_window import MainWindow
from desktop_app.gui.settings_dialog import SettingsDialog
from desktop_app.gui.theme import apply_theme
from desktop_app.gui.workers import Workers
from desktop_app.importing import import_file
from storage.sessions import save_session

PG_URL = "postgresql+psycopg://app@db.example:5432/laptrace"


class NoKeyring(MemoryKeyring):
    def set_password(self, service: str, username: str, password: str) -> None:
        raise NoKeyringError("no recommended backend was available")


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    with memkeyring.memory_keyring() as ring:
        yield ring


def _settings_file() -> dict[str, object]:
    data: dict[str, object] = json.loads((config_dir() / "settings.json").read_text(encoding="utf-8"))
    return data


def test_dialog_saves_settings_and_puts_the_password_in_the_keyring(
    qtbot: QtBot, memory_keyring: MemoryKeyring, tmp_path: Path
) -> None:
    dialog = SettingsDialog(Settings())
    qtbot.addWidget(dialog)
    saved: list[Settings] = []
    dialog.saved.connect(saved.append)
    dialog.data_dir.setText(str(tmp_path / "elsewhere"))
    dialog.database_url.setText(PG_URL)
    dialog.password.setText("s3cret!")
    dialog.speed_unit.setCurrentText("mph")
    dialog.theme.setCurrentText("dark")
    dialog.accept()
    assert dialog.result() == SettingsDialog.DialogCode.Accepted and len(saved) == 1
    raw = (config_dir() / "settings.json").read_text(encoding="utf-8")
    assert "s3cret" not in raw, "a password must never be written to the settings file"
    data = _settings_file()
    assert data["database_url"] == PG_URL
    assert data["data_dir"] == str(tmp_path / "elsewhere")
    assert data["speed_unit"] == "mph"
    assert list(memory_keyring.store.values()) == ["s3cret!"]
    assert next(iter(memory_keyring.store))[0] == KEYRING_SERVICE
    # the app gets the password back from the keyring when it connects
    config = resolve(settings=load_settings())
    assert make_url(config.database_url).password == "s3cret!"


def test_without_a_keyring_nothing_is_saved_and_the_dialog_says_why(qtbot: QtBot) -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(NoKeyring())
    try:
        dialog = SettingsDialog(Settings())
        qtbot.addWidget(dialog)
        dialog.database_url.setText(PG_URL)
        dialog.password.setText("s3cret!")
        dialog.accept()
    finally:
        keyring.set_keyring(previous)
    assert dialog.result() != SettingsDialog.DialogCode.Accepted
    assert "not saved" in dialog.error.text() and "NoKeyringError" in dialog.error.text()
    assert not (config_dir() / "settings.json").exists()


def test_a_bad_database_url_is_refused(qtbot: QtBot) -> None:
    dialog = SettingsDialog(Settings())
    qtbot.addWidget(dialog)
    dialog.database_url.setText("not a url at all")
    dialog.accept()
    assert dialog.result() != SettingsDialog.DialogCode.Accepted
    assert dialog.error.text().startswith("Database URL:")


def test_speed_unit_applies_to_the_window(qtbot: QtBot, workers: Workers) -> None:
    win = MainWindow(Settings(), workers)
    qtbot.addWidget(win)
    assert win.view.table.model().speed_unit() == "km/h"
    win.apply_settings(Settings(speed_unit="mph"))
    assert win.view.table.model().speed_unit() == "mph"


def test_window_layout_is_remembered(qtbot: QtBot, workers: Workers) -> None:
    win = MainWindow(Settings(), workers)
    qtbot.addWidget(win)
    win.show()
    win.resize(760, 560)
    win.dock.show()
    win.splitter.setSizes([150, 600])
    size, sizes = win.size(), win.splitter.sizes()
    assert win.close()
    state = load_settings().window_state
    assert {"geometry", "state", "splitter", "lap_splitter"} <= set(state)
    again = MainWindow(load_settings(), workers)
    qtbot.addWidget(again)
    again.show()
    assert again.size() == size
    assert again.splitter.sizes() == sizes
    assert again.dock.isVisible(), "the sessions dock was open when the window closed"
    fresh = MainWindow(Settings(), workers)
    qtbot.addWidget(fresh)
    fresh.show()
    assert fresh.splitter.sizes() != sizes, "the remembered layout must differ from the default"


def test_dark_and_light_themes_have_readable_palettes(qapp: QApplication) -> None:
    try:
        apply_theme(qapp, "dark")
        dark = qapp.palette()
        assert dark.color(QPalette.ColorRole.Window).lightness() < 80
        assert dark.color(QPalette.ColorRole.WindowText).lightness() > 180
        apply_theme(qapp, "light")
        light = qapp.palette()
        assert light.color(QPalette.ColorRole.Window).lightness() > 180
        assert light.color(QPalette.ColorRole.WindowText).lightness() < 80
    finally:
        apply_theme(qapp, "light")


def test_a_new_data_folder_is_opened_at_once(
    qtbot: QtBot, window: MainWindow, catalogue: Catalogue, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LAPTRACE_DATA_DIR")  # the variable would win over the settings
    draft = import_file(logger_file("racechrono_csv/session_20251231_111318_tianma_lap9_v3.csv")).draft
    save_session(draft, catalogue.engine, catalogue.storage)
    other = tmp_path / "other"
    window.apply_settings(Settings(data_dir=str(other)))
    qtbot.waitUntil(lambda: window.catalogue is not None and window.catalogue.config.data_dir == other, timeout=30_000)
    assert (other / "laptrace.sqlite3").is_file()
    qtbot.waitUntil(lambda: window.browser.info.text() == "0 session(s)", timeout=10_000)
    # a database that cannot be opened leaves the working one in place
    window.apply_settings(Settings(data_dir=str(other), database_url="postgresql+psycopg://nobody@127.0.0.1:1/x"))
    qtbot.waitUntil(lambda: "Cannot open the catalogue" in window.statusBar().currentMessage(), timeout=30_000)
    assert window.catalogue is not None and window.catalogue.config.data_dir == other
