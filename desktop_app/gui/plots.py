"""Stacked channel plots with one shared x axis and one crosshair cursor.

Each plot row holds one channel (or the delta trace) with one curve per lap. Curves keep
their full data here and hand pyqtgraph only what the view shows, decimated to at most
one point per pixel across (min/max per bucket, see :mod:`desktop_app.analysis.decimate`),
so a 2 h, 100 Hz lap draws as fast as a short one.

A draw fills the rows one per event-loop turn (see :meth:`ChannelPlotsWidget.finish`):
each turn hands one row's curves their points and paints that row alone, so ten laps
in eight graphs never freeze the GUI thread for the sum of their paints.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QPointF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QGuiApplication, QPalette, QPen
from PySide6.QtWidgets import QGraphicsItem, QVBoxLayout, QWidget

from desktop_app.analysis.decimate import finite_xy, minmax
from storage.types import FloatArray

#: A qualitative palette (Tableau 10): mid-luminance colours that read on light and dark.
LAP_COLOURS: tuple[str, ...] = (
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
    "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac",
)  # fmt: skip

#: the widest tick label a plot's left axis must hold (rpm in five digits, a sign, a decimal)
WIDEST_TICK = "-88888.8"


def axis_width(font: QFont) -> int:
    """The left axis width for ``font``: its rotated label line, the widest tick label and
    pyqtgraph's tick and text margins. The same for every row, so the stacked plots' x axes
    line up; measured from the font, so labels do not overlap the ticks at any scaling."""
    metrics = QFontMetrics(font)
    return int(metrics.height() * 1.6 + metrics.horizontalAdvance(WIDEST_TICK) + 14)


#: the decimation's point budget moves in steps of this many pixels (see _refresh_visible)
WIDTH_STEP_PX = 32
#: plot rows built ahead while idle: the default channels and the delta trace
PREBUILT_ROWS = 9
#: curve items built ahead per prebuilt row while idle: ten laps and a reference overlaid
#: (creating a pyqtgraph item costs about 1 ms of GUI thread; a draw only reuses them)
PREBUILT_CURVES = 11


def lap_colour(index: int) -> QColor:
    """The pen colour of the index-th lap shown."""
    return QColor(LAP_COLOURS[index % len(LAP_COLOURS)])


class CurveItem(pg.PlotDataItem):  # type: ignore[misc]  # pyqtgraph has no type hints
    """A lap's curve item: it draws the decimated view, but hands exporters the full data.

    pyqtgraph's "Export..." (CSV) reads ``getOriginalDataset``, which would otherwise be the
    points on screen (one or two per pixel), not the lap.
    """

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.full: tuple[FloatArray, FloatArray] | None = None

    def getOriginalDataset(self) -> tuple[FloatArray | None, FloatArray | None]:
        if self.full is not None:
            return self.full
        shown: tuple[FloatArray | None, FloatArray | None] = super().getOriginalDataset()
        return shown


@dataclass
class Curve:
    """One lap's curve in one plot: the full (finite, x-sorted) data and its pyqtgraph item."""

    lap_index: int
    label: str
    x: FloatArray
    y: FloatArray
    item: CurveItem
    #: the channel drawn (a graph can hold several); "" for the row's own key
    channel: str = ""

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


@dataclass(eq=False)
class _Row:
    """One plot row: its plot, cursor line, zero line and every curve item it ever held."""

    plot: pg.PlotItem
    line: pg.InfiniteLine
    zero: pg.InfiniteLine
    items: list[CurveItem] = field(default_factory=list)
    used: int = 0  #: items in use by the current curves (the rest are hidden)
    ticks: tuple[str, ...] | None = None  #: the y tick labels at codes 0, 1, ... (None: numbers)


class ChannelPlotsWidget(QWidget):
    """Plots stacked vertically, x ranges linked, one vertical cursor line through all.

    Building a pyqtgraph plot costs 10-20 ms of GUI thread, so plot rows are never thrown
    away: a row no longer shown leaves the layout and waits in a pool for the next channel
    set, and :data:`PREBUILT_ROWS` rows with :data:`PREBUILT_CURVES` curve items each are
    built ahead, one per event-loop turn, while the window is idle. Drawing a file then
    only fills rows that exist.
    """

    #: the cursor's x (in the current x axis unit) after it moved
    cursorMoved = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._layout_widget = pg.GraphicsLayoutWidget()
        self._layout_widget.ci.setSpacing(2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._layout_widget)
        self._rows: dict[str, _Row] = {}  #: shown, top to bottom
        self._free: list[_Row] = []  #: built, not in the layout
        self._all: list[_Row] = []
        self._curves: dict[str, list[Curve]] = {}
        self._labels: dict[str, tuple[str, str]] = {}  #: key -> (full, short) y label
        #: (x0, x1, point budget) the curves were last decimated for
        self._decimated: tuple[float, float, int] | None = None
        self._x_label = ""
        self._cursor: float | None = None
        self._updating = False
        #: keys of the rows whose curves still wait for their points, top first; such a row,
        #: when new to the layout, is transparent until its turn
        self._pending: list[str] = []
        self._layout_widget.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self._apply_palette()
        # build the pool ahead in small slices (a timer owned by the widget dies with it)
        self._prebuild = QTimer(self)
        self._prebuild.setSingleShot(True)
        self._prebuild.setInterval(0)
        self._prebuild.timeout.connect(self._prebuild_one)
        self._prebuild.start()
        # set_rows holds the plots' repaint back until the event loop has turned once (a
        # timer, so a waiting QTimer elsewhere on the GUI thread gets its turn first): the
        # building and the paint are then two slices of the GUI thread's time, not one
        self._reveal = QTimer(self)
        self._reveal.setSingleShot(True)
        self._reveal.setInterval(0)
        self._reveal.timeout.connect(self._show_updates)
        # the rows of a draw are filled one per turn, the topmost first
        self._fill = QTimer(self)
        self._fill.setSingleShot(True)
        self._fill.setInterval(0)
        self._fill.timeout.connect(self._fill_next)

    # --- building -----------------------------------------------------------------------
    def hide_curves(self) -> None:
        """Keep the rows where they are but draw no curve in them (new ones are coming):
        the next draw with the same rows then needs no relayout."""
        self._stop_filling()
        for key, row in self._rows.items():
            for item in row.items:
                item.setVisible(False)
            row.used = 0
            self._curves[key] = []
        self.set_cursor(None)

    def clear(self) -> None:
        """Show no plot (the rows are kept for the next draw)."""
        self._stop_filling()
        self._free.extend(self._detach_all().values())
        self._cursor = None

    def set_rows(
        self,
        rows: Sequence[tuple[str, str]],
        zero_line: Collection[str] = (),
        short: Mapping[str, str] | None = None,
        ticks: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        """Show one plot per (key, y label), top to bottom, with no curves yet.

        Rows are reused: the same key keeps its plot (selecting other laps is the common
        case), other keys take pooled rows. Keys in ``zero_line`` get a horizontal line at
        y = 0. ``short`` gives a shorter y label per key, used when the full one is longer
        than the row is high (it would run into the next row's label). ``ticks`` gives a
        text channel's labels: its y ticks sit at the codes 0, 1, ... and read as the text.
        Call :meth:`finish` after adding the curves.
        """
        self._updating = True  # no re-decimation while rows and curves are being built
        self._stop_filling()
        self._layout_widget.viewport().setUpdatesEnabled(False)
        self._reveal.start()
        try:
            keys = [key for key, _ in rows]
            if keys != list(self._rows):
                previous = self._detach_all()
                for i, key in enumerate(keys):
                    row = previous.pop(key, None) or self._take_row()
                    self._layout_widget.ci.addItem(row.plot, row=i, col=0)
                    self._rows[key] = row
                    # a row in a new place is painted whole: it stays transparent (Qt does
                    # not paint it) until its turn, so each turn paints one row, not all
                    row.plot.setOpacity(0.0)
                self._free.extend(previous.values())
                self._link()
            self._labels = {key: (label, (short or {}).get(key, label)) for key, label in rows}
            for key, label in rows:
                row = self._rows[key]
                if row.plot.getAxis("left").labelText != label:
                    row.plot.setLabel("left", label)
                row.zero.setVisible(key in zero_line)
                wanted = (ticks or {}).get(key)
                wanted = None if wanted is None else tuple(wanted)
                if row.ticks != wanted:  # a reused row may have been a text channel's
                    row.ticks = wanted
                    levels = None if wanted is None else [[(float(k), t) for k, t in enumerate(wanted)]]
                    row.plot.getAxis("left").setTicks(levels)
                row.line.setVisible(self._cursor is not None)
                row.used = 0
                self._curves[key] = []
        finally:
            self._updating = False

    def _show_updates(self) -> None:
        self._layout_widget.viewport().setUpdatesEnabled(True)  # and paints what changed

    def _take_row(self) -> _Row:
        return self._free.pop() if self._free else self._build_row()

    def _detach_all(self) -> dict[str, _Row]:
        """Take every shown row out of the layout (not into the pool); returns them by key."""
        shown = dict(self._rows)
        for row in shown.values():
            self._layout_widget.ci.removeItem(row.plot)
        self._rows.clear()
        self._curves.clear()
        return shown

    def _link(self) -> None:
        """Link every shown plot's x range to the top one's."""
        plots = [row.plot for row in self._rows.values()]
        for i, plot in enumerate(plots):
            plot.setXLink(None if i == 0 else plots[0])

    def _prebuild_one(self) -> None:
        if len(self._all) < PREBUILT_ROWS:
            self._free.append(self._build_row())
            self._prebuild.start()
            return
        short = next((row for row in self._all if len(row.items) < PREBUILT_CURVES), None)
        if short is not None:
            while len(short.items) < PREBUILT_CURVES:
                self._new_item(short)
            self._prebuild.start()

    def _new_item(self, row: _Row) -> CurveItem:
        item = CurveItem()
        item.setVisible(False)
        row.plot.addItem(item)
        row.items.append(item)
        return item

    def _build_row(self) -> _Row:
        plot = pg.PlotItem()
        # no clip-to-view or auto downsampling by pyqtgraph: the curves get our decimated
        # points already, and pyqtgraph's version works from the view range it had when the
        # data came, which for a reused row is the previous file's (a row could show 2 points)
        plot.setClipToView(False)
        plot.setDownsampling(auto=False)
        plot.setMouseEnabled(x=True, y=False)  # wheel/drag zoom and pan along x only
        plot.hideButtons()
        plot.showGrid(x=True, y=True, alpha=0.25)
        plot.getAxis("left").setWidth(axis_width(self.font()))
        for side in ("left", "bottom"):
            axis = plot.getAxis(side)
            axis.enableAutoSIPrefix(False)  # labels carry the unit; no "(x0.001)"
            # grid lines of a third tick level doubled the paint time for no reading value
            axis.setStyle(maxTickLevel=1)
            # a size measured from the tick text while painting re-lays the rows out and
            # paints them all a second time: the axes keep their fixed text space instead
            axis.setStyle(autoExpandTextSpace=False)
            # the axis (and its grid, which spans the plot) is painted from a pixmap: moving
            # the cursor repaints the plot, and replaying the axis costs ~1 ms per axis
            axis.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        plot.getViewBox().setDefaultPadding(0.04)
        line = pg.InfiniteLine(angle=90, movable=False, pen=self._cursor_pen())
        line.setVisible(False)
        line.setZValue(50)
        plot.addItem(line, ignoreBounds=True)
        zero = pg.InfiniteLine(
            pos=0.0, angle=0, movable=False, pen=pg.mkPen(self.palette().color(QPalette.ColorRole.Mid))
        )
        zero.setVisible(False)
        plot.addItem(zero, ignoreBounds=True)
        row = _Row(plot, line, zero)
        view = plot.getViewBox()
        view.sigXRangeChanged.connect(partial(self._on_view_changed, row))
        view.sigResized.connect(partial(self._on_view_changed, row))
        self._style_axes(plot)
        self._all.append(row)
        return row

    def add_curve(
        self, key: str, lap_index: int, label: str, x: FloatArray, y: FloatArray, pen: QPen, channel: str = ""
    ) -> Curve:
        """Add one lap's curve to plot ``key``; NaN samples are skipped, never filled.

        ``x`` must be non-decreasing where finite (the caller makes distance monotonic).
        The curve is drawn once :meth:`finish` has been called, when its row's turn comes.
        """
        fx, fy = finite_xy(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))
        row = self._rows[key]
        # creating pyqtgraph items is what costs: reuse the row's
        item = row.items[row.used] if row.used < len(row.items) else self._new_item(row)
        item.setPen(pen)
        item.opts["name"] = label
        item.setVisible(False)  # until its row is filled: the old points must not show
        row.used += 1
        item.full = (fx, fy)
        curve = Curve(lap_index, label, fx, fy, item, channel or key)
        self._curves[key].append(curve)
        return curve

    def finish(self, x_min: float, x_max: float, x_label: str, view: tuple[float, float] | None = None) -> None:
        """Label the bottom axis, show [x_min, x_max] (or ``view`` within it, a zoom kept
        from the previous draw) and hand the curves their view's points, one row per
        event-loop turn, top first (:meth:`drawing` is True until the last)."""
        self._x_label = x_label
        rows = list(self._rows.values())
        # the curves get their points row by row, one row per event-loop turn: each turn's
        # work and paint are one row's, whatever the number of rows and laps (and the x
        # range set below decimates none of them now)
        self._decimated = None
        self._pending = list(self._rows)
        self._updating = True
        for i, row in enumerate(rows):
            for item in row.items[row.used :]:
                item.setVisible(False)  # hidden items do not count for the y auto range
            last = i == len(rows) - 1
            axis = row.plot.getAxis("bottom")
            if axis.style["showValues"] != last:
                axis.setStyle(showValues=last)
                axis.setHeight(None if last else 6)
            if last and axis.labelText != x_label:
                row.plot.setLabel("bottom", x_label)
            elif not last and axis.labelText:
                row.plot.setLabel("bottom", "")
        self._updating = False
        if not rows:
            return
        self._fill.start()
        if not x_max > x_min:
            x_max = x_min + 1.0
        first = rows[0].plot.getViewBox()
        first.enableAutoRange(x=False)
        first.setLimits(xMin=x_min - (x_max - x_min), xMax=x_max + (x_max - x_min))
        shown = view if view is not None and view[1] > view[0] else (x_min, x_max)
        first.setXRange(shown[0], shown[1], padding=0.0)
        # lay the rows out now rather than on Qt's deferred layout request: otherwise the
        # first paint is made at the old geometry and the whole plot area is painted twice
        self._layout_widget.ci.layout.activate()
        for row in rows:
            row.plot.layout.activate()  # each plot's own layout (axes, view box) too
            self._fit_label(row)

    def drawing(self) -> bool:
        """True while rows of the last draw still wait for their curves' points."""
        return bool(self._pending)

    def draw_now(self) -> None:
        """Fill every waiting row at once (an export must see every curve)."""
        while self._pending:
            self._fill_next()

    def _stop_filling(self) -> None:
        for row in self._rows.values():
            row.plot.setOpacity(1.0)  # a row left waiting shows its axes, with no curve
        self._pending = []
        self._fill.stop()

    def _fill_next(self) -> None:
        """Hand the next waiting row's curves the points of the view and show them."""
        if not self._pending:
            return
        key = self._pending.pop(0)
        if self._pending:
            self._fill.start()
        row = self._rows[key]  # a relayout (set_rows) empties the waiting list first
        curves = self._curves.get(key, [])
        x0, x1 = self.x_range()
        width = self._budget()
        self._updating = True
        try:
            for curve in curves:
                curve.item.setData(*minmax(curve.x, curve.y, x0, x1, width))
                curve.item.setVisible(True)
            box = row.plot.getViewBox()
            # a flat row (the reference's own delta, a constant channel) gets a range around
            # its value: pyqtgraph's range for a zero span is +-1000 times nothing useful
            ys = [c.y for c in curves if c.y.size]
            if ys:
                lo, hi = min(float(y.min()) for y in ys), max(float(y.max()) for y in ys)
                if hi - lo <= 1e-12:
                    box.setYRange(lo - 0.5, hi + 0.5, padding=0.0)
                else:
                    box.enableAutoRange(y=True)
            # pyqtgraph fits the y range just before painting; the axis it changes then asks
            # for another paint. Fitted now, the row's first paint is its only one.
            box.prepareForPaint()
            row.plot.layout.activate()
            row.plot.setOpacity(1.0)
        finally:
            self._updating = False
        if not self._pending:
            self._decimated = (x0, x1, width)

    # --- queries ------------------------------------------------------------------------
    def layout_item(self) -> pg.GraphicsLayout:
        """The item holding every plot row (what an export of the traces draws)."""
        return self._layout_widget.ci

    def plot_keys(self) -> list[str]:
        return list(self._rows)

    def plot(self, key: str) -> pg.PlotItem:
        return self._rows[key].plot

    def curves(self, key: str) -> list[Curve]:
        """The curves of one plot, in lap display order."""
        return list(self._curves.get(key, []))

    def view_width_px(self) -> int:
        """The plot area's width in pixels (0 before the widget is laid out)."""
        if not self._rows:
            return 0
        return int(next(iter(self._rows.values())).plot.getViewBox().width())

    def x_range(self) -> tuple[float, float]:
        if not self._rows:
            return (0.0, 0.0)
        (x0, x1), _ = next(iter(self._rows.values())).plot.getViewBox().viewRange()
        return float(x0), float(x1)

    def cursor_lines(self) -> list[float | None]:
        """Where each plot's cursor line is drawn (None where hidden), top to bottom."""
        return [float(row.line.value()) if row.line.isVisible() else None for row in self._rows.values()]

    def cursor_x(self) -> float | None:
        return self._cursor

    # --- cursor -------------------------------------------------------------------------
    def set_cursor(self, x: float | None) -> None:
        """Move the one cursor (a vertical line in every plot) to ``x``; None hides it."""
        self._cursor = x
        for row in self._rows.values():
            row.line.setVisible(x is not None)
            if x is not None:
                row.line.setValue(x)
        if x is not None:
            self.cursorMoved.emit(float(x))

    def _on_mouse_moved(self, pos: QPointF) -> None:
        for row in self._rows.values():
            view = row.plot.getViewBox()
            if view.sceneBoundingRect().contains(pos):
                self.set_cursor(float(view.mapSceneToView(pos).x()))
                return

    # --- decimation ---------------------------------------------------------------------
    def _on_view_changed(self, row: _Row, *_: object) -> None:
        # the linked plots follow the top one: only its changes re-decimate
        if self._rows and row is next(iter(self._rows.values())):
            self._refresh_visible()
        self._fit_label(row)

    def _fit_label(self, row: _Row) -> None:
        """The row's full y label if it fits its height, else the short one."""
        key = next((k for k, r in self._rows.items() if r is row), None)
        if key is None or key not in self._labels:
            return
        full, short = self._labels[key]
        height = row.plot.getViewBox().height()
        width = QFontMetrics(self.font()).horizontalAdvance(full)
        # a widget not on screen has no real row height yet: its rows are fitted once shown
        wanted = full if not self.isVisible() or height <= 0 or width <= height else short
        axis = row.plot.getAxis("left")
        if axis.labelText != wanted:
            axis.setLabel(wanted)

    def y_label(self, key: str) -> str:
        """The y label a row shows now (full or short, by its height)."""
        return str(self._rows[key].plot.getAxis("left").labelText)

    def _refresh_visible(self) -> None:
        """Hand every curve the decimated points of the visible x range.

        The point budget is the view's width rounded down to :data:`WIDTH_STEP_PX`: still
        never more points than pixels, and resizing the window re-decimates only when the
        width crosses a step, not on every resize event.
        """
        if self._updating or not self._rows:
            return
        self._updating = True
        try:
            width = self._budget()
            x0, x1 = self.x_range()
            if self._decimated == (x0, x1, width):
                return
            self._decimated = (x0, x1, width)
            for key in self._rows:
                if key in self._pending:
                    continue  # decimated for the view of its own turn
                for curve in self._curves.get(key, []):
                    xs, ys = minmax(curve.x, curve.y, x0, x1, width)
                    curve.item.setData(xs, ys)
        finally:
            self._updating = False

    def _budget(self) -> int:
        """The decimation's point budget: the view's width, rounded down to a step."""
        width = self.view_width_px()
        if width < 16:  # not laid out yet: the screen's width bounds any view
            screen = QGuiApplication.primaryScreen()
            width = screen.availableGeometry().width() if screen is not None else 1024
        if width >= WIDTH_STEP_PX:
            width -= width % WIDTH_STEP_PX
        return width

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
        for row in self._all:
            self._style_axes(row.plot)
            row.line.setPen(self._cursor_pen())
            row.zero.setPen(pg.mkPen(self.palette().color(QPalette.ColorRole.Mid)))

    def changeEvent(self, event: QEvent) -> None:
        # follow a light/dark switch while running
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_palette()
        super().changeEvent(event)
