"""The GUI thread's share of a draw is bounded: one plot row per event-loop turn, points
never more than pixels, the map one item, the lap table sized from its texts.

Structural checks (the suite asserts no time; ``python -m bench gui_latency`` measures):
what each turn of the event loop is handed, not how long it takes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from gui.qt_helpers import drop_files, wait_drawn
from PySide6.QtGui import QFont, QFontMetrics
from pytestqt.qtbot import QtBot
from realfiles import logger_file
from reallaps import AIM, aim_session

from desktop_app.gui.lap_table import LapTableWidget
from desktop_app.gui.main_window import MainWindow
from desktop_app.gui.plots import PREBUILT_CURVES, PREBUILT_ROWS
from desktop_app.gui.preview import DELTA_KEY, PreviewWidget
from desktop_app.gui.track_map import BandedTrace
from desktop_app.gui.workers import QueuedRunner, Workers


def _filled(preview: PreviewWidget) -> list[str]:
    """The rows whose curves have their points and show."""
    plots = preview.plots
    return [
        key
        for key in plots.plot_keys()
        if plots.curves(key) and all(c.item.isVisible() and c.points_shown() > 0 for c in plots.curves(key))
    ]


def test_ten_laps_are_drawn_one_row_per_event_loop_turn(qtbot: QtBot, preview: PreviewWidget) -> None:
    aim = aim_session()
    laps = aim.laps[1:11]
    preview.show()
    qtbot.waitExposed(preview)
    seen: list[list[str]] = []
    # connected after the widget's own handler: records what each turn left filled
    preview.plots._fill.timeout.connect(lambda: seen.append(_filled(preview)))
    preview.show_laps(laps, laps[0], aim.units)
    keys = preview.plots.plot_keys()
    assert keys == ["speed", "rpm", "glat", "glong", DELTA_KEY]
    # the handler itself hands pyqtgraph no point: every row waits for its turn
    assert preview.plots.drawing() and _filled(preview) == []
    assert all(len(preview.plots.curves(k)) == len(laps) for k in keys)
    wait_drawn(qtbot, preview)
    # one more row per turn, top to bottom, and every row in the end
    assert seen == [keys[: i + 1] for i in range(len(keys))]
    width = preview.plots.view_width_px()
    for key in keys:
        for curve in preview.plots.curves(key):
            assert 0 < curve.points_shown() <= width


def test_a_new_draw_replaces_the_rows_still_waiting(qtbot: QtBot, preview: PreviewWidget) -> None:
    aim = aim_session()
    preview.show_laps(aim.laps[1:4], aim.laps[1], aim.units)
    assert preview.plots.drawing()
    preview.show_laps([aim.laps[5]], aim.laps[5], aim.units)  # before the first was drawn
    wait_drawn(qtbot, preview)
    for key in preview.plots.plot_keys():
        [curve] = preview.plots.curves(key)
        assert curve.label == "Lap 5 (ref)" and curve.item.isVisible()
        hidden = [i for i in preview.plots.plot(key).listDataItems() if i is not curve.item]
        assert not any(i.isVisible() for i in hidden), key  # no curve of the first draw shows
        assert preview.plots.plot(key).opacity() == 1.0


def test_an_export_draws_the_rows_still_waiting(qtbot: QtBot, preview: PreviewWidget, tmp_path: Path) -> None:
    aim = aim_session()
    preview.show_laps(aim.laps[1:3], aim.laps[1], aim.units)
    assert preview.plots.drawing()
    out = preview.export_plot(tmp_path / "laps.svg")
    assert not preview.plots.drawing()
    svg = out.read_text()
    # both laps' curves are in the file (a row still waiting would have only its axes)
    for i in range(len(preview.shown_laps())):
        assert preview.colour_of(i).name() in svg, preview.lap_label(i)


def test_curve_items_are_built_ahead_while_idle(qtbot: QtBot, preview: PreviewWidget) -> None:
    plots = preview.plots
    qtbot.waitUntil(
        lambda: len(plots._all) >= PREBUILT_ROWS and all(len(r.items) >= PREBUILT_CURVES for r in plots._all)
    )
    aim = aim_session()
    before = [len(r.items) for r in plots._all]
    preview.show_laps(aim.laps[1:11], aim.laps[1], aim.units)
    assert [len(r.items) for r in plots._all] == before  # ten laps drawn with no new item


def test_the_map_trace_is_one_item_with_at_most_a_point_per_pixel(qtbot: QtBot, preview: PreviewWidget) -> None:
    aim = aim_session()
    preview.show()
    qtbot.waitExposed(preview)
    preview.show_laps(aim.laps[1:11], aim.laps[1], aim.units)
    qtbot.waitUntil(lambda: not preview.map_pending())
    items = preview.track_map._plot.listDataItems()
    traces = [i for i in preview.track_map._plot.getViewBox().addedItems if isinstance(i, BandedTrace)]
    assert len(traces) == 1 and not [i for i in items if i.isVisible() and i.opts.get("connect") == "pairs"]
    assert 0 < preview.track_map.points_shown() <= preview.track_map.view_width_px()
    # the view is fitted to the trace
    (x0, x1), (y0, y1) = preview.track_map._plot.getViewBox().viewRange()
    xs, ys = preview.track_map.trace_points()
    assert x0 <= float(np.min(xs)) and float(np.max(xs)) <= x1
    assert y0 <= float(np.min(ys)) and float(np.max(ys)) <= y1


def test_lap_table_columns_fit_their_widest_text(qtbot: QtBot) -> None:
    aim = aim_session()
    table = LapTableWidget()
    qtbot.addWidget(table)
    table.model().set_laps(aim.records)
    bold = QFont(table.view().font())
    bold.setBold(True)
    metrics = QFontMetrics(bold)
    header = table.view().horizontalHeader()
    model = table.model()
    for column in range(model.columnCount()):
        widest = max(metrics.horizontalAdvance(model.text(row, column)) for row in range(model.rowCount()))
        assert header.sectionSize(column) > widest, model.columns()[column]
    # the speed unit changes the max speed texts and title: the column follows
    column = model.column("max_speed")
    table.model().set_speed_unit("mph")
    title = str(model.headerData(column, header.orientation()))
    assert header.sectionSize(column) > metrics.horizontalAdvance(title)


def test_a_selection_is_drawn_in_the_next_turn_and_a_burst_of_them_once(qtbot: QtBot, window: MainWindow) -> None:
    with qtbot.waitSignal(window.view.lapsShown, timeout=60_000):
        drop_files(window, [logger_file(AIM)])
    table = window.view.table
    numbers = [lap.lap_number for lap in table.model().laps() if lap.lap_time_s is not None]
    drawn: list[list[int]] = []
    window.view.lapsShown.connect(drawn.append)
    for count in (2, 3, 4):  # three clicks before the event loop turns
        table.select_laps(numbers[:count])
    assert drawn == []  # the handler only changed the selection: nothing drawn yet
    qtbot.waitUntil(lambda: bool(drawn))
    qtbot.wait(50)
    assert drawn == [numbers[:4]]  # the last selection, drawn once
    wait_drawn(qtbot, window.view.preview)
    labels = {c.label.removesuffix(" (ref)") for c in window.view.preview.plots.curves("speed")}
    assert {f"Lap {n}" for n in numbers[:4]} <= labels


def test_a_listing_of_a_thousand_sessions_asks_for_the_cells_on_screen_only(qtbot: QtBot) -> None:
    from datetime import datetime

    from PySide6.QtCore import QModelIndex, QPersistentModelIndex
    from PySide6.QtWidgets import QTableView

    from desktop_app.gui.sessions_browser import COLUMNS, SessionsBrowser
    from storage.db.catalog import SessionSummary

    browser = SessionsBrowser(Workers(reads=QueuedRunner(), writes=QueuedRunner()))
    qtbot.addWidget(browser)
    browser.resize(1000, 500)
    browser.show()
    qtbot.waitExposed(browser)
    asked: list[int] = []
    model = browser.model
    real = type(model).data

    def counting(index: QModelIndex | QPersistentModelIndex, role: int = 0) -> object:
        asked.append(role)
        return real(model, index, role)

    model.data = counting  # type: ignore[method-assign]
    names = ["Spa", "Nürburgring Nordschleife 24 h qualifying, car 911 with the long name"]
    sessions = [
        SessionSummary(
            i, names[i == 777], f"Driver {i % 7}", "Spa", "GT3", datetime(2026, 5, 1, 10, i % 60),
            datetime(2026, 5, 1), "ready", None, 20, 137.5, f"{i}.parquet", 1000, "vbo",
        )
        for i in range(1000)
    ]  # fmt: skip
    model.set_sessions(sessions)
    qtbot.wait(50)  # the view paints what shows
    view: QTableView = browser.view
    visible = view.viewport().height() // max(view.rowHeight(0), 1) + 2
    # the header no longer measures every cell: what is asked for is the visible rows' cells
    assert len(asked) <= visible * len(COLUMNS) * 20, len(asked)
    header = view.horizontalHeader()
    name = COLUMNS.index("name")
    width = view.fontMetrics().horizontalAdvance(model.text(777, name))
    assert header.sectionSize(name) > width  # the long name of a row far off screen fits
