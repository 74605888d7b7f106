"""The sessions browser on a failed save: Retry from source, the refusal when the source
changed, Discard and Delete; and the start-up line about what recovery cleaned up."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from gui.qt_helpers import drop_files, wait_state
from gui.test_save import FailingStorage
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot
from realfiles import logger_file

from desktop_app.catalogue import Catalogue
from desktop_app.config import Config
from desktop_app.gui.main_window import MainWindow
from desktop_app.importing import import_file
from storage.db.catalog import list_sessions, load_session
from storage.parquet import ParquetTelemetryStorage
from storage.sessions import save_session

AIM = "aim_csv/aim_format_example.csv"


def _listed(window: MainWindow) -> list[int]:
    model = window.browser.model
    return [model.session_at(r).id for r in range(model.rowCount())]


def _select(qtbot: QtBot, window: MainWindow, session_id: int) -> None:
    with qtbot.waitSignal(window.browser.listed, timeout=10_000):
        window.browser.refresh()
    window.browser.view.selectRow(_listed(window).index(session_id))


@pytest.fixture
def source(tmp_path: Path) -> Path:
    """A copy of a real logger file that the test may change afterwards."""
    copy = tmp_path / "src" / "aim_format_example.csv"
    copy.parent.mkdir()
    shutil.copyfile(logger_file(AIM), copy)
    return copy


@pytest.fixture
def failed_id(qtbot: QtBot, window: MainWindow, catalogue: Catalogue, source: Path) -> int:
    """A GUI save of ``source`` whose Parquet write failed like a full disk."""
    window.set_catalogue(Catalogue(catalogue.config, catalogue.engine, FailingStorage(catalogue.config.data_dir, 1)))
    with qtbot.waitSignal(window.view.lapsShown, timeout=60_000):
        drop_files(window, [source])
    [entry] = window.imports.entries
    window.save_current()
    wait_state(qtbot, entry, ("saved", "save-failed"))
    assert entry.state == "save-failed" and entry.session_id is not None
    assert load_session(catalogue.engine, entry.session_id).summary.status == "failed"
    assert not catalogue.storage.exists(entry.session_id)
    return entry.session_id


def test_retry_from_source_finishes_a_failed_save(
    qtbot: QtBot, window: MainWindow, catalogue: Catalogue, source: Path, failed_id: int
) -> None:
    browser = window.browser
    _select(qtbot, window, failed_id)
    assert browser.retry_button.isEnabled() and browser.discard_button.isEnabled()
    with qtbot.waitSignal(browser.retried, timeout=60_000) as done:
        browser.retry_button.click()
    assert done.args == [failed_id, True]
    # the refresh after the retry keeps what it did on show, with the count
    qtbot.waitUntil(lambda: browser.info.text().endswith("· 1 session(s)"), timeout=10_000)
    assert f"session {failed_id} saved from its source files" in browser.info.text()

    saved = load_session(catalogue.engine, failed_id)
    assert saved.summary.status == "ready" and saved.summary.error is None
    expected = import_file(source).draft.telemetry
    telemetry = ParquetTelemetryStorage(catalogue.config.data_dir).read(failed_id)
    assert telemetry is not None
    assert telemetry.total_points == expected.total_points == saved.summary.row_count
    assert [lap.lap_number for lap in telemetry.laps] == [lap.lap_number for lap in expected.laps]
    first, want = telemetry.laps[0], expected.laps[0]
    assert sorted(first.channels) == sorted(want.channels)
    for name in want.channels:
        np.testing.assert_array_equal(first.channels[name], want.channels[name])
    assert "time" in first.channels and len(first.channels["time"]) > 0

    # the row now reads ready, and a ready session offers no retry
    row = _listed(window).index(failed_id)
    assert browser.model.session_at(row).status == "ready"
    browser.view.selectRow(row)
    assert not browser.retry_button.isEnabled() and not browser.discard_button.isEnabled()


def test_retry_is_refused_when_the_source_changed(
    qtbot: QtBot, window: MainWindow, catalogue: Catalogue, source: Path, failed_id: int
) -> None:
    with source.open("ab") as f:
        f.write(b"\n")  # one byte more: another SHA-256 than the catalogue's
    before = [(s.id, s.status, s.row_count) for s in list_sessions(catalogue.engine)]
    files_before = sorted(p.name for p in catalogue.config.data_dir.rglob("*") if p.is_file())

    browser = window.browser
    _select(qtbot, window, failed_id)
    with qtbot.waitSignal(browser.retried, timeout=60_000) as done:
        browser.retry_button.click()
    assert done.args == [failed_id, False]
    # the refresh after the refusal keeps the reason on show, with the count
    qtbot.waitUntil(lambda: browser.info.text().endswith("· 1 session(s)"), timeout=10_000)
    assert "has changed since it was imported" in browser.info.text()
    assert str(source) in browser.info.text()

    assert [(s.id, s.status, s.row_count) for s in list_sessions(catalogue.engine)] == before
    assert load_session(catalogue.engine, failed_id).summary.status == "failed"
    assert not catalogue.storage.exists(failed_id)
    assert sorted(p.name for p in catalogue.config.data_dir.rglob("*") if p.is_file()) == files_before


def test_discard_asks_and_removes_a_failed_session(
    qtbot: QtBot,
    window: MainWindow,
    catalogue: Catalogue,
    failed_id: int,
    answer: Callable[[QWidget, str], None],
) -> None:
    browser = window.browser
    _select(qtbot, window, failed_id)
    browser.discard_button.click()
    answer(browser, "Cancel")
    assert [s.id for s in list_sessions(catalogue.engine)] == [failed_id]
    browser.discard_button.click()
    with qtbot.waitSignal(browser.deleted, timeout=10_000):
        answer(browser, "Discard")
    assert list_sessions(catalogue.engine) == []
    qtbot.waitUntil(lambda: _listed(window) == [], timeout=10_000)


def test_delete_removes_the_rows_and_the_file(
    qtbot: QtBot, window: MainWindow, catalogue: Catalogue, answer: Callable[[QWidget, str], None]
) -> None:
    draft = import_file(logger_file(AIM)).draft
    sid = save_session(draft, catalogue.engine, catalogue.storage)
    path = catalogue.storage.path_for(sid)
    assert path.is_file()
    browser = window.browser
    _select(qtbot, window, sid)
    assert not browser.retry_button.isEnabled(), "a ready session has nothing to retry"
    browser.delete_button.click()
    with qtbot.waitSignal(browser.deleted, timeout=10_000):
        answer(browser, "Delete")
    assert list_sessions(catalogue.engine) == []
    assert not path.exists()
    assert not any(p.is_file() and p.suffix == ".parquet" for p in catalogue.config.data_dir.rglob("*"))


def test_start_up_line_tells_of_temp_files_removed(
    qtbot: QtBot, window: MainWindow, catalogue: Catalogue, config: Config
) -> None:
    # the temp file of a write killed half-way: its name holds a pid no live process has
    draft = import_file(logger_file(AIM)).draft
    sid = save_session(draft, catalogue.engine, catalogue.storage)
    final = catalogue.storage.path_for(sid)
    leftover = final.with_name(f".{final.name}.0.abcd1234.tmp")
    leftover.write_bytes(final.read_bytes()[:5000])
    window.open_catalogue(config)
    qtbot.waitUntil(lambda: "temp file" in window.statusBar().currentMessage(), timeout=30_000)
    message = window.statusBar().currentMessage()
    assert "1 temp file(s) of interrupted writes removed (4.9 KB freed)" in message
    assert not leftover.exists() and final.is_file()
