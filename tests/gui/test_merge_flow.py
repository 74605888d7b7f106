"""Merging two files of one run from the window: the merged row, its draft on show, Save,
the offset adjusted by hand, Add source, and files of different runs refused in the row.

The two-format case is cut from the real AiM log (tests/mergecases.py): a 10 Hz GPS VBO and
a 20 Hz MoTeC CSV that starts 3.35 s later on a clock running 200 ppm fast.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from gui.qt_helpers import drop_files, wait_read, wait_state
from mergecases import MergeCase, build_case, original
from PySide6.QtWidgets import QDialogButtonBox, QFileDialog
from pytestqt.qtbot import QtBot
from realfiles import logger_file

from desktop_app.catalogue import Catalogue
from desktop_app.gui.import_panel import ImportEntry
from desktop_app.gui.main_window import MainWindow
from desktop_app.gui.merge_flow import MergedFile
from desktop_app.laps import analyse_laps
from storage.db.catalog import load_session

#: the ECU file's sample period: the offset must be found within one sample
ECU_PERIOD = 0.05
AIM = "aim_csv/aim_format_example.csv"
GATES_VBO = "vbo/racechrono_2023Rd3_1.vbo"


def _row_offset(window: MainWindow, entry: ImportEntry) -> float:
    """The offset the merged row's text states."""
    match = re.search(r"offset ([+-]\d+\.\d+) s", window.imports.row(entry).status.text())
    assert match is not None, window.imports.row(entry).status.text()
    return float(match.group(1))


def _drop_and_select(qtbot: QtBot, window: MainWindow, paths: list[Path]) -> list[ImportEntry]:
    drop_files(window, paths)
    entries = wait_read(qtbot, window, len(paths))
    assert all(e.state == "ready" for e in entries), [e.error for e in entries]
    window.imports.list.selectAll()
    return entries


def _merge(qtbot: QtBot, window: MainWindow) -> ImportEntry:
    """Trigger the menu action on the selection; the merged entry once it is in the list."""
    action = window.merge_flow.merge_action
    assert action.isEnabled()
    with qtbot.waitSignal(window.merge_flow.mergeReady, timeout=60_000) as ready:
        action.trigger()
    entry = ready.args[0]
    assert isinstance(entry, ImportEntry)
    return entry


def _case(tmp_path: Path) -> MergeCase:
    return build_case(tmp_path / "case", ecu_format="motec")


def test_merge_two_dropped_files_shows_and_saves_one_session(
    qtbot: QtBot, window: MainWindow, catalogue: Catalogue, tmp_path: Path
) -> None:
    case = _case(tmp_path)
    # the ECU file first: the merge still takes the file with a position as the primary
    _drop_and_select(qtbot, window, [case.ecu, case.gps])
    assert window.merge_flow.merge_action in window.actions_.file_menu.actions()
    assert window.merge_flow.merge_action in window.imports.list.actions()  # the context menu
    merged = _merge(qtbot, window)

    row = window.imports.row(merged)
    assert row.name.text() == "<b>merged: gps.vbo + ecu.csv</b>"
    assert abs(_row_offset(window, merged) - case.offset_s) <= ECU_PERIOD
    drift = re.search(r"drift ([+-]\d+) ppm", row.status.text())
    assert drift is not None and abs(int(drift.group(1)) - case.drift_ppm) < 20
    assert "correlation of speed" in row.status.text()
    confidence = re.search(r"confidence (\d\.\d\d)", row.status.text())
    assert confidence is not None and float(confidence.group(1)) >= 0.9
    assert row.status.text().count("drift of") == 1  # the merge's warning once, not twice

    # its draft is on show like any imported file's: the merged laps in the table and plots
    qtbot.waitUntil(lambda: window.entry is merged, timeout=10_000)
    qtbot.waitUntil(lambda: "speed" in window.view.preview.plotted_channels(), timeout=10_000)
    assert isinstance(merged.imported, MergedFile)
    draft = merged.imported.draft
    want = analyse_laps(original()).laps
    model = window.view.table.model()
    shown = [model.lap_at(r) for r in range(model.rowCount())]
    assert len(shown) == len(want) == 16
    assert [lap.lap_number for lap in shown] == [lap.lap_number for lap in draft.laps]
    got_times = np.array([lap.lap_time_s or np.nan for lap in shown])
    want_times = np.array([lap.lap_time_s or np.nan for lap in want])
    np.testing.assert_allclose(got_times, want_times, atol=2 * ECU_PERIOD)
    assert {"rpm", "lat", "long"} <= set(draft.telemetry.units)  # engine and position in one draft
    assert "merged: gps.vbo + ecu.csv" in window.form.heading.text()

    assert window.save_button.isEnabled()
    window.save_current()
    wait_state(qtbot, merged, ("saved", "save-failed"))
    assert merged.state == "saved" and merged.session_id is not None, merged.error
    saved = load_session(catalogue.engine, merged.session_id)
    assert saved.summary.source_type == "merged"
    assert [s.file_name for s in saved.sources] == ["gps.vbo", "ecu.csv"]
    assert [s.source_type for s in saved.sources] == ["vbo", "motec"]
    gps_off, ecu_off = (s.time_offset_s for s in saved.sources)
    assert abs((ecu_off - gps_off) - case.offset_s) <= ECU_PERIOD
    assert len(saved.laps) == 16


def test_adjusting_the_offset_merges_again_with_it(qtbot: QtBot, window: MainWindow, tmp_path: Path) -> None:
    case = _case(tmp_path)
    _drop_and_select(qtbot, window, [case.gps, case.ecu])
    first = _merge(qtbot, window)
    assert window.imports.current() is first
    flow = window.merge_flow
    assert flow.adjust_action.isEnabled()
    flow.adjust_action.trigger()  # opens the dialog and returns: no nested event loop
    dialog = flow.dialog
    assert dialog is not None and dialog.isVisible()
    assert dialog.channel == "speed"
    chosen = round(case.offset_s + 1.5, 3)
    dialog.spin.setValue(chosen)
    with qtbot.waitSignal(flow.mergeReady, timeout=60_000) as ready:
        buttons = dialog.findChild(QDialogButtonBox)
        assert buttons is not None
        buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    second = ready.args[0]
    assert isinstance(second, ImportEntry) and isinstance(second.imported, MergedFile)
    alignment = second.imported.merged.result.alignment
    assert alignment.method == "manual" and abs(alignment.offset_s - chosen) < 1e-9
    assert abs(_row_offset(window, second) - chosen) < 1e-3 and "manual" in window.imports.row(second).status.text()
    # the new merge replaces the old row and is on show
    assert not window.imports.has(first) and window.imports.has(second)
    qtbot.waitUntil(lambda: window.entry is second, timeout=10_000)

    # OK without a change does not merge again
    flow.adjust_action.trigger()
    dialog = flow.dialog
    assert dialog is not None
    count = len(window.imports.entries)
    dialog.accept()
    qtbot.waitUntil(lambda: flow.dialog is None, timeout=5_000)
    assert len(window.imports.entries) == count


def test_add_source_merges_a_chosen_file_into_the_draft_on_show(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    case = _case(tmp_path)
    with qtbot.waitSignal(window.view.lapsShown, timeout=60_000):
        drop_files(window, [case.gps])
    gps_entry = wait_read(qtbot, window, 1)[0]
    assert window.entry is gps_entry
    flow = window.merge_flow
    flow.update_actions()
    assert flow.add_source_action.isEnabled() and not flow.merge_action.isEnabled()
    flow.add_source_action.trigger()
    dialogs = [d for d in window.findChildren(QFileDialog) if d.isVisible()]
    assert len(dialogs) == 1
    with qtbot.waitSignal(flow.mergeReady, timeout=60_000) as ready:
        dialogs[0].selectFile(str(case.ecu))
        dialogs[0].accept()
    merged = ready.args[0]
    assert flow.pairs[merged.key] == (case.gps, case.ecu)
    assert abs(_row_offset(window, merged) - case.offset_s) <= ECU_PERIOD
    qtbot.waitUntil(lambda: window.entry is merged, timeout=10_000)
    # a merged draft is not a file to add sources to
    flow.update_actions()
    assert not flow.add_source_action.isEnabled()


def test_files_of_different_runs_are_refused_in_the_row(qtbot: QtBot, window: MainWindow) -> None:
    vbo, aim = logger_file(GATES_VBO), logger_file(AIM)
    _drop_and_select(qtbot, window, [vbo, aim])
    flow = window.merge_flow
    assert flow.merge_action.isEnabled()
    count = len(window.imports.entries)
    flow.merge_action.trigger()
    qtbot.waitUntil(lambda: len(window.imports.entries) == count + 1, timeout=5_000)
    refused = window.imports.entries[-1]
    wait_state(qtbot, refused, ("failed", "ready"))
    assert refused.state == "failed" and refused.imported is None
    text = window.imports.row(refused).status.text()
    # two real files of different days (2023-06-03 in Japan, 2022-06-19 in Saskatchewan)
    assert text.startswith(f"cannot merge {vbo.name} with {aim.name}: different runs (date test)")
    assert refused.error == text
    # both files are still there to be shown and saved on their own
    assert all(e.state == "ready" for e in window.imports.entries[:count])


def test_swap_merges_again_the_other_way_round(qtbot: QtBot, window: MainWindow, tmp_path: Path) -> None:
    case = _case(tmp_path)
    gps_entry, _ecu_entry = _drop_and_select(qtbot, window, [case.gps, case.ecu])
    first = _merge(qtbot, window)
    flow = window.merge_flow
    assert flow.pairs[first.key] == (case.gps, case.ecu)
    # dropping the GPS file again shows its own row, not the merge that starts with it
    drop_files(window, [case.gps])
    qtbot.waitUntil(lambda: window.imports.current() is gps_entry, timeout=5_000)
    assert len(window.imports.entries) == 3
    window.imports.select(first)
    assert flow.swap_action.isEnabled()
    with qtbot.waitSignal(flow.mergeReady, timeout=60_000) as ready:
        flow.swap_action.trigger()
    swapped = ready.args[0]
    assert flow.pairs[swapped.key] == (case.ecu, case.gps)
    assert window.imports.row(swapped).name.text() == "<b>merged: ecu.csv + gps.vbo</b>"
    # on the ECU file's clock the GPS file starts that much earlier
    assert abs(_row_offset(window, swapped) + case.offset_s) <= ECU_PERIOD
    assert not window.imports.has(first)
