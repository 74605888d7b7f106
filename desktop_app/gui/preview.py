"""The lap preview: stacked channel plots, the delta trace, the cursor readout and the map.

What is shown and what the user arranged lives in a Qt-free
:class:`~desktop_app.analysis.preview_state.PreviewState` (``self.state``): this widget
draws it and turns the user's gestures into its calls (see
docs/architecture.md#the-preview-state). ``PreviewWidget.show_laps`` takes plain
:class:`storage.types.LapTelemetry` (canonical units; NaN = no sample); nothing is changed
in them. Speeds are converted for display only. The reference lap is drawn thicker and is
the base of the delta trace. The X-Y and histogram tabs (:mod:`.charts`) draw the same laps;
the channel list is :mod:`.channel_panel`.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor, QPen
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop_app.analysis.delta import delta_time
from desktop_app.analysis.formatting import convert_speed_array
from desktop_app.analysis.mathchannels import MathChannel
from desktop_app.analysis.preview_state import DELTA_KEY, Labels, PreviewState, XAxis
from desktop_app.analysis.readout import DELTA_TITLE, readout_html
from storage.types import FloatArray, LapTelemetry

from .channel_panel import ChannelPanel
from .charts import HistogramChart, ScatterChart
from .exports import ask_plot_path, export_plot
from .plots import ChannelPlotsWidget, lap_colour
from .track_map import MapTrack, TrackMapWidget, has_gps

__all__ = ["DELTA_KEY", "PreviewWidget"]

#: how long after the plots the map is drawn (ms): long enough for their paint to go first
MAP_DELAY_MS = 25
#: whole-pixel pen widths: Qt's raster engine strokes fractional widths (2.6/1.3 were) at
#: twice the cost per curve
REFERENCE_WIDTH = 2.0
LAP_WIDTH = 1.0


class PreviewWidget(QWidget):
    """Overlay of selected laps: channel plots, delta to the reference, readout and map."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = PreviewState()
        self._rendering = False
        self._axis_x: list[FloatArray] = []  #: per lap, its x values (non-decreasing)

        self.plots = ChannelPlotsWidget()
        self.readout = QLabel()
        self.readout.setTextFormat(Qt.TextFormat.RichText)
        self.readout.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.track_map = TrackMapWidget()
        self.channels = ChannelPanel()
        self.channel_list = self.channels.list
        self.channel_search = self.channels.search
        self.colour_channel = QComboBox()

        self.scatter = ScatterChart()
        self.histogram = HistogramChart()
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.plots, "Traces")
        self.tabs.addTab(self.scatter, "X-Y")
        self.tabs.addTab(self.histogram, "Histogram")
        self.math_button = QPushButton("Math channel…")
        self.export_laps_button = QPushButton("Export laps…")
        self.export_plot_button = QPushButton("Export plot…")
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.tabs, 1)
        left_layout.addWidget(self.readout)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.track_map, 3)
        form = QFormLayout()
        form.addRow("Map colour", self.colour_channel)
        right_layout.addLayout(form)
        right_layout.addWidget(QLabel("Channels"))
        right_layout.addWidget(self.channels, 2)
        buttons = QHBoxLayout()
        for button in (self.math_button, self.export_laps_button, self.export_plot_button):
            buttons.addWidget(button)
        right_layout.addLayout(buttons)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)

        # The map is drawn a moment after the plots: the plots' paint (which Qt posts behind
        # a zero timer) and the map's then come in separate event-loop turns instead of one
        # long freeze of the GUI thread.
        self._map_timer = QTimer(self)
        self._map_timer.setSingleShot(True)
        self._map_timer.setInterval(MAP_DELAY_MS)
        self._map_timer.timeout.connect(self._render_map)
        self.plots.cursorMoved.connect(self._on_cursor)
        self.channels.menu_choices = self._menu_choices
        self.channels.toggled.connect(self._on_channel_toggled)
        self.channels.reordered.connect(self._on_channels_moved)
        self.channels.hostPicked.connect(lambda name, host: self.plot_with(name, host or None))
        self.colour_channel.currentTextChanged.connect(self._on_colour_channel)
        self.math_button.clicked.connect(self._ask_math_channel)
        self.export_plot_button.clicked.connect(self._ask_export_plot)
        self.clear()

    # --- public API -------------------------------------------------------------------
    def show_laps(
        self,
        laps: Sequence[LapTelemetry],
        reference: LapTelemetry | None,
        units: Mapping[str, str],
        names: Mapping[int, str] | None = None,
        labels: Labels | None = None,
        lap_labels: Mapping[int, Labels] | None = None,
    ) -> None:
        """Overlay ``laps`` (display order = colour order) against ``reference``.

        The reference is drawn thicker; if it is not among ``laps`` it is drawn too, first.
        ``units`` maps channel names to their (canonical or logged) unit for the labels.
        ``names`` labels laps by ``id(lap)`` (a lap of another session: "S7 lap 5"); the
        others are "Lap N". ``labels`` are the text channels' code-to-label tables: the
        readout and the y axis show the text for the codes; ``lap_labels`` (by ``id(lap)``)
        are the tables of a lap of another session, whose codes are mapped by label.
        """
        self.state.show(laps, reference, units, names, labels, lap_labels)
        self._redraw_all()

    def _redraw_all(self) -> None:
        self._fill_channel_list()
        self._fill_colour_channels()
        self._render()
        self._fill_charts()

    def _relayout(self) -> None:
        """A layout choice changed: the channel list and the traces follow."""
        self._fill_channel_list()
        if self.state.laps:
            self._render()

    # --- math channels ----------------------------------------------------------------
    def set_math_channels(self, channels: Sequence[MathChannel]) -> None:
        """Use these math channels (evaluated on every lap shown, offered like any channel)."""
        self.state.set_math_channels(channels)
        if self.state.given():
            self._redraw_all()

    def math_channels(self) -> list[MathChannel]:
        return list(self.state.math)

    def math_errors(self) -> list[str]:
        """Why a math channel could not be computed on the laps shown (one message each)."""
        return list(self.state.math_errors)

    def _ask_math_channel(self) -> None:
        text, ok = QInputDialog.getText(
            self,
            "Math channel",
            "name = expression, e.g.  speed_ms = speed / 3.6  (channels by name, spaces as _)",
        )
        if ok and text.strip():
            self.add_math_channel(text)

    def add_math_channel(self, definition: str) -> MathChannel:
        """Add ``name = expression`` (raises :class:`MathChannelError` on a bad one)."""
        math = self.state.add_math_channel(definition)
        if self.state.given():
            self._redraw_all()
        return math

    # --- graphs: several channels in one, layout ----------------------------------------
    def plot_with(self, channel: str, host: str | None) -> None:
        """Draw ``channel`` in ``host``'s graph (None: in its own graph)."""
        self.state.plot_with(channel, host)
        self._relayout()

    def graph_of(self, channel: str) -> str:
        """The plot key a channel is drawn in."""
        return self.state.graph_of(channel)

    def _menu_choices(self) -> tuple[list[str], set[str]]:
        plotted = self.state.channels_to_plot()
        return [c for c in plotted if self.graph_of(c) == c], set(self.state.hosts)

    def layout_state(self) -> dict[str, object]:
        """What the user chose for the graphs, to be remembered (JSON-able)."""
        return {**self.state.layout_state(), "tab": self.tabs.currentIndex()}

    def restore_layout_state(self, state: Mapping[str, object]) -> None:
        """Take back what :meth:`layout_state` gave (unknown or bad entries are ignored)."""
        self.state.restore_layout_state(state)
        tab = state.get("tab")
        if isinstance(tab, int) and 0 <= tab < self.tabs.count():
            self.tabs.setCurrentIndex(tab)
        if self.state.given():
            self._redraw_all()

    def move_graph(self, channel: str, position: int) -> None:
        """Put ``channel`` at ``position`` among the channels (graphs follow the list order)."""
        self.state.move_graph(channel, position)
        self._relayout()

    def set_channels(self, channels: Sequence[str]) -> None:
        """Choose the plotted channels (the channel list's check boxes follow)."""
        self.state.set_channels(channels)
        self._relayout()

    # --- charts and exports -----------------------------------------------------------
    def _fill_charts(self) -> None:
        n = len(self.state.laps)
        colours = [self.colour_of(i) for i in range(n)]
        labels = [self.lap_label(i) for i in range(n)]
        laps, names, units, text = self.shown_laps(), self.available_channels(), self.state.units, self.state.labels
        self.scatter.set_laps(laps, colours, labels, units, names, {"x": ("glat",), "y": ("glong", "speed")}, text)
        self.histogram.set_laps(laps, colours, labels, units, names, {"channel": ("throttle", "rpm")}, text)

    def shown_laps(self) -> list[LapTelemetry]:
        """The laps drawn, reference included, with their math channels."""
        return [s.lap for s in self.state.laps]

    def units(self) -> dict[str, str]:
        return {**self.state.units, **{m.name: m.unit for m in self.state.math if m.unit}}

    def export_plot(self, path: str | Path) -> Path:
        """The traces (or the chart on show) as PNG or SVG, by the file's suffix."""
        tab = self.tabs.currentWidget()
        self.plots.draw_now()  # every row's curves, also those still waiting for their turn
        item = self.plots.layout_item() if tab is self.plots else tab.plot.getPlotItem()  # type: ignore[attr-defined]
        return export_plot(item, path)

    def _ask_export_plot(self) -> None:
        path = ask_plot_path(self)
        if path:
            self.export_plot(path)

    # --- laps, names, colours -------------------------------------------------------------
    def new_session(self) -> None:
        """Another session is about to be shown: lap colours and zoom start afresh."""
        self.state.new_session()

    def lap_name(self, index: int) -> str:
        """The lap's name without the reference mark: "Lap 5", or "S7 lap 5" from another session."""
        return self.state.lap_name(index)

    def lap_label(self, index: int) -> str:
        return self.state.lap_label(index)

    def colour_of(self, index: int) -> QColor:
        """The colour of the index-th lap shown: the same for a lap whatever else is shown."""
        return lap_colour(self.state.colour_slot(index))

    def clear(self) -> None:
        """Show nothing."""
        self.state.clear()
        self._map_timer.stop()
        self.plots.clear()
        self.track_map.clear()
        self.readout.setText("Select laps in the table to overlay them.")
        self.channels.clear()
        self.colour_channel.blockSignals(True)
        self.colour_channel.clear()
        self.colour_channel.blockSignals(False)
        self._fill_charts()

    def hold(self, text: str) -> None:
        """The laps shown are gone and others are on their way: no curve, no value, ``text``
        in the readout, but the graphs stay in place for the new laps."""
        self.state.hold()
        self._map_timer.stop()
        self.plots.hide_curves()
        self.track_map.clear()
        self.readout.setText(html.escape(text))

    def show_message(self, text: str) -> None:
        """Show nothing but ``text`` (e.g. why the laps could not be read)."""
        self.clear()
        self.readout.setText(html.escape(text))

    def set_speed_unit(self, unit: str) -> None:
        """Show speeds in ``"km/h"`` or ``"mph"`` (the laps keep km/h)."""
        self.state.set_speed_unit(unit)
        if self.state.laps:
            self._render()

    def set_x_axis(self, axis: str) -> None:
        """Plot against lap ``"distance"`` (default) or lap ``"time"``."""
        self.state.set_x_axis(axis)
        if self.state.laps:
            self._render()

    def x_axis(self) -> XAxis:
        """The axis the plots are drawn against: time when the laps have no usable distance."""
        return self.state.x_axis()

    def set_cursor(self, x: float | None) -> None:
        """Put the crosshair at ``x`` (metres or seconds, per the x axis)."""
        self.plots.set_cursor(x)

    def available_channels(self) -> list[str]:
        """Channels with at least one sample in the shown laps: standard first, then auxiliary."""
        return list(self.state.available)

    def plotted_channels(self) -> list[str]:
        """The channel plots shown, top to bottom (the delta trace excluded)."""
        if self.state.holding:
            return []
        return [k for k in self.plots.plot_keys() if k != DELTA_KEY]

    # --- building ---------------------------------------------------------------------
    def _fill_channel_list(self) -> None:
        names = self.state.ordered(self.state.available)
        self.channels.fill([(n, self.state.channel_title(n)) for n in names], set(self.state.channels_to_plot()))

    def _fill_colour_channels(self) -> None:
        current = self.colour_channel.currentText() or "speed"
        names = self.available_channels()
        self.colour_channel.blockSignals(True)
        self.colour_channel.clear()
        self.colour_channel.addItems(names)
        pick = current if current in names else ("speed" if "speed" in names else (names[0] if names else ""))
        self.colour_channel.setCurrentText(pick)
        self.colour_channel.blockSignals(False)

    def _display_values(self, name: str, values: FloatArray) -> FloatArray:
        return convert_speed_array(values, self.state.speed_unit) if name == "speed" else values

    def _pen(self, index: int) -> QPen:
        width = REFERENCE_WIDTH if index == self.state.reference else LAP_WIDTH
        pen: QPen = pg.mkPen(self.colour_of(index), width=width)
        return pen

    def _render(self) -> None:
        state = self.state
        cursor = self.plots.cursor_x()
        if self.plots.plot_keys():
            state.note_view(self.plots.x_range())
        self.channels.relabel(state.channel_title)  # labels follow the speed unit
        self._axis_x = [state.x_values(i) for i in range(len(state.laps))]
        x_max = max((float(np.nanmax(x)) for x in self._axis_x if x.size and np.isfinite(x).any()), default=1.0)
        graphs = state.graphs()
        rows = [(g.key, " · ".join(state.channel_title(c) for c in g.channels)) for g in graphs]
        short = {g.key: " · ".join(g.channels) for g in graphs}
        delta_title = state.delta_title()
        if delta_title is not None:
            rows.append((DELTA_KEY, delta_title))
        short[DELTA_KEY] = DELTA_TITLE
        ticks = {g.key: g.ticks for g in graphs if g.ticks is not None}
        self.plots.set_rows(rows, zero_line={DELTA_KEY}, short=short, ticks=ticks)
        for graph in graphs:
            for name in graph.channels:
                guest = name != graph.key
                for i, shown in enumerate(state.laps):
                    if name in shown.lap.channels:
                        y = self._display_values(name, shown.lap.channels[name])
                        pen = self._pen(i)
                        if guest:  # a second channel in a graph: same lap colour, dashed
                            pen.setStyle(Qt.PenStyle.DashLine)
                        self.plots.add_curve(graph.key, i, self.lap_label(i), self._axis_x[i], y, pen, channel=name)
        axis = state.x_axis()
        if state.reference is not None:
            reference = state.laps[state.reference].lap
            for i, shown in enumerate(state.laps):
                trace = delta_time(shown.lap, reference)
                x = trace.distance if axis == "distance" else trace.time
                self.plots.add_curve(DELTA_KEY, i, self.lap_label(i), x, trace.delta, self._pen(i))
        x_label = "distance [m]" if axis == "distance" else "time [s]"
        view = state.drawn(x_max)
        if view is not None:
            self.plots.finish(0.0, x_max, x_label, view=view)
        else:
            self.plots.finish(0.0, x_max, x_label)
        self._map_timer.start()
        self._rendering = True  # the map follows the cursor when it is drawn
        try:
            self.plots.set_cursor(cursor if cursor is not None and cursor <= x_max else None)
        finally:
            self._rendering = False
        # the readout shows the laps now drawn, at the cursor, without waiting for the mouse
        self._update_readout(self.plots.cursor_x())

    def map_pending(self) -> bool:
        """True between a draw of the plots and the map's draw (the next event-loop turn)."""
        return self._map_timer.isActive()

    def _render_map(self) -> None:
        self._map_timer.stop()
        name = self.colour_channel.currentText()
        laps = self.shown_laps()
        order = list(range(len(laps)))
        if self.state.reference is not None:  # the map draws the reference lap's trace
            order.insert(0, order.pop(self.state.reference))
        tracks = [
            MapTrack(
                label=self.lap_label(i),
                colour=self.colour_of(i),
                lat=lap.channels.get("lat", np.empty(0)),
                long=lap.channels.get("long", np.empty(0)),
                axis_x=self._axis_x[i],
                value=self._display_values(name, lap.channels[name]) if name in lap.channels else None,
            )
            for i, lap in ((i, laps[i]) for i in order)
            if has_gps(lap.channels.get("lat"), lap.channels.get("long"))
        ]
        if not tracks and laps:
            # no lap has a position: the map says so instead of staying blank
            empty = np.empty(0)
            tracks = [MapTrack("", self.colour_of(0), empty, empty, empty)]
        self.track_map.set_tracks(tracks, self.state.channel_title(name) if name else "")
        self.colour_channel.setEnabled(not self.track_map.showing_message())  # nothing to colour
        self.track_map.set_cursor(self.plots.cursor_x())

    # --- reactions --------------------------------------------------------------------
    def _on_cursor(self, x: float) -> None:
        if self._map_timer.isActive():
            if self._rendering:
                return  # the map is drawn next turn with this cursor; _render updates the readout
            self._render_map()  # the user moved the cursor before the map was drawn
        self.track_map.set_cursor(x)
        self._update_readout(x)

    def readout_values(self, x: float) -> dict[str, dict[str, float | None]]:
        """Per channel (or "delta"), per lap label: the value at ``x`` (own nearest sample,
        None where the lap has no sample there). What the readout label shows; a graph
        holding several channels gives each its own entry."""
        x0, x1 = self.plots.x_range()
        tolerance = max(x1 - x0, 1e-9) / 200.0
        values: dict[str, dict[str, float | None]] = {}
        for key in self.plots.plot_keys():
            for c in self.plots.curves(key):
                values.setdefault(c.channel or key, {})[c.label] = c.value_at(x, tolerance)
        return values

    def _update_readout(self, x: float | None) -> None:
        state = self.state
        if x is None or not state.laps:
            self.readout.setText("Move the mouse over the plots for values." if state.laps else "")
            return
        values = self.readout_values(x)
        titles = {k: DELTA_TITLE if k == DELTA_KEY else state.channel_title(k) for k in values}
        laps = [(self.lap_label(i), self.colour_of(i).name()) for i in range(len(state.laps))]
        self.readout.setText(readout_html(state.x_axis(), x, values, titles, laps, state.labels, DELTA_KEY))

    def _on_channel_toggled(self, name: str, on: bool) -> None:
        # only the channel the user clicked becomes a choice; the others keep their defaults
        self.state.tick(name, on)
        if self.state.laps:
            self._render()

    def _on_channels_moved(self, names: list[str]) -> None:
        # the user dragged a channel in the list: its order becomes the graphs' order
        self.state.set_order(names)
        if self.state.laps:
            QTimer.singleShot(0, self._render)  # after the drop has finished with the list

    def _on_colour_channel(self, _name: str) -> None:
        if self.state.laps:
            self._render_map()  # the user's choice: drawn at once
