"""Analysis in the preview, on real laps: math channels, channels sharing a graph, the layout
remembered, the X-Y scatter and the histogram, exports of laps (CSV) and of the plot."""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pyarrow.csv as pa_csv
import pytest
from gui.qt_helpers import drop_files
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from pytestqt.qtbot import QtBot
from realfiles import logger_file
from reallaps import aim_session, motec_session

from desktop_app.analysis.decimate import stride
from desktop_app.analysis.mathchannels import MathChannelError
from desktop_app.config import Settings
from desktop_app.gui.charts import MAX_SCATTER_POINTS
from desktop_app.gui.main_window import MainWindow
from desktop_app.gui.preview import PreviewWidget
from desktop_app.gui.workers import Workers
from storage.types import LapTelemetry


def test_a_math_channel_is_plotted_and_the_laps_are_untouched(preview: PreviewWidget) -> None:
    motec = motec_session()
    lap = motec.laps[1]
    before = set(lap.channels)
    preview.show_laps([lap], None, motec.units)
    preview.add_math_channel("speed_ms = speed / 3.6")
    preview.add_math_channel("g = hypot(glat, glong)")
    assert preview.plotted_channels()[-2:] == ["speed_ms", "g"]
    [curve] = preview.plots.curves("speed_ms")
    finite = np.isfinite(lap.channels["speed"])
    np.testing.assert_allclose(curve.y, lap.channels["speed"][finite] / 3.6)
    assert set(lap.channels) == before, "the lap itself gets no channel"
    with pytest.raises(MathChannelError, match="Attribute is not allowed"):
        preview.add_math_channel("bad = speed.real")
    with pytest.raises(MathChannelError, match="name = expression"):
        preview.add_math_channel("speed / 3.6")
    # a math channel naming a channel another file lacks says so, and the rest still draws
    preview.add_math_channel("fl = Wheel_Speed_FL * 2")
    assert preview.math_errors() == []
    aim = aim_session()
    preview.show_laps([aim.laps[3]], None, aim.units)
    assert "speed_ms" in preview.plotted_channels() and "g" in preview.plotted_channels()
    assert "fl" not in preview.plotted_channels()
    [error] = preview.math_errors()
    assert "no channel 'Wheel_Speed_FL'" in error


def test_throttle_and_brake_in_one_graph(preview: PreviewWidget) -> None:
    motec = motec_session()
    laps = motec.laps[1:3]
    preview.show_laps(laps, laps[0], motec.units)
    preview.plot_with("brake", "throttle")
    keys = preview.plots.plot_keys()
    assert "throttle" in keys and "brake" not in keys
    assert preview.graph_of("brake") == "throttle"
    curves = preview.plots.curves("throttle")
    assert [c.channel for c in curves] == ["throttle", "throttle", "brake", "brake"]
    assert curves[2].item.opts["pen"].style() == Qt.PenStyle.DashLine
    # same lap, same colour in both channels
    assert curves[0].item.opts["pen"].color() == curves[2].item.opts["pen"].color()
    assert preview.plots.plot("throttle").getAxis("left").labelText == "throttle [%] · brake [bar]"
    x = 200.0  # inside both laps (lap 2 is a 267 m in-lap)
    values = preview.readout_values(x)
    assert set(values["brake"]) == {preview.lap_label(0), preview.lap_label(1)}
    for i, lap in enumerate(laps):
        d = np.fmax.accumulate(lap.channels["distance"])
        ok = np.isfinite(lap.channels["brake"])
        nearest = float(lap.channels["brake"][ok][np.argmin(np.abs(d[ok] - x))])
        assert values["brake"][preview.lap_label(i)] == pytest.approx(nearest)
    preview.plot_with("brake", None)
    assert "brake" in preview.plots.plot_keys()


def test_the_graph_layout_is_remembered_in_the_settings(qtbot: QtBot, workers: Workers, window: MainWindow) -> None:
    motec = motec_session()
    preview = window.view.preview
    preview.show_laps(motec.laps[1:2], None, motec.units)
    preview.plot_with("brake", "throttle")
    preview.add_math_channel("rpm_k = rpm / 1000")
    window.store_layout()
    stored = json.loads(window.settings.window_state["preview"])
    assert stored["hosts"] == {"brake": "throttle"}
    again = MainWindow(Settings(window_state=dict(window.settings.window_state)), workers)
    qtbot.addWidget(again)
    again.view.preview.show_laps(motec.laps[1:2], None, motec.units)
    assert again.view.preview.plotted_channels() == preview.plotted_channels()
    assert again.view.preview.graph_of("brake") == "throttle"
    assert [m.expression for m in again.view.preview.math_channels()] == ["rpm / 1000"]


def test_gg_scatter_and_histogram_of_the_laps_shown(qtbot: QtBot, preview: PreviewWidget) -> None:
    aim = aim_session()
    laps = [aim.laps[12], aim.laps[3]]
    preview.show()
    qtbot.waitExposed(preview)
    preview.show_laps(laps, laps[0], aim.units)
    assert preview.scatter.item_count() == 0, "a hidden chart draws nothing"
    preview.tabs.setCurrentWidget(preview.scatter)
    assert preview.scatter.pickers["x"].currentText() == "glat"
    assert preview.scatter.pickers["y"].currentText() == "glong"
    points = preview.scatter.points()
    assert len(points) == 2
    for (x, y), lap in zip(points, laps):
        keep = np.isfinite(lap.channels["glat"]) & np.isfinite(lap.channels["glong"])
        step = stride(int(keep.sum()), MAX_SCATTER_POINTS)
        assert 0 < x.size <= MAX_SCATTER_POINTS
        np.testing.assert_array_equal(x, lap.channels["glat"][keep][::step])
        np.testing.assert_array_equal(y, lap.channels["glong"][keep][::step])
    preview.tabs.setCurrentWidget(preview.histogram)
    preview.histogram.pickers["channel"].setCurrentText("rpm")
    assert len(preview.histogram.shares) == 2
    for share in preview.histogram.shares:
        assert share.sum() == pytest.approx(100.0)
    edges = preview.histogram.edges
    assert edges[0] == min(float(np.nanmin(lap.channels["rpm"])) for lap in laps)
    assert edges[-1] == max(float(np.nanmax(lap.channels["rpm"])) for lap in laps)


@pytest.mark.threaded(reason="asserts the CSV is written off the GUI thread")
def test_export_the_laps_shown_to_csv_on_the_write_thread(
    qtbot: QtBot, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from desktop_app.analysis.export import write_laps_csv
    from desktop_app.gui import session_view

    ran_on: list[int] = []

    def recording(path: str | Path, laps: Sequence[LapTelemetry], units: Mapping[str, str]) -> Path:
        ran_on.append(threading.get_ident())
        return write_laps_csv(path, laps, units)

    monkeypatch.setattr(session_view, "write_laps_csv", recording)
    with qtbot.waitSignal(window.view.lapsShown, timeout=60_000):
        drop_files(window, [logger_file("aim_csv/aim_format_example.csv")])
    laps = window.view.preview.shown_laps()
    out = tmp_path / "laps.csv"
    with qtbot.waitSignal(window.view.exportDone, timeout=20_000) as done:
        assert window.view.export_laps(out) is not None
    assert "exported" in done.args[0] and str(out) in done.args[0]
    assert len(ran_on) == 1 and ran_on[0] != threading.get_ident(), "the CSV is written off the GUI thread"
    table = pa_csv.read_csv(out)
    assert table.num_rows == sum(len(lap) for lap in laps)
    assert "speed [km/h]" in table.column_names


def test_export_the_plot_to_png_and_svg(preview: PreviewWidget, tmp_path: Path) -> None:
    aim = aim_session()
    preview.show_laps([aim.laps[12], aim.laps[3]], aim.laps[12], aim.units)
    preview.grab()
    png = preview.export_plot(tmp_path / "laps.png")
    image = QImage(str(png))
    assert image.width() > 300 and image.height() > 300
    svg = preview.export_plot(tmp_path / "laps.svg")
    text = svg.read_text()
    assert text.lstrip().startswith("<?xml") and "<svg" in text and "path" in text


def test_graphs_follow_the_order_the_channels_are_dragged_to(qtbot: QtBot, preview: PreviewWidget) -> None:
    from PySide6.QtCore import QModelIndex

    aim = aim_session()
    preview.show_laps([aim.laps[3]], None, aim.units)
    assert preview.plotted_channels() == ["speed", "rpm", "glat", "glong"]
    names = [preview.channel_list.item(r).data(Qt.ItemDataRole.UserRole) for r in range(preview.channel_list.count())]
    assert names[:4] == ["speed", "rpm", "glat", "glong"], "the list is in graph order"
    # what a drag of glong to the top does to the list's model
    assert preview.channel_list.model().moveRow(QModelIndex(), names.index("glong"), QModelIndex(), 0)
    qtbot.waitUntil(lambda: preview.plotted_channels()[0] == "glong", timeout=2000)
    assert preview.plotted_channels() == ["glong", "speed", "rpm", "glat"]
    preview.move_graph("rpm", 3)
    assert preview.plotted_channels() == ["glong", "speed", "glat", "rpm"]
    # kept for the next file and in the remembered layout
    state = preview.layout_state()
    other = PreviewWidget()
    qtbot.addWidget(other)
    other.restore_layout_state(state)
    other.show_laps([aim.laps[5]], None, aim.units)
    assert other.plotted_channels() == ["glong", "speed", "glat", "rpm"]
