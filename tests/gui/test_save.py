"""Save: catalogue rows and the Parquet file, a GUI that keeps ticking, Retry/Discard, duplicates."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from gui.qt_helpers import drop_files, question_box, wait_read, wait_state
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot
from realfiles import logger_file

from desktop_app.catalogue import Catalogue
from desktop_app.gui.latency import TickMonitor
from desktop_app.gui.main_window import MainWindow
from storage.db.catalog import list_sessions, load_session
from storage.parquet import ParquetTelemetryStorage
from storage.types import Progress, SessionTelemetry

AIM = "aim_csv/aim_format_example.csv"
BIG = ["aim_csv/aim_format_example.csv", "vbo/racechrono_2023Rd3_1.vbo", "vbo/25IR05_RdAm_FP1_Run05_TL.vbo"]


class FailingStorage(ParquetTelemetryStorage):
    """Real Parquet storage whose first ``failures`` writes fail like a full disk."""

    def __init__(self, root: Path, failures: int) -> None:
        super().__init__(root)
        self.failures = failures

    def write(self, telemetry: SessionTelemetry, progress: Progress | None = None) -> Path:
        if self.failures > 0:
            self.failures -= 1
            raise OSError(28, "No space left on device")
        return super().write(telemetry, progress)


def test_save_writes_catalogue_rows_and_the_parquet_file(
    qtbot: QtBot, window: MainWindow, catalogue: Catalogue
) -> None:
    drop_files(window, [logger_file(p) for p in BIG])
    entries = wait_read(qtbot, window, len(BIG))
    qtbot.waitUntil(lambda: window.view.preview.plotted_channels() != [], timeout=10_000)
    assert all(e.state == "ready" for e in entries)

    window.save_current()  # the file on show, then the others straight from the list
    for entry in entries:
        window.save_flow.save(entry)
    for entry in entries:
        wait_state(qtbot, entry, ("saved", "save-failed"))
    for entry in entries:
        assert entry.state == "saved" and entry.session_id is not None and entry.imported is not None
        draft = entry.imported.draft
        saved = load_session(catalogue.engine, entry.session_id)
        assert saved.summary.status == "ready"
        assert saved.summary.name == draft.name
        assert [lap.lap_number for lap in saved.laps] == [lap.lap_number for lap in draft.laps]
        assert [lap.lap_time_s for lap in saved.laps] == [lap.lap_time_s for lap in draft.laps]
        telemetry = catalogue.storage.read(entry.session_id)
        assert telemetry is not None
        assert telemetry.total_points == draft.telemetry.total_points
        for got, want in zip(telemetry.laps, draft.telemetry.laps, strict=True):
            np.testing.assert_array_equal(got.channels["time"], want.channels["time"])
            if "speed" in want.channels:
                np.testing.assert_array_equal(got.channels["speed"], want.channels["speed"])
        path = str(catalogue.storage.path_for(entry.session_id))
        assert path in window.imports.row(entry).status.text(), "success must show where the file went"
    # the status-bar progress goes away once the write thread is idle
    qtbot.waitUntil(lambda: not window.workers.writing, timeout=10_000)
    assert window.save_flow.bar.isHidden()


def test_form_edits_are_saved(qtbot: QtBot, window: MainWindow, catalogue: Catalogue) -> None:
    with qtbot.waitSignal(window.view.lapsShown, timeout=60_000):
        drop_files(window, [logger_file(AIM)])
    [entry] = window.imports.entries
    window.form.name.setText("Kart test, dry")
    window.form.name.textEdited.emit("Kart test, dry")
    window.form.driver.setText("A. Driver")
    window.form.driver.textEdited.emit("A. Driver")
    lap = window.view.table.model().lap_at(1)
    window.view.table.model().set_user_valid(lap.lap_number, not lap.valid)
    window.save_current()
    wait_state(qtbot, entry, ("saved", "save-failed"))
    assert entry.session_id is not None
    saved = load_session(catalogue.engine, entry.session_id)
    assert (saved.summary.name, saved.summary.driver) == ("Kart test, dry", "A. Driver")
    saved_lap = next(x for x in saved.laps if x.lap_number == lap.lap_number)
    assert saved_lap.user_valid is lap.user_valid is not None
    # the driver now completes from the catalogue
    qtbot.waitUntil(lambda: "A. Driver" in window.form.drivers.stringList(), timeout=10_000)
    completer = window.form.driver.completer()
    completer.setCompletionPrefix("a. d")
    assert completer.currentCompletion() == "A. Driver"


def test_failed_save_offers_retry_and_retry_succeeds(qtbot: QtBot, window: MainWindow, catalogue: Catalogue) -> None:
    failing = FailingStorage(catalogue.config.data_dir, failures=1)
    window.set_catalogue(Catalogue(catalogue.config, catalogue.engine, failing))
    with qtbot.waitSignal(window.view.lapsShown, timeout=60_000):
        drop_files(window, [logger_file(AIM)])
    [entry] = window.imports.entries
    window.save_current()
    wait_state(qtbot, entry, ("saved", "save-failed"))
    assert entry.state == "save-failed"
    row = window.imports.row(entry)
    assert row.retry.isVisibleTo(window) and row.discard.isVisibleTo(window)
    assert "No space left on device" in row.status.text()
    assert entry.session_id is not None
    assert load_session(catalogue.engine, entry.session_id).summary.status == "failed"
    assert not failing.exists(entry.session_id)

    row.retry.click()
    assert wait_state(qtbot, entry, ("saved", "save-failed")) == "saved"
    assert not row.retry.isVisibleTo(window)
    assert load_session(catalogue.engine, entry.session_id).summary.status == "ready"
    assert entry.imported is not None
    telemetry = failing.read(entry.session_id)
    assert telemetry is not None and telemetry.total_points == entry.imported.draft.telemetry.total_points


def test_discard_after_a_failed_save_removes_the_session(
    qtbot: QtBot, window: MainWindow, catalogue: Catalogue
) -> None:
    window.set_catalogue(Catalogue(catalogue.config, catalogue.engine, FailingStorage(catalogue.config.data_dir, 5)))
    with qtbot.waitSignal(window.view.lapsShown, timeout=60_000):
        drop_files(window, [logger_file(AIM)])
    [entry] = window.imports.entries
    window.save_current()
    wait_state(qtbot, entry, ("saved", "save-failed"))
    failed_id = entry.session_id
    assert failed_id is not None
    window.imports.row(entry).discard.click()
    qtbot.waitUntil(lambda: entry.state == "ready", timeout=10_000)
    assert [s.id for s in list_sessions(catalogue.engine)] == []
    assert entry.imported is not None, "the draft stays in memory after a discard"
    assert window.save_button.isEnabled()


def test_duplicate_asks_and_save_anyway_makes_a_second_session(
    qtbot: QtBot, window: MainWindow, catalogue: Catalogue, answer: Callable[[QWidget, str], None]
) -> None:
    path = logger_file(AIM)
    with qtbot.waitSignal(window.view.lapsShown, timeout=60_000):
        drop_files(window, [path])
    [first] = window.imports.entries
    window.save_current()
    wait_state(qtbot, first, ("saved",))
    second = window.imports.add_file(path)
    wait_state(qtbot, second, ("ready",))
    window.imports.select(second)
    window.save_current()
    answer(window, "Save anyway")
    wait_state(qtbot, second, ("saved",))
    assert second.session_id is not None and second.session_id != first.session_id
    assert len(list_sessions(catalogue.engine)) == 2


def test_closing_during_a_save_asks_then_waits(
    qtbot: QtBot, window: MainWindow, catalogue: Catalogue, answer: Callable[[QWidget, str], None]
) -> None:
    window.show()
    with qtbot.waitSignal(window.view.lapsShown, timeout=60_000):
        drop_files(window, [logger_file(AIM)])
    [entry] = window.imports.entries
    window.save_current()
    assert window.workers.writing
    assert not window.close(), "the window must not close in the middle of a save"
    answer(window, "Close after saving")
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=60_000)
    assert entry.state == "saved" and entry.session_id is not None
    assert load_session(catalogue.engine, entry.session_id).summary.status == "ready"
    assert question_box(window) is None


@pytest.mark.threaded(reason="asserts which thread ran each phase, and that the GUI turns meanwhile")
def test_reading_saving_and_reopening_run_off_the_gui_thread(
    qtbot: QtBot, window: MainWindow, catalogue: Catalogue, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The heavy work of each phase (reading a file, writing its session, reading a saved
    lap back) runs on a worker thread, and the GUI thread's event loop keeps turning while it
    does. How long the GUI thread stalls is measured by bench/gui_latency.py, not asserted
    here: a wall-clock bound fails whenever the machine is busy."""
    gui_thread = threading.get_ident()
    threads: dict[str, set[int]] = {"read": set(), "write": set(), "read_lap": set()}
    reader = window.imports.reader

    def recording_reader(*args: Any, **kwargs: Any) -> Any:
        threads["read"].add(threading.get_ident())
        return reader(*args, **kwargs)

    def recorded(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            threads[name].add(threading.get_ident())
            return func(*args, **kwargs)

        return call

    window.imports.reader = recording_reader
    monkeypatch.setattr(catalogue.storage, "write", recorded("write", catalogue.storage.write))
    monkeypatch.setattr(catalogue.storage, "read_lap", recorded("read_lap", catalogue.storage.read_lap))
    window.show()
    monitor = TickMonitor(5)
    monitor.start()
    drop_files(window, [logger_file(p) for p in BIG])
    entries = wait_read(qtbot, window, len(BIG))
    qtbot.waitUntil(lambda: window.view.preview.plotted_channels() != [], timeout=10_000)
    assert all(e.state == "ready" for e in entries)
    for entry in entries:
        window.save_flow.save(entry)
    for entry in entries:
        wait_state(qtbot, entry, ("saved", "save-failed"))
    assert all(e.state == "saved" for e in entries)
    sid = entries[0].session_id
    assert sid is not None
    with qtbot.waitSignal(window.view.lapsShown, timeout=20_000):
        window.open_session(sid)
    monitor.stop()
    assert monitor.ticks > 0, "the GUI thread's timer never ran while the files were read and saved"
    for phase, seen in threads.items():
        assert seen, f"no {phase} call was recorded"
        assert gui_thread not in seen, f"{phase} ran on the GUI thread"
