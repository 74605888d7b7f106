"""Timing lines on the track map: drawn, moved by the engineer, and the laps follow.

On the real AiM export (beacon laps, automatic sectors): the map shows a provisional
start/finish line at the start of the lap on show and the two automatic split lines;
moving one re-splits the laps on a worker (the draft in memory, or the saved session's
Parquet file and catalogue rows) and the lap table shows the new sectors.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from gui.qt_helpers import drop_files, wait_read, wait_state
from pytestqt.qtbot import QtBot
from realfiles import logger_file

import desktop_app.gui.resplit_flow as resplit_flow
from desktop_app.catalogue import Catalogue
from desktop_app.gui.main_window import MainWindow
from desktop_app.gui.track_map import TrackMapWidget
from storage.db.catalog import load_session

AIM = "aim_csv/aim_format_example.csv"


def _on_worker(monkeypatch: pytest.MonkeyPatch, name: str) -> list[bool]:
    """Wrap the flow's re-split job ``name``: records, per call, whether it ran on the GUI thread."""
    seen: list[bool] = []
    real: Callable[..., Any] = getattr(resplit_flow, name)

    def job(*args: Any, **kwargs: Any) -> Any:
        seen.append(threading.current_thread() is threading.main_thread())
        return real(*args, **kwargs)

    monkeypatch.setattr(resplit_flow, name, job)
    return seen


def _open_aim(qtbot: QtBot, window: MainWindow) -> TrackMapWidget:
    drop_files(window, [logger_file(AIM)])
    (entry,) = wait_read(qtbot, window, 1)
    assert entry.state == "ready"
    track_map = window.view.preview.track_map
    # the provisional start line and the file's two automatic split lines
    qtbot.waitUntil(lambda: len(track_map.line_points()) == 3, timeout=10_000)
    return track_map


def _across(track_map: TrackMapWidget, near: tuple[float, float], ahead: int) -> tuple[tuple[float, float], ...]:
    """A line 20 m long across the trace, ``ahead`` trace points past the point nearest ``near``."""
    xs, ys = track_map.trace_points()
    i = int(np.argmin(np.hypot(xs - near[0], ys - near[1]))) + ahead
    dx, dy = xs[i + 1] - xs[i - 1], ys[i + 1] - ys[i - 1]
    norm = math.hypot(dx, dy)
    ax, ay = -dy / norm * 10.0, dx / norm * 10.0
    return (xs[i] - ax, ys[i] - ay), (xs[i] + ax, ys[i] + ay)


def _mid(points: tuple[tuple[float, float], tuple[float, float]]) -> tuple[float, float]:
    (x1, y1), (x2, y2) = points
    return 0.5 * (x1 + x2), 0.5 * (y1 + y2)


@pytest.mark.threaded(reason="asserts the split ran on a worker, not the GUI thread")
def test_moving_a_split_line_on_the_map_changes_the_lap_table(
    qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran_on_gui = _on_worker(monkeypatch, "resplit_draft")
    track_map = _open_aim(qtbot, window)
    assert [x.kind for x in track_map.lines()] == ["start", "split", "split"]
    assert [x.origin for x in track_map.lines()] == ["provisional", "auto", "auto"]
    model = window.view.table.model()
    before = {lap.lap_number: lap for lap in model.laps()}
    assert before[3].lap_time_s == pytest.approx(58.656, abs=0.001)  # the file's beacons
    old_s1, old_s2 = before[3].sectors_s[0], before[3].sectors_s[1]
    old_ideal = window.view.table.ideal_label.text()
    window.view.table.select_laps([3, 11])  # an overlay of two laps

    # drag the first split line about a tenth of a lap further along the track
    a, b = _across(track_map, _mid(track_map.line_points()[1]), 12)
    track_map.move_line(1, a, b)
    qtbot.waitUntil(lambda: bool(model.laps()) and model.laps()[3].sectors_s[:1] != [old_s1], timeout=30_000)

    assert ran_on_gui == [False]  # the split ran once, on a worker
    entry = window.entry
    assert entry is not None and entry.imported is not None
    assert entry.imported.draft.lap_source == "user"
    assert entry.imported.draft.sector_source == "user"
    after = {lap.lap_number: lap for lap in model.laps()}
    assert set(after) == set(before)  # the same 16 laps, now timed at the provisional line
    lap3 = after[3]
    # later split line: a longer first sector, a shorter second one; they still add up
    assert lap3.sectors_s[0] > old_s1 + 1.0
    assert lap3.sectors_s[1] < old_s2 - 1.0
    assert sum(lap3.sectors_s) == pytest.approx(lap3.lap_time_s, abs=1e-6)
    # the GPS line where the lap on show began agrees with the beacons to a few hundredths
    assert lap3.lap_time_s == pytest.approx(58.656, abs=0.1)
    assert window.view.table.ideal_label.text() != old_ideal
    assert model.ideal_lap_s() == pytest.approx(entry.imported.draft.ideal_lap_s)
    # the map now shows the engineer's lines where they were left
    assert [x.origin for x in track_map.lines()] == ["user", "user", "user"]
    assert _mid(track_map.line_points()[1]) == pytest.approx(_mid((a, b)), abs=0.5)
    # the overlay follows: the plotted laps are the new split's telemetry
    assert window.view.table.selected_laps() == [3, 11]  # the same overlay, on the new laps
    shown = window.view.preview.shown_laps()
    assert sorted(lap.lap_number for lap in shown) == [3, 11, 12]  # and the reference, lap 12
    assert all(lap is entry.imported.draft.telemetry.laps[lap.lap_number] for lap in shown)


def test_a_line_nowhere_near_the_track_changes_nothing(qtbot: QtBot, window: MainWindow) -> None:
    track_map = _open_aim(qtbot, window)
    model = window.view.table.model()
    laps = model.laps()
    points = track_map.line_points()
    entry = window.entry
    assert entry is not None and entry.imported is not None
    draft = entry.imported.draft

    track_map.move_line(2, (5000.0, 5000.0), (5020.0, 5000.0))  # 5 km away
    qtbot.waitUntil(lambda: "nowhere near" in window.statusBar().currentMessage(), timeout=30_000)
    assert "split line 2" in window.statusBar().currentMessage()
    assert "nothing changed" in window.statusBar().currentMessage()
    assert model.laps() == laps and entry.imported.draft is draft
    # back where it was
    assert np.ravel(track_map.line_points()) == pytest.approx(np.ravel(points), abs=1e-6)


def test_placing_a_new_start_line_with_two_clicks(qtbot: QtBot, window: MainWindow) -> None:
    track_map = _open_aim(qtbot, window)
    model = window.view.table.model()
    out_lap = model.laps()[0].samples
    track_map.new_start_button.click()
    assert track_map.placing() == "start" and not track_map.hint.isHidden()
    a, b = _across(track_map, _mid(track_map.line_points()[0]), 6)  # a little past the old start
    track_map.place_click(*a)
    assert track_map.placing() == "start"
    track_map.place_click(*b)
    assert track_map.placing() is None and track_map.hint.isHidden()
    qtbot.waitUntil(lambda: bool(model.laps()) and model.laps()[0].samples != out_lap, timeout=30_000)
    # the line is further along: the out-lap ends later
    assert model.laps()[0].samples > out_lap
    assert window.entry is not None and window.entry.imported is not None
    assert window.entry.imported.draft.lap_source == "user"


@pytest.mark.threaded(reason="asserts the re-split ran on the write thread")
def test_moving_a_line_of_a_saved_session_rewrites_it(
    qtbot: QtBot, window: MainWindow, catalogue: Catalogue, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran_on_gui = _on_worker(monkeypatch, "resplit_session")
    _open_aim(qtbot, window)
    entry = window.entry
    assert entry is not None
    window.save_current()
    wait_state(qtbot, entry, ("saved", "save-failed"))
    assert entry.state == "saved" and entry.session_id is not None
    sid = entry.session_id
    before = load_session(catalogue.engine, sid)
    window.open_session(sid)
    qtbot.waitUntil(lambda: window.saved is not None and window.view.session_id == sid, timeout=10_000)
    track_map = window.view.preview.track_map
    qtbot.waitUntil(lambda: len(track_map.line_points()) == 3, timeout=10_000)
    model = window.view.table.model()
    old_s1 = model.laps()[3].sectors_s[0]

    a, b = _across(track_map, _mid(track_map.line_points()[1]), 12)
    track_map.move_line(1, a, b)
    qtbot.waitUntil(lambda: bool(model.laps()) and model.laps()[3].sectors_s[:1] != [old_s1], timeout=30_000)

    assert ran_on_gui == [False]  # on the write thread
    after = load_session(catalogue.engine, sid)
    assert after.laps_revision > before.laps_revision
    assert after.lap_source == "user"
    assert [lap.sectors_s for lap in after.laps] == [lap.sectors_s for lap in model.laps()]
    # every sample still in exactly one lap
    assert sum(lap.samples for lap in after.laps) == sum(lap.samples for lap in before.laps)
    assert window.saved is not None and window.saved.laps_revision == after.laps_revision
    assert "saved (revision" in window.statusBar().currentMessage()


def test_two_mouse_clicks_on_the_map_place_a_split_line(qtbot: QtBot, window: MainWindow) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    window.show()
    qtbot.waitExposed(window)
    track_map = _open_aim(qtbot, window)
    model = window.view.table.model()
    assert len(model.laps()[3].sectors_s) == 3
    a, b = _across(track_map, _mid(track_map.line_points()[1]), -15)  # between S/F and S1
    track_map.add_split_button.click()
    for x, y in (a, b):
        target, pixel = track_map.pixel_of(float(x), float(y))
        QTest.mouseClick(target, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pixel)
    assert track_map.placing() is None
    qtbot.waitUntil(lambda: bool(model.laps()) and len(model.laps()[3].sectors_s) == 4, timeout=30_000)
    lap3 = model.laps()[3]
    assert sum(lap3.sectors_s) == pytest.approx(lap3.lap_time_s, abs=1e-6)
    assert [x.kind for x in track_map.lines()] == ["start", "split", "split", "split"]
    # the new line is the first one driven after the start: labelled S1, the others follow
    assert track_map.line_labels() == ["S/F", "S2", "S3", "S1"]
