"""The track map: a lap's GPS trace in metres, equal aspect, coloured by a channel.

Positions use a local equirectangular projection around the first lap's mean position
(x = Δlong·cos(lat0)·R, y = Δlat·R), plenty accurate over a circuit. The coloured trace is
strided to at most one point per pixel across; each lap's cursor position is a dot.

The start/finish and split lines the laps were timed at are drawn across the trace. The
engineer drags a line's end (or the whole line), places a new start/finish or split line
with two clicks across the track, or removes a split line from its context menu; the map
then emits :attr:`TrackMapWidget.linesEdited` with every line as it now stands, and the
window splits the laps anew (on a worker, docs/laps.md#splitting-a-saved-session-again).
A session timed without a start line (beacons, a lap counter) shows a provisional one at
the start of the lap on show, so the split lines can be moved too.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QKeyEvent, QPainter, QPainterPath, QPalette, QPen
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStackedWidget,
    QStyleOptionGraphicsItem,
    QVBoxLayout,
    QWidget,
)

from desktop_app.analysis.decimate import stride
from storage.types import FloatArray, TrackLine

#: mean Earth radius (IUGG), metres
EARTH_RADIUS_M = 6_371_008.8
#: the colour map of the trace: perceptually uniform, readable on light and dark
COLOUR_MAP = "CET-R4"
#: colour steps along the trace (one pen each, all drawn by one item)
COLOUR_BANDS = 32
#: the trace's line width in pixels
TRACE_WIDTH = 3
#: the trace is drawn for this many pixels less than the view is wide and redrawn only when
#: the width changes by more: layout jitter of a pixel or two (the colour bar's labels) then
#: costs no redraw and no repaint, and the trace still never exceeds a point per pixel
RESIZE_SLACK_PX = 8
#: half the length (m) of a provisional start line drawn where no start line is known
PROVISIONAL_HALF_M = 12.0
#: line colours: the start/finish line red, split lines blue (readable on light and dark)
START_COLOUR = QColor(220, 40, 40)
SPLIT_COLOUR = QColor(40, 120, 230)
PLACE_HINT = "Click two points across the track for the new {what} (Esc cancels)."
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


def unproject(x: float, y: float, lat0: float, long0: float) -> tuple[float, float]:
    """Map metres east/north of (lat0, long0) -> degrees (the inverse of :func:`project`)."""
    lat = lat0 + math.degrees(y / EARTH_RADIUS_M)
    long = long0 + math.degrees(x / (EARTH_RADIUS_M * math.cos(math.radians(lat0))))
    return lat, long


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


class BandedTrace(pg.GraphicsObject):  # type: ignore[misc]  # pyqtgraph has no type hints
    """The map's trace as one item: segment i -> i+1 in the pen of its colour band.

    One path per band, built when the data comes and drawn in one paint. Thirty-two line
    items (one per band) cost a third of a draw in their own bookkeeping, each fitting the
    view and re-laying out on every change.
    """

    def __init__(self, pens: Sequence[QPen]) -> None:
        super().__init__()
        self._pens = list(pens)
        self._paths: list[tuple[QPen, QPainterPath]] = []
        self._rect = QRectF()
        self._bounds: tuple[tuple[float, float], tuple[float, float]] | None = None
        self.points = 0  #: points handed to the paths (both ends of every segment)

    def set_segments(self, xs: FloatArray, ys: FloatArray, band: npt.NDArray[np.intp] | None, pen: QPen) -> None:
        """Segment i joins point i to i + 1 in ``self._pens[band[i]]``, or all in ``pen``
        when ``band`` is None."""
        self.prepareGeometryChange()
        self._paths = []
        self.points = 0
        n = xs.size - 1
        if n > 0:
            groups = (
                [(pen, np.arange(n))]
                if band is None
                else [(p, np.flatnonzero(band == b)) for b, p in enumerate(self._pens)]
            )
            for band_pen, seg in groups:
                if seg.size:
                    pairs = np.stack([seg, seg + 1], axis=1).ravel()
                    self._paths.append((band_pen, pg.arrayToQPath(xs[pairs], ys[pairs], connect="pairs")))
                    self.points += int(pairs.size)
        finite = np.isfinite(xs) & np.isfinite(ys)
        if n > 0 and finite.any():
            x0, x1 = float(xs[finite].min()), float(xs[finite].max())
            y0, y1 = float(ys[finite].min()), float(ys[finite].max())
            self._bounds = ((x0, x1), (y0, y1))
            self._rect = QRectF(x0, y0, x1 - x0, y1 - y0)
        else:
            self._bounds, self._rect = None, QRectF()
        self.informViewBoundsChanged()
        self.update()

    def dataBounds(
        self,
        ax: int,
        frac: float = 1.0,
        orthoRange: object = None,  # noqa: N803 (pyqtgraph passes it by this keyword)
    ) -> tuple[float, float] | None:
        # what the view box fits its range to (pyqtgraph asks every item for this)
        return None if self._bounds is None else self._bounds[ax]

    def pixelPadding(self) -> float:
        return TRACE_WIDTH  # the line's width beyond the data's extremes

    def boundingRect(self) -> QRectF:
        return self._rect

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        for pen, path in self._paths:
            painter.setPen(pen)
            painter.drawPath(path)


class TrackMapWidget(QWidget):
    """The first lap's trace coloured by a channel, a cursor dot for every lap, and the
    timing lines, which the engineer can move."""

    #: the lines after an edit on the map: list[TrackLine], the start line first, then the
    #: split lines, each two points across the track (origin ``user``)
    linesEdited = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._lines: list[TrackLine] = []
        self._rois: list[pg.LineSegmentROI] = []
        self._labels: list[pg.TextItem] = []
        self._placing: str | None = None
        self._clicks: list[tuple[float, float]] = []
        self._origin: tuple[float, float] | None = None
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
        self.new_start_button = QPushButton("New start/finish line")
        self.new_start_button.setToolTip("Place the start/finish line with two clicks across the track")
        self.add_split_button = QPushButton("Add split line")
        self.add_split_button.setToolTip(
            "Place a split line with two clicks across the track; drag a line's ends to move it, "
            "right-click a split line to remove it"
        )
        self.new_start_button.clicked.connect(lambda: self.begin_placing("start"))
        self.add_split_button.clicked.connect(lambda: self.begin_placing("split"))
        self.hint = QLabel()
        self.hint.setWordWrap(True)
        self.hint.setVisible(False)
        tools = QHBoxLayout()
        tools.setContentsMargins(0, 0, 0, 0)
        tools.addWidget(self.new_start_button)
        tools.addWidget(self.add_split_button)
        tools.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(tools)
        layout.addWidget(self.hint)
        layout.addWidget(self._stack)
        self._trace = BandedTrace(
            [
                pg.mkPen(self._colour_map.map((b + 0.5) / COLOUR_BANDS, mode="qcolor"), width=TRACE_WIDTH)
                for b in range(COLOUR_BANDS)
            ]
        )
        self._dots = pg.ScatterPlotItem(size=11)
        self._dots.setZValue(10)
        for item in (self._trace, self._dots):
            self._plot.addItem(item)
        self._trace_xy: tuple[FloatArray, FloatArray] = (np.empty(0), np.empty(0))
        self._tracks: list[_Projected] = []
        self._value_label = ""
        self._margin = 0.0
        self._drawn_width = 0
        self._drawing = False  #: the trace is being drawn: a resize on the way is part of it
        # the trace is strided to the view's width: redraw when the width changes
        self._plot.getViewBox().sigResized.connect(self._on_resized)
        self._plot.scene().sigMouseClicked.connect(self._on_scene_click)
        self._cursor_positions: list[tuple[float, float] | None] = []
        self._apply_palette()
        self.clear()

    def clear(self) -> None:
        """No laps: an empty map (not the no-GPS message)."""
        self._tracks = []
        self._origin = None
        self._set_trace(np.empty(0), np.empty(0), None, QPen())
        self._dots.setData([], [])
        self._bar.setVisible(False)
        self._stack.setCurrentWidget(self._graphics)
        self._draw_lines()  # no trace to place them on: none drawn, the lines are kept

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
        self._origin = origin
        self._draw_trace()
        self._draw_lines()

    # --- timing lines -------------------------------------------------------------------
    def set_lines(self, lines: Sequence[TrackLine]) -> None:
        """The lines the laps were timed at (drawn once the map has a trace)."""
        self._lines = [x for x in lines if x.kind in ("start", "finish", "split")]
        self.cancel_placing()
        self._draw_lines()

    def lines(self) -> list[TrackLine]:
        """The lines drawn: the known ones, plus a provisional start line where none is known."""
        return [*self._provisional(), *self._lines]

    def line_points(self) -> list[tuple[tuple[float, float], tuple[float, float]]]:
        """The drawn lines' two ends in map metres (east, north), in :meth:`lines` order."""
        return [self._ends(roi) for roi in self._rois]

    def line_labels(self) -> list[str]:
        """The labels drawn next to the lines (S/F, F, S1... in driving order)."""
        return [str(label.textItem.toPlainText()) for label in self._labels]

    def to_map(self, lat: float, long: float) -> tuple[float, float]:
        """Degrees -> map metres of the trace on show (ValueError without one)."""
        if self._origin is None:
            raise ValueError("no trace on the map")
        x, y = project(np.array([lat]), np.array([long]), *self._origin)
        return float(x[0]), float(y[0])

    def to_degrees(self, x: float, y: float) -> tuple[float, float]:
        """Map metres -> degrees (ValueError without a trace)."""
        if self._origin is None:
            raise ValueError("no trace on the map")
        return unproject(x, y, *self._origin)

    def move_line_end(self, index: int, end: int, x: float, y: float) -> None:
        """Move end ``end`` (0 or 1) of line ``index`` to map metres (x, y), as a drag does."""
        roi = self._rois[index]
        roi.movePoint(roi.getHandles()[end], pg.Point(x, y), coords="parent", finish=True)

    def pixel_of(self, x: float, y: float) -> tuple[QWidget, QPoint]:
        """The widget and pixel where map metres (x, y) are drawn (for mouse events)."""
        scene = self._plot.getViewBox().mapViewToScene(QPointF(x, y))
        return self._graphics.viewport(), self._graphics.mapFromScene(scene)

    def move_line(self, index: int, a: tuple[float, float], b: tuple[float, float]) -> None:
        """Move both ends of line ``index`` to map metres ``a`` and ``b``: one edit, as a
        drag of the whole line is."""
        roi = self._rois[index]
        first, second = roi.getHandles()
        roi.movePoint(first, pg.Point(*a), coords="parent", finish=False)
        roi.movePoint(second, pg.Point(*b), coords="parent", finish=True)

    def begin_placing(self, what: str) -> None:
        """The next two clicks on the map place a new ``start`` or ``split`` line."""
        if self._origin is None:
            return
        self._placing, self._clicks = what, []
        self.hint.setText(PLACE_HINT.format(what="start/finish line" if what == "start" else "split line"))
        self.hint.setVisible(True)
        self.setFocus()

    def placing(self) -> str | None:
        """What the next clicks place (``start``/``split``), or None."""
        return self._placing

    def cancel_placing(self) -> None:
        self._placing, self._clicks = None, []
        self.hint.setVisible(False)

    def place_click(self, x: float, y: float) -> None:
        """A click at map metres (x, y) while placing a line; the second one places it."""
        if self._placing is None:
            return
        self._clicks.append((x, y))
        if len(self._clicks) < 2:
            return
        (x1, y1), (x2, y2) = self._clicks
        what = self._placing
        self.cancel_placing()
        new = self._line_at("start" if what == "start" else "split", (x1, y1), (x2, y2), "")
        current = self._current()
        if what == "start":
            current = [new, *[x for x in current if x.kind == "split"]]
        else:
            current = [*current, new]
        self._emit(current)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape and self._placing is not None:
            self.cancel_placing()
            event.accept()
            return
        super().keyPressEvent(event)

    def _on_scene_click(self, event: object) -> None:
        if self._placing is None or self._origin is None:
            return
        scene_pos = event.scenePos()  # type: ignore[attr-defined]
        view = self._plot.getViewBox()
        if not view.sceneBoundingRect().contains(scene_pos):
            return
        point = view.mapSceneToView(scene_pos)
        event.accept()  # type: ignore[attr-defined]
        self.place_click(float(point.x()), float(point.y()))

    def _line_at(self, kind: str, a: tuple[float, float], b: tuple[float, float], name: str) -> TrackLine:
        lat1, lon1 = self.to_degrees(*a)
        lat2, lon2 = self.to_degrees(*b)
        half = 0.5 * math.hypot(b[0] - a[0], b[1] - a[1])
        k = "start" if kind == "start" else "split"
        return TrackLine(k, lat1, lon1, lat2, lon2, half + 5.0, "user", False, name)  # type: ignore[arg-type]

    def _provisional(self) -> list[TrackLine]:
        """A start line at the first fix of the lap on show, across its direction of travel,
        when the laps were timed without one."""
        if any(x.kind == "start" for x in self._lines) or not self._tracks:
            return []
        main = self._tracks[0]
        n = main.index.size
        if n < 2:
            return []
        xs, ys = main.metres(np.arange(min(n, 50)))
        far = np.flatnonzero(np.hypot(xs - xs[0], ys - ys[0]) >= 3.0)
        if far.size == 0:
            return []
        dx, dy = float(xs[far[0]] - xs[0]), float(ys[far[0]] - ys[0])
        norm = math.hypot(dx, dy)
        # across the direction of travel: the direction turned a quarter
        ax, ay = -dy / norm * PROVISIONAL_HALF_M, dx / norm * PROVISIONAL_HALF_M
        x0, y0 = float(xs[0]), float(ys[0])
        line = self._line_at("start", (x0 - ax, y0 - ay), (x0 + ax, y0 + ay), "start of the lap on show")
        return [replace(line, origin="provisional")]

    def _current(self) -> list[TrackLine]:
        """The drawn lines as they now stand (ends moved by the user), as user lines."""
        out: list[TrackLine] = []
        for line, roi in zip(self.lines(), self._rois, strict=True):
            if line.kind == "finish":
                continue  # a separate finish gate: the user's start line is start and finish
            a, b = self._ends(roi)
            out.append(self._line_at(line.kind, a, b, line.name))
        return out

    def _emit(self, lines: list[TrackLine]) -> None:
        # redraw at once where the user left them; the laps follow when the worker is done
        self._lines = [x for x in lines]
        self._draw_lines()
        self.linesEdited.emit(list(lines))

    def _on_roi_done(self, _roi: object) -> None:
        self._emit(self._current())

    def _on_roi_remove(self, roi: pg.LineSegmentROI) -> None:
        k = self._rois.index(roi)
        current = self._current()
        drawn = self.lines()
        if drawn[k].kind != "split":
            return
        del current[k - sum(1 for x in drawn[:k] if x.kind == "finish")]
        self._emit(current)

    @staticmethod
    def _ends(roi: pg.LineSegmentROI) -> tuple[tuple[float, float], tuple[float, float]]:
        a, b = (roi.mapToParent(p) for p in roi.listPoints())
        return (float(a.x()), float(a.y())), (float(b.x()), float(b.y()))

    def _split_order(self, lines: list[TrackLine]) -> dict[int, int]:
        """Split line index -> its number in driving order along the lap on show (the lap
        table numbers the sectors by crossing time, whatever order the lines are listed in)."""
        xs, ys = self._trace_xy
        splits = [k for k, x in enumerate(lines) if x.kind == "split"]
        if xs.size == 0:
            return {k: n for n, k in enumerate(splits, start=1)}
        where: list[tuple[int, int]] = []
        for k in splits:
            x1, y1 = self.to_map(lines[k].lat1, lines[k].lon1)
            x2, y2 = self.to_map(lines[k].lat2, lines[k].lon2)
            mid_x, mid_y = 0.5 * (x1 + x2), 0.5 * (y1 + y2)
            where.append((int(np.argmin(np.hypot(xs - mid_x, ys - mid_y))), k))
        return {k: n for n, (_, k) in enumerate(sorted(where), start=1)}

    def _draw_lines(self) -> None:
        for item in (*self._rois, *self._labels):
            self._plot.removeItem(item)
        self._rois, self._labels = [], []
        if self._origin is None:
            return
        drawn = self.lines()
        order = self._split_order(drawn)
        for k, line in enumerate(drawn):
            a, b = self.to_map(line.lat1, line.lon1), self.to_map(line.lat2, line.lon2)
            colour = SPLIT_COLOUR if line.kind == "split" else START_COLOUR
            style = Qt.PenStyle.DashLine if line.origin in ("auto", "provisional") else Qt.PenStyle.SolidLine
            roi = pg.LineSegmentROI(
                [a, b],
                pen=pg.mkPen(colour, width=3, style=style),
                hoverPen=pg.mkPen(colour.lighter(140), width=4),
                handlePen=pg.mkPen(colour, width=2),
                removable=line.kind == "split",
            )
            roi.setZValue(20)
            roi.sigRegionChangeFinished.connect(self._on_roi_done)
            roi.sigRemoveRequested.connect(self._on_roi_remove)
            tip = {"start": "start/finish line", "finish": "finish line", "split": "split line"}[line.kind]
            roi.setToolTip(f"{line.name or tip} ({line.origin}): drag its ends to move it")
            self._plot.addItem(roi)
            self._rois.append(roi)
            text = "S/F" if line.kind == "start" else ("F" if line.kind == "finish" else f"S{order[k]}")
            label = pg.TextItem(text, color=colour, anchor=(0.5, 1.2))
            label.setPos(QPointF(*b))
            label.setZValue(21)
            self._plot.addItem(label)
            self._labels.append(label)

    def showing_message(self) -> bool:
        """True while the "no GPS" text is shown instead of the map."""
        return self._stack.currentWidget() is self._message

    def message_text(self) -> str:
        return self._message.text()

    def _view_width(self) -> int:
        width = int(self._plot.getViewBox().width())
        return width if width >= 16 else 300  # not laid out yet: redrawn once it is

    def _on_resized(self) -> None:
        if self._tracks and not self._drawing and abs(self._view_width() - self._drawn_width) > RESIZE_SLACK_PX:
            self._draw_trace()

    def _draw_trace(self) -> None:
        main = self._tracks[0]
        value = main.track.value
        # the colour bar first: it takes its width from the view, which the trace then fits
        self._drawing = True
        try:
            levels = self._show_bar(main)
        finally:
            self._drawing = False
        width = self._drawn_width = self._view_width()
        # two points per segment: stride to half the width to stay under a point per pixel
        step = stride(main.index.size, max((width - RESIZE_SLACK_PX) // 2, 1))
        drawn = np.arange(0, main.index.size, step)
        xs, ys = main.metres(drawn)
        if value is None or levels is None:
            self._set_trace(xs, ys, None, pg.mkPen(main.track.colour, width=TRACE_WIDTH))
            return
        lo, hi = levels
        shown = _nearest_values(value, main.index[drawn])
        self._set_trace(xs, ys, np.clip((np.nan_to_num(shown, nan=lo) - lo) / (hi - lo), 0.0, 1.0), QPen())

    def _show_bar(self, main: _Projected) -> tuple[float, float] | None:
        """Show the colour bar for the main lap's value (its levels), or hide it (None)."""
        value = main.track.value
        if value is None:
            self._bar.setVisible(False)
            self._graphics.ci.layout.activate()
            return None
        # the bar spans the channel's own range over the lap's positioned part, not only the
        # strided samples drawn (which depend on the map's width)
        span = value[int(main.index[0]) : int(main.index[-1]) + 1]
        finite = np.isfinite(span)
        lo, hi = (float(np.min(span[finite])), float(np.max(span[finite]))) if finite.any() else (0.0, 1.0)
        if not hi > lo:
            hi = lo + 1.0
        self._bar.setLevels((lo, hi))
        # unit in the label, e.g. "speed [km/h]"; label text colour from the palette
        self._bar.setLabel("left", self._value_label, color=self.palette().color(QPalette.ColorRole.Text).name())
        self._bar.setVisible(True)
        # settle the layout (the bar just appeared or changed) before the trace is fitted
        self._graphics.ci.layout.activate()
        return lo, hi

    def _set_trace(self, xs: FloatArray, ys: FloatArray, level: FloatArray | None, pen: QPen) -> None:
        """Draw segment i -> i+1 in the colour of ``level[i]`` (0..1), or all in ``pen``."""
        self._trace_xy = (xs, ys)
        band = None
        if level is not None and xs.size > 1:
            band = np.minimum((level[:-1] * COLOUR_BANDS).astype(np.intp), COLOUR_BANDS - 1)
        # the view fits the new trace now, not at its next paint, whatever fixed its range
        # since (a line drag, a zoom)
        view = self._plot.getViewBox()
        view.enableAutoRange(enable=False)
        try:
            self._trace.set_segments(xs, ys, band, pen)
        finally:
            view.enableAutoRange(enable=True)

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
        return self._trace.points

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
