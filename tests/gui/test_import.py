"""Dropping real logger files: the import list, the lap table, the preview, errors, duplicates."""

from __future__ import annotations

from pathlib import Path

import pytest
from gui.qt_helpers import drop_files, wait_read
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot
from realfiles import LOGGERS, logger_file

from desktop_app.catalogue import Catalogue
from desktop_app.gui.main_window import MainWindow
from desktop_app.importing import import_file
from storage.sessions import save_session

AIM = "aim_csv/aim_format_example.csv"
TIANMA = "racechrono_csv/session_20251231_111318_tianma_lap9_v3.csv"


def _curve_labels(win: MainWindow, channel: str) -> list[str]:
    return [c.label for c in win.view.preview.plots.curves(channel)]


def test_drop_of_real_files_fills_list_table_and_plots(qtbot: QtBot, window: MainWindow) -> None:
    files = [logger_file(AIM), logger_file(TIANMA)]
    with qtbot.waitSignal(window.view.lapsShown, timeout=60_000):
        assert drop_files(window, files) == (True, True)
        assert window.imports.entries == [], "the drop handler must not start work itself"
    entries = wait_read(qtbot, window, 2)
    assert [e.path for e in entries] == files
    assert all(e.state == "ready" and e.imported is not None for e in entries)
    for entry in entries:  # each row's bar followed its file's progress to the end
        bar = window.imports.row(entry).progress
        assert (bar.maximum(), bar.value()) == (1000, 1000) and bar.isHidden()
    # the first file read is on show: its laps in the table, its best lap in the plots
    shown = window.entry
    assert shown is not None and shown.imported is not None
    draft = shown.imported.draft
    model = window.view.table.model()
    assert [model.lap_at(r).lap_number for r in range(model.rowCount())] == [lap.lap_number for lap in draft.laps]
    best = model.best_valid_lap()
    assert best is not None
    assert window.view.table.selected_laps() == [best.lap_number]
    assert window.view.preview.plotted_channels(), "no channel plotted"
    assert "speed" in window.view.preview.plotted_channels()
    assert len(window.view.preview.plots.curves("speed")) == 1
    # the row says what the file holds; the form shows what the file says
    assert f"{len(draft.laps)} laps" in window.imports.row(shown).status.text()
    assert window.form.track.text() == (draft.track or "")
    assert window.form.name.text() == draft.name


def test_selecting_laps_changes_the_overlay(qtbot: QtBot, window: MainWindow) -> None:
    with qtbot.waitSignal(window.view.lapsShown, timeout=60_000):
        drop_files(window, [logger_file(AIM)])
    table = window.view.table
    best = table.model().best_valid_lap()
    assert best is not None
    others = [lap.lap_number for lap in table.model().laps() if lap.lap_number != best.lap_number][:2]
    with qtbot.waitSignal(window.view.lapsShown, timeout=10_000) as blocker:
        table.select_laps(others)
    assert blocker.args == [others]
    labels = _curve_labels(window, "speed")
    # the two laps plus the reference (best valid lap), drawn first
    assert len(labels) == 3
    assert labels[0].startswith(f"Lap {best.lap_number}")
    assert {f"Lap {n}" for n in others} <= {label.split(" (")[0] for label in labels}
    with qtbot.waitSignal(window.view.lapsShown, timeout=10_000):
        table.select_laps([best.lap_number])
    assert len(_curve_labels(window, "speed")) == 1


def test_bad_files_show_their_error_in_the_list(qtbot: QtBot, window: MainWindow, tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.csv"
    garbage.write_text("this is not,a logger\n1,2\n", encoding="utf-8")
    empty = tmp_path / "empty.vbo"
    empty.write_bytes(b"")
    # a real VBO cut short in its data section, with one broken line
    real = logger_file("vbo/racechrono_2023Rd3_1.vbo").read_bytes()
    broken = tmp_path / "broken.vbo"
    lines = real.split(b"\n")
    cut = len(lines) // 2
    broken.write_bytes(b"\n".join(lines[:cut] + [b"this line is broken"] + lines[cut + 1 : cut + 50]))
    good = logger_file(TIANMA)
    drop_files(window, [garbage, empty, broken, good])
    entries = wait_read(qtbot, window, 4)
    by_name = {e.path.name: e for e in entries}
    for name in ("garbage.csv", "empty.vbo", "broken.vbo"):
        entry = by_name[name]
        assert entry.state == "failed", f"{name}: {entry.state}"
        assert entry.error is not None and name in entry.error
        row_text = window.imports.row(entry).status.text()
        assert row_text == entry.error
    assert "line" in (by_name["broken.vbo"].error or "")
    assert by_name[good.name].state == "ready", "a bad file must not affect the others"
    assert not [b for b in window.findChildren(QMessageBox) if b.isVisible()], "no modal storm"


def test_a_folder_drop_imports_its_logger_files(qtbot: QtBot, window: MainWindow) -> None:
    drop_files(window, [LOGGERS / "racechrono_csv"])
    entries = wait_read(qtbot, window, 3)
    assert sorted(e.path.name for e in entries) == sorted(p.name for p in (LOGGERS / "racechrono_csv").iterdir())


@pytest.mark.threaded(reason="a cancel while the read runs on its thread")
def test_cancel_stops_a_read(qtbot: QtBot, window: MainWindow) -> None:
    entry = window.imports.add_file(logger_file(AIM))
    window.imports.row(entry).cancel.click()
    qtbot.waitUntil(lambda: entry.state != "reading", timeout=30_000)
    assert entry.state == "cancelled"
    assert entry.imported is None
    assert window.imports.row(entry).status.text() == "cancelled"


def test_file_already_in_the_catalogue_is_marked(qtbot: QtBot, window: MainWindow, catalogue: Catalogue) -> None:
    path = logger_file(TIANMA)
    draft = import_file(path).draft
    draft.name = "Tianma morning"
    session_id = save_session(draft, catalogue.engine, catalogue.storage)
    drop_files(window, [path])
    [entry] = wait_read(qtbot, window, 1)
    qtbot.waitUntil(lambda: entry.duplicate is not None, timeout=10_000)
    assert entry.duplicate == f"already in catalogue: session {session_id} 'Tianma morning'"
    assert window.imports.row(entry).note.text() == entry.duplicate
