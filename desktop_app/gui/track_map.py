"""The track map: a lap's GPS trace in metres, equal aspect, coloured by a channel.

Positions use a local equirectangular projection around the first lap's mean position
(x = Δlong·cos(lat0)·R, y = Δlat·R), plenty accurate over a circuit. The coloured trace is
strided to at most one point per pixel across; each lap's cursor position is a dot.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QLabel, QStackedWidget, QVBoxLayout, QWidget

from desktop_app.analysis.decimate import stride
from storage.types import FloatArray

#: mean Earth radius (IUGG), metres
EARTH_RADIUS_M = 6_371_008.8
#: the colour map of the trace: perceptually uniform, readable on light and dark
COLOUR_MAP = "CET-R4"
#: colour steps along the trace (one line item each)
COLOUR_BANDS = 32
#: the trace is drawn for this many pixels less than the view is wide and redrawn only when
#: the width changes by more: layout jitter of a pixel or two (the colour bar's labels) then
#: costs no redraw and no repaint, and the trace still never exceeds a point per pixel
RESIZE_SLACK_PX = 8
NO_GPS_TEXT = "No GPS in this file: no track map.\n(The laps have no latitude/longitude samples.)"


def project(lat: FloatArray, long: FloatArray, lat0: float, long0: float) -> tuple[FloatArray, FloatArray]:
    """Degrees -> metres east/north of (lat0, long0) by a local equirectangular projection."""
    x = np.radians(long - long0) * math.cos(math.radians(lat0)) * EARTH_RADIUS_M
    y = np.radians(lat - lat0) * EARTH_RADIUS_M
    return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)


@dataclass
class MapTrack:
    """One lap for the map. ``axis_x`` is the lap's x-axis value (distance or time) per
    sample, non-decreasing, to place the cursor dot; ``value`` colours the trace (may be None)."""

    label: str
    colour: QColor
    lat: FloatArray
    long: FloatArray
    axis_x: FloatArray
    value: FloatArray | None = None


@dataclass
class _Projected:
    """A lap's GPS samples; positions are projected on demand (only what is drawn)."""

    track: MapTrack
    index: npt.NDArray[np.intp]  #: the samples with a position
    axis_x: FloatArray  #: the x-axis value of those samples
    origin: tuple[float, float]

    def metres(self, which: npt.NDArray[np.intp]) -> tuple[FloatArray, FloatArray]:
        """Map position (metres east, north) of GPS samples ``which`` (indices into index)."""
        samples = self.index[which]
        return project(self.track.lat[samples], self.track.long[samples], *self.origin)


def has_gps(lat: FloatArray | None, long: FloatArray | None) -> bool:
    """True if some sample has both a latitude and a longitude."""
    if lat is None or long is None:
        return False
    return bool(np.any(_fix(lat, long)))


def _fix(lat: FloatArray, long: FloatArray) -> npt.NDArray[np.bool_]:
    # (0, 0) is what some loggers write before the first fix: not a position
    fix: npt.NDArray[np.bool_] = np.isfinite(lat) & np.isfinite(long) & ~((lat == 0.0) & (long == 0.0))
    return fix


def _nearest_values(value: FloatArray, at: npt.NDArray[np.intp]) -> FloatArray:
    """``value`` at sample indices ``at``, taking the channel's nearest own sample where
    it has none there (channels logged at other rates); display only, nothing is stored."""
    own = np.flatnonzero(np.isfinite(value))
    if own.size == 0:
        return np.full(at.size, np.nan)
    i = np.clip(np.searchsorted(own, at), 1, max(own.size - 1, 1))
    left = own[i - 1]
    right = own[np.minimum(i, own.size - 1)]
    pick = np.where(np.abs(at - left) <= np.abs(right - at), left, right)
    return np.asarray(value[pick], dtype=np.float64)


class TrackMapWidget(QWidget):
    """The first lap's trace coloured by a channel, plus a cursor dot for every lap."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._stack = QStackedWidget(self)
        self._graphics = pg.GraphicsLayoutWidget()
        self._plot = self._graphics.ci.addPlot(row=0, col=0)
        self._plot.setAspectLocked(True)
        self._plot.hideAxis("left")
        self._plot.hideAxis("bottom")
        self._plot.hideButtons()
        self._plot.getViewBox().setDefaultPadding(0.05)
        self._colour_map = pg.colormap.get(COLOUR_MAP)
        self._bar = pg.ColorBarItem(values=(0.0, 1.0), colorMap=self._colour_map, interactive=False, width=12)
        self._graphics.ci.addItem(self._bar, row=0, col=1)
        for side in ("left", "right"):
            # fixed text space: a bar growing with its labels at paint time re-laid the map
            # out, redrew its trace and painted it again, twice
            self._bar.getAxis(side).setStyle(autoExpandTextSpace=False, tickTextWidth=40)
        self._message = QLabel(NO_GPS_TEXT)
        self._message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._message.setWordWrap(True)
        self._stack.addWidget(self._graphics)
        self._stack.addWidget(self._message)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._stack)
        # one line item per colour band, its segments drawn as pairs (connect="pairs")
        self._bands = [pg.PlotDataItem(connect="pairs") for _ in range(COLOUR_BANDS)]
        self._band_pens = [
            pg.mkPen(self._colour_map.map((b + 0.5) / COLOUR_BANDS, mode="qcolor"), width=3)
            for b in range(COLOUR_BANDS)
        ]
        for item, pen in zip(self._bands, self._band_pens):
            item.setPen(pen)
        self._dots = pg.ScatterPlotItem(size=11)
        self._dots.setZValue(10)
        for item in (*self._bands, self._dots):
            self._plot.addItem(item)
        self._trace_xy: tuple[FloatArray, FloatArray] = (np.empty(0), np.empty(0))
        self._tracks: list[_Projected] = []
        self._value_label = ""
        self._margin = 0.0
        self._drawn_width = 0
        # the trace is strided to the view's width: redraw when the width changes
        self._plot.getViewBox().sigResized.connect(self._on_resized)
        self._cursor_positions: list[tuple[float, float] | None] = []
        self._apply_palette()
        self.clear()

    def clear(self) -> None:
        """No laps: an empty map (not the no-GPS message)."""
        self._tracks = []
        self._set_trace(np.empty(0), np.empty(0), None)
        self._dots.setData([], [])
        self._bar.setVisible(False)
        self._stack.setCurrentWidget(self._graphics)

    def set_tracks(self, tracks: list[MapTrack], value_label: str = "") -> None:
        """Show the laps; the first one with GPS is drawn coloured by its ``value``."""
        # Not clear(): emptying the 32 bands and hiding the colour bar, only to fill and show
        # them again a moment later, re-laid the map out twice and redrew the trace each time.
        self._tracks = []
        self._dots.setData([], [])
        self._stack.setCurrentWidget(self._graphics)
        origin: tuple[float, float] | None = None
        for track in tracks:
            fix = np.flatnonzero(_fix(track.lat, track.long))
            if fix.size == 0:
                continue
            if origin is None:
                origin = (float(np.mean(track.lat[fix])), float(np.mean(track.long[fix])))
            self._tracks.append(_Projected(track, fix, track.axis_x[fix], origin))
        if tracks and not self._tracks:
            self.clear()
            self._stack.setCurrentWidget(self._message)
            return
        if not self._tracks:
            self.clear()
            return
        self._value_label = value_label
        # how far past a lap's ends the cursor still shows its dot: 1% of the longest lap
        longest = max((float(np.nanmax(p.axis_x)) for p in self._tracks if np.isfinite(p.axis_x).any()), default=0.0)
        self._margin = 0.01 * longest
        self._draw_trace()

    def showing_message(self) -> bool:
        """True while the "no GPS" text is shown instead of the map."""
        return self._stack.currentWidget() is self._message

    def message_text(self) -> str:
        return self._message.text()

    def _view_width(self) -> int:
        width = int(self._plot.getViewBox().width())
        return width if width >= 16 else 300  # not laid out yet: redrawn once it is

    def _on_resized(self) -> None:
        if self._tracks and abs(self._view_width() - self._drawn_width) > RESIZE_SLACK_PX:
            self._draw_trace()

    def _draw_trace(self) -> None:
        main = self._tracks[0]
        width = self._drawn_width = self._view_width()
        # two points per segment: stride to half the width to stay under a point per pixel
        step = stride(main.index.size, max((width - RESIZE_SLACK_PX) // 2, 1))
        drawn = np.arange(0, main.index.size, step)
        xs, ys = main.metres(drawn)
        value = main.track.value
        if value is None:
            self._set_trace(xs, ys, None)
            self._bands[0].setPen(pg.mkPen(main.track.colour, width=3))
            self._bar.setVisible(False)
            return
        shown = _nearest_values(value, main.index[drawn])
        # the bar spans the channel's own range over the lap's positioned part, not only the
        # strided samples drawn (which depend on the map's width)
        span = value[int(main.index[0]) : int(main.index[-1]) + 1]
        finite = np.isfinite(span)
        lo, hi = (float(np.min(span[finite])), float(np.max(span[finite]))) if finite.any() else (0.0, 1.0)
        if not hi > lo:
            hi = lo + 1.0
        self._set_trace(xs, ys, np.clip((np.nan_to_num(shown, nan=lo) - lo) / (hi - lo), 0.0, 1.0))
        self._bar.setLevels((lo, hi))
        # unit in the label, e.g. "speed [km/h]"; label text colour from the palette
        self._bar.setLabel("left", self._value_label, color=self.palette().color(QPalette.ColorRole.Text).name())
        self._bar.setVisible(True)
        # settle the layout (the bar just appeared or changed) before the paint, not after it
        self._graphics.ci.layout.activate()
        if abs(self._view_width() - self._drawn_width) > RESIZE_SLACK_PX:
            self._draw_trace()

    def _set_trace(self, xs: FloatArray, ys: FloatArray, level: FloatArray | None) -> None:
        """Draw segment i -> i+1 in the colour of ``level[i]`` (0..1), or all in band 0."""
        self._trace_xy = (xs, ys)
        # one range fit for the whole trace, not one per band's setData
        view = self._plot.getViewBox()
        view.enableAutoRange(enable=False)
        try:
            self._fill_bands(xs, ys, level)
        finally:
            view.enableAutoRange(enable=True)

    def _fill_bands(self, xs: FloatArray, ys: FloatArray, level: FloatArray | None) -> None:
        n = xs.size - 1
        band = np.zeros(max(n, 0), dtype=np.intp)
        if level is not None and n > 0:
            band = np.minimum((level[:-1] * COLOUR_BANDS).astype(np.intp), COLOUR_BANDS - 1)
        for b, item in enumerate(self._bands):
            seg = np.flatnonzero(band == b) if n > 0 else np.empty(0, dtype=np.intp)
            if seg.size == 0:
                item.setData([], [])
                continue
            pairs = np.stack([seg, seg + 1], axis=1).ravel()
            item.setData(xs[pairs], ys[pairs])
        if level is not None:
            self._bands[0].setPen(self._band_pens[0])  # band 0 may have been a plain lap colour

    def view_width_px(self) -> int:
        """The map area's width in pixels (0 before the widget is laid out)."""
        return int(self._plot.getViewBox().width())

    def aspect_locked(self) -> bool:
        """True: one metre east is as long on screen as one metre north."""
        return bool(self._plot.getViewBox().state["aspectLocked"])

    def trace_points(self) -> tuple[FloatArray, FloatArray]:
        """The trace's points in path order (metres east, north)."""
        return self._trace_xy

    def colour_levels(self) -> tuple[float, float] | None:
        """The colour bar's (min, max), or None when the trace is not coloured by a channel."""
        if not self._bar.isVisible():
            return None
        lo, hi = self._bar.levels()
        return float(lo), float(hi)

    def points_shown(self) -> int:
        """Points handed to the trace's line items in all (bounded by the map's width)."""
        total = 0
        for item in self._bands:
            xs, _ = item.getData()
            total += 0 if xs is None else len(xs)
        return total

    def set_cursor(self, x: float | None) -> list[tuple[float, float] | None]:
        """Place each lap's dot at its sample nearest to axis value ``x``; returns positions."""
        positions: list[tuple[float, float] | None] = []
        brushes, xs, ys = [], [], []
        for proj in self._tracks:
            if x is None or proj.axis_x.size == 0:
                positions.append(None)
                continue
            finite = proj.axis_x[np.isfinite(proj.axis_x)]
            if finite.size == 0 or x < finite[0] - self._margin or x > finite[-1] + self._margin:
                positions.append(None)  # the cursor is beyond this lap's end: no dot
                continue
            i = int(np.clip(np.searchsorted(proj.axis_x, x), 0, proj.axis_x.size - 1))
            if i > 0 and abs(proj.axis_x[i - 1] - x) <= abs(proj.axis_x[i] - x):
                i -= 1
            px, py = proj.metres(np.array([i]))
            positions.append((float(px[0]), float(py[0])))
            xs.append(px[0])
            ys.append(py[0])
            brushes.append(pg.mkBrush(proj.track.colour))
        self._dots.setData(
            xs, ys, brush=brushes, pen=pg.mkPen(self.palette().color(QPalette.ColorRole.Text), width=1.5)
        )
        self._cursor_positions = positions
        return positions

    def cursor_positions(self) -> list[tuple[float, float] | None]:
        """The dots' positions in map metres, one per lap with GPS."""
        return list(self._cursor_positions)

    def changeEvent(self, event: QEvent) -> None:
        # follow a light/dark switch while running
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_palette()
            if self._tracks:
                self._draw_trace()
        super().changeEvent(event)

    def _apply_palette(self) -> None:
        self._graphics.setBackground(self.palette().color(QPalette.ColorRole.Base))
        for side in ("left", "right"):
            axis = self._bar.getAxis(side)
            axis.setTextPen(pg.mkPen(self.palette().color(QPalette.ColorRole.Text)))
            axis.setPen(pg.mkPen(self.palette().color(QPalette.ColorRole.Mid)))
