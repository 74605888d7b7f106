"""PreviewWidget on laps from real logger files: curves, delta trace, cursor readout, decimation."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from gui.qt_helpers import wait_drawn
from hypothesis import given, settings
from hypothesis import strategies as st
from PySide6.QtCore import QPointF, Qt
from pytestqt.qtbot import QtBot
from reallaps import RealSession, aim_session, motec_session

from desktop_app.analysis.decimate import minmax
from desktop_app.analysis.delta import delta_time
from desktop_app.gui.preview import DELTA_KEY, PreviewWidget
from storage.types import LapTelemetry


@pytest.fixture(scope="module")
def aim() -> RealSession:
    return aim_session()


@pytest.fixture(scope="module")
def motec() -> RealSession:
    return motec_session()


def _laid_out(widget: PreviewWidget) -> None:
    widget.grab()  # lays the widget out (sizes the plots) without showing it


@pytest.mark.parametrize("count", [1, 2, 3])
def test_curves_per_channel_and_lap(preview: PreviewWidget, aim: RealSession, count: int) -> None:
    laps = [aim.laps[n] for n in (12, 3, 7)[:count]]
    preview.show_laps(laps, laps[0], aim.units)
    # the AiM file has speed, rpm and both g channels (no throttle/brake/gear/steering)
    assert preview.plotted_channels() == ["speed", "rpm", "glat", "glong"]
    assert preview.plots.plot_keys()[-1] == DELTA_KEY
    for key in preview.plots.plot_keys():
        curves = preview.plots.curves(key)
        assert [c.label for c in curves] == [
            f"Lap {lap.lap_number}" + (" (ref)" if i == 0 else "") for i, lap in enumerate(laps)
        ]
    widths = [c.item.opts["pen"].widthF() for c in preview.plots.curves("speed")]
    assert widths[0] > max(widths[1:], default=0.0)  # the reference is thicker
    colours = {c.item.opts["pen"].color().name() for c in preview.plots.curves("speed")}
    assert len(colours) == count  # one colour per lap


def test_reference_outside_the_selection_is_drawn_and_none_means_no_delta(
    preview: PreviewWidget, aim: RealSession
) -> None:
    preview.show_laps([aim.laps[3], aim.laps[4]], aim.laps[12], aim.units)
    assert [c.label for c in preview.plots.curves("speed")] == ["Lap 12 (ref)", "Lap 3", "Lap 4"]
    preview.show_laps([aim.laps[3]], None, aim.units)
    assert DELTA_KEY not in preview.plots.plot_keys()
    assert len(preview.plots.curves("speed")) == 1


def test_all_standard_channels_and_auxiliary_by_chooser(preview: PreviewWidget, motec: RealSession) -> None:
    preview.show_laps(motec.laps[1:2], None, motec.units)
    assert preview.plotted_channels() == ["speed", "throttle", "brake", "gear", "rpm", "steering", "glat", "glong"]
    assert preview.plots.plot("brake").getAxis("left").labelText == "brake [bar]"
    # the auxiliary channel is offered, unchecked; ticking it adds its plot
    items = {
        preview.channel_list.item(i).data(Qt.ItemDataRole.UserRole): preview.channel_list.item(i)
        for i in range(preview.channel_list.count())
    }
    assert items["Wheel Speed FL"].checkState() == Qt.CheckState.Unchecked
    items["Wheel Speed FL"].setCheckState(Qt.CheckState.Checked)
    assert preview.plotted_channels()[-1] == "Wheel Speed FL"
    items = {
        preview.channel_list.item(i).data(Qt.ItemDataRole.UserRole): preview.channel_list.item(i)
        for i in range(preview.channel_list.count())
    }
    items["gear"].setCheckState(Qt.CheckState.Unchecked)
    assert "gear" not in preview.plotted_channels()
    preview.clear()
    assert preview.plots.plot_keys() == []


def test_delta_zero_for_reference_and_constant_for_uniformly_slower_lap(
    preview: PreviewWidget, aim: RealSession
) -> None:
    ref = aim.laps[12]
    same = delta_time(ref, ref)
    assert same.delta.size > 1000 and np.all(same.delta == 0.0)
    # the same lap, 0.8 s later at every point past the start line
    time = ref.channels["time"].copy()
    time[1:] += 0.8
    slower = dataclasses.replace(ref, lap_number=99, channels={**ref.channels, "time": time})
    preview.show_laps([ref, slower], ref, aim.units)
    ref_curve, slow_curve = preview.plots.curves(DELTA_KEY)
    assert np.all(ref_curve.y == 0.0)
    assert slow_curve.y[0] == 0.0
    np.testing.assert_allclose(slow_curve.y[1:], 0.8, atol=1e-9)
    # drawn against the lap's own distance, strictly increasing
    assert np.all(np.diff(slow_curve.x) > 0)


def test_delta_survives_distance_stepping_back(aim: RealSession) -> None:
    ref = aim.laps[12]
    distance = ref.channels["distance"].copy()
    distance[500:520] -= 3.0  # GPS noise: distance goes backwards for a moment
    wobbly = dataclasses.replace(ref, channels={**ref.channels, "distance": distance})
    trace = delta_time(wobbly, ref)
    assert np.all(np.diff(trace.distance) > 0)
    assert np.all(np.isfinite(trace.delta))
    # past the wobble the lap is the reference itself again
    assert np.all(trace.delta[trace.distance > distance[530]] == 0.0)


def _nearest(lap: LapTelemetry, axis: str, channel: str, x: float) -> float:
    xs = lap.channels[axis]
    xs = np.fmax.accumulate(xs) if axis == "distance" else xs
    ys = lap.channels[channel]
    ok = np.isfinite(ys)
    return float(ys[ok][np.argmin(np.abs(xs[ok] - x))])


def test_crosshair_readout_shows_each_laps_value(preview: PreviewWidget, aim: RealSession) -> None:
    laps = [aim.laps[12], aim.laps[3]]
    preview.show_laps(laps, laps[0], aim.units)
    preview.set_cursor(612.3)
    values = preview.readout_values(612.3)
    for lap, label in zip(laps, ["Lap 12 (ref)", "Lap 3"]):
        for channel in ("speed", "rpm", "glat"):
            assert values[channel][label] == pytest.approx(_nearest(lap, "distance", channel, 612.3))
    text = preview.readout.text()
    assert "612.3 m" in text and "Lap 3" in text
    assert f"{_nearest(laps[1], 'distance', 'rpm', 612.3):.0f}" in text
    assert values[DELTA_KEY]["Lap 12 (ref)"] == 0.0
    # mph for display only; the readout follows
    preview.set_speed_unit("mph")
    assert preview.plots.plot("speed").getAxis("left").labelText == "speed [mph]"
    mph = preview.readout_values(612.3)["speed"]["Lap 3"]
    assert mph == pytest.approx(_nearest(laps[1], "distance", "speed", 612.3) / 1.609344)
    assert np.nanmax(aim.laps[3].channels["speed"]) == pytest.approx(aim.records[3].max_speed_kmh)
    # against time
    preview.set_x_axis("time")
    assert preview.plots.plot_keys()[-1] == DELTA_KEY
    preview.set_cursor(30.0)
    assert preview.readout_values(30.0)["rpm"]["Lap 3"] == pytest.approx(_nearest(laps[1], "time", "rpm", 30.0))
    assert preview.plots.plot(DELTA_KEY).getAxis("bottom").labelText == "time [s]"
    with pytest.raises(ValueError, match="x axis"):
        preview.set_x_axis("lap")


def test_points_per_curve_bounded_by_view_width(qtbot: QtBot, preview: PreviewWidget, aim: RealSession) -> None:
    # the whole 951 s session as one lap (19,020 samples), like a file with no laps
    offsets = np.cumsum([0.0] + [float(lap.channels["distance"][-1]) for lap in aim.laps[:-1]])
    channels = {k: np.concatenate([lap.channels[k] for lap in aim.laps]) for k in aim.laps[0].channels}
    channels["time"] = np.concatenate([lap.channels["time"] + lap.start_offset for lap in aim.laps])
    channels["distance"] = np.concatenate([lap.channels["distance"] + o for lap, o in zip(aim.laps, offsets)])
    whole = LapTelemetry(0, 0.0, channels)
    preview.show_laps([whole, aim.laps[12]], aim.laps[12], aim.units)
    _laid_out(preview)
    wait_drawn(qtbot, preview)
    width = preview.plots.view_width_px()
    assert 300 < width < 1200
    for key in preview.plots.plot_keys():
        for curve in preview.plots.curves(key):
            assert 0 < curve.points_shown() <= width, (key, curve.label)
    long_curve = preview.plots.curves("speed")[0]
    assert long_curve.x.size > 10 * width  # really decimated, not short to begin with
    # zoomed in to 200 m: still bounded, and the extremes of the visible samples survive
    preview.plots.plot("speed").setXRange(5000.0, 5200.0, padding=0.0)
    xs, ys = long_curve.item.getData()
    assert len(xs) <= width
    inside = (long_curve.x >= 5000.0) & (long_curve.x <= 5200.0)
    assert np.max(ys) >= np.max(long_curve.y[inside]) and np.min(ys) <= np.min(long_curve.y[inside])


def test_new_selection_replaces_the_curves(qtbot: QtBot, preview: PreviewWidget, aim: RealSession) -> None:
    preview.show_laps([aim.laps[n] for n in (12, 3, 7)], aim.laps[12], aim.units)
    speed_plot = preview.plots.plot("speed")
    preview.show_laps([aim.laps[5]], aim.laps[5], aim.units)
    wait_drawn(qtbot, preview)
    assert preview.plots.plot("speed") is speed_plot  # same channels: plots are reused
    # the two curve items no longer needed are kept (hidden) for the next selection
    assert len([item for item in speed_plot.listDataItems() if item.isVisible()]) == 1
    assert [c.label for c in preview.plots.curves("delta")] == ["Lap 5 (ref)"]
    assert preview.plots.plot("delta").getAxis("left").labelText == "Δt to lap 5 [s]"
    # x range follows the new lap (AiM lap 5 is ~1093 m)
    x0, x1 = preview.plots.x_range()
    assert x0 == pytest.approx(0.0) and x1 == pytest.approx(np.nanmax(aim.laps[5].channels["distance"]))


def test_mouse_over_a_plot_moves_the_one_cursor(qtbot: QtBot, preview: PreviewWidget, aim: RealSession) -> None:
    laps = [aim.laps[12], aim.laps[3]]
    preview.show_laps(laps, laps[0], aim.units)
    _laid_out(preview)
    wait_drawn(qtbot, preview)  # the rows' y ranges are fitted when their curves are drawn
    view = preview.plots.plot("rpm").getViewBox()
    scene_pos = view.mapViewToScene(QPointF(700.0, 8000.0))
    with qtbot.waitSignal(preview.plots.cursorMoved, timeout=1000) as moved:
        view.scene().sigMouseMoved.emit(scene_pos)
    assert moved.args == [pytest.approx(700.0, abs=2.0)]
    x = preview.plots.cursor_x()
    assert x is not None
    # every plot's cursor line sits at the same x, the readout and the map dot follow
    assert preview.plots.cursor_lines() == [x] * len(preview.plots.plot_keys())
    assert f"distance {x:.1f} m" in preview.readout.text()
    assert preview.track_map.cursor_positions()[0] is not None


def test_empty_and_malformed_laps(preview: PreviewWidget, aim: RealSession) -> None:
    preview.show_laps([], None, aim.units)
    assert preview.plots.plot_keys() == []
    empty = LapTelemetry(1, 0.0, {"time": np.empty(0), "distance": np.empty(0), "speed": np.empty(0)})
    preview.show_laps([empty, aim.laps[3]], aim.laps[3], aim.units)
    assert next(len(c.x) for c in preview.plots.curves("speed")) == 0
    no_distance = LapTelemetry(2, 0.0, {"time": np.arange(3.0), "speed": np.ones(3)})
    with pytest.raises(ValueError, match="lap 2 has no 'distance' channel"):
        preview.show_laps([no_distance], None, aim.units)


@given(
    n=st.integers(min_value=0, max_value=5000),
    pixels=st.integers(min_value=2, max_value=1500),
    seed=st.integers(min_value=0, max_value=2**16),
)
@settings(max_examples=60, deadline=None)
def test_minmax_decimation_is_bounded_and_keeps_real_extremes(n: int, pixels: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = np.cumsum(rng.uniform(0.0, 2.0, n))  # non-decreasing, with standstills
    y = np.round(rng.normal(0.0, 10.0, n), 1)  # ties on purpose
    xs, ys = minmax(x, y, -np.inf, np.inf, pixels)
    assert len(xs) <= pixels
    assert np.all(np.diff(xs) >= 0)
    if n:
        assert ys.max() == y.max() and ys.min() == y.min()
        # every point is a real sample (x, y) pair
        pairs = set(zip(x.tolist(), y.tolist()))
        assert all(p in pairs for p in zip(xs.tolist(), ys.tolist()))
