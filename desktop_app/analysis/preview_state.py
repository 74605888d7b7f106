"""What the preview shows and what the user arranged in it, without Qt.

:class:`PreviewState` holds the laps on show (this session's and laps of other saved
sessions), the reference lap of the delta trace, the channels ticked (the user's choice per
channel, kept from file to file; channels never touched follow the defaults), the graph
layout (channels sharing a graph, the graphs' order), the math channels, the x axis, a
stable colour slot per lap and the zoom. Each user action is one method; the preview widget
(``desktop_app.gui.preview``) draws what the state says and turns gestures into these calls,
and a test or a command can drive it without a window. Which laps are wanted before their
telemetry is read is :mod:`desktop_app.analysis.lap_selection`. See
docs/architecture.md#the-preview-state.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from desktop_app.analysis.formatting import SpeedUnit, axis_label, check_speed_unit, display_unit
from desktop_app.analysis.mathchannels import MathChannel, MathChannelError, evaluate, parse
from storage.types import STANDARD_CHANNELS, FloatArray, LapTelemetry

XAxis = Literal["distance", "time"]
#: channels plotted by default when the laps have them, in this order
DEFAULT_CHANNELS: tuple[str, ...] = ("speed", "throttle", "brake", "gear", "rpm", "steering", "glat", "glong")
#: never offered as a plot: the axes and the map's coordinates
NOT_PLOTTED = frozenset({"time", "distance", "lat", "long"})
#: the key of the delta trace's graph
DELTA_KEY = "delta"
#: shown when no standard channel is there: the file's first channels (a MoTeC dash log)
FIRST_FEW = 4
#: a lap's distance must span at least this much to be an x axis (m); else time is used
MIN_DISTANCE_SPAN_M = 1.0

Labels = Mapping[str, Sequence[str]]


@dataclass(frozen=True)
class ShownLap:
    """A lap as drawn: math channels added, text codes in the state's label tables."""

    lap: LapTelemetry
    name: str  #: "Lap 5", or "S7 lap 5" for a lap of another session
    own: bool  #: a lap of the session on show (False: compared from another session)


@dataclass(frozen=True)
class Graph:
    """One channel graph: its key (the host channel), the channels drawn in it (host
    first), and the y tick labels when it holds one text channel alone."""

    key: str
    channels: tuple[str, ...]
    ticks: tuple[str, ...] | None


def merge_labels(tables: Sequence[Sequence[str]]) -> tuple[str, ...]:
    """One label table for several: the first's labels at their codes, new labels after."""
    merged: dict[str, None] = {}
    for table in tables:
        merged.update(dict.fromkeys(table))
    return tuple(merged)


def recode(values: FloatArray, table: Sequence[str], merged: Sequence[str]) -> FloatArray:
    """Codes of ``table`` as codes of ``merged``, matched by label (two sessions may give
    one text different codes). A value that is no code of ``table`` stays as it is."""
    index = {label: code for code, label in enumerate(merged)}
    out = np.array(values, dtype=np.float64, copy=True)
    ok = np.isfinite(out) & (out >= 0) & (out < len(table)) & (out == np.floor(out))
    if ok.any():
        lookup = np.array([index.get(label, code) for code, label in enumerate(table)], dtype=np.float64)
        out[ok] = lookup[out[ok].astype(np.int64)]
    return out


def _same_lap(a: LapTelemetry, b: LapTelemetry) -> bool:
    return a is b or (a.lap_number == b.lap_number and a.start_offset == b.start_offset)


#: how many samples ``has_value`` looks at first: a channel that has values almost always
#: has one among its first few, and a scan of every sample of 250 channels of a 1 h, 100 Hz
#: session costs about 0.1 s of GUI thread
FIRST_LOOK = 1024


def has_value(values: FloatArray) -> bool:
    """True if ``values`` holds a finite sample (looks at the first few before the rest)."""
    if bool(np.isfinite(values[:FIRST_LOOK]).any()):
        return True
    return values.size > FIRST_LOOK and bool(np.isfinite(values[FIRST_LOOK:]).any())


class PreviewState:
    """The preview's model. The layout fields (``choice``, ``hosts``, ``order``, ``math``,
    the x axis and the speed unit) outlive a file; ``colours`` and the zoom last one
    session; the rest is the laps on show."""

    def __init__(self) -> None:
        #: the user's tick (True) or untick (False) per channel name; others follow defaults
        self.choice: dict[str, bool] = {}
        #: guest channel -> the channel whose graph it is drawn in (throttle and brake together)
        self.hosts: dict[str, str] = {}
        #: the user's graph order (channel names, top first); channels not in it follow
        self.order: list[str] = []
        self.math: list[MathChannel] = []
        self.speed_unit: SpeedUnit = "km/h"
        self._x_axis: XAxis = "distance"
        #: a stable palette slot per lap name while one session is shown
        self.colours: dict[str, int] = {}
        #: the x range the user zoomed to (None: the whole lap), kept across redraws
        self.zoom: tuple[float, float] | None = None
        self._full_x: tuple[float, float] = (0.0, 1.0)
        self._drawn_axis: XAxis = "distance"
        self.fresh = True  #: nothing of this session drawn yet: no zoom to keep
        self.holding = False  #: laps gone, others on their way
        self.laps: list[ShownLap] = []
        self.reference: int | None = None  #: index into laps
        self.units: dict[str, str] = {}
        #: text channel -> its labels (code = index), this session's codes first
        self.labels: dict[str, tuple[str, ...]] = {}
        self.available: list[str] = []
        self.math_errors: list[str] = []
        self._given: tuple[list[LapTelemetry], LapTelemetry | None, dict[int, str], dict[int, Labels]] = (
            [],
            None,
            {},
            {},
        )
        self._own_labels: dict[str, tuple[str, ...]] = {}
        self._distance_ok = True  #: a lap shown has a usable distance (decided per show)

    # --- the laps -----------------------------------------------------------------------
    def show(
        self,
        laps: Sequence[LapTelemetry],
        reference: LapTelemetry | None,
        units: Mapping[str, str],
        names: Mapping[int, str] | None = None,
        labels: Labels | None = None,
        lap_labels: Mapping[int, Labels] | None = None,
    ) -> None:
        """Show ``laps`` (display order = colour order) against ``reference`` (drawn first
        if it is not among them; None: no delta). ``names`` names laps of other sessions by
        ``id(lap)``; ``labels`` are this session's text tables, ``lap_labels`` (by
        ``id(lap)``) those of a lap of another session, whose codes are mapped by label."""
        self.holding = False
        self._given = (list(laps), reference, dict(names or {}), dict(lap_labels or {}))
        self._own_labels = {k: tuple(v) for k, v in (labels or {}).items()}
        self.units = dict(units)
        self._build()

    def _build(self) -> None:
        laps, reference, names, lap_labels = self._given
        self.math_errors = []
        merged: dict[str, list[Sequence[str]]] = {k: [v] for k, v in self._own_labels.items()}
        for lap in [*laps, *([reference] if reference is not None else [])]:
            for channel, table in lap_labels.get(id(lap), {}).items():
                merged.setdefault(channel, []).append(table)
        self.labels = {k: merge_labels(v) for k, v in merged.items()}
        drawn: dict[int, LapTelemetry] = {}

        def shown(lap: LapTelemetry) -> ShownLap:
            if id(lap) not in drawn:
                drawn[id(lap)] = self._with_math(self._recoded(lap, lap_labels.get(id(lap))))
            name = names.get(id(lap))
            return ShownLap(drawn[id(lap)], name or f"Lap {lap.lap_number}", name is None)

        self.laps = [shown(lap) for lap in laps]
        self.reference = None
        if reference is not None:
            found = next((i for i, lap in enumerate(laps) if lap is reference), None)
            if found is None and id(reference) not in names:
                found = next(
                    (i for i, lap in enumerate(laps) if id(lap) not in names and _same_lap(lap, reference)), None
                )
            if found is None:
                self.laps.insert(0, shown(reference))
                found = 0
            self.reference = found
        self._assign_colours()
        self.available = self._find_available()
        self._distance_ok = self._has_distance()

    def _recoded(self, lap: LapTelemetry, own: Labels | None) -> LapTelemetry:
        if not own:
            return lap
        channels = dict(lap.channels)  # a new dict: the lap itself is never changed
        for name, table in own.items():
            if name in channels and tuple(table) != self.labels.get(name, ())[: len(table)]:
                channels[name] = recode(channels[name], table, self.labels[name])
        return LapTelemetry(lap.lap_number, lap.start_offset, channels)

    def _with_math(self, lap: LapTelemetry) -> LapTelemetry:
        if not self.math:
            return lap
        channels = dict(lap.channels)
        for math in self.math:
            try:
                channels[math.name] = evaluate(math.expression, channels)
            except MathChannelError as exc:
                if str(exc) not in self.math_errors:
                    self.math_errors.append(str(exc))
        return LapTelemetry(lap.lap_number, lap.start_offset, channels)

    def clear(self) -> None:
        """Show nothing (the layout stays)."""
        self.holding = False
        self.laps, self.reference, self.available, self.math_errors = [], None, [], []
        self._given = ([], None, {}, {})
        self._own_labels = {}

    def hold(self) -> None:
        """The laps shown are gone and others are on their way."""
        self.laps, self.reference, self.available = [], None, []
        self.holding = True

    def new_session(self) -> None:
        """Another session is about to be shown: lap colours and zoom start afresh."""
        self.colours = {}
        self.zoom = None
        self.fresh = True

    def has_laps(self) -> bool:
        return bool(self.laps)

    def given(self) -> bool:
        """Laps were given (drawn or to be drawn again after a layout change)."""
        return bool(self._given[0]) or self._given[1] is not None

    # --- names and colours --------------------------------------------------------------
    def lap_name(self, index: int) -> str:
        return self.laps[index].name

    def lap_label(self, index: int) -> str:
        return self.lap_name(index) + (" (ref)" if index == self.reference else "")

    def _assign_colours(self) -> None:
        names = [lap.name for lap in self.laps]
        taken = {self.colours[n] for n in names if n in self.colours}
        for name in names:
            if name not in self.colours:
                free = next(i for i in range(len(self.colours) + len(names) + 1) if i not in taken)
                self.colours[name] = free
                taken.add(free)

    def colour_slot(self, index: int) -> int:
        """The palette slot of the index-th lap: the same for a lap whatever else is shown."""
        return self.colours.get(self.lap_name(index), index)

    # --- channels -----------------------------------------------------------------------
    def _find_available(self) -> list[str]:
        present: dict[str, None] = {}
        for shown in self.laps:
            for name, values in shown.lap.channels.items():
                if name not in NOT_PLOTTED and has_value(values):
                    present[name] = None
        standard = [c for c in STANDARD_CHANNELS if c in present]
        return standard + [c for c in present if c not in STANDARD_CHANNELS]

    def ordered(self, names: Sequence[str]) -> list[str]:
        """``names`` in graph order: the user's (dragged) order, the defaults for the rest."""
        default = [c for c in DEFAULT_CHANNELS if c in names] + [c for c in names if c not in DEFAULT_CHANNELS]
        rank = {n: i for i, n in enumerate(self.order)}
        return sorted(default, key=lambda n: rank.get(n, len(rank) + default.index(n)))

    def channels_to_plot(self) -> list[str]:
        """The ticked channels in graph order: the user's choice per channel, the defaults
        for the rest, and a file's first few channels when it has no default one."""
        order = self.ordered(self.available)
        picked = [c for c in order if self.choice.get(c, c in DEFAULT_CHANNELS)]
        if not picked and not any(self.choice.get(c) is False for c in self.available):
            picked = order[:FIRST_FEW]
        return picked

    def tick(self, channel: str, on: bool) -> None:
        """The user ticked or unticked one channel: only that one becomes a choice."""
        self.choice[channel] = on

    def set_channels(self, channels: Sequence[str]) -> None:
        """Exactly these channels ticked (each available one becomes a choice)."""
        wanted = set(channels)
        for name in {*self.available, *wanted}:
            self.choice[name] = name in wanted

    def plot_with(self, channel: str, host: str | None) -> None:
        """Draw ``channel`` in ``host``'s graph (None: in its own graph)."""
        if host is None or host == channel:
            self.hosts.pop(channel, None)
            return
        self.hosts[channel] = self.hosts.get(host, host)
        for guest, old in list(self.hosts.items()):
            if old == channel:  # its own guests follow it
                self.hosts[guest] = self.hosts[channel]
        self.choice[channel] = True

    def graph_of(self, channel: str) -> str:
        return self.hosts.get(channel, channel)

    def move_graph(self, channel: str, position: int) -> None:
        """Put ``channel`` at ``position`` among the channels (graphs follow the list order)."""
        names = [n for n in self.ordered(self.available) if n != channel]
        names.insert(max(0, min(position, len(names))), channel)
        self.set_order(names)

    def set_order(self, names: Sequence[str]) -> None:
        """The channels in this order (dragged in the list); unlisted ones keep theirs."""
        self.order = [*names, *(n for n in self.order if n not in names)]

    def graphs(self) -> list[Graph]:
        """The channel graphs to draw, top first (the delta trace not included)."""
        channels = self.channels_to_plot()
        hosts = {c: self.hosts[c] for c in channels if self.hosts.get(c) in channels}
        out = []
        for key in (c for c in channels if c not in hosts):
            members = (key, *(g for g in channels if hosts.get(g) == key))
            # a graph of one text channel reads its codes as the text; with guests, as numbers
            ticks = self.labels.get(key) if len(members) == 1 else None
            out.append(Graph(key, members, ticks))
        return out

    def channel_title(self, name: str) -> str:
        """A channel's label with its display unit: "speed [km/h]"."""
        return axis_label(name, display_unit(name, self.units.get(name), self.speed_unit))

    def delta_title(self) -> str | None:
        """The delta graph's label, None when there is no reference (no delta trace)."""
        if self.reference is None:
            return None
        shown = self.laps[self.reference]
        return f"Δt to {f'lap {shown.lap.lap_number}' if shown.own else shown.name} [s]"

    # --- math channels --------------------------------------------------------------------
    def set_math_channels(self, channels: Sequence[MathChannel]) -> None:
        self.math = list(channels)
        if self.given():
            self._build()

    def add_math_channel(self, definition: str) -> MathChannel:
        """Add ``name = expression`` (raises :class:`MathChannelError` on a bad one); the
        new channel is ticked."""
        name, sep, expression = definition.partition("=")
        if not sep or not name.strip() or not expression.strip():
            raise MathChannelError(f"math channel {definition!r}: write it as  name = expression")
        parse(expression)
        math = MathChannel(name.strip(), expression.strip())
        self.choice[math.name] = True
        self.set_math_channels([*(m for m in self.math if m.name != math.name), math])
        return math

    # --- the x axis and the zoom ---------------------------------------------------------
    def set_x_axis(self, axis: str) -> None:
        if axis not in ("distance", "time"):
            raise ValueError(f"unknown x axis {axis!r}: expected 'distance' or 'time'")
        self._x_axis = "distance" if axis == "distance" else "time"

    def set_speed_unit(self, unit: str) -> None:
        self.speed_unit = check_speed_unit(unit)

    def x_axis(self) -> XAxis:
        """The axis drawn against: time when the laps have no usable distance."""
        if self._x_axis == "distance" and self.laps and not self._distance_ok:
            return "time"
        return self._x_axis

    def _has_distance(self) -> bool:
        # a lap without the channel at all breaks the telemetry contract: that is an error
        # when it is drawn, not a reason to switch axes
        if any("distance" not in s.lap.channels for s in self.laps):
            return True
        for s in self.laps:
            d = s.lap.channels["distance"]
            finite = d[np.isfinite(d)]
            if finite.size >= 2 and float(finite.max() - finite.min()) >= MIN_DISTANCE_SPAN_M:
                return True
        return False

    def x_values(self, index: int) -> FloatArray:
        """The index-th lap's x values, non-decreasing."""
        axis, lap = self.x_axis(), self.laps[index].lap
        if axis not in lap.channels:
            raise ValueError(f"lap {lap.lap_number} has no {axis!r} channel to plot against")
        x = lap.channels[axis]
        # GPS distance can step back a little; the x axis must not (fmax skips NaN)
        return np.fmax.accumulate(x) if axis == "distance" else x

    def note_view(self, view: tuple[float, float]) -> None:
        """The x range on screen before a redraw: a zoom (narrower than the whole lap, on
        the same axis) is kept, the whole lap is not."""
        if self.fresh:
            return
        (x0, x1), (full0, full1) = view, self._full_x
        zoomed = (x0 > full0 + 1e-9 or x1 < full1 - 1e-9) and self._drawn_axis == self.x_axis()
        self.zoom = (x0, x1) if zoomed else None

    def drawn(self, x_max: float) -> tuple[float, float] | None:
        """The laps were drawn over 0..x_max: the view to show (the zoom kept), or None."""
        self._full_x, self.fresh, self._drawn_axis = (0.0, x_max), False, self.x_axis()
        if self.zoom is not None and self.zoom[0] < x_max:
            return (self.zoom[0], min(self.zoom[1], x_max))
        self.zoom = None
        return None

    # --- remembered -----------------------------------------------------------------------
    def layout_state(self) -> dict[str, object]:
        """What the user chose for the graphs, to be remembered (JSON-able)."""
        return {
            "choice": dict(self.choice),
            "hosts": dict(self.hosts),
            "order": list(self.order),
            "math": [{"name": m.name, "expression": m.expression, "unit": m.unit} for m in self.math],
        }

    def restore_layout_state(self, state: Mapping[str, object]) -> None:
        """Take back what :meth:`layout_state` gave (unknown or bad entries are ignored)."""
        choice, hosts, math, order = (state.get(k) for k in ("choice", "hosts", "math", "order"))
        if isinstance(order, list):
            self.order = [str(n) for n in order]
        if isinstance(choice, dict):
            self.choice = {str(k): bool(v) for k, v in choice.items()}
        if isinstance(hosts, dict):
            self.hosts = {str(k): str(v) for k, v in hosts.items()}
        if isinstance(math, list):
            kept = []
            for m in math:
                if isinstance(m, dict) and isinstance(m.get("name"), str) and isinstance(m.get("expression"), str):
                    try:
                        parse(m["expression"])
                    except MathChannelError:
                        continue
                    kept.append(MathChannel(m["name"], m["expression"], str(m.get("unit") or "")))
            self.math = kept
        if self.given():
            self._build()
