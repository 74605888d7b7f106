"""Stacked channel plots with one shared x axis and one crosshair cursor.

Each plot row holds one channel (or the delta trace) with one curve per lap. Curves keep
their full data here and hand pyqtgraph only what the view shows, decimated to at most
one point per pixel across (min/max per bucket, see :mod:`.decimate`), so a 2 h, 100 Hz
lap draws as fast as a short one. pyqtgraph's own clip-to-view and peak downsampling stay
on as a second line of defence.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QPointF, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QPalette, QPen
from PySide6.QtWidgets import QVBoxLayout, QWidget

from storage.types import FloatArray

from .decimate import finite_xy, minmax

#: A qualitative palette (Tableau 10): mid-luminance colours that read on light and dark.
LAP_COLOURS: tuple[str, ...] = (
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
    "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac",
)  # fmt: skip

#: Left axis width, fixed so the stacked plots' x axes line up exactly.
AXIS_WIDTH = 64


def lap_colour(index: int) -> QColor:
    """The pen colour of the index-th lap shown."""
    return QColor(LAP_COLOURS[index % len(LAP_COLOURS)])


@dataclass
class Curve:
    """One lap's curve in one plot: the full (finite, x-sorted) data and its pyqtgraph item."""

    lap_index: int
    label: str
    x: FloatArray
    y: FloatArray
    item: pg.PlotDataItem

    def value_at(self, x: float, tolerance: float) -> float | None:
        """The y of the curve's own sample nearest to ``x`` (None beyond its ends)."""
        if self.x.size == 0 or x < self.x[0] - tolerance or x > self.x[-1] + tolerance:
            return None
        i = int(np.searchsorted(self.x, x))
        candidates = [j for j in (i - 1, i) if 0 <= j < self.x.size]
        best = min(candidates, key=lambda j: abs(float(self.x[j]) - x))
        return float(self.y[best])

    def points_shown(self) -> int:
        """How many points pyqtgraph currently draws for this curve."""
        xs, _ = self.item.getData()
        return 0 if xs is None else int(len(xs))


class ChannelPlotsWidget(QWidget):
    """Plots stacked vertically, x ranges linked, one vertical cursor line through all."""

    #: the cursor's x (in the current x axis unit) after it moved
    cursorMoved = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._layout_widget = pg.GraphicsLayoutWidget()
        self._layout_widget.ci.setSpacing(2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._layout_widget)
        self._plots: dict[str, pg.PlotItem] = {}
        self._curves: dict[str, list[Curve]] = {}
        self._spare: dict[str, list[pg.PlotDataItem]] = {}  #: items kept by set_rows for reuse
        self._lines: list[pg.InfiniteLine] = []
        self._x_label = ""
        self._cursor: float | None = None
        self._updating = False
        self._layout_widget.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self._apply_palette()

    # --- building -----------------------------------------------------------------------
    def clear(self) -> None:
        """Remove every plot."""
        self._layout_widget.ci.clear()
        self._plots.clear()
        self._curves.clear()
        self._spare.clear()
        self._lines.clear()
        self._cursor = None

    def set_rows(self, rows: Sequence[tuple[str, str]], zero_line: Collection[str] = ()) -> None:
        """Show one plot per (key, y label), top to bottom, with no curves yet.

        Plot items are reused when the keys are unchanged (selecting other laps is the
        common case, and building a pyqtgraph plot costs ~20 ms). Keys in ``zero_line``
        get a horizontal line at y = 0. Call :meth:`finish` after adding the curves.
        """
        self._updating = True  # no re-decimation while rows and curves are being built
        try:
            if [key for key, _ in rows] != list(self._plots):
                self.clear()
                for key, label in rows:
                    self._add_plot(key, label, key in zero_line)
            else:
                for key, label in rows:
                    self._plots[key].setLabel("left", label)
                    # keep the curve items for reuse: creating pyqtgraph items is what costs
                    self._spare[key] = [c.item for c in self._curves[key]]
                    self._curves[key] = []
        finally:
            self._updating = False

    def _add_plot(self, key: str, label: str, zero_line: bool) -> pg.PlotItem:
        row = len(self._plots)
        plot = self._layout_widget.ci.addPlot(row=row, col=0)
        plot.setClipToView(True)
        plot.setDownsampling(auto=True, mode="peak")
        plot.setMouseEnabled(x=True, y=False)  # wheel/drag zoom and pan along x only
        plot.hideButtons()
        plot.showGrid(x=True, y=True, alpha=0.25)
        plot.getAxis("left").setWidth(AXIS_WIDTH)
        for side in ("left", "bottom"):
            plot.getAxis(side).enableAutoSIPrefix(False)  # labels carry the unit; no "(x0.001)"
        plot.setLabel("left", label)
        plot.getViewBox().setDefaultPadding(0.04)
        if self._plots:
            plot.setXLink(next(iter(self._plots.values())))
        else:
            view = plot.getViewBox()
            view.sigXRangeChanged.connect(self._refresh_visible)
            view.sigResized.connect(self._refresh_visible)
        line = pg.InfiniteLine(angle=90, movable=False, pen=self._cursor_pen())
        line.setVisible(False)
        line.setZValue(50)
        plot.addItem(line, ignoreBounds=True)
        if zero_line:
            zero = pg.InfiniteLine(pos=0.0, angle=0, movable=False, pen=pg.mkPen(self.palette().color(QPalette.ColorRole.Mid)))
            plot.addItem(zero, ignoreBounds=True)
        self._lines.append(line)
        self._plots[key] = plot
        self._curves[key] = []
        self._style_axes(plot)
        return plot

    def add_curve(self, key: str, lap_index: int, label: str, x: FloatArray, y: FloatArray, pen: QPen) -> Curve:
        """Add one lap's curve to plot ``key``; NaN samples are skipped, never filled.

        ``x`` must be non-decreasing where finite (the caller makes distance monotonic).
        """
        fx, fy = finite_xy(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))
        spare = self._spare.get(key)
        if spare:
            item = spare.pop(0)
            item.setPen(pen)
            item.opts["name"] = label
        else:
            item = pg.PlotDataItem(pen=pen, name=label)
            self._plots[key].addItem(item)
        curve = Curve(lap_index, label, fx, fy, item)
        self._curves[key].append(curve)
        return curve

    def finish(self, x_min: float, x_max: float, x_label: str) -> None:
        """Label the bottom axis, show [x_min, x_max] and hand each curve its view's points."""
        self._x_label = x_label
        for key, spare in self._spare.items():
            for item in spare:
                self._plots[key].removeItem(item)
        self._spare.clear()
        plots = list(self._plots.values())
        self._updating = True
        for i, plot in enumerate(plots):
            last = i == len(plots) - 1
            axis = plot.getAxis("bottom")
            axis.setStyle(showValues=last)
            axis.setHeight(None if last else 6)
            if last:
                plot.setLabel("bottom", x_label)
        self._updating = False
        if not plots:
            return
        if not x_max > x_min:
            x_max = x_min + 1.0
        first = plots[0].getViewBox()
        first.enableAutoRange(x=False)
        first.setLimits(xMin=x_min - (x_max - x_min), xMax=x_max + (x_max - x_min))
        first.setXRange(x_min, x_max, padding=0.0)
        self._refresh_visible()

    # --- queries ------------------------------------------------------------------------
    def plot_keys(self) -> list[str]:
        return list(self._plots)

    def plot(self, key: str) -> pg.PlotItem:
        return self._plots[key]

    def curves(self, key: str) -> list[Curve]:
        """The curves of one plot, in lap display order."""
        return list(self._curves.get(key, []))

    def view_width_px(self) -> int:
        """The plot area's width in pixels (0 before the widget is laid out)."""
        if not self._plots:
            return 0
        return int(next(iter(self._plots.values())).getViewBox().width())

    def x_range(self) -> tuple[float, float]:
        if not self._plots:
            return (0.0, 0.0)
        (x0, x1), _ = next(iter(self._plots.values())).getViewBox().viewRange()
        return float(x0), float(x1)

    def cursor_lines(self) -> list[float | None]:
        """Where each plot's cursor line is drawn (None where hidden), top to bottom."""
        return [float(line.value()) if line.isVisible() else None for line in self._lines]

    def cursor_x(self) -> float | None:
        return self._cursor

    # --- cursor -------------------------------------------------------------------------
    def set_cursor(self, x: float | None) -> None:
        """Move the one cursor (a vertical line in every plot) to ``x``; None hides it."""
        self._cursor = x
        for line in self._lines:
            line.setVisible(x is not None)
            if x is not None:
                line.setValue(x)
        if x is not None:
            self.cursorMoved.emit(float(x))

    def _on_mouse_moved(self, pos: QPointF) -> None:
        for plot in self._plots.values():
            view = plot.getViewBox()
            if view.sceneBoundingRect().contains(pos):
                self.set_cursor(float(view.mapSceneToView(pos).x()))
                return

    # --- decimation ---------------------------------------------------------------------
    def _refresh_visible(self, *_: object) -> None:
        """Hand every curve the decimated points of the visible x range."""
        if self._updating or not self._plots:
            return
        self._updating = True
        try:
            width = self.view_width_px()
            if width < 16:  # not laid out yet: the screen's width bounds any view
                screen = QGuiApplication.primaryScreen()
                width = screen.availableGeometry().width() if screen is not None else 1024
            x0, x1 = self.x_range()
            for curves in self._curves.values():
                for curve in curves:
                    xs, ys = minmax(curve.x, curve.y, x0, x1, width)
                    curve.item.setData(xs, ys)
        finally:
            self._updating = False

    # --- palette ------------------------------------------------------------------------
    def _cursor_pen(self) -> QPen:
        pen = QPen(self.palette().color(QPalette.ColorRole.Text))
        pen.setStyle(Qt.PenStyle.DashLine)
        pen.setCosmetic(True)
        return pen

    def _style_axes(self, plot: pg.PlotItem) -> None:
        text = self.palette().color(QPalette.ColorRole.Text)
        for name in ("left", "bottom"):
            axis = plot.getAxis(name)
            axis.setPen(pg.mkPen(self.palette().color(QPalette.ColorRole.Mid)))
            axis.setTextPen(pg.mkPen(text))

    def _apply_palette(self) -> None:
        self._layout_widget.setBackground(self.palette().color(QPalette.ColorRole.Base))
        for plot in self._plots.values():
            self._style_axes(plot)
        for line in self._lines:
            line.setPen(self._cursor_pen())

    def changeEvent(self, event: QEvent) -> None:
        # follow a light/dark switch while running
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_palette()
        super().changeEvent(event)
