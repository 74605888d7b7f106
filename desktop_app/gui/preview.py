"""The lap preview: stacked channel plots, the delta trace, the cursor readout and the map.

``PreviewWidget.show_laps`` takes plain :class:`storage.types.LapTelemetry` (canonical
units; NaN = no sample) and draws them; nothing is changed in them. Speeds are converted
for display only. The reference lap is drawn thicker and is the base of the delta trace.

What the user arranges is kept from file to file (and in the settings, through
:meth:`PreviewWidget.layout_state`): which channels are ticked (per channel; the rest
follow the defaults), the graphs' order (dragged in the channel list), channels sharing a
graph, and math channels. A lap keeps its colour while its session is shown, and a zoom is
kept when other laps are selected. Files without usable distance are drawn against time.
The X-Y and histogram tabs (:mod:`.charts`) draw the same laps.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtGui import QColor, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop_app.analysis.delta import delta_time
from desktop_app.analysis.formatting import (
    SpeedUnit,
    axis_label,
    check_speed_unit,
    convert_speed_array,
    display_unit,
    format_coded,
    format_delta,
)
from desktop_app.analysis.mathchannels import MathChannel, MathChannelError, evaluate, parse
from storage.types import STANDARD_CHANNELS, FloatArray, LapTelemetry

from .charts import HistogramChart, ScatterChart
from .plots import ChannelPlotsWidget, lap_colour
from .track_map import MapTrack, TrackMapWidget, has_gps

XAxis = Literal["distance", "time"]
#: channels plotted by default when the laps have them, in this order
DEFAULT_CHANNELS: tuple[str, ...] = ("speed", "throttle", "brake", "gear", "rpm", "steering", "glat", "glong")
#: never offered as a plot: the axes and the map's coordinates
NOT_PLOTTED = frozenset({"time", "distance", "lat", "long"})
DELTA_KEY = "delta"
#: how long after the plots the map is drawn (ms): long enough for their paint to go first
MAP_DELAY_MS = 25
#: shown when no standard channel is there: the file's first channels (a MoTeC dash log)
FIRST_FEW = 4
#: a lap's distance must span at least this much to be an x axis (m); else time is used
MIN_DISTANCE_SPAN_M = 1.0
#: whole-pixel pen widths: Qt's raster engine strokes fractional widths (2.6/1.3 were) at
#: twice the cost per curve
REFERENCE_WIDTH = 2.0
LAP_WIDTH = 1.0


def _same_lap(a: LapTelemetry, b: LapTelemetry) -> bool:
    return a is b or (a.lap_number == b.lap_number and a.start_offset == b.start_offset)


class PreviewWidget(QWidget):
    """Overlay of selected laps: channel plots, delta to the reference, readout and map."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._laps: list[LapTelemetry] = []
        self._reference: int | None = None  #: index into _laps
        self._units: dict[str, str] = {}
        self._text_labels: dict[str, tuple[str, ...]] = {}  #: text channel -> code's label
        self._speed_unit: SpeedUnit = "km/h"
        self._x_axis: XAxis = "distance"
        #: the user's tick (True) or untick (False) per channel name, kept from file to file;
        #: channels the user never touched follow the defaults
        self._choice: dict[str, bool] = {}
        #: a stable palette slot per lap number while one session is shown
        self._colours: dict[str, int] = {}  #: by lap name
        self._names: dict[int, str] = {}  #: id(lap) -> its name, for laps of other sessions
        self._source_names: dict[int, str] = {}
        #: the x range the user zoomed to (None: the whole lap), kept across redraws
        self._zoom: tuple[float, float] | None = None
        self._full_x: tuple[float, float] = (0.0, 1.0)
        self._drawn_axis: XAxis = "distance"
        self._fresh = True  #: nothing of this session drawn yet: no zoom to keep
        self._holding = False  #: between hold() and the next draw
        #: guest channel -> the channel whose graph it is drawn in (throttle and brake together)
        self._hosts: dict[str, str] = {}
        #: the user's graph order (channel names, top first); channels not in it follow
        self._order: list[str] = []
        #: the user's math channels, evaluated on every lap shown
        self._math: list[MathChannel] = []
        self._math_errors: list[str] = []
        self._source: list[LapTelemetry] = []  #: the laps as given (before math channels)
        self._source_reference: LapTelemetry | None = None
        self._rendering = False
        self._axis_x: list[FloatArray] = []  #: per lap, its x values (non-decreasing)
        self._available: list[str] = []  #: channels with samples in the shown laps

        self.plots = ChannelPlotsWidget()
        self.readout = QLabel()
        self.readout.setTextFormat(Qt.TextFormat.RichText)
        self.readout.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.track_map = TrackMapWidget()
        self.channel_list = QListWidget()
        self.channel_search = QLineEdit()
        self.channel_search.setPlaceholderText("Search channels")
        self.channel_search.setClearButtonEnabled(True)
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
        right_layout.addWidget(self.channel_search)
        right_layout.addWidget(self.channel_list, 2)
        buttons = QHBoxLayout()
        for button in (self.math_button, self.export_laps_button, self.export_plot_button):
            buttons.addWidget(button)
        right_layout.addLayout(buttons)
        self.channel_list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        # drag a channel up or down: the graphs follow the list's order
        self.channel_list.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.channel_list.model().rowsMoved.connect(self._on_channels_moved)
        self.channel_list.customContextMenuRequested.connect(self._channel_menu)
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
        self.channel_list.itemChanged.connect(self._on_channel_toggled)
        self.channel_search.textChanged.connect(lambda _t: self._filter_channels())
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
        labels: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        """Overlay ``laps`` (display order = colour order) against ``reference``.

        The reference is drawn thicker; if it is not among ``laps`` it is drawn too, first.
        ``units`` maps channel names to their (canonical or logged) unit for the labels.
        ``names`` labels laps by ``id(lap)`` (a lap of another session: "S7 lap 5"); the
        others are "Lap N". ``labels`` are the text channels' code-to-label tables: the
        readout and the y axis show the text for the codes.
        """
        self._holding = False
        self._source, self._source_reference = list(laps), reference
        self._source_names = dict(names or {})
        self._names = {}
        shown = []
        for lap in laps:
            drawn = self._with_math(lap)
            if id(lap) in self._source_names:
                self._names[id(drawn)] = self._source_names[id(lap)]
            shown.append(drawn)
        if reference is not None:
            drawn_ref = next((d for lap, d in zip(laps, shown) if lap is reference), None) or self._with_math(reference)
            if id(reference) in self._source_names:
                self._names[id(drawn_ref)] = self._source_names[id(reference)]
            reference = drawn_ref
        self._reference = None
        if reference is not None:
            found = next((i for i, lap in enumerate(shown) if lap is reference), None)
            if found is None and id(reference) not in self._names:
                found = next(
                    (i for i, lap in enumerate(shown) if id(lap) not in self._names and _same_lap(lap, reference)),
                    None,
                )
            if found is None:
                shown.insert(0, reference)
                found = 0
            self._reference = found
        self._laps = shown
        self._assign_colours()
        self._available = self._find_available()
        self._units = dict(units)
        self._text_labels = {name: tuple(table) for name, table in (labels or {}).items()}
        self._fill_channel_list()
        self._fill_colour_channels()
        self._render()
        self._fill_charts()

    # --- math channels ----------------------------------------------------------------
    def set_math_channels(self, channels: Sequence[MathChannel]) -> None:
        """Use these math channels (evaluated on every lap shown, offered like any channel)."""
        self._math = list(channels)
        if self._source:
            self.show_laps(self._source, self._source_reference, self._units, self._source_names, self._text_labels)

    def math_channels(self) -> list[MathChannel]:
        return list(self._math)

    def math_errors(self) -> list[str]:
        """Why a math channel could not be computed on the laps shown (one message each)."""
        return list(self._math_errors)

    def _with_math(self, lap: LapTelemetry) -> LapTelemetry:
        if not self._math:
            return lap
        channels = dict(lap.channels)  # a new dict: the lap itself is never changed
        for math in self._math:
            try:
                channels[math.name] = evaluate(math.expression, channels)
            except MathChannelError as exc:
                if str(exc) not in self._math_errors:
                    self._math_errors.append(str(exc))
        return LapTelemetry(lap.lap_number, lap.start_offset, channels)

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
        name, sep, expression = definition.partition("=")
        if not sep or not name.strip() or not expression.strip():
            raise MathChannelError(f"math channel {definition!r}: write it as  name = expression")
        parse(expression)
        math = MathChannel(name.strip(), expression.strip())
        self._math = [m for m in self._math if m.name != math.name] + [math]
        self._choice[math.name] = True
        self.set_math_channels(self._math)
        return math

    # --- graphs: several channels in one, layout ----------------------------------------
    def plot_with(self, channel: str, host: str | None) -> None:
        """Draw ``channel`` in ``host``'s graph (None: in its own graph)."""
        if host is None or host == channel:
            self._hosts.pop(channel, None)
        else:
            self._hosts[channel] = self._hosts.get(host, host)
            for guest, old in list(self._hosts.items()):
                if old == channel:  # its own guests follow it
                    self._hosts[guest] = self._hosts[channel]
            self._choice[channel] = True
        self._fill_channel_list()
        if self._laps:
            self._render()

    def graph_of(self, channel: str) -> str:
        """The plot key a channel is drawn in."""
        return self._hosts.get(channel, channel)

    def _channel_menu(self, pos: QPoint) -> None:
        item = self.channel_list.itemAt(pos)
        if item is None:
            return
        name = str(item.data(Qt.ItemDataRole.UserRole))
        menu = QMenu(self)
        into = menu.addMenu("Plot in the graph of")
        for other in self._channels_to_plot():
            if other != name and self.graph_of(other) == other:
                into.addAction(other, lambda other=other: self.plot_with(name, other))
        own = menu.addAction("Own graph", lambda: self.plot_with(name, None))
        own.setEnabled(name in self._hosts)
        menu.exec(self.channel_list.viewport().mapToGlobal(pos))

    def layout_state(self) -> dict[str, object]:
        """What the user chose for the graphs, to be remembered (JSON-able)."""
        return {
            "choice": dict(self._choice),
            "hosts": dict(self._hosts),
            "order": list(self._order),
            "math": [{"name": m.name, "expression": m.expression, "unit": m.unit} for m in self._math],
            "tab": self.tabs.currentIndex(),
        }

    def restore_layout_state(self, state: Mapping[str, object]) -> None:
        """Take back what :meth:`layout_state` gave (unknown or bad entries are ignored)."""
        choice, hosts, math, tab, order = (state.get(k) for k in ("choice", "hosts", "math", "tab", "order"))
        if isinstance(order, list):
            self._order = [str(n) for n in order]
        if isinstance(choice, dict):
            self._choice = {str(k): bool(v) for k, v in choice.items()}
        if isinstance(hosts, dict):
            self._hosts = {str(k): str(v) for k, v in hosts.items()}
        if isinstance(math, list):
            kept = []
            for m in math:
                if isinstance(m, dict) and isinstance(m.get("name"), str) and isinstance(m.get("expression"), str):
                    try:
                        parse(m["expression"])
                    except MathChannelError:
                        continue
                    kept.append(MathChannel(m["name"], m["expression"], str(m.get("unit") or "")))
            self._math = kept
        if isinstance(tab, int) and 0 <= tab < self.tabs.count():
            self.tabs.setCurrentIndex(tab)
        if self._source:
            self.show_laps(self._source, self._source_reference, self._units, self._source_names, self._text_labels)

    # --- charts and exports -----------------------------------------------------------
    def _fill_charts(self) -> None:
        colours = [self.colour_of(i) for i in range(len(self._laps))]
        labels = [self.lap_label(i) for i in range(len(self._laps))]
        names = self.available_channels()
        self.scatter.set_laps(
            self._laps, colours, labels, self._units, names, {"x": ("glat",), "y": ("glong", "speed")}
        )
        self.histogram.set_laps(self._laps, colours, labels, self._units, names, {"channel": ("throttle", "rpm")})

    def shown_laps(self) -> list[LapTelemetry]:
        """The laps drawn, reference included, with their math channels."""
        return list(self._laps)

    def units(self) -> dict[str, str]:
        return {**self._units, **{m.name: m.unit for m in self._math if m.unit}}

    def export_plot(self, path: str | Path) -> Path:
        """The traces (or the chart on show) as PNG or SVG, by the file's suffix."""
        from pyqtgraph.exporters import ImageExporter, SVGExporter

        target = Path(path)
        tab = self.tabs.currentWidget()
        item = self.plots.layout_item() if tab is self.plots else tab.plot.getPlotItem()  # type: ignore[attr-defined]
        exporter = SVGExporter(item) if target.suffix.lower() == ".svg" else ImageExporter(item)
        exporter.export(str(target))
        return target

    def _ask_export_plot(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export plot", "laps.png", "PNG image (*.png);;SVG (*.svg)")
        if path:
            self.export_plot(path)

    def new_session(self) -> None:
        """Another session is about to be shown: lap colours and zoom start afresh."""
        self._colours = {}
        self._zoom = None
        self._fresh = True

    def lap_name(self, index: int) -> str:
        """The lap's name without the reference mark: "Lap 5", or "S7 lap 5" from another session."""
        lap = self._laps[index]
        return self._names.get(id(lap), f"Lap {lap.lap_number}")

    def _assign_colours(self) -> None:
        names = [self.lap_name(i) for i in range(len(self._laps))]
        taken = {self._colours[n] for n in names if n in self._colours}
        for name in names:
            if name not in self._colours:
                free = next(i for i in range(len(self._colours) + len(names) + 1) if i not in taken)
                self._colours[name] = free
                taken.add(free)

    def colour_of(self, index: int) -> QColor:
        """The colour of the index-th lap shown: the same for a lap whatever else is shown."""
        return lap_colour(self._colours.get(self.lap_name(index), index))

    def clear(self) -> None:
        """Show nothing."""
        self._holding = False
        self._laps = []
        self._available = []
        self._reference = None
        self._map_timer.stop()
        self.plots.clear()
        self.track_map.clear()
        self.readout.setText("Select laps in the table to overlay them.")
        self.channel_list.blockSignals(True)
        self.channel_list.clear()
        self.channel_list.blockSignals(False)
        self.colour_channel.blockSignals(True)
        self.colour_channel.clear()
        self.colour_channel.blockSignals(False)
        self._source, self._source_reference = [], None
        self._source_names, self._names = {}, {}
        self._math_errors = []
        if hasattr(self, "scatter"):
            self._fill_charts()

    def hold(self, text: str) -> None:
        """The laps shown are gone and others are on their way: no curve, no value, ``text``
        in the readout, but the graphs stay in place for the new laps."""
        self._laps, self._available, self._reference = [], [], None
        self._holding = True
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
        self._speed_unit = check_speed_unit(unit)
        if self._laps:
            self._render()

    def set_x_axis(self, axis: str) -> None:
        """Plot against lap ``"distance"`` (default) or lap ``"time"``."""
        if axis not in ("distance", "time"):
            raise ValueError(f"unknown x axis {axis!r}: expected 'distance' or 'time'")
        self._x_axis = "distance" if axis == "distance" else "time"
        if self._laps:
            self._render()

    def x_axis(self) -> XAxis:
        """The axis the plots are drawn against: time when the laps have no usable distance."""
        if self._x_axis == "distance" and self._laps and not self._has_distance():
            return "time"
        return self._x_axis

    def _has_distance(self) -> bool:
        # a lap without the channel at all breaks the telemetry contract: that is an error
        # when it is drawn, not a reason to switch axes
        if any("distance" not in lap.channels for lap in self._laps):
            return True
        for lap in self._laps:
            d = lap.channels.get("distance")
            if d is not None and d.size:
                finite = d[np.isfinite(d)]
                if finite.size >= 2 and float(finite.max() - finite.min()) >= MIN_DISTANCE_SPAN_M:
                    return True
        return False

    def set_cursor(self, x: float | None) -> None:
        """Put the crosshair at ``x`` (metres or seconds, per the x axis)."""
        self.plots.set_cursor(x)

    def available_channels(self) -> list[str]:
        """Channels with at least one sample in the shown laps: standard first, then auxiliary."""
        return list(self._available)

    def _find_available(self) -> list[str]:
        present: dict[str, None] = {}
        for lap in self._laps:
            for name, values in lap.channels.items():
                if name not in NOT_PLOTTED and bool(np.isfinite(values).any()):
                    present[name] = None
        standard = [c for c in STANDARD_CHANNELS if c in present]
        return standard + [c for c in present if c not in STANDARD_CHANNELS]

    def plotted_channels(self) -> list[str]:
        """The channel plots shown, top to bottom (the delta trace excluded)."""
        if self._holding:
            return []
        return [k for k in self.plots.plot_keys() if k != DELTA_KEY]

    def set_channels(self, channels: Sequence[str]) -> None:
        """Choose the plotted channels (the channel list's check boxes follow)."""
        wanted = set(channels)
        for name in {*self._available, *wanted}:
            self._choice[name] = name in wanted
        self._fill_channel_list()
        if self._laps:
            self._render()

    def lap_label(self, index: int) -> str:
        return self.lap_name(index) + (" (ref)" if index == self._reference else "")

    # --- building ---------------------------------------------------------------------
    def _channels_to_plot(self) -> list[str]:
        available = self.available_channels()
        order = self._ordered(available)
        picked = [c for c in order if self._choice.get(c, c in DEFAULT_CHANNELS)]
        if not picked and not any(self._choice.get(c) is False for c in available):
            # no standard channel and nothing unticked by the user: the first few channels
            picked = order[:FIRST_FEW]
        return picked

    def _ordered(self, names: Sequence[str]) -> list[str]:
        """``names`` in graph order: the user's (dragged) order, the defaults for the rest."""
        default = [c for c in DEFAULT_CHANNELS if c in names] + [c for c in names if c not in DEFAULT_CHANNELS]
        rank = {n: i for i, n in enumerate(self._order)}
        return sorted(default, key=lambda n: rank.get(n, len(rank) + default.index(n)))

    def move_graph(self, channel: str, position: int) -> None:
        """Put ``channel`` at ``position`` among the channels (graphs follow the list order)."""
        names = [n for n in self._ordered(self.available_channels()) if n != channel]
        names.insert(max(0, min(position, len(names))), channel)
        self._order = names + [n for n in self._order if n not in names]
        self._fill_channel_list()
        if self._laps:
            self._render()

    def _on_channels_moved(self, *_: object) -> None:
        # the user dragged a channel in the list: its order becomes the graphs' order
        names = [
            str(self.channel_list.item(r).data(Qt.ItemDataRole.UserRole)) for r in range(self.channel_list.count())
        ]
        self._order = names + [n for n in self._order if n not in names]
        if self._laps:
            QTimer.singleShot(0, self._render)  # after the drop has finished with the list

    def _fill_channel_list(self) -> None:
        plotted = set(self._channels_to_plot())
        self.channel_list.blockSignals(True)
        self.channel_list.clear()
        for name in self._ordered(self.available_channels()):
            item = QListWidgetItem(axis_label(name, display_unit(name, self._units.get(name), self._speed_unit)))
            item.setData(Qt.ItemDataRole.UserRole, name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if name in plotted else Qt.CheckState.Unchecked)
            self.channel_list.addItem(item)
        self.channel_list.blockSignals(False)
        self._filter_channels()

    def _filter_channels(self) -> None:
        """Show only the channels whose name holds every word typed (any case)."""
        words = self.channel_search.text().lower().split()
        for row in range(self.channel_list.count()):
            item = self.channel_list.item(row)
            text = item.text().lower()
            item.setHidden(not all(w in text for w in words))

    def _relabel_channel_list(self) -> None:
        self.channel_list.blockSignals(True)
        for row in range(self.channel_list.count()):
            item = self.channel_list.item(row)
            name = str(item.data(Qt.ItemDataRole.UserRole))
            item.setText(axis_label(name, display_unit(name, self._units.get(name), self._speed_unit)))
        self.channel_list.blockSignals(False)

    def _fill_colour_channels(self) -> None:
        current = self.colour_channel.currentText() or "speed"
        names = self.available_channels()
        self.colour_channel.blockSignals(True)
        self.colour_channel.clear()
        self.colour_channel.addItems(names)
        pick = current if current in names else ("speed" if "speed" in names else (names[0] if names else ""))
        self.colour_channel.setCurrentText(pick)
        self.colour_channel.blockSignals(False)

    def _x_values(self, lap: LapTelemetry) -> FloatArray:
        axis = self.x_axis()
        if axis not in lap.channels:
            raise ValueError(f"lap {lap.lap_number} has no {axis!r} channel to plot against")
        x = lap.channels[axis]
        # GPS distance can step back a little; the x axis must not (fmax skips NaN)
        return np.fmax.accumulate(x) if axis == "distance" else x

    def _display_values(self, name: str, values: FloatArray) -> FloatArray:
        return convert_speed_array(values, self._speed_unit) if name == "speed" else values

    def _pen(self, index: int) -> QPen:
        width = REFERENCE_WIDTH if index == self._reference else LAP_WIDTH
        pen: QPen = pg.mkPen(self.colour_of(index), width=width)
        return pen

    def _render(self) -> None:
        cursor = self.plots.cursor_x()
        axis = self.x_axis()
        if self.plots.plot_keys() and not self._fresh:
            x0, x1 = self.plots.x_range()
            full0, full1 = self._full_x
            zoomed = (x0 > full0 + 1e-9 or x1 < full1 - 1e-9) and self._drawn_axis == axis
            self._zoom = (x0, x1) if zoomed else None
        self._relabel_channel_list()  # labels follow the speed unit
        self._axis_x = [self._x_values(lap) for lap in self._laps]
        x_max = max((float(np.nanmax(x)) for x in self._axis_x if x.size and np.isfinite(x).any()), default=1.0)
        channels = self._channels_to_plot()
        hosts = {c: self._hosts[c] for c in channels if self._hosts.get(c) in channels}
        graphs = [c for c in channels if c not in hosts]
        rows = [
            (
                name,
                " · ".join(
                    axis_label(c, display_unit(c, self._units.get(c), self._speed_unit))
                    for c in [name, *(g for g in channels if hosts.get(g) == name)]
                ),
            )
            for name in graphs
        ]
        if self._reference is not None:
            ref_lap = self._laps[self._reference]
            ref_name = self._names.get(id(ref_lap), f"lap {ref_lap.lap_number}")
            rows.append((DELTA_KEY, f"Δt to {ref_name} [s]"))
        short = {key: " · ".join(c for c in [key, *(g for g in channels if hosts.get(g) == key)]) for key in graphs}
        short[DELTA_KEY] = "Δt [s]"
        # a graph of one text channel reads its codes as the text; with guests, as numbers
        ticks = {k: self._text_labels[k] for k in graphs if k in self._text_labels and k not in hosts.values()}
        self.plots.set_rows(rows, zero_line={DELTA_KEY}, short=short, ticks=ticks)
        for name in channels:
            key = hosts.get(name, name)
            guest = name in hosts
            for i, lap in enumerate(self._laps):
                if name in lap.channels:
                    y = self._display_values(name, lap.channels[name])
                    pen = self._pen(i)
                    if guest:  # a second channel in a graph: same lap colour, dashed
                        pen.setStyle(Qt.PenStyle.DashLine)
                    self.plots.add_curve(key, i, self.lap_label(i), self._axis_x[i], y, pen, channel=name)
        if self._reference is not None:
            reference = self._laps[self._reference]
            for i, lap in enumerate(self._laps):
                trace = delta_time(lap, reference)
                x = trace.distance if axis == "distance" else trace.time
                self.plots.add_curve(DELTA_KEY, i, self.lap_label(i), x, trace.delta, self._pen(i))
        x_label = "distance [m]" if axis == "distance" else "time [s]"
        self._full_x = (0.0, x_max)
        self._fresh = False
        self._drawn_axis = axis
        zoom = self._zoom
        if zoom is not None and zoom[0] < x_max:
            self.plots.finish(0.0, x_max, x_label, view=(zoom[0], min(zoom[1], x_max)))
        else:
            self._zoom = None
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
        order = list(range(len(self._laps)))
        if self._reference is not None:  # the map draws the reference lap's trace
            order.insert(0, order.pop(self._reference))
        tracks = [
            MapTrack(
                label=self.lap_label(i),
                colour=self.colour_of(i),
                lat=lap.channels.get("lat", np.empty(0)),
                long=lap.channels.get("long", np.empty(0)),
                axis_x=self._axis_x[i],
                value=self._display_values(name, lap.channels[name]) if name in lap.channels else None,
            )
            for i, lap in ((i, self._laps[i]) for i in order)
            if has_gps(lap.channels.get("lat"), lap.channels.get("long"))
        ]
        if not tracks and self._laps:
            # no lap has a position: the map says so instead of staying blank
            empty = np.empty(0)
            tracks = [MapTrack("", self.colour_of(0), empty, empty, empty)]
        label = axis_label(name, display_unit(name, self._units.get(name), self._speed_unit)) if name else ""
        self.track_map.set_tracks(tracks, label)
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
        if x is None or not self._laps:
            self.readout.setText("Move the mouse over the plots for values." if self._laps else "")
            return
        values = self.readout_values(x)
        axis = self.x_axis()
        unit = "m" if axis == "distance" else "s"
        keys = list(values)
        titles = {k: axis_label(k, display_unit(k, self._units.get(k), self._speed_unit)) for k in keys}
        titles[DELTA_KEY] = "Δt [s]"
        head = "".join(f"<th>&nbsp;{html.escape(titles[k])}&nbsp;</th>" for k in keys)
        rows = []
        for i in range(len(self._laps)):
            label = self.lap_label(i)
            cells = []
            for key in keys:
                value = values[key].get(label)
                if value is None:
                    text = "–"
                else:
                    text = format_delta(value) if key == DELTA_KEY else format_coded(value, self._text_labels.get(key))
                cells.append(f"<td align='right'>&nbsp;{text}&nbsp;</td>")
            colour = self.colour_of(i).name()
            rows.append(f"<tr><td><b style='color:{colour}'>■</b> {html.escape(label)}</td>{''.join(cells)}</tr>")
        self.readout.setText(
            f"<table cellspacing='0'><tr><th align='left'>{axis} {x:.1f} {unit}</th>{head}</tr>{''.join(rows)}</table>"
        )

    def _on_channel_toggled(self, item: QListWidgetItem) -> None:
        # only the channel the user clicked becomes a choice; the others keep their defaults
        self._choice[str(item.data(Qt.ItemDataRole.UserRole))] = item.checkState() == Qt.CheckState.Checked
        if self._laps:
            self._render()

    def _on_colour_channel(self, _name: str) -> None:
        if self._laps:
            self._render_map()  # the user's choice: drawn at once
