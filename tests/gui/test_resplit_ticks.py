"""The engineer's validity ticks stay on the laps a line moved on the map does not change.

On the real AiM export: a first edit times the laps at the engineer's lines; the engineer
ticks two laps; moving a split line again keeps both ticks (every lap starts and ends where
it did), moving the start line takes them away (every lap is cut elsewhere).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from gui.qt_helpers import drop_files, wait_read
from pytestqt.qtbot import QtBot
from realfiles import logger_file

from desktop_app.gui.main_window import MainWindow
from desktop_app.gui.track_map import TrackMapWidget

AIM = "aim_csv/aim_format_example.csv"

Points = tuple[tuple[float, float], tuple[float, float]]


def _across(track_map: TrackMapWidget, near: tuple[float, float], ahead: int) -> Points:
    """A line 20 m long across the trace, ``ahead`` trace points past the point nearest ``near``."""
    xs, ys = track_map.trace_points()
    i = int(np.argmin(np.hypot(xs - near[0], ys - near[1]))) + ahead
    dx, dy = xs[i + 1] - xs[i - 1], ys[i + 1] - ys[i - 1]
    norm = math.hypot(dx, dy)
    ax, ay = -dy / norm * 10.0, dx / norm * 10.0
    return (float(xs[i] - ax), float(ys[i] - ay)), (float(xs[i] + ax), float(ys[i] + ay))


def _mid(points: Points) -> tuple[float, float]:
    (x1, y1), (x2, y2) = points
    return 0.5 * (x1 + x2), 0.5 * (y1 + y2)


def test_ticks_survive_a_moved_split_line_and_go_with_a_moved_start_line(qtbot: QtBot, window: MainWindow) -> None:
    drop_files(window, [logger_file(AIM)])
    (entry,) = wait_read(qtbot, window, 1)
    assert entry.state == "ready" and entry.imported is not None
    track_map = window.view.preview.track_map
    qtbot.waitUntil(lambda: len(track_map.line_points()) == 3, timeout=10_000)
    model = window.view.table.model()

    def first_sector(lap: int) -> float:
        return model.laps()[lap].sectors_s[0]

    # the first edit: the laps are timed at the engineer's lines instead of the beacons
    old = first_sector(3)
    track_map.move_line(1, *_across(track_map, _mid(track_map.line_points()[1]), 12))
    qtbot.waitUntil(lambda: bool(model.laps()) and first_sector(3) != old, timeout=30_000)
    assert entry.imported.draft.lap_source == "user"
    laps = model.laps()
    assert laps[3].proposed_valid and laps[3].kind == "flying"
    model.set_user_valid(3, False)  # a track limit the proposal cannot see
    invalid = next(lap.lap_number for lap in laps if not lap.proposed_valid)
    model.set_user_valid(invalid, True)
    spans = [(lap.start_offset_s, lap.samples) for lap in laps]
    ideal = model.ideal_lap_s()

    # the split line again, further on: the same laps, new sectors, the ticks kept
    old = first_sector(3)
    track_map.move_line(1, *_across(track_map, _mid(track_map.line_points()[1]), 8))
    qtbot.waitUntil(lambda: bool(model.laps()) and first_sector(3) != old, timeout=30_000)
    after = model.laps()
    # the start line, redrawn from the map, is where it was to a nanometre: the same laps
    assert [lap.samples for lap in after] == [n for _, n in spans]
    assert [lap.start_offset_s for lap in after] == pytest.approx([t for t, _ in spans], abs=1e-6)
    assert after[3].user_valid is False and not after[3].valid
    assert after[invalid].user_valid is True and after[invalid].valid
    assert [lap.lap_number for lap in after if lap.user_valid is not None] == sorted([3, invalid])
    assert entry.imported.draft.laps == after  # the draft to save holds them too
    assert model.ideal_lap_s() == entry.imported.draft.ideal_lap_s and ideal is not None
    assert window.statusBar().currentMessage().endswith("; 2 of your 2 validity tick(s) kept")

    # the start line moved a few trace points on: every lap is cut elsewhere, no tick stays
    spans = [(lap.start_offset_s, lap.samples) for lap in after]
    track_map.move_line(0, *_across(track_map, _mid(track_map.line_points()[0]), 6))
    qtbot.waitUntil(
        lambda: bool(model.laps()) and [(lap.start_offset_s, lap.samples) for lap in model.laps()] != spans,
        timeout=30_000,
    )
    assert all(lap.user_valid is None for lap in model.laps())
    assert "; 0 of your 2 validity tick(s) kept, 2 dropped (laps now cut elsewhere" in (
        window.statusBar().currentMessage()
    )
