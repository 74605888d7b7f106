"""What a user saw go wrong in the preview, on real files: each test reproduces one report."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from gui.qt_helpers import drop_files, wait_drawn, wait_read, wait_state
from PySide6.QtCore import QPoint, Qt
from pytestqt.qtbot import QtBot
from realfiles import logger_file
from reallaps import aim_session, motec_session, session

from desktop_app.gui.main_window import MainWindow
from desktop_app.gui.preview import DELTA_KEY, PreviewWidget

WINDARAB = "bosch_windarab_txt/sim_data.txt"  # rpm only, no distance
AIM = "aim_csv/aim_format_example.csv"


def _shown_in_view(preview: PreviewWidget, key: str) -> None:
    """Every curve of a row hands pyqtgraph real points, and the y range covers them."""
    (_, _), (y0, y1) = preview.plots.plot(key).getViewBox().viewRange()
    for curve in preview.plots.curves(key):
        xs, ys = curve.item.getData()
        assert xs is not None and len(xs) > 100, (key, curve.label)
        assert y0 <= float(np.nanmax(ys)) <= y1 and y0 <= float(np.nanmin(ys)) <= y1, (key, y0, y1)
        assert float(np.nanmax(ys)) == float(np.nanmax(curve.y)), "the row's extremes are drawn"


def test_a_row_reused_from_another_file_draws_all_its_points(qtbot: QtBot, preview: PreviewWidget) -> None:
    for relative in (WINDARAB, AIM):
        real = session(relative)
        lap = max(real.laps, key=len)
        preview.show_laps([lap], lap, real.units)
        preview.grab()
        wait_drawn(qtbot, preview)
        assert "rpm" in preview.plotted_channels()
        _shown_in_view(preview, "rpm")


def test_a_file_without_distance_opens_on_time_with_its_channels(preview: PreviewWidget) -> None:
    real = session(WINDARAB)
    [lap] = real.laps
    assert not np.isfinite(lap.channels["distance"]).any()
    preview.show_laps([lap], lap, real.units)
    assert preview.x_axis() == "time"
    assert preview.plotted_channels() == ["rpm"]
    x0, x1 = preview.plots.x_range()
    assert x0 == 0.0 and x1 == pytest.approx(float(np.nanmax(lap.channels["time"])))
    assert preview.plots.plot(DELTA_KEY).getAxis("bottom").labelText == "time [s]"
    assert "time " in preview.readout.text() or preview.plots.cursor_x() is None
    # a file with distance is drawn against it again
    aim = aim_session()
    preview.show_laps([aim.laps[3]], aim.laps[3], aim.units)
    assert preview.x_axis() == "distance"


def test_a_file_without_standard_channels_opens_with_its_first_channels(preview: PreviewWidget) -> None:
    real = aim_session()
    lap = real.laps[3]
    aux_only = type(lap)(
        lap.lap_number,
        lap.start_offset,
        {k: v for k, v in lap.channels.items() if k in ("time", "distance") or k.startswith("GPS")},
    )
    preview.show_laps([aux_only], None, real.units)
    plotted = preview.plotted_channels()
    assert plotted == ["GPS Nsat", "GPS Slope", "GPS Heading", "GPS Gyro"]


def test_ticked_channels_are_kept_per_channel_across_files(preview: PreviewWidget) -> None:
    aim, motec = aim_session(), motec_session()
    preview.show_laps([aim.laps[3]], None, aim.units)
    items = {
        preview.channel_list.item(i).data(Qt.ItemDataRole.UserRole): preview.channel_list.item(i)
        for i in range(preview.channel_list.count())
    }
    items["rpm"].setCheckState(Qt.CheckState.Unchecked)
    assert preview.plotted_channels() == ["speed", "glat", "glong"]
    preview.show_laps(motec.laps[1:2], None, motec.units)
    # throttle, brake, gear and steering are not lost; rpm stays unticked as the user chose
    assert preview.plotted_channels() == ["speed", "throttle", "brake", "gear", "steering", "glat", "glong"]


def test_lap_colours_stay_with_their_lap_and_the_zoom_is_kept(preview: PreviewWidget) -> None:
    aim = aim_session()
    ref = aim.laps[12]
    preview.show_laps([ref, aim.laps[3], aim.laps[7]], ref, aim.units)
    colour = {c.label: c.item.opts["pen"].color().name() for c in preview.plots.curves("speed")}
    preview.plots.plot("speed").setXRange(200.0, 400.0, padding=0.0)
    preview.show_laps([ref, aim.laps[7]], ref, aim.units)
    again = {c.label: c.item.opts["pen"].color().name() for c in preview.plots.curves("speed")}
    assert again["Lap 7"] == colour["Lap 7"] and again["Lap 12 (ref)"] == colour["Lap 12 (ref)"]
    assert preview.plots.x_range() == pytest.approx((200.0, 400.0))
    preview.new_session()
    preview.show_laps([aim.laps[5]], aim.laps[5], aim.units)
    assert preview.plots.x_range() == pytest.approx((0.0, float(np.nanmax(aim.laps[5].channels["distance"]))))


def test_the_readout_follows_new_laps_without_a_mouse_move(preview: PreviewWidget) -> None:
    aim = aim_session()
    preview.show_laps([aim.laps[12], aim.laps[3]], aim.laps[12], aim.units)
    preview.set_cursor(500.0)
    assert "Lap 3" in preview.readout.text()
    preview.show_laps([aim.laps[12], aim.laps[8]], aim.laps[12], aim.units)
    text = preview.readout.text()
    assert "Lap 8" in text and "Lap 3" not in text
    motec = motec_session()
    preview.show_laps(motec.laps[1:2], None, motec.units)
    assert "Lap 12" not in preview.readout.text()


def test_unticking_the_reference_lap_moves_the_delta_and_the_overlay_stays(qtbot: QtBot, window: MainWindow) -> None:
    with qtbot.waitSignal(window.view.lapsShown, timeout=60_000):
        drop_files(window, [logger_file(AIM)])
    table = window.view.table
    best = table.model().best_valid_lap()
    assert best is not None
    others = [r.lap_number for r in table.model().laps() if r.valid and r is not best][:2]
    with qtbot.waitSignal(window.view.lapsShown, timeout=10_000):
        table.select_laps([best.lap_number, *others])
    # a click on the validity check box of the best lap: the selection stays
    view = table.view()
    col = table.model().column("valid")
    index = table.proxy().mapFromSource(table.model().index(table.model().row_of(best.lap_number), col))
    rect = view.visualRect(index)
    window.show()
    qtbot.waitExposed(window)
    view.scrollTo(index)
    rect = view.visualRect(index)
    with qtbot.waitSignal(window.view.lapsShown, timeout=10_000):
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(rect.left() + 10, rect.center().y()))
    assert best.user_valid is False
    assert sorted(table.selected_laps()) == sorted([best.lap_number, *others]), "the overlay stays"
    new_best = table.model().best_valid_lap()
    assert new_best is not None and new_best.lap_number != best.lap_number
    label = window.view.preview.plots.plot(DELTA_KEY).getAxis("left").labelText
    assert f"lap {new_best.lap_number}" in label


def test_the_form_drops_not_saved_after_the_save(qtbot: QtBot, window: MainWindow) -> None:
    with qtbot.waitSignal(window.view.lapsShown, timeout=60_000):
        drop_files(window, [logger_file(AIM)])
    [entry] = window.imports.entries
    assert "(not saved)" in window.form.heading.text()
    window.save_current()
    wait_state(qtbot, entry, ("saved", "save-failed"))
    assert entry.state == "saved"
    assert "(not saved)" not in window.form.heading.text()
    assert f"session {entry.session_id}" in window.form.heading.text()


def test_the_whole_file_row_selects_and_long_names_do_not_widen_the_pane(
    qtbot: QtBot, window: MainWindow, tmp_path: Path
) -> None:
    long = tmp_path / ("kart_" + "very_long_session_name_" * 8 + ".csv")
    shutil.copyfile(logger_file(AIM), long)
    window.show()
    qtbot.waitExposed(window)
    pane = window.splitter.widget(0)
    assert pane is not None
    # the window settles its layout once a file is on show: measure the pane after that, so
    # the check is about the long name alone, not about when the first layout pass ran
    drop_files(window, [logger_file("racechrono_csv/session_20251231_111318_tianma_lap9_v3.csv")])
    [first] = wait_read(qtbot, window, 1)
    qtbot.waitUntil(lambda: window.view.preview.plotted_channels() != [], timeout=10_000)
    qtbot.wait(50)
    left, hint = pane.width(), pane.minimumSizeHint().width()
    drop_files(window, [long])
    [_, second] = wait_read(qtbot, window, 2)
    qtbot.wait(50)
    assert pane.minimumSizeHint().width() == hint, "a long name raised the left pane's minimum width"
    assert pane.width() == left, "a long name widened the left pane"
    status = window.imports.row(second).status
    qtbot.mouseClick(status, Qt.MouseButton.LeftButton)
    assert window.imports.current() is second
    qtbot.mouseClick(window.imports.row(first).status, Qt.MouseButton.LeftButton)
    assert window.imports.current() is first
    assert status.textInteractionFlags() == Qt.TextInteractionFlag.NoTextInteraction  # no text menu


def test_the_plots_export_writes_every_sample_not_the_points_on_screen(
    qtbot: QtBot, preview: PreviewWidget, tmp_path: Path
) -> None:
    from pyqtgraph.exporters import CSVExporter

    aim = aim_session()
    lap = aim.laps[3]
    preview.show_laps([lap], None, aim.units)
    preview.grab()
    wait_drawn(qtbot, preview)
    plot = preview.plots.plot("speed")
    plot.setXRange(200.0, 400.0, padding=0.0)
    [curve] = preview.plots.curves("speed")
    assert len(curve.item.getData()[0]) < curve.x.size  # the screen shows fewer points
    out = tmp_path / "speed.csv"
    CSVExporter(plot).export(str(out))
    rows = out.read_text().splitlines()
    assert len(rows) - 1 == int(np.isfinite(lap.channels["speed"]).sum())
    first = rows[1].split(",")
    assert float(first[0]) == pytest.approx(float(curve.x[0]))
    assert float(first[1]) == pytest.approx(float(curve.y[0]), abs=1e-3)


def test_the_channel_search_box_filters_the_list(preview: PreviewWidget) -> None:
    motec = motec_session()
    preview.show_laps(motec.laps[1:2], None, motec.units)
    preview.channel_search.setText("wheel speed")
    shown = [
        preview.channel_list.item(i).data(Qt.ItemDataRole.UserRole)
        for i in range(preview.channel_list.count())
        if not preview.channel_list.item(i).isHidden()
    ]
    assert shown and all("wheel speed" in name.lower() for name in shown)
    assert "Wheel Speed FL" in shown
    # the filter stays for the next file, and clearing it shows every channel again
    preview.show_laps(motec.laps[2:3], None, motec.units)
    assert sum(not preview.channel_list.item(i).isHidden() for i in range(preview.channel_list.count())) == len(shown)
    preview.channel_search.clear()
    assert all(not preview.channel_list.item(i).isHidden() for i in range(preview.channel_list.count()))


@pytest.mark.parametrize("scale", [1.0, 1.5])
def test_y_axis_labels_leave_room_for_the_tick_labels(preview: PreviewWidget, scale: float) -> None:
    from PySide6.QtGui import QFontMetrics

    font = preview.font()
    font.setPointSizeF(font.pointSizeF() * scale)
    preview.setFont(font)
    preview.plots.setFont(font)
    aim = aim_session()
    preview.show_laps([aim.laps[3]], aim.laps[3], aim.units)
    preview.grab()
    metrics = QFontMetrics(font)
    for key in preview.plots.plot_keys():
        axis = preview.plots.plot(key).getAxis("left")
        ticks = [text for level in axis.tickStrings(*_ticks(axis)) for text in [level]]
        widest = max(metrics.horizontalAdvance(t) for t in ticks)
        # the rotated label needs a line's height beside the widest tick label
        assert axis.width() >= widest + metrics.height(), (key, axis.width(), widest)


def _ticks(axis: object) -> tuple[list[float], float, float]:
    view = axis.linkedView()  # type: ignore[attr-defined]
    y0, y1 = view.viewRange()[1]
    levels = axis.tickValues(y0, y1, axis.height())  # type: ignore[attr-defined]
    spacing, values = levels[0]
    return list(values), 1.0, spacing


def test_short_rows_take_short_labels_and_a_flat_delta_gets_a_sane_range(qtbot: QtBot, preview: PreviewWidget) -> None:
    aim = aim_session()
    ref = aim.laps[12]
    preview.resize(1200, 420)  # the Sessions dock open: rows a fraction of their default height
    preview.show()
    qtbot.waitExposed(preview)
    preview.show_laps([ref], ref, aim.units)
    qtbot.wait(20)
    wait_drawn(qtbot, preview)
    row_height = preview.plots.plot(DELTA_KEY).getViewBox().height()
    full = f"Δt to lap {ref.lap_number} [s]"
    from PySide6.QtGui import QFontMetrics

    if QFontMetrics(preview.plots.font()).horizontalAdvance(full) > row_height:
        assert preview.plots.y_label(DELTA_KEY) == "Δt [s]"
    else:
        assert preview.plots.y_label(DELTA_KEY) == full
    # the reference against itself is 0 everywhere: the axis shows about +-0.5 s, not +-1000
    (_, _), (y0, y1) = preview.plots.plot(DELTA_KEY).getViewBox().viewRange()
    assert -1.0 <= y0 < 0.0 < y1 <= 1.0
    preview.resize(1200, 1400)
    qtbot.wait(20)
    assert preview.plots.y_label(DELTA_KEY) == full


def test_resizing_redecimates_only_when_the_width_crosses_a_step(
    qtbot: QtBot, preview: PreviewWidget, monkeypatch: pytest.MonkeyPatch
) -> None:
    from desktop_app.analysis.decimate import minmax
    from desktop_app.gui import plots
    from storage.types import FloatArray

    aim = aim_session()
    preview.show()
    qtbot.waitExposed(preview)
    preview.show_laps([aim.laps[12], aim.laps[3]], aim.laps[12], aim.units)
    qtbot.wait(20)
    wait_drawn(qtbot, preview)
    calls: list[int] = []

    def counting(x: FloatArray, y: FloatArray, x0: float, x1: float, pixels: int) -> tuple[FloatArray, FloatArray]:
        calls.append(1)
        return minmax(x, y, x0, x1, pixels)

    monkeypatch.setattr(plots, "minmax", counting)
    curves = sum(len(preview.plots.curves(k)) for k in preview.plots.plot_keys())
    redecimations = 0
    for step in range(1, 41):  # a slow drag of the window edge: 40 resizes of 2 px
        before = len(calls)
        preview.resize(1200 - 2 * step, 800)
        qtbot.wait(1)
        redecimations += len(calls) > before
        width = preview.plots.view_width_px()
        for key in preview.plots.plot_keys():
            for curve in preview.plots.curves(key):
                assert curve.points_shown() <= width, "never more points than pixels"
    assert len(calls) % curves == 0
    assert 1 <= redecimations <= 80 // plots.WIDTH_STEP_PX + 1


def test_while_a_saved_sessions_laps_are_read_nothing_old_is_shown(preview: PreviewWidget) -> None:
    aim = aim_session()
    preview.show_laps([aim.laps[12], aim.laps[3]], aim.laps[12], aim.units)
    preview.set_cursor(400.0)
    speed_plot = preview.plots.plot("speed")
    preview.hold("Reading the laps of session 2…")
    assert preview.plotted_channels() == []
    assert not any(item.isVisible() for item in speed_plot.listDataItems())
    assert preview.readout.text() == "Reading the laps of session 2…"
    assert preview.plots.cursor_x() is None
    preview.show_laps([aim.laps[5]], aim.laps[5], aim.units)
    assert preview.plots.plot("speed") is speed_plot, "the graphs stayed in place for the new laps"
    assert [c.label for c in preview.plots.curves("speed")] == ["Lap 5 (ref)"]
