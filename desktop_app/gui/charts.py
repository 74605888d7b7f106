"""The X-Y scatter (e.g. glat against glong, the g-g diagram) and the histogram of the laps shown.

Both draw the same laps as the traces, in the same colours, and only while their tab is on
show (a hidden chart only remembers its laps). Their work is bounded whatever the session's
length: the scatter strides each lap to at most :data:`MAX_SCATTER_POINTS` points, and the
histogram hands pyqtgraph :data:`BINS` steps per lap. A text channel (integer codes with a
label table) reads as its labels: on a scatter axis its ticks are the labels, and its
histogram has one bar per label.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor, QImage, QPainter, QPalette, QShowEvent
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from desktop_app.analysis.decimate import stride
from desktop_app.analysis.formatting import axis_label
from storage.types import FloatArray, LapTelemetry

#: points per lap in the scatter (a 1 h, 100 Hz lap is strided to this)
MAX_SCATTER_POINTS = 4000
#: bins of the histogram (over the range of all laps shown)
BINS = 60


class ChannelChart(QWidget):
    """Channel pickers above one pyqtgraph plot; draws when shown."""

    def __init__(self, pickers: Sequence[tuple[str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = pg.PlotWidget()
        self.plot.setBackground(self.palette().color(QPalette.ColorRole.Base))
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        text = self.palette().color(QPalette.ColorRole.Text)
        for side in ("left", "bottom"):
            axis = self.plot.getAxis(side)
            axis.enableAutoSIPrefix(False)  # the label carries the unit; no "(x0.001)"
            axis.setTextPen(pg.mkPen(text))
            axis.setPen(pg.mkPen(self.palette().color(QPalette.ColorRole.Mid)))
        self.plot.addLegend(offset=(-10, 10), labelTextColor=text)
        self.pickers: dict[str, QComboBox] = {}
        row = QHBoxLayout()
        for key, title in pickers:
            combo = QComboBox()
            combo.setObjectName(key)
            self.pickers[key] = combo
            row.addWidget(QLabel(title))
            row.addWidget(combo)
            combo.currentTextChanged.connect(lambda _t: self.redraw())
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.plot, 1)
        self._laps: list[LapTelemetry] = []
        self._colours: list[QColor] = []
        self._labels: list[str] = []
        self._units: dict[str, str] = {}
        self._text: dict[str, tuple[str, ...]] = {}
        self._stale = True

    def set_laps(
        self,
        laps: Sequence[LapTelemetry],
        colours: Sequence[QColor],
        labels: Sequence[str],
        units: Mapping[str, str],
        channels: Sequence[str],
        defaults: Mapping[str, Sequence[str]],
        text: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        """What to draw; the pickers offer ``channels`` and keep the user's pick if present.
        ``text`` are the text channels' label tables (code = index)."""
        self._laps, self._colours, self._labels, self._units = list(laps), list(colours), list(labels), dict(units)
        self._text = {k: tuple(v) for k, v in (text or {}).items()}
        for key, combo in self.pickers.items():
            current = combo.currentText()
            combo.blockSignals(True)
            combo.clear()
            combo.addItems(list(channels))
            wanted = [current] if current in channels else []
            pick = next(
                (c for c in [*wanted, *defaults.get(key, ())] if c in channels), channels[0] if channels else ""
            )
            combo.setCurrentText(pick)
            combo.blockSignals(False)
        self._stale = True
        if self.isVisible():
            self.redraw()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._stale:
            self.redraw()

    def redraw(self) -> None:
        if not self.isVisible():
            self._stale = True
            return
        self._stale = False
        self.plot.clear()
        self._draw()

    def _label(self, name: str) -> str:
        return axis_label(name, self._units.get(name))

    def _set_axis(self, side: str, name: str) -> None:
        """Label an axis by ``name``; a text channel's ticks are its labels at their codes."""
        self.plot.setLabel(side, self._label(name))
        table = self._text.get(name)
        ticks = None if table is None else [[(float(code), label) for code, label in enumerate(table)]]
        self.plot.getAxis(side).setTicks(ticks)

    def tick_texts(self, side: str) -> list[str]:
        """The tick strings an axis draws now (what the user reads)."""
        image = QImage(8, 8, QImage.Format.Format_ARGB32)
        painter = QPainter(image)
        try:
            specs = self.plot.getAxis(side).generateDrawSpecs(painter)
        finally:
            painter.end()
        return [str(text) for _rect, _flags, text in specs[2]]

    def _draw(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def item_count(self) -> int:
        return len(self.plot.getPlotItem().listDataItems())


class ScatterChart(ChannelChart):
    """One channel against another, a dot per (strided) sample, per lap."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__((("x", "X"), ("y", "Y")), parent)

    def _draw(self) -> None:
        xname, yname = self.pickers["x"].currentText(), self.pickers["y"].currentText()
        if not xname or not yname:
            return
        for lap, colour, label in zip(self._laps, self._colours, self._labels):
            if xname not in lap.channels or yname not in lap.channels:
                continue
            x, y = lap.channels[xname], lap.channels[yname]
            keep = np.isfinite(x) & np.isfinite(y)
            x, y = x[keep], y[keep]
            step = stride(x.size, MAX_SCATTER_POINTS)
            item = pg.ScatterPlotItem(x[::step], y[::step], size=3, pen=None, brush=pg.mkBrush(colour), name=label)
            self.plot.addItem(item)
        self._set_axis("bottom", xname)
        self._set_axis("left", yname)

    def points(self) -> list[tuple[FloatArray, FloatArray]]:
        """What each lap's dots are (for tests)."""
        out = []
        for item in self.plot.getPlotItem().listDataItems():
            x, y = item.getData()
            out.append((np.asarray(x), np.asarray(y)))
        return out


class HistogramChart(ChannelChart):
    """How much of each lap's time a channel spends in each band (per cent of its samples)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__((("channel", "Channel"),), parent)
        self.edges: FloatArray = np.empty(0)
        self.shares: list[FloatArray] = []

    def _draw(self) -> None:
        name = self.pickers["channel"].currentText()
        self.shares = []
        values = [lap.channels[name] for lap in self._laps if name in lap.channels]
        finite = [v[np.isfinite(v)] for v in values]
        if not name or not any(v.size for v in finite):
            return
        lo = min(float(v.min()) for v in finite if v.size)
        hi = max(float(v.max()) for v in finite if v.size)
        table = self._text.get(name)
        if table is not None:  # one bar per label, centred on its code
            self.edges = np.arange(len(table) + 1, dtype=np.float64) - 0.5
        else:
            self.edges = np.linspace(lo, hi if hi > lo else lo + 1.0, BINS + 1)
        for lap, colour, label in zip(self._laps, self._colours, self._labels):
            if name not in lap.channels:
                continue
            v = lap.channels[name]
            v = v[np.isfinite(v)]
            counts, _ = np.histogram(v, bins=self.edges)
            share = counts * (100.0 / max(v.size, 1))
            self.shares.append(share)
            fill = QColor(colour)
            fill.setAlpha(60)
            self.plot.addItem(
                pg.PlotDataItem(
                    self.edges,
                    share,
                    stepMode="center",
                    pen=pg.mkPen(colour, width=1),
                    fillLevel=0.0 if table is not None else None,
                    brush=pg.mkBrush(fill),
                    name=label,
                )
            )
        self._set_axis("bottom", name)
        self.plot.setLabel("left", "share of samples [%]")
