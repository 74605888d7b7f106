"""The track map: projection, decimation, the cursor dot and the no-GPS message (real files)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pytestqt.qtbot import QtBot
from reallaps import RealSession, aim_session, motec_session, racechrono_session

from desktop_app.gui.preview import PreviewWidget
from desktop_app.gui.track_map import EARTH_RADIUS_M, MapTrack, TrackMapWidget, project
from storage.types import LapTelemetry


@pytest.fixture(scope="module")
def aim() -> RealSession:
    return aim_session()


def _show(
    qtbot: QtBot,
    preview: PreviewWidget,
    laps: list[LapTelemetry],
    reference: LapTelemetry | None,
    units: dict[str, str],
) -> None:
    """show_laps, then let the event loop draw the map (it comes a turn after the plots)."""
    preview.show_laps(laps, reference, units)
    assert preview.map_pending()
    qtbot.waitUntil(lambda: not preview.map_pending(), timeout=2000)


def test_equirectangular_projection_in_metres() -> None:
    lat = np.array([60.0, 61.0, 60.0])
    long = np.array([10.0, 10.0, 11.0])
    x, y = project(lat, long, 60.0, 10.0)
    degree = EARTH_RADIUS_M * math.pi / 180.0  # ~111.2 km
    np.testing.assert_allclose(y, [0.0, degree, 0.0])
    np.testing.assert_allclose(x, [0.0, 0.0, degree * 0.5], atol=1e-6)  # cos 60° = 0.5


def test_map_of_a_real_lap_is_bounded_equal_aspect_and_coloured(qtbot: QtBot, aim: RealSession) -> None:
    preview = PreviewWidget()
    qtbot.addWidget(preview)
    preview.resize(1200, 800)
    _show(qtbot, preview, [aim.laps[12], aim.laps[3]], aim.laps[12], dict(aim.units))
    preview.grab()
    track_map = preview.track_map
    assert not track_map.showing_message()
    assert track_map.aspect_locked()
    assert 0 < track_map.points_shown() <= track_map.view_width_px() < track_map.width()
    # the SSKC kart track (the AiM file) is about 250 m across, not degrees
    xs, _ = track_map.trace_points()
    assert 100.0 < float(np.ptp(xs)) < 1000.0
    # colour bar spans the lap's speed; switching the colour channel re-levels it
    lap = aim.laps[12]
    assert track_map.colour_levels() == pytest.approx(
        (np.nanmin(lap.channels["speed"]), np.nanmax(lap.channels["speed"])), abs=1.0
    )
    preview.colour_channel.setCurrentText("rpm")
    levels = track_map.colour_levels()
    assert levels is not None
    lo, hi = levels
    assert hi > 5000.0 and lo < hi


def test_cursor_moves_the_dot_to_the_laps_position(qtbot: QtBot, aim: RealSession) -> None:
    preview = PreviewWidget()
    qtbot.addWidget(preview)
    preview.resize(1200, 800)
    laps = [aim.laps[12], aim.laps[3]]
    _show(qtbot, preview, laps, laps[0], dict(aim.units))
    origin = (float(np.mean(laps[0].channels["lat"])), float(np.mean(laps[0].channels["long"])))
    for x in (150.0, 612.3):
        preview.set_cursor(x)
        dots = preview.track_map.cursor_positions()
        assert len(dots) == 2
        for lap, dot in zip(laps, dots):
            i = int(np.argmin(np.abs(np.fmax.accumulate(lap.channels["distance"]) - x)))
            ex, ey = project(lap.channels["lat"][i : i + 1], lap.channels["long"][i : i + 1], *origin)
            assert dot == pytest.approx((float(ex[0]), float(ey[0])))
        # the two laps are at nearly the same place at the same distance (same track)
    a_dot, b_dot = preview.track_map.cursor_positions()
    assert a_dot is not None and b_dot is not None
    (ax, ay), (bx, by) = a_dot, b_dot
    assert math.hypot(ax - bx, ay - by) < 30.0


def test_no_gps_shows_a_message(qtbot: QtBot) -> None:
    motec = motec_session()
    preview = PreviewWidget()
    qtbot.addWidget(preview)
    _show(qtbot, preview, motec.laps[1:2], None, dict(motec.units))
    assert preview.track_map.showing_message()
    assert "No GPS in this file" in preview.track_map.message_text()
    assert not preview.colour_channel.isEnabled()
    preview.set_cursor(100.0)  # no dots to place, no error
    # a file with GPS brings the map back
    chrono = racechrono_session()
    _show(qtbot, preview, chrono.laps[1:2], None, dict(chrono.units))
    assert not preview.track_map.showing_message()
    assert preview.colour_channel.isEnabled()


def test_map_widget_alone_strides_a_long_trace(qtbot: QtBot, aim: RealSession) -> None:
    widget = TrackMapWidget()
    qtbot.addWidget(widget)
    widget.resize(400, 400)
    lat = np.concatenate([lap.channels["lat"] for lap in aim.laps])
    long = np.concatenate([lap.channels["long"] for lap in aim.laps])
    speed = np.concatenate([lap.channels["speed"] for lap in aim.laps])
    axis = np.arange(lat.size, dtype=np.float64)
    widget.set_tracks([MapTrack("Lap 0", widget.palette().text().color(), lat, long, axis, speed)], "speed [km/h]")
    widget.grab()
    assert lat.size > 19_000
    assert 0 < widget.points_shown() <= widget.view_width_px() <= 400


def test_trace_without_a_colour_channel_is_drawn_in_the_lap_colour(qtbot: QtBot, aim: RealSession) -> None:
    widget = TrackMapWidget()
    qtbot.addWidget(widget)
    widget.resize(400, 400)
    lap = aim.laps[12]
    colour = widget.palette().highlight().color()
    widget.set_tracks([MapTrack("Lap 12", colour, lap.channels["lat"], lap.channels["long"], lap.channels["distance"])])
    widget.grab()
    assert widget.colour_levels() is None
    assert 0 < widget.points_shown() <= widget.view_width_px()
    assert widget.set_cursor(10_000.0) == [None]  # past the lap's end: no dot
    assert widget.set_cursor(500.0)[0] is not None
